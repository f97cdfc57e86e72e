"""Softmax focal loss (Lin et al. 2017), the music classifier's loss in Won et al. 2021.

    FL(p_t) = − α_t (1 − p_t)^γ log p_t ,   p_t = softmax(logits)[target],  γ = 2.

With γ = 0 and no α it is the cross-entropy.

Notebook: 01_won2021.ipynb.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from ._reduce import reduce_loss

__all__ = ["focal_loss", "FocalLoss"]


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
               alpha: Sequence[float] | torch.Tensor | None = None,
               reduction: str = "mean") -> torch.Tensor:
    """Multi-class focal loss of ``logits`` (N, C) for integer ``target`` (N,).

    ``alpha``: optional per-class weights (C,). ``reduction``: "mean" | "sum" | "none".
    """
    if logits.dim() != 2 or target.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, C) and target (N,), got {tuple(logits.shape)} "
                         f"and {tuple(target.shape)}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    logpt = F.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    pt = logpt.exp()  # not detached: the gradient is that of the formula above
    if alpha is not None:
        a = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
        if a.shape != (logits.shape[1],):
            raise ValueError(f"alpha must have one weight per class ({logits.shape[1]}), got {tuple(a.shape)}")
        logpt = logpt * a[target.long()]
    losses = -((1.0 - pt) ** gamma) * logpt
    return reduce_loss(losses, reduction)


class FocalLoss(torch.nn.Module):
    """Module form of :func:`focal_loss` (γ = 2 by default)."""

    def __init__(self, gamma: float = 2.0, alpha: Sequence[float] | None = None) -> None:
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return focal_loss(logits, target, self.gamma, self.alpha)
