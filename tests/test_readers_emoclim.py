"""Readers used by notebook 02: DeepEmotion/FI image folders, Emo-CLIM's split, MagnaTagATune."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from emolib.data.deepemotion import load_deepemotion, load_image, paper_split, read_image_folders
from emolib.data.mtat import load_mtat, read_annotations, read_split_npy, top_tags
from emolib.data.taxonomies import TAXONOMIES

LABELS = TAXONOMIES["deepemotion"]


def _write_images(root, per_label=10, wrapper=None):
    base = root / wrapper if wrapper else root
    for li, lab in enumerate(LABELS):
        (base / lab).mkdir(parents=True)
        for k in range(per_label):
            arr = np.full((6, 8, 3), li * 30 + k, dtype=np.uint8)
            Image.fromarray(arr).save(base / lab / f"{lab}_{k:04d}.jpg" if k % 2 else
                                      base / lab / f"{lab}_{k:04d}.png")
        (base / lab / ".DS_Store").write_text("x")
        (base / lab / "notes.txt").write_text("not an image")


def test_read_image_folders(tmp_path):
    _write_images(tmp_path, per_label=5, wrapper="emotion_dataset")
    df = read_image_folders(tmp_path)
    assert len(df) == 8 * 5
    assert list(df.columns) == ["item_id", "label", "image_path"]
    assert df["label"].value_counts().to_dict() == {lab: 5 for lab in LABELS}
    assert df.iloc[0]["item_id"] == f"{LABELS[0]}/{LABELS[0]}_0000.png"
    img = load_image(df.iloc[1]["image_path"])
    assert img.shape == (3, 6, 8) and img.dtype == torch.float32
    assert img.max() <= 1.0 and load_image(df.iloc[1]["image_path"], size=4).shape == (3, 4, 4)


def test_read_image_folders_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        read_image_folders(tmp_path / "nope")
    (tmp_path / "cats").mkdir()
    with pytest.raises(FileNotFoundError, match="one folder per emotion"):
        read_image_folders(tmp_path)
    (tmp_path / "anger").mkdir()
    with pytest.raises(FileNotFoundError, match="no images for emotion 'amusement'"):
        read_image_folders(tmp_path)


def test_paper_split_matches_published_sizes():
    # DeepEmotion class counts from the authors' preprocessing (21,829 images)
    counts = {"contentment": 5130, "amusement": 4724, "awe": 2881, "excitement": 2725,
              "sadness": 2633, "disgust": 1591, "anger": 1176, "fear": 969}
    labels = [lab for lab, n in counts.items() for _ in range(n)]
    split = paper_split(labels)
    assert Counter(split) == {"train": 17463, "val": 2183, "test": 2183}
    # stratified: every class keeps ~80/10/10
    tab = pd.crosstab(pd.Series(labels), pd.Series(split))
    assert ((tab["test"] / tab.sum(axis=1) - 0.1).abs() < 0.002).all()
    assert np.array_equal(split, paper_split(labels))  # random_state fixed
    assert not np.array_equal(split, paper_split(labels, random_state=0))


def test_load_deepemotion(tmp_path):
    _write_images(tmp_path, per_label=10)
    df = load_deepemotion(tmp_path)
    assert Counter(df["split"]) == {"train": 64, "val": 8, "test": 8}
    assert (df.groupby("label")["split"].apply(lambda s: (s == "test").sum()) == 1).all()


# ------------------------------------------------------------------ MagnaTagATune fixtures
TAG_NAMES = ["guitar", "classical", "slow", "techno", "no voice"]


def _write_annotations(root):
    rows = [  # clip_id, tags..., path ; tag frequencies: guitar 3, classical 2, slow 2, techno 1
        (2, [1, 1, 0, 0, 0], "f/a-01.mp3"),
        (6, [1, 0, 1, 0, 0], "f/a-02.mp3"),
        (10, [1, 1, 1, 0, 0], "0/b-01.mp3"),
        (11, [0, 0, 0, 1, 0], "0/b-02.mp3"),
    ]
    header = "\t".join(f'"{c}"' for c in ["clip_id", *TAG_NAMES, "mp3_path"])
    lines = [header] + ["\t".join([f'"{cid}"', *[f'"{v}"' for v in vals], f'"{p}"'])
                        for cid, vals, p in rows]
    (root / "annotations_final.csv").write_text("\n".join(lines) + "\n")


def test_read_annotations_and_top_tags(tmp_path):
    _write_annotations(tmp_path)
    ann = read_annotations(tmp_path / "annotations_final.csv")
    assert ann["clip_id"].tolist() == [2, 6, 10, 11]
    assert ann["no voice"].dtype.kind == "i"
    assert top_tags(ann, 3) == ["guitar", "classical", "slow"]  # tie classical/slow: file order


def test_load_mtat_won_split_with_binary(tmp_path):
    np.save(tmp_path / "train.npy", np.array(["0\tf/a-01.mp3", "1\tf/a-02.mp3"]))
    np.save(tmp_path / "valid.npy", np.array(["2\t0/b-01.mp3"]))
    np.save(tmp_path / "test.npy", np.array(["3\t0/b-02.mp3"]))
    np.save(tmp_path / "tags.npy", np.array(["guitar", "techno"]))
    np.save(tmp_path / "binary.npy", np.array([[1, 0], [1, 0], [0, 0], [0, 1]]))
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "b-02.wav").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"3 of 4 MagnaTagATune audio files .*f/a-01\.mp3"):
        load_mtat(tmp_path)  # the audio files must exist unless on_missing says otherwise
    only = load_mtat(tmp_path, on_missing="drop")[0]
    assert only["item_id"].tolist() == ["0/b-02.mp3"]
    clips, vocab = load_mtat(tmp_path, on_missing="ignore")
    assert vocab == ["guitar", "techno"]
    assert clips["split"].tolist() == ["train", "train", "val", "test"]
    assert clips["tags"].tolist() == [["guitar"], ["guitar"], [], ["techno"]]
    assert clips["audio_path"].iloc[3].endswith("0/b-02.wav")  # decoded wav preferred
    assert clips["audio_path"].iloc[0].endswith("f/a-01.mp3")


def test_load_mtat_won_split_from_annotations(tmp_path):
    _write_annotations(tmp_path)
    np.save(tmp_path / "train.npy", np.array(["0\tf/a-01.mp3", "1\tf/a-02.mp3"]))
    np.save(tmp_path / "valid.npy", np.array(["2\t0/b-01.mp3"]))
    np.save(tmp_path / "test.npy", np.array(["3\t0/b-02.mp3"]))
    clips, vocab = load_mtat(tmp_path, n_tags=2, on_missing="ignore")
    assert vocab == ["guitar", "classical"]
    assert clips["tags"].tolist() == [["guitar", "classical"], ["guitar"],
                                      ["guitar", "classical"], []]


def test_load_mtat_pons_split(tmp_path):
    _write_annotations(tmp_path)
    (tmp_path / "index_mtt.tsv").write_text("2\tf/a-01.mp3\n6\tf/a-02.mp3\n10\t0/b-01.mp3\n")
    (tmp_path / "train_gt_mtt.tsv").write_text("2\t[1, 1]\n6\t[1, 0]\n")
    (tmp_path / "val_gt_mtt.tsv").write_text("10\t[0, 1]\n")
    (tmp_path / "test_gt_mtt.tsv").write_text("")
    clips, vocab = load_mtat(tmp_path, split="pons", n_tags=2, on_missing="ignore")
    assert vocab == ["guitar", "classical"]
    assert clips["tags"].tolist() == [["guitar", "classical"], ["guitar"], ["classical"]]
    assert clips["split"].tolist() == ["train", "train", "val"]
    (tmp_path / "val_gt_mtt.tsv").write_text("10\t__import__('os')\n")
    with pytest.raises(ValueError, match=r"val_gt_mtt\.tsv: line 1, column 2: expected a list"):
        load_mtat(tmp_path, split="pons", n_tags=2, on_missing="ignore")


def test_mtat_never_unpickles(tmp_path):
    np.save(tmp_path / "train.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="never unpickles"):
        read_split_npy(tmp_path / "train.npy")
    np.save(tmp_path / "bad.npy", np.array(["no-tab-here"]))
    with pytest.raises(ValueError, match="<row>"):
        read_split_npy(tmp_path / "bad.npy")
    with pytest.raises(ValueError, match="split must be"):
        load_mtat(tmp_path, split="lee")
