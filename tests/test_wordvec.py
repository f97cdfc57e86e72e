"""Tests for emolib.encoders.wordvec: Word2Vec/GloVe readers and the MiniLM static vectors."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from emolib.encoders import wordvec as W

VECS = {"happy": [0.5, -1.0, 2.0], "sad": [-0.5, 1.0, -2.0], "chill": [0.0, 0.25, 1.5]}


def _write_text(path, header: bool):
    lines = [f"{len(VECS)} 3"] if header else []
    lines += [w + " " + " ".join(repr(x) for x in v) for w, v in VECS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_binary(path):
    out = f"{len(VECS)} 3\n".encode()
    for w, v in VECS.items():
        out += w.encode() + b" " + struct.pack("<3f", *v) + b"\n"
    path.write_bytes(out)


@pytest.mark.parametrize("fmt", ["word2vec_text", "glove", "word2vec_binary"])
def test_readers_roundtrip(tmp_path, fmt):
    if fmt == "word2vec_binary":
        path = tmp_path / "vecs.bin"
        _write_binary(path)
    else:
        path = tmp_path / "vecs.txt"
        _write_text(path, header=fmt == "word2vec_text")
    wv = W.read_word_vectors(path)
    assert wv.words == list(VECS) and wv.dim == 3 and len(wv) == 3
    for w, v in VECS.items():
        np.testing.assert_allclose(wv[w], v)
    assert W.read_word_vectors(path, limit=2).words == ["happy", "sad"]
    np.testing.assert_allclose(wv.phrase("happy_chill"), np.mean([VECS["happy"], VECS["chill"]], 0))
    assert wv.most_similar("happy", k=1)[0][0] == "chill"  # cos(happy, chill) > 0 > cos(happy, sad)


def test_malformed_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_text("happy 0.1 0.2 0.3\nsad 0.1 oops 0.3\n")
    with pytest.raises(ValueError, match=r"broken\.txt: line 2"):
        W.read_word_vectors(bad)
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("happy 0.1 0.2 0.3\nsad 0.1 0.2\n")
    with pytest.raises(ValueError, match=r"ragged\.txt: line 2: expected a word and 3 numbers"):
        W.read_word_vectors(ragged)
    trunc = tmp_path / "trunc.bin"
    _write_binary(trunc)
    trunc.write_bytes(trunc.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"trunc\.bin: truncated Word2Vec binary at entry 3"):
        W.read_word_vectors(trunc)
    nohead = tmp_path / "nohead.bin"
    nohead.write_bytes(b"happy \x00\x00\x00\x00")
    with pytest.raises(ValueError, match=r"nohead\.bin: Word2Vec binary must start"):
        W.read_word_vectors(nohead)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        W.read_word_vectors(tmp_path / "missing.txt")
    with pytest.raises(KeyError, match="'angry' not in"):
        W.read_word_vectors(_ok(tmp_path))["angry"]


def _ok(tmp_path):
    p = tmp_path / "ok.txt"
    _write_text(p, header=False)
    return p


def test_static_word_vectors_from_minilm(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    wv = W.static_word_vectors(["happy", "joy", "sad", "angry", "chill_out"])
    assert wv.dim == 384 and wv.name == W.MINILM_WORDVEC_NAME
    np.testing.assert_allclose(np.linalg.norm(wv.vectors, axis=1), 1.0, atol=1e-5)
    # a real semantic space: joy is nearer to happy than to sad
    sims = {w: float(wv["joy"] @ wv[w]) for w in ("happy", "sad", "angry")}
    assert sims["happy"] > sims["sad"] and sims["happy"] > sims["angry"]
    assert "chill_out" in wv
