"""Tests for emolib.losses.triplet (triplet loss, distance-weighted sampling) and focal loss."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pytorch_metric_learning.distances import CosineSimilarity
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.reducers import MeanReducer
from scipy.stats import chisquare

from emolib import losses as L


def test_triplet_hand_case():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    p = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    n = torch.tensor([[1.0, 1.0], [0.0, -1.0]])
    # row 0: relu(0.2 - 0 + 1/sqrt 2) = 0.9071; row 1: relu(0.2 - 1 + 0) = 0
    per = L.triplet_loss(a, p, n, reduction="none")
    np.testing.assert_allclose(per.numpy(), [0.2 + 1 / math.sqrt(2), 0.0], atol=1e-6)
    assert float(L.triplet_loss(a, p, n)) == pytest.approx((0.2 + 1 / math.sqrt(2)) / 2, abs=1e-6)
    assert float(L.TripletLoss(margin=0.5)(a, p, n)) == pytest.approx(
        (0.5 + 1 / math.sqrt(2)) / 2, abs=1e-6)
    with pytest.raises(ValueError, match="share a shape"):
        L.triplet_loss(a, p, n[:1])


def test_triplet_matches_pytorch_metric_learning():
    """Same value as PML's TripletMarginLoss(CosineSimilarity) with a mean over all triplets.

    Convention difference: PML's default reducer (AvgNonZeroReducer) averages only the
    triplets with a positive loss; Won's code (and ours) averages all of them.
    """
    g = torch.Generator().manual_seed(0)
    a, p, n = (torch.randn(32, 8, generator=g) for _ in range(3))
    ours = L.triplet_loss(a, p, n, margin=0.2)
    emb = torch.cat([a, p, n])
    idx = torch.arange(32)
    triplets = (idx, idx + 32, idx + 64)
    ref = TripletMarginLoss(margin=0.2, distance=CosineSimilarity(), reducer=MeanReducer())(
        emb, None, indices_tuple=triplets)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)
    per = L.triplet_loss(a, p, n, reduction="none")
    ref_nonzero = TripletMarginLoss(margin=0.2, distance=CosineSimilarity())(
        emb, None, indices_tuple=triplets)
    torch.testing.assert_close(per.sum() / (per > 0).sum(), ref_nonzero, atol=1e-6, rtol=1e-5)


def test_distance_weights_hand_case():
    a = torch.tensor([[1.0, 0.0]])
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    w = L.distance_weights(a, c, torch.tensor([0]), torch.tensor([1, 1, 0]))
    np.testing.assert_allclose(w.numpy(), [[1.0, 0.5, 0.0]])  # third has the anchor's label
    with pytest.raises(ValueError, match="one entry per row"):
        L.distance_weights(a, c, torch.tensor([0, 1]), torch.tensor([1, 1, 0]))


def test_sampler_returns_only_different_label_negatives():
    g = torch.Generator().manual_seed(1)
    emb = torch.randn(64, 6, generator=g)
    labels = torch.randint(0, 4, (64,), generator=g)
    for seed in range(20):
        neg = L.distance_weighted_negatives(emb, emb, labels, labels,
                                            generator=torch.Generator().manual_seed(seed))
        assert neg.shape == (64,) and torch.all(neg >= 0)
        assert torch.all(labels[neg] != labels)
    # an anchor whose label every candidate shares has no negative
    neg = L.distance_weighted_negatives(emb[:3], emb[:3], torch.zeros(3, dtype=torch.long),
                                        torch.zeros(3, dtype=torch.long))
    assert neg.tolist() == [-1, -1, -1]
    a, p, n = L.sample_triplets(emb[:5], emb[:5], torch.tensor([0, 0, 0, 0, 1]),
                                generator=torch.Generator().manual_seed(0))
    assert a.shape == p.shape == n.shape == (5, 6)
    torch.testing.assert_close(n[:4], emb[4].expand(4, 6))  # only row 4 has another label


def test_sampler_is_seeded():
    emb = torch.randn(16, 4, generator=torch.Generator().manual_seed(3))
    labels = torch.arange(16) % 3
    one = L.distance_weighted_negatives(emb, emb, labels, labels, torch.Generator().manual_seed(7))
    two = L.distance_weighted_negatives(emb, emb, labels, labels, torch.Generator().manual_seed(7))
    assert torch.equal(one, two)


def test_sampler_distribution_follows_weights_chi_square():
    """Empirical draws for one anchor follow (cos+1)/2 over different-label candidates."""
    g = torch.Generator().manual_seed(0)
    cands = torch.randn(8, 5, generator=g)
    cand_labels = torch.tensor([0, 1, 1, 2, 2, 3, 3, 3])
    anchor = torch.randn(1, 5, generator=g)
    n_draws = 20000
    anchors = anchor.expand(n_draws, 5)
    neg = L.distance_weighted_negatives(anchors, cands, torch.zeros(n_draws, dtype=torch.long),
                                        cand_labels, generator=torch.Generator().manual_seed(42))
    counts = np.bincount(neg.numpy(), minlength=8)
    assert counts[0] == 0  # the same-label candidate is never drawn
    cos = torch.nn.functional.cosine_similarity(anchor, cands).numpy()
    w = (cos[1:] + 1) / 2
    expected = w / w.sum() * n_draws
    stat, pval = chisquare(counts[1:], expected)
    assert pval > 0.01, (counts, expected)
    # the test has power: uniform sampling would be rejected
    _, p_uniform = chisquare(counts[1:], np.full(7, n_draws / 7))
    assert p_uniform < 1e-6


def test_focal_loss_hand_case_and_cross_entropy_limit():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([0, 2])
    p = torch.softmax(logits, 1)
    pt = torch.stack([p[0, 0], p[1, 2]])
    expected = -((1 - pt) ** 2) * torch.log(pt)
    torch.testing.assert_close(L.focal_loss(logits, target, reduction="none"), expected)
    assert float(L.focal_loss(logits, target)) == pytest.approx(float(expected.mean()), rel=1e-6)
    torch.testing.assert_close(L.focal_loss(logits, target, gamma=0.0),
                               torch.nn.functional.cross_entropy(logits, target))
    weighted = L.focal_loss(logits, target, alpha=[0.25, 1.0, 0.5], reduction="none")
    torch.testing.assert_close(weighted, expected * torch.tensor([0.25, 0.5]))
    with pytest.raises(ValueError, match="one weight per class"):
        L.focal_loss(logits, target, alpha=[1.0, 2.0])


def test_focal_loss_gradient_is_that_of_the_formula():
    """d FL / d logits, checked against finite differences of the written-out formula."""
    torch.manual_seed(0)
    logits = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 3, 1, 1, 2])
    assert torch.autograd.gradcheck(lambda z: L.focal_loss(z, target, gamma=2.0), (logits,))

    def by_hand(z):
        pt = torch.softmax(z, 1)[torch.arange(5), target]
        return (-((1 - pt) ** 2) * torch.log(pt)).mean()

    g1, = torch.autograd.grad(L.focal_loss(logits, target), logits)
    g2, = torch.autograd.grad(by_hand(logits), logits)
    torch.testing.assert_close(g1, g2)


# ------------------------------------------------ Wu et al. (2017) distance-weighted sampling
def _pml_weights(emb, labels, ref, ref_labels, monkeypatch):
    """The weights pytorch-metric-learning's DistanceWeightedMiner samples with (captured
    where it hands them to its triplet sampler)."""
    from pytorch_metric_learning.miners import DistanceWeightedMiner
    from pytorch_metric_learning.miners import distance_weighted_miner as dwm

    seen = {}

    def capture(labels, ref_labels=None, weights=None, **_):
        seen["w"] = weights.clone()
        return (torch.zeros(0, dtype=torch.long),) * 3

    monkeypatch.setattr(dwm.lmu, "get_random_triplet_indices", capture)
    DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4)(emb, labels, ref, ref_labels)
    return seen["w"]


@pytest.mark.parametrize("dim", [8, 64])
def test_wu_weights_equal_pytorch_metric_learning(monkeypatch, dim):
    from emolib.losses import wu_distance_weights

    g = torch.Generator().manual_seed(dim)
    a, c = torch.randn(12, dim, generator=g), torch.randn(20, dim, generator=g)
    la = torch.randint(0, 4, (12,), generator=g)
    lc = torch.randint(0, 4, (20,), generator=g)
    ours = wu_distance_weights(a, c, la, lc)
    ref = _pml_weights(torch.nn.functional.normalize(a, dim=-1), la,
                       torch.nn.functional.normalize(c, dim=-1), lc, monkeypatch)
    rows = ref.sum(1) > 0  # PML divides 0 by 0 for an anchor with no weight at all
    assert rows.sum() >= 8
    torch.testing.assert_close(ours[rows].double(), ref[rows].double(), rtol=1e-4, atol=1e-7)
    assert torch.all(ours[la.unsqueeze(1) == lc.unsqueeze(0)] == 0)  # never the same label


def test_wu_weights_hand_case():
    from emolib.losses import wu_distance_weights

    # n = 3: q(d) ∝ d (the (n-3)/2 term vanishes), weight ∝ 1/d after the 0.5 clip
    a = torch.tensor([[1.0, 0.0, 0.0]])
    c = torch.tensor([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [1.0, 0.1, 0.0], [0.0, 1.0, 0.0]])
    w = wu_distance_weights(a, c, torch.tensor([0]), torch.tensor([1, 1, 1, 1]))
    # distances 0 and 0.0998 are clipped to 0.5; sqrt(0.8) stays; sqrt(2) >= 1.4: weight 0
    expect = torch.tensor([1 / 0.5, 1 / 0.8 ** 0.5, 1 / 0.5, 0.0])
    torch.testing.assert_close(w[0], expect / expect.sum(), rtol=1e-6, atol=1e-7)


def test_weighting_option():
    from emolib.losses import sample_triplets

    g = torch.Generator().manual_seed(0)
    a, p = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    lab = torch.arange(16) % 4
    out = sample_triplets(a, p, lab, torch.Generator().manual_seed(1),
                          weighting="distance_weighted")
    assert out[0].shape == out[2].shape
    base = sample_triplets(a, p, lab, torch.Generator().manual_seed(1))
    again = sample_triplets(a, p, lab, torch.Generator().manual_seed(1), weighting="official")
    assert all(torch.equal(x, y) for x, y in zip(base, again))  # the default is the official one
    with pytest.raises(ValueError, match="weighting='wu'"):
        sample_triplets(a, p, lab, weighting="wu")
