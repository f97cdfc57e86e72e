"""The ``reduction`` argument shared by the per-sample losses of this package."""
from __future__ import annotations

import torch

__all__ = ["reduce_loss"]


def reduce_loss(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce per-sample losses: ``"mean"``, ``"sum"`` or ``"none"`` (returned as is)."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
