"""Tests for the Won 2021 real-data readers: AudioSet mood subset, Alm's corpus, ISEAR."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from emolib.data import alm, audioset, isear

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# --- ISEAR ---------------------------------------------------------------------------------
HEADER = ("ID|CITY|COUN|SUBJ|SEX|AGE|RELI|PRAC|FOCC|MOCC|FIEL|EMOT|WHEN|LONG|INTS|ERGO|TROPHO|"
          "TEMPER|EXPRES|MOVE|EXP1|EXP2|EXP10|PARAL|CON|EXPC|PLEA|PLAN|FAIR|CAUS|COPING|MORL|"
          "SELF|RELA|VERBAL|NEUTRO|Field1|Field3|Field2|MYKEY|SIT|STATE|")


def _isear_row(key: str, emo: str, sit: bytes) -> bytes:
    return ("|".join(["1"] * 36) + f"|{emo}|4|3|{key}|").encode() + sit + b"|1|"


def test_isear_fixture_with_wraps_and_non_utf8(tmp_path):
    path = tmp_path / "isear.csv"
    rows = [HEADER.encode(),
            _isear_row("0110011", "joy", "When I fell in love and \u00e1 we met.".encode()),
            _isear_row("0110012", "fear", b"A caf\xe9 fire (before \xe1|becoming calm)."),  # cp1252
            _isear_row("0110013", "boredom", b"not an ISEAR emotion"),
            b"1|2|3"]
    path.write_bytes(b"\n".join(rows) + b"\n")
    df = isear.read_isear(path)
    assert df["item_id"].tolist() == ["isear_0110011", "isear_0110012"]
    assert df["label"].tolist() == ["joy", "fear"]
    assert df["text"].tolist() == ["When I fell in love and we met.",
                                   "A caf\u00e9 fire (before becoming calm)."]


def test_isear_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        isear.read_isear(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a|b|c\n1|2|3\n")
    with pytest.raises(ValueError, match=r"bad\.csv: expected a pipe-separated ISEAR header"):
        isear.read_isear(bad)


def test_isear_real_file():
    path = SHARED / "isear" / "isear.csv"
    if not path.is_file():
        pytest.skip("shared ISEAR copy not present")
    df = isear.read_isear(path)
    # independent count: the Field1 column of every data line
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()[1:]
    counts = {}
    for ln in lines:
        f = ln.split("|")
        if len(f) > 36:
            counts[f[36]] = counts.get(f[36], 0) + 1
    assert len(df) == sum(counts.values()) == 7666
    assert df["label"].value_counts().to_dict() == counts
    assert df["item_id"].is_unique
    assert not df["text"].str.contains("\u00e1 |\\|").any()
    first = df.iloc[0]
    assert first["label"] == "joy"
    assert first["text"].startswith("During the period of falling in love")


# --- Alm -----------------------------------------------------------------------------------
def _write_alm(root: Path):
    stories = {
        "Grimms": {"the_frog_king": [("0", "4", "Once upon a time she was glad."),
                                     ("3", "2", "The king grew very angry.")]},
        "HCAndersen": {"the_fir_tree": [("5", "6", "The tree wept bitterly."),
                                        ("9", "7", "What a surprise it was!")]},
        "Potter": {"the_tale_of_peter_rabbit": [("1", "3", "Peter was dreadfully frightened.")]},
    }
    for author, ss in stories.items():
        for story, sents in ss.items():
            d = root / author / "agree-sent"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{story}.agree").write_text("".join(f"{i}@{c}@{t}\n" for i, c, t in sents))
    em = root / "Potter" / "emmood"
    em.mkdir(parents=True)
    (em / "the_tale_of_peter_rabbit.emmood").write_text(
        "0:0\tN:N\tN:N\tOnce upon a time there were four little Rabbits.\n"
        "1:1\tF:F\tF:F\tPeter was dreadfully frightened.\n"
        "2:2\tSu+:Su-\t+:-\tWhat a sight!\n"
        "3:3\tH:A\tH:A\tThey disagreed.\n"
        "4:4\tD:A\tA:A\tHe was disgusted.\n")


def test_alm_agree_fixture_and_author_split(tmp_path):
    _write_alm(tmp_path)
    df = alm.load_alm(tmp_path)
    assert len(df) == 5
    assert df["author"].tolist() == ["Grimms", "Grimms", "HCAndersen", "HCAndersen", "Potter"]
    assert df["label"].tolist() == ["happy", "angry", "sad", "surprised", "fearful"]
    assert df.loc[4, "item_id"] == "alm_Potter_the_tale_of_peter_rabbit_1"
    split = alm.author_split(df)
    assert split.tolist() == ["train"] * 4 + ["val+test"]
    with pytest.raises(ValueError, match="test_author 'Milne'"):
        alm.author_split(df, "Milne")


def test_alm_emmood_fixture(tmp_path):
    _write_alm(tmp_path)
    raw = alm.read_emmood(tmp_path / "Potter" / "emmood" / "the_tale_of_peter_rabbit.emmood")
    assert raw.loc[2, ["emo_a", "emo_b", "mood_a", "mood_b"]].tolist() == ["Su+", "Su-", "+", "-"]
    df = alm.load_alm(tmp_path, source="emmood")
    # neutral dropped; Su+/Su- agree as 'surprised'; H:A disagree; D:A both map to angry
    assert df["label"].tolist() == ["fearful", "surprised", "angry"]


def test_alm_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .agree files under"):
        alm.load_alm(tmp_path)
    d = tmp_path / "Grimms" / "agree-sent"
    d.mkdir(parents=True)
    (d / "bad.agree").write_text("0@4@fine\n1@5@neutral code\n")
    with pytest.raises(ValueError, match=r"bad\.agree: line 2: unknown label code '5'"):
        alm.load_alm(tmp_path)
    (d / "bad.agree").write_text("no separators here\n")
    with pytest.raises(ValueError,
                       match=r"bad\.agree: line 1: expected 'SentID@LabelCode@sentence'"):
        alm.load_alm(tmp_path)
    e = tmp_path / "x.emmood"
    e.write_text("0:0 N:N N:N spaces not tabs\n")
    with pytest.raises(ValueError, match=r"x\.emmood: line 1"):
        alm.read_emmood(e)


# --- AudioSet ------------------------------------------------------------------------------
def _write_segments(path: Path, rows: list[str]):
    path.write_text("# Segments csv created\n# num_ytids=...\n# YTID, start_seconds, end_seconds, "
                    "positive_labels\n" + "\n".join(rows) + "\n")


def test_audioset_fixture(tmp_path):
    _write_segments(tmp_path / "eval_segments.csv", [
        'aaaaaaaaaaa, 30.000, 40.000, "/m/04rlf,/t/dd00031"',          # happy
        'bbbbbbbbbbb, 0.000, 10.000, "/t/dd00033,/t/dd00034"',         # two moods: dropped
        'ccccccccccc, 10.000, 20.000, "/m/09x0r"',                     # no mood: dropped
        'ddd_ddd-ddd, 5.000, 15.000, "/t/dd00037"',                    # scary
    ])
    audio = tmp_path / "audio" / "eval"
    audio.mkdir(parents=True)
    (audio / "Yaaaaaaaaaaa.wav").write_bytes(b"")
    (audio / "ddd_ddd-ddd_5.000.flac").write_bytes(b"")
    df = audioset.load_audioset_mood(tmp_path, tmp_path / "audio", fractions=(0.5, 0.5),
                                     split="stratified")
    assert df["ytid"].tolist() == ["aaaaaaaaaaa", "ddd_ddd-ddd"]
    assert df["label"].tolist() == ["happy", "scary"]
    assert Path(df.loc[1, "audio_path"]).name == "ddd_ddd-ddd_5.000.flac"
    (audio / "Yaaaaaaaaaaa.wav").unlink()
    with pytest.raises(FileNotFoundError,
                       match=r"1 of 2 mood clips have no audio file .*aaaaaaaaaaa"):
        audioset.load_audioset_mood(tmp_path, tmp_path / "audio")
    kept = audioset.load_audioset_mood(tmp_path, tmp_path / "audio", on_missing="drop",
                                       fractions=(0.5, 0.5), split="stratified")
    assert kept["ytid"].tolist() == ["ddd_ddd-ddd"]
    with pytest.raises(FileNotFoundError, match="none of"):
        audioset.load_audioset_mood(tmp_path / "audio")
    bad = tmp_path / "bad" / "eval_segments.csv"
    bad.parent.mkdir()
    _write_segments(bad, ["xx, 1.0, 2.0"])
    with pytest.raises(ValueError, match=r"eval_segments\.csv: line 4: expected"):
        audioset.read_segments(bad)


def test_audioset_real_files():
    root = SHARED / "audioset"
    if not (root / "eval_segments.csv").is_file():
        pytest.skip("shared AudioSet metadata not present")
    onto = audioset.read_ontology(root / "class_labels_indices.csv")
    assert len(onto) == 527
    assert audioset.mood_mids(onto) == audioset.MOOD_MIDS
    df = audioset.load_audioset_mood(root)
    # independent count with a regex over the raw lines
    mood = re.compile(r"/t/dd0003[1-7]")
    expected, seen = {}, set()
    for name in ("balanced_train_segments.csv", "eval_segments.csv"):
        for line in (root / name).read_text().splitlines():
            if line.startswith("#"):
                continue
            ytid = line.split(",")[0]
            hits = mood.findall(line)
            if len(hits) == 1 and ytid not in seen:
                seen.add(ytid)
                expected[hits[0]] = expected.get(hits[0], 0) + 1
    counts = df["label"].value_counts().to_dict()
    assert counts == {audioset.MOOD_MIDS[m]: n for m, n in expected.items()}
    assert df["ytid"].is_unique and set(df["split"]) == {"train", "val", "test"}
    assert np.isclose((df["split"] == "train").mean(), 0.8, atol=0.01)


def test_audioset_split_is_emoclim_sklearn_and_independent_of_available_audio(tmp_path):
    root = SHARED / "audioset"
    if not (root / "eval_segments.csv").is_file():
        pytest.skip("shared AudioSet metadata not present")
    from emolib.data.splits import sklearn_stratified_split

    full = audioset.load_audioset_mood(root)
    assert full["split"].tolist() == list(sklearn_stratified_split(full["label"].to_numpy(), 42))
    # a user who could fetch only every third clip: the clips they have keep their split
    have = full.iloc[::3]
    audio = tmp_path / "audio"
    audio.mkdir()
    for y in have["ytid"]:
        (audio / f"{y}.wav").write_bytes(b"")
    for name in ("class_labels_indices.csv", "balanced_train_segments.csv", "eval_segments.csv"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    part = audioset.load_audioset_mood(tmp_path, audio, on_missing="drop")
    assert part["ytid"].tolist() == have["ytid"].tolist()
    assert part["split"].tolist() == have["split"].tolist()
    with pytest.raises(ValueError, match="split must be"):
        audioset.load_audioset_mood(root, split="random")


def test_audioset_official_split_tests_on_the_eval_segments(tmp_path):
    root = SHARED / "audioset"
    if not (root / "eval_segments.csv").is_file():
        pytest.skip("shared AudioSet metadata not present")
    from emolib.data.splits import stratified_split

    df = audioset.load_audioset_mood(root, split="official", fractions=(0.9, 0.1), seed=3)
    test = df["split"] == "test"
    assert (test == (df["source"] == "eval_segments")).all()  # exactly AudioSet's eval clips
    train = df[~test]
    assert set(train["split"]) == {"train", "val"}
    two = stratified_split(train["label"].to_numpy(), (0.9, 0.1), 3)  # its train / "test" = val
    assert train["split"].tolist() == ["train" if t == "train" else "val" for t in two]
    for _, g in train.groupby("label"):  # about 10 % of each mood is validation
        assert abs((g["split"] == "val").mean() - 0.1) < 0.05
    three = audioset.load_audioset_mood(root, split="official", fractions=(0.8, 0.1, 0.1), seed=3)
    assert (three["split"] == "test").sum() == test.sum()  # the test split never changes
    rest = three[three["split"] != "test"]  # (0.8, 0.1) renormalised: 1/9 of it is val
    assert abs((rest["split"] == "val").mean() - 1 / 9) < 0.02
    with pytest.raises(ValueError, match="split='official' needs fractions"):
        audioset.load_audioset_mood(root, split="official", fractions=(1.0,))
