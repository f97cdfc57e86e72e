"""Tests for the optional WordLlama static word space in emolib.encoders.wordvec.

Offline: the weights and tokenizer are inside the ``wordllama`` wheel; the loading test
blocks every socket. The reference for a word's vector is the library itself
(``WordLlamaInference.embed`` and the safetensors file read directly).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from emolib.encoders import wordvec as W

pytest.importorskip("wordllama", reason="optional: pip install wordllama==0.4.0.post1 toml")


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture()
def no_network(monkeypatch):
    """Every attempt to open a connection or resolve a name raises at once."""
    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(OSError, match="offline test"):  # the block itself works
        socket.create_connection(("huggingface.co", 443), timeout=1)


@pytest.fixture()
def wv():
    return W.wordllama_word_vectors(
        ["happy", "joyful", "cheerful", "glad", "sad", "unhappy", "calm", "peaceful",
         "tractor", "chill_out", "a very long phrase about melancholic rainy autumn evenings"])


def test_loads_offline_with_sockets_blocked(no_network, monkeypatch, tmp_path):
    from safetensors.numpy import load_file

    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.cache/wordllama to fall back on
    recorded = []
    monkeypatch.setattr(W.provenance, "record_model", lambda *a, **k: recorded.append(a))
    W._load_wordllama.cache_clear()
    model = W.load_wordllama()
    folder = W.wordllama_path()
    assert (folder / "weights" / "l2_supercat_256.safetensors").is_file()
    assert (folder / "tokenizers" / "l2_supercat_tokenizer_config.json").is_file()
    weights = load_file(str(folder / "weights" / "l2_supercat_256.safetensors"))
    np.testing.assert_array_equal(model.embedding, weights["embedding.weight"])
    assert model.embedding.shape == (32000, 256) and model.embedding.dtype == np.float32
    assert recorded == [("WordLlama l2_supercat (256-d)", "wordllama")]
    assert W.load_wordllama() is model  # cached per process
    assert not list(tmp_path.iterdir())  # nothing downloaded or cached under HOME
    # a model the wheel does not carry fails at once, without a download attempt
    with pytest.raises(FileNotFoundError, match=r"dim=512 .*ships dims \[256\]"):
        W.load_wordllama(dim=512)


def test_shape_dtype_name(wv):
    assert wv.vectors.shape == (11, 256) and wv.vectors.dtype == np.float32 and wv.dim == 256
    assert wv.name == W.WORDLLAMA_WORDVEC_NAME
    assert np.isfinite(wv.vectors).all()


def test_vectors_equal_wordllama_embed_of_each_word_alone(wv):
    model = W.load_wordllama()
    for word in wv.words:  # batched with padding in wv, alone here: bit-identical
        alone = model.embed([word.replace("_", " ")])[0]
        np.testing.assert_array_equal(wv[word], alone, err_msg=word)
    # and the mean of its token vectors, from the embedding table directly
    ids = model.tokenize("cheerful")[0].ids
    assert len(ids) > 1
    np.testing.assert_allclose(wv["cheerful"], model.embedding[ids].mean(0), rtol=1e-6)


def test_not_normalised_by_default_like_wordllama_embed(wv):
    norms = np.linalg.norm(wv.vectors, axis=1)
    assert norms.max() - norms.min() > 1.0  # e.g. happy ≈ 12.0, sad ≈ 15.1
    unit = W.wordllama_word_vectors(["happy", "sad"], normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit.vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(unit.vectors,
                                  W.load_wordllama().embed(["happy", "sad"], norm=True))


def test_dedup_and_underscores():
    model = W.load_wordllama()
    got = W.wordllama_word_vectors(["happy", "chill_out", "sad", "happy", "chill__out_",
                                    "sad"])
    assert got.words == ["happy", "chill_out", "sad", "chill__out_"]
    assert got.vectors.shape == (4, 256)
    chill_out = model.embed(["chill out"])[0]
    np.testing.assert_array_equal(got["chill_out"], chill_out)
    np.testing.assert_array_equal(got["chill__out_"], chill_out)  # whitespace collapsed
    assert not np.allclose(chill_out, model.embed(["chill_out"])[0])  # replacement matters
    assert len(W.wordllama_word_vectors([])) == 0
    with pytest.raises(ValueError, match=r"no text to embed.*'__'"):
        W.wordllama_word_vectors(["happy", "__"])


def test_semantic_sanity(wv):
    # observed (0.4.0.post1): happy–cheerful 0.333 vs happy–tractor -0.096; calm–peaceful
    # 0.398 vs calm–tractor 0.062; sad–unhappy 0.405 vs sad–tractor 0.081;
    # happy–joyful 0.545 vs happy–sad 0.181
    assert _cos(wv["happy"], wv["cheerful"]) > _cos(wv["happy"], wv["tractor"]) + 0.2
    assert _cos(wv["calm"], wv["peaceful"]) > _cos(wv["calm"], wv["tractor"]) + 0.2
    assert _cos(wv["sad"], wv["unhappy"]) > _cos(wv["sad"], wv["tractor"]) + 0.2
    assert _cos(wv["happy"], wv["joyful"]) > _cos(wv["happy"], wv["sad"]) + 0.2
    among = ["glad", "sad", "tractor", "peaceful"]
    assert wv.most_similar("happy", k=1, among=among)[0][0] == "glad"


def test_bit_identical_twice_and_after_reload():
    words = ["happy", "sad", "chill_out", "melancholic"]
    first = W.wordllama_word_vectors(words).vectors.copy()
    second = W.wordllama_word_vectors(words).vectors
    W._load_wordllama.cache_clear()
    third = W.wordllama_word_vectors(words).vectors
    assert first.tobytes() == second.tobytes() == third.tobytes()


def test_dispatcher(monkeypatch):
    got = W.word_vectors(["happy", "sad"], space="wordllama")
    assert got.name == W.WORDLLAMA_WORDVEC_NAME and got.dim == 256
    calls = []
    monkeypatch.setattr(W, "static_word_vectors", lambda words: calls.append(list(words)) or 7)
    assert W.word_vectors(iter(["joy"])) == 7 and W.word_vectors(["a"], space="minilm") == 7
    assert calls == [["joy"], ["a"]]
    for bad in ("MiniLM", "glove", "word2vec", "", None):
        with pytest.raises(ValueError, match=r"space .*word_vectors.*'minilm', 'wordllama'"):
            W.word_vectors(["happy"], space=bad)


def test_missing_package_names_the_pip_command(monkeypatch):
    W._load_wordllama.cache_clear()
    monkeypatch.setitem(sys.modules, "wordllama", None)  # import wordllama → ImportError
    try:
        with pytest.raises(ImportError, match=r"pip install wordllama==0\.4\.0\.post1 toml"):
            W.load_wordllama()
        with pytest.raises(ImportError, match="pip install wordllama"):
            W.wordllama_word_vectors(["happy"])
    finally:
        W._load_wordllama.cache_clear()


def test_import_leaves_root_logger_alone():
    """wordllama calls logging.basicConfig(INFO) at import; the loader undoes it."""
    code = ("import logging; from emolib.encoders import wordvec; wordvec.load_wordllama(); "
            "r = logging.getLogger(); print(len(r.handlers), r.level)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True)
    assert out.stdout.split() == ["0", str(30)]
    assert "INFO" not in out.stderr
