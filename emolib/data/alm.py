"""Reader for Alm's affect corpus of fairy tales (Alm 2008), as used by Won et al. 2021.

Published layout (``affectdata``; one folder per author)::

    <root>/{Grimms,HCAndersen,Potter}/emmood/<story>.emmood
    <root>/{Grimms,HCAndersen,Potter}/agree-sent/<story>.agree

* ``.emmood`` — every sentence with the two annotators' labels, tab-separated:
  ``SentID:SentID <TAB> 1emA:1emB <TAB> MoodA:MoodB <TAB> sentence``. Primary-emotion
  codes: A (angry), D (disgusted), F (fearful), H (happy), N (neutral), Sa (sad),
  Su+ / Su- (positively / negatively surprised); mood codes abbreviate Sa→S, Su+→+, Su-→-.
* ``.agree`` — the high-agreement sentences, ``SentID@LabelCode@sentence`` with codes
  2 = angry-disgusted, 3 = fearful, 4 = happy, 6 = sad, 7 = surprised. These 1,207
  sentences with five labels are what Won et al. use (angry, fearful, happy, sad, surprised).

Won et al. split by author: Grimms + HCAndersen train; Potter is used for validation and
test (167 sentences; their code evaluates on the same Potter set). :func:`author_split`
implements that, optionally halving Potter into disjoint val/test.

Notebook: 01_won2021.ipynb (real-data path).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from emolib.data.files import DataError
from emolib.data.splits import stratified_split

__all__ = ["AUTHORS", "AGREE_CODES", "EMMOOD_CODES", "read_agree", "read_emmood", "load_alm",
           "author_split"]

log = logging.getLogger(__name__)

#: Author folders of the corpus.
AUTHORS = ("Grimms", "HCAndersen", "Potter")
#: ``.agree`` label codes → Alm labels of ``TAXONOMIES["alm"]``.
AGREE_CODES = {"2": "angry", "3": "fearful", "4": "happy", "6": "sad", "7": "surprised"}
#: ``.emmood`` primary-emotion / mood codes → Alm labels (neutral → None).
EMMOOD_CODES = {"A": "angry", "D": "angry", "F": "fearful", "H": "happy", "Sa": "sad", "S": "sad",
                "Su+": "surprised", "Su-": "surprised", "+": "surprised", "-": "surprised",
                "N": None}


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"Alm corpus file not found: {path.absolute()}")
    raw = path.read_bytes()
    if not raw.strip():
        log.warning("%s: empty file (no sentences)", path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").split("\n")


def read_agree(path: str | Path) -> pd.DataFrame:
    """Parse one ``.agree`` file → DataFrame[sent_id, label, text].

    A malformed line or an unknown label code → :class:`~emolib.data.files.DataError`
    naming the file and line.

    Notebook: 01_won2021 (real-data path).
    """
    path = Path(path)
    rows = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split("@", 2)
        if len(parts) != 3 or not parts[0].strip().isdigit():
            raise DataError(f"{path.absolute()}: line {lineno}: expected "
                            f"'SentID@LabelCode@sentence', got {line[:60]!r}")
        code = parts[1].strip()
        if code not in AGREE_CODES:
            raise DataError(f"{path.absolute()}: line {lineno}: unknown label code {code!r}; "
                            f"expected one of {sorted(AGREE_CODES)}")
        rows.append({"sent_id": int(parts[0]), "label": AGREE_CODES[code],
                     "text": parts[2].strip()})
    return pd.DataFrame(rows, columns=["sent_id", "label", "text"])


def read_emmood(path: str | Path) -> pd.DataFrame:
    """Parse one ``.emmood`` file → DataFrame[sent_id, emo_a, emo_b, mood_a, mood_b, text].

    Codes are kept as in the file (A, D, F, H, N, Sa, Su+, Su-; moods S, +, -). A malformed
    line → :class:`~emolib.data.files.DataError` naming the file and line.

    Notebook: 01_won2021 (real-data path).
    """
    path = Path(path)
    rows = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split("\t", 3)
        try:
            ids, emo, mood, text = parts
            sid = int(ids.split(":")[0])
            emo_a, emo_b = emo.split(":")
            mood_a, mood_b = mood.split(":")
        except ValueError:
            raise DataError(f"{path.absolute()}: line {lineno}: expected 'SentID:SentID<TAB>"
                            f"1emA:1emB<TAB>MoodA:MoodB<TAB>sentence', got {line[:60]!r}"
                            ) from None
        rows.append({"sent_id": sid, "emo_a": emo_a, "emo_b": emo_b, "mood_a": mood_a,
                     "mood_b": mood_b, "text": text.strip()})
    return pd.DataFrame(rows, columns=["sent_id", "emo_a", "emo_b", "mood_a", "mood_b", "text"])


def load_alm(root: str | Path, source: str = "agree") -> pd.DataFrame:
    """All sentences of the corpus → DataFrame[item_id, author, story, sent_id, label, text].

    ``source="agree"`` (default, Won et al.): the high-agreement ``.agree`` files.
    ``source="emmood"``: sentences whose two annotators agree on a non-neutral primary
    emotion (mapped to the five labels; disgusted → angry, both surprises → surprised).
    Raises ``FileNotFoundError`` naming the folder when no file of that kind exists.

    Notebook: 01_won2021 (real-data path).
    """
    root = Path(root)
    if source not in ("agree", "emmood"):
        raise ValueError(f"source must be 'agree' or 'emmood', got {source!r}")
    sub, ext = ("agree-sent", ".agree") if source == "agree" else ("emmood", ".emmood")
    frames = []
    for author in AUTHORS:
        for f in sorted((root / author / sub).glob(f"*{ext}")):
            df = read_agree(f) if source == "agree" else read_emmood(f)
            if source == "emmood":
                la, lb = df["emo_a"].map(EMMOOD_CODES), df["emo_b"].map(EMMOOD_CODES)
                df = df.assign(label=la)[(la == lb) & la.notna()][["sent_id", "label", "text"]]
            df.insert(0, "story", f.stem)
            df.insert(0, "author", author)
            frames.append(df)
    if not frames:
        raise FileNotFoundError(f"no {ext} files under {root.absolute()}/"
                                f"{{{','.join(AUTHORS)}}}/{sub}/ "
                                "(Alm's affect corpus layout)")
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "item_id", [f"alm_{a}_{s}_{i}" for a, s, i in
                              zip(out["author"], out["story"], out["sent_id"])])
    return out


def author_split(df: pd.DataFrame, test_author: str = "Potter", val_fraction: float | None = None,
                 seed: int = 0, author_col: str = "author") -> np.ndarray:
    """Won et al.'s author-level split → array of "train" / "val" / "test" (and "val+test").

    Sentences of ``test_author`` are held out; all other authors train. With
    ``val_fraction=None`` the held-out sentences serve as validation *and* test, as in the
    paper ("167 sentences by B. Potter were used for validation and test"); they are marked
    "val+test". With a fraction, they are split stratified into disjoint val and test.

    Notebook: 01_won2021 (real-data path).
    """
    if test_author not in set(df[author_col]):
        raise ValueError(f"test_author {test_author!r} not among authors "
                         f"{sorted(set(df[author_col]))}")
    out = np.where(df[author_col] == test_author, "val+test", "train").astype(object)
    if val_fraction is not None:
        held = np.flatnonzero(out == "val+test")
        part = stratified_split(df["label"].to_numpy()[held], (val_fraction, 1 - val_fraction),
                                seed)
        out[held] = np.where(part == "train", "val", "test")
    return out
