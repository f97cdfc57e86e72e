"""Reader for ISEAR (Scherer & Wallbott 1994) in its widely used pipe-separated CSV layout.

Published layout (the ``isear.csv`` of the py_isear_dataset copy)::

    ID|CITY|COUN|...|Field1|Field3|Field2|MYKEY|SIT|STATE|     (43 fields, header line)

``Field1`` is the emotion word (anger, disgust, fear, guilt, joy, sadness, shame) and
``SIT`` the situation text. The text was hard-wrapped in the original: a wrap is marked
by the byte sequence for "á" and, in some rows, a literal ``|`` — so a row can have more
than 43 fields and ``SIT`` is everything between ``MYKEY`` and the last two fields.
Copies differ in encoding (UTF-8 or Windows-1252 bytes): each line is decoded as UTF-8
and falls back to cp1252 (then latin-1) when that fails.

Notebook: 01_won2021.ipynb (real-data path).
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from emolib.data.files import DataError
from emolib.data.taxonomies import TAXONOMIES

__all__ = ["read_isear", "decode_line"]

log = logging.getLogger(__name__)


def decode_line(raw: bytes) -> str:
    """Decode one line: UTF-8, else cp1252, else latin-1 (never fails).

    Notebook: 01_won2021 (real-data path).
    """
    for enc in ("utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _clean(text: str) -> str:
    text = text.replace("\u00e1", " ").replace("|", " ")
    return " ".join(text.split()).strip().strip('"').strip()


def read_isear(path: str | Path) -> pd.DataFrame:
    """Parse ``isear.csv`` → DataFrame[item_id, label, text] (one row per situation).

    ``item_id`` is ``"isear_<MYKEY>"``; ``label`` one of the 7 ISEAR emotions. Rows whose
    emotion is not one of them, or that are too short to hold the fields, are skipped with a
    warning. A missing file → ``FileNotFoundError``; an empty file, a header without
    ``Field1``/``MYKEY``/``SIT`` columns, or no valid row →
    :class:`~emolib.data.files.DataError` naming the file.

    Notebook: 01_won2021 (real-data path).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ISEAR file not found: {path.absolute()}")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path.absolute()}: the ISEAR file is empty ({len(raw)} bytes); expected "
                        "a pipe-separated header with Field1, MYKEY and SIT columns, then rows")
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    header = decode_line(lines[0]).strip().split("|")
    for col in ("Field1", "MYKEY", "SIT"):
        if col not in header:
            raise DataError(f"{path.absolute()}: expected a pipe-separated ISEAR header with "
                            f"Field1, MYKEY and SIT columns; missing {col!r} (line 1 starts "
                            f"{header[:4]})")
    i_emo, i_key, i_sit = header.index("Field1"), header.index("MYKEY"), header.index("SIT")
    n_after = len(header) - i_sit - 1  # fields after SIT (STATE and the trailing empty one)
    labels = set(TAXONOMIES["isear"])
    rows, skipped = [], 0
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        fields = decode_line(raw).split("|")
        if len(fields) < len(header) or fields[i_emo].strip() not in labels:
            skipped += 1
            continue
        text = _clean("|".join(fields[i_sit:len(fields) - n_after]))
        rows.append({"item_id": f"isear_{fields[i_key].strip()}", "label": fields[i_emo].strip(),
                     "text": text, "line": lineno})
    if skipped:
        log.warning("%s: skipped %d malformed/unlabelled rows", path, skipped)
    if not rows:
        raise DataError(f"{path.absolute()}: no ISEAR rows with a valid Field1 emotion found "
                        f"({skipped} malformed/unlabelled rows; expected one of "
                        f"{sorted(labels)} in column Field1)")
    df = pd.DataFrame(rows)
    dup = df["item_id"].duplicated(keep=False)
    if dup.any():  # MYKEY is unique in the published file; keep ids unique regardless
        df.loc[dup, "item_id"] = df.loc[dup, "item_id"] + "_l" + df.loc[dup, "line"].astype(str)
    return df.drop(columns="line").reset_index(drop=True)
