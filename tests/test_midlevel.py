"""The mid-level model: front end, CP-ResNet-style architecture, checkpoints, training,
inference."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

from emolib.encoders import midlevel as ml
from emolib.train import weights_fingerprint


def test_filterbank_matches_paper_bin_count_and_is_normalised():
    # the paper's front end: 22.05 kHz, frame 2048, 24 bands/octave, 20-16000 Hz -> 149 bins
    assert ml.n_log_bins(22050, 2048, 24, 20.0, 16000.0) == 149
    fb = ml._log_filterbank(16000, 2048, 24, 20.0, 16000.0)
    np.testing.assert_allclose(fb.sum(1), 1.0, rtol=1e-5)
    assert (fb >= 0).all()


def test_spectrogram_of_a_tone_peaks_at_its_frequency():
    sr = 16000
    t = np.arange(sr) / sr
    spec_lo = ml.log_filtered_spectrogram(np.sin(2 * np.pi * 440 * t), sr)
    spec_hi = ml.log_filtered_spectrogram(np.sin(2 * np.pi * 1760 * t), sr)
    assert spec_lo.shape[0] == ml.n_log_bins(sr)
    assert spec_lo.shape[1] == pytest.approx(31.25, abs=2)  # ~31.25 frames per second
    lo, hi = spec_lo.mean(1).argmax(), spec_hi.mean(1).argmax()
    # two octaves up = 48 bands up at 24 bands/octave (up to bin merging at low frequencies)
    assert 40 <= hi - lo <= 50
    with pytest.raises(ValueError, match="1-D"):
        ml.log_filtered_spectrogram(np.zeros((2, 10)), sr)


def test_frequency_position_channel():
    x = torch.zeros(2, 3, 4, 5)
    pos = ml.frequency_position(x)
    assert pos.shape == (2, 1, 4, 5)
    np.testing.assert_allclose(pos[0, 0, :, 0].numpy(), [-1.0, -0.5, 0.0, 0.5])
    assert torch.equal(pos[1, 0, :, 3], pos[0, 0, :, 0])


def test_architecture_small_kernels_and_shapes():
    m = ml.MidLevelNet(widths=(4, 8, 8))
    assert m(torch.randn(3, 1, 40, 30)).shape == (3, 7)
    assert m.stage1.block1.conv1.kernel_size == (3, 3)
    assert m.stage1.block1.conv2.kernel_size == (1, 1)
    assert m.stage3.block1.conv1.kernel_size == (1, 1)
    assert m.stage1.block1.conv1.in_channels == 4 + 1  # + frequency-position channel
    assert isinstance(m.feed_forward[2], torch.nn.AdaptiveAvgPool2d)
    with pytest.raises(ValueError, match="batch, 1"):
        m(torch.randn(3, 40, 30))
    with pytest.raises(ValueError, match="widths"):
        ml.MidLevelNet(widths=(4, 8))


def test_official_layout_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    ref = ml.MidLevelNet(widths=(128, 256, 512)).eval()
    state = {f"module.{k}": v for k, v in ref.state_dict().items()
             if k not in ("target_mean", "target_std")}
    state["module.discriminator.0.weight"] = torch.zeros(50, 512)  # DA head: ignored
    path = tmp_path / "official.pt"
    torch.save({"model_state_dict": state}, path)
    loaded = ml.load_midlevel_checkpoint(path)
    x = torch.randn(1, 1, 149, 40)
    with torch.no_grad():
        assert torch.allclose(loaded(x), ref(x), atol=1e-5)
    with pytest.raises(ValueError, match="does not fit"):
        ml.load_midlevel_checkpoint(path, widths=(16, 32, 64))
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        ml.load_midlevel_checkpoint(tmp_path / "missing.pt")


def _toy_clips(n: int, seed: int):
    """Spectrograms whose 7 targets are energies in 7 frequency bands (+ noise)."""
    g = np.random.default_rng(seed)
    targets = g.uniform(0, 1, size=(n, 7)).astype(np.float32)
    specs = []
    for y in targets:
        s = g.normal(0, 0.05, size=(28, 24)).astype(np.float32)
        for j in range(7):
            s[4 * j:4 * j + 4] += y[j]
        specs.append(s)
    return specs, targets


def test_training_learns_a_toy_task_and_pearson_matches_scipy():
    tr_x, tr_y = _toy_clips(48, 0)
    va_x, va_y = _toy_clips(24, 1)
    torch.set_num_threads(1)
    model = ml.train_midlevel_model(tr_x, tr_y, va_x, va_y, n_frames=16, widths=(8, 8, 8),
                                    epochs=8, lr=3e-3, batch_size=16, patience=None, seed=0,
                                    progress=False)
    table = ml.pearson_per_feature(model, va_x, va_y, n_frames=16)
    assert list(table.feature) == list(ml.MIDLEVEL_NAMES)
    assert table.pearson_r.mean() > 0.5
    pred = ml.predict_clips(model, va_x, 16)
    r0 = pearsonr(va_y[:, 0], pred[:, 0]).statistic
    assert table.pearson_r.iloc[0] == pytest.approx(r0, abs=1e-6)
    # predictions come back on the targets' scale, not in z-units
    assert abs(pred.mean() - va_y.mean()) < 0.3


def test_predict_long_averages_windows():
    torch.manual_seed(0)
    m = ml.MidLevelNet(widths=(4, 4, 4)).eval()
    spec = np.random.default_rng(0).normal(size=(20, 50)).astype(np.float32)
    per = ml.predict_long(m, spec, window_frames=20, hop_frames=10, aggregate=False)
    assert per.shape == (4, 7)  # starts 0, 10, 20, 30
    with torch.no_grad():
        w2 = m(torch.from_numpy(spec[None, None, :, 20:40])).numpy()[0]
    np.testing.assert_allclose(per[2], w2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ml.predict_long(m, spec, 20, 10), per.mean(0), rtol=1e-6)
    short = ml.predict_long(m, spec[:, :8], 20, 10, aggregate=False)
    assert short.shape == (1, 7)


def test_weights_fingerprint_follows_the_weights_not_the_object():
    torch.manual_seed(0)
    a = ml.MidLevelNet(widths=(4, 8, 8))
    b = ml.MidLevelNet(widths=(4, 8, 8))
    b.load_state_dict(a.state_dict())
    assert weights_fingerprint(a) == weights_fingerprint(b)
    with torch.no_grad():
        b.feed_forward[0].weight[0, 0, 0, 0] += 1e-6
    assert weights_fingerprint(a) != weights_fingerprint(b)
    assert weights_fingerprint(a) != weights_fingerprint(ml.MidLevelNet(widths=(4, 8, 16)))


@pytest.fixture()
def one_thread():
    """One torch thread for the test (fast and stable on a busy machine), restored after."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_training_is_deterministic_per_seed_and_independent_of_the_cache(tmp_path, monkeypatch,
                                                                        one_thread):
    # "same parameters -> same tables": the notebook path (cache_params set, so training goes
    # through emolib.train.cached_model). Each run gets its own empty cache dir, so every run
    # really trains; the global torch RNG is disturbed between runs (the weights must depend
    # on `seed`, not on what ran before).
    tr_x, tr_y = _toy_clips(16, 0)
    va_x, va_y = _toy_clips(8, 1)

    def run(seed: int, cache: str, global_seed: int) -> str:
        monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / cache))
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        model = ml.train_midlevel_model(tr_x, tr_y, va_x, va_y, n_frames=16, widths=(4, 4, 4),
                                        epochs=2, lr=3e-3, batch_size=8, patience=None,
                                        seed=seed, progress=False,
                                        cache_params={"data": "toy-determinism"})
        return weights_fingerprint(model)

    a = run(0, "cache_a", global_seed=0)
    b = run(0, "cache_b", global_seed=123)
    c = run(1, "cache_c", global_seed=0)
    for cache in ("cache_a", "cache_b", "cache_c"):  # every run trained (no shared cache hit)
        assert len(list((tmp_path / cache / "checkpoints").glob("midlevel-*.pt"))) == 1
    assert a == b
    assert a != c
    # a warm cache serves exactly the weights a cold run trains
    assert run(0, "cache_a", global_seed=7) == a
    # training moved the weights away from the seeded initialisation
    torch.manual_seed(0)
    assert weights_fingerprint(ml.MidLevelNet(widths=(4, 4, 4))) != a
