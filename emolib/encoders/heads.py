"""Small heads on top of encoders: projection MLPs into a joint space, MLP classifiers.

* :class:`ProjectionHead` — Linear → BatchNorm → ReLU → Dropout → Linear (→ L2-normalise).
  Emo-CLIM (§3.2): ``ProjectionHead(d, hidden=256, out_dim=128, dropout=0.5)`` per modality.
  Won et al. 2021 use the same shape for their 256 → 128 → 64 branch heads
  (``ProjectionHead(256, hidden=128, out_dim=64, ...)``).
* :class:`MLPClassifier` — Linear → BatchNorm → ReLU → (Dropout) → Linear, logits out.
  Emo-CLIM's tagging head (§4.4): ``MLPClassifier(e, n_tags)`` (hidden = e, no dropout).

Notebooks: 01_won2021.ipynb, 02_emoclim2024.ipynb.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ProjectionHead", "MLPClassifier"]


def _positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


class ProjectionHead(nn.Module):
    """Two-layer projection MLP into a joint embedding space.

    Args:
        in_dim: input feature size (the encoder's output width).
        hidden: width of the hidden layer (256 in Emo-CLIM).
        out_dim: joint-space dimension (128 in Emo-CLIM).
        dropout: dropout probability after the ReLU (0.5 in Emo-CLIM).
        normalize: L2-normalise the output (True in Emo-CLIM).
        batchnorm: include the BatchNorm layer (True in the papers).
    """

    def __init__(self, in_dim: int, hidden: int = 256, out_dim: int = 128,
                 dropout: float = 0.5, normalize: bool = True, batchnorm: bool = True) -> None:
        super().__init__()
        for name, val in (("in_dim", in_dim), ("hidden", hidden), ("out_dim", out_dim)):
            _positive(name, val)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_dim, self.out_dim, self.normalize = in_dim, out_dim, normalize
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden) if batchnorm else nn.Identity(),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_dim) → (B, out_dim), unit-norm rows when ``normalize``."""
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"ProjectionHead expects (batch, {self.in_dim}), got {tuple(x.shape)}")
        z = self.net(x)
        return F.normalize(z, dim=1) if self.normalize else z


class MLPClassifier(nn.Module):
    """Linear → BatchNorm → ReLU → Dropout → Linear; returns logits (use BCE/CE with logits).

    Args:
        in_dim: input feature size.
        n_out: number of classes / tags.
        hidden: hidden width (default ``in_dim``, as Emo-CLIM's tagging head).
        dropout: dropout after the ReLU (default 0: Emo-CLIM's head has none).
        batchnorm: include the BatchNorm layer.
    """

    def __init__(self, in_dim: int, n_out: int, hidden: int | None = None,
                 dropout: float = 0.0, batchnorm: bool = True) -> None:
        super().__init__()
        hidden = in_dim if hidden is None else hidden
        for name, val in (("in_dim", in_dim), ("n_out", n_out), ("hidden", hidden)):
            _positive(name, val)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_dim, self.n_out = in_dim, n_out
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden) if batchnorm else nn.Identity(),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_out),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_dim) → (B, n_out) logits."""
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"MLPClassifier expects (batch, {self.in_dim}), got {tuple(x.shape)}")
        return self.net(x)
