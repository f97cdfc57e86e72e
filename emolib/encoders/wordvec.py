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
* :func:`wordllama_word_vectors` — an optional second offline space: WordLlama
  ``l2_supercat`` (256-d), a static token-embedding table (32k Llama-2 vocabulary) trained
  from the concatenated input-embedding codebooks of several Llama-2-tokenizer LLMs
  (LLaMA 2 70B, phi 3 medium, …; Matryoshka-projected), carried inside the PyPI wheel
  ``wordllama`` (MIT). A word is the mean
  of its (Llama-2 SentencePiece) token vectors, exactly as ``WordLlama.embed`` computes it,
  *not* L2-normalised. Tables and figures call it :data:`WORDLLAMA_WORDVEC_NAME`.
* :func:`word_vectors` — picks one of the two offline spaces by name (``"minilm"``,
  ``"wordllama"``), the notebooks' ``word_vectors`` parameter.

Notebooks: 01_won2021, 03_chowdhury2023.
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emolib import provenance

__all__ = ["WordVectors", "read_word_vectors", "static_word_vectors", "MINILM_WORDVEC_NAME",
           "WORDLLAMA_WORDVEC_NAME", "WORDLLAMA_SPEC", "wordllama_path", "load_wordllama",
           "wordllama_word_vectors", "word_vectors", "WORD_VECTOR_SPACES"]

log = logging.getLogger(__name__)

#: How the offline default space is named in tables and figures.
MINILM_WORDVEC_NAME = "MiniLM static word vectors (all-MiniLM-L6-v2, each word embedded alone)"

#: How the optional WordLlama space is named in tables and figures.
WORDLLAMA_WORDVEC_NAME = ("WordLlama L2-supercat 256-d static token embeddings "
                          "(each word embedded alone, mean of its tokens)")

#: The pip requirement that provides the WordLlama space (weights inside the wheel).
WORDLLAMA_SPEC = "wordllama==0.4.0.post1 toml"

#: The model configuration inside the wheel (``wordllama/weights/l2_supercat_<dim>...``).
_WORDLLAMA_CONFIG = "l2_supercat"

#: Names accepted by :func:`word_vectors` (``space``; notebooks: ``word_vectors``).
WORD_VECTOR_SPACES = ("minilm", "wordllama")


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


# --------------------------------------------------------------------------------------
# WordLlama (optional, offline)


def _import_wordllama() -> Any:
    """``import wordllama`` without its side effect on logging, or a clear ImportError.

    ``wordllama`` (and its ``inference`` module) call ``logging.basicConfig(level=INFO)``
    at import, which would switch on INFO output of every library in a notebook; the root
    logger's handlers and level are restored afterwards.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
    except ImportError as exc:
        raise ImportError("the WordLlama word vectors need the PyPI packages "
                          f"`pip install {WORDLLAMA_SPEC}` (weights inside the wheel); "
                          f"import failed: {exc}") from exc
    finally:
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)
        root.setLevel(level)
    return wordllama


def wordllama_path() -> Path:
    """Folder of the installed ``wordllama`` package (holds ``weights/`` and ``tokenizers/``)."""
    return Path(_import_wordllama().__file__).resolve().parent


def _shipped_dims(folder: Path) -> list[int]:
    dims = []
    for f in (folder / "weights").glob(f"{_WORDLLAMA_CONFIG}_*.safetensors"):
        tail = f.name[len(_WORDLLAMA_CONFIG) + 1:-len(".safetensors")]
        if tail.isdigit():
            dims.append(int(tail))
    return sorted(dims)


@functools.lru_cache(maxsize=None)
def _load_wordllama(dim: int) -> Any:
    wordllama = _import_wordllama()
    folder = wordllama_path()
    shipped = _shipped_dims(folder)
    if dim not in shipped:
        raise FileNotFoundError(
            f"WordLlama {_WORDLLAMA_CONFIG} dim={dim} is not in the installed wheel "
            f"({folder / 'weights'} ships dims {shipped}); downloads are disabled")
    # WordLlama.load() looks for a tokenizer in <package>/tokenizer/ (the wheel ships
    # tokenizers/) and then in <cache_dir>/tokenizers/, then downloads from Hugging Face.
    # The package folder as cache_dir finds both files inside the wheel; disable_download
    # turns any missing file into a FileNotFoundError instead of a network request.
    model = wordllama.WordLlama.load(_WORDLLAMA_CONFIG, cache_dir=folder, dim=dim,
                                     binary=False, disable_download=True)
    log.info("WordLlama %s %d-d loaded offline from %s (vocabulary %d)", _WORDLLAMA_CONFIG,
             dim, folder, model.embedding.shape[0])
    return model


def load_wordllama(dim: int = 256) -> Any:
    """The WordLlama ``l2_supercat`` model (a ``wordllama.WordLlamaInference``), offline.

    Loaded once per process from the weights and tokenizer inside the installed wheel
    (never from the network: a missing file raises ``FileNotFoundError``); the wheel ships
    ``dim=256`` only. Missing package → ``ImportError`` naming
    ``pip install wordllama==0.4.0.post1 toml``. Recorded in the run's provenance.
    Notebooks: 01_won2021, 03_chowdhury2023.
    """
    model = _load_wordllama(int(dim))
    provenance.record_model(f"WordLlama {_WORDLLAMA_CONFIG} ({int(dim)}-d)", "wordllama")
    return model


def _wordllama_text(word: str) -> str:
    """The text WordLlama embeds for a word/phrase: underscores → spaces, spaces collapsed."""
    return " ".join(word.replace("_", " ").split())


def wordllama_word_vectors(words: Iterable[str], normalize: bool = False) -> WordVectors:
    """Offline word embedding: each word/phrase embedded alone by WordLlama (256-d).

    Like :func:`static_word_vectors`: duplicates are dropped (first occurrence kept, order
    preserved) and underscores become spaces (``"chill_out"`` → "chill out"); runs of
    whitespace are collapsed too, since WordLlama's tokenizer, unlike MiniLM's, has tokens
    for extra spaces. A vector is the mean of the word's token embeddings, float32, equal
    to ``load_wordllama().embed([text])[0]``. Not L2-normalised by default, as
    ``WordLlama.embed`` (``norm=False``); cosine-based code is unaffected, and
    ``normalize=True`` gives unit vectors (``embed(..., norm=True)``). The tokenizer is
    case-sensitive (MiniLM's is not). A word with no token (empty after the replacements)
    raises ``ValueError``. Named :data:`WORDLLAMA_WORDVEC_NAME`.
    Notebooks: 01_won2021, 03_chowdhury2023.
    """
    words = list(dict.fromkeys(words))
    texts = [_wordllama_text(w) for w in words]
    empty = [w for w, t in zip(words, texts) if not t]
    if empty:
        raise ValueError(f"WordLlama word vectors: {len(empty)} word(s) have no text to embed "
                         f"after replacing underscores: {empty[:5]!r}")
    model = load_wordllama()
    if texts:
        vecs = np.asarray(model.embed(texts, norm=normalize), dtype=np.float32)
    else:
        vecs = np.zeros((0, model.embedding.shape[1]), dtype=np.float32)
    return WordVectors(words, vecs, name=WORDLLAMA_WORDVEC_NAME)


def word_vectors(words: Iterable[str], space: str = "minilm") -> WordVectors:
    """Offline static word vectors of ``words`` in the named space.

    ``space``: ``"minilm"`` → :func:`static_word_vectors` (all-MiniLM-L6-v2, 384-d, the
    default), ``"wordllama"`` → :func:`wordllama_word_vectors` (WordLlama, 256-d). Anything
    else → ``ValueError`` naming the allowed values. The notebooks pass their
    ``word_vectors`` parameter here. Notebooks: 01_won2021, 03_chowdhury2023.
    """
    if space == "minilm":
        return static_word_vectors(words)
    if space == "wordllama":
        return wordllama_word_vectors(words)
    raise ValueError(f"space (the notebooks' word_vectors) must be one of "
                     f"{', '.join(repr(s) for s in WORD_VECTOR_SPACES)}; got {space!r}")
