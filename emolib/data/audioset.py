"""Reader for the AudioSet mood subset (Gemmeke et al. 2017), as used by Won 2021 and Emo-CLIM.

Published layout::

    class_labels_indices.csv          index,mid,display_name (header line optional)
    {balanced_train,unbalanced_train,eval}_segments.csv
        3 comment lines (# ...), then: YTID, start_seconds, end_seconds, "mid1,mid2,..."

The seven music-mood classes are /t/dd00031 … /t/dd00037 (Happy, Funny, Sad, Tender,
Exciting, Angry, Scary music). A clip belongs to the mood subset when it carries
**exactly one** of them (Emo-CLIM: 13,713 clips over the three segment files).

Audio is not distributed with AudioSet; users download it themselves. :func:`find_audio`
looks clips up by YTID under ``data_root`` (recursively), accepting the usual file names
``<YTID>.<ext>``, ``Y<YTID>.<ext>`` (PANNs) and ``<YTID>_<start>[...].<ext>``.

Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from emolib.data.files import check_split_ids, read_csv
from emolib.data.splits import sklearn_stratified_split, stratified_split

__all__ = ["MOOD_MIDS", "AUDIO_EXTENSIONS", "read_ontology", "mood_mids", "read_segments",
           "mood_subset", "audio_index", "find_audio", "load_audioset_mood"]

log = logging.getLogger(__name__)

#: AudioSet ontology ids of the 7 music moods → our (AudioSet-mood taxonomy) labels.
MOOD_MIDS = {"/t/dd00031": "happy", "/t/dd00032": "funny", "/t/dd00033": "sad",
             "/t/dd00034": "tender", "/t/dd00035": "exciting", "/t/dd00036": "angry",
             "/t/dd00037": "scary"}
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".webm")
_SEGMENT_COLUMNS = ("ytid", "start", "end", "positive_labels")


def read_ontology(path: str | Path) -> pd.DataFrame:
    """``class_labels_indices.csv`` → DataFrame[index, mid, display_name] (header optional).

    An absent file → ``FileNotFoundError``; an empty file, a row without three fields, a
    non-integer index or a duplicated mid → :class:`~emolib.data.files.DataError` naming the
    file and line.

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    names = ("index", "mid", "display_name")
    return read_csv(path, what="AudioSet class index", header="optional", names=names,
                    required_columns=names, int_columns=("index",), id_column="mid")


def mood_mids(ontology: pd.DataFrame) -> dict[str, str]:
    """The 7 mood ids found by display name ("Happy music" → happy) in an ontology table.

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    names = {f"{lab.capitalize()} music": lab for lab in MOOD_MIDS.values()}
    found = {r.mid: names[r.display_name] for r in ontology.itertuples() if r.display_name in names}
    if len(found) != 7:
        raise ValueError(f"ontology lists {len(found)} of the 7 '<Mood> music' classes: "
                         f"{sorted(found.values())}")
    return found


def _read_segments(path: Path) -> pd.DataFrame:
    df = read_csv(path, what="AudioSet segments file", header=False, names=_SEGMENT_COLUMNS,
                  comment="#", skipinitialspace=True, required_columns=_SEGMENT_COLUMNS,
                  numeric_columns=("start", "end"), allow_missing=("positive_labels",),
                  id_column="ytid", line_column="_line")
    df["mids"] = [tuple(m for m in ms.split(",") if m) for ms in df.pop("positive_labels")]
    return df[["ytid", "start", "end", "mids", "_line"]]


def read_segments(path: str | Path) -> pd.DataFrame:
    """A segments CSV → DataFrame[ytid, start, end, mids (tuple of str)].

    Comment lines (``#``) are skipped. An absent file → ``FileNotFoundError``; a file
    without segments, a row without the four fields ``YTID, start, end, "labels"``,
    non-numeric start/end or a YTID listed twice → :class:`~emolib.data.files.DataError`
    naming the file and line.

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    return _read_segments(Path(path)).drop(columns="_line")


def mood_subset(segments: pd.DataFrame, mids: dict[str, str] | None = None) -> pd.DataFrame:
    """Keep clips with exactly one mood label → adds column ``label`` (audioset taxonomy).

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    mids = mids or MOOD_MIDS
    moods = segments["mids"].map(lambda ms: [mids[m] for m in ms if m in mids])
    keep = moods.map(len) == 1
    out = segments[keep].copy()
    out["label"] = moods[keep].map(lambda m: m[0])
    return out.reset_index(drop=True)


def _ytid_of(stem: str) -> str | None:
    """The YTID a file stem names: ``<YTID>``, ``Y<YTID>``, ``[Y]<YTID>_<start>...``.

    YouTube ids are 11 characters (letters, digits, '-', '_')."""
    if len(stem) == 11:
        return stem
    if stem.startswith("Y") and (len(stem) == 12 or (len(stem) > 12 and stem[12] == "_")):
        return stem[1:12]
    if len(stem) > 11 and stem[11] == "_":
        return stem[:11]
    return None


def audio_index(data_root: str | Path, extensions: tuple[str, ...] = AUDIO_EXTENSIONS
                ) -> dict[str, Path]:
    """Map YTID → audio file for every audio file under ``data_root`` (recursive, sorted).

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    root = Path(data_root)
    if not root.is_dir():
        raise FileNotFoundError(f"AudioSet audio folder not found: {root.absolute()}")
    index: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in extensions:
            ytid = _ytid_of(p.stem)
            if ytid is not None:
                index.setdefault(ytid, p)
    return index


def find_audio(ytid: str, index: dict[str, Path]) -> Path | None:
    """The audio file of a clip in an :func:`audio_index`, or None.

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    return index.get(ytid)


def _official_split(df: pd.DataFrame, fractions: tuple[float, ...], seed: int) -> np.ndarray:
    """AudioSet's split: eval_segments -> test; the training files' clips -> train / val
    (stratified, the last of ``fractions`` relative to the first being val)."""
    if len(fractions) < 2:
        raise ValueError(f"split='official' needs fractions (train, val) or (train, val, test), "
                         f"got {fractions!r}")
    out = np.full(len(df), "test", dtype=object)
    train = (df["source"] != "eval_segments").to_numpy()
    if train.any():
        tr, va = float(fractions[0]), float(fractions[1])
        two = stratified_split(df["label"].to_numpy()[train], (tr / (tr + va), va / (tr + va)),
                               seed)  # named train / test by the splitter: the second is val
        out[train] = np.where(two == "train", "train", "val")
    return out


def load_audioset_mood(meta_root: str | Path, audio_root: str | Path | None = None,
                       files: tuple[str, ...] = ("balanced_train_segments.csv",
                                                 "unbalanced_train_segments.csv",
                                                 "eval_segments.csv"),
                       on_missing: str = "error", fractions: tuple[float, ...] = (0.8, 0.1, 0.1),
                       seed: int = 42, split: str = "sklearn") -> pd.DataFrame:
    """The mood subset → DataFrame[item_id, ytid, start, end, label, source, audio_path, split].

    Reads the segment files present in ``meta_root`` (at least one must exist) and, if
    ``class_labels_indices.csv`` is there, checks the mood ids against it. Clips listed in
    several files are kept once (a clip with different mood labels in two files →
    :class:`~emolib.data.files.DataError` naming both). With ``audio_root``, audio paths
    are looked up by YTID; ``on_missing="error"`` raises ``FileNotFoundError`` naming the
    missing YTIDs, ``"drop"`` drops them with a warning — and raises
    ``FileNotFoundError`` saying how many clips and where it looked when no clip has audio.

    The split is drawn over the *whole* mood subset, before clips without audio are dropped,
    so a clip's split does not depend on which other clips a user could download:
    ``split="sklearn"`` (default) is Emo-CLIM's scikit-learn call sequence, stratified
    ``fractions`` (80/10/10) with ``random_state=seed`` (42), as for DeepEmotion
    (:func:`emolib.data.splits.sklearn_stratified_split`); ``split="stratified"`` is the
    library's exact-proportion :func:`emolib.data.splits.stratified_split` (any number of
    fractions); ``split="official"`` is AudioSet's own: the clips of ``eval_segments.csv``
    are the test split (540 mood clips, Won et al. 2021 §4) and the training files' clips are
    divided into train and val by :func:`~emolib.data.splits.stratified_split` with the
    *last* fraction as val (``fractions`` (0.9, 0.1), say; with three fractions the train and
    val shares are renormalised).

    Notebooks: 01_won2021, 02_emoclim2024 (real-data path).
    """
    meta_root = Path(meta_root)
    if on_missing not in ("error", "drop"):
        raise ValueError(f"on_missing must be 'error' or 'drop', got {on_missing!r}")
    if split not in ("sklearn", "stratified", "official"):
        raise ValueError(f"split must be 'sklearn', 'stratified' or 'official', got {split!r}")
    mids = MOOD_MIDS
    onto = meta_root / "class_labels_indices.csv"
    if onto.is_file():
        mids = mood_mids(read_ontology(onto))
    frames = []
    for name in files:
        p = meta_root / name
        if p.is_file():
            frames.append((p, mood_subset(_read_segments(p), mids).assign(source=p.stem)))
    if not frames:
        raise FileNotFoundError(f"none of {list(files)} found in {meta_root.absolute()}")
    check_split_ids(frames, "ytid", label_column="label", line_column="_line",
                    allow_repeats=True, what="AudioSet segment files")
    df = (pd.concat([f for _, f in frames], ignore_index=True).drop(columns="_line")
          .drop_duplicates("ytid").reset_index(drop=True))
    df.insert(0, "item_id", "as_" + df["ytid"])
    if audio_root is not None:
        index = audio_index(audio_root)
        paths = [find_audio(y, index) for y in df["ytid"]]
        missing = [y for y, p in zip(df["ytid"], paths) if p is None]
        where = Path(audio_root).absolute()
        if missing and on_missing == "error":
            raise FileNotFoundError(f"{len(missing)} of {len(df)} mood clips have no audio file "
                                    f"under {where} (first: {missing[:5]}); pass "
                                    "on_missing='drop' to skip them")
        if missing and len(missing) == len(df):
            raise FileNotFoundError(
                f"on_missing='drop' would drop all {len(df)} mood clips: none has an audio file "
                f"under {where} (searched recursively for <YTID>, Y<YTID> or <YTID>_<start>... "
                f"with extensions {'/'.join(AUDIO_EXTENSIONS)}; found {len(index)} such "
                f"file(s), none of a listed clip; first missing: {missing[:5]})")
        if missing:
            log.warning("dropping %d of %d mood clips without audio under %s", len(missing),
                        len(df), where)
        df["audio_path"] = [str(p) if p else None for p in paths]
    else:
        df["audio_path"] = None
    labels = df["label"].to_numpy()  # split first, then drop clips without audio
    if split == "official":
        df["split"] = _official_split(df, fractions, seed)
    else:
        df["split"] = (sklearn_stratified_split(labels, seed, tuple(fractions))
                       if split == "sklearn" else stratified_split(labels, fractions, seed))
    if audio_root is not None:
        df = df[df["audio_path"].notna()].reset_index(drop=True)
    cols = [c for c in df.columns if c not in ("mids", "split")] + ["split"]
    return df[cols]
