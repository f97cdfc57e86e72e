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

import logging
from pathlib import Path

import pandas as pd

from emolib.data.files import DataError, read_csv

__all__ = ["read_maestro", "MAESTRO_COLUMNS"]

log = logging.getLogger(__name__)

MAESTRO_COLUMNS = ("canonical_composer", "canonical_title", "split", "year", "midi_filename",
                   "audio_filename", "duration")
_SPLITS = ("train", "validation", "test")


def read_maestro(root: str | Path, csv_name: str | None = None, *, check_files: bool = True,
                 splits: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Parse the MAESTRO metadata CSV under ``root`` (the newest ``maestro-v*.csv`` unless
    ``csv_name`` is given) -> DataFrame[item_id, audio_path, midi_path, split, composer,
    title, year, duration]. ``check_files`` raises ``FileNotFoundError`` naming the first
    missing MIDI/audio file; ``splits`` keeps only those splits (names after renaming).

    A malformed CSV (empty, header only, not UTF-8, missing columns or values, a
    non-integer ``year``, a non-numeric ``duration``, an unknown ``split``, a MIDI file
    listed twice) raises :class:`~emolib.data.files.DataError` naming the file and line.

    Notebook: 04_zhu2023 (real-data path: pre-training the transcriber and symbolic encoder).
    """
    root = Path(root)
    if csv_name is None:
        found = sorted(root.glob("maestro-v*.csv"))
        if not found:
            raise FileNotFoundError(f"no maestro-v*.csv metadata file in {root.absolute()}")
        path = found[-1]
    else:
        path = root / csv_name
    df = read_csv(path, what="MAESTRO metadata file", required_columns=MAESTRO_COLUMNS,
                  int_columns=("year",), numeric_columns=("duration",),
                  id_column="midi_filename", line_column="_line")
    bad = ~df["split"].isin(_SPLITS)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise DataError(f"{path.absolute()}: line {df['_line'].iloc[i]}, column 'split': unknown "
                        f"split {df['split'].iloc[i]!r} ({int(bad.sum())} such row(s)); expected "
                        f"one of {list(_SPLITS)}")
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
            absent = [p for p in out[col] if not Path(p).is_file()]
            if absent:
                raise FileNotFoundError(
                    f"MAESTRO {col.split('_')[0]} file listed in {path.absolute()} not found: "
                    f"{absent[0]} ({len(absent)} of {len(out)} missing under {root.absolute()})")
    log.info("MAESTRO: %d performances from %s", len(out), path)
    return out
