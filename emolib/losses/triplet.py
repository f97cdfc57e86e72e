"""Triplet loss with cosine distance, and distance-weighted negative sampling (Won et al. 2021).

Won et al. (ISMIR 2021, Eq. 2) train their metric-learning models with

    T(E_a, E_p, E_n) = [ D(E_a, E_p) − D(E_a, E_n) + δ ]_+ ,   D = 1 − cos,  δ = 0.2,

i.e. ``relu(δ − cos(a, p) + cos(a, n))``, averaged over *all* triplets (including the
zero ones). One negative per anchor is drawn among the in-batch candidates of a *different*
label with probability ∝ a weight; two weightings (``weighting`` of :func:`sample_triplets`):

* ``"official"`` (default) — Won et al.'s official code: ``(cos(a_i, c_j) + 1) / 2``
  (:func:`distance_weights`): closer candidates, harder negatives, are drawn more often.
  The paper cites distance-weighted sampling (Wu et al. 2017) for it, but this is not
  Wu's weighting;
* ``"distance_weighted"`` — Wu, Manmatha, Smola & Krähenbühl (ICCV 2017, §4): with ``d``
  the Euclidean distance of the L2-normalised embeddings (dimension ``n``), clipped below at
  ``cutoff`` = 0.5, the weight is ``q(d)⁻¹`` with ``q(d) ∝ d^(n−2) (1 − d²/4)^((n−3)/2)``
  (the density of distances between random points on the sphere), zero for
  ``d ≥ nonzero_loss_cutoff`` = 1.4 (:func:`wu_distance_weights`; equal to
  pytorch-metric-learning's ``DistanceWeightedMiner`` weights, tested).

Notebook: 01_won2021.ipynb.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ._reduce import check_batch, check_finite_number, check_reduction, reduce_loss

__all__ = ["triplet_loss", "TripletLoss", "distance_weights", "wu_distance_weights",
           "distance_weighted_negatives", "sample_triplets", "WEIGHTINGS"]

#: Negative weightings of :func:`sample_triplets` (see the module docstring).
WEIGHTINGS: tuple[str, ...] = ("official", "distance_weighted")


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                 margin: float = 0.2, reduction: str = "mean") -> torch.Tensor:
    """``relu(margin − cos(a, p) + cos(a, n))`` per row; ``reduction`` "mean" | "sum" | "none".

    "mean" averages over all triplets (Won's code). pytorch-metric-learning's
    ``TripletMarginLoss`` averages only the non-zero ones by default (AvgNonZeroReducer).
    An empty batch (e.g. :func:`sample_triplets` of a batch with a single label), NaN/inf
    embeddings or a non-finite ``margin`` raise ``ValueError`` naming the argument.
    Notebook: 01_won2021.
    """
    check_batch("triplet_loss", anchor=anchor, positive=positive, negative=negative)
    if anchor.shape != positive.shape or anchor.shape != negative.shape:
        raise ValueError(f"anchor, positive, negative must share a shape, got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)}, {tuple(negative.shape)}")
    check_finite_number("margin", margin)
    check_reduction(reduction)
    losses = F.relu(margin - F.cosine_similarity(anchor, positive, dim=-1)
                    + F.cosine_similarity(anchor, negative, dim=-1))
    return reduce_loss(losses, reduction)


class TripletLoss(torch.nn.Module):
    """Module form of :func:`triplet_loss` (cosine distance, margin 0.2 by default)."""

    def __init__(self, margin: float = 0.2) -> None:
        super().__init__()
        self.margin = margin

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor,
                negative: torch.Tensor) -> torch.Tensor:
        return triplet_loss(anchor, positive, negative, self.margin)


def distance_weights(anchor: torch.Tensor, candidates: torch.Tensor, anchor_labels: torch.Tensor,
                     candidate_labels: torch.Tensor) -> torch.Tensor:
    """Sampling weights (N, M): ``(cos(a_i, c_j) + 1) / 2`` where labels differ, else 0.

    ``anchor_labels`` (N,) are the labels the anchors' positives carry, in the candidates'
    label space (e.g. the nearest music tag of a text's emotion); ``candidate_labels`` (M,).
    Computed without gradient. Empty or non-finite embeddings, labels of the wrong length
    and embeddings of different widths raise ``ValueError`` naming the argument.
    Notebook: 01_won2021 (through :func:`sample_triplets`).
    """
    check_batch("distance_weights", anchor=anchor, candidates=candidates,
                anchor_labels=anchor_labels, candidate_labels=candidate_labels)
    if anchor.ndim != 2 or candidates.ndim != 2 or anchor.shape[1] != candidates.shape[1]:
        raise ValueError(f"anchor and candidates must be (rows, dim) with the same dim, got "
                         f"{tuple(anchor.shape)} and {tuple(candidates.shape)}")
    if (anchor_labels.shape != (anchor.shape[0],)
            or candidate_labels.shape != (candidates.shape[0],)):
        raise ValueError("anchor_labels / candidate_labels must be 1-D with one entry per row of "
                         f"anchor / candidates, got {tuple(anchor_labels.shape)} for "
                         f"{anchor.shape[0]} anchors and {tuple(candidate_labels.shape)} for "
                         f"{candidates.shape[0]} candidates")
    with torch.no_grad():
        cos = F.normalize(anchor.detach(), dim=-1) @ F.normalize(candidates.detach(), dim=-1).T
        mask = anchor_labels.unsqueeze(1) != candidate_labels.unsqueeze(0)
        return ((cos + 1.0) / 2.0) * mask


def wu_distance_weights(anchor: torch.Tensor, candidates: torch.Tensor,
                        anchor_labels: torch.Tensor, candidate_labels: torch.Tensor, *,
                        cutoff: float = 0.5, nonzero_loss_cutoff: float = 1.4) -> torch.Tensor:
    """Wu et al. (2017) sampling weights (N, M), each row normalised to sum 1 (all zeros
    when an anchor has no candidate): ``q(d)⁻¹`` for candidates of a different label at
    distance ``d < nonzero_loss_cutoff``, ``d`` clipped below at ``cutoff`` (see the
    module docstring). Same argument checks as :func:`distance_weights`; no gradient.
    Notebook: 01_won2021 (``negative_sampling="distance_weighted"``).
    """
    distance_weights(anchor, candidates, anchor_labels, candidate_labels)  # the checks
    with torch.no_grad():
        n = float(anchor.shape[1])
        a = F.normalize(anchor.detach(), dim=-1).double()
        c = F.normalize(candidates.detach(), dim=-1).double()
        d = torch.cdist(a, c).clamp(min=float(cutoff))
        log_w = (2.0 - n) * torch.log(d) - ((n - 3.0) / 2.0) * torch.log(1.0 - 0.25 * d ** 2)
        ok = (anchor_labels.unsqueeze(1) != candidate_labels.unsqueeze(0)) \
            & (d < float(nonzero_loss_cutoff)) & torch.isfinite(log_w)
        log_w = torch.where(ok, log_w, torch.full_like(log_w, -torch.inf))
        row_max = log_w.max(dim=1, keepdim=True).values
        w = torch.where(ok, torch.exp(log_w - torch.where(torch.isfinite(row_max), row_max,
                                                          torch.zeros_like(row_max))),
                        torch.zeros_like(log_w))
        total = w.sum(dim=1, keepdim=True)
        return torch.where(total > 0, w / total.clamp(min=1e-300), w).to(anchor.dtype)


def distance_weighted_negatives(anchor: torch.Tensor, candidates: torch.Tensor,
                                anchor_labels: torch.Tensor, candidate_labels: torch.Tensor,
                                generator: torch.Generator | None = None, *,
                                weighting: str = "official") -> torch.Tensor:
    """One negative index per anchor, drawn ∝ the ``weighting``'s weights: "official"
    (:func:`distance_weights`, Won et al.'s code) or "distance_weighted"
    (:func:`wu_distance_weights`, Wu et al. 2017).

    Returns a LongTensor (N,) of candidate indices; anchors with no different-label
    candidate get −1. If all of an anchor's valid weights are 0 (cosine exactly −1; with
    Wu's weighting, every candidate beyond the non-zero-loss cutoff), it draws uniformly
    among the different-label candidates. Pass a seeded ``generator`` for reproducibility.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting={weighting!r}: expected one of {list(WEIGHTINGS)}")
    weigh = distance_weights if weighting == "official" else wu_distance_weights
    w = weigh(anchor, candidates, anchor_labels, candidate_labels).double()
    valid = anchor_labels.unsqueeze(1) != candidate_labels.unsqueeze(0)
    has_neg = valid.any(dim=1)
    out = torch.full((anchor.shape[0],), -1, dtype=torch.long)
    if not has_neg.any():
        return out
    w = w[has_neg]
    zero = w.sum(dim=1) <= 0
    if zero.any():
        w[zero] = valid[has_neg][zero].double()
    out[has_neg] = torch.multinomial(w, 1, generator=generator).squeeze(1).cpu()
    return out


def sample_triplets(anchor: torch.Tensor, positive: torch.Tensor, labels: torch.Tensor,
                    generator: torch.Generator | None = None, *, weighting: str = "official",
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """In-batch triplets as in Won's code: (anchor_i, positive_i, positive_{neg(i)}).

    ``anchor[i]`` and ``positive[i]`` are a matching pair whose label (in the positives'
    label space) is ``labels[i]``; the negative of anchor i is another row's positive with
    a different label, drawn by :func:`distance_weighted_negatives` with ``weighting``
    ("official" | "distance_weighted"). Anchors without any different-label candidate in
    the batch are dropped.
    """
    neg = distance_weighted_negatives(anchor, positive, labels, labels, generator,
                                      weighting=weighting)
    keep = neg >= 0
    idx = neg[keep].to(positive.device)
    keep = keep.to(anchor.device)
    return anchor[keep], positive[keep], positive[idx]
