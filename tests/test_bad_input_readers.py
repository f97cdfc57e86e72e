"""Bad input is refused before any work is done: a catalogue of malformed data files.

Every case builds its bad file(s) in ``tmp_path`` (tiny WAVs written with soundfile, tiny
CSVs in the published layouts) and checks the error type and that the message names the
file (full path) and, where it applies, the column, the line or the parameter. Positive
tests check that :func:`emolib.data.files.load_audio` gives exactly ``librosa.load``'s
samples on good files.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emolib.data import alm as alm_reader
from emolib.data import audioset, conespressione, emopia, isear, maestro, midlevel_dataset, mtat
from emolib.data.deepemotion import load_image
from emolib.data.files import DataError, check_split_ids, load_audio, read_csv
from emolib.encoders import audio as audio_enc
from emolib.encoders import midlevel as midlevel_enc
from emolib.encoders.midlevel import MIDLEVEL_NAMES

SR = 16000
#: (what to call, expected error type, substrings the message must contain)
Case = tuple[Callable[[], object], type[BaseException], list[str]]


def _tone(n: int = 1600, sr: int = SR, channels: int = 1, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * g.standard_normal(n)
    return np.stack([x * (1 - 0.3 * c) for c in range(channels)], axis=1).astype(np.float32)


def _wav(path: Path, n: int = 1600, sr: int = SR, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, _tone(n, sr), sr, **kw)
    return path


def _csv(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


# ------------------------------------------------------------------------------- audio
def _empty_audio(tmp: Path) -> Case:
    p = _csv(tmp / "empty.wav", b"")
    return lambda: load_audio(p, SR), DataError, [str(p), "empty (0 bytes)"]


def _zero_frames(tmp: Path) -> Case:
    p = tmp / "zero.wav"
    sf.write(p, np.zeros(0, np.float32), SR)
    return lambda: load_audio(p, SR), DataError, [str(p), "0 frames"]


def _truncated_wav(tmp: Path) -> Case:
    good = _wav(tmp / "good.wav", n=4000)
    p = tmp / "truncated.wav"
    p.write_bytes(good.read_bytes()[:3000])  # libsndfile alone would read 1478 frames quietly
    return lambda: load_audio(p, SR), DataError, [str(p), "truncated WAV", "8000 bytes"]


def _truncated_header(tmp: Path) -> Case:
    p = tmp / "header.wav"
    p.write_bytes(_wav(tmp / "good.wav").read_bytes()[:30])  # cut inside the fmt chunk
    return lambda: load_audio(p, SR), DataError, [str(p), "truncated WAV"]


def _truncated_flac(tmp: Path) -> Case:
    good = tmp / "good.flac"
    sf.write(good, _tone(16000), SR)
    p = tmp / "truncated.flac"
    p.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return lambda: load_audio(p, SR), DataError, [str(p)]


def _nan_wav(tmp: Path) -> Case:
    x = _tone(800)[:, 0]
    x[100] = np.nan
    p = tmp / "nan.wav"
    sf.write(p, x, SR, subtype="FLOAT")
    return lambda: load_audio(p, SR), DataError, [str(p), "NaN/inf", "frame 100"]


def _inf_wav(tmp: Path) -> Case:
    x = _tone(800)[:, 0]
    x[7] = np.inf
    p = tmp / "inf.wav"
    sf.write(p, x, SR, subtype="FLOAT")
    return lambda: load_audio(p, None), DataError, [str(p), "non-finite", "frame 7"]


def _junk(ext: str) -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        p = _csv(tmp / f"junk{ext}", b"this is not audio at all\n" * 20)
        return lambda: load_audio(p, SR), DataError, [str(p), "cannot decode"]
    return build


def _missing_audio(tmp: Path) -> Case:
    p = tmp / "nope" / "missing.wav"
    return lambda: load_audio(p, SR), FileNotFoundError, [str(p)]


def _directory_audio(tmp: Path) -> Case:
    (tmp / "adir.wav").mkdir()
    return lambda: load_audio(tmp / "adir.wav", SR), FileNotFoundError, [str(tmp / "adir.wav")]


def _bad_sr(sr: object, exc: type[BaseException]) -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        p = _wav(tmp / "good.wav")
        return lambda: load_audio(p, sr), exc, ["sr must be a positive int", repr(sr)]
    return build


def _bad_span(tmp: Path) -> Case:
    p = _wav(tmp / "good.wav")
    return lambda: load_audio(p, SR, offset=-1.0), ValueError, ["offset", "-1.0"]


def _offset_past_end(tmp: Path) -> Case:
    p = _wav(tmp / "good.wav", n=1600)
    return lambda: load_audio(p, SR, offset=5.0), DataError, [str(p), "offset=5.0"]


def _encoder_truncated(tmp: Path) -> Case:
    good = _wav(tmp / "good.wav", n=4000)
    p = tmp / "cut.wav"
    p.write_bytes(good.read_bytes()[:2000])
    return lambda: audio_enc.load_audio(str(p)), DataError, [str(p), "truncated"]


def _encoder_missing(tmp: Path) -> Case:
    p = tmp / "missing.wav"
    return lambda: audio_enc.load_audio(str(p)), FileNotFoundError, [str(p)]


def _midlevel_nan(tmp: Path) -> Case:
    x = _tone(1600)[:, 0]
    x[3] = np.nan
    p = tmp / "ml_nan.wav"
    sf.write(p, x, SR, subtype="FLOAT")
    return lambda: midlevel_enc.spectrogram_cached(p, SR), DataError, [str(p), "NaN"]


AUDIO_CASES = {
    "empty-audio-0-bytes": _empty_audio,
    "wav-with-0-frames": _zero_frames,
    "truncated-wav-data-chunk": _truncated_wav,
    "truncated-wav-header": _truncated_header,
    "truncated-flac": _truncated_flac,
    "wav-with-nan": _nan_wav,
    "wav-with-inf": _inf_wav,
    "undecodable-bytes-as-mp3": _junk(".mp3"),
    "undecodable-bytes-as-wav": _junk(".wav"),
    "missing-audio-file": _missing_audio,
    "audio-path-is-a-directory": _directory_audio,
    "sr-is-bool-true": _bad_sr(True, TypeError),
    "sr-is-bool-false": _bad_sr(False, TypeError),
    "sr-is-float": _bad_sr(16000.0, TypeError),
    "sr-is-zero": _bad_sr(0, ValueError),
    "sr-is-negative": _bad_sr(-8000, ValueError),
    "negative-offset": _bad_span,
    "offset-past-the-end": _offset_past_end,
    "encoders.audio.load_audio-truncated": _encoder_truncated,
    "encoders.audio.load_audio-missing": _encoder_missing,
    "midlevel.spectrogram_cached-nan": _midlevel_nan,
}


# ------------------------------------------------------------------------------ tables
def _emopia_root(tmp: Path, splits: dict[str, list[str]] | None = None, audio: bool = True,
                 midi: bool = False) -> Path:
    root = tmp / "EMOPIA"
    (root / "audios").mkdir(parents=True, exist_ok=True)
    splits = splits or {"train": ["Q1_aa_0", "Q2_b_b_1"], "val": ["Q3_cc_0"], "test": ["Q4_d-d_2"]}
    for split, names in splits.items():
        pd.DataFrame({"fname": names, "label": [n[:2] for n in names]}).to_csv(
            root / f"{split}.csv", index=False)
        if audio:
            for n in names:
                _wav(root / "audios" / f"{n}.wav", n=160)
    return root


def _emopia_sl(root: Path, rows: dict[str, list[tuple[str, int]]]) -> None:
    for split, songs in rows.items():
        lines = ["songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ"]
        lines += [f"{s},1,0,0,0,{q}" for s, q in songs]
        _csv(root / f"{split}_SL.csv", "\n".join(lines) + "\n")


def _empty_csv(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    p = _csv(root / "val.csv", b"")
    return lambda: emopia.read_emopia(root, midi_dir=None), DataError, [str(p), "empty"]


def _header_only_csv(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    p = _csv(root / "train.csv", "fname,label\n")
    return (lambda: emopia.read_split(root, "train"), DataError,
            [str(p), "header but 0 data row"])


def _header_only_answers(tmp: Path) -> Case:
    p = _csv(tmp / conespressione.ANSWERS_FILE, "music_id,answer,piece_name,performer\n")
    return lambda: conespressione.read_answers(p), DataError, [str(p), "0 data row"]


def _non_utf8_csv(tmp: Path) -> Case:
    p = _csv(tmp / "maestro-v3.0.0.csv",
             b"canonical_composer,canonical_title,split,year,midi_filename,audio_filename,"
             b"duration\nA,T,train,2018,a.midi,a.wav,1.0\nDvo\xf8\xe1k,T,test,2018,b.midi,"
             b"b.wav,2.0\n")
    return (lambda: maestro.read_maestro(tmp, check_files=False), DataError,
            [str(p), "line 3", "not UTF-8"])


def _missing_columns(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    p = _csv(root / "train.csv", "fname\nQ1_aa_0\n")
    return (lambda: emopia.read_split(root, "train"), DataError,
            [str(p), "missing column(s) ['label']", "found ['fname']"])


def _wrong_field_count(tmp: Path) -> Case:
    p = _csv(tmp / "eval_segments.csv", "# a\n# b\n# YTID, start, end, labels\n"
             'aaaaaaaaaaa, 0.0, 10.0, "/t/dd00031"\nbbbbbbbbbbb, 1.0\n')
    return lambda: audioset.read_segments(p), DataError, [str(p), "line 5", "expected 4"]


def _non_numeric_code(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    p = tmp / "EMOPIA" / "val_SL.csv"
    _emopia_sl(root, {"train": [("aa", 1)], "val": [("cc", 3)], "test": [("dd", 4)]})
    p.write_text("songID,num_Q1,num_Q2,num_Q3,num_Q4,DominantQ\ncc,0,0,1,0,Q3\n")
    return (lambda: emopia.read_song_split(root), DataError,
            [str(p), "line 2", "column 'DominantQ'", "'Q3'", "integer"])


def _non_numeric_year(tmp: Path) -> Case:
    p = _csv(tmp / "maestro-v2.0.0.csv",
             "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,"
             "duration\nA,T,train,2018,a.midi,a.wav,1.0\nB,U,test,twenty,b.midi,b.wav,2.0\n")
    return (lambda: maestro.read_maestro(tmp, check_files=False), DataError,
            [str(p), "line 3", "column 'year'", "'twenty'"])


def _non_integer_tag(tmp: Path) -> Case:
    p = _csv(tmp / "annotations_final.csv",
             '"clip_id"\t"guitar"\t"mp3_path"\n"2"\t"1"\t"f/a.mp3"\n"6"\t"yes"\t"f/b.mp3"\n')
    return (lambda: mtat.read_annotations(p), DataError,
            [str(p), "line 3", "column 'guitar'", "'yes'"])


def _nan_rating(value: str) -> Callable[[Path], Case]:
    def build(tmp: Path) -> Case:
        ann = tmp / "metadata_annotations" / "annotations.csv"
        cols = ["song id", "melody", "articulation", "rhythmic stability",
                "rhythmic complexity", "dissonance", "tonal stability", "modality"]
        rows = [[1, 3.0, 2.0, 4.0, 5.0, 6.0, 7.0, 1.5], [2, 3.5, 2.5, 4.5, 5.5, 6.5, 7.5, value]]
        _csv(ann, ",".join(cols) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
        return (lambda: midlevel_dataset.read_midlevel_annotations(ann), DataError,
                [str(ann), "line 3", "column 'modality' (read as 'minorness')", repr(value),
                 "missing value"])
    return build


def _non_numeric_rating(tmp: Path) -> Case:
    ann = tmp / "annotations.csv"
    _csv(ann, "song id," + ",".join(MIDLEVEL_NAMES) + "\n1,1,2,3,4,5,6,7\n2,1,2,3,x4,5,6,7\n")
    return (lambda: midlevel_dataset.read_midlevel_annotations(ann), DataError,
            [str(ann), "line 3", "'rhythm_stability'", "'x4'", "not a finite number"])


def _missing_duration(tmp: Path) -> Case:
    p = _csv(tmp / "maestro-v3.0.0.csv",
             "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,"
             "duration\nA,T,train,2018,a.midi,a.wav,\n")
    return (lambda: maestro.read_maestro(tmp, check_files=False), DataError,
            [str(p), "line 2", "column 'duration'", "missing value ''"])


def _nan_music_id(tmp: Path) -> Case:
    p = _csv(tmp / conespressione.ANSWERS_FILE,
             "music_id,answer,piece_name,performer\n5,playful,bach,Gould\nNaN,dark,bach,MIDI\n")
    return (lambda: conespressione.read_answers(p), DataError,
            [str(p), "line 3", "column 'music_id'", "'NaN'"])


def _unknown_split(tmp: Path) -> Case:
    p = _csv(tmp / "maestro-v3.0.0.csv",
             "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,"
             "duration\nA,T,dev,2018,a.midi,a.wav,1.0\n")
    return (lambda: maestro.read_maestro(tmp, check_files=False), DataError,
            [str(p), "line 2", "column 'split'", "'dev'"])


def _dup_in_split_file(tmp: Path) -> Case:
    root = _emopia_root(tmp, {"train": ["Q1_aa_0", "Q2_b_b_1", "Q1_aa_0"], "val": ["Q3_cc_0"],
                              "test": ["Q4_d-d_2"]})
    return (lambda: emopia.read_emopia(root, midi_dir=None), DataError,
            [str(root / "train.csv"), "'Q1_aa_0'", "lines 2, 4"])


def _dup_across_split_files(tmp: Path) -> Case:
    root = _emopia_root(tmp, {"train": ["Q1_aa_0", "Q2_b_b_1"], "val": ["Q3_cc_0"],
                              "test": ["Q4_d-d_2", "Q3_cc_0"]})
    return (lambda: emopia.read_emopia(root, midi_dir=None), DataError,
            [str(root / "val.csv"), str(root / "test.csv"), "'Q3_cc_0'", "disjoint"])


def _dup_song_across_sl_files(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    _emopia_sl(root, {"train": [("aa", 1), ("bb", 2)], "val": [("cc", 3)],
                      "test": [("dd", 4), ("bb", 2)]})
    return (lambda: emopia.read_song_split(root), DataError,
            [str(root / "train_SL.csv"), str(root / "test_SL.csv"), "'bb'", "line 3"])


def _conflicting_song_label(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    _emopia_sl(root, {"train": [("aa", 1)], "val": [("cc", 3), ("aa", 2)], "test": [("dd", 4)]})
    return (lambda: emopia.read_song_split(root), DataError,
            [str(root / "train_SL.csv"), str(root / "val_SL.csv"), "'aa'", "conflicting"])


def _segments(path: Path, rows: list[str]) -> Path:
    return _csv(path, "# Segments csv created\n# num_ytids=...\n# YTID, start_seconds, "
                "end_seconds, positive_labels\n" + "\n".join(rows) + "\n")


def _conflicting_audioset_label(tmp: Path) -> Case:
    a = _segments(tmp / "balanced_train_segments.csv", ['aaaaaaaaaaa, 0.0, 10.0, "/t/dd00031"'])
    b = _segments(tmp / "eval_segments.csv", ['aaaaaaaaaaa, 0.0, 10.0, "/t/dd00033"',
                                              'bbbbbbbbbbb, 0.0, 10.0, "/t/dd00033"'])
    return (lambda: audioset.load_audioset_mood(tmp), DataError,
            [str(a), str(b), "'aaaaaaaaaaa'", "'happy'", "'sad'", "conflicting"])


def _conflicting_mtat_tags(tmp: Path) -> Case:
    _csv(tmp / "index_mtt.tsv", "2\tf/a.mp3\n6\tf/b.mp3\n")
    _csv(tmp / "train_gt_mtt.tsv", "2\t[1, 0]\n")
    _csv(tmp / "val_gt_mtt.tsv", "6\t[0, 1]\n2\t[0, 1]\n")
    _csv(tmp / "test_gt_mtt.tsv", "")
    return (lambda: mtat.load_mtat(tmp, split="pons", n_tags=2, on_missing="ignore"), DataError,
            [str(tmp / "train_gt_mtt.tsv"), str(tmp / "val_gt_mtt.tsv"), "ID 2 ", "line 2",
             "conflicting"])


def _dup_across_npy_splits(tmp: Path) -> Case:
    np.save(tmp / "train.npy", np.array(["0\tf/a.mp3", "1\tf/b.mp3"]))
    np.save(tmp / "valid.npy", np.array(["2\tf/c.mp3"]))
    np.save(tmp / "test.npy", np.array(["1\tf/b.mp3"]))
    return (lambda: mtat.load_mtat(tmp, on_missing="ignore"), DataError,
            [str(tmp / "train.npy"), str(tmp / "test.npy"), "'f/b.mp3'"])


def _dup_midlevel_id(tmp: Path) -> Case:
    ann = tmp / "annotations.csv"
    _csv(ann, "song id," + ",".join(MIDLEVEL_NAMES) + "\n1,1,2,3,4,5,6,7\n1,1,2,3,4,5,6,7\n")
    return (lambda: midlevel_dataset.read_midlevel_annotations(ann), DataError,
            [str(ann), "'1'", "lines 2, 3"])


def _bad_ontology_index(tmp: Path) -> Case:
    p = _csv(tmp / "class_labels_indices.csv", "index,mid,display_name\n0,/m/a,Speech\n"
             "one,/t/dd00031,Happy music\n")
    return lambda: audioset.read_ontology(p), DataError, [str(p), "line 3", "column 'index'"]


def _missing_csv(tmp: Path) -> Case:
    root = _emopia_root(tmp)
    (root / "test.csv").unlink()
    return (lambda: emopia.read_emopia(root), FileNotFoundError,
            [str(root / "test.csv"), "EMOPIA split file"])


def _empty_isear(tmp: Path) -> Case:
    p = _csv(tmp / "isear.csv", b"")
    return lambda: isear.read_isear(p), DataError, [str(p), "empty"]


def _bad_alm_line(tmp: Path) -> Case:
    d = tmp / "Grimms" / "agree-sent"
    p = _csv(d / "story.agree", "0@4@fine\n1@9@bad code\n")
    return lambda: alm_reader.load_alm(tmp), DataError, [str(p), "line 2", "'9'"]


def _corrupt_image(tmp: Path) -> Case:
    p = _csv(tmp / "img.jpg", b"not a jpeg" * 10)
    return lambda: load_image(p), DataError, [str(p), "cannot decode image"]


def _empty_image(tmp: Path) -> Case:
    p = _csv(tmp / "img.png", b"")
    return lambda: load_image(p), DataError, [str(p), "empty"]


TABLE_CASES = {
    "empty-csv-0-bytes": _empty_csv,
    "header-only-csv": _header_only_csv,
    "header-only-answers-csv": _header_only_answers,
    "non-utf8-csv": _non_utf8_csv,
    "missing-required-column": _missing_columns,
    "wrong-field-count": _wrong_field_count,
    "non-numeric-code-column": _non_numeric_code,
    "non-numeric-year": _non_numeric_year,
    "non-integer-tag-value": _non_integer_tag,
    "nan-rating-n/a": _nan_rating("n/a"),
    "nan-rating-NaN": _nan_rating("NaN"),
    "nan-rating-empty": _nan_rating(""),
    "non-numeric-rating": _non_numeric_rating,
    "missing-duration": _missing_duration,
    "nan-music-id": _nan_music_id,
    "unknown-split-value": _unknown_split,
    "duplicate-id-within-split-file": _dup_in_split_file,
    "duplicate-id-across-split-files": _dup_across_split_files,
    "duplicate-song-across-song-split-files": _dup_song_across_sl_files,
    "conflicting-song-label": _conflicting_song_label,
    "conflicting-audioset-mood": _conflicting_audioset_label,
    "conflicting-mtat-tags": _conflicting_mtat_tags,
    "duplicate-across-mtat-npy-splits": _dup_across_npy_splits,
    "duplicate-midlevel-song-id": _dup_midlevel_id,
    "non-integer-ontology-index": _bad_ontology_index,
    "missing-split-csv": _missing_csv,
    "empty-isear": _empty_isear,
    "bad-alm-label-code": _bad_alm_line,
    "corrupt-image": _corrupt_image,
    "empty-image": _empty_image,
}


# --------------------------------------------------------------------- missing audio sets
def _emopia_drop_all_empty_folder(tmp: Path) -> Case:
    root = _emopia_root(tmp, audio=False)
    return (lambda: emopia.read_emopia(root, midi_dir=None, missing="drop"), FileNotFoundError,
            [str((root / "audios").resolve()), "all 4 clips", "holds none"])


def _emopia_drop_all_absent_folder(tmp: Path) -> Case:
    root = _emopia_root(tmp, audio=False)
    return (lambda: emopia.read_emopia(root, audio_dir="wavs", midi_dir=None, missing="drop"),
            FileNotFoundError, [str((root / "wavs").resolve()), "all 4 clips", "does not exist"])


def _audioset_drop_all(tmp: Path) -> Case:
    _segments(tmp / "eval_segments.csv", ['aaaaaaaaaaa, 0.0, 10.0, "/t/dd00031"',
                                          'bbbbbbbbbbb, 0.0, 10.0, "/t/dd00033"'])
    (tmp / "audio").mkdir()
    _csv(tmp / "audio" / "Yccccccccccc.wav", b"")  # audio of a clip that is not listed
    return (lambda: audioset.load_audioset_mood(tmp, tmp / "audio", on_missing="drop"),
            FileNotFoundError, [str(tmp / "audio"), "all 2 mood clips", "found 1 such file"])


def _audioset_absent_folder(tmp: Path) -> Case:
    _segments(tmp / "eval_segments.csv", ['aaaaaaaaaaa, 0.0, 10.0, "/t/dd00031"'])
    return (lambda: audioset.load_audioset_mood(tmp, tmp / "audio", on_missing="drop"),
            FileNotFoundError, [str(tmp / "audio")])


def _mtat_fixture(tmp: Path) -> None:
    np.save(tmp / "train.npy", np.array(["0\tf/a-01.mp3", "1\tf/a-02.mp3"]))
    np.save(tmp / "valid.npy", np.array(["2\t0/b-01.mp3"]))
    np.save(tmp / "test.npy", np.array(["3\t0/b-02.mp3"]))
    np.save(tmp / "tags.npy", np.array(["guitar", "techno"]))
    np.save(tmp / "binary.npy", np.array([[1, 0], [1, 0], [0, 0], [0, 1]]))


def _mtat_missing_audio(tmp: Path) -> Case:
    _mtat_fixture(tmp)
    _wav(tmp / "f" / "a-01.wav", n=160)  # the decoded wav beside the mp3 counts
    _csv(tmp / "0" / "b-02.mp3", b"x")
    return (lambda: mtat.load_mtat(tmp), FileNotFoundError,
            [str(tmp), "2 of 4", "f/a-02.mp3", "0/b-01.mp3"])


def _mtat_drop_all(tmp: Path) -> Case:
    _mtat_fixture(tmp)
    return (lambda: mtat.load_mtat(tmp, on_missing="drop"), FileNotFoundError,
            [str(tmp), "4 of 4", "drop all 4"])


def _midlevel_missing_audio(tmp: Path) -> Case:
    ann = tmp / "metadata_annotations" / "annotations.csv"
    _csv(ann, "song id," + ",".join(MIDLEVEL_NAMES) + "\n1,1,2,3,4,5,6,7\n2,1,2,3,4,5,6,7\n")
    _csv(tmp / "audio" / "1.mp3", b"x")
    return (lambda: midlevel_dataset.load_midlevel_dataset(tmp), FileNotFoundError,
            [str(tmp / "audio"), "2.mp3", "1 of 2"])


MISSING_AUDIO_CASES = {
    "emopia-drop-all-empty-audio-folder": _emopia_drop_all_empty_folder,
    "emopia-drop-all-absent-audio-folder": _emopia_drop_all_absent_folder,
    "audioset-drop-all-empty-audio-folder": _audioset_drop_all,
    "audioset-absent-audio-folder": _audioset_absent_folder,
    "mtat-missing-audio": _mtat_missing_audio,
    "mtat-drop-all": _mtat_drop_all,
    "midlevel-missing-audio": _midlevel_missing_audio,
}


def _check(build: Callable[[Path], Case], tmp_path: Path) -> None:
    call, exc, needles = build(tmp_path)
    with pytest.raises(exc) as info:
        call()
    if exc is DataError:
        assert isinstance(info.value, ValueError)  # old `pytest.raises(ValueError)` still pass
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in message: {msg}"


@pytest.mark.parametrize("build", AUDIO_CASES.values(), ids=AUDIO_CASES.keys())
def test_bad_audio_is_refused(build, tmp_path):
    _check(build, tmp_path)


@pytest.mark.parametrize("build", TABLE_CASES.values(), ids=TABLE_CASES.keys())
def test_bad_table_is_refused(build, tmp_path):
    _check(build, tmp_path)


@pytest.mark.parametrize("build", MISSING_AUDIO_CASES.values(), ids=MISSING_AUDIO_CASES.keys())
def test_missing_audio_is_refused(build, tmp_path):
    _check(build, tmp_path)


# ---------------------------------------------------------------------- good input (exact)
@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sr", [None, 16000, 22050, 8000])
def test_load_audio_equals_librosa_load(tmp_path, fmt, channels, sr):
    p = tmp_path / f"x.{fmt}"
    sf.write(p, _tone(5000, 22050, channels), 22050)
    for kw in ({}, {"offset": 0.05, "duration": 0.1}):
        for mono in (True, False):
            y, rate = load_audio(p, sr, mono=mono, **kw)
            ref, ref_rate = librosa.load(p, sr=sr, mono=mono, **kw)
            assert rate == ref_rate and y.dtype == ref.dtype == np.float32
            assert y.shape == ref.shape and np.array_equal(y, ref)


def test_encoder_load_audio_keeps_its_numbers(tmp_path):
    """The encoders' loader read with soundfile and resampled with librosa (soxr_hq): the
    shared loader gives the same samples, bit for bit."""
    p = tmp_path / "stereo.wav"
    sf.write(p, _tone(7000, 22050, 2), 22050, subtype="PCM_16")
    data, file_sr = sf.read(str(p), dtype="float32", always_2d=True)
    old = librosa.resample(data.mean(axis=1), orig_sr=file_sr, target_sr=16000).astype(np.float32)
    assert np.array_equal(audio_enc.load_audio(str(p), 16000), old)
    mono = _wav(tmp_path / "mono.wav", n=3000)
    assert np.array_equal(audio_enc.load_audio(str(mono), SR),
                          sf.read(str(mono), dtype="float32", always_2d=True)[0].mean(axis=1))


def test_midlevel_loader_matches_librosa(tmp_path):
    p = _wav(tmp_path / "m.wav", n=16000)
    spec = midlevel_enc.log_filtered_spectrogram(librosa.load(p, sr=22050, mono=True)[0], 22050)
    y, _ = load_audio(p, 22050)
    assert np.array_equal(midlevel_enc.log_filtered_spectrogram(y, 22050), spec)


def test_read_csv_line_numbers_and_values(tmp_path):
    p = _csv(tmp_path / "t.csv", '\ufeffid,n,text\n\n1,2.5,"two\nlines"\n2,3,x\n\n3,n/a,y\n')
    with pytest.raises(DataError, match=r"t\.csv: line 7, column 'n': missing value 'n/a'"):
        read_csv(p, what="test table", numeric_columns=("n",))
    df = read_csv(p, what="test table", numeric_columns=("n",), allow_missing=("n",),
                  int_columns=("id",), id_column="id", line_column="line")
    assert df["line"].tolist() == [3, 5, 7]  # blank lines and a quoted newline counted
    assert df["id"].tolist() == [1, 2, 3] and df["text"].tolist() == ["two\nlines", "x", "y"]
    assert np.isnan(df["n"].iloc[2]) and df["n"].iloc[0] == 2.5
    with pytest.raises(FileNotFoundError, match=r"test table not found: .*nope\.csv"):
        read_csv(tmp_path / "nope.csv", what="test table")


def test_check_split_ids_direct(tmp_path):
    a = pd.DataFrame({"id": ["x", "y"], "label": ["Q1", "Q2"], "line": [2, 3]})
    b = pd.DataFrame({"id": ["y"], "label": ["Q2"], "line": [2]})
    check_split_ids([(tmp_path / "a.csv", a)], "id", label_column="label")
    check_split_ids([(tmp_path / "a.csv", a), (tmp_path / "b.csv", b)], "id",
                    label_column="label", allow_repeats=True)
    with pytest.raises(DataError, match=r"'y' is listed in both .*a\.csv \(line 3\) and "
                                        r".*b\.csv \(line 2\)"):
        check_split_ids([(tmp_path / "a.csv", a), (tmp_path / "b.csv", b)], "id",
                        line_column="line")
    b.loc[0, "label"] = "Q3"
    with pytest.raises(DataError, match=r"'y' has conflicting 'label' labels: 'Q2' in .*a\.csv "
                                        r"and 'Q3' in .*b\.csv"):
        check_split_ids([(tmp_path / "a.csv", a), (tmp_path / "b.csv", b)], "id",
                        label_column="label", allow_repeats=True)


def test_good_layouts_still_read(tmp_path):
    root = _emopia_root(tmp_path)
    assert len(emopia.read_emopia(root, midi_dir=None)) == 4
    (root / "audios" / "Q3_cc_0.wav").unlink()
    assert len(emopia.read_emopia(root, midi_dir=None, missing="drop")) == 3
    _emopia_sl(root, {"train": [("aa", 1), ("b_b", 2)], "val": [("cc", 3)], "test": [("d-d", 4)]})
    songs = emopia.read_song_split(root)
    assert songs["dominant"].tolist() == ["Q1", "Q2", "Q3", "Q4"]
    assert songs["num_Q1"].dtype.kind == "i"
    onto = _csv(tmp_path / "onto.csv", "0,/m/a,Speech\n1,/t/dd00031,Happy music\n")
    assert audioset.read_ontology(onto)["index"].tolist() == [0, 1]
