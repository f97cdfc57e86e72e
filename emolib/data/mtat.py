"""Reader for MagnaTagATune (Law et al. 2009) with the top-50 tags and published splits.

Published layout (nothing is downloaded here)::

    <root>/annotations_final.csv   tab-separated, quoted: clip_id, 188 tag columns (0/1), mp3_path
    <root>/<d>/<name>.mp3           audio (16 folders 0-9, a-f); a decoded .wav beside it is preferred

Two published split conventions for the top-50 tagging benchmark:

* ``split="won"`` — Won et al.'s ``split/mtat/{train,valid,test}.npy`` (unicode arrays of
  ``"<row>\\t<mp3_path>"``), ``tags.npy`` (the 50 tag names) and ``binary.npy`` (rows ×
  50 0/1); the split of Lee et al. 2017 used by Won et al. (SMC 2020) and Emo-CLIM.
  Without ``binary.npy``/``tags.npy`` the tags come from ``annotations_final.csv``.
* ``split="pons"`` — Pons et al.'s ``index_mtt.tsv`` (``clip_id\\tpath``) and
  ``{train,val,test}_gt_mtt.tsv`` (``clip_id\\t[0, 1, ...]``), used by Emo-CLIM's loader.

``.npy`` files are read with ``allow_pickle=False`` and list literals with ``json`` —
never pickle or ``eval`` on data files.

Notebook: 02_emoclim2024.ipynb (tagging transfer on real data).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_annotations", "top_tags", "read_split_npy", "load_mtat", "MTAT_SPLITS"]

log = logging.getLogger(__name__)

#: Our split names for the files of each convention.
MTAT_SPLITS = {"won": {"train": "train.npy", "val": "valid.npy", "test": "test.npy"},
               "pons": {"train": "train_gt_mtt.tsv", "val": "val_gt_mtt.tsv",
                        "test": "test_gt_mtt.tsv"}}


def read_annotations(path: str | Path) -> pd.DataFrame:
    """Parse ``annotations_final.csv`` → DataFrame[clip_id, <188 tags as int>, mp3_path]."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MagnaTagATune annotations not found: {path}")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    for col in ("clip_id", "mp3_path"):
        if col not in df.columns:
            raise ValueError(f"{path}: expected a tab-separated file with columns clip_id, "
                             f"<tags>, mp3_path; missing {col!r} (got {list(df.columns)[:5]}...)")
    tags = [c for c in df.columns if c not in ("clip_id", "mp3_path")]
    try:
        df["clip_id"] = df["clip_id"].astype(int)
        df[tags] = df[tags].astype(int)
    except ValueError as exc:
        raise ValueError(f"{path}: clip_id and tag columns must be integers: {exc}") from exc
    return df


def top_tags(annotations: pd.DataFrame, n: int = 50) -> list[str]:
    """The ``n`` most frequent tags (ties keep the file's column order)."""
    tags = [c for c in annotations.columns if c not in ("clip_id", "mp3_path")]
    counts = annotations[tags].sum(axis=0)
    order = sorted(range(len(tags)), key=lambda i: (-int(counts.iloc[i]), i))
    return [tags[i] for i in order[:n]]


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path} holds Python objects; it must be a plain numeric or unicode "
                         f"array (emolib never unpickles data files): {exc}") from exc


def read_split_npy(path: str | Path) -> pd.DataFrame:
    """Won's split list (``"<row>\\t<mp3_path>"`` strings) → DataFrame[row, mp3_path]."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MagnaTagATune split file not found: {path}")
    arr = _load_npy(path)
    rows = []
    for s in arr.tolist():
        parts = str(s).split("\t")
        if len(parts) != 2 or not parts[0].strip().isdigit():
            raise ValueError(f"{path}: expected entries '<row>\\t<mp3_path>', got {s!r}")
        rows.append({"row": int(parts[0]), "mp3_path": parts[1]})
    return pd.DataFrame(rows, columns=["row", "mp3_path"])


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
    df = pd.concat(parts, ignore_index=True)
    if (root / "binary.npy").is_file() and (root / "tags.npy").is_file():
        vocab = [str(t) for t in _load_npy(root / "tags.npy").tolist()]
        binary = _load_npy(root / "binary.npy")
        if binary.ndim != 2 or binary.shape[1] != len(vocab):
            raise ValueError(f"{root / 'binary.npy'}: expected shape (rows, {len(vocab)}), "
                             f"got {binary.shape}")
        if df["row"].max() >= len(binary):
            raise ValueError(f"split lists index row {df['row'].max()} but binary.npy has "
                             f"{len(binary)} rows")
        df["tags"] = _tags_of(binary[df["row"].to_numpy()], vocab)
    else:
        ann = read_annotations(root / "annotations_final.csv")
        vocab = top_tags(ann, n_tags)
        by_path = ann.set_index("mp3_path")
        missing = sorted(set(df["mp3_path"]) - set(by_path.index))
        if missing:
            raise ValueError(f"{len(missing)} split entries are not in annotations_final.csv, "
                             f"e.g. {missing[:3]}")
        df["tags"] = _tags_of(by_path.loc[df["mp3_path"], vocab].to_numpy(), vocab)
    return df, vocab


def _load_pons(root: Path, n_tags: int) -> tuple[pd.DataFrame, list[str]]:
    index = pd.read_csv(root / "index_mtt.tsv", sep="\t", header=None, names=["clip_id", "mp3_path"],
                        dtype={"clip_id": int, "mp3_path": str})
    paths = dict(zip(index["clip_id"], index["mp3_path"]))
    ann_path = root / "annotations_final.csv"
    vocab = top_tags(read_annotations(ann_path), n_tags) if ann_path.is_file() else \
        [f"tag{j:02d}" for j in range(n_tags)]
    rows = []
    for split, fname in MTAT_SPLITS["pons"].items():
        f = root / fname
        if not f.is_file():
            raise FileNotFoundError(f"MagnaTagATune split file not found: {f}")
        for ln, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                cid, lab = line.split("\t", 1)
                vec = json.loads(lab)
            except ValueError as exc:
                raise ValueError(f"{f}:{ln}: expected '<clip_id>\\t[0, 1, ...]', got {line[:60]!r}") from exc
            if len(vec) != len(vocab):
                raise ValueError(f"{f}:{ln}: {len(vec)} tag values, expected {len(vocab)}")
            cid = int(cid)
            if cid not in paths:
                raise ValueError(f"{f}:{ln}: clip_id {cid} is not in index_mtt.tsv")
            rows.append({"clip_id": cid, "mp3_path": paths[cid], "split": split,
                         "tags": [vocab[j] for j, v in enumerate(vec) if int(v)]})
    return pd.DataFrame(rows), vocab


def load_mtat(root: str | Path, split: str = "won", n_tags: int = 50,
              audio_ext: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """MagnaTagATune top-``n_tags`` with a published split.

    Returns ``(clips, tag_vocab)``: ``clips`` has columns item_id, mp3_path, audio_path
    (the decoded ``.wav`` beside the mp3 when it exists, else the mp3; ``audio_ext`` forces
    an extension), split (train/val/test) and tags (list of str) — the same columns the
    emotion world's music table uses for tagging.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MagnaTagATune root {root} is not a directory")
    if split not in MTAT_SPLITS:
        raise ValueError(f"split must be one of {sorted(MTAT_SPLITS)}, got {split!r}")
    df, vocab = (_load_won if split == "won" else _load_pons)(root, n_tags)
    df["item_id"] = df["mp3_path"]
    df["audio_path"] = [_audio_path(root, p, audio_ext) for p in df["mp3_path"]]
    log.info("MagnaTagATune (%s split): %s", split, df["split"].value_counts().to_dict())
    return df[["item_id", "mp3_path", "audio_path", "split", "tags"]], vocab
