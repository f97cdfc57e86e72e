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
audio; dropped clips are logged).

Notebook: 04_zhu2023 (real-data path).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from emolib.data.taxonomies import EMOPIA_AROUSAL_HIGH, EMOPIA_VALENCE_HIGH, va_centroid

__all__ = ["CLIP_RE", "parse_clip_name", "read_split", "read_song_split", "read_emopia",
           "AUDIO_EXTENSIONS"]

log = logging.getLogger(__name__)

CLIP_RE = re.compile(r"^Q([1-4])_(.+)_(\d+)$")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg")
_SPLIT_FILES = {"train": "train.csv", "val": "val.csv", "test": "test.csv"}


def parse_clip_name(name: str) -> tuple[str, str, int]:
    """``"Q2_L3_TadjSQQ0_0"`` -> ``("Q2", "L3_TadjSQQ0", 0)`` (quadrant, song id, clip index)."""
    m = CLIP_RE.match(Path(str(name)).stem if str(name).endswith((".mid", *AUDIO_EXTENSIONS)) else str(name))
    if m is None:
        raise ValueError(f"EMOPIA clip name must look like Q{{1-4}}_<songID>_<idx>, got {name!r}")
    return f"Q{m.group(1)}", m.group(2), int(m.group(3))


def read_split(root: str | Path, split: str) -> pd.DataFrame:
    """One official clip split -> DataFrame[item_id, song_id, label, split].

    Checks that every ``label`` agrees with the quadrant in the clip name.
    """
    if split not in _SPLIT_FILES:
        raise ValueError(f"split must be one of {sorted(_SPLIT_FILES)}, got {split!r}")
    path = Path(root) / _SPLIT_FILES[split]
    if not path.is_file():
        raise FileNotFoundError(f"EMOPIA split file not found: {path} (expected fname,label columns)")
    df = pd.read_csv(path, dtype=str)
    if not {"fname", "label"} <= set(df.columns):
        raise ValueError(f"{path}: expected columns fname,label, got {list(df.columns)}")
    rows = []
    for fname, label in zip(df["fname"], df["label"]):
        q, song, _ = parse_clip_name(fname)
        if label != q:
            raise ValueError(f"{path}: clip {fname!r} is labelled {label!r} but its name says {q!r}")
        rows.append({"item_id": fname, "song_id": song, "label": label, "split": split})
    return pd.DataFrame(rows, columns=["item_id", "song_id", "label", "split"])


def read_song_split(root: str | Path) -> pd.DataFrame:
    """Song-level split files -> DataFrame[song_id, split, dominant, num_Q1..num_Q4]."""
    frames = []
    for split in _SPLIT_FILES:
        path = Path(root) / f"{split}_SL.csv"
        if not path.is_file():
            raise FileNotFoundError(f"EMOPIA song-level split file not found: {path}")
        df = pd.read_csv(path, dtype={"songID": str})
        need = {"songID", "num_Q1", "num_Q2", "num_Q3", "num_Q4", "DominantQ"}
        if not need <= set(df.columns):
            raise ValueError(f"{path}: expected columns {sorted(need)}, got {list(df.columns)}")
        df = df.rename(columns={"songID": "song_id"})
        df["dominant"] = "Q" + df.pop("DominantQ").astype(int).astype(str)
        df["split"] = split
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[["song_id", "split", "dominant", "num_Q1",
                                                  "num_Q2", "num_Q3", "num_Q4"]]


def _find_audio(folder: Path, fname: str) -> Path | None:
    for ext in AUDIO_EXTENSIONS:
        p = folder / f"{fname}{ext}"
        if p.is_file():
            return p
    return None


def read_emopia(root: str | Path, *, audio_dir: str | None = "audios", midi_dir: str | None = "midis",
                missing: str = "error") -> pd.DataFrame:
    """The official clip split with labels and file paths.

    Returns DataFrame[item_id, song_id, label, valence, arousal, arousal_high,
    valence_high, audio_path, midi_path, split] (paths absolute; a column is None when its
    folder argument is None). ``missing="error"`` raises ``FileNotFoundError`` naming the
    first missing file; ``missing="drop"`` drops such clips with a warning.
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    root = Path(root)
    df = pd.concat([read_split(root, s) for s in _SPLIT_FILES], ignore_index=True)
    va = [va_centroid("emopia", q) for q in df["label"]]
    df["valence"] = [v for v, _ in va]
    df["arousal"] = [a for _, a in va]
    df["arousal_high"] = df["label"].isin(EMOPIA_AROUSAL_HIGH)
    df["valence_high"] = df["label"].isin(EMOPIA_VALENCE_HIGH)
    keep = pd.Series(True, index=df.index)
    for col, folder, finder in (
            ("audio_path", audio_dir, lambda d, f: _find_audio(d, f)),
            ("midi_path", midi_dir, lambda d, f: (d / f"{f}.mid") if (d / f"{f}.mid").is_file() else None)):
        if folder is None:
            df[col] = None
            continue
        d = (root / folder).resolve()
        if not d.is_dir() and missing == "error":
            raise FileNotFoundError(f"EMOPIA {col.split('_')[0]} folder not found: {d}")
        paths = []
        for i, fname in zip(df.index, df["item_id"]):
            p = finder(d, fname) if d.is_dir() else None
            if p is None:
                if missing == "error":
                    what = "audio (.wav/.mp3/.flac/.ogg)" if col == "audio_path" else "MIDI"
                    raise FileNotFoundError(f"EMOPIA {what} file for clip {fname!r} not found in {d}")
                keep[i] = False
            paths.append(str(p) if p is not None else None)
        df[col] = paths
    if not keep.all():
        log.warning("EMOPIA: dropped %d of %d clips with missing files", int((~keep).sum()), len(df))
    return df[keep].reset_index(drop=True)[[
        "item_id", "song_id", "label", "valence", "arousal", "arousal_high", "valence_high",
        "audio_path", "midi_path", "split"]]
