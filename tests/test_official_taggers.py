"""Strict tagger-checkpoint loading and the sota-music-tagging-models converter.

The official checkpoints are not downloadable here: synthetic state_dicts carry the official
names and shapes, written from minzwon/sota-music-tagging-models ``training/model.py`` /
``training/modules.py`` (n_channels 128, n_class 50, 16 kHz, n_fft 512, n_mels 128; the
Harmonic CNN with its defaults: 6 harmonics, 2 bins per semitone, learn_bw='only_Q').
"""
from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emolib.encoders import audio as A
from emolib.encoders import official_taggers as OT

N, N_CLASS = 128, 50


# --- synthetic official state_dicts ------------------------------------------------------
def _conv(g, c_in, c_out):  # nn.Conv2d(c_in, c_out, 3), bias
    return {"weight": torch.randn(c_out, c_in, 3, 3, generator=g) * 0.05,
            "bias": torch.randn(c_out, generator=g) * 0.05}


def _bn(g, c):  # nn.BatchNorm1d/2d(c)
    return {"weight": 1 + 0.1 * torch.randn(c, generator=g),
            "bias": 0.1 * torch.randn(c, generator=g),
            "running_mean": torch.randn(c, generator=g),
            "running_var": 0.5 + torch.rand(c, generator=g),
            "num_batches_tracked": torch.randint(1, 10_000, (), generator=g)}


def _linear(g, d_in, d_out):
    return {"weight": torch.randn(d_out, d_in, generator=g) * 0.05,
            "bias": torch.randn(d_out, generator=g) * 0.05}


def _put(state, prefix, tensors):
    state.update({f"{prefix}.{k}": v for k, v in tensors.items()})


def _mel_frontend(state, fb=True):
    """torchaudio.transforms.MelSpectrogram(16000, n_fft=512, f_max=8000, n_mels=128) buffers."""
    state["spec.spectrogram.window"] = torch.hann_window(512)
    state["spec.mel_scale.fb"] = (torch.as_tensor(librosa.filters.mel(
        sr=16000, n_fft=512, n_mels=128, fmin=0.0, fmax=8000.0, htk=True, norm=None)).T
        .contiguous() if fb else torch.empty(0))  # (n_freqs, n_mels); empty before 1st forward


def _dense(g, state, d):
    _put(state, "dense1", _linear(g, d, d))
    _put(state, "bn", _bn(g, d))
    _put(state, "dense2", _linear(g, d, N_CLASS))


CHANNELS = [1, N, N, 2 * N, 2 * N, 2 * N, 2 * N, 4 * N]  # layer1..layer7 of both short models


def official_short(seed=0, fb=True):
    """ShortChunkCNN: spec, spec_bn, layer1..7 = Conv_2d (conv, bn), dense1, bn, dense2."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    _mel_frontend(state, fb)
    _put(state, "spec_bn", _bn(g, 1))
    for i in range(1, 8):
        _put(state, f"layer{i}.conv", _conv(g, CHANNELS[i - 1], CHANNELS[i]))
        _put(state, f"layer{i}.bn", _bn(g, CHANNELS[i]))
    _dense(g, state, 4 * N)
    return state


def official_short_res(seed=1):
    """ShortChunkCNN_Res: layer1..7 = Res_2d(stride 2): conv_1/bn_1/conv_2/bn_2/conv_3/bn_3."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    _mel_frontend(state)
    _put(state, "spec_bn", _bn(g, 1))
    for i in range(1, 8):
        c_in, c_out = CHANNELS[i - 1], CHANNELS[i]
        _put(state, f"layer{i}.conv_1", _conv(g, c_in, c_out))
        _put(state, f"layer{i}.bn_1", _bn(g, c_out))
        _put(state, f"layer{i}.conv_2", _conv(g, c_out, c_out))
        _put(state, f"layer{i}.bn_2", _bn(g, c_out))
        _put(state, f"layer{i}.conv_3", _conv(g, c_in, c_out))  # stride != 1: diff = True
        _put(state, f"layer{i}.bn_3", _bn(g, c_out))
    _dense(g, state, 4 * N)
    return state


def official_hcnn(seed=2):
    """HarmonicCNN: hstft (spec window, bw_Q), hstft_bn(6), Conv_2d / Res_2d_mp layers."""
    g = torch.Generator().manual_seed(seed)
    state = {"hstft.spec.window": torch.hann_window(512),
             "hstft.bw_Q": 1.0 + 0.1 * torch.rand(1, generator=g)}
    _put(state, "hstft_bn", _bn(g, 6))
    plan = [("conv", 6, N), ("res", N, N), ("res", N, N), ("res", N, N), ("conv", N, 2 * N),
            ("res", 2 * N, 2 * N), ("res", 2 * N, 2 * N)]
    for i, (kind, c_in, c_out) in enumerate(plan, start=1):
        if kind == "conv":
            _put(state, f"layer{i}.conv", _conv(g, c_in, c_out))
            _put(state, f"layer{i}.bn", _bn(g, c_out))
        else:
            _put(state, f"layer{i}.conv_1", _conv(g, c_in, c_out))
            _put(state, f"layer{i}.bn_1", _bn(g, c_out))
            _put(state, f"layer{i}.conv_2", _conv(g, c_out, c_out))
            _put(state, f"layer{i}.bn_2", _bn(g, c_out))
    _dense(g, state, 2 * N)
    return state


OFFICIAL = {"short_chunk_cnn": official_short, "short_chunk_resnet": official_short_res,
            "harmonic_cnn": official_hcnn}
FRONTEND = {"spec.spectrogram.window", "spec.mel_scale.fb", "hstft.spec.window"}
SUB = {"conv": "conv", "bn": "bn", "conv1": "conv_1", "bn1": "bn_1", "conv2": "conv_2",
       "bn2": "bn_2", "shortcut.0": "conv_3", "shortcut.1": "bn_3"}
HEAD = {"head.net.0": "dense1", "head.net.1": "bn", "head.net.4": "dense2"}


def official_name(emolib_key: str) -> str:
    """The official tensor an emolib tensor must come from (written independently of the
    converter, from emolib's module tree to the official one)."""
    if emolib_key == "hfb.q":
        return "hstft.bw_Q"
    module, tensor = emolib_key.rsplit(".", 1)
    if module in ("spec_bn",):
        return emolib_key
    if module == "hfb_bn":
        return f"hstft_bn.{tensor}"
    if module in HEAD:
        return f"{HEAD[module]}.{tensor}"
    _, index, sub = module.split(".", 2)
    return f"layer{int(index) + 1}.{SUB[sub]}.{tensor}"


def reference_logits(arch: str, st: dict, feats: torch.Tensor) -> torch.Tensor:
    """The official forward pass (before its sigmoid), written functionally from
    training/model.py and training/modules.py, on the official tensor names. ``feats``:
    log-mel (B, 128, T) for the short models, power spectrogram (B, 257, T) for the hcnn."""
    def bn(x, p):
        return F.batch_norm(x, st[f"{p}.running_mean"], st[f"{p}.running_var"],
                            st[f"{p}.weight"], st[f"{p}.bias"], False, 0.0, 1e-5)

    def conv(x, p, stride=1):
        return F.conv2d(x, st[f"{p}.weight"], st[f"{p}.bias"], stride=stride, padding=1)

    def conv_2d(x, p, pool):  # Conv_2d
        return F.max_pool2d(F.relu(bn(conv(x, f"{p}.conv"), f"{p}.bn")), pool)

    def res_2d(x, p):  # Res_2d, stride 2, conv_3 shortcut
        out = bn(conv(F.relu(bn(conv(x, f"{p}.conv_1", 2), f"{p}.bn_1")), f"{p}.conv_2"),
                 f"{p}.bn_2")
        return F.relu(bn(conv(x, f"{p}.conv_3", 2), f"{p}.bn_3") + out)

    def res_2d_mp(x, p, pool):  # Res_2d_mp
        out = bn(conv(F.relu(bn(conv(x, f"{p}.conv_1"), f"{p}.bn_1")), f"{p}.conv_2"),
                 f"{p}.bn_2")
        return F.max_pool2d(F.relu(x + out), pool)

    if arch == "harmonic_cnn":  # HarmonicSTFT: triangular filters on 6 harmonics
        low = librosa.note_to_midi("C1")
        high = librosa.note_to_midi(librosa.hz_to_note(16000 / 12))
        level = (high - low) * 2
        hz = 440.0 * 2.0 ** ((np.linspace(low, high, level + 1)[:-1] - 69.0) / 12.0)
        f0 = torch.tensor(np.concatenate([hz * h for h in range(1, 7)]).astype("float32"))
        bw = (0.1079 * f0 + 24.7) / st["hstft.bw_Q"]
        bins = torch.linspace(0, 8000, feats.shape[1]).unsqueeze(1)
        fb = torch.clamp(torch.minimum(bins * (2 / bw) + 1 - 2 * f0 / bw,
                                       bins * (-2 / bw) + 1 + 2 * f0 / bw), min=0.0)
        x = torch.matmul(feats.transpose(1, 2), fb).transpose(1, 2)
        x = 10 * torch.log10(torch.clamp(x, min=1e-10)).view(x.shape[0], 6, level, -1)
        x = bn(x, "hstft_bn")
        for i, kind in enumerate(["c", "r", "r", "r", "c", "r3", "r3"], start=1):
            x = (conv_2d(x, f"layer{i}", 2) if kind == "c"
                 else res_2d_mp(x, f"layer{i}", (2, 3) if kind == "r3" else 2))
    else:
        x = bn(feats.unsqueeze(1), "spec_bn")
        for i in range(1, 8):
            x = (conv_2d(x, f"layer{i}", 2) if arch == "short_chunk_cnn"
                 else res_2d(x, f"layer{i}"))
    x = x.squeeze(2).amax(-1)  # global max pooling over time
    x = F.relu(F.batch_norm(F.linear(x, st["dense1.weight"], st["dense1.bias"]),
                            st["bn.running_mean"], st["bn.running_var"], st["bn.weight"],
                            st["bn.bias"], False, 0.0, 1e-5))
    return F.linear(x, st["dense2.weight"], st["dense2.bias"])


# --- conversion ----------------------------------------------------------------------------
@pytest.mark.parametrize("arch", sorted(OFFICIAL))
def test_official_checkpoint_converts_and_fills_every_tensor(arch, tmp_path, caplog):
    official = OFFICIAL[arch]()
    assert OT.official_arch(official) == arch
    converted = OT.convert_official_state_dict(official, arch)
    model = A.ARCHS[arch](n_channels=N, n_classes=N_CLASS,
                          **({} if arch == "harmonic_cnn" else
                             {"mel_kwargs": OT.OFFICIAL_MEL_KWARGS}))
    A.load_tagger_state_dict(model, converted, "converted")  # strict: raises on any gap
    own = model.state_dict()
    used = {official_name(k) for k in own}
    assert used == set(official) - FRONTEND  # every official tensor used once, none left
    for key, value in own.items():
        torch.testing.assert_close(value, official[official_name(key)], rtol=0, atol=0,
                                   msg=f"{key} <- {official_name(key)}")

    # the file loader detects the official names, converts, infers width and tags, logs it
    path = tmp_path / "best_model.pth"
    torch.save(official, path)
    with caplog.at_level("INFO", logger="emolib.encoders.audio"):
        loaded = A.load_tagger_checkpoint(path, arch)
    assert "official sota-music-tagging-models" in caplog.text
    assert loaded.n_classes == N_CLASS and not loaded.training
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, official[official_name(key)], rtol=0, atol=0)
    with torch.no_grad():
        wave = 0.1 * torch.randn(1, loaded.input_samples, generator=torch.Generator()
                                 .manual_seed(0))
        logits = loaded(wave)
        emb = loaded.embed(wave)
        ref = reference_logits(arch, official, loaded.features(wave))
    assert logits.shape == (1, N_CLASS) and torch.isfinite(logits).all()
    assert emb.shape == (1, loaded.embed_dim) and torch.isfinite(emb).all()
    # same computation as the official model from the front-end output on
    scale = float(ref.abs().max())
    torch.testing.assert_close(logits, ref, rtol=1e-4, atol=1e-4 * max(scale, 1.0))


def test_official_mel_front_end_is_used_and_checked(tmp_path):
    path = tmp_path / "short.pth"
    torch.save(official_short(fb=False), path)  # empty fb: the official defaults apply
    model = A.load_tagger_checkpoint(path, "short_chunk_cnn")
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=128, fmax=8000.0, htk=True, norm=None)
    torch.testing.assert_close(model.frontend.mel_fb, torch.as_tensor(ref))
    # emolib's default (Slaney) filterbank is not what the official weights were trained on
    with pytest.raises(ValueError, match=r"short\.pth: the official checkpoint was trained on "
                                         r"torchaudio's mel filterbank"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn", mel_kwargs={"htk": False,
                                                                       "norm": "slaney"})
    with pytest.raises(ValueError, match="mel_kwargs="):
        A.load_tagger_state_dict(A.build_tagger("short_chunk_cnn", N, N_CLASS),
                                 official_short(), "short.pth")
    bad = official_short()
    bad["spec.spectrogram.window"] = torch.hann_window(1024)
    with pytest.raises(ValueError, match="STFT window differs"):
        A.load_tagger_state_dict(A.ShortChunkCNN(N, N_CLASS, OT.OFFICIAL_MEL_KWARGS), bad)


def test_official_checkpoint_of_another_model_is_refused(tmp_path):
    path = tmp_path / "hcnn.pth"
    torch.save(official_hcnn(), path)
    with pytest.raises(ValueError, match=r"hcnn\.pth: the checkpoint is the official 'hcnn'"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn")
    with pytest.raises(ValueError, match="no counterpart in sota-music-tagging-models"):
        OT.convert_official_state_dict(official_short(), "won2021_resnet")
    fcn = {"spec_bn.weight": torch.ones(1), "layer1.conv.weight": torch.zeros(64, 1, 3, 3),
           "layer5.conv.weight": torch.zeros(64, 128, 3, 3), "dense.weight": torch.zeros(50, 64)}
    with pytest.raises(ValueError, match="none of the models emolib converts"):
        OT.official_arch(fcn)
    fixed_q = official_hcnn()
    del fixed_q["hstft.bw_Q"]
    with pytest.raises(ValueError, match="learn_bw='fix'"):
        OT.convert_official_state_dict(fixed_q, "harmonic_cnn")
    extra = official_short()
    extra["dense3.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match="no emolib counterpart: dense3.weight"):
        OT.convert_official_state_dict(extra, "short_chunk_cnn")


def test_official_names_and_wrappers_are_recognised():
    state = {"module." + k: v for k, v in official_short_res().items()}
    assert OT.is_official_state_dict(state)
    assert not OT.is_official_state_dict(A.ShortChunkCNN(4, 3).state_dict())
    assert OT.official_arch(A.HarmonicCNN(4, 3).state_dict()) is None
    model = A.ShortChunkResNet(N, N_CLASS, OT.OFFICIAL_MEL_KWARGS)
    A.load_tagger_state_dict(model, state)  # DataParallel prefix stripped
    torch.testing.assert_close(model.layers[6].shortcut[0].weight,
                               state["module.layer7.conv_3.weight"])
    assert OT.official_name_map("harmonic_cnn")["layer6.bn_2"] == "layers.5.bn2"


# --- strict loading of emolib checkpoints ---------------------------------------------------
def _small(width=8, n_classes=N_CLASS, seed=0):
    torch.manual_seed(seed)
    return A.ShortChunkCNN(width, n_classes)


def test_partial_checkpoint_fails_naming_file_and_missing_keys(tmp_path):
    full = _small().state_dict()
    assert len(full) == 63
    keep = [k for k in full if k.startswith(("spec_bn.", "layers.0."))] + ["head.net.4.bias"]
    assert len(keep) == 13  # 50 of 63 tensors missing
    path = tmp_path / "partial.pt"
    torch.save({k: full[k] for k in keep}, path)
    with pytest.raises(ValueError) as err:
        A.load_tagger_checkpoint(path, "short_chunk_cnn")
    msg = str(err.value)
    assert str(path) in msg and len(msg.splitlines()) < 30
    # 50 missing, of which 7 BatchNorm num_batches_tracked counters are excused
    assert "missing from the checkpoint (43 of 63 model tensors, BatchNorm counters aside)" in msg
    assert "layers.1.conv.weight, layers.1.conv.bias" in msg and "(+33 more)" in msg
    assert "num_batches_tracked" not in msg


def test_unexpected_key_fails(tmp_path):
    state = _small().state_dict()
    state["layers.7.conv.weight"] = torch.zeros(1)
    path = tmp_path / "extra.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"extra\.pt: checkpoint does not fit ShortChunkCNN"
                                         r"\(width 8, 50-tag head\)\n  unexpected \(1 of 64 "
                                         r"checkpoint tensors\): layers\.7\.conv\.weight$"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn")


def test_shape_mismatch_names_tensors_and_both_shapes_in_a_few_lines(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(_small(width=16).state_dict(), path)
    with pytest.raises(ValueError) as err:
        A.load_tagger_checkpoint(path, "short_chunk_cnn", width=8)
    msg = str(err.value)
    lines = msg.splitlines()
    assert len(lines) < 30, msg
    assert lines[0] == f"{path}: checkpoint does not fit ShortChunkCNN(width 8, 50-tag head)"
    assert "    layers.0.conv.weight: (16, 1, 3, 3) vs (8, 1, 3, 3)" in lines
    assert "shape mismatches (49;" in msg and "(+39 more)" in msg
    assert "the checkpoint has width 16, the model 8" in msg
    # width=None infers it from the checkpoint
    model = A.load_tagger_checkpoint(path, "short_chunk_cnn")
    assert model.layers[0].conv.out_channels == 16 and model.n_classes == N_CLASS


def test_head_width_and_fresh_head(tmp_path):
    src = _small(seed=3)
    path = tmp_path / "tagger.pt"
    torch.save(src.state_dict(), path)
    with pytest.raises(ValueError, match=r"(?s)head\.net\.4\.weight: \(50, 32\) vs \(10, 32\)"
                                         r".*fresh_head=True"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn", n_classes=10)
    torch.manual_seed(0)
    fresh = A.load_tagger_checkpoint(path, "short_chunk_cnn", n_classes=10, fresh_head=True)
    assert fresh.head.net[4].out_features == 10
    torch.testing.assert_close(fresh.layers[3].conv.weight, src.layers[3].conv.weight)
    assert A.load_tagger_checkpoint(path, "short_chunk_cnn", fresh_head=True).head is None
    with pytest.raises(ValueError, match="unexpected .*head.net.0.weight"):
        A.load_tagger_state_dict(A.ShortChunkCNN(8), src.state_dict())


def test_batchnorm_counters_may_be_absent_and_wrappers_are_unwrapped(tmp_path):
    src = A.HarmonicCNN(4, 5)
    state = {k: v for k, v in src.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "old.pt"
    torch.save({"epoch": 3, "state_dict": state}, path)
    model = A.load_tagger_checkpoint(path, "harmonic_cnn")
    torch.testing.assert_close(model.hfb.q, src.hfb.q)
    torch.testing.assert_close(model.head.net[4].weight, src.head.net[4].weight)


def test_not_a_state_dict_and_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        A.load_tagger_checkpoint(tmp_path / "nope.pt", "short_chunk_cnn")
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pt: not a readable torch checkpoint"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn")
    torch.save({"weights": [1, 2]}, path)
    with pytest.raises(ValueError, match=r"junk\.pt: expected a state_dict .* weights"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn")
    torch.save({"foo.weight": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="cannot infer the width"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn")
    with pytest.raises(ValueError, match="no name in common"):
        A.load_tagger_checkpoint(path, "short_chunk_cnn", width=4)
