"""Softmax focal loss (Lin et al. 2017), the music classifier's loss in Won et al. 2021.

    FL(p_t) = − α_t (1 − p_t)^γ log p_t ,   p_t = softmax(logits)[target],  γ = 2.

With γ = 0 and no α it is the cross-entropy.

Notebook: 01_won2021.ipynb.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from ._reduce import check_batch, check_finite_number, check_reduction, reduce_loss

__all__ = ["focal_loss", "FocalLoss"]


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
               alpha: Sequence[float] | torch.Tensor | None = None,
               reduction: str = "mean") -> torch.Tensor:
    """Multi-class focal loss of ``logits`` (N, C) for integer ``target`` (N,).

    ``alpha``: optional per-class weights (C,). ``reduction``: "mean" | "sum" | "none".
    Refused with ``ValueError`` naming the argument (never a NaN loss): an empty batch,
    NaN/inf logits, a target that is not a class index in ``[0, C)`` (negative, too large,
    fractional), ``target`` of another length than the batch, a non-finite or negative
    ``gamma`` / ``alpha``. Notebook: 01_won2021.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"focal_loss: logits and target must be torch.Tensors, got "
                        f"{type(logits).__name__} and {type(target).__name__}")
    if logits.dim() != 2 or target.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, C) and target (N,), got {tuple(logits.shape)} "
                         f"and {tuple(target.shape)}")
    check_batch("focal_loss", logits=logits)
    check_finite_number("gamma", gamma, at_least=0.0)
    check_reduction(reduction)
    n_classes = logits.shape[1]
    if target.is_complex() or target.dtype == torch.bool:
        raise ValueError(f"focal_loss: target must hold integer class indices, got dtype "
                         f"{target.dtype}")
    if target.is_floating_point() and not bool((target == target.round()).all()):
        raise ValueError("focal_loss: target must hold integer class indices, got fractional "
                         "(or NaN) values")
    out_of_range = (target < 0) | (target >= n_classes)
    if bool(out_of_range.any()):
        i = int(out_of_range.nonzero()[0, 0])
        raise ValueError(f"focal_loss: target must hold class indices in [0, {n_classes}) "
                         f"(logits has {n_classes} classes), got {target[i].item()!r} at "
                         f"position {i}")
    logpt = F.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    pt = logpt.exp()  # not detached: the gradient is that of the formula above
    if alpha is not None:
        a = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
        if a.shape != (logits.shape[1],):
            raise ValueError(f"alpha must have one weight per class ({logits.shape[1]}), "
                             f"got {tuple(a.shape)}")
        if not bool((torch.isfinite(a) & (a >= 0)).all()):
            raise ValueError(f"alpha must hold finite class weights >= 0, got {a.tolist()}")
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
