"""Word vectors: readers for Word2Vec / GloVe files, and an offline static word-vector space.

Won et al. 2021 embed mood tags with a 300-d Word2Vec trained on music text (Won et al.
ICASSP 2021); those vectors are not available offline. This module gives

* :func:`read_word_vectors` — the real path: Word2Vec text (``"N D"`` header line, then
  ``word v1 … vD``), GloVe text (no header) and Word2Vec binary (``"N D\\n"`` then, per
  word, ``word<space>`` + D little-endian float32 [+ ``\\n``]). A malformed file raises
  ``ValueError`` naming the file and line/entry.
* :func:`static_word_vectors` — the offline default: every word (or short phrase) embedded
  *alone* by the locally installed pretrained sentence encoder all-MiniLM-L6-v2 (384-d,
  L2-normalised). This is a real pretrained semantic space, but it is **not Word2Vec**
  and not music-domain; tables and figures call it "MiniLM static word vectors".

Notebooks: 01_won2021, 03_chowdhury2023.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emolib import provenance

__all__ = ["WordVectors", "read_word_vectors", "static_word_vectors", "MINILM_WORDVEC_NAME"]

#: How the offline default space is named in tables and figures.
MINILM_WORDVEC_NAME = "MiniLM static word vectors (all-MiniLM-L6-v2, each word embedded alone)"


@dataclass
class WordVectors:
    """A word → vector table (``vectors[i]`` belongs to ``words[i]``)."""

    words: list[str]
    vectors: np.ndarray
    name: str = ""
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(f"vectors must be (n_words, dim) with n_words={len(self.words)}, "
                             f"got {self.vectors.shape}")
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        try:
            return self.vectors[self.index[word]]
        except KeyError:
            raise KeyError(f"word {word!r} not in {self.name or 'these word vectors'}") from None

    def matrix(self, words: Sequence[str]) -> np.ndarray:
        """Vectors of ``words`` stacked (len(words), dim); every word must be present."""
        return np.stack([self[w] for w in words]) if words else np.zeros((0, self.dim), np.float32)

    def phrase(self, text: str, sep: str = "_") -> np.ndarray:
        """Vector of a word, or the mean of its parts (``"chill_out"``, ``"chill out"``)."""
        if text in self:
            return self[text]
        parts = [p for p in text.replace(sep, " ").split() if p in self]
        if not parts:
            raise KeyError(f"no part of {text!r} is in {self.name or 'these word vectors'}")
        return np.mean([self[p] for p in parts], axis=0)

    def most_similar(self, word_or_vec: str | np.ndarray, k: int = 5,
                     among: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest words by cosine similarity (optionally among a candidate list)."""
        q = self[word_or_vec] if isinstance(word_or_vec, str) else np.asarray(word_or_vec)
        cands = list(among) if among is not None else self.words
        m = self.matrix(cands)
        sims = m @ q / (np.linalg.norm(m, axis=1) * np.linalg.norm(q) + 1e-12)
        order = np.argsort(-sims, kind="stable")
        skip = word_or_vec if isinstance(word_or_vec, str) else None
        out = [(cands[i], float(sims[i])) for i in order if cands[i] != skip]
        return out[:k]


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def _read_text(path: Path, limit: int | None, encoding: str) -> tuple[list[str], np.ndarray]:
    words: list[str] = []
    rows: list[list[float]] = []
    dim: int | None = None
    with open(path, encoding=encoding, errors="strict") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").rstrip().split(" ")
            if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # Word2Vec text header "N D"
                continue
            if not line.strip():
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}: line {lineno}: expected 'word v1 ... vD', "
                                 f"got {line[:60]!r}")
            d = len(parts) - 1
            if dim is None:
                dim = d
            if d != dim or not all(_is_number(p) for p in parts[1:]):
                raise ValueError(f"{path}: line {lineno}: expected a word and {dim} numbers, "
                                 f"got {d} fields starting {line[:60]!r}")
            words.append(parts[0])
            rows.append([float(p) for p in parts[1:]])
            if limit is not None and len(words) >= limit:
                break
    if not words:
        raise ValueError(f"{path}: no word vectors found")
    return words, np.asarray(rows, dtype=np.float32)


def _read_binary(path: Path, limit: int | None, encoding: str) -> tuple[list[str], np.ndarray]:
    data = path.read_bytes()
    nl = data.find(b"\n")
    try:
        n, dim = (int(x) for x in data[:nl].split())
    except ValueError:
        raise ValueError(f"{path}: Word2Vec binary must start with a 'N D' header line, "
                         f"got {data[:40]!r}") from None
    n = n if limit is None else min(n, limit)
    pos, words, vecs = nl + 1, [], np.empty((n, dim), dtype=np.float32)
    for i in range(n):
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b" "):
            pos += 1
        sp = data.find(b" ", pos)
        if sp < 0 or sp + 1 + 4 * dim > len(data):
            raise ValueError(f"{path}: truncated Word2Vec binary at entry {i + 1} of {n} "
                             f"(byte {pos}); expected 'word ' + {dim} float32")
        try:
            words.append(data[pos:sp].decode(encoding))
        except UnicodeDecodeError:
            raise ValueError(f"{path}: entry {i + 1}: word is not valid {encoding}") from None
        vecs[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=sp + 1)
        pos = sp + 1 + 4 * dim
    return words, vecs


def read_word_vectors(path: str | os.PathLike[str], binary: bool | None = None,
                      limit: int | None = None, encoding: str = "utf-8") -> WordVectors:
    """Read Word2Vec (text or binary) or GloVe (text) vectors.

    ``binary=None`` decides by extension (``.bin`` → binary). ``limit`` reads only the
    first entries. Missing file → ``FileNotFoundError``; malformed → ``ValueError`` naming
    the file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"word-vector file not found: {p}")
    binary = p.suffix == ".bin" if binary is None else binary
    try:
        words, vecs = (_read_binary if binary else _read_text)(p, limit, encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not a {encoding} text word-vector file ({exc.reason}); "
                         "pass binary=True for Word2Vec binary") from None
    provenance.record_weights(path, "word vectors")
    return WordVectors(words, vecs, name=p.name)


def static_word_vectors(words: Iterable[str], encoder: object | None = None) -> WordVectors:
    """Offline word embedding: each word/phrase embedded alone by all-MiniLM-L6-v2 (384-d).

    Underscores become spaces (``"chill_out"`` → "chill out"). Embeddings are cached (see
    :func:`emolib.encoders.text.embed_texts`). Named :data:`MINILM_WORDVEC_NAME`.
    """
    from emolib.encoders.text import embed_texts

    words = list(dict.fromkeys(words))
    vecs = embed_texts([w.replace("_", " ") for w in words], encoder=encoder)
    return WordVectors(words, vecs, name=MINILM_WORDVEC_NAME)
