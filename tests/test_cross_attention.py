"""Tests for emolib.encoders.cross_attention: CDA against a hand computation, shapes,
key padding masks, the multi-domain model, and the loss composition."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from emolib.encoders import cross_attention as C
from emolib.encoders.acoustic import AcousticEncoder
from emolib.encoders.symbolic import SymbolicEncoder


def test_cda_matches_hand_computation_and_nn_multiheadattention():
    torch.manual_seed(0)
    cda = C.CrossDomainAttention(d_model=8, n_heads=2).eval()
    fa, fb = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    out, attn = cda(fa, fb)
    assert out.shape == (2, 3, 8) and attn.shape == (2, 2, 3, 5)
    # Eq. (1)-(3) written out for head 0 of item 0
    q = cda.w_q(fa)[0, :, :4]
    k = cda.w_k(fb)[0, :, :4]
    a0 = torch.softmax(q @ k.T / math.sqrt(4), dim=-1)
    assert torch.allclose(attn[0, 0], a0, atol=1e-6)
    # same weights in torch's MultiheadAttention give the same output
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([cda.w_q.weight, cda.w_k.weight, cda.w_v.weight]))
        mha.in_proj_bias.copy_(torch.cat([cda.w_q.bias, cda.w_k.bias, cda.w_v.bias]))
        mha.out_proj.weight.copy_(cda.w_o.weight)
        mha.out_proj.bias.copy_(cda.w_o.bias)
    ref, _ = mha(fa, fb, fb)
    assert torch.allclose(out, ref, atol=1e-5)


def test_cda_key_padding_mask():
    torch.manual_seed(1)
    cda = C.CrossDomainAttention(d_model=8, n_heads=4).eval()
    fa, fb = torch.randn(2, 3, 8), torch.randn(2, 6, 8)
    pad = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    out, attn = cda(fa, fb, pad)
    assert torch.all(attn[1, :, :, 4:] == 0)
    assert torch.allclose(attn.sum(-1), torch.ones(2, 4, 3))
    fb2 = fb.clone()
    fb2[1, 4:] = 100.0  # padded content must not matter
    out2, _ = cda(fa, fb2, pad)
    assert torch.allclose(out, out2, atol=1e-6)
    alone, _ = cda(fa[1:], fb[1:, :4])  # and equals the unpadded computation
    assert torch.allclose(out[1:], alone, atol=1e-6)
    with pytest.raises(ValueError, match="every key"):
        cda(fa, fb, torch.ones(2, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="beta_pad_mask"):
        cda(fa, fb, torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="divisible"):
        C.CrossDomainAttention(d_model=10, n_heads=4)


def _model(d=16):
    torch.manual_seed(0)
    ac = AcousticEncoder(n_rows=24, channels=(4, 8, 8), d_model=d, dropout=0.0)
    sy = SymbolicEncoder(50, d_model=d, n_heads=2, n_layers=2, d_ff=32, max_len=32, dropout=0.0)
    return C.MultiDomainClassifier(ac, sy, d_model=d, n_heads=2, dropout=0.0).eval()


def test_multi_domain_shapes_and_symbolic_padding_invariance():
    m = _model()
    feats = torch.randn(3, 24, 40)
    tokens = torch.randint(3, 50, (3, 10))
    pad = torch.zeros(3, 10, dtype=torch.bool)
    pad[2, 6:] = True
    out = m(feats, tokens, pad)
    assert out["logits"].shape == (3, 4)
    assert out["arousal"].shape == out["valence"].shape == (3,)
    assert out["attn_acoustic"].shape == (3, 2, 5, 10)   # 40 frames / 8 = 5 acoustic steps
    assert out["attn_symbolic"].shape == (3, 2, 10, 5)
    assert torch.all(out["attn_acoustic"][2, :, :, 6:] == 0)
    tokens2 = tokens.clone()
    tokens2[2, 6:] = 7
    out2 = m(feats, tokens2, pad)
    assert torch.allclose(out["logits"], out2["logits"], atol=1e-5)
    alone = m(feats[2:], tokens[2:, :6], None)
    assert torch.allclose(alone["logits"], out["logits"][2:], atol=1e-5)


def test_uni_domain_classifiers():
    torch.manual_seed(0)
    ac = AcousticEncoder(n_rows=24, channels=(4, 8, 8), d_model=16)
    out = C.UniDomainClassifier(ac, "acoustic", d_model=16).eval()(feats=torch.randn(2, 24, 16))
    assert out["logits"].shape == (2, 4) and set(out) == {"logits", "arousal"}
    sy = SymbolicEncoder(50, d_model=16, n_heads=2, n_layers=1, d_ff=32, max_len=32)
    out = C.UniDomainClassifier(sy, "symbolic", d_model=16).eval()(
        tokens=torch.randint(3, 50, (2, 7)))
    assert set(out) == {"logits", "valence"}
    with pytest.raises(ValueError, match="domain"):
        C.UniDomainClassifier(sy, "image")


def test_quadrant_to_binary():
    a, v = C.quadrant_to_binary(torch.tensor([0, 1, 2, 3]))
    assert a.tolist() == [1, 1, 0, 0]   # A high = Q1, Q2
    assert v.tolist() == [1, 0, 0, 1]   # V high = Q1, Q4


def test_loss_composition_equals_hand_sum():
    torch.manual_seed(0)
    out = {"logits": torch.randn(4, 4), "arousal": torch.randn(4), "valence": torch.randn(4)}
    q = torch.tensor([0, 1, 2, 3])
    ce = F.cross_entropy(out["logits"], q)
    bce_a = F.binary_cross_entropy_with_logits(out["arousal"], torch.tensor([1.0, 1, 0, 0]))
    bce_v = F.binary_cross_entropy_with_logits(out["valence"], torch.tensor([1.0, 0, 0, 1]))
    # hand BCE for one term, independently of torch
    p = torch.sigmoid(out["arousal"])
    y = torch.tensor([1.0, 1, 0, 0])
    assert torch.allclose(bce_a, -(y * p.log() + (1 - y) * (1 - p).log()).mean(), atol=1e-6)
    assert torch.allclose(C.zhu_loss(out, q), ce + bce_a + bce_v, atol=1e-6)
    assert torch.allclose(C.zhu_loss(out, q, aux_weight=0.0), ce)           # single-loss
    assert torch.allclose(C.zhu_loss(out, q, aux_weight=0.5), ce + 0.5 * (bce_a + bce_v), atol=1e-6)
    only_a = {"logits": out["logits"], "arousal": out["arousal"]}
    assert torch.allclose(C.zhu_loss(only_a, q), ce + bce_a, atol=1e-6)


def test_emopia_accuracies():
    acc = C.emopia_accuracies([0, 1, 2, 3], [1, 1, 3, 3])
    # 4Q: 2/4; arousal: Q1->Q2 ok, Q3->Q4 ok = 4/4; valence: Q1->Q2 wrong, Q3->Q4 wrong = 2/4
    assert acc == {"accuracy 4Q": 0.5, "accuracy A": 1.0, "accuracy V": 0.5}
    with pytest.raises(ValueError, match="equal length"):
        C.emopia_accuracies([0, 1], [0])
