"""Reader for MagnaTagATune (Law et al. 2009) with the top-50 tags and published splits.

Published layout (nothing is downloaded here)::

    <root>/annotations_final.csv   tab-separated, quoted: clip_id, 188 tag columns (0/1), mp3_path
    <root>/<d>/<name>.mp3           audio (16 folders 0-9, a-f); a decoded .wav beside it
                                    is preferred

Two published split conventions for the top-50 tagging benchmark:

* ``split="won"`` — Won et al.'s ``split/mtat/{train,valid,test}.npy`` (unicode arrays of
  ``"<row>\\t<mp3_path>"``), ``tags.npy`` (the 50 tag names) and ``binary.npy`` (rows ×
  50 0/1); the split of Lee et al. 2017 used by Won et al. (SMC 2020) and Emo-CLIM.
  Without ``binary.npy``/``tags.npy`` the tags come from ``annotations_final.csv``.
* ``split="pons"`` — Pons et al.'s ``index_mtt.tsv`` (``clip_id\\tpath``) and
  ``{train,val,test}_gt_mtt.tsv`` (``clip_id\\t[0, 1, ...]``), used by Emo-CLIM's loader.

``.npy`` files are read with ``allow_pickle=False`` and list literals with ``json`` —
never pickle or ``eval`` on data files. Malformed files (empty, not UTF-8, missing columns
or values, non-integer ids or tags, a clip listed twice or in two split files) raise
:class:`emolib.data.files.DataError` naming the file (and line); :func:`load_mtat` checks
that the audio files exist.

Notebook: 02_emoclim2024.ipynb (tagging transfer on real data).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from emolib.data.files import DataError, check_split_ids, read_csv

__all__ = ["read_annotations", "top_tags", "read_split_npy", "load_mtat", "MTAT_SPLITS"]

log = logging.getLogger(__name__)

#: Our split names for the files of each convention.
MTAT_SPLITS = {"won": {"train": "train.npy", "val": "valid.npy", "test": "test.npy"},
               "pons": {"train": "train_gt_mtt.tsv", "val": "val_gt_mtt.tsv",
                        "test": "test_gt_mtt.tsv"}}


def read_annotations(path: str | Path) -> pd.DataFrame:
    """Parse ``annotations_final.csv`` → DataFrame[clip_id, <188 tags as int>, mp3_path].

    Tab-separated, quoted. An absent file → ``FileNotFoundError``; an empty or header-only
    file, missing ``clip_id``/``mp3_path`` columns, a missing or non-integer clip id or tag
    value, or a duplicated clip id → :class:`~emolib.data.files.DataError` naming the file,
    column and line.

    Notebook: 02_emoclim2024 (real-data path).
    """
    return read_csv(path, what="MagnaTagATune annotations file", sep="\t",
                    required_columns=("clip_id", "mp3_path"),
                    int_columns=lambda c: c != "mp3_path", id_column="clip_id")


def top_tags(annotations: pd.DataFrame, n: int = 50) -> list[str]:
    """The ``n`` most frequent tags (ties keep the file's column order).

    Notebook: 02_emoclim2024 (real-data path).
    """
    tags = [c for c in annotations.columns if c not in ("clip_id", "mp3_path")]
    counts = annotations[tags].sum(axis=0)
    order = sorted(range(len(tags)), key=lambda i: (-int(counts.iloc[i]), i))
    return [tags[i] for i in order[:n]]


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path.absolute()} holds Python objects; it must be a plain numeric or "
                        f"unicode array (emolib never unpickles data files): {exc}") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path.absolute()}: not a readable .npy file ({exc})") from exc


def read_split_npy(path: str | Path) -> pd.DataFrame:
    """Won's split list (``"<row>\\t<mp3_path>"`` strings) → DataFrame[row, mp3_path].

    An empty list, an entry of another form, or an mp3 path listed twice →
    :class:`~emolib.data.files.DataError` naming the file (and entry).

    Notebook: 02_emoclim2024 (real-data path).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MagnaTagATune split file not found: {path.absolute()}")
    arr = _load_npy(path)
    if arr.size == 0:
        raise DataError(f"{path.absolute()}: the split list is empty; expected entries "
                        "'<row>\\t<mp3_path>'")
    rows = []
    for k, s in enumerate(arr.reshape(-1).tolist()):
        parts = str(s).split("\t")
        if len(parts) != 2 or not parts[0].strip().isdigit() or not parts[1].strip():
            raise DataError(f"{path.absolute()}: entry {k}: expected '<row>\\t<mp3_path>', "
                            f"got {s!r}")
        rows.append({"row": int(parts[0]), "mp3_path": parts[1]})
    df = pd.DataFrame(rows, columns=["row", "mp3_path"])
    dup = df["mp3_path"].duplicated(keep=False)
    if dup.any():
        first = df["mp3_path"][dup].iloc[0]
        at = df.index[df["mp3_path"] == first].tolist()
        raise DataError(f"{path.absolute()}: mp3_path {first!r} appears in entries {at}; "
                        "IDs must be unique")
    return df


def _audio_path(root: Path, mp3: str, audio_ext: str | None) -> str:
    p = root / mp3
    if audio_ext is not None:
        return str(p.with_suffix(audio_ext))
    wav = p.with_suffix(".wav")
    return str(wav if wav.exists() else p)


def _tags_of(binary_rows: np.ndarray, vocab: list[str]) -> list[list[str]]:
    return [[vocab[j] for j in np.flatnonzero(r)] for r in binary_rows]


def _load_won(root: Path, n_tags: int) -> tuple[pd.DataFrame, list[str]]:
    parts = []
    for split, fname in MTAT_SPLITS["won"].items():
        df = read_split_npy(root / fname)
        df["split"] = split
        parts.append(df)
    check_split_ids([(root / f, d) for f, d in zip(MTAT_SPLITS["won"].values(), parts)],
                    "mp3_path", what="MagnaTagATune split files")
    df = pd.concat(parts, ignore_index=True)
    if (root / "binary.npy").is_file() and (root / "tags.npy").is_file():
        vocab = [str(t) for t in _load_npy(root / "tags.npy").tolist()]
        binary = _load_npy(root / "binary.npy")
        if binary.ndim != 2 or binary.shape[1] != len(vocab):
            raise DataError(f"{(root / 'binary.npy').absolute()}: expected shape "
                            f"(rows, {len(vocab)}) for the {len(vocab)} tags of tags.npy, "
                            f"got {binary.shape}")
        if df["row"].max() >= len(binary):
            raise DataError(f"{root.absolute()}: the split lists index row {df['row'].max()} "
                            f"but binary.npy has {len(binary)} rows")
        df["tags"] = _tags_of(binary[df["row"].to_numpy()], vocab)
    else:
        ann = read_annotations(root / "annotations_final.csv")
        vocab = top_tags(ann, n_tags)
        by_path = ann.drop_duplicates("mp3_path").set_index("mp3_path")
        missing = sorted(set(df["mp3_path"]) - set(by_path.index))
        if missing:
            raise DataError(f"{len(missing)} split entries are not in "
                            f"{(root / 'annotations_final.csv').absolute()}, e.g. {missing[:3]}")
        df["tags"] = _tags_of(by_path.loc[df["mp3_path"], vocab].to_numpy(), vocab)
    return df, vocab


def _load_pons(root: Path, n_tags: int) -> tuple[pd.DataFrame, list[str]]:
    index = read_csv(root / "index_mtt.tsv", what="MagnaTagATune index file",
                     sep="\t", header=False, names=("clip_id", "mp3_path"),
                     required_columns=("clip_id", "mp3_path"), int_columns=("clip_id",),
                     id_column="clip_id")
    paths = dict(zip(index["clip_id"], index["mp3_path"]))
    ann_path = root / "annotations_final.csv"
    vocab = top_tags(read_annotations(ann_path), n_tags) if ann_path.is_file() else \
        [f"tag{j:02d}" for j in range(n_tags)]
    rows, tables = [], []
    for split, fname in MTAT_SPLITS["pons"].items():
        f = root / fname
        gt = read_csv(f, what="MagnaTagATune split file", sep="\t",
                      header=False, names=("clip_id", "tags"),
                      required_columns=("clip_id", "tags"), int_columns=("clip_id",),
                      id_column="clip_id", min_rows=0, line_column="_line")
        vecs = []
        for cid, lab, ln in zip(gt["clip_id"], gt["tags"], gt["_line"]):
            try:
                vec = json.loads(lab)
                vec = [int(v) for v in vec]
            except (ValueError, TypeError) as exc:
                raise DataError(f"{f.absolute()}: line {ln}, column 2: expected a list "
                                f"'[0, 1, ...]', got {lab[:60]!r}") from exc
            if len(vec) != len(vocab):
                raise DataError(f"{f.absolute()}: line {ln}: {len(vec)} tag values, expected "
                                f"{len(vocab)}")
            if cid not in paths:
                raise DataError(f"{f.absolute()}: line {ln}: clip_id {cid} is not in "
                                f"{(root / 'index_mtt.tsv').absolute()}")
            vecs.append(tuple(vec))
            rows.append({"clip_id": cid, "mp3_path": paths[cid], "split": split,
                         "tags": [vocab[j] for j, v in enumerate(vec) if v]})
        tables.append((f, gt.assign(tags=vecs)))
    check_split_ids(tables, "clip_id", label_column="tags", line_column="_line",
                    what="MagnaTagATune split files")
    return pd.DataFrame(rows, columns=["clip_id", "mp3_path", "split", "tags"]), vocab


def load_mtat(root: str | Path, split: str = "won", n_tags: int = 50,
              audio_ext: str | None = None, on_missing: str = "error"
              ) -> tuple[pd.DataFrame, list[str]]:
    """MagnaTagATune top-``n_tags`` with a published split.

    Returns ``(clips, tag_vocab)``: ``clips`` has columns item_id, mp3_path, audio_path
    (the decoded ``.wav`` beside the mp3 when it exists, else the mp3; ``audio_ext`` forces
    an extension), split (train/val/test) and tags (list of str) — the same columns the
    emotion world's music table uses for tagging.

    Audio files must exist: ``on_missing="error"`` (default) raises ``FileNotFoundError``
    naming the first missing files and the folder; ``"drop"`` drops those clips with a
    warning (``FileNotFoundError`` when that drops every clip); ``"ignore"`` does not look
    (metadata only).

    Notebook: 02_emoclim2024 (real-data path).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MagnaTagATune root {root.absolute()} is not a directory")
    if split not in MTAT_SPLITS:
        raise ValueError(f"split must be one of {sorted(MTAT_SPLITS)}, got {split!r}")
    if on_missing not in ("error", "drop", "ignore"):
        raise ValueError(f"on_missing must be 'error', 'drop' or 'ignore', got {on_missing!r}")
    df, vocab = (_load_won if split == "won" else _load_pons)(root, n_tags)
    df["item_id"] = df["mp3_path"]
    df["audio_path"] = [_audio_path(root, p, audio_ext) for p in df["mp3_path"]]
    if on_missing != "ignore":
        absent = ~df["audio_path"].map(lambda p: Path(p).is_file())
        if absent.any():
            first = [os.path.relpath(p, root) for p in df.loc[absent, "audio_path"].head(5)]
            n, where = int(absent.sum()), f"{root.absolute()}"
            if on_missing == "error" or absent.all():
                raise FileNotFoundError(
                    f"{n} of {len(df)} MagnaTagATune audio files not found under {where} "
                    f"(first: {first})" + ("; pass on_missing='drop' to skip them"
                                           if on_missing == "error" else
                                           f"; on_missing='drop' would drop all {n} clips"))
            log.warning("MagnaTagATune: dropping %d of %d clips without audio under %s",
                        n, len(df), where)
            df = df[~absent].reset_index(drop=True)
    log.info("MagnaTagATune (%s split): %s", split, df["split"].value_counts().to_dict())
    return df[["item_id", "mp3_path", "audio_path", "split", "tags"]], vocab
