"""The mid-level perceptual feature model (Chowdhury & Widmer; Aljanaki & Soleymani 2018).

A *receptive-field-regularised* ResNet in the spirit of CP-ResNet (Koutini et al.), the
architecture of the official mid-level code (shreyanc/midlevel_general,
``config_cp_field_shallow_m2``):

* input ``(batch, 1, n_bins, n_frames)``: a log-frequency spectrogram;
* ``in_c``: 5×5 conv, stride 2 → BN → ReLU;
* ``stage1``: three basic blocks with kernels (k1, k2) = (3, 1), (3, 3), (3, 3) and a 2×2
  max-pool after blocks 1 and 2; ``stage2``: one (3, 3) block to the 2nd width;
  ``stage3``: one 1×1 block to the 3rd width — small kernels keep the receptive field
  small, which is what regularises the model;
* every conv inside a block sees one extra input channel holding the *frequency position*
  (a ramp from -1 to 1 along the frequency axis), so a conv knows where in the spectrum
  it is ("frequency-aware" CP-ResNet);
* head: 1×1 conv to 7 outputs → BN → global average pool.

Widths are parameters: the official model uses ``(128, 256, 512)``; the CPU default here
is ``(16, 32, 64)``. Module names follow the official model, so an official checkpoint
loads into ``MidLevelNet(widths=(128, 256, 512))`` with :func:`load_midlevel_checkpoint`.

**Input** (:func:`log_filtered_spectrogram`): like the paper's madmom front end — STFT
magnitude (frame 2048) → triangular filters at 24 bands per octave (unique FFT bins) →
``log10(1 + x)``, at ~31.25 frames per second. The paper uses 22.05 kHz audio and
20–16000 Hz, which gives 149 bins; the emotion world is 16 kHz, so the band edge is
Nyquist (8 kHz) and there are fewer bins (see ``n_log_bins``).

The model predicts the 7 mid-level features; the 8th dimension of the paper's mid-level
space, *onset density*, comes from :func:`emolib.features.onset_density`
(:func:`midlevel_profile`). Long recordings are predicted in windows with a hop and
averaged (:func:`predict_long`; official: 15-s windows, 5-s hop).

Notebook: 03_chowdhury2023.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from emolib import provenance
from emolib.data.taxonomies import MIDLEVEL8_NAMES, MIDLEVEL_NAMES
from emolib.io import atomic_path, file_identity
from emolib.numba_cache import prime_librosa
from emolib.paths import cache_dir

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

__all__ = [
    "MIDLEVEL_NAMES", "MIDLEVEL8_NAMES", "log_filtered_spectrogram", "n_log_bins",
    "MidLevelNet", "frequency_position", "load_midlevel_checkpoint", "spectrogram_cached",
    "train_midlevel_model", "pearson_per_feature", "predict_clips", "predict_long",
    "midlevel_profile",
]

log = logging.getLogger(__name__)

# MIDLEVEL_NAMES (the 7 mid-level features, in the order of the official model's outputs)
# and MIDLEVEL8_NAMES (+ onset density, the paper's 8-d space) are defined in
# emolib.data.taxonomies and re-exported here.


# ----------------------------------------------------------------------------- front end
def _log_filterbank(sr: int, n_fft: int, bands_per_octave: int, fmin: float,
                    fmax: float) -> np.ndarray:
    """Triangular log-frequency filters (``n_bins × (n_fft//2+1)``), madmom-style.

    Centre frequencies ``440·2^(k/bands_per_octave)`` within [fmin, fmax] are snapped to
    FFT bins; duplicates are dropped ("unique filters"); each filter rises from the
    previous centre bin to its own and falls to the next one, normalised to unit area.
    """
    fmax = min(fmax, sr / 2)
    if not 0 < fmin < fmax:
        raise ValueError(f"need 0 < fmin < fmax <= sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    k_lo = int(np.ceil(bands_per_octave * np.log2(fmin / 440.0)))
    k_hi = int(np.floor(bands_per_octave * np.log2(fmax / 440.0)))
    freqs = 440.0 * 2.0 ** (np.arange(k_lo, k_hi + 1) / bands_per_octave)
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    bins = np.unique(np.searchsorted(fft_freqs, freqs))
    bins = bins[(bins > 0) & (bins < len(fft_freqs) - 1)]
    fb = np.zeros((len(bins) - 2, len(fft_freqs)), dtype=np.float32)
    for i in range(len(bins) - 2):
        lo, c, hi = bins[i], bins[i + 1], bins[i + 2]
        fb[i, lo:c + 1] = np.linspace(0.0, 1.0, c - lo + 1)
        fb[i, c:hi + 1] = np.maximum(fb[i, c:hi + 1], np.linspace(1.0, 0.0, hi - c + 1))
        fb[i] /= fb[i].sum()
    return fb


def n_log_bins(sr: int = 16000, n_fft: int = 2048, bands_per_octave: int = 24,
               fmin: float = 20.0, fmax: float = 16000.0) -> int:
    """Number of frequency bins of :func:`log_filtered_spectrogram` for these settings."""
    return _log_filterbank(sr, n_fft, bands_per_octave, fmin, fmax).shape[0]


def log_filtered_spectrogram(audio: np.ndarray, sr: int, *, n_fft: int = 2048,
                             fps: float = 31.25, bands_per_octave: int = 24,
                             fmin: float = 20.0, fmax: float = 16000.0) -> np.ndarray:
    """Log-filtered magnitude spectrogram ``(n_bins, n_frames)`` (float32).

    STFT (Hann, ``n_fft``, hop ``round(sr / fps)``) → log-frequency triangular filterbank
    (:func:`_log_filterbank`) → ``log10(1 + x)``. At 22.05 kHz with the defaults this is
    the paper's 149-bin input; at the world's 16 kHz the top band is 8 kHz.
    Bad input (integer PCM, NaN, ``sr`` or ``n_fft`` not a positive int, ``fps`` not
    in (0, sr]) raises ``ValueError`` naming it (:func:`emolib.features.check_audio`).
    Notebook: 03_chowdhury2023.
    """
    from emolib.features import check_audio, check_positive_ints

    audio = check_audio(audio, sr)
    check_positive_ints(n_fft=n_fft, bands_per_octave=bands_per_octave)
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.number)) or not 0 < fps <= sr:
        raise ValueError(f"fps must be a frame rate in (0, sr={sr}], got {fps!r}")
    hop = int(round(sr / fps))
    mag = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop, center=True))
    fb = _log_filterbank(sr, n_fft, bands_per_octave, fmin, fmax)
    return np.log10(1.0 + fb @ mag).astype(np.float32)


def spectrogram_cached(audio_path: str | Path, sr: int, **kwargs) -> np.ndarray:
    """:func:`log_filtered_spectrogram` of a file, cached under ``cache_dir("features")``.

    The cache key hashes the file's :func:`emolib.io.file_identity` (resolved path, size,
    mtime), ``sr`` and the front-end kwargs.
    Missing file → ``FileNotFoundError`` naming it.
    """
    path = Path(audio_path)
    if not path.exists():
        raise FileNotFoundError(f"audio file not found: {path}")
    key = hashlib.sha256(repr((*file_identity(path), sr,
                               sorted(kwargs.items()))).encode()).hexdigest()[:20]
    target = cache_dir("features", "midlevel_spec") / f"{key}.npy"
    if target.exists():
        return np.load(target)
    from emolib.data.files import load_audio

    audio, _ = load_audio(path, sr)
    spec = log_filtered_spectrogram(audio, sr, **kwargs)
    with atomic_path(target) as tmp:
        np.save(tmp, spec)
    return spec


# ----------------------------------------------------------------------------- model
def frequency_position(x: torch.Tensor) -> torch.Tensor:
    """A ``(B, 1, F, T)`` channel holding each row's frequency position, -1 … 1 (exclusive)."""
    b, _, f, t = x.shape
    ramp = torch.arange(f, device=x.device, dtype=x.dtype) * 2.0 / f - 1.0
    return ramp.view(1, 1, f, 1).expand(b, 1, f, t)


class _BasicBlock(nn.Module):
    """Two convs (each fed the frequency-position channel too) + identity/1×1 shortcut."""

    def __init__(self, c_in: int, c_out: int, k1: int, k2: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in + 1, c_out, k1, padding=k1 // 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out + 1, c_out, k2, padding=k2 // 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if c_in != c_out:
            self.shortcut.add_module("conv", nn.Conv2d(c_in, c_out, 1, bias=False))
            self.shortcut.add_module("bn", nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(torch.cat([x, frequency_position(x)], 1))))
        y = self.bn2(self.conv2(torch.cat([y, frequency_position(y)], 1)))
        return F.relu(y + self.shortcut(x))


class MidLevelNet(nn.Module):
    """Receptive-field-regularised ResNet → 7 mid-level features (see module docstring).

    ``target_mean``/``target_std`` (buffers) undo the z-scoring of the training targets,
    so ``forward`` returns values on the dataset's rating scale.
    """

    def __init__(self, n_outputs: int = 7, widths: Sequence[int] = (16, 32, 64),
                 stage1_kernels: Sequence[tuple[int, int]] = ((3, 1), (3, 3), (3, 3)),
                 stage1_maxpool: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        if len(widths) != 3 or any(int(w) < 1 for w in widths):
            raise ValueError(f"widths must be three positive ints, got {widths!r}")
        w1, w2, w3 = (int(w) for w in widths)
        self.widths = (w1, w2, w3)
        self.in_c = nn.Sequential(nn.Conv2d(1, w1, 5, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(w1), nn.ReLU(True))
        self.stage1 = nn.Sequential()
        for i, (k1, k2) in enumerate(stage1_kernels):
            self.stage1.add_module(f"block{i + 1}", _BasicBlock(w1, w1, k1, k2))
            if i + 1 in stage1_maxpool:
                self.stage1.add_module(f"maxpool{i + 1}_{list(stage1_maxpool).index(i + 1)}",
                                       nn.MaxPool2d(2, 2))
        self.stage2 = nn.Sequential()
        self.stage2.add_module("block1", _BasicBlock(w1, w2, 3, 3))
        self.stage3 = nn.Sequential()
        self.stage3.add_module("block1", _BasicBlock(w2, w3, 1, 1))
        self.feed_forward = nn.Sequential(nn.Conv2d(w3, n_outputs, 1, bias=False),
                                          nn.BatchNorm2d(n_outputs),
                                          nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
        self.register_buffer("target_mean", torch.zeros(n_outputs))
        self.register_buffer("target_std", torch.ones(n_outputs))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def forward_standardised(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs in z-score units of the training targets; ``x`` is ``(B, 1, F, T)``."""
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"expected input (batch, 1, n_bins, n_frames), got {tuple(x.shape)}")
        x = self.stage3(self.stage2(self.stage1(self.in_c(x))))
        return self.feed_forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mid-level predictions on the training targets' scale, ``(B, n_outputs)``."""
        return self.forward_standardised(x) * self.target_std + self.target_mean


def load_midlevel_checkpoint(path: str | Path, widths: Sequence[int] = (128, 256, 512),
                             map_location: str = "cpu") -> MidLevelNet:
    """Load a mid-level checkpoint (e.g. the official CP-ResNet weights) into a MidLevelNet.

    Accepts a bare ``state_dict`` or a dict holding it under ``model_state_dict``,
    ``state_dict`` or ``model``; strips ``module.`` prefixes (DataParallel) and drops keys
    the mid-level head does not use (the domain-adaptation ``discriminator``). Missing
    ``target_mean/std`` buffers mean "no rescaling" (the official model predicts the raw
    scale directly). Any other missing/unexpected key → ``ValueError`` naming the keys.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"mid-level checkpoint not found: {path}")
    obj = torch.load(path, map_location=map_location, weights_only=True)
    if isinstance(obj, dict):
        for k in ("model_state_dict", "state_dict", "model"):
            if k in obj and isinstance(obj[k], dict):
                obj = obj[k]
                break
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state_dict (dict of tensors), "
                         f"got {type(obj).__name__}")
    state = {k.removeprefix("module."): v for k, v in obj.items()
             if not k.removeprefix("module.").startswith("discriminator.")}
    model = MidLevelNet(widths=widths)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatch
        lines = str(err).splitlines()
        detail = lines[1].strip() if len(lines) > 1 else str(err)
        raise ValueError(f"{path}: checkpoint does not fit MidLevelNet(widths={tuple(widths)}): "
                         f"{detail}") from None
    missing = [k for k in missing if k not in ("target_mean", "target_std")]
    if missing or unexpected:
        raise ValueError(f"{path}: checkpoint does not fit MidLevelNet(widths={tuple(widths)}): "
                         f"missing {missing[:5]}, unexpected {list(unexpected)[:5]}")
    provenance.record_weights(path, "mid-level checkpoint")
    model.eval()
    return model


# ----------------------------------------------------------------------------- training
def _crop(spec: np.ndarray, n_frames: int, offset: int | None) -> np.ndarray:
    """Fixed-length view of a spectrogram; wrap-pads short inputs (as the official code)."""
    if spec.shape[1] < n_frames:
        spec = np.pad(spec, ((0, 0), (0, n_frames - spec.shape[1])), mode="wrap")
    start = (spec.shape[1] - n_frames) // 2 if offset is None else offset
    return spec[:, start:start + n_frames]


def _pearson_columns(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    yc, pc = y - y.mean(0), p - p.mean(0)
    den = np.sqrt((yc ** 2).sum(0) * (pc ** 2).sum(0))
    return np.where(den > 0, (yc * pc).sum(0) / np.where(den > 0, den, 1.0), np.nan)


@torch.no_grad()
def predict_clips(model: MidLevelNet, specs: Sequence[np.ndarray], n_frames: int,
                  batch_size: int = 32, device: str = "cpu") -> np.ndarray:
    """Predict each spectrogram's centre crop of ``n_frames``; returns ``(n, n_outputs)``."""
    model.eval().to(device)
    out = []
    for i in range(0, len(specs), batch_size):
        x = np.stack([_crop(s, n_frames, None) for s in specs[i:i + batch_size]])
        out.append(model(torch.from_numpy(x)[:, None].to(device)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.target_mean.numel()))


def pearson_per_feature(model: MidLevelNet, specs: Sequence[np.ndarray], targets: np.ndarray,
                        n_frames: int, names: Sequence[str] = MIDLEVEL_NAMES,
                        device: str = "cpu") -> pd.DataFrame:
    """Per-feature Pearson r (and RMSE) of the model's predictions on held-out clips."""
    pred = predict_clips(model, specs, n_frames, device=device)
    targets = np.asarray(targets, dtype=np.float64)
    r = _pearson_columns(targets, pred)
    rmse = np.sqrt(((targets - pred) ** 2).mean(0))
    return pd.DataFrame({"feature": list(names), "pearson_r": r, "rmse": rmse})


def train_midlevel_model(train_specs: Sequence[np.ndarray], train_targets: np.ndarray,
                         val_specs: Sequence[np.ndarray], val_targets: np.ndarray, *,
                         n_frames: int, widths: Sequence[int] = (16, 32, 64),
                         epochs: int = 30, lr: float = 1e-3, batch_size: int = 16,
                         patience: int | None = 8, seed: int = 0, device: str = "cpu",
                         cache_params: dict | None = None, progress: bool = True) -> MidLevelNet:
    """Train a :class:`MidLevelNet` on (spectrogram, 7 ratings) clips (MSE, Adam).

    Targets are z-scored with the training mean/std (kept in the model's buffers); each
    training step sees a random ``n_frames`` crop; the best epoch is chosen by the mean
    per-feature Pearson r on the validation clips (as the official code does). With
    ``cache_params`` the trained weights are cached via :func:`emolib.train.cached_model`
    (put everything that identifies the data into ``cache_params``).
    """
    from emolib.seed import rng
    from emolib.train import cached_model, fit

    y_tr = np.asarray(train_targets, dtype=np.float32)
    y_va = np.asarray(val_targets, dtype=np.float32)
    if len(train_specs) != len(y_tr) or len(val_specs) != len(y_va):
        raise ValueError("specs and targets must have the same length "
                         f"(train {len(train_specs)} vs {len(y_tr)}, "
                         f"val {len(val_specs)} vs {len(y_va)})")
    n_out = y_tr.shape[1]
    mean, std = y_tr.mean(0), y_tr.std(0) + 1e-6

    def build() -> MidLevelNet:
        torch.manual_seed(seed)
        m = MidLevelNet(n_outputs=n_out, widths=widths)
        m.target_mean.copy_(torch.from_numpy(mean))
        m.target_std.copy_(torch.from_numpy(std))
        return m

    def batches(epoch_seed: int):
        g = rng(seed, "midlevel-batches", epoch_seed)
        order = g.permutation(len(train_specs))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            x = []
            for j in idx:
                s = train_specs[j]
                hi = max(s.shape[1] - n_frames, 0)
                x.append(_crop(s, n_frames, int(g.integers(0, hi + 1))))
            yield (torch.from_numpy(np.stack(x))[:, None],
                   torch.from_numpy((y_tr[idx] - mean) / std))

    class _Epochs:
        """A re-iterable loader: a fresh seeded shuffle + crops every epoch."""

        def __init__(self) -> None:
            self.epoch = 0

        def __iter__(self):
            self.epoch += 1
            return batches(self.epoch)

    def loss_fn(model: MidLevelNet, batch) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(model.forward_standardised(x), y)

    def val_metric(model: MidLevelNet) -> float:
        p = predict_clips(model, val_specs, n_frames, device=device)
        return float(np.nanmean(_pearson_columns(y_va, p)))

    def train(model: MidLevelNet) -> None:
        res = fit(model, loss_fn, _Epochs(), None, epochs=epochs, lr=lr, device=device,
                  seed=seed, patience=patience, val_metric=val_metric, progress=progress)
        log.info("mid-level model: best epoch %d, val mean r %.3f", res.best_epoch,
                 float(res.history["val_metric"].max()))

    if cache_params is None:
        model = build()
        train(model)
        return model.cpu().eval()
    params = dict(cache_params, n_frames=n_frames, widths=list(widths), epochs=epochs, lr=lr,
                  batch_size=batch_size, patience=patience, seed=seed)
    return cached_model("midlevel", params, build, train)


# ----------------------------------------------------------------------------- inference
@torch.no_grad()
def predict_long(model: MidLevelNet, spec: np.ndarray, window_frames: int, hop_frames: int,
                 device: str = "cpu", aggregate: bool = True) -> np.ndarray:
    """Predict a long spectrogram in windows of ``window_frames`` with ``hop_frames``.

    Windows start at 0, hop, 2·hop, … while they fit; a recording shorter than one window
    is wrap-padded to one window. Returns the mean over windows (``aggregate``) or the
    ``(n_windows, n_outputs)`` matrix. Official setting: 15-s windows, 5-s hop.
    """
    if window_frames < 1 or hop_frames < 1:
        raise ValueError(f"window_frames and hop_frames must be >= 1, "
                         f"got {window_frames}, {hop_frames}")
    if spec.shape[1] < window_frames:
        spec = _crop(spec, window_frames, 0)
    starts = range(0, spec.shape[1] - window_frames + 1, hop_frames)
    x = np.stack([spec[:, s:s + window_frames] for s in starts])
    model.eval().to(device)
    pred = model(torch.from_numpy(x)[:, None].to(device)).cpu().numpy()
    return pred.mean(0) if aggregate else pred


def midlevel_profile(model: MidLevelNet, audio_path: str | Path, sr: int, *,
                     window_s: float, hop_s: float, fps: float = 31.25,
                     onset_density_fn: Callable[[np.ndarray, int], float] | None = None,
                     device: str = "cpu") -> np.ndarray:
    """The paper's 8-d mid-level vector of a recording: 7 windowed predictions + onset density.

    ``onset_density_fn(audio, sr)`` defaults to :func:`emolib.features.onset_density`.
    """
    if onset_density_fn is None:
        from emolib.features import onset_density as onset_density_fn
    spec = spectrogram_cached(audio_path, sr, fps=fps)
    seven = predict_long(model, spec, int(round(window_s * fps)), int(round(hop_s * fps)),
                         device=device)
    from emolib.data.files import load_audio

    audio, _ = load_audio(audio_path, sr)
    return np.append(seven, float(onset_density_fn(audio, sr))).astype(np.float64)
