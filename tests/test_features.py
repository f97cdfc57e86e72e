"""Tests for emolib.features: front ends against hand computations, onset density on
click trains with known rates, chunking."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from emolib import features as F

SR = 16000


def click_train(rate: float, dur: float = 6.0, sr: int = SR, offset: float = 0.05) -> np.ndarray:
    """Short windowed-noise clicks every 1/rate seconds (first at ``offset``)."""
    y = np.zeros(int(dur * sr), np.float32)
    burst = (np.hanning(32) * np.random.default_rng(0).choice([-1.0, 1.0], 32)).astype(np.float32)
    for t in np.arange(offset, dur, 1.0 / rate):
        i = int(round(t * sr))
        y[i:i + 32] += burst[: len(y[i:i + 32])]
    return y


@pytest.mark.parametrize("rate", [2, 4, 8])
def test_onset_density_click_trains(rate):
    dens = F.onset_density(click_train(rate), SR, win=3.0, hop=1.0)
    assert dens == pytest.approx(rate, abs=0.25)


def test_onset_density_orders_rates_and_silence_is_zero():
    d = [F.onset_density(click_train(r, dur=4.0), SR) for r in (1, 3, 6)]
    assert d[0] < d[1] < d[2]
    assert F.onset_density(np.zeros(SR * 2, np.float32), SR) == 0.0


def test_onset_density_curve_windows():
    curve = F.onset_density_curve(click_train(4, dur=6.0), SR, win=2.0, hop=1.0)
    assert curve.shape == (5,)  # window starts 0,1,2,3,4 s
    assert np.allclose(curve, 4.0, atol=0.51)
    short = F.onset_density_curve(click_train(4, dur=1.0), SR, win=3.0)
    assert short.shape == (1,)
    with pytest.raises(ValueError, match="win and hop"):
        F.onset_density_curve(click_train(4), SR, win=0.0)


def _hand_log_mel(y, sr, n_fft, hop, n_mels):
    """STFT (zero-padded centred frames, periodic Hann), power, mel, 10 log10 - by hand."""
    yp = np.pad(y.astype(np.float64), n_fft // 2)
    n_frames = 1 + len(y) // hop
    win = scipy.signal.get_window("hann", n_fft, fftbins=True)
    frames = np.stack([yp[i * hop:i * hop + n_fft] * win for i in range(n_frames)], axis=1)
    power = np.abs(np.fft.rfft(frames, axis=0)) ** 2
    import librosa  # the filterbank itself is librosa's (Slaney); the rest is by hand

    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels) @ power
    return 10.0 * np.log10(np.maximum(mel, 1e-10))


def test_log_mel_matches_hand_computation():
    rng = np.random.default_rng(1)
    y = (0.1 * rng.standard_normal(4000)).astype(np.float32)
    got = F.log_mel(y, SR, n_fft=512, hop_length=256, n_mels=40, top_db=None)
    want = _hand_log_mel(y, SR, 512, 256, 40)
    assert got.shape == want.shape == (40, 1 + 4000 // 256)
    np.testing.assert_allclose(got, want, atol=1e-3)


def test_log_mel_top_db_clips_range():
    y = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32)
    m = F.log_mel(y, SR, top_db=60.0)
    assert m.max() - m.min() <= 60.0 + 1e-4


def test_stft_db_sine_peak():
    n_fft, k, amp = 512, 32, 0.5
    f = k * SR / n_fft  # exactly on bin k
    y = (amp * np.sin(2 * np.pi * f * np.arange(SR) / SR)).astype(np.float32)
    s = F.stft_db(y, SR, n_fft=n_fft, hop_length=256, top_db=None)
    assert s.shape == (n_fft // 2 + 1, 1 + SR // 256)
    mid = s[:, s.shape[1] // 2]
    assert int(np.argmax(mid)) == k
    # |X[k]| = amp * sum(window) / 2 for a bin-centred sine
    win_sum = scipy.signal.get_window("hann", n_fft, fftbins=True).sum()
    assert mid[k] == pytest.approx(20 * np.log10(amp * win_sum / 2), abs=0.05)


def test_centroid_and_rms_of_sine():
    amp, f = 0.3, 1000.0
    y = (amp * np.sin(2 * np.pi * f * np.arange(SR) / SR)).astype(np.float32)
    sc = F.spectral_centroid(y, SR)
    en = F.rms(y, SR)
    assert sc.shape == en.shape == (1, 1 + SR // 512)
    assert np.median(sc) == pytest.approx(f, rel=0.03)
    assert np.median(en) == pytest.approx(amp / np.sqrt(2), rel=0.01)


def test_mfcc_shape_and_dc_row_tracks_loudness():
    rng = np.random.default_rng(2)
    y = (0.05 * rng.standard_normal(SR)).astype(np.float32)
    loud, quiet = F.mfcc(4 * y, SR), F.mfcc(y, SR)
    assert loud.shape == (20, 1 + SR // 512)
    assert loud[0].mean() > quiet[0].mean()


def test_mixed_features_layout_and_alignment():
    rng = np.random.default_rng(3)
    y = (0.1 * rng.standard_normal(SR * 2)).astype(np.float32)
    m = F.mixed_features(y, SR)
    rows = F.mixed_feature_rows()
    assert m.shape == (20 + 128 + 2, 1 + 2 * SR // 512)
    assert m.dtype == np.float32
    np.testing.assert_allclose(m[rows["mel"]], F.log_mel(y, SR, top_db=None), atol=1e-4)
    np.testing.assert_allclose(m[rows["mfcc"]], F.mfcc(y, SR), atol=1e-3)
    np.testing.assert_allclose(m[rows["rms"]][0], 20 * np.log10(F.rms(y, SR)[0]), atol=1e-3)
    np.testing.assert_allclose(m[rows["centroid"]][0], np.log2(F.spectral_centroid(y, SR)[0]),
                               atol=1e-4)
    resized = F.mixed_features(y, SR, n_frames=40)
    assert resized.shape == (150, 40)
    # interpolation keeps the end points
    np.testing.assert_allclose(resized[:, 0], m[:, 0], atol=1e-3)
    np.testing.assert_allclose(resized[:, -1], m[:, -1], atol=1e-3)


def test_stft_features_shape():
    y = np.zeros(SR, np.float32) + 1e-3
    assert F.stft_features(y, SR, n_fft=512, hop_length=512).shape == (257, 1 + SR // 512)
    assert F.stft_features(y, SR, n_frames=10).shape == (257, 10)


def test_align_frames_cuts_to_shortest_and_interpolates():
    a, b = np.arange(10.0).reshape(1, 10), np.ones((2, 9))
    out = F.align_frames([a, b])
    assert [o.shape for o in out] == [(1, 9), (2, 9)]
    lin = F.align_frames([a], n_frames=19)[0]
    np.testing.assert_allclose(lin[0], np.linspace(0, 9, 19), atol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        F.align_frames([np.ones(3)])


def test_sliding_windows_and_chunks():
    y = np.arange(10)
    w = F.sliding_windows(y, 4, 3)
    np.testing.assert_array_equal(w, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    w2 = F.sliding_windows(np.arange(11), 4, 3)
    np.testing.assert_array_equal(w2[-1], [9, 10, 0, 0])
    np.testing.assert_array_equal(F.sliding_windows(np.arange(11), 4, 3, pad=False),
                                  w)
    np.testing.assert_array_equal(F.chunk(np.arange(7), 3), [[0, 1, 2], [3, 4, 5], [6, 0, 0]])
    assert F.chunk(np.arange(7), 3, pad=False).shape == (2, 3)
    np.testing.assert_array_equal(F.sliding_windows(np.arange(2), 4, 1), [[0, 1, 0, 0]])
    with pytest.raises(ValueError, match="fewer than one window"):
        F.sliding_windows(np.arange(2), 4, 1, pad=False)
    with pytest.raises(ValueError, match="win and hop"):
        F.sliding_windows(y, 0, 1)


def test_fixed_length_and_random_crop():
    y = np.arange(10)
    np.testing.assert_array_equal(F.fixed_length(y, 4, offset=8), [8, 9, 0, 0])
    rng = np.random.default_rng(0)
    crops = [F.random_crop(y, 4, rng) for _ in range(20)]
    assert all(len(c) == 4 and np.all(np.diff(c) == 1) for c in crops)
    assert len({int(c[0]) for c in crops}) > 1
    np.testing.assert_array_equal(F.random_crop(np.arange(2), 4, rng), [0, 1, 0, 0])


@pytest.mark.parametrize("bad, msg", [(np.ones((2, 100)), "1-D"), (np.array([]), "empty"),
                                      (np.array([0.0, np.nan]), "NaN")])
def test_bad_audio_is_rejected(bad, msg):
    with pytest.raises(ValueError, match=msg):
        F.log_mel(bad, SR)


def test_bad_sample_rate_is_rejected():
    with pytest.raises(ValueError, match="sr must be"):
        F.mfcc(np.zeros(100, np.float32), 0)


def test_summary_statistics_and_cache(tmp_path, monkeypatch):
    m = np.array([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(F.summary_statistics(m), [2.0, 2.0, 1.0, 0.0])
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    calls = []

    def compute(p):
        calls.append(p)
        return np.full(3, len(p), np.float32)

    a = F.cached_features(["x", "yy"], "t", {"k": 1}, compute)
    b = F.cached_features(["x", "yy"], "t", {"k": 1}, compute)
    assert calls == ["x", "yy"]                       # second call read the cache
    assert all(np.array_equal(u, w) for u, w in zip(a, b))
    F.cached_features(["x", "yy"], "t", {"k": 2}, compute)
    assert len(calls) == 4                            # other params: recomputed
