"""Tests for the EMOPIA and MAESTRO readers: the real split files in ../shared/data
(skipped when absent) and fixtures written here in the published layouts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emolib.data.emopia import parse_clip_name, read_emopia, read_song_split, read_split
from emolib.data.maestro import read_maestro
from emolib.encoders.symbolic import Note, midi_to_notes, notes_to_midi

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_parse_clip_name():
    assert parse_clip_name("Q2_L3_TadjSQQ0_0") == ("Q2", "L3_TadjSQQ0", 0)
    assert parse_clip_name("Q4_iXiSFSGws-c_12") == ("Q4", "iXiSFSGws-c", 12)
    assert parse_clip_name("Q1_abc_3.mid") == ("Q1", "abc", 3)
    for bad in ("Q5_abc_1", "abc_1", "Q1_abc"):
        with pytest.raises(ValueError, match="Q\\{1-4\\}"):
            parse_clip_name(bad)


def test_real_official_split():
    root = SHARED / "emopia"
    if not (root / "train.csv").exists():
        pytest.skip("shared EMOPIA split files not available")
    sizes = {s: len(read_split(root, s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 767, "val": 198, "test": 86}
    clips = pd.concat([read_split(root, s) for s in ("train", "val", "test")])
    # the clip split is song-level: no song in two splits
    assert clips.groupby("song_id")["split"].nunique().max() == 1
    songs = read_song_split(root)
    assert len(songs) == 291 + 64 + 32
    assert songs.groupby("split").size().to_dict() == {"test": 32, "train": 291, "val": 64}
    df = read_emopia(root, audio_dir=None, midi_dir=None)
    assert len(df) == 767 + 198 + 86
    assert df["audio_path"].isna().all()
    q1 = df[df.label == "Q1"].iloc[0]
    assert q1.arousal_high and q1.valence_high
    q3 = df[df.label == "Q3"].iloc[0]
    assert not q3.arousal_high and not q3.valence_high


def _emopia_fixture(root: Path, with_audio: bool = True) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "midis").mkdir()
    (root / "audios").mkdir()
    splits = {"train": ["Q1_aa_0", "Q2_b_b_1"], "val": ["Q3_cc_0"], "test": ["Q4_d-d_2"]}
    for split, names in splits.items():
        pd.DataFrame({"fname": names, "label": [n[:2] for n in names]}).to_csv(
            root / f"{split}.csv", index=False)
        for n in names:
            notes_to_midi([Note(60, 0.0, 0.5, 80)]).write(str(root / "midis" / f"{n}.mid"))
            if with_audio:
                sf.write(root / "audios" / f"{n}.wav", np.zeros(1600, np.float32), 16000)


def test_emopia_fixture_paths_and_missing_files(tmp_path):
    root = tmp_path / "EMOPIA"
    _emopia_fixture(root)
    df = read_emopia(root)
    assert df.item_id.tolist() == ["Q1_aa_0", "Q2_b_b_1", "Q3_cc_0", "Q4_d-d_2"]
    assert df.song_id.tolist() == ["aa", "b_b", "cc", "d-d"]
    assert df.split.tolist() == ["train", "train", "val", "test"]
    assert df.arousal_high.tolist() == [True, True, False, False]
    assert df.valence_high.tolist() == [True, False, False, True]
    assert df.valence.tolist() == [0.75, 0.25, 0.25, 0.75]
    assert midi_to_notes(df.midi_path[0])[0].pitch == 60
    assert Path(df.audio_path[3]).name == "Q4_d-d_2.wav"
    (root / "audios" / "Q3_cc_0.wav").unlink()
    with pytest.raises(FileNotFoundError, match="Q3_cc_0"):
        read_emopia(root)
    dropped = read_emopia(root, missing="drop")
    assert "Q3_cc_0" not in set(dropped.item_id) and len(dropped) == 3
    with pytest.raises(FileNotFoundError, match="audio folder"):
        read_emopia(root, audio_dir="nope")


def test_emopia_label_mismatch_and_missing_split(tmp_path):
    root = tmp_path / "E"
    _emopia_fixture(root, with_audio=False)
    pd.DataFrame({"fname": ["Q1_aa_0"], "label": ["Q2"]}).to_csv(root / "train.csv", index=False)
    with pytest.raises(ValueError, match="labelled 'Q2'"):
        read_split(root, "train")
    (root / "val.csv").unlink()
    with pytest.raises(FileNotFoundError, match="val.csv"):
        read_split(root, "val")
    with pytest.raises(ValueError, match="split must be"):
        read_split(root, "dev")


def test_maestro_fixture(tmp_path):
    root = tmp_path / "maestro-v3.0.0"
    (root / "2018").mkdir(parents=True)
    rows = []
    for i, split in enumerate(["train", "validation", "test"]):
        stem = f"2018/MIDI-Unprocessed_{i}"
        notes_to_midi([Note(60 + i, 0.0, 0.5, 70)]).write(str(root / f"{stem}.midi"))
        sf.write(root / f"{stem}.wav", np.zeros(800, np.float32), 16000)
        rows.append({"canonical_composer": "C", "canonical_title": f"T{i}", "split": split,
                     "year": 2018, "midi_filename": f"{stem}.midi", "audio_filename": f"{stem}.wav",
                     "duration": 0.05})
    pd.DataFrame(rows).to_csv(root / "maestro-v3.0.0.csv", index=False)
    df = read_maestro(root)
    assert df.split.tolist() == ["train", "val", "test"]
    assert df.item_id.tolist() == [f"MIDI-Unprocessed_{i}" for i in range(3)]
    assert midi_to_notes(df.midi_path[2])[0].pitch == 62
    assert read_maestro(root, splits=("val",)).title.tolist() == ["T1"]
    Path(df.audio_path[1]).unlink()
    with pytest.raises(FileNotFoundError, match="audio file"):
        read_maestro(root)
    assert len(read_maestro(root, check_files=False)) == 3
    with pytest.raises(FileNotFoundError, match="maestro-v"):
        read_maestro(tmp_path)
    pd.DataFrame(rows).drop(columns="split").to_csv(root / "maestro-v3.0.0.csv", index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['split'\] in the MAESTRO"):
        read_maestro(root)
