"""Emotion-enriched word embeddings: lexicon, tokeniser, enrichment direction, vector files."""
from __future__ import annotations

import numpy as np
import pytest

from emolib.encoders import ewe


def test_nrc_emolex_is_read_from_the_package():
    lex = ewe.load_nrc_emolex()
    assert len(lex) > 5000
    assert set(lex["happy"]) >= {"joy", "positive"}
    assert "sadness" in lex["melancholic"]
    assert all(set(v) <= set(ewe.NRC_EMOTIONS) for v in lex.values())
    words, y = ewe.lexicon_targets(["happy", "qwertyzzz", "melancholic"], lex)
    assert words == ["happy", "melancholic"]
    assert y[0, ewe.NRC_EMOTIONS.index("joy")] == 1 and y[1, ewe.NRC_EMOTIONS.index("joy")] == 0


def test_tokenize_and_sum_of_word_vectors():
    assert ewe.tokenize("Very playful, with a LOT of rubato!") == ["playful", "lot", "rubato"]
    emb = ewe.WordEmbedding(["playful", "rubato", "cold"], np.eye(3), name="toy")
    np.testing.assert_allclose(emb.embed_text("playful and cold, cold"), [1, 0, 2])
    np.testing.assert_allclose(emb.embed_text("unknown words only"), [0, 0, 0])
    assert emb.oov_rate(["playful unknown"]) == 0.5
    assert emb.embed_texts(["rubato", "cold"]).shape == (2, 3)
    with pytest.raises(KeyError, match="'sad' is not in toy"):
        emb.vector("sad")
    with pytest.raises(ValueError, match="2 words but matrix"):
        ewe.WordEmbedding(["a", "b"], np.eye(3))


def _distributional_space(seed: int = 0, dim: int = 40):
    """Word vectors = a context part + a weak emotion part, as in distributional models.

    Emotion antonyms share their context (they occur in the same sentences), so their
    cosine is high; synonyms have different contexts but the same emotion labels.
    """
    g = np.random.default_rng(seed)
    emo_dirs = g.normal(size=(len(ewe.NRC_EMOTIONS), dim))
    lex, words, vecs = {}, [], []

    def add(word, labels, ctx):
        lex[word] = tuple(labels)
        y = np.array([e in labels for e in ewe.NRC_EMOTIONS], float)
        words.append(word)
        vecs.append(ctx + 0.25 * y @ emo_dirs + 0.05 * g.normal(size=dim))

    pos, neg = ("joy", "positive"), ("sadness", "negative")
    for i in range(300):  # lexicon filler words with random labels
        labels = [e for e in ewe.NRC_EMOTIONS if g.random() < 0.2]
        add(f"w{i}", labels, g.normal(size=dim))
    for i in range(12):
        ctx = g.normal(size=dim)
        add(f"pos{i}", pos, ctx)  # an antonym pair sharing one context
        add(f"neg{i}", neg, ctx)
        add(f"pos{i}syn", pos, g.normal(size=dim))  # a synonym with its own context
    return ewe.WordEmbedding(words, np.stack(vecs), name="toy space"), lex


def test_enrichment_moves_antonyms_apart_and_keeps_synonyms_close():
    base, lex = _distributional_space()
    enriched, fit = ewe.enriched_embedding(base, lex, strength=3.0, ridge=1.0)
    assert fit.basis.shape[1] <= len(ewe.NRC_EMOTIONS)
    np.testing.assert_allclose(fit.basis.T @ fit.basis, np.eye(fit.basis.shape[1]), atol=1e-8)
    ant = [(f"pos{i}", f"neg{i}") for i in range(12)]
    syn = [(f"pos{i}", f"pos{i}syn") for i in range(12)]
    tab = ewe.pair_cosines({"before": base, "after": enriched}, {"antonym": ant, "synonym": syn})
    tab["delta"] = tab["after"] - tab["before"]
    mean = tab.groupby("kind")["delta"].mean()
    assert mean["antonym"] < -0.1  # emotion antonyms move apart ...
    assert mean["synonym"] > 0.05  # ... synonyms move together
    assert (tab.loc[tab.kind == "antonym", "delta"] < 0).all()


def test_enrichment_is_identity_at_strength_one_and_local_outside_the_subspace():
    base, lex = _distributional_space(1)
    words, y = ewe.lexicon_targets(base.words, lex)
    x = np.stack([base.vector(w) for w in words])
    same = ewe.fit_emotion_enrichment(x, y, strength=1.0)
    np.testing.assert_allclose(same.apply(x), x, atol=1e-12)
    enr = ewe.fit_emotion_enrichment(x, y, strength=4.0)
    moved = enr.apply(x) - x
    # the displacement lies entirely inside the emotion subspace
    np.testing.assert_allclose(moved - moved @ enr.basis @ enr.basis.T, 0.0, atol=1e-10)
    with pytest.raises(ValueError, match="strength"):
        ewe.fit_emotion_enrichment(x, y, strength=0.0)


def test_reads_glove_style_text_vectors(tmp_path):
    wordvec = pytest.importorskip("emolib.encoders.wordvec")
    if not hasattr(wordvec, "read_word_vectors"):
        pytest.skip("emolib.encoders.wordvec.read_word_vectors not available yet")
    path = tmp_path / "ewe_tiny.txt"
    path.write_text("Happy 1.0 0.0 0.5\nsad -1.0 0.0 0.5\nhappy 9 9 9\ncalm 0.0 1.0 0.0\n")
    emb = ewe.from_text_vectors(path)
    assert emb.dim == 3 and "sad" in emb
    np.testing.assert_allclose(emb.vector("happy"), [1.0, 0.0, 0.5])  # first spelling kept
    np.testing.assert_allclose(emb.embed_text("happy, calm"), [1.0, 1.0, 0.5])


def test_enrichment_generalises_to_words_held_out_of_the_fit():
    base, lex = _distributional_space(2)
    ant = [(f"pos{i}", f"neg{i}") for i in range(12)]
    held = {w for pair in ant for w in pair}
    enriched, fit = ewe.enriched_embedding(base, lex, strength=3.0, exclude=held)
    # the fit saw none of the held-out words: same as fitting on a lexicon without them
    _, fit2 = ewe.enriched_embedding(base, {w: e for w, e in lex.items() if w not in held},
                                     strength=3.0)
    np.testing.assert_allclose(fit.basis, fit2.basis)
    _, fit_all = ewe.enriched_embedding(base, lex, strength=3.0)
    assert not np.allclose(fit.mean, fit_all.mean)
    # ... and still pushes the held-out antonyms apart
    tab = ewe.pair_cosines({"before": base, "after": enriched}, {"antonym": ant})
    assert ((tab["after"] - tab["before"]) < 0).all()
