"""Reader for EMOPIA (Hung et al., ISMIR 2021) in its published layouts.

* Clip names ``Q{n}_{songID}_{idx}``: quadrant 1-4, the YouTube id of the song (which may
  itself contain ``_`` and ``-``) and the clip index in the song.
* Official clip split (EMOPIA_cls): ``train.csv``, ``val.csv``, ``test.csv`` with columns
  ``fname,label`` (767 / 198 / 86 clips); song-level split files ``{train,val,test}_SL.csv``
  and ``metadata_by_song_correct.csv`` (``songID,num_Q1..num_Q4,DominantQ``).
* Files: MIDI in ``midis/<fname>.mid`` (Zenodo 5151045), audio (collected from YouTube by
  each user) in ``audios/<fname>.{wav,mp3,flac,ogg}`` — folder names are parameters.

:func:`read_emopia` joins split, labels, valence/arousal (quadrant centroids and the
binary EMOPIA A/V labels: A high = Q1,Q2; V high = Q1,Q4) and file paths. A missing file is
an error naming it, unless ``missing="drop"`` (Zhu et al. could fetch only ~90 % of the
audio; dropped clips are logged; dropping *every* clip is an error saying where it looked).
Malformed split files (empty, header only, not UTF-8, missing columns or values, non-integer
counts, a clip or song listed twice or in two split files, conflicting labels) raise
:class:`emolib.data.files.DataError` naming the file and line.

Notebook: 04_zhu2023 (real-data path).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from emolib.data.files import DataError, check_split_ids, read_csv
from emolib.data.taxonomies import EMOPIA_AROUSAL_HIGH, EMOPIA_VALENCE_HIGH, va_centroid

__all__ = ["CLIP_RE", "parse_clip_name", "read_split", "read_song_split", "read_emopia",
           "AUDIO_EXTENSIONS"]

log = logging.getLogger(__name__)

CLIP_RE = re.compile(r"^Q([1-4])_(.+)_(\d+)$")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg")
_SPLIT_FILES = {"train": "train.csv", "val": "val.csv", "test": "test.csv"}


def parse_clip_name(name: str) -> tuple[str, str, int]:
    """``"Q2_L3_TadjSQQ0_0"`` -> ``("Q2", "L3_TadjSQQ0", 0)`` (quadrant, song id, clip index).

    Notebook: 04_zhu2023 (real-data path).
    """
    stem = Path(str(name)).stem if str(name).endswith((".mid", *AUDIO_EXTENSIONS)) else str(name)
    m = CLIP_RE.match(stem)
    if m is None:
        raise ValueError(f"EMOPIA clip name must look like Q{{1-4}}_<songID>_<idx>, got {name!r}")
    return f"Q{m.group(1)}", m.group(2), int(m.group(3))


def _read_split(root: Path, split: str) -> pd.DataFrame:
    """:func:`read_split` with the line of each clip in its file (column ``_line``)."""
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(_SPLIT_FILES)}, got {split!r}")
    path = root / _SPLIT_FILES[split]
    df = read_csv(path, what="EMOPIA split file",
                  required_columns=("fname", "label"), id_column="fname", line_column="_line")
    rows = []
    for fname, label, line in zip(df["fname"], df["label"], df["_line"]):
        try:
            q, song, _ = parse_clip_name(fname)
        except ValueError as exc:
            raise DataError(f"{path.absolute()}: line {line}, column 'fname': {exc}") from None
        if label != q:
            raise DataError(f"{path.absolute()}: line {line}: clip {fname!r} is labelled "
                            f"{label!r} but its name says {q!r}")
        rows.append({"item_id": fname, "song_id": song, "label": label, "split": split,
                     "_line": line})
    return pd.DataFrame(rows, columns=["item_id", "song_id", "label", "split", "_line"])


def read_split(root: str | Path, split: str) -> pd.DataFrame:
    """One official clip split -> DataFrame[item_id, song_id, label, split].

    Checks (:class:`~emolib.data.files.DataError` naming the file and line): columns
    ``fname,label`` present, no missing value, no clip listed twice, every clip name of the
    form ``Q{1-4}_<songID>_<idx>`` and every ``label`` equal to the quadrant in the name.

    Notebook: 04_zhu2023 (real-data path).
    """
    return _read_split(Path(root), split).drop(columns="_line")


def read_song_split(root: str | Path) -> pd.DataFrame:
    """Song-level split files -> DataFrame[song_id, split, dominant, num_Q1..num_Q4].

    Checks (:class:`~emolib.data.files.DataError` naming the file and line): the columns
    ``songID,num_Q1..num_Q4,DominantQ``, integer counts, ``DominantQ`` in 1-4, no song
    listed twice in a file or in two files (a song with two different ``DominantQ`` is
    reported as conflicting labels).

    Notebook: 04_zhu2023 (real-data path).
    """
    frames, tables = [], []
    need = ("songID", "num_Q1", "num_Q2", "num_Q3", "num_Q4", "DominantQ")
    for split in _SPLIT_FILES:
        path = Path(root) / f"{split}_SL.csv"
        df = read_csv(path, what="EMOPIA song-level split file", required_columns=need,
                      int_columns=need[1:], id_column="songID", line_column="_line")
        bad = ~df["DominantQ"].isin([1, 2, 3, 4])
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise DataError(f"{path.absolute()}: line {df['_line'].iloc[i]}, column 'DominantQ': "
                            f"{df['DominantQ'].iloc[i]} is not a quadrant; expected 1, 2, 3 or 4")
        tables.append((path, df))
        df = df.rename(columns={"songID": "song_id"})
        df["dominant"] = "Q" + df.pop("DominantQ").astype(str)
        df["split"] = split
        frames.append(df)
    check_split_ids(tables, "songID", label_column="DominantQ", line_column="_line",
                    what="EMOPIA song-level split files")
    return pd.concat(frames, ignore_index=True)[["song_id", "split", "dominant", "num_Q1",
                                                  "num_Q2", "num_Q3", "num_Q4"]]


def _find_audio(folder: Path, fname: str) -> Path | None:
    for ext in AUDIO_EXTENSIONS:
        p = folder / f"{fname}{ext}"
        if p.is_file():
            return p
    return None


def _find_midi(folder: Path, fname: str) -> Path | None:
    p = folder / f"{fname}.mid"
    return p if p.is_file() else None


def read_emopia(root: str | Path, *, audio_dir: str | None = "audios",
                midi_dir: str | None = "midis", missing: str = "error") -> pd.DataFrame:
    """The official clip split with labels and file paths.

    Returns DataFrame[item_id, song_id, label, valence, arousal, arousal_high,
    valence_high, audio_path, midi_path, split] (paths absolute; a column is None when its
    folder argument is None). ``missing="error"`` raises ``FileNotFoundError`` naming the
    first missing file; ``missing="drop"`` drops such clips with a warning, and raises
    ``FileNotFoundError`` saying how many clips were dropped and where it looked when that
    would drop every clip (e.g. an empty or absent audio folder). A clip listed in two
    split files → :class:`~emolib.data.files.DataError` naming both files.

    Notebook: 04_zhu2023 (real-data path).
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    root = Path(root)
    parts = [_read_split(root, s) for s in _SPLIT_FILES]
    check_split_ids([(root / _SPLIT_FILES[s], d) for s, d in zip(_SPLIT_FILES, parts)],
                    "item_id", label_column="label", line_column="_line",
                    what="EMOPIA split files")
    df = pd.concat(parts, ignore_index=True).drop(columns="_line")
    va = [va_centroid("emopia", q) for q in df["label"]]
    df["valence"] = [v for v, _ in va]
    df["arousal"] = [a for _, a in va]
    df["arousal_high"] = df["label"].isin(EMOPIA_AROUSAL_HIGH)
    df["valence_high"] = df["label"].isin(EMOPIA_VALENCE_HIGH)
    keep = pd.Series(True, index=df.index)
    for col, folder, finder in (("audio_path", audio_dir, _find_audio),
                                ("midi_path", midi_dir, _find_midi)):
        if folder is None:
            df[col] = None
            continue
        d = (root / folder).resolve()
        what = "audio (.wav/.mp3/.flac/.ogg)" if col == "audio_path" else "MIDI (.mid)"
        if not d.is_dir() and missing == "error":
            raise FileNotFoundError(f"EMOPIA {col.split('_')[0]} folder not found: {d}")
        paths = []
        for i, fname in zip(df.index, df["item_id"]):
            p = finder(d, fname) if d.is_dir() else None
            if p is None:
                if missing == "error":
                    raise FileNotFoundError(f"EMOPIA {what} file for clip {fname!r} not found "
                                            f"in {d}")
                keep[i] = False
            paths.append(str(p) if p is not None else None)
        df[col] = paths
        if paths and all(p is None for p in paths):
            where = "the folder does not exist" if not d.is_dir() else "the folder holds none"
            raise FileNotFoundError(
                f"EMOPIA: missing='drop' would drop all {len(df)} clips: no {what} file "
                f"<fname>{'.<ext>' if col == 'audio_path' else '.mid'} for any clip in {d} "
                f"({where})")
    if not keep.all():
        log.warning("EMOPIA: dropped %d of %d clips with missing files", int((~keep).sum()),
                    len(df))
        if not keep.any():
            raise FileNotFoundError(
                f"EMOPIA: missing='drop' dropped all {len(df)} clips: no clip has both its "
                f"audio file in {(root / audio_dir).resolve()} and its MIDI file in "
                f"{(root / midi_dir).resolve()}")
    return df[keep].reset_index(drop=True)[[
        "item_id", "song_id", "label", "valence", "arousal", "arousal_high", "valence_high",
        "audio_path", "midi_path", "split"]]
