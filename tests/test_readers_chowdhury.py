"""Readers for Con Espressione answers/audio and the mid-level dataset (fixtures written here)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emolib.data import conespressione as ce
from emolib.data import midlevel_dataset as mld
from emolib.encoders.midlevel import MIDLEVEL_NAMES


def _answers(root):
    df = pd.DataFrame({
        "music_id": [5, 5, 12, 40, 40],
        "participant_id": [1, 2, 1, 3, 4],
        "answer": ["playful", "light, bouncy", "mechanical", " ", "dark and heavy"],
        "piece_name": ["bach", "bach", "bach", "schumann_arabeske_excerpt1",
                       "schumann_arabeske_excerpt1"],
        "performer": ["Gould", "Gould", "MIDI", "Grimaud", "Grimaud"],
    })
    df.to_csv(root / ce.ANSWERS_FILE, index=False)
    return df


def test_read_answers_maps_columns_and_drops_empty_answers(tmp_path):
    _answers(tmp_path)
    d = ce.read_answers(tmp_path / ce.ANSWERS_FILE)
    assert list(d.columns) == ["description_id", "performance_id", "piece_id", "performer",
                               "listener_id", "text"]
    assert len(d) == 4  # the blank answer is dropped
    assert d.performance_id.tolist() == ["5", "5", "12", "40"]
    assert d.text.tolist()[1] == "light, bouncy"
    agg = ce.aggregate_descriptions(d)
    assert agg.set_index("performance_id").loc["5", "text"] == "playful, light, bouncy"
    assert agg.set_index("performance_id").loc["5", "n_answers"] == 2


def test_read_answers_names_missing_columns(tmp_path):
    pd.DataFrame({"music_id": [1], "answer": ["x"]}).to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['piece_name', 'performer'\]"):
        ce.read_answers(tmp_path / "a.csv")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        ce.read_answers(tmp_path / "nope.csv")


def test_audio_layouts_and_missing_audio_error(tmp_path):
    _answers(tmp_path)
    audio = tmp_path / "audio_all"
    audio.mkdir()
    (audio / "05_bach_gould.wav").write_bytes(b"")  # id-prefixed layout
    (audio / "bach_midi.mp3").write_bytes(b"")  # piece_performer layout
    with pytest.raises(FileNotFoundError,
                       match=r"music_id=40 \(schumann_arabeske_excerpt1, Grimaud\)"):
        ce.load_con_espressione(tmp_path)
    (audio / "schumann-arabeske-1_grimaud.wav").write_bytes(b"")
    perf, desc = ce.load_con_espressione(tmp_path)
    assert perf.performance_id.tolist() == ["12", "5", "40"]  # sorted by piece, then id
    paths = dict(zip(perf.performance_id, perf.audio_path))
    assert paths["5"].endswith("05_bach_gould.wav")
    assert paths["12"].endswith("bach_midi.mp3")
    assert paths["40"].endswith("schumann-arabeske-1_grimaud.wav")
    assert set(desc.performance_id) == set(perf.performance_id)


def _midlevel_fixture(root, n=12, with_meta=True):
    ann = root / "metadata_annotations"
    ann.mkdir(parents=True)
    g = np.random.default_rng(0)
    cols = ["song id", "melody", "articulation", "rhythmic stability", "rhythmic complexity",
            "dissonance", "tonal stability", "modality"]  # file order differs from model order
    vals = g.uniform(1, 9, size=(n, 7))
    df = pd.DataFrame(vals, columns=cols[1:])
    df.insert(0, "song id", np.arange(1, n + 1))
    df.to_csv(ann / "annotations.csv", index=False)
    if with_meta:
        pd.DataFrame({"song id": np.arange(1, n + 1), "Artist": [f"a{i // 2}" for i in range(n)],
                      "Source": "x"}).to_csv(ann / "metadata.csv", sep=";", index=False)
    (root / "audio").mkdir()
    for i in range(1, n + 1):
        (root / "audio" / f"{i}.mp3").write_bytes(b"")
    return df


def test_midlevel_dataset_reorders_columns_and_splits_by_artist(tmp_path):
    raw = _midlevel_fixture(tmp_path)
    t = mld.load_midlevel_dataset(tmp_path)
    assert list(t.columns[2:9]) == list(MIDLEVEL_NAMES)
    np.testing.assert_allclose(t["rhythm_complexity"], raw["rhythmic complexity"])
    np.testing.assert_allclose(t["minorness"], raw["modality"])
    assert t.audio_path.iloc[0].endswith("audio/1.mp3")
    assert t.groupby("artist").split.nunique().max() == 1  # no artist in two splits
    (tmp_path / "audio" / "7.mp3").unlink()
    with pytest.raises(FileNotFoundError, match="7.mp3"):
        mld.load_midlevel_dataset(tmp_path)


def test_midlevel_annotations_name_missing_features(tmp_path):
    pd.DataFrame({"song_id": [1], "melody": [3.0]}).to_csv(tmp_path / "a.csv", index=False)
    with pytest.raises(ValueError, match="no column for .*articulation"):
        mld.read_midlevel_annotations(tmp_path / "a.csv")
