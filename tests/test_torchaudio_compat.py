"""emolib.encoders.torchaudio_compat: torchaudio's melscale_fbanks without torchaudio, and
the stand-in module transkun imports."""
from __future__ import annotations

import importlib.util
import math
import sys
import types

import numpy as np
import pytest
import torch

from emolib.encoders import torchaudio_compat as tc
from emolib.encoders.torchaudio_compat import hz_to_mel, mel_to_hz, melscale_fbanks


def _triangle(f: float, lo: float, mid: float, hi: float) -> float:
    """Weight of the triangle (lo, mid, hi) at frequency f (max(0, min(rise, fall)))."""
    return max(0.0, min((f - lo) / (mid - lo), (hi - f) / (hi - mid)))


# ------------------------------------------------------------------ the published formulas
def test_mel_scales_at_known_points():
    assert hz_to_mel(700.0, "htk") == pytest.approx(2595.0 * math.log10(2.0))
    assert hz_to_mel(0.0, "htk") == 0.0
    assert hz_to_mel(500.0, "slaney") == pytest.approx(7.5)        # linear: f / (200/3)
    assert hz_to_mel(1000.0, "slaney") == pytest.approx(15.0)      # min_log_mel
    assert hz_to_mel(6400.0, "slaney") == pytest.approx(42.0)      # 15 + ln(6.4)/logstep
    for scale in ("htk", "slaney"):
        hz = torch.tensor([0.0, 300.0, 1000.0, 2500.0, 7000.0])
        back = mel_to_hz(torch.tensor([hz_to_mel(float(f), scale) for f in hz]), scale)
        torch.testing.assert_close(back, hz, rtol=1e-5, atol=1e-3)


def test_htk_filterbank_by_hand():
    # sr 8 kHz, 5 bins: 0, 1, 2, 3, 4 kHz. Two filters from 0 to 4 kHz: corners at 0, M/3,
    # 2M/3, M on the HTK mel scale (M = mel(4000)), i.e. at 700 (10^(m/2595) - 1) Hz.
    m_max = 2595.0 * math.log10(1.0 + 4000.0 / 700.0)
    corners = [700.0 * (10.0 ** (m_max * k / 3 / 2595.0) - 1.0) for k in range(4)]
    assert corners[0] == 0.0 and corners[3] == pytest.approx(4000.0)
    expected = np.array([[_triangle(f, *corners[j:j + 3]) for j in range(2)]
                         for f in (0.0, 1000.0, 2000.0, 3000.0, 4000.0)])
    fb = melscale_fbanks(5, 0.0, 4000.0, 2, 8000)
    assert fb.shape == (5, 2) and fb.dtype == torch.float32
    np.testing.assert_allclose(fb.numpy(), expected, atol=1e-6)
    # DC and Nyquist lie on the outer corners: zero weight
    assert 0 < fb[1, 0] <= 1 and fb[0].abs().sum() == 0 and fb[4].abs().sum() == 0


def test_slaney_linear_region_by_hand():
    # below 1 kHz the Slaney scale is linear: 5 points equally spaced in Hz, 0..1000, so the
    # three triangles peak (weight 1) exactly on the bins at 250, 500 and 750 Hz
    fb = melscale_fbanks(5, 0.0, 1000.0, 3, 2000, mel_scale="slaney")
    eye = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(fb.numpy(), eye, atol=1e-6)
    # norm="slaney": divided by half the band width, 2 / (f[i+2] - f[i]) = 2 / 500 Hz
    fbn = melscale_fbanks(5, 0.0, 1000.0, 3, 2000, norm="slaney", mel_scale="slaney")
    np.testing.assert_allclose(fbn.numpy(), eye * 2.0 / 500.0, atol=1e-9)


# ------------------------------------------------------------------ librosa as a reference
# torchaudio (and so our copy) works in float32, librosa in float64: the triangle slopes
# (f - f_pts) / f_diff lose ~eps32 * f / f_diff, which grows with the number of bins; a
# tiny bank agrees to 1e-6, transkun's 2049 x 229 bank to ~2e-5 (weights <= 1).
CASES = [  # (sr, n_freqs, n_mels, f_min, f_max, atol for weights of peak 1)
    (8000, 9, 3, 0.0, 4000.0, 1e-6),
    (16000, 257, 40, 0.0, 8000.0, 1e-5),
    (22050, 513, 64, 20.0, 11025.0, 1e-5),
    (44100, 2049, 229, 30.0, 8000.0, 5e-5),   # transkun's front end
]


@pytest.mark.parametrize("sr,n_freqs,n_mels,fmin,fmax,atol", CASES)
@pytest.mark.parametrize("htk,norm,mel_scale", [(True, None, "htk"),
                                                (False, "slaney", "slaney")])
def test_matches_librosa(sr, n_freqs, n_mels, fmin, fmax, atol, htk, norm, mel_scale):
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=sr, n_fft=2 * (n_freqs - 1), n_mels=n_mels, fmin=fmin,
                              fmax=fmax, htk=htk, norm=norm).T
    ours = melscale_fbanks(n_freqs, fmin, fmax, n_mels, sr, norm=norm, mel_scale=mel_scale)
    assert ours.shape == ref.shape == (n_freqs, n_mels)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=atol * float(ref.max()))


def test_equals_the_bank_in_the_transkun_checkpoint():
    """transkun stores the bank that real torchaudio computed in training as a buffer:
    ours is bit-identical."""
    spec = importlib.util.find_spec("transkun")
    if spec is None:
        pytest.skip("transkun not installed")
    path = f"{next(iter(spec.submodule_search_locations))}/pretrained/2.0.pt"
    saved = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    bank = saved["framewiseFeatureExtractor.freq2mels"]
    assert torch.equal(melscale_fbanks(2049, 30, 8000, 229, 44100), bank)


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("kwargs,match", [
    ({"norm": "area"}, "norm"),
    ({"mel_scale": "mel"}, "mel_scale"),
    ({"n_freqs": 0}, "n_freqs"),
    ({"n_freqs": 2.5}, "n_freqs"),
    ({"n_mels": 0}, "n_mels"),
    ({"sample_rate": 0}, "sample_rate"),
    ({"sample_rate": float("nan")}, "sample_rate"),
    ({"f_min": -10.0}, "f_min"),
    ({"f_min": 5000.0, "f_max": 4000.0}, "f_min"),
    ({"f_max": float("inf")}, "f_max"),
])
def test_bad_arguments_raise(kwargs, match):
    args = {"n_freqs": 257, "f_min": 0.0, "f_max": 8000.0, "n_mels": 40, "sample_rate": 16000}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        melscale_fbanks(**args)
    with pytest.raises(ValueError, match="mel_scale"):
        hz_to_mel(100.0, "bark")


def test_empty_filter_warns_like_torchaudio():
    with pytest.warns(UserWarning, match="all zero values"):
        melscale_fbanks(5, 0.0, 4000.0, 40, 8000)


# ------------------------------------------------------------------ the stand-in module
def _real_torchaudio() -> bool:
    present = sys.modules.get("torchaudio")
    if present is not None:
        return not tc.is_stub(present)
    return importlib.util.find_spec("torchaudio") is not None


@pytest.mark.skipif(_real_torchaudio(), reason="a real torchaudio is installed")
def test_stub_only_inside_the_block():
    assert "torchaudio" not in sys.modules
    with tc.torchaudio_stub() as installed:
        assert installed
        import torchaudio
        from torchaudio.functional import melscale_fbanks as fn

        assert tc.is_stub(torchaudio) and fn is melscale_fbanks
        assert torchaudio.functional.melscale_fbanks is melscale_fbanks
        assert importlib.util.find_spec("torchaudio") is not None  # no ValueError
        assert tc.install_torchaudio_stub()  # idempotent
        with pytest.raises(AttributeError):
            torchaudio.load  # noqa: B018  (only melscale_fbanks is provided)
    assert "torchaudio" not in sys.modules and "torchaudio.functional" not in sys.modules
    assert importlib.util.find_spec("torchaudio") is None


def test_never_shadows_a_real_torchaudio(monkeypatch):
    real = types.ModuleType("torchaudio")  # stands for an imported real torchaudio
    monkeypatch.setitem(sys.modules, "torchaudio", real)
    assert tc.install_torchaudio_stub() is False
    with tc.torchaudio_stub() as installed:
        assert installed is False and sys.modules["torchaudio"] is real
    assert tc.uninstall_torchaudio_stub() is False
    assert sys.modules["torchaudio"] is real


def _fake_package(root, body: str) -> None:
    (root / "torchaudio").mkdir()
    (root / "torchaudio" / "__init__.py").write_text(body)


def test_an_installed_torchaudio_is_imported_not_stubbed(tmp_path, monkeypatch):
    _fake_package(tmp_path, "REAL = True\n")  # a "real" torchaudio on the path
    monkeypatch.delitem(sys.modules, "torchaudio", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert tc.install_torchaudio_stub() is False
        assert getattr(sys.modules["torchaudio"], "REAL", False)
        assert not tc.is_stub(sys.modules["torchaudio"])
    finally:
        sys.modules.pop("torchaudio", None)


def test_a_broken_torchaudio_gets_the_stub(tmp_path, monkeypatch):
    # e.g. a torchaudio wheel built for another torch: installed, but its import fails
    _fake_package(tmp_path, "raise OSError('undefined symbol')\n")
    monkeypatch.delitem(sys.modules, "torchaudio", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with tc.torchaudio_stub() as installed:
            assert installed and tc.is_stub(sys.modules["torchaudio"])
        assert "torchaudio" not in sys.modules
    finally:
        sys.modules.pop("torchaudio", None)
