"""Reader for the Mid-level Perceptual Features dataset (Aljanaki & Soleymani, ISMIR 2018).

5000 15-s clips rated by crowd-workers on seven mid-level perceptual features. The layout
the official mid-level code reads (shreyanc/midlevel_general, ``paths.py``)::

    <root>/metadata_annotations/annotations.csv   first column the song id, then 7 ratings
    <root>/metadata_annotations/metadata.csv      ';'-separated; 'song id', 'Artist', 'Source', …
    <root>/audio/<song id>.mp3

Rating columns are matched by name ignoring case, spaces and underscores, with the
aliases below (e.g. ``melody`` → melodiousness, ``modality`` → minorness), and returned
in the model's output order :data:`emolib.encoders.midlevel.MIDLEVEL_NAMES`. The split
holds out whole artists (the official split tests on artists with a single clip).

Notebook: 03_chowdhury2023 (``data_root`` path).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from emolib.data.splits import group_split
from emolib.encoders.midlevel import MIDLEVEL_NAMES

__all__ = ["COLUMN_ALIASES", "read_midlevel_annotations", "load_midlevel_dataset"]

#: accepted column names (spaces removed, lower-case) for each mid-level feature
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "melodiousness": ("melodiousness", "melody"),
    "articulation": ("articulation",),
    "rhythm_complexity": ("rhythm_complexity", "rhythmic_complexity"),
    "rhythm_stability": ("rhythm_stability", "rhythmic_stability"),
    "dissonance": ("dissonance",),
    "tonal_stability": ("tonal_stability",),
    "minorness": ("minorness", "modality", "mode", "minor"),
}


def _norm(name: str) -> str:
    return str(name).lower().replace(" ", "").replace("_", "")


def read_midlevel_annotations(csv_path: str | Path) -> pd.DataFrame:
    """``clip_id`` + the 7 features (model order) from an ``annotations.csv``."""
    path = Path(csv_path)
    if not path.exists():
        raise FileNotFoundError(f"mid-level annotations file not found: {path}")
    df = pd.read_csv(path)
    by_norm = {_norm(c): c for c in df.columns}
    out = pd.DataFrame({"clip_id": df[df.columns[0]].astype(str).to_numpy()})
    missing = []
    for name in MIDLEVEL_NAMES:
        col = next((by_norm[_norm(a)] for a in COLUMN_ALIASES[name] if _norm(a) in by_norm), None)
        if col is None:
            missing.append(name)
        else:
            out[name] = pd.to_numeric(df[col], errors="raise").astype(float).to_numpy()
    if missing:
        raise ValueError(f"{path}: no column for {missing}; accepted names "
                         f"{ {m: COLUMN_ALIASES[m] for m in missing} }, found {list(df.columns)}")
    return out


def load_midlevel_dataset(root: str | Path, *, check_audio: bool = True, seed: int = 0,
                          fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> pd.DataFrame:
    """The mid-level dataset as the world's ``midlevel`` table.

    Columns: ``clip_id, audio_path``, the 7 features, ``artist`` (when metadata.csv is
    present, else the clip id) and ``split`` (whole artists per split,
    :func:`emolib.data.splits.group_split`). ``check_audio`` → ``FileNotFoundError``
    naming the first missing clip.
    """
    root = Path(root)
    ann_dir = root / "metadata_annotations"
    table = read_midlevel_annotations(ann_dir / "annotations.csv")
    table.insert(1, "audio_path", [str(root / "audio" / f"{cid}.mp3") for cid in table.clip_id])
    if check_audio:
        for p in table.audio_path:
            if not Path(p).exists():
                raise FileNotFoundError(f"mid-level dataset audio missing: {p}")
    meta_path = ann_dir / "metadata.csv"
    if meta_path.exists():
        meta = pd.read_csv(meta_path, sep=";")
        meta.columns = [c.strip() for c in meta.columns]
        if "song id" not in meta.columns or "Artist" not in meta.columns:
            raise ValueError(f"{meta_path}: expected ';'-separated columns 'song id' and 'Artist', "
                             f"found {list(meta.columns)}")
        artist = dict(zip(meta["song id"].astype(str), meta["Artist"].astype(str)))
        table["artist"] = [artist.get(c, c) for c in table.clip_id]
    else:
        table["artist"] = table.clip_id
    table["split"] = group_split(table["artist"].tolist(), fractions=fractions, seed=seed)
    return table
