"""Tests for emolib.encoders.text: word tokenizer, small Transformer, HF loading, MiniLM."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from emolib.encoders import text as T


def test_word_tokenizer_hand_case():
    tok = T.WordTokenizer.fit(["The cat sat.", "the dog"], min_freq=1)
    assert tok.vocab[:3] == ["[PAD]", "[CLS]", "[UNK]"]
    assert tok.vocab[3] == "the"  # most frequent first
    ids, mask = tok.encode(["the cat", "a dog sat the end"], max_len=4)
    assert ids.shape == (2, 4)
    assert ids[0].tolist() == [1, tok.index["the"], tok.index["cat"], 0]
    assert ids[1].tolist() == [1, 2, tok.index["dog"], tok.index["sat"]]  # 'a' unknown, truncated
    assert mask.tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    with pytest.raises(ValueError, match="must start with"):
        T.WordTokenizer(["a", "b", "c"])


def test_transformer_encoder_shapes_and_padding_invariance():
    torch.manual_seed(0)
    tok = T.WordTokenizer.fit(["a happy day", "a sad night with rain"])
    enc = T.TransformerTextEncoder(len(tok), d_model=16, n_heads=2, n_layers=1).eval()
    ids, mask = tok.encode(["a happy day", "a sad night with rain"])
    out = enc(ids, mask)
    assert out.shape == (2, 16) and enc.embed_dim == 16
    # extra padding does not change the first-token state
    ids1, mask1 = tok.encode(["a happy day"])
    padded = torch.nn.functional.pad(ids1, (0, 5))
    with torch.no_grad():
        torch.testing.assert_close(enc(ids1, mask1), enc(padded, (padded != 0).long()),
                                   atol=1e-5, rtol=1e-5)
    out.sum().backward()
    assert enc.tok.weight.grad is not None
    with pytest.raises(ValueError, match="divisible"):
        T.TransformerTextEncoder(10, d_model=10, n_heads=3)


def _tiny_distilbert(tmp_path):
    from transformers import DistilBertConfig, DistilBertModel, DistilBertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
             "a", "happy", "sad", "day", "the", "story"]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(words) + "\n")
    tok = DistilBertTokenizer(vocab_file=str(vocab))
    cfg = DistilBertConfig(vocab_size=len(words), dim=16, hidden_dim=32, n_layers=1, n_heads=2,
                           max_position_embeddings=32)
    torch.manual_seed(0)
    model = DistilBertModel(cfg)
    out = tmp_path / "tiny-distilbert"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out, model, tok


def test_from_pretrained_tiny_distilbert(tmp_path):
    folder, model, tok = _tiny_distilbert(tmp_path)
    enc = T.from_pretrained(folder)  # first-token pooling, as Won et al.
    assert enc.embed_dim == 16
    texts = ["a happy day", "the sad story"]
    emb = enc.encode(texts)
    assert emb.shape == (2, 16)
    batch = tok(texts, padding=True, return_tensors="pt")
    model.eval()
    with torch.no_grad():
        ref = model(**batch).last_hidden_state[:, 0]
    torch.testing.assert_close(emb, ref, atol=1e-5, rtol=1e-5)
    mean = T.from_pretrained(folder, pooling="mean", normalize=True).encode(texts)
    m = batch["attention_mask"].unsqueeze(-1).float()
    with torch.no_grad():
        ref_mean = (model(**batch).last_hidden_state * m).sum(1) / m.sum(1)
    torch.testing.assert_close(mean, torch.nn.functional.normalize(ref_mean, dim=-1),
                               atol=1e-5, rtol=1e-5)
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        T.from_pretrained(tmp_path / "no-such-model")
    with pytest.raises(ValueError, match="pooling"):
        T.from_pretrained(folder, pooling="max")


def test_minilm_offline_sentence_embeddings(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    enc = T.minilm()
    texts = ["I am so happy today!", "I feel joyful and glad.", "The dog died and I cried."]
    emb = enc.encode(texts).numpy()
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]  # semantic: happy ~ joyful, not grief
    cached = T.embed_texts(texts, cache=True)
    np.testing.assert_allclose(cached, emb, atol=1e-6)
    assert len(list((tmp_path / "text_embeddings").glob("minilm-*.npy"))) == 1
    np.testing.assert_array_equal(T.embed_texts(texts), cached)  # from the cache


def test_packed_tokens_reproduce_encode_and_train(tmp_path):
    """Fine-tuning path: packed token rows through a trainable encoder = the frozen encode()."""
    folder, _, _ = _tiny_distilbert(tmp_path)
    enc = T.from_pretrained(folder, pooling="mean")
    texts = ["a happy day", "the sad story a day", "sad"]
    packed = T.pack_tokens(enc, texts)
    assert packed.shape[:2] == (3, 2) and packed.dtype == torch.long
    branch = T.PackedTokenEncoder(enc).eval()
    with torch.no_grad():
        torch.testing.assert_close(branch(packed), enc.encode(texts), atol=1e-5, rtol=1e-5)
        # a batch of short rows only: its padding tail is dropped, the result is unchanged
        torch.testing.assert_close(branch(packed[[2]]), enc.encode(texts[2:]), atol=1e-5, rtol=1e-5)
    branch.train()
    branch(packed).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.model.parameters())
    with pytest.raises(ValueError, match="packed tokens"):
        branch(packed[:, 0])
