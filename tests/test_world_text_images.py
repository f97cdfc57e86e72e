"""Tests for the emotion world's text (Alm, ISEAR) and image renderers."""
from __future__ import annotations

import colorsys
import re

import numpy as np
import pytest

from emolib.data.taxonomies import labels
from emolib.data.world.images import build_images, image_to_png_bytes, render_image
from emolib.data.world.text import ALM_AUTHORS, ALM_WORDS, build_alm, build_isear


@pytest.fixture(scope="module")
def alm():
    return build_alm(seed=0, n_per_class=30)


@pytest.fixture(scope="module")
def isear():
    return build_isear(seed=0, n_per_class=30)


def test_alm_columns_balance_and_authors(alm):
    assert list(alm.columns) == ["item_id", "author", "label", "true_label", "valence", "arousal",
                                 "text"]
    assert alm["true_label"].value_counts().to_dict() == {lab: 30 for lab in labels("alm")}
    # authors balanced within each true class: 10 / 10 / 10
    tab = alm.groupby(["true_label", "author"]).size()
    assert set(tab.tolist()) == {10} and set(alm["author"]) == set(ALM_AUTHORS)
    assert alm["item_id"].is_unique


def test_alm_texts_are_2_to_4_sentences(alm):
    for text in alm["text"]:
        plain = re.sub(r'"[^"]*"', '"Q"', text.replace("Mrs.", "Mrs").replace("Mr.", "Mr"))
        sentences = [s for s in re.split(r'(?<=[.?!])\s+(?=[A-Z"])', plain) if s]
        assert 2 <= len(sentences) <= 4, text
        narrated = [s for s in sentences if '"Q"' not in s]
        assert len(set(narrated)) == len(narrated), text  # no sentence twice
        assert text.lstrip('"')[0].isupper()


def test_alm_deterministic_and_seed_dependent(alm):
    again = build_alm(seed=0, n_per_class=30)
    assert again.equals(alm)
    other = build_alm(seed=1, n_per_class=30)
    assert (other["text"] != alm["text"]).mean() > 0.9


def test_alm_emotion_is_not_one_keyword_per_class(alm):
    # no single word occurs in (nearly) all texts of a class and in no other class's texts
    tokens = [set(re.findall(r"[a-z]+", t.lower())) for t in alm["text"]]
    for lab in labels("alm"):
        mask = (alm["true_label"] == lab).to_numpy()
        inside = set.intersection(*[tokens[i] for i in np.flatnonzero(mask)])
        outside = set.union(*[tokens[i] for i in np.flatnonzero(~mask)])
        assert not (inside - outside), (lab, inside - outside)
    # but the class's own vocabulary dominates: more of its adjectives appear in its texts
    for lab, words in ALM_WORDS.items():
        mask = (alm["true_label"] == lab).to_numpy()
        hit = np.array([any(w in tok for w in words["adj"]) for tok in tokens])
        assert hit[mask].mean() > hit[~mask].mean() + 0.2, lab


def test_isear_first_person_situations(isear):
    assert list(isear.columns) == ["item_id", "label", "true_label", "valence", "arousal", "text"]
    assert isear["true_label"].value_counts().to_dict() == {lab: 30 for lab in labels("isear")}
    starts = isear["text"].str.contains(r"^(?:When |[A-Z][^.]*?, when )", regex=True)
    assert starts.all(), isear["text"][~starts].tolist()[:3]
    assert isear["text"].str.contains(r"\b(?:I|me|my)\b").mean() > 0.9  # first person
    assert isear["text"].str.contains(r"\bI\b").mean() > 0.8


def test_texts_learnable_but_not_trivial():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    for df, k in ((build_alm(3, 30), 5), (build_isear(3, 30), 7)):
        X = CountVectorizer(binary=True).fit_transform(df["text"])
        acc = cross_val_score(LogisticRegression(C=0.5, max_iter=500), X, df["label"], cv=3).mean()
        assert 1.0 / k + 0.15 < acc < 0.98, acc


def test_text_arousal_moves_intensity():
    # more aroused items use intense intensifiers more often
    df = build_alm(0, 60, spread=0.25)
    intense = df["text"].str.contains("terribly|utterly|dreadfully|extremely|so very")
    hi, lo = (df["arousal"] > df["arousal"].quantile(0.7),
              df["arousal"] < df["arousal"].quantile(0.3))
    assert intense[hi].mean() > intense[lo].mean() + 0.1


def test_render_image_shape_dtype_determinism():
    a = render_image("awe", 0.5, 0.7, seed=4, size=48)
    assert a.shape == (48, 48, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_image("awe", 0.5, 0.7, seed=4, size=48))
    assert not np.array_equal(a, render_image("awe", 0.5, 0.7, seed=5, size=48))
    assert image_to_png_bytes(a) == image_to_png_bytes(a.copy())
    assert render_image("fear", 0.1, 0.9, 0, size=224).shape == (224, 224, 3)


def test_render_image_rejects_bad_input():
    with pytest.raises(ValueError, match="DeepEmotion label"):
        render_image("happy", 0.5, 0.5, 0)
    with pytest.raises(ValueError, match="size"):
        render_image("awe", 0.5, 0.5, 0, size=4)


def _mean_hsv(a: np.ndarray) -> tuple[float, float]:
    x = a.reshape(-1, 3).astype(float) / 255.0
    hsv = np.array([colorsys.rgb_to_hsv(*p) for p in x[::7]])
    return hsv[:, 1].mean(), hsv[:, 2].mean()


def test_image_colour_follows_valence_and_arousal():
    # brightness rises with valence, saturation and pixel noise with arousal (averaged over seeds)
    def stats(v, a):
        s, b, n = [], [], []
        for seed in range(6):
            img = render_image("contentment", v, a, seed, size=48)
            ss, bb = _mean_hsv(img)
            s.append(ss), b.append(bb)
            n.append(np.abs(np.diff(img.astype(float), axis=1)).mean())
        return np.mean(s), np.mean(b), np.mean(n)

    s_lo, b_lo, _ = stats(0.15, 0.5)
    s_hi, b_hi, _ = stats(0.85, 0.5)
    assert b_hi > b_lo + 0.1
    s_calm, _, n_calm = stats(0.5, 0.1)
    s_arou, _, n_arou = stats(0.5, 0.9)
    assert s_arou > s_calm + 0.1
    assert n_arou > n_calm * 1.5


def test_build_images_writes_pngs(tmp_path):
    df = build_images(tmp_path, seed=0, n_per_class=3, size=24, n_jobs=1, progress=False)
    assert list(df.columns) == ["item_id", "label", "true_label", "valence", "arousal",
                                "image_path"]
    assert len(df) == 24 and df["true_label"].value_counts().eq(3).all()
    from PIL import Image

    for rel in df["image_path"]:
        assert not rel.startswith("/")
        with Image.open(tmp_path / rel) as im:
            assert im.size == (24, 24) and im.mode == "RGB"
    # n_jobs does not change the bytes
    df2 = build_images(tmp_path / "b", seed=0, n_per_class=3, size=24, n_jobs=2, progress=False)
    for r1, r2 in zip(df["image_path"], df2["image_path"]):
        assert (tmp_path / r1).read_bytes() == (tmp_path / "b" / r2).read_bytes()
