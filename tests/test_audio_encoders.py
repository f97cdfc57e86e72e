"""Tests for emolib.encoders.audio: front ends vs librosa, CNN shapes, chunking, pre-training."""
from __future__ import annotations

import types

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from emolib.encoders import audio as A


def _tone(seconds: float = 1.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1234 * t)
    return (x + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


# --- front ends ---------------------------------------------------------------------------
def test_mel_front_end_matches_librosa_power_to_db():
    x = _tone(1.0)
    ours = A.MelSpectrogram()(torch.from_numpy(x)).numpy()
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=256, n_mels=128,
                                       fmin=0.0, fmax=8000.0, power=2.0, pad_mode="reflect"),
        ref=1.0, amin=1e-10, top_db=None)
    assert ours.shape == ref.shape == (128, 16000 // 256 + 1)
    np.testing.assert_allclose(ours, ref, atol=2e-3, rtol=0)


def test_mel_front_end_top_db_and_batch():
    x = np.stack([_tone(0.5, seed=0), 0.01 * _tone(0.5, seed=1)])
    ours = A.MelSpectrogram(top_db=80.0)(torch.from_numpy(x)).numpy()
    assert ours.shape == (2, 128, 8000 // 256 + 1)
    for i in range(2):
        ref = librosa.power_to_db(librosa.feature.melspectrogram(
            y=x[i], sr=16000, n_fft=512, hop_length=256, n_mels=128, fmax=8000.0,
            pad_mode="reflect"), top_db=80.0)
        np.testing.assert_allclose(ours[i], ref, atol=2e-3)
        assert ours[i].max() - ours[i].min() <= 80.0 + 1e-4


def test_power_to_db_hand_case():
    x = torch.tensor([[[1.0, 10.0], [0.0, 100.0]]])
    np.testing.assert_allclose(A.power_to_db(x).numpy(), [[[0.0, 10.0], [-100.0, 20.0]]])
    np.testing.assert_allclose(A.power_to_db(x, top_db=15.0).numpy(), [[[5.0, 10.0], [5.0, 20.0]]])


def test_harmonic_filterbank_shape_and_positivity():
    f0, level = A.harmonic_center_frequencies(16000, 6, 2)
    assert level == 128 and f0.shape == (768,)
    assert f0[0] == pytest.approx(librosa.note_to_hz("C1"), rel=1e-6)
    np.testing.assert_allclose(f0[128:256], 2 * f0[:128])  # second harmonic
    hfb = A.HarmonicFilterbank()
    fb = hfb.filterbank().detach()
    assert fb.shape == (257, 768)
    assert torch.all(fb >= 0) and torch.all(fb <= 1 + 1e-6)
    # every filter wider than the FFT bin spacing catches energy (peaks near its centre)
    bw = (0.1079 * f0 + 24.7) / 1.0
    wide = torch.from_numpy(bw > 2 * 16000 / 512)
    assert torch.all(fb[:, wide].sum(0) > 0)
    spec = A.Spectrogram()(torch.from_numpy(_tone(1.0)).unsqueeze(0))
    out = hfb(spec)
    assert out.shape == (1, 6, 128, spec.shape[-1])
    # Q is learnable: gradients flow into it
    out.mean().backward()
    assert hfb.q.grad is not None and torch.isfinite(hfb.q.grad).all()


def test_harmonic_filterbank_rejects_wrong_bins():
    with pytest.raises(ValueError, match="frequency bins"):
        A.HarmonicFilterbank()(torch.rand(1, 100, 10))


# --- models --------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,width,dim", [("short_chunk_cnn", 4, 16),
                                            ("short_chunk_resnet", 4, 16),
                                            ("harmonic_cnn", 4, 8), ("won2021_resnet", 4, 16)])
def test_model_shapes(arch, width, dim):
    torch.manual_seed(0)
    m = A.build_tagger(arch, width, n_classes=5).eval()
    x = torch.randn(3, m.input_samples)
    with torch.no_grad():
        emb = m.embed(x)
        logits = m(x)
        feats = m.features(x)
    assert emb.shape == (3, dim) and m.embed_dim == dim
    assert logits.shape == (3, 5)
    torch.testing.assert_close(m.classify_features(feats), logits)
    headless = A.build_tagger(arch, width).eval()
    with torch.no_grad():
        assert headless(x).shape == (3, dim)


@pytest.mark.parametrize("arch", ["short_chunk_cnn", "harmonic_cnn", "won2021_resnet"])
def test_channels_last_layout_does_not_change_the_model(arch):
    # the taggers keep conv weights channels-last for speed; an NCHW copy of the same
    # weights (PyTorch's default layout) must compute the same function. Eval mode: BN with
    # running statistics (train-mode BN on a batch of 2 amplifies float rounding), and
    # gradients only for the short-chunk CNN — the harmonic front end makes constant
    # regions, whose max-pool ties the two layouts may break differently (both are valid
    # subgradients).
    torch.manual_seed(0)
    m = A.build_tagger(arch, 4).eval()
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    ref = A.build_tagger(arch, 4).eval()
    ref.load_state_dict(m.state_dict())
    ref.to(memory_format=torch.contiguous_format)
    feats = m.features(torch.randn(2, m.input_samples))
    stem = ref.hfb_bn(ref.hfb(feats)) if arch == "harmonic_cnn" else ref.spec_bn(feats.unsqueeze(1))
    nchw = ref.layers(stem.contiguous())
    assert nchw.is_contiguous()  # the reference really ran in NCHW
    nhwc = m._body(feats)
    assert nhwc.is_contiguous(memory_format=torch.channels_last)
    scale = float(nchw.abs().max())
    torch.testing.assert_close(nhwc, nchw, rtol=1e-4, atol=1e-5 * scale)
    if arch == "short_chunk_cnn":
        nhwc.square().sum().backward()
        nchw.square().sum().backward()
        ref_convs = [mod for mod in ref.modules() if isinstance(mod, torch.nn.Conv2d)]
        for a, b in zip(convs, ref_convs):
            g = float(b.weight.grad.abs().max())
            torch.testing.assert_close(a.weight.grad, b.weight.grad, rtol=1e-3, atol=1e-4 * g)


def test_paper_widths_give_paper_dims():
    assert A.build_tagger("won2021_resnet").embed_dim == 256
    assert A.build_tagger("short_chunk_cnn").embed_dim == 512
    assert A.build_tagger("harmonic_cnn").embed_dim == 256


def test_too_short_input_and_bad_arch():
    m = A.build_tagger("won2021_resnet", 4)
    with pytest.raises(ValueError, match="at least 288 spectrogram frames"):
        m.embed(torch.randn(1, 16000))
    with pytest.raises(ValueError, match="unknown arch"):
        A.build_tagger("vgg")
    with pytest.raises(ValueError, match="identity shortcut"):
        A.ResBlockMP(4, 8)


# --- chunking ------------------------------------------------------------------------------
def test_sliding_windows_hand_case():
    x = np.arange(10)
    w = A.sliding_windows(x, 4, 3)
    np.testing.assert_array_equal(w, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    w = A.sliding_windows(torch.arange(11), 4, 3)  # tail (index 10) dropped
    assert w.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    np.testing.assert_array_equal(A.sliding_windows(np.arange(3), 5, 1), [[0, 1, 2, 0, 0]])
    # 75 % overlap as in Emo-CLIM: hop = win / 4
    assert A.sliding_windows(np.zeros((2, 20)), 8, 2).shape == (2, 7, 8)
    with pytest.raises(ValueError):
        A.sliding_windows(x, 0, 1)


def test_even_chunks_hand_case():
    x = np.arange(20)
    c = A.even_chunks(x, 4, n_chunks=4)  # hop = (20-4)//4 = 4
    np.testing.assert_array_equal(c[:, 0], [0, 4, 8, 12])
    assert c.shape == (4, 4)
    short = A.even_chunks(np.arange(3), 4, n_chunks=2)
    np.testing.assert_array_equal(short, [[0, 1, 2, 0], [0, 1, 2, 0]])


def test_clip_embedding_is_mean_of_chunks():
    torch.manual_seed(0)
    m = A.build_tagger("short_chunk_cnn", 2).eval()
    x = _tone(3.0)
    per = A.chunk_embeddings(m, x, win=32768, n_chunks=4)
    assert per.shape == (4, m.embed_dim)
    torch.testing.assert_close(A.clip_embedding(m, x, win=32768, n_chunks=4), per.mean(0))
    win = 32768
    per2 = A.chunk_embeddings(m, x, win=win, hop=round(0.25 * win))
    assert per2.shape[0] == 1 + (x.size - win) // round(0.25 * win)
    normed = A.clip_embedding(m, x, win=win, hop=round(0.25 * win), normalize_chunks=True)
    torch.testing.assert_close(normed, torch.nn.functional.normalize(per2, dim=-1).mean(0))
    assert A.embed_clips(m, [x, x], win=win, n_chunks=2).shape == (2, m.embed_dim)


def test_chunk_features_and_feature_embedder_reproduce_chunk_embeddings():
    """Fine-tuning path: front end once, then the trainable part = the frozen-path embedding."""
    torch.manual_seed(0)
    m = A.build_tagger("won2021_resnet", 4).eval()
    x = _tone(6.0)
    feats = A.chunk_features(m, x, n_chunks=3)
    assert feats.shape[0] == 3 and not feats.requires_grad
    emb = A.FeatureEmbedder(m).eval()
    torch.testing.assert_close(emb(feats), A.chunk_embeddings(m, x, n_chunks=3),
                               rtol=1e-5, atol=1e-5)
    # gradients reach the CNN's weights through the embedder (it is trainable)
    head = torch.nn.Linear(m.embed_dim, 2)
    branch = torch.nn.Sequential(A.FeatureEmbedder(m), head).train()
    branch(feats).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters())


# --- pre-training --------------------------------------------------------------------------
def _tiny_world(tmp_path):
    rows, vocab = [], ["fast", "slow", "piano"]
    for i in range(8):
        fast = i % 2 == 0
        sr = 16000
        t = np.arange(int(4.8 * sr)) / sr
        f = 880.0 if fast else 220.0
        x = (0.4 * np.sin(2 * np.pi * f * t)).astype(np.float32)
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, x, sr)
        rows.append({"item_id": f"m{i}", "audio_path": str(path),
                     "tags": ["fast", "piano"] if fast else ["slow"],
                     "split": "train" if i < 6 else "val"})
    return types.SimpleNamespace(music=pd.DataFrame(rows), tag_vocab=vocab, sr=16000)


def test_pretrained_tagger_trains_caches_and_reports_auc(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    world = _tiny_world(tmp_path)
    model, auc = A.pretrained_tagger("won2021_resnet", world, seed=0, profile="quick", width=2,
                                     epochs=1, batch_size=4)
    assert isinstance(model, A.Won2021ResNet) and model.n_classes == 3
    assert 0.0 <= auc <= 1.0
    ckpts = list((tmp_path / "cache" / "checkpoints").glob("tagger-won2021_resnet-*.pt"))
    assert len(ckpts) == 1
    again = A.pretrained_tagger("won2021_resnet", world, seed=0, profile="quick", width=2,
                                epochs=1, batch_size=4)
    assert again.val_roc_auc == auc
    for p, q in zip(model.state_dict().values(), again.model.state_dict().values()):
        torch.testing.assert_close(p, q)
    with pytest.raises(ValueError, match="needs a world"):
        A.pretrained_tagger("won2021_resnet", None)


def test_cached_chunk_embeddings(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    paths = []
    for i in range(2):
        p = tmp_path / f"c{i}.wav"
        sf.write(p, _tone(3.0, seed=i), 16000)
        paths.append(str(p))
    torch.manual_seed(0)
    m = A.build_tagger("short_chunk_cnn", 2).eval()
    arr = A.cached_chunk_embeddings(m, paths, "test-model", win=32768, n_chunks=3)
    assert arr.shape == (2, 3, m.embed_dim) and arr.dtype == np.float32
    ref = A.chunk_embeddings(m, A.load_audio(paths[1]), win=32768, n_chunks=3).numpy()
    np.testing.assert_allclose(arr[1], ref, rtol=1e-5, atol=1e-6)
    assert len(list((tmp_path / "cache" / "features").glob("chunks-*.npy"))) == 1
    with torch.no_grad():  # a cache hit does not run the model: perturbing it changes nothing
        for prm in m.parameters():
            prm.add_(1.0)
    np.testing.assert_array_equal(
        A.cached_chunk_embeddings(m, paths, "test-model", win=32768, n_chunks=3), arr)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        A.load_audio(str(tmp_path / "missing.wav"))


def _tagger_fingerprint(tmp_path, monkeypatch, world, seed: int, cache: str,
                        global_seed: int) -> str:
    """Train a tiny tagger in its own empty cache dir (no cache hit) after seeding torch."""
    from emolib.train import weights_fingerprint

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / cache))
    torch.manual_seed(global_seed)
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        res = A.pretrained_tagger("won2021_resnet", world, seed=seed, profile="quick", width=2,
                                  epochs=1, batch_size=4)
    finally:
        torch.set_num_threads(n)
    assert len(list((tmp_path / cache / "checkpoints").glob("tagger-*.pt"))) == 1
    return weights_fingerprint(res.model)


def test_pretrained_tagger_is_deterministic_given_seed_and_global_state(tmp_path, monkeypatch):
    world = _tiny_world(tmp_path)
    a = _tagger_fingerprint(tmp_path, monkeypatch, world, 0, "a", global_seed=0)
    b = _tagger_fingerprint(tmp_path, monkeypatch, world, 0, "b", global_seed=0)
    c = _tagger_fingerprint(tmp_path, monkeypatch, world, 1, "c", global_seed=0)
    assert a == b
    assert a != c


def test_pretrained_tagger_does_not_depend_on_the_global_rng(tmp_path, monkeypatch):
    world = _tiny_world(tmp_path)
    a = _tagger_fingerprint(tmp_path, monkeypatch, world, 0, "a", global_seed=0)
    b = _tagger_fingerprint(tmp_path, monkeypatch, world, 0, "b", global_seed=123)
    assert a == b
