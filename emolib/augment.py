"""Data augmentation and label-balanced unpaired batches (Emo-CLIM training, §4.2).

Audio (numpy, 1-D, any sample rate), every random choice from a ``numpy`` Generator:

* :func:`random_crop` — a random excerpt of the encoder's input length;
* :func:`mix_at_snr` — add a noise signal scaled to a target SNR (dB);
* :class:`AudioAugment` — Emo-CLIM's chain: random crop → background noise (SNR drawn
  uniformly in 3–30 dB, probability 0.8) → Gaussian noise (SNR 5–40 dB, probability 0.8).
  The official code draws background noise from a noise collection; offline there is none,
  so the bank is a parameter (the notebook uses other training clips' audio, i.e. music
  mixed under music) and, without a bank, pink noise is generated.

Images (torch, (C, H, W) float):

* :func:`random_resized_crop` — random area/aspect crop resized to ``size`` (training);
* :func:`center_resize_crop` — resize the short side, centre crop (evaluation), as CLIP's
  preprocessing does.

Batches:

* :class:`BalancedUnpairedSampler` — every batch slot draws a class uniformly at random and
  then an item of that class, independently for images and for audio (so the two halves
  of a batch are class-balanced in expectation and *not* paired), as the official code does.

Notebook: 02_emoclim2024.ipynb.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from emolib.seed import rng as derive_rng

__all__ = ["random_crop", "mix_at_snr", "pink_noise", "AudioAugment", "random_resized_crop",
           "center_resize_crop", "BalancedUnpairedSampler"]


# ---------------------------------------------------------------------------- audio
def random_crop(audio: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample excerpt; shorter signals are zero-padded at the end."""
    y = np.asarray(audio)
    if y.ndim != 1:
        raise ValueError(f"audio must be 1-D, got shape {y.shape}")
    if length < 1:
        raise ValueError(f"length must be >= 1 sample, got {length!r}")
    if len(y) <= length:
        return np.pad(y, (0, length - len(y))).astype(np.float32, copy=False)
    start = int(rng.integers(0, len(y) - length + 1))
    return y[start:start + length].astype(np.float32, copy=True)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal + g·noise`` with ``g`` such that 10·log10(P_signal / P(g·noise)) = ``snr_db``.

    ``noise`` is tiled or cut to the signal's length. A silent signal or noise is returned
    unchanged (there is no meaningful SNR).
    """
    s = np.asarray(signal, dtype=np.float32)
    n = np.asarray(noise, dtype=np.float32)
    if s.ndim != 1 or n.ndim != 1 or len(n) == 0:
        raise ValueError(f"signal and noise must be non-empty 1-D arrays, got {s.shape}, {n.shape}")
    if len(n) < len(s):
        n = np.tile(n, int(np.ceil(len(s) / len(n))))
    n = n[:len(s)]
    p_s, p_n = float(np.mean(s.astype(np.float64) ** 2)), float(np.mean(n.astype(np.float64) ** 2))
    if p_s == 0.0 or p_n == 0.0:
        return s.copy()
    gain = np.sqrt(p_s / (p_n * 10.0 ** (snr_db / 10.0)))
    return (s + gain * n).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of 1/f (pink) noise, unit variance (spectral shaping of white noise)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n=n)
    return (x / (x.std() + 1e-12)).astype(np.float32)


@dataclass
class AudioAugment:
    """Emo-CLIM's audio augmentation chain (random crop, background noise, Gaussian noise).

    Args:
        length: crop length in samples (the encoder's input length); None = no crop.
        background: bank of background-noise signals (1-D arrays); None = pink noise.
        bg_snr: (low, high) SNR in dB for background noise (3–30 in the paper's code).
        bg_p: probability of adding background noise (0.8).
        gauss_snr: (low, high) SNR in dB for white Gaussian noise (5–40).
        gauss_p: probability of adding Gaussian noise (0.8).
    """

    length: int | None
    background: Sequence[np.ndarray] | None = None
    bg_snr: tuple[float, float] = (3.0, 30.0)
    bg_p: float = 0.8
    gauss_snr: tuple[float, float] = (5.0, 40.0)
    gauss_p: float = 0.8
    _checked: bool = field(default=False, repr=False)

    def _check(self) -> None:
        for name in ("bg_p", "gauss_p"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        for name in ("bg_snr", "gauss_snr"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(lo, hi)!r}")
        if self.background is not None and len(self.background) == 0:
            raise ValueError("background bank is empty; pass None to use pink noise")
        self._checked = True

    def __call__(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return one augmented view of ``audio`` (float32, ``length`` samples)."""
        if not self._checked:
            self._check()
        y = np.asarray(audio, dtype=np.float32)
        y = random_crop(y, self.length, rng) if self.length is not None else y.copy()
        if rng.random() < self.bg_p:
            if self.background is None:
                noise = pink_noise(len(y), rng)
            else:
                src = self.background[int(rng.integers(len(self.background)))]
                noise = random_crop(np.asarray(src, dtype=np.float32), len(y), rng)
            y = mix_at_snr(y, noise, float(rng.uniform(*self.bg_snr)))
        if rng.random() < self.gauss_p:
            y = mix_at_snr(y, rng.standard_normal(len(y)).astype(np.float32),
                           float(rng.uniform(*self.gauss_snr)))
        return y


# ---------------------------------------------------------------------------- images
def _check_image(image: torch.Tensor) -> torch.Tensor:
    if not isinstance(image, torch.Tensor) or image.ndim != 3:
        raise ValueError(f"image must be a (C, H, W) tensor, got "
                         f"{type(image).__name__} {tuple(getattr(image, 'shape', ()))}")
    return image.float()


def _resize(image: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(image[None], size=hw, mode="bilinear", align_corners=False,
                         antialias=True)[0]


def random_resized_crop(image: torch.Tensor, size: int, rng: np.random.Generator,
                        scale: tuple[float, float] = (0.5, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """Crop a random region (area share in ``scale``, aspect in ``ratio``), resize to ``size``².

    Falls back to the central full-height/width square after 10 unsuccessful draws.
    """
    img = _check_image(image)
    _, h, w = img.shape
    area = h * w
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = float(np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1]))))
        cw, ch = int(round(np.sqrt(target * aspect))), int(round(np.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            return _resize(img[:, top:top + ch, left:left + cw], (size, size))
    return center_resize_crop(img, size)


def center_resize_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize the short side to ``size`` and take the central ``size``² crop (CLIP eval)."""
    img = _check_image(image)
    _, h, w = img.shape
    s = size / min(h, w)
    nh, nw = max(size, int(round(h * s))), max(size, int(round(w * s)))
    img = _resize(img, (nh, nw)) if (nh, nw) != (h, w) else img
    top, left = (nh - size) // 2, (nw - size) // 2
    return img[:, top:top + size, left:left + size]


# ---------------------------------------------------------------------------- batches
class BalancedUnpairedSampler:
    """Label-balanced, unpaired image/audio batches (Emo-CLIM's Multimodal dataset).

    Each of the ``batch_size`` slots of a batch draws a class uniformly from ``classes``,
    then an item of that class uniformly — separately for images and for audio. Items
    whose label is not in ``classes`` are never drawn (the paper drops awe, disgust and
    tender). Iterating yields ``n_batches`` pairs ``(image_idx, audio_idx)`` of index
    arrays; epoch ``e`` uses the generator ``rng(seed, "balanced", e)``, and the epoch
    counter advances on every iteration, so a run is reproducible from its seed.
    """

    def __init__(self, image_labels: Sequence, audio_labels: Sequence, classes: Sequence,
                 batch_size: int = 64, n_batches: int = 100, seed: int = 0) -> None:
        if batch_size < 1 or n_batches < 1:
            raise ValueError(f"batch_size and n_batches must be >= 1, "
                             f"got {batch_size}, {n_batches}")
        self.classes = list(classes)
        if not self.classes:
            raise ValueError("classes is empty")
        img, aud = (np.asarray(list(image_labels), dtype=object),
                    np.asarray(list(audio_labels), dtype=object))
        self.image_pools = [np.flatnonzero(img == c) for c in self.classes]
        self.audio_pools = [np.flatnonzero(aud == c) for c in self.classes]
        for side, pools in (("image", self.image_pools), ("audio", self.audio_pools)):
            empty = [c for c, p in zip(self.classes, pools) if len(p) == 0]
            if empty:
                raise ValueError(f"no {side} items for classes {empty}; every class needs items "
                                 "in both modalities")
        self.batch_size, self.n_batches, self.seed = batch_size, n_batches, seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.n_batches

    def batches(self, epoch: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The batches of ``epoch`` (a pure function of seed and epoch)."""
        g = derive_rng(self.seed, "balanced", epoch)
        out = []
        k = len(self.classes)
        for _ in range(self.n_batches):
            pair = []
            for pools in (self.image_pools, self.audio_pools):
                cls = g.integers(0, k, size=self.batch_size)
                pair.append(np.array([pools[c][g.integers(len(pools[c]))] for c in cls]))
            out.append((pair[0], pair[1]))
        return out

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = self.epoch
        self.epoch += 1
        return iter(self.batches(epoch))
