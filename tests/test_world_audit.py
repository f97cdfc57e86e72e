"""Tests for emolib.world_audit: seeded stratified sampling, the world's own mode, the rows
computed from known numbers (means and Spearman ρ checked against numpy/scipy and by hand),
the whole table on the quick world with the real pretrained models (three parts, values in
range), transcription against note_scores computed directly, and the written files."""
from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from emolib import world_audit as wa
from emolib.data.world import make_world


@pytest.fixture(scope="module")
def world():
    return make_world(0, "quick", progress=False)


@pytest.fixture(scope="module")
def table(world) -> pd.DataFrame:
    """The whole audit with the real models, one clip per class (kept small: ~15 s)."""
    return wa.world_audit(world, n_per_class=1, seed=0)


# ------------------------------------------------------------------------------ sampling
def test_sample_clips_stratified_seeded_deterministic(world):
    a = wa.sample_clips(world.music, 3, seed=5)
    assert a.equals(wa.sample_clips(world.music, 3, seed=5))  # deterministic
    counts = a["label"].value_counts()
    full = world.music["label"].value_counts()
    assert set(counts.index) == set(full.index)
    for lab, n in counts.items():  # 3 per class, or all of a smaller class
        assert n == min(3, full[lab])
    assert a.index.is_unique and set(a.index) <= set(world.music.index)
    assert (world.music.loc[a.index, "item_id"] == a["item_id"]).all()  # original rows
    others = [wa.sample_clips(world.music, 3, seed=s).index.tolist() for s in (6, 7)]
    assert any(o != a.index.tolist() for o in others)  # the seed matters


def test_sample_clips_small_class_split_and_unstratified(world):
    big = wa.sample_clips(world.piano, 1000, seed=0)
    assert big.index.tolist() == sorted(world.piano.index.tolist())  # all clips of each class
    test = wa.sample_clips(world.piano, 1, seed=0, split="test")
    assert (test["split"] == "test").all() and len(test) == test["label"].nunique()
    flat = wa.sample_clips(world.paired, 4, seed=0, by=None)
    assert len(flat) == 4 and flat.index.is_unique
    # one class's sample does not depend on the other classes
    q1 = world.piano[world.piano["label"] == "Q1"]
    assert (wa.sample_clips(q1, 2, seed=3).index.tolist()
            == wa.sample_clips(world.piano, 2, seed=3).query("label == 'Q1'").index.tolist())
    with pytest.raises(ValueError, match="positive integer"):
        wa.sample_clips(world.music, 0, seed=0)
    with pytest.raises(ValueError, match="stratify"):
        wa.sample_clips(world.paired, 2, seed=0)  # paired clips have no label


# ------------------------------------------------------------------------- world's mode
def test_world_modes_music_match_the_captions(world):
    modes = wa.world_modes(world, "music", world.music)
    assert set(modes) <= {"major", "minor"} and len(set(modes)) == 2
    said = [(m, c) for m, c in zip(modes, world.music["caption"])
            if ("minor" in c) != ("major" in c)]
    assert len(said) >= 10  # captions that name the mode
    assert all(m in c for m, c in said)


def test_world_modes_piano_use_the_song_seed(world):
    from emolib.data.world.piano import compose_piano_clip
    from emolib.encoders.symbolic import midi_to_notes

    row = world.piano.iloc[-1]  # the last song of Q4: the index arithmetic is exercised
    clip = int(row["item_id"].rsplit("_", 1)[1])
    song_seed = wa._piano_song_seed(world, row["item_id"])
    pm = compose_piano_clip(row["valence"], row["arousal"], song_seed, clip,
                            world.params["piano_duration"])
    ours, file_notes = midi_to_notes(pm), midi_to_notes(row["midi_path"])
    assert [n.pitch for n in ours] == [n.pitch for n in file_notes]
    assert np.allclose([n.onset for n in ours], [n.onset for n in file_notes], atol=0.01)
    modes = wa.world_modes(world, "piano", world.piano)
    # every clip of a song shares the song's mode
    assert (modes.groupby(world.piano["song_id"]).nunique() == 1).all()
    assert wa.world_modes(world, "piano", world.piano.assign(mode="major")).eq("major").all()


# ------------------------------------------------------------------- rows from numbers
def test_rows_by_hand():
    names = ("happy", "sad", "x")
    probs = np.array([[0.2, 0.0, 0], [0.4, 0.1, 0], [0.9, 0.3, 0], [0.1, 0.5, 0]])
    rows = wa.mood_tag_rows(probs, names, ["b", "a", "b", "a"], role="music", model="m",
                            tags=("happy", "sad"))
    got = {(r["group"], r["measure"]): (r["value"], r["n"]) for r in rows}
    assert got == {("a", "mean P(happy)"): (pytest.approx(0.25), 2),
                   ("a", "mean P(sad)"): (pytest.approx(0.3), 2),
                   ("b", "mean P(happy)"): (pytest.approx(0.55), 2),
                   ("b", "mean P(sad)"): (pytest.approx(0.15), 2)}
    # ranks of x: 1 2 3 4, of y: 2 1 4 3 -> d^2 = 4 -> rho = 1 - 6*4/(4*15) = 0.6
    r = wa.spearman_row([1, 2, 3, 4], [20, 10, 40, 30], role="music", measure="m", model="m")
    assert r["value"] == pytest.approx(0.6) and r["n"] == 4 and r["detail"].startswith("p = ")
    assert math.isnan(wa.spearman_row([1, 2], [3, 4], role="r", measure="m", model="m")["value"])
    rows = wa.mode_rows(["Q1", "Q1", "Q2", "Q2"], ["minor", "major", "minor", "minor"],
                        ["minor", "minor", "major", "minor"], role="piano", model="k")
    got = {(r["group"], r["measure"]): r["value"] for r in rows}
    assert got[("Q1", "fraction detected minor")] == 0.5
    assert got[("Q1", "fraction minor in the world (generator's mode)")] == 1.0
    assert got[("Q2", "agreement of detected and world mode")] == 0.5
    assert got[("all", "agreement of detected and world mode")] == 0.5
    chance = next(r["detail"] for r in rows if r["group"] == "all" and "agreement" in r["measure"])
    assert chance == "chance agreement 0.625"  # 0.75 * 0.75 + 0.25 * 0.25


def _fake_probs(model: str, path: str, names: tuple[str, ...]) -> np.ndarray:
    g = np.random.default_rng([zlib.crc32(model.encode()), zlib.crc32(str(path).encode())])
    p = g.random(len(names))
    if "piano" in names and "/piano/" in str(path):
        p = 0.5 * p
        p[names.index("piano")] = 1.0  # MTT hears the piano clips as piano
    return p


def test_tags_part_against_numpy_and_scipy(world, monkeypatch):
    from emolib.encoders.musicnn import tag_names

    calls = []

    def fake_tag_clips(model, paths):
        paths = list(paths)
        calls.append((model, len(paths)))
        names = tag_names(model)
        return np.stack([_fake_probs(model, p, names) for p in paths]), names

    monkeypatch.setattr(wa, "tag_clips", fake_tag_clips)
    df = wa.audit_tags(world, n_per_class=2, seed=0)
    assert df.equals(wa.audit_tags(world, n_per_class=2, seed=0))  # deterministic
    assert list(df.columns) == list(wa.COLUMNS) and set(df["part"]) == {"a tags"}
    music = wa.sample_clips(world.music, 2, seed=0)
    msd = tag_names("MSD_musicnn")
    p = np.stack([_fake_probs("MSD_musicnn", a, msd) for a in music["audio_path"]])
    means = pd.DataFrame(p, columns=msd).groupby(music["label"].to_numpy()).mean()
    rows = df[(df["role"] == "music") & df["measure"].str.startswith("mean P(")
              & (df["group"] != "all")]
    assert len(rows) == 7 * len(wa.MSD_MOOD_TAGS)
    for r in rows.itertuples():
        assert r.value == pytest.approx(means.loc[r.group, r.measure[len("mean P("):-1]])
        assert r.n == (music["label"] == r.group).sum()
    rho = stats.spearmanr(p[:, msd.index("happy")] - p[:, msd.index("sad")], music["valence"])
    got = df[(df["role"] == "music") & df["measure"].str.contains("latent valence")].iloc[0]
    assert got["value"] == pytest.approx(rho.statistic) and got["n"] == len(music)
    assert got["detail"] == f"p = {rho.pvalue:.2g}" and got["model"] == "musicnn MSD_musicnn"
    mtt = tag_names("MTT_musicnn")
    q = np.stack([_fake_probs("MTT_musicnn", a, mtt) for a in music["audio_path"]])
    rho = stats.spearmanr(q[:, mtt.index("fast")] - q[:, mtt.index("slow")], music["arousal"])
    got = df[(df["role"] == "music") & df["measure"].str.contains("latent arousal")].iloc[0]
    assert got["value"] == pytest.approx(rho.statistic) and got["model"] == "musicnn MTT_musicnn"
    piano = df[(df["role"] == "piano") & df["measure"].str.contains("top-1")]
    assert piano["measure"].tolist() == ["share of clips whose top-1 instrument tag is 'piano'"]
    assert piano["value"].tolist() == [1.0]
    mean_piano = df[(df["role"] == "piano") & (df["measure"] == "mean P(piano)")]
    assert mean_piano["value"].tolist() == [1.0] and mean_piano["n"].tolist() == [8]
    for r in df[(df["role"] == "music") & (df["group"] == "all")
                & df["measure"].str.startswith("mean P(")].itertuples():
        assert r.value == pytest.approx(q[:, mtt.index(r.measure[len("mean P("):-1])].mean())
    shares = df[(df["role"] == "music") & df["measure"].str.contains("top-1 instrument tag is '")]
    assert shares["value"].sum() == pytest.approx(1.0) and shares["value"].is_monotonic_decreasing
    assert ("MSD_musicnn", len(music)) in calls and ("MTT_musicnn", 2) in calls  # paired


# ------------------------------------------------------------- the real models, whole table
def test_table_has_three_parts_in_range(table):
    assert list(table.columns) == list(wa.COLUMNS)
    assert table["part"].drop_duplicates().tolist() == list(wa.PARTS)
    assert np.isfinite(table["value"]).all() and (table["n"] >= 1).all()
    rho = table["measure"].str.startswith("Spearman")
    assert rho.sum() == 4 and table.loc[rho, "value"].between(-1, 1).all()
    assert table.loc[~rho, "value"].between(0, 1).all()  # probabilities, shares, P/R/F1
    assert table.loc[rho, "detail"].str.match(r"p = ").all()
    key = table[table["part"] == "b key"]
    assert set(key.loc[key["role"] == "music", "group"]) == {*world_moods(), "all"}
    assert set(key.loc[key["role"] == "piano", "group"]) == {"Q1", "Q2", "Q3", "Q4", "all"}
    trans = table[table["part"] == "c transcription"]
    assert set(trans["role"]) == {"piano", "paired"} and len(trans) == 12
    assert trans["model"].str.startswith("madmom CNN piano notes").all()
    piano_top = table[(table["role"] == "piano") & table["measure"].str.contains("top-1")]
    assert "share of clips whose top-1 instrument tag is 'piano'" in piano_top["measure"].tolist()
    assert set(table["model"]) >= {"musicnn MSD_musicnn", "musicnn MTT_musicnn",
                                   "world generator"}


def world_moods() -> set[str]:
    from emolib.data.taxonomies import labels

    return set(labels("audioset"))


def test_transcription_matches_note_scores_on_one_clip(world, table):
    from emolib.data.files import load_audio
    from emolib.encoders.madmom_models import MadmomBackend
    from emolib.encoders.symbolic import midi_to_notes
    from emolib.encoders.transcription import note_scores

    clip = wa.sample_clips(world.piano, 1, seed=0, split="test", by=None).iloc[0]
    y, sr = load_audio(clip["audio_path"], None)
    est = MadmomBackend().transcribe(y, sr)
    ref = midi_to_notes(clip["midi_path"])
    rows = table[(table["part"] == "c transcription") & (table["role"] == "piano")]
    assert (rows["n"] == 1).all() and rows["detail"].str.startswith("test split").all()
    for offsets, what in ((False, "(onsets, 50 ms)"), (True, "(onsets 50 ms + offsets")):
        direct = note_scores(ref, est, with_offsets=offsets)
        for metric, name in (("precision", "precision"), ("recall", "recall"), ("f1", "F1")):
            row = rows[rows["measure"].str.startswith(f"note {name} {what}")]
            assert len(row) == 1
            assert row["value"].iloc[0] == pytest.approx(direct[metric], abs=1e-12)
    paired = table[(table["part"] == "c transcription") & (table["role"] == "paired")]
    assert paired["detail"].str.startswith("test split").all()  # quick: 1 test clip, n_clips 1


# ------------------------------------------------------------------------------ writing
def test_write_world_audit(world, table, tmp_path, monkeypatch):
    from emolib.provenance import RunRecord

    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path))
    paths = wa.write_world_audit(table, world)
    assert [p.name for p in paths] == ["world_audit.csv", "world_audit.md"]  # outside a run
    assert all(p.is_file() and p.parent == tmp_path / "paper_tables" for p in paths)
    md = paths[1].read_text()
    assert md.startswith("# World audit")
    assert "world (seed=0, profile=quick)" in md.split("\n\n")[1]
    assert world.root.name in md and "musicnn MSD_musicnn" in md
    back = pd.read_csv(paths[0], keep_default_na=False)
    assert list(back.columns) == [*wa.COLUMNS, "data"] and len(back) == len(table)
    assert (back["data"] == "world (seed=0, profile=quick)").all()
    assert np.allclose(back["value"], table["value"], rtol=1e-5, atol=0)
    record = RunRecord(notebook="00_tour", parameters=(), data=wa.world_data_name(world))
    paths = wa.write_world_audit(table, world, record=record)
    assert [p.name for p in paths] == ["world_audit.csv", "world_audit.md", "world_audit.json"]
    assert "- run: notebook `00_tour`" in paths[1].read_text()
    with pytest.raises(ValueError, match="lacks column"):
        wa.write_world_audit(table.drop(columns=["detail"]), world)
