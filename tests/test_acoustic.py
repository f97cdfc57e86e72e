"""Tests for emolib.encoders.acoustic: Table 1 layout, shapes, the arousal head."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from emolib.encoders.acoustic import ZHU_TABLE1, AcousticEncoder, masked_mean


def test_table1_layers():
    enc = AcousticEncoder()
    convs = [m for m in enc.conv if isinstance(m, nn.Conv2d)]
    pools = [m for m in enc.conv if isinstance(m, nn.MaxPool2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == \
        [(ch, k, s) for ch, k, s, _ in ZHU_TABLE1] == [(64, 3, 1), (128, 3, 1), (256, 3, 1)]
    assert [p.kernel_size for p in pools] == [2, 2, 2]


def test_shapes_and_flattening():
    torch.manual_seed(0)
    enc = AcousticEncoder(n_rows=150, channels=(4, 8, 16), d_model=32).eval()
    seq, arousal = enc(torch.randn(2, 150, 64))
    assert seq.shape == (2, 8, 32) and arousal.shape == (2,)
    assert enc.proj[0].in_features == 16 * (150 // 8)
    with pytest.raises(ValueError, match="expects"):
        enc(torch.randn(2, 149, 64))
    with pytest.raises(ValueError, match="frames"):
        enc(torch.randn(2, 150, 4))


def test_row_normalisation_removes_row_scale():
    """The per-row BatchNorm makes the encoder blind to each row's offset and scale."""
    torch.manual_seed(0)
    enc = AcousticEncoder(n_rows=16, channels=(2, 2, 2), d_model=4, dropout=0.0).train()
    x = torch.randn(8, 16, 16)
    scale = torch.linspace(1, 1000, 16)[None, :, None]
    assert torch.allclose(enc.encode(x * scale + 50), enc.encode(x), atol=1e-3)


def test_masked_mean():
    seq = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert masked_mean(seq, torch.tensor([[False, False, True]])).item() == 2.0
    assert masked_mean(seq).item() == pytest.approx(104 / 3)
