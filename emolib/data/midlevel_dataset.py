"""Reader for the Mid-level Perceptual Features dataset (Aljanaki & Soleymani, ISMIR 2018).

5000 15-s clips rated by crowd-workers on seven mid-level perceptual features. The layout
the official mid-level code reads (shreyanc/midlevel_general, ``paths.py``)::

    <root>/metadata_annotations/annotations.csv   first column the song id, then 7 ratings
    <root>/metadata_annotations/metadata.csv      ';'-separated; 'song id', 'Artist', 'Source', …
    <root>/audio/<song id>.mp3

Rating columns are matched by name ignoring case, spaces and underscores, with the
aliases below (e.g. ``melody`` → melodiousness, ``modality`` → minorness), and returned
in the model's output order :data:`emolib.data.taxonomies.MIDLEVEL_NAMES`. The split
holds out whole artists (the official split tests on artists with a single clip).

Notebook: 03_chowdhury2023 (``data_root`` path).
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from emolib.data.files import DataError, is_missing, read_csv
from emolib.data.splits import group_split
from emolib.data.taxonomies import MIDLEVEL_NAMES

__all__ = ["COLUMN_ALIASES", "read_midlevel_annotations", "load_midlevel_dataset"]

log = logging.getLogger(__name__)

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


#: normalised column name → feature name (the first alias listed wins)
_BY_ALIAS = {_norm(a): name for name, aliases in COLUMN_ALIASES.items() for a in aliases}


def read_midlevel_annotations(csv_path: str | Path) -> pd.DataFrame:
    """``clip_id`` + the 7 features (model order) from an ``annotations.csv``.

    The first column is the clip id (unique); rating columns are matched through
    :data:`COLUMN_ALIASES`. An absent file → ``FileNotFoundError``; an empty or
    header-only file, bytes that are not UTF-8, a missing feature column, a duplicated
    clip id, or a missing / non-numeric rating → :class:`~emolib.data.files.DataError`
    naming the file (and column and line).

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    path = Path(csv_path)
    header: list[str] = []

    def canonical(col: str) -> str:  # file column → feature name (first column kept)
        header.append(col)
        return _BY_ALIAS.get(_norm(col), col) if len(header) > 1 else col

    df = read_csv(path, what="mid-level annotations file", rename=canonical,
                  numeric_columns=MIDLEVEL_NAMES, id_column=0)
    missing = [m for m in MIDLEVEL_NAMES if m not in df.columns]
    if missing:
        raise DataError(f"{path.absolute()}: no column for {missing}; accepted names "
                        f"{ {m: COLUMN_ALIASES[m] for m in missing} }, found {header}")
    out = pd.DataFrame({"clip_id": df[df.columns[0]].astype(str).str.strip().to_numpy()})
    for name in MIDLEVEL_NAMES:
        out[name] = df[name].astype(float).to_numpy()
    return out


def load_midlevel_dataset(root: str | Path, *, check_audio: bool = True, seed: int = 0,
                          fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> pd.DataFrame:
    """The mid-level dataset as the world's ``midlevel`` table.

    Columns: ``clip_id, audio_path``, the 7 features, ``artist`` (when metadata.csv is
    present, else the clip id) and ``split`` (whole artists per split,
    :func:`emolib.data.splits.group_split`). ``check_audio`` → ``FileNotFoundError``
    naming the first missing clips and the audio folder. Clips without an artist in the
    metadata form their own group. A malformed ``metadata.csv`` (``;``-separated, columns
    ``song id`` and ``Artist``) →
    :class:`~emolib.data.files.DataError` naming the file.

    Notebook: 03_chowdhury2023 (``data_root`` path).
    """
    root = Path(root)
    ann_dir = root / "metadata_annotations"
    table = read_midlevel_annotations(ann_dir / "annotations.csv")
    table.insert(1, "audio_path", [str(root / "audio" / f"{cid}.mp3") for cid in table.clip_id])
    if check_audio:
        absent = [p for p in table.audio_path if not Path(p).is_file()]
        if absent:
            raise FileNotFoundError(
                f"mid-level dataset audio missing: {absent[0]} ({len(absent)} of {len(table)} "
                f"clips have no <song id>.mp3 in {(root / 'audio').absolute()}; first: "
                f"{[Path(a).name for a in absent[:5]]})")
    meta_path = ann_dir / "metadata.csv"
    if meta_path.exists():
        meta = read_csv(meta_path, what="mid-level metadata file", sep=";",
                        required_columns=("song id", "Artist"), id_column="song id",
                        allow_missing=("Artist",))
        known = ~is_missing(meta["Artist"])
        if not known.all():
            log.warning("%s: %d clips without an artist; each is its own group in the split",
                        meta_path, int((~known).sum()))
        artist = dict(zip(meta["song id"][known].astype(str).str.strip(),
                          meta["Artist"][known].astype(str)))
        table["artist"] = [artist.get(c, c) for c in table.clip_id]
    else:
        table["artist"] = table.clip_id
    table["split"] = group_split(table["artist"].tolist(), fractions=fractions, seed=seed)
    log.info("mid-level dataset: %d clips from %s", len(table), root)
    return table
