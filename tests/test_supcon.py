"""SupCon (Emo-CLIM Eq. 2–4): hand-computed cases, pytorch-metric-learning, gradcheck."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from emolib.losses.supcon import EMOCLIM_TERMS, emoclim_loss, flatten_views, supcon

pml_losses = pytest.importorskip("pytorch_metric_learning.losses")
pml_reducers = pytest.importorskip("pytorch_metric_learning.reducers")


def _loop_reference(a, ya, c, yc, tau, exclude_self):
    """Eq. 2 written with plain Python loops (independent of the vectorised code)."""
    total = 0.0
    for i in range(a.shape[0]):
        ks = [k for k in range(c.shape[0]) if not (exclude_self and k == i)]
        denom = sum(math.exp(float(a[i] @ c[k]) / tau) for k in ks)
        pos = [p for p in ks if int(ya[i]) == int(yc[p])]
        if pos:
            total += -sum(math.log(math.exp(float(a[i] @ c[p]) / tau) / denom)
                          for p in pos) / len(pos)
    return total / a.shape[0]


def _emb(n, d=8, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=dtype), dim=1)


def test_hand_computed_cross_modal():
    # anchor [1,0] (label 0) vs contrast [1,0] (label 0), [0,1] (label 1), tau = 1:
    # -log(e^1 / (e^1 + e^0)) = log(1 + e^-1)
    a = torch.tensor([[1.0, 0.0]])
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    got = supcon(a, torch.tensor([0]), c, torch.tensor([0, 1]), temperature=1.0)
    assert got.item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)


def test_hand_computed_intra_modal_self_removed_and_no_positive_anchor():
    # items: [1,0] y0, [1,0] y0, [0,1] y1, tau = 1
    # anchors 0 and 1: positive = the other [1,0]; denominator (self removed) e^1 + e^0
    #   -> log(1 + e^-1) each; anchor 2 has no positive -> 0; mean over 3 anchors.
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    got = supcon(z, torch.tensor([0, 0, 1]), temperature=1.0)
    assert got.item() == pytest.approx(2 / 3 * math.log(1 + math.exp(-1)), abs=1e-6)
    # the same set used cross-modally keeps the self pair: anchor 0 now has positives {0, 1},
    # denominator 2e^1 + e^0; anchor 2 has itself as a positive.
    cross = supcon(z, torch.tensor([0, 0, 1]), z, torch.tensor([0, 0, 1]), temperature=1.0)
    a01 = -math.log(math.e / (2 * math.e + 1))
    a2 = -math.log(math.e / (math.e + 2))
    assert cross.item() == pytest.approx((2 * a01 + a2) / 3, abs=1e-6)


@pytest.mark.parametrize("exclude_self", [False, True])
def test_matches_loop_reference_random(exclude_self):
    a, c = _emb(12, seed=1), _emb(12, seed=2)
    ya = torch.tensor([0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 5, 5])
    yc = torch.tensor([1, 1, 2, 0, 0, 3, 3, 2, 1, 0, 2, 0])
    if exclude_self:
        got = supcon(a, ya, temperature=0.07)
        want = _loop_reference(a, ya, a, ya, 0.07, True)
    else:
        got = supcon(a, ya, c, yc, temperature=0.07)
        want = _loop_reference(a, ya, c, yc, 0.07, False)
    assert got.item() == pytest.approx(want, rel=1e-5)


def test_equals_pml_intra_modal():
    z = _emb(32, d=16, seed=3)
    y = torch.arange(8).repeat(4)  # every anchor has positives
    ours = supcon(z, y, temperature=0.07)
    ref = pml_losses.SupConLoss(temperature=0.07)(z, y)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)


def test_equals_pml_ref_emb_cross_modal_when_all_anchors_have_positives():
    a, c = _emb(24, d=16, seed=4), _emb(20, d=16, seed=5)
    ya = torch.arange(4).repeat(6)
    yc = torch.arange(4).repeat(5)
    ours = supcon(a, ya, c, yc, temperature=0.07)
    ref = pml_losses.SupConLoss(temperature=0.07)(a, ya, ref_emb=c, ref_labels=yc)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)


def test_pml_difference_anchor_without_positives():
    """Documented difference: PML's default AvgNonZeroReducer drops anchors without positives
    from the mean; the paper divides by all N anchors (equal to PML with MeanReducer)."""
    a, c = _emb(10, d=16, seed=6), _emb(10, d=16, seed=7)
    ya = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 9])  # label 9 has no positive in c
    yc = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    ours = supcon(a, ya, c, yc, temperature=0.07)
    pml_default = pml_losses.SupConLoss(temperature=0.07)(a, ya, ref_emb=c, ref_labels=yc)
    pml_mean = pml_losses.SupConLoss(temperature=0.07, reducer=pml_reducers.MeanReducer())(
        a, ya, ref_emb=c, ref_labels=yc)
    assert ours.item() == pytest.approx(pml_mean.item(), rel=1e-5)
    assert ours.item() == pytest.approx(pml_default.item() * 9 / 10, rel=1e-5)
    assert abs(ours.item() - pml_default.item()) > 1e-3


def test_gradcheck_float64():
    a = _emb(6, d=4, seed=8, dtype=torch.float64).requires_grad_(True)
    c = _emb(5, d=4, seed=9, dtype=torch.float64).requires_grad_(True)
    ya, yc = torch.tensor([0, 1, 0, 2, 1, 3]), torch.tensor([0, 0, 1, 2, 1])
    assert torch.autograd.gradcheck(lambda x, y: supcon(x, ya, y, yc, temperature=0.5), (a, c))
    assert torch.autograd.gradcheck(lambda x: supcon(x, ya, temperature=0.5), (a,))


def test_numerically_stable_at_tiny_temperature():
    z = _emb(16, seed=10)
    y = torch.arange(4).repeat(4)
    loss = supcon(z, y, temperature=1e-3)
    assert torch.isfinite(loss)
    want = _loop_reference(z.double(), y, z.double(), y, 0.05, True)
    assert supcon(z.double(), y, temperature=0.05).item() == pytest.approx(want, rel=1e-9)


def test_emoclim_total_is_weighted_sum_and_symmetric():
    zi, za = _emb(8, seed=11), _emb(8, seed=12)
    yi, ya = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3]), torch.tensor([3, 2, 1, 0, 0, 1, 2, 3])
    out = emoclim_loss(zi, yi, za, ya)
    assert set(out) == set(EMOCLIM_TERMS) | {"total"}
    assert out["total"].item() == pytest.approx(0.25 * sum(out[t].item() for t in EMOCLIM_TERMS))
    assert out["im2au"].item() == pytest.approx(supcon(zi, yi, za, ya).item())
    assert out["au2au"].item() == pytest.approx(supcon(za, ya).item())
    swapped = emoclim_loss(za, ya, zi, yi)  # modality symmetry of Eq. 4
    assert swapped["total"].item() == pytest.approx(out["total"].item(), rel=1e-6)
    w = emoclim_loss(zi, yi, za, ya, weights=(1, 0, 0, 0))
    assert w["total"].item() == pytest.approx(out["im2au"].item())


def test_perfect_alignment_gives_lower_loss():
    y = torch.tensor([0, 1, 2, 3] * 4)
    aligned = F.one_hot(y, 8).float()
    random = _emb(16, seed=13)
    assert supcon(aligned, y, aligned, y).item() < supcon(random, y, random, y).item()


def test_flatten_views_other_view_is_positive():
    z = torch.stack([_emb(3, seed=14), _emb(3, seed=15)], dim=1)  # (3, 2, d)
    flat, labels = flatten_views(z, torch.tensor([0, 1, 2]))
    assert flat.shape == (6, 8)
    assert labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert torch.equal(flat[4], z[1, 1])
    # with all-distinct items, each anchor's only positive is its other view
    loss = supcon(flat, labels, temperature=1.0)
    want = _loop_reference(flat, labels, flat, labels, 1.0, True)
    assert loss.item() == pytest.approx(want, rel=1e-6)


def test_errors_are_clear():
    z = _emb(4)
    with pytest.raises(ValueError, match="temperature"):
        supcon(z, torch.arange(4), temperature=0)
    with pytest.raises(ValueError, match="labels"):
        supcon(z, torch.arange(3))
    with pytest.raises(ValueError, match="contrast_labels"):
        supcon(z, torch.arange(4), z)
    with pytest.raises(ValueError, match="dim"):
        supcon(z, torch.arange(4), _emb(4, d=5), torch.arange(4))
    with pytest.raises(ValueError, match="at least 2"):
        supcon(z[:1], torch.arange(1))
    with pytest.raises(ValueError, match="4 entries"):
        emoclim_loss(z, torch.arange(4), z, torch.arange(4), weights=(1, 1))
