r"""Supervised contrastive (SupCon) loss, cross-modal and intra-modal (Emo-CLIM, Eq. 2–4).

Stewart et al. (ICASSP 2024) adapt SupCon (Khosla et al. 2020) to two modalities. For
anchors :math:`z_i^{(M_1)}` and a contrast set :math:`z_k^{(M_2)}` (:math:`k \in I`):

.. math::

    L_{M_1\to M_2} = -\frac{1}{N}\sum_{i=1}^{N}\frac{1}{|P(i)|}\sum_{p\in P(i)}
        \log\frac{\exp(z_i\cdot z_p/\tau)}{\sum_{k\in I}\exp(z_i\cdot z_k/\tau)},
    \qquad P(i) = \{p \in I \mid y_i^{(M_1)} = y_p^{(M_2)}\}

* **cross-modal** (:math:`M_1 \ne M_2`): the denominator runs over *all* :math:`M_2` items
  (no self mask — an image is never "itself" in the audio batch);
* **intra-modal** (:math:`M_1 = M_2`): the anchor's own entry is removed from both the
  numerator (positives) and the denominator; the other augmented view of the same item is a
  positive;
* anchors without any positive contribute 0 (divisor 1, as in the official code notes), and
  the mean still runs over all :math:`N` anchors;
* logits are ``dot / τ`` with the (detached) row maximum subtracted, τ = 0.07, no
  ``τ / base_τ`` rescaling;
* total (Eq. 4): :math:`0.25\,(L_{Im\to Au} + L_{Au\to Im} + L_{Im\to Im} + L_{Au\to Au})`.

One vectorised function, :func:`supcon`, serves all four terms; :func:`emoclim_loss` sums
them. Embeddings are expected L2-normalised (the projection heads do that); the loss uses
plain dot products, as the paper does.

Differences from ``pytorch_metric_learning.losses.SupConLoss`` (used as the independent
reference in ``tests/test_supcon.py``): PML normalises the embeddings itself (cosine
similarity), and its default ``AvgNonZeroReducer`` averages only over anchors whose loss is
non-zero, i.e. it drops anchors without positives from the mean, while Emo-CLIM divides by
all :math:`N`. With L2-normalised inputs, every anchor having a positive (or PML's
``MeanReducer``), PML equals :func:`supcon` — intra-modally with ``embeddings`` alone and
cross-modally with ``ref_emb``/``ref_labels`` (PML then keeps the diagonal, as Eq. 2 does).

Notebook: 02_emoclim2024.ipynb.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ._reduce import check_batch, check_finite_number

__all__ = ["supcon", "emoclim_loss", "flatten_views", "EMOCLIM_TERMS"]

#: Names of the four terms of Eq. 4, in the order of the paper.
EMOCLIM_TERMS: tuple[str, ...] = ("im2au", "au2im", "im2im", "au2au")


def _check(emb: Tensor, labels: Tensor, name: str, label_name: str) -> None:
    """Shapes first (the clearest message), then empty batches and NaN/inf values."""
    if not isinstance(emb, Tensor) or not isinstance(labels, Tensor):
        raise TypeError(f"supcon: {name} and {label_name} must be torch.Tensors, got "
                        f"{type(emb).__name__} and {type(labels).__name__}")
    if emb.ndim != 2:
        raise ValueError(f"{name} must be a 2-D tensor (batch, dim), got shape {tuple(emb.shape)}")
    if labels.ndim != 1 or labels.shape[0] != emb.shape[0]:
        raise ValueError(f"{name} labels ({label_name}) must be 1-D with {emb.shape[0]} entries "
                         f"(one per row of {name}), got shape {tuple(labels.shape)}")
    check_batch("supcon", **{name: emb, label_name: labels})


def supcon(anchors: Tensor, anchor_labels: Tensor, contrast: Tensor | None = None,
           contrast_labels: Tensor | None = None, *, temperature: float = 0.07,
           exclude_self: bool | None = None) -> Tensor:
    r"""SupCon loss of ``anchors`` (M1) against ``contrast`` (M2), Eq. 2 of Emo-CLIM.

    ``contrast=None`` means intra-modal (:math:`M_1 = M_2`): the contrast set is the anchor
    set and the self pair is excluded from numerator and denominator. With an explicit
    ``contrast`` the loss is cross-modal and nothing is excluded, unless
    ``exclude_self=True`` (then ``contrast`` must be the same batch, row for row).

    Args:
        anchors: (N, d) anchor embeddings, L2-normalised.
        anchor_labels: (N,) integer class ids.
        contrast: (K, d) embeddings of the other modality, or None (intra-modal).
        contrast_labels: (K,) class ids of ``contrast`` (required with ``contrast``).
        temperature: τ (0.07 in the paper).
        exclude_self: override the self-pair exclusion (default: True iff ``contrast`` is None).

    Returns:
        Scalar loss: −mean over the N anchors of the mean positive log-probability (an anchor
        without positives contributes 0).

    Raises:
        ValueError naming the argument (never a NaN loss): an empty batch, NaN/inf
        embeddings or labels, labels of another length than their batch, a temperature that
        is not a finite number > 0. Notebook: 02_emoclim2024.
    """
    check_finite_number("temperature", temperature, above=0.0)
    _check(anchors, anchor_labels, "anchors", "anchor_labels")
    if contrast is None:
        if contrast_labels is not None:
            raise ValueError("contrast_labels given without contrast")
        contrast, contrast_labels = anchors, anchor_labels
        exclude_self = True if exclude_self is None else exclude_self
    else:
        if contrast_labels is None:
            raise ValueError("contrast_labels are required when contrast is given")
        _check(contrast, contrast_labels, "contrast", "contrast_labels")
        exclude_self = False if exclude_self is None else exclude_self
    if contrast.shape[1] != anchors.shape[1]:
        raise ValueError(f"anchors have dim {anchors.shape[1]} but contrast has dim "
                         f"{contrast.shape[1]}")
    n, k = anchors.shape[0], contrast.shape[0]
    if exclude_self and n != k:
        raise ValueError(f"exclude_self needs as many contrast rows as anchors, got {n} and {k}")
    if exclude_self and k < 2:
        raise ValueError("intra-modal SupCon needs at least 2 items "
                         "(the denominator would be empty)")

    logits = anchors @ contrast.T / temperature                       # (N, K)
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()  # numerical stability
    positives = anchor_labels[:, None] == contrast_labels[None, :]     # (N, K) bool
    if exclude_self:
        self_mask = torch.eye(n, dtype=torch.bool, device=anchors.device)
        positives = positives & ~self_mask
        denom = torch.logsumexp(logits.masked_fill(self_mask, float("-inf")), dim=1, keepdim=True)
    else:
        denom = torch.logsumexp(logits, dim=1, keepdim=True)
    log_prob = logits - denom                                          # finite everywhere
    n_pos = positives.sum(dim=1).clamp(min=1).to(log_prob.dtype)       # divisor 1 if none
    mean_log_prob_pos = torch.where(positives, log_prob, 0.0).sum(dim=1) / n_pos
    return -mean_log_prob_pos.mean()


def emoclim_loss(z_image: Tensor, y_image: Tensor, z_audio: Tensor, y_audio: Tensor, *,
                 temperature: float = 0.07,
                 weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25)) -> dict[str, Tensor]:
    r"""The full Emo-CLIM objective (Eq. 4) and its four terms.

    ``weights`` are :math:`(\lambda_1, \lambda_2, \lambda_3, \lambda_4)` for
    (Im→Au, Au→Im, Im→Im, Au→Au). Returns a dict with keys ``EMOCLIM_TERMS`` and ``"total"``.
    Inputs are (B, d) embeddings with (B,) class ids in the *shared* label space (after the
    paper's image→audio label mapping); views are flattened into the batch beforehand
    (:func:`flatten_views`). Bad input raises ``ValueError`` as in :func:`supcon`; a
    non-finite weight names its index. Notebook: 02_emoclim2024.
    """
    if len(weights) != 4:
        raise ValueError(f"weights must have 4 entries (λ1..λ4), got {len(weights)}")
    for i, w in enumerate(weights):
        check_finite_number(f"weights[{i}]", w)
    terms = {
        "im2au": supcon(z_image, y_image, z_audio, y_audio, temperature=temperature),
        "au2im": supcon(z_audio, y_audio, z_image, y_image, temperature=temperature),
        "im2im": supcon(z_image, y_image, temperature=temperature),
        "au2au": supcon(z_audio, y_audio, temperature=temperature),
    }
    total = sum(w * terms[name] for w, name in zip(weights, EMOCLIM_TERMS))
    return {**terms, "total": total}


def flatten_views(z: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """(N, V, d) embeddings of V views → (V·N, d), view-major, with labels repeated V times.

    The other views of an item then count as positives of each other (same label).
    """
    if z.ndim != 3:
        raise ValueError(f"z must have shape (N, n_views, dim), got {tuple(z.shape)}")
    if labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"labels must have shape ({z.shape[0]},), got {tuple(labels.shape)}")
    n_views = z.shape[1]
    return torch.cat(torch.unbind(z, dim=1), dim=0), labels.repeat(n_views)
