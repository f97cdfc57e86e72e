"""Checks and the ``reduction`` argument shared by the losses of this package.

Every loss refuses bad input before computing anything, with a ``ValueError`` (``TypeError``
for a non-tensor) naming the argument and what was expected, instead of returning NaN:
an empty batch, NaN or inf values, a bad ``reduction``.

Notebooks: 01_won2021 (triplet, focal), 02_emoclim2024 (supcon).
"""
from __future__ import annotations

import math

import torch

__all__ = ["reduce_loss", "check_reduction", "check_batch", "check_finite_number"]

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    """``ValueError`` unless ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``.

    Notebook: 01_won2021."""
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def check_finite_number(name: str, value: object, *, above: float | None = None,
                        at_least: float | None = None) -> float:
    """``value`` as a float, or ``ValueError`` naming ``name`` if it is not a finite real
    number (a ``bool`` included), or not ``> above`` / ``>= at_least`` when those are given.

    Notebooks: 01_won2021 (margin, gamma), 02_emoclim2024 (temperature, weights)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, RuntimeError):
        v = math.nan
    want, ok = "", True
    if above is not None:
        want, ok = f" > {above:g}", v > above
    elif at_least is not None:
        want, ok = f" >= {at_least:g}", v >= at_least
    if isinstance(value, bool) or not math.isfinite(v) or not ok:
        raise ValueError(f"{name} must be a finite number{want}, got {value!r}")
    return v


def check_batch(func: str, **tensors: torch.Tensor) -> None:
    """Refuse non-tensors, empty batches and NaN/inf values, naming the argument.

    Each keyword is an argument of ``func`` (named in the message): it must be a tensor
    with at least one row and one element; floating-point ones must be finite (one
    ``torch.isfinite(x).all()`` each, no copy). Notebooks: 01_won2021, 02_emoclim2024.
    """
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{func}: {name} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0 or t.numel() == 0:
            raise ValueError(f"{func}: {name} is empty (shape {tuple(t.shape)}); "
                             "expected a batch of at least one row")
    for name, t in tensors.items():
        if (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all()):
            n_bad = int((~torch.isfinite(t)).sum())
            raise ValueError(f"{func}: {name} contains {n_bad} NaN or inf value(s) "
                             f"(shape {tuple(t.shape)}); expected finite numbers")


def reduce_loss(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce per-sample losses: ``"mean"``, ``"sum"`` or ``"none"`` (returned as is).

    Notebook: 01_won2021 (through the triplet and focal losses)."""
    check_reduction(reduction)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses
