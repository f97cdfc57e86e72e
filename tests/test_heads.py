"""Projection heads and MLP classifier (Emo-CLIM §3.2, §4.4; Won 2021 branch heads)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from emolib.encoders.heads import MLPClassifier, ProjectionHead


def test_projection_head_layers_in_paper_order():
    head = ProjectionHead(512)
    kinds = [type(m) for m in head.net]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    assert head.net[0].in_features == 512 and head.net[0].out_features == 256
    assert head.net[3].p == 0.5 and head.net[4].out_features == 128


def test_projection_head_unit_norm_and_shape():
    torch.manual_seed(0)
    head = ProjectionHead(32, hidden=16, out_dim=8)
    z = head(torch.randn(10, 32))
    assert z.shape == (10, 8)
    assert torch.allclose(z.norm(dim=1), torch.ones(10), atol=1e-6)
    raw = ProjectionHead(32, hidden=16, out_dim=8, normalize=False).eval()(torch.randn(4, 32))
    assert not torch.allclose(raw.norm(dim=1), torch.ones(4), atol=1e-3)


def test_projection_head_eval_matches_manual_computation():
    torch.manual_seed(1)
    head = ProjectionHead(6, hidden=5, out_dim=3, dropout=0.5).eval()
    head.net[1].running_mean.uniform_(-1, 1)
    head.net[1].running_var.uniform_(0.5, 2)
    x = torch.randn(4, 6)
    lin1, bn, lin2 = head.net[0], head.net[1], head.net[4]
    h = x @ lin1.weight.T + lin1.bias
    h = (h - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    h = torch.relu(h) @ lin2.weight.T + lin2.bias
    want = h / h.norm(dim=1, keepdim=True)
    assert torch.allclose(head(x), want, atol=1e-6)
    assert torch.equal(head(x), head(x))  # dropout inactive in eval


def test_won_branch_head_shape():
    head = ProjectionHead(256, hidden=128, out_dim=64)
    assert head(torch.randn(3, 256)).shape == (3, 64)


def test_mlp_classifier():
    torch.manual_seed(2)
    clf = MLPClassifier(16, 50)
    assert [type(m) for m in clf.net] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    assert clf.net[0].out_features == 16  # hidden defaults to in_dim (Emo-CLIM tagging head)
    assert clf(torch.randn(5, 16)).shape == (5, 50)
    assert MLPClassifier(16, 3, hidden=7, batchnorm=False).net[1].__class__ is nn.Identity


def test_heads_bad_input():
    with pytest.raises(ValueError, match="in_dim"):
        ProjectionHead(0)
    with pytest.raises(ValueError, match="dropout"):
        ProjectionHead(4, dropout=1.0)
    with pytest.raises(ValueError, match=r"\(batch, 4\)"):
        ProjectionHead(4)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="n_out"):
        MLPClassifier(4, 0)
