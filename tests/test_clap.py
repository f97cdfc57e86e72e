"""CLAP audio tower (tiny random ClapConfig via from_pretrained) and the CLAP-style model."""
from __future__ import annotations

import math
import types

import numpy as np
import pandas as pd
import pytest
import realdata
import soundfile as sf
import torch
import torch.nn.functional as F

from emolib.encoders.clap import (
    CLAP_STYLE_LABEL,
    ClapAudioEncoder,
    ClapStyleModel,
    info_nce,
    resample,
    train_clap_style,
)


@pytest.fixture(scope="module")
def tiny_clap_dir(tmp_path_factory):
    return realdata.write_tiny_clap(tmp_path_factory.mktemp("tiny_clap"))


def test_clap_audio_encoder_real_path(tiny_clap_dir):
    from transformers import ClapFeatureExtractor, ClapModel

    enc = ClapAudioEncoder(str(tiny_clap_dir))
    assert enc.out_dim == 12 and enc.input_samples == 16000  # 1 s at 48 kHz = 1 s at 16 kHz
    assert not any(p.requires_grad for p in enc.parameters())
    wav = np.random.default_rng(0).standard_normal((3, 16000)).astype(np.float32) * 0.1
    z = enc.embed_audio(wav)
    assert z.shape == (3, 12)
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    # same as calling transformers directly on 48-kHz audio
    ref, fe = (ClapModel.from_pretrained(tiny_clap_dir).eval(),
               ClapFeatureExtractor.from_pretrained(tiny_clap_dir))
    x = fe(list(resample(wav, 16000, 48000)), sampling_rate=48000, truncation="rand_trunc",
           padding="repeatpad", return_tensors="pt")
    with torch.no_grad():
        out = ref.get_audio_features(**x)
    out = out if isinstance(out, torch.Tensor) else out.pooler_output
    assert torch.allclose(z, F.normalize(out, dim=-1), atol=1e-5)
    assert torch.allclose(enc.embed_audio(wav[0]), z[:1], atol=1e-5)


def test_clap_missing_weights_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="CLAP-style"):
        ClapAudioEncoder(str(tmp_path / "none"))


def test_resample_keeps_frequency():
    sr = 16000
    x = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
    y = resample(x, sr, 48000)
    assert y.shape == (48000,)
    peak = np.argmax(np.abs(np.fft.rfft(y)))  # 1 Hz bins over 1 s
    assert peak == 1000


def test_info_nce_hand_computed():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    scale = torch.tensor(0.0)  # exp(0) = 1
    # each row: -log(e^1 / (e^1 + e^0)) = log(1 + e^-1), both directions equal
    assert info_nce(a, t, scale).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    with pytest.raises(ValueError, match="equal shapes"):
        info_nce(a, t[:1], scale)


def _fake_text_embed(texts):
    """Deterministic stand-in for MiniLM: hashed bag of words, 384-d, unit norm."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, s in enumerate(texts):
        for w in s.lower().split():
            out[i, sum(map(ord, w)) % 384] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_clap_style_trains_caches_and_aligns(tmp_path, monkeypatch):
    import emolib.encoders.text as text_mod

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(text_mod, "embed_texts", lambda texts, **kw: _fake_text_embed(texts))
    sr, rows = 16000, []
    g = np.random.default_rng(0)
    for i in range(40):
        high = i % 2 == 0
        f = (2000.0 if high else 150.0) * (1 + 0.05 * g.standard_normal())
        wav = 0.3 * np.sin(2 * np.pi * f * np.arange(sr) / sr) + 0.01 * g.standard_normal(sr)
        p = tmp_path / f"c{i}.wav"
        sf.write(p, wav.astype(np.float32), sr)
        rows.append({"item_id": f"c{i}", "audio_path": str(p),
                     "split": "train" if i < 32 else "val",
                     "caption": "a bright high whistle" if high else "a deep low rumble"})

    class W:
        music = pd.DataFrame(rows)

    W.sr = sr
    m = train_clap_style(W(), seed=0, width=8, embed_dim=16, epochs=8, batch_size=8,
                         crop_seconds=0.5, lr=3e-3)
    assert isinstance(m, ClapStyleModel) and m.label == CLAP_STYLE_LABEL and "CLAP-style" in m.label
    assert len(list((tmp_path / "cache" / "checkpoints").glob("clap-style-*.pt"))) == 1
    assert not any(k.startswith("_text") for k in m.state_dict())
    wav = np.stack([sf.read(r["audio_path"])[0] for r in rows[32:]]).astype(np.float32)
    za = m.embed_audio(wav)
    zt = m.embed_text(["a bright high whistle", "a deep low rumble"])
    assert za.shape == (8, 16) and zt.shape == (2, 16)
    assert torch.allclose(za.norm(dim=1), torch.ones(8), atol=1e-5)
    pred = (za @ zt.T).argmax(1).numpy()
    truth = np.array([0 if i % 2 == 0 else 1 for i in range(32, 40)])
    assert (pred == truth).mean() >= 0.875  # text→audio alignment learned (1.0 for seeds 0-3)
    again = train_clap_style(W(), seed=0, width=8, embed_dim=16, epochs=8, batch_size=8,
                             crop_seconds=0.5, lr=3e-3)
    assert torch.allclose(again.embed_audio(wav), za)
    with pytest.raises(ValueError, match="list of strings"):
        m.embed_text("one string")
    with pytest.raises(ValueError, match="train_crop_seconds"):
        train_clap_style(W(), seed=0, crop_seconds=0.5, train_crop_seconds=1.0)


def test_clap_style_training_is_deterministic_per_seed(tmp_path, monkeypatch):
    # the test above compares a second call that is a cache *hit*; here every run trains in
    # its own empty cache dir, with the global RNGs disturbed in between
    import emolib.encoders.text as text_mod
    from emolib.train import weights_fingerprint

    monkeypatch.setattr(text_mod, "embed_texts", lambda texts, **kw: _fake_text_embed(texts))
    sr, rows = 16000, []
    g = np.random.default_rng(1)
    for i in range(12):
        high = i % 2 == 0
        wav = 0.3 * np.sin(2 * np.pi * (2000.0 if high else 150.0) * np.arange(sr) / sr)
        p = tmp_path / f"d{i}.wav"
        sf.write(p, (wav + 0.01 * g.standard_normal(sr)).astype(np.float32), sr)
        rows.append({"item_id": f"d{i}", "audio_path": str(p), "split": "train" if i < 8 else "val",
                     "caption": "a bright high whistle" if high else "a deep low rumble"})
    world = types.SimpleNamespace(music=pd.DataFrame(rows), sr=sr)

    def run(seed: int, cache: str, global_seed: int) -> str:
        monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / cache))
        torch.manual_seed(global_seed)
        np.random.seed(global_seed)
        m = train_clap_style(world, seed=seed, width=4, embed_dim=8, epochs=2, batch_size=4,
                             crop_seconds=0.5, lr=3e-3)
        assert len(list((tmp_path / cache / "checkpoints").glob("clap-style-*.pt"))) == 1
        return weights_fingerprint(m)

    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a, b, c = run(0, "a", 0), run(0, "b", 123), run(1, "c", 0)
    finally:
        torch.set_num_threads(n)
    assert a == b
    assert a != c
