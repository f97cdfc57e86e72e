"""Reader for MAESTRO (Hawthorne et al., ICLR 2019), the paired piano audio-MIDI corpus.

Published layout (``maestro-v3.0.0/``, also v2.0.0): a metadata CSV ``maestro-v*.csv``
with columns ``canonical_composer, canonical_title, split, year, midi_filename,
audio_filename, duration`` (file names relative to the root, e.g.
``2018/MIDI-Unprocessed_....midi`` and ``....wav``); ``split`` is train / validation /
test.

:func:`read_maestro` returns the emotion world's ``paired`` columns (item_id, audio_path,
midi_path, split with ``validation`` renamed ``val``) plus composer, title, year, duration.

Notebook: 04_zhu2023 (real-data path: pre-training the transcriber and symbolic encoder).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["read_maestro", "MAESTRO_COLUMNS"]

MAESTRO_COLUMNS = ("canonical_composer", "canonical_title", "split", "year", "midi_filename",
                   "audio_filename", "duration")


def read_maestro(root: str | Path, csv_name: str | None = None, *, check_files: bool = True,
                 splits: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Parse the MAESTRO metadata CSV under ``root`` (the newest ``maestro-v*.csv`` unless
    ``csv_name`` is given) -> DataFrame[item_id, audio_path, midi_path, split, composer,
    title, year, duration]. ``check_files`` raises ``FileNotFoundError`` naming the first
    missing MIDI/audio file; ``splits`` keeps only those splits (names after renaming)."""
    root = Path(root)
    if csv_name is None:
        found = sorted(root.glob("maestro-v*.csv"))
        if not found:
            raise FileNotFoundError(f"no maestro-v*.csv metadata file in {root}")
        path = found[-1]
    else:
        path = root / csv_name
        if not path.is_file():
            raise FileNotFoundError(f"MAESTRO metadata file not found: {path}")
    df = pd.read_csv(path)
    missing_cols = [c for c in MAESTRO_COLUMNS if c not in df.columns]
    if missing_cols:
        raise ValueError(f"{path}: missing MAESTRO columns {missing_cols}")
    bad = sorted(set(df["split"]) - {"train", "validation", "test"})
    if bad:
        raise ValueError(f"{path}: unknown split values {bad} (expected train/validation/test)")
    out = pd.DataFrame({
        "item_id": [Path(m).stem for m in df["midi_filename"]],
        "audio_path": [str((root / a).resolve()) for a in df["audio_filename"]],
        "midi_path": [str((root / m).resolve()) for m in df["midi_filename"]],
        "split": df["split"].replace({"validation": "val"}),
        "composer": df["canonical_composer"], "title": df["canonical_title"],
        "year": df["year"].astype(int), "duration": df["duration"].astype(float)})
    if splits is not None:
        out = out[out["split"].isin(splits)].reset_index(drop=True)
    if check_files:
        for col in ("midi_path", "audio_path"):
            for p in out[col]:
                if not Path(p).is_file():
                    raise FileNotFoundError(f"MAESTRO {col.split('_')[0]} file listed in {path.name} "
                                            f"not found: {p}")
    return out
