"""Zhu et al. (2023)'s acoustic-domain branch: a 3-layer 2-D ConvNet on mixed features.

Table 1 of the paper:

=====  =======  ===========  ======  ==========
layer  channel  kernel size  stride  maxpooling
=====  =======  ===========  ======  ==========
conv1  64       3x3          1       2x2
conv2  128      3x3          1       2x2
conv3  256      3x3          1       2x2
=====  =======  ===========  ======  ==========

Input: a ``(B, n_rows, T)`` feature matrix (:func:`emolib.features.mixed_features`, or the
STFT-only input of the ablation). A learned per-row BatchNorm first puts the rows (MFCC,
dB mel bands, log centroid, dB RMS) on one scale — our choice, the paper does not say how
the spliced features are scaled. After the conv stack "the extracted features are
flattened and combined in the channel dimension": each of the ``T/8`` time steps becomes
one vector of ``256 x n_rows/8`` values, projected to ``d_model`` — the acoustic token
sequence that the cross-domain attention consumes. The auxiliary head predicts binary
**arousal** from the time-averaged sequence (BCE; §3.1 "Acoustic Domain Analysis for
Arousal Modeling").

Notebook: 04_zhu2023.
"""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["ZHU_TABLE1", "AcousticEncoder", "masked_mean"]

#: (channels, kernel, stride, pool) per conv layer, Zhu et al. (2023) Table 1.
ZHU_TABLE1: tuple[tuple[int, int, int, int], ...] = ((64, 3, 1, 2), (128, 3, 1, 2), (256, 3, 1, 2))


def masked_mean(seq: Tensor, pad_mask: Tensor | None = None) -> Tensor:
    """Mean over time of ``(B, L, d)``; ``pad_mask`` ``(B, L)`` is True at padded steps."""
    if pad_mask is None:
        return seq.mean(dim=1)
    keep = (~pad_mask).unsqueeze(-1).to(seq.dtype)
    return (seq * keep).sum(dim=1) / keep.sum(dim=1).clamp_min(1.0)


class AcousticEncoder(nn.Module):
    """3 x (Conv 3x3 stride 1 -> BN -> ReLU -> MaxPool 2x2) -> per-step projection.

    Args:
        n_rows: feature rows of the input (150 for 20 MFCC + 128 mel + centroid + RMS).
        channels: conv widths (paper: 64, 128, 256).
        d_model: width of the output token sequence (shared with the symbolic branch).
        dropout: dropout on the projected sequence.

    ``forward(x)`` takes ``(B, n_rows, T)`` and returns ``(seq (B, T // 8, d_model),
    arousal_logit (B,))``.
    """

    def __init__(self, n_rows: int = 150, channels: Sequence[int] = (64, 128, 256),
                 d_model: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        if n_rows < 2 ** len(channels):
            raise ValueError(f"n_rows={n_rows} is too small for {len(channels)} 2x2 poolings")
        self.n_rows, self.d_model = n_rows, d_model
        self.input_norm = nn.BatchNorm1d(n_rows)
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, kernel_size=3, stride=1, padding=1),
                       nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.conv = nn.Sequential(*layers)
        self.n_pool = len(channels)
        self.proj = nn.Sequential(nn.Linear(c_in * (n_rows // 2 ** len(channels)), d_model),
                                  nn.Dropout(dropout))
        self.arousal_head = nn.Linear(d_model, 1)

    @property
    def min_frames(self) -> int:
        """Fewest input frames that leave at least one time step after pooling."""
        return 2 ** self.n_pool

    def encode(self, x: Tensor) -> Tensor:
        """``(B, n_rows, T)`` -> acoustic token sequence ``(B, T // 8, d_model)``."""
        if x.ndim != 3 or x.shape[1] != self.n_rows:
            raise ValueError(f"AcousticEncoder expects (batch, {self.n_rows}, frames), "
                             f"got {tuple(x.shape)}")
        if x.shape[-1] < self.min_frames:
            raise ValueError(f"AcousticEncoder needs >= {self.min_frames} frames, "
                             f"got {x.shape[-1]}")
        h = self.conv(self.input_norm(x).unsqueeze(1))        # (B, C, F', T')
        b, c, f, t = h.shape
        h = h.permute(0, 3, 1, 2).reshape(b, t, c * f)        # channels x freq per time step
        return self.proj(h)

    def arousal_logit(self, seq: Tensor) -> Tensor:
        """Auxiliary arousal logit ``(B,)`` from the time-averaged sequence."""
        return self.arousal_head(seq.mean(dim=1)).squeeze(-1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        seq = self.encode(x)
        return seq, self.arousal_logit(seq)
