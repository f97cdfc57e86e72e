"""Reader for the DeepEmotion / FI image dataset (You et al., AAAI 2016): one folder per emotion.

The published archive (Flickr & Instagram, 23,308 images, 21,829 after the authors'
cleaning as used by Emo-CLIM) is a directory with one sub-folder per emotion::

    <root>/amusement/amusement_0001.jpg
    <root>/anger/...
    ...  (awe, contentment, disgust, excitement, fear, sadness)

:func:`read_image_folders` lists the images (a root that holds a single wrapper folder,
e.g. ``emotion_dataset/``, is accepted too); :func:`load_deepemotion` adds Emo-CLIM's
split: stratified 80/10/10 with ``random_state=42`` (:func:`paper_split`, two stratified
``sklearn.model_selection.train_test_split`` calls as in the authors' preprocessing: 20 %
held out, then halved into validation and test; 21,829 images → 17,463 / 2,183 / 2,183).

Nothing is downloaded; the reader only parses what is on disk. Images are not decoded here
(:func:`emolib.io.load_image`, re-exported here as ``load_image``, does that on demand, as
a float (3, H, W) tensor in [0, 1]).

Notebook: 02_emoclim2024.ipynb.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from emolib.data.splits import sklearn_stratified_split as paper_split  # noqa: F401 (re-export)
from emolib.data.taxonomies import TAXONOMIES
from emolib.io import IMAGE_EXTENSIONS, load_image  # noqa: F401 (re-export: their home is io)

__all__ = ["IMAGE_EXTENSIONS", "read_image_folders", "paper_split", "load_deepemotion",
           "load_image"]

log = logging.getLogger(__name__)

def _label_root(root: Path, labels: Sequence[str]) -> Path:
    """``root`` itself, or its single wrapper sub-folder, whichever holds the label folders."""
    def n_label_dirs(p: Path) -> int:
        return sum((p / lab).is_dir() for lab in labels)

    if n_label_dirs(root) > 0:
        return root
    subdirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    if len(subdirs) == 1 and n_label_dirs(subdirs[0]) > 0:
        return subdirs[0]
    raise FileNotFoundError(
        f"no emotion folders under {root}: expected sub-folders named {list(labels)} "
        f"(one folder per emotion), found {sorted(d.name for d in subdirs)}")


def read_image_folders(root: str | Path, labels: Sequence[str] | None = None,
                       extensions: Sequence[str] = IMAGE_EXTENSIONS,
                       require_all: bool = True) -> pd.DataFrame:
    """List ``<root>/<label>/<file>`` images → DataFrame[item_id, label, image_path].

    ``labels`` defaults to DeepEmotion's 8 emotions. Folder names are matched exactly
    (lower case, as published). Hidden files and non-image files are skipped;
    ``item_id`` is ``<label>/<file name>``; rows are sorted by label order, then file name.
    With ``require_all`` every label must have a non-empty folder.

    Notebook: 02_emoclim2024 (real-data path).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image dataset root {root} is not a directory")
    labels = list(TAXONOMIES["deepemotion"] if labels is None else labels)
    base = _label_root(root, labels)
    exts = {e.lower() for e in extensions}
    rows = []
    for lab in labels:
        folder = base / lab
        files = (sorted(f for f in folder.iterdir()
                        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in exts)
                 if folder.is_dir() else [])
        if not files and require_all:
            raise FileNotFoundError(f"no images for emotion {lab!r} in {folder} "
                                    f"(extensions {sorted(exts)})")
        rows += [{"item_id": f"{lab}/{f.name}", "label": lab, "image_path": str(f.resolve())}
                 for f in files]
    if not rows:
        raise FileNotFoundError(f"no images found under {base}")
    return pd.DataFrame(rows)


def load_deepemotion(root: str | Path, random_state: int = 42) -> pd.DataFrame:
    """DeepEmotion images with Emo-CLIM's split: DataFrame[item_id, label, image_path, split].

    Notebook: 02_emoclim2024 (real-data path).
    """
    df = read_image_folders(root)
    df["split"] = paper_split(df["label"], random_state=random_state)
    log.info("DeepEmotion: %d images from %s", len(df), root)
    return df
