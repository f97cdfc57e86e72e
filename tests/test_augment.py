"""Audio/image augmentation and the label-balanced unpaired sampler (Emo-CLIM §4.2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from emolib.augment import (
    AudioAugment,
    BalancedUnpairedSampler,
    center_resize_crop,
    mix_at_snr,
    pink_noise,
    random_crop,
    random_resized_crop,
)


def _sine(n=16000, f=440.0, sr=16000):
    return (0.5 * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


def test_random_crop_is_a_contiguous_excerpt_and_seeded():
    y = np.arange(1000, dtype=np.float32)
    a = random_crop(y, 100, np.random.default_rng(3))
    assert a.shape == (100,) and np.all(np.diff(a) == 1)
    assert np.array_equal(a, random_crop(y, 100, np.random.default_rng(3)))
    short = random_crop(y[:10], 20, np.random.default_rng(0))
    assert np.array_equal(short[:10], y[:10]) and np.all(short[10:] == 0)


@pytest.mark.parametrize("snr", [3.0, 10.0, 30.0])
def test_mix_at_snr_hits_the_target(snr):
    s = _sine()
    n = np.random.default_rng(0).standard_normal(8000).astype(np.float32)  # tiled to 16000
    mixed = mix_at_snr(s, n, snr)
    added = mixed - s
    measured = 10 * np.log10(np.mean(s.astype(np.float64) ** 2)
                             / np.mean(added.astype(np.float64) ** 2))
    assert measured == pytest.approx(snr, abs=1e-3)
    assert np.array_equal(mix_at_snr(np.zeros(10), n, 5.0), np.zeros(10, np.float32))


def test_pink_noise_slope():
    x = pink_noise(2 ** 15, np.random.default_rng(1))
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.arange(len(p))
    lo, hi = p[(f > 100) & (f < 200)].mean(), p[(f > 1000) & (f < 2000)].mean()
    assert 10 * np.log10(lo / hi) == pytest.approx(10.0, abs=1.5)  # -10 dB per decade
    assert x.std() == pytest.approx(1.0, abs=1e-3)


def test_audio_augment_probabilities_and_determinism():
    s = _sine(32000)
    aug = AudioAugment(length=8000, bg_p=0.8, gauss_p=0.0)
    outs = [aug(s, np.random.default_rng(i)) for i in range(200)]
    assert all(o.shape == (8000,) for o in outs)
    # a clean crop of a pure sine is periodic: residual after removing the best-fit sine ~ 0
    clean = sum(np.allclose(o, random_crop(s, 8000, np.random.default_rng(i)), atol=1e-6)
                for i, o in enumerate(outs))
    assert 0.1 < clean / 200 < 0.3  # 1 - 0.8 = 0.2 untouched
    assert np.array_equal(aug(s, np.random.default_rng(7)), aug(s, np.random.default_rng(7)))
    never = AudioAugment(length=None, bg_p=0.0, gauss_p=0.0)
    assert np.array_equal(never(s, np.random.default_rng(0)), s)


def test_audio_augment_background_bank_and_snr_range():
    s = _sine(16000)
    bank = [np.random.default_rng(9).standard_normal(40000).astype(np.float32)]
    aug = AudioAugment(length=None, background=bank, bg_snr=(20.0, 20.0), bg_p=1.0, gauss_p=0.0)
    added = aug(s, np.random.default_rng(0)) - s
    snr = 10 * np.log10(np.mean(s.astype(np.float64) ** 2) / np.mean(added.astype(np.float64) ** 2))
    assert snr == pytest.approx(20.0, abs=1e-3)
    with pytest.raises(ValueError, match="bg_p"):
        AudioAugment(length=10, bg_p=1.5)(s, np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        AudioAugment(length=10, background=[])(s, np.random.default_rng(0))


def test_image_crops():
    img = torch.arange(3 * 40 * 60, dtype=torch.float32).reshape(3, 40, 60)
    out = random_resized_crop(img, 32, np.random.default_rng(0))
    assert out.shape == (3, 32, 32)
    assert torch.equal(out, random_resized_crop(img, 32, np.random.default_rng(0)))
    assert not torch.equal(out, random_resized_crop(img, 32, np.random.default_rng(1)))
    c = center_resize_crop(torch.ones(3, 40, 60), 20)
    assert c.shape == (3, 20, 20) and torch.allclose(c, torch.ones_like(c))
    # a constant-per-column image: the centre crop keeps the central columns
    cols = torch.arange(60, dtype=torch.float32).repeat(3, 40, 1)
    cc = center_resize_crop(cols, 40)
    assert cc[0, 0, 0].item() == pytest.approx(10.0) and cc[0, 0, -1].item() == pytest.approx(49.0)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        random_resized_crop(torch.ones(4, 4), 2, np.random.default_rng(0))


def test_balanced_unpaired_sampler():
    # heavily imbalanced classes; 'tender' is not a kept class
    img = ["a"] * 90 + ["b"] * 10
    aud = ["a"] * 5 + ["b"] * 50 + ["tender"] * 45
    s = BalancedUnpairedSampler(img, aud, classes=["a", "b"], batch_size=64, n_batches=50, seed=1)
    batches = list(s)
    assert len(batches) == 50 and all(i.shape == (64,) and a.shape == (64,) for i, a in batches)
    ii = np.concatenate([b[0] for b in batches])
    aa = np.concatenate([b[1] for b in batches])
    img_lab, aud_lab = np.asarray(img)[ii], np.asarray(aud)[aa]
    assert abs((img_lab == "a").mean() - 0.5) < 0.03  # balanced despite 90/10
    assert abs((aud_lab == "a").mean() - 0.5) < 0.03
    assert "tender" not in set(aud_lab)
    # unpaired: image and audio classes are drawn independently
    same = (img_lab == aud_lab).mean()
    assert abs(same - 0.5) < 0.03
    # reproducible per epoch; epochs differ
    s2 = BalancedUnpairedSampler(img, aud, classes=["a", "b"], batch_size=64, n_batches=50, seed=1)
    first = list(s2)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(first, batches))
    second = list(s2)
    assert not np.array_equal(first[0][0], second[0][0])
    with pytest.raises(ValueError, match="no image items"):
        BalancedUnpairedSampler(img, aud, classes=["a", "c"])
