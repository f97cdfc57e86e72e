"""Minz Won's tagging-CNN family: mel / harmonic front ends, four CNNs, chunking, pre-training.

Front ends (pure torch, no torchaudio):

* :class:`MelSpectrogram` — ``torch.stft`` (Hann window, centred) → power → a librosa mel
  filterbank held as a buffer → dB (``10·log10(max(x, amin))``, optional ``top_db``).
  Defaults follow Won et al.: 16 kHz, n_fft 512, hop 256, 128 mels, 0–8000 Hz, power 2.
  The filterbank is librosa's (Slaney scale, Slaney norm); ``htk=True, norm=None``
  reproduces the torchaudio filterbank Won's code used.
* :class:`HarmonicFilterbank` — the data-driven harmonic front end of Won et al. (ICASSP
  2020): a linear spectrogram through learnable triangular filters centred on 6 harmonics
  of a MIDI-spaced pitch grid (2 bins per semitone, C1 … the note at sr/(2·6)), bandwidth
  ``(0.1079·f + 24.7) / Q`` with a learnable Q (init 1) → dB → (6, 128, T).

CNNs (all return an embedding cut before the head; ``n_classes`` adds the tagging head
Linear → BN → ReLU → Dropout(.5) → Linear, giving logits):

* :class:`ShortChunkCNN` — 7 × (3×3 conv, BN, ReLU, 2×2 max-pool), channels n,n,2n,2n,2n,
  2n,4n; squeeze freq, global max over time (Won et al. SMC 2020; paper n = 128).
* :class:`ShortChunkResNet` — same channels with stride-2 residual blocks.
* :class:`HarmonicCNN` — harmonic front end, conv + residual max-pool blocks, 2n-d output.
* :class:`Won2021ResNet` — the audio CNN of Won et al. ISMIR 2021 (text2music code):
  input BN, Conv(1→d), Res(d), Conv(d→2d), Res(2d)×3 (last pool (2,3)), Conv(2d→4d, pool
  (2,3)), 1×1 conv 4d, squeeze freq, global max over time; paper d = 64 → 256-d.

Every model splits into a fixed front end (:meth:`TaggingCNN.features`, waveform →
spectrogram, no trainable weights) and the trainable rest (:meth:`TaggingCNN.embed_features`),
so features can be precomputed once and cropped in the spectrogram domain.

Chunking: :func:`sliding_windows` (Emo-CLIM's 75%-overlap windows), :func:`even_chunks`
(Won's 16 evenly spaced evaluation chunks), :func:`chunk_embeddings` /
:func:`clip_embedding` (chunk-averaged clip embedding).

Checkpoints: :func:`load_tagger_checkpoint` / :func:`load_tagger_state_dict` load a tagger
``state_dict`` strictly (missing, unexpected and mis-shaped tensors are an error naming the
file), converting the official sota-music-tagging-models checkpoints (short-chunk CNN /
ResNet, Harmonic CNN) with :mod:`emolib.encoders.official_taggers`.

Pre-training: :func:`pretrained_tagger` trains a CNN on the emotion world's multi-label tags
(the MagnaTagATune / MSD role, BCE) once, caches it through :func:`emolib.train.cached_model`
and returns it with its validation ROC-AUC.

Notebooks: 01_won2021, 02_emoclim2024, 04_zhu2023.
"""
from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from emolib import provenance
from emolib.numba_cache import prime_librosa

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

__all__ = [
    "SR",
    "MelSpectrogram",
    "Spectrogram",
    "HarmonicFilterbank",
    "power_to_db",
    "harmonic_center_frequencies",
    "ConvBlock",
    "ResBlockMP",
    "ResBlockStride",
    "TaggingHead",
    "TaggingCNN",
    "ShortChunkCNN",
    "ShortChunkResNet",
    "HarmonicCNN",
    "Won2021ResNet",
    "ARCHS",
    "PAPER_WIDTHS",
    "build_tagger",
    "load_tagger_state_dict",
    "load_tagger_checkpoint",
    "sliding_windows",
    "even_chunks",
    "chunk_embeddings",
    "chunk_features",
    "FeatureEmbedder",
    "clip_embedding",
    "embed_clips",
    "cached_chunk_embeddings",
    "load_audio",
    "TaggerResult",
    "pretrained_tagger",
]

log = logging.getLogger(__name__)

#: Sample rate of every model here (Won et al., Emo-CLIM's CNNs, the emotion world).
SR = 16000


# ---------------------------------------------------------------------------------------
# Front ends
# ---------------------------------------------------------------------------------------
def power_to_db(x: torch.Tensor, amin: float = 1e-10, top_db: float | None = None) -> torch.Tensor:
    """``10·log10(max(x, amin))`` (ref 1); with ``top_db`` clip at (per-example max − top_db).

    Matches ``librosa.power_to_db(x, ref=1.0, amin=amin, top_db=top_db)`` for one example
    and torchaudio's ``AmplitudeToDB()`` (Won's code) when ``top_db`` is None. The per-example
    maximum is taken over the last two axes.
    """
    db = 10.0 * torch.log10(torch.clamp(x, min=amin))
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"top_db must be >= 0, got {top_db!r}")
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


class Spectrogram(nn.Module):
    """Power (or magnitude) spectrogram via ``torch.stft``: (..., samples) → (..., n_fft//2+1, T).

    Hann window (periodic), ``center=True`` with ``pad_mode`` padding (torchaudio's default
    "reflect"; librosa ≥ 0.10 defaults to "constant").
    """

    def __init__(self, n_fft: int = 512, hop_length: int = 256, power: float = 2.0,
                 pad_mode: str = "reflect") -> None:
        super().__init__()
        if n_fft < 2 or hop_length < 1:
            raise ValueError(f"need n_fft >= 2 and hop_length >= 1, got {n_fft}, {hop_length}")
        self.n_fft, self.hop_length, self.power, self.pad_mode = n_fft, hop_length, power, pad_mode
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        shape = wave.shape
        flat = wave.reshape(-1, shape[-1]).float()
        spec = torch.stft(flat, self.n_fft, hop_length=self.hop_length, win_length=self.n_fft,
                          window=self.window, center=True, pad_mode=self.pad_mode,
                          return_complex=True)
        mag = spec.abs()
        if self.power != 1.0:
            mag = mag.pow(self.power)
        return mag.reshape(*shape[:-1], *mag.shape[-2:])


class MelSpectrogram(nn.Module):
    """Log-mel spectrogram: (..., samples) → (..., n_mels, T) in dB (Won et al.'s front end).

    ``torch.stft`` power spectrogram, then ``librosa.filters.mel(sr, n_fft, n_mels, fmin,
    fmax, htk, norm)`` as a (non-trainable) buffer, then :func:`power_to_db` if ``to_db``.
    Numerically equal to ``librosa.power_to_db(librosa.feature.melspectrogram(...,
    pad_mode=pad_mode))`` (tested).
    """

    def __init__(self, sr: int = SR, n_fft: int = 512, hop_length: int = 256, n_mels: int = 128,
                 f_min: float = 0.0, f_max: float | None = 8000.0, power: float = 2.0,
                 to_db: bool = True, top_db: float | None = None, pad_mode: str = "reflect",
                 htk: bool = False, norm: str | None = "slaney") -> None:
        super().__init__()
        self.sr, self.n_mels, self.to_db, self.top_db = sr, n_mels, to_db, top_db
        self.hop_length = hop_length
        self.spectrogram = Spectrogram(n_fft, hop_length, power, pad_mode)
        fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max,
                                 htk=htk, norm=norm)
        self.register_buffer("mel_fb", torch.as_tensor(fb, dtype=torch.float32), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram(wave)
        mel = torch.matmul(self.mel_fb, spec)
        return power_to_db(mel, top_db=self.top_db) if self.to_db else mel


def harmonic_center_frequencies(sr: int = SR, n_harmonic: int = 6,
                                semitone_scale: int = 2) -> tuple[np.ndarray, int]:
    """Centre frequencies (Hz) of the harmonic filterbank, harmonic-major, and the pitch levels.

    Pitch grid: MIDI C1 up to the note nearest ``sr / (2·n_harmonic)`` in steps of
    1/semitone_scale semitone (upper end excluded); harmonic h (1..n) multiplies it by h.
    At 16 kHz with 6 harmonics and 2 bins/semitone: 128 levels, 768 filters.
    """
    low = int(librosa.note_to_midi("C1"))
    high = int(librosa.note_to_midi(librosa.hz_to_note(sr / (2 * n_harmonic))))
    level = (high - low) * semitone_scale
    midi = np.linspace(low, high, level + 1)[:-1]
    hz = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    return np.concatenate([hz * (h + 1) for h in range(n_harmonic)]), level


class HarmonicFilterbank(nn.Module):
    """Learnable triangular harmonic filterbank: power spectrogram → (B, n_harmonic, level, T) dB.

    Filter k is a triangle of height 1 centred on f0_k with full width
    ``bw_k = (0.1079·f0_k + 24.7) / Q`` (ERB-like), evaluated at the FFT bin frequencies;
    Q is a learnable scalar (``learn_q``) initialised to ``q``. Narrow low filters that fall
    between two FFT bins are all-zero, as in the original.
    """

    BW_ALPHA = 0.1079
    BW_BETA = 24.7

    def __init__(self, sr: int = SR, n_fft: int = 512, n_harmonic: int = 6,
                 semitone_scale: int = 2, q: float = 1.0, learn_q: bool = True,
                 amin: float = 1e-10) -> None:
        super().__init__()
        f0, level = harmonic_center_frequencies(sr, n_harmonic, semitone_scale)
        self.n_harmonic, self.level, self.amin = n_harmonic, level, amin
        self.register_buffer("f0", torch.as_tensor(f0, dtype=torch.float32), persistent=False)
        bins = torch.linspace(0, sr / 2, n_fft // 2 + 1)
        self.register_buffer("fft_freqs", bins, persistent=False)
        q_t = torch.tensor([float(q)])
        self.q = nn.Parameter(q_t) if learn_q else None
        if not learn_q:
            self.register_buffer("q_fixed", q_t)

    def filterbank(self) -> torch.Tensor:
        """The (n_freq, n_harmonic·level) filter matrix for the current Q."""
        q = self.q if self.q is not None else self.q_fixed
        bw = (self.BW_ALPHA * self.f0 + self.BW_BETA) / q          # (n_filters,)
        f = self.fft_freqs.unsqueeze(1)                             # (n_freq, 1)
        up = 2.0 * (f - self.f0) / bw + 1.0
        down = -2.0 * (f - self.f0) / bw + 1.0
        return torch.clamp(torch.minimum(up, down), min=0.0)

    def forward(self, power_spec: torch.Tensor) -> torch.Tensor:
        if power_spec.shape[-2] != self.fft_freqs.numel():
            raise ValueError(f"HarmonicFilterbank expects {self.fft_freqs.numel()} frequency bins, "
                             f"got spectrogram of shape {tuple(power_spec.shape)}")
        out = torch.matmul(power_spec.transpose(-1, -2), self.filterbank()).transpose(-1, -2)
        b, _, t = out.shape
        out = out.reshape(b, self.n_harmonic, self.level, t)
        return power_to_db(out, amin=self.amin)


# ---------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------
def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """A (B, C, H, W) tensor in channels-last memory layout (same values, oneDNN's fast path)."""
    return x.contiguous(memory_format=torch.channels_last)


Pool = int | tuple[int, int]


class ConvBlock(nn.Module):
    """3×3 conv (stride 1, same padding) → BN → ReLU → max-pool (``pooling``)."""

    def __init__(self, c_in: int, c_out: int, pooling: Pool = 2, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
        self.bn = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(pooling)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.bn(self.conv(x))))


class ResBlockMP(nn.Module):
    """Residual block with max-pool: (3×3 conv, BN, ReLU, 3×3 conv, BN) + x → ReLU → pool.

    Needs ``c_in == c_out`` (identity shortcut), as in Won's ``Res_2d_mp``.
    """

    def __init__(self, c_in: int, c_out: int, pooling: Pool = 2) -> None:
        super().__init__()
        if c_in != c_out:
            raise ValueError(f"ResBlockMP has an identity shortcut: c_in ({c_in}) "
                             f"must equal c_out ({c_out})")
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(pooling)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return self.pool(torch.relu(out + x))


class ResBlockStride(nn.Module):
    """Stride-2 residual block of the short-chunk ResNet.

    3×3 stride-s conv → BN → ReLU → 3×3 conv → BN, plus a projection shortcut (conv of
    ``shortcut_kernel`` with stride s → BN) when shape changes; add, ReLU. The SMC 2020 code
    uses a 3×3 shortcut, the text2music code a 1×1 one.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 2, shortcut_kernel: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, shortcut_kernel, stride=stride,
                          padding=shortcut_kernel // 2),
                nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + self.shortcut(x))


class TaggingHead(nn.Module):
    """Linear(d→d) → BN → ReLU → Dropout → Linear(d→n_classes): logits (sigmoid/softmax outside)."""

    def __init__(self, dim: int, n_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(dim, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------
class TaggingCNN(nn.Module):
    """Base class: fixed front end → trainable input norm + CNN body → global max → embedding.

    * ``features(wave)``: waveform (B, samples) → fixed front-end output (no trainable weights).
    * ``embed_features(feats)``: trainable rest → (B, embed_dim).
    * ``embed(wave)`` = both; ``forward(wave)`` = tagging logits if the model has a head,
      else the embedding.
    Subclasses set ``embed_dim``, ``input_samples`` (paper crop length) and ``min_frames``
    (the fewest spectrogram frames the pooling stack accepts).
    """

    embed_dim: int
    input_samples: int
    min_frames: int

    def __init__(self, n_classes: int | None = None) -> None:
        super().__init__()
        self.n_classes = n_classes

    def _add_head(self) -> None:
        """Add the tagging head (if ``n_classes``) and store the conv weights channels-last.

        Channels-last (NHWC) is oneDNN's fast CPU layout: at the CPU widths it trains about
        1.6× and embeds up to 2× faster than NCHW, with the same values up to float rounding.
        Subclasses call this last in ``__init__``; ``_body`` feeds channels-last inputs.
        """
        self.head = TaggingHead(self.embed_dim, self.n_classes) if self.n_classes else None
        self.to(memory_format=torch.channels_last)

    # -- to override -------------------------------------------------------------------
    def features(self, wave: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _body(self, feats: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------
    def embed_features(self, feats: torch.Tensor) -> torch.Tensor:
        """Front-end output → embedding (B, embed_dim): body, then max over freq and time."""
        if feats.shape[-1] < self.min_frames:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_frames} spectrogram frames "
                f"(≈{self.min_frames * 256 / SR:.2f} s at hop 256), got {feats.shape[-1]}")
        out = self._body(feats)
        return out.amax(dim=(-2, -1))

    def embed(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform (B, samples) or (samples,) → embedding (B, embed_dim)."""
        if wave.dim() == 1:
            wave = wave.unsqueeze(0)
        return self.embed_features(self.features(wave))

    def classify_features(self, feats: torch.Tensor) -> torch.Tensor:
        """Front-end output → tagging logits (needs ``n_classes``)."""
        if self.head is None:
            raise RuntimeError(f"{type(self).__name__} was built without a head (n_classes=None)")
        return self.head(self.embed_features(feats))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        emb = self.embed(wave)
        return self.head(emb) if self.head is not None else emb


class _MelCNN(TaggingCNN):
    """A TaggingCNN whose fixed front end is :class:`MelSpectrogram` + trainable input BN."""

    def __init__(self, n_classes: int | None, mel_kwargs: dict[str, Any] | None) -> None:
        super().__init__(n_classes)
        self.frontend = MelSpectrogram(**(mel_kwargs or {}))
        self.spec_bn = nn.BatchNorm2d(1)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        return self.frontend(wave)

    def _body(self, feats: torch.Tensor) -> torch.Tensor:
        return self.layers(_nhwc(self.spec_bn(feats.unsqueeze(1))))


class ShortChunkCNN(_MelCNN):
    """Short-chunk CNN (Won et al., SMC 2020): 7 × ConvBlock, channels n,n,2n,2n,2n,2n,4n.

    Paper: n_channels 128 (512-d), 59049-sample input (≈3.7 s at 16 kHz).
    """

    input_samples = 59049
    min_frames = 2 ** 7

    def __init__(self, n_channels: int = 128, n_classes: int | None = None,
                 mel_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(n_classes, mel_kwargs)
        n = n_channels
        ch = [1, n, n, 2 * n, 2 * n, 2 * n, 2 * n, 4 * n]
        self.layers = nn.Sequential(*[ConvBlock(ch[i], ch[i + 1], 2) for i in range(7)])
        self.embed_dim = 4 * n
        self._add_head()


class ShortChunkResNet(_MelCNN):
    """Short-chunk ResNet (Won et al., SMC 2020): 7 stride-2 residual blocks, n,n,2n,2n,2n,2n,4n.

    Paper: n_channels 128 (512-d), 59049-sample input. ``shortcut_kernel`` 3 as in the
    SMC 2020 code.
    """

    input_samples = 59049
    min_frames = 1

    def __init__(self, n_channels: int = 128, n_classes: int | None = None,
                 mel_kwargs: dict[str, Any] | None = None, shortcut_kernel: int = 3) -> None:
        super().__init__(n_classes, mel_kwargs)
        n = n_channels
        ch = [1, n, n, 2 * n, 2 * n, 2 * n, 2 * n, 4 * n]
        self.layers = nn.Sequential(*[ResBlockStride(ch[i], ch[i + 1], 2, shortcut_kernel)
                                      for i in range(7)])
        self.embed_dim = 4 * n
        self._add_head()


class Won2021ResNet(_MelCNN):
    """The audio CNN of Won et al. ISMIR 2021 (text2music-emotion-embedding), cut before its head.

    Input BN → Conv(1→d) → Res(d) → Conv(d→2d) → Res(2d) → Res(2d) → Res(2d, pool (2,3)) →
    Conv(2d→4d, pool (2,3)) → 1×1 conv (4d) + BN + ReLU → max over freq and time.
    Paper: d = 64 (256-d output), 80000-sample (5 s) crops, 16 chunks averaged at test time.
    """

    input_samples = 80000
    min_frames = 2 ** 5 * 3 * 3

    def __init__(self, ndim: int = 64, n_classes: int | None = None,
                 mel_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(n_classes, mel_kwargs)
        d = ndim
        self.layers = nn.Sequential(
            ConvBlock(1, d, 2), ResBlockMP(d, d, 2), ConvBlock(d, 2 * d, 2),
            ResBlockMP(2 * d, 2 * d, 2), ResBlockMP(2 * d, 2 * d, 2),
            ResBlockMP(2 * d, 2 * d, (2, 3)), ConvBlock(2 * d, 4 * d, (2, 3)),
            nn.Conv2d(4 * d, 4 * d, 1), nn.BatchNorm2d(4 * d), nn.ReLU())
        self.embed_dim = 4 * d
        self._add_head()


class HarmonicCNN(TaggingCNN):
    """Harmonic CNN (Won et al., ICASSP 2020 / SMC 2020).

    Fixed front end: power spectrogram (n_fft 512, hop 256). Trainable: harmonic filterbank
    (learnable Q) → dB → BN(6) → Conv(6→n) → 3 × Res(n) → Conv(n→2n) → 2 × Res(2n, pool
    (2,3)) → max over freq and time → 2n-d. Paper: n_channels 128 (256-d), 80000 samples.
    """

    input_samples = 80000
    min_frames = 2 ** 5 * 3 * 3

    def __init__(self, n_channels: int = 128, n_classes: int | None = None, sr: int = SR,
                 n_fft: int = 512, hop_length: int = 256, n_harmonic: int = 6,
                 semitone_scale: int = 2, learn_q: bool = True) -> None:
        super().__init__(n_classes)
        self.frontend = Spectrogram(n_fft, hop_length, power=2.0)
        self.hfb = HarmonicFilterbank(sr, n_fft, n_harmonic, semitone_scale, learn_q=learn_q)
        self.hfb_bn = nn.BatchNorm2d(n_harmonic)
        n = n_channels
        self.layers = nn.Sequential(
            ConvBlock(n_harmonic, n, 2), ResBlockMP(n, n, 2), ResBlockMP(n, n, 2),
            ResBlockMP(n, n, 2), ConvBlock(n, 2 * n, 2), ResBlockMP(2 * n, 2 * n, (2, 3)),
            ResBlockMP(2 * n, 2 * n, (2, 3)))
        self.embed_dim = 2 * n
        self._add_head()

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        return self.frontend(wave)

    def _body(self, feats: torch.Tensor) -> torch.Tensor:
        return self.layers(_nhwc(self.hfb_bn(self.hfb(feats))))


#: Architecture name → class (the names used by ``pretrained_tagger`` and the notebooks).
ARCHS: dict[str, type[TaggingCNN]] = {
    "short_chunk_cnn": ShortChunkCNN,
    "short_chunk_resnet": ShortChunkResNet,
    "harmonic_cnn": HarmonicCNN,
    "won2021_resnet": Won2021ResNet,
}
#: The papers' width parameter per architecture (n_channels, or ndim for Won2021ResNet).
PAPER_WIDTHS = {"short_chunk_cnn": 128, "short_chunk_resnet": 128, "harmonic_cnn": 128,
                "won2021_resnet": 64}
#: Widths of the CPU profiles.
PROFILE_WIDTHS = {"quick": 8, "default": 16}


def build_tagger(arch: str, width: int | None = None, n_classes: int | None = None) -> TaggingCNN:
    """Build one of :data:`ARCHS` with ``width`` (default: the paper's) and optional head."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(ARCHS)}")
    width = PAPER_WIDTHS[arch] if width is None else int(width)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    cls = ARCHS[arch]
    if cls is Won2021ResNet:
        return Won2021ResNet(ndim=width, n_classes=n_classes)
    return cls(n_channels=width, n_classes=n_classes)


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------
_SHOWN = 10  # names shown per list in a checkpoint error


def _arch_of(model: TaggingCNN) -> str | None:
    """The :data:`ARCHS` name of ``model``'s class (None for another TaggingCNN)."""
    for name, cls in ARCHS.items():
        if type(model) is cls:
            return name
    return next((name for name, cls in ARCHS.items() if isinstance(model, cls)), None)


def _clean_state(obj: object, source: str) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors by name: unwraps ``state_dict`` / ``model_state_dict`` /
    ``model`` and strips ``module.`` (DataParallel); anything but tensors → ``ValueError``."""
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping):
        raise ValueError(f"{source}: expected a state_dict (names → tensors), "
                         f"got {type(obj).__name__}")
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"{source}: expected a state_dict (names → tensors); {len(bad)} "
                         f"entries are not tensors: {', '.join(bad[:_SHOWN])}")
    return {str(k).removeprefix("module."): v for k, v in obj.items()}


def _build(arch: str, width: int, n_classes: int | None,
           mel_kwargs: Mapping[str, Any] | None = None) -> TaggingCNN:
    cls = ARCHS[arch]
    if cls is HarmonicCNN:
        if mel_kwargs:
            raise ValueError("harmonic_cnn has no mel front end; mel_kwargs must be None")
        return HarmonicCNN(n_channels=width, n_classes=n_classes)
    kwargs = dict(mel_kwargs) if mel_kwargs else None
    if cls is Won2021ResNet:
        return Won2021ResNet(ndim=width, n_classes=n_classes, mel_kwargs=kwargs)
    return cls(n_channels=width, n_classes=n_classes, mel_kwargs=kwargs)


def _state_width(state: Mapping[str, torch.Tensor], arch: str) -> int | None:
    """The width (n_channels / ndim) of ``arch`` that the ``layers.*`` tensors of ``state``
    were built with: each tensor's channel count over that of a width-1 model, majority
    vote (a partial checkpoint still gives its width). None without ``layers.*`` tensors."""
    probe = _build(arch, 1, None).state_dict()
    votes: Counter[int] = Counter()
    for key, value in state.items():
        ref = probe.get(key)
        if (key.startswith("layers.") and ref is not None and ref.ndim >= 1
                and value.ndim >= 1 and value.shape[0] % ref.shape[0] == 0):
            votes[value.shape[0] // ref.shape[0]] += 1
    return votes.most_common(1)[0][0] if votes else None


def _state_classes(state: Mapping[str, torch.Tensor]) -> int | None:
    """The number of tags of the tagging head in ``state`` (None without a head)."""
    for key in ("head.net.4.weight", "head.net.4.bias"):
        if key in state and state[key].ndim >= 1:
            return int(state[key].shape[0])
    return None


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


def _names(keys: Sequence[str]) -> str:
    more = f" (+{len(keys) - _SHOWN} more)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def _fit_error(source: str, model: TaggingCNN, arch: str | None,
               state: Mapping[str, torch.Tensor], missing: Sequence[str],
               unexpected: Sequence[str], mismatched: Sequence[tuple[str, tuple, tuple]],
               converted: bool) -> str:
    """The message of a checkpoint that does not fit ``model`` (a few lines, < 30)."""
    own = model.state_dict()
    width = _state_width(own, arch) if arch else None
    classes = _state_classes(own)
    desc = (f"{type(model).__name__}(width {width}, "
            + (f"{classes}-tag head)" if classes else "no head)"))
    lines = [f"{source}: checkpoint does not fit {desc}"
             + (" (after converting its official sota-music-tagging-models names)"
                if converted else "")]
    if missing:
        lines.append(f"  missing from the checkpoint ({len(missing)} of {len(own)} model "
                     f"tensors, BatchNorm counters aside): {_names(missing)}")
    if unexpected:
        lines.append(f"  unexpected ({len(unexpected)} of {len(state)} checkpoint tensors): "
                     f"{_names(unexpected)}")
    if mismatched:
        lines.append(f"  shape mismatches ({len(mismatched)}; name: checkpoint shape vs "
                     "model shape):")
        lines += [f"    {k}: {a} vs {b}" for k, a, b in mismatched[:_SHOWN]]
        if len(mismatched) > _SHOWN:
            lines.append(f"    (+{len(mismatched) - _SHOWN} more)")
    ck_width = _state_width(state, arch) if arch else None
    if ck_width is not None and width is not None and ck_width != width:
        lines.append(f"  the checkpoint has width {ck_width}, the model {width}: use "
                     f"width={ck_width} (load_tagger_checkpoint infers it when width=None)")
    ck_classes = _state_classes(state)
    if ck_classes != classes and (ck_classes or any(k.startswith("head.") for k in state)):
        lines.append(f"  the checkpoint's head predicts {ck_classes} tags, the model's "
                     f"{classes or 'none'}: use n_classes={ck_classes}, or fresh_head=True "
                     "to leave the checkpoint's head out")
    if not set(state) & set(own):
        lines.append(f"  no name in common (checkpoint: {', '.join(list(state)[:3])}; model: "
                     f"{', '.join(list(own)[:3])}); official sota-music-tagging-models "
                     "checkpoints are recognised by their names and converted")
    return "\n".join(lines)


def load_tagger_state_dict(model: TaggingCNN, state: Mapping[str, torch.Tensor],
                           source: str = "state_dict", *,
                           fresh_head: bool = False) -> TaggingCNN:
    """Load ``state`` into ``model`` strictly (all tensors, no extra ones, equal shapes).

    ``state`` uses emolib's names, or the official sota-music-tagging-models names
    (detected by :func:`emolib.encoders.official_taggers.is_official_state_dict`, converted
    by :func:`~emolib.encoders.official_taggers.convert_official_state_dict` after checking
    the model's front end with :func:`~emolib.encoders.official_taggers.check_official_frontend`;
    logged). ``module.`` prefixes are stripped. Legitimately absent: BatchNorm
    ``num_batches_tracked`` counters (older checkpoints); with ``fresh_head`` the
    checkpoint's tagging head (``head.*``) is left out and the model keeps its own
    (freshly initialised) head, or none. Anything else missing, unexpected or of another
    shape → ``ValueError`` naming ``source`` with the first names of each list, their counts,
    and each shape mismatch as "name: checkpoint shape vs model shape" (a few lines).
    Returns ``model`` (mode unchanged).

    Notebook: 02_emoclim2024 (real-data path, through :func:`load_tagger_checkpoint`).
    """
    from emolib.encoders import official_taggers as ot

    arch = _arch_of(model)
    state = _clean_state(state, source)
    converted = False
    if ot.is_official_state_dict(state):
        official = state
        try:
            if arch is None:
                raise ValueError(f"{type(model).__name__} is none of {sorted(ARCHS)}")
            state = ot.convert_official_state_dict(official, arch)
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from None
        ot.check_official_frontend(official, model, source)
        converted = True
        log.info("%s: official sota-music-tagging-models %s checkpoint converted to emolib's "
                 "names (%d tensors -> %d; fixed front-end buffers checked, not loaded)",
                 source, arch, len(official), len(state))
    own = model.state_dict()
    if fresh_head:
        state = {k: v for k, v in state.items() if not k.startswith("head.")}
    missing = [k for k in own if k not in state and not k.endswith(".num_batches_tracked")
               and not (fresh_head and k.startswith("head."))]
    unexpected = [k for k in state if k not in own]
    mismatched = [(k, _shape(v), _shape(own[k])) for k, v in state.items()
                  if k in own and v.shape != own[k].shape]
    if missing or unexpected or mismatched:
        raise ValueError(_fit_error(source, model, arch, state, missing, unexpected,
                                    mismatched, converted))
    model.load_state_dict(state, strict=False)
    return model


def load_tagger_checkpoint(path: str | Path, arch: str, width: int | None = None,
                           n_classes: int | None = None, *, fresh_head: bool = False,
                           mel_kwargs: Mapping[str, Any] | None = None,
                           map_location: str = "cpu") -> TaggingCNN:
    """Build ``arch`` and load a tagger ``state_dict`` file into it strictly; eval mode.

    The file holds a ``state_dict`` (or a dict with it under ``state_dict`` /
    ``model_state_dict`` / ``model``) in emolib's names or in those of the official
    sota-music-tagging-models checkpoints (``models/{mtat,msd,jamendo}/{short,short_res,
    hcnn}/best_model.pth`` for ``short_chunk_cnn``, ``short_chunk_resnet``,
    ``harmonic_cnn``), which are converted (logged). ``width`` None: inferred from the
    checkpoint's layers; ``n_classes`` None: the checkpoint's head (none if it has none).
    ``fresh_head``: leave the checkpoint's head out; the model gets a new head of
    ``n_classes`` tags (or none). ``mel_kwargs`` go to the mel front end; an official
    checkpoint gets :data:`~emolib.encoders.official_taggers.OFFICIAL_MEL_KWARGS`
    (torchaudio's HTK, unnormalised filterbank) unless overridden — and an override that
    changes the filterbank is refused. Missing / unexpected tensors and shape mismatches →
    ``ValueError`` naming the file (:func:`load_tagger_state_dict`); a missing file →
    ``FileNotFoundError``.

    Notebook: 02_emoclim2024 (real-data path: ``audio_checkpoints[arch]``).
    """
    from emolib.encoders import official_taggers as ot

    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(ARCHS)}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tagger checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # unpickling / zip errors: not a torch checkpoint
        raise ValueError(f"{path}: not a readable torch checkpoint "
                         f"({type(err).__name__}: {err})") from None
    state = _clean_state(obj, str(path))
    official = False
    view = state
    if ot.is_official_state_dict(state):
        official = True
        try:
            view = ot.convert_official_state_dict(state, arch)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    if width is None:
        width = _state_width(view, arch)
        if width is None:
            raise ValueError(f"{path}: cannot infer the width of {arch}: the checkpoint has no "
                             f"'layers.*' tensors (first keys: {list(state)[:5]}); pass width=")
    if n_classes is None and not fresh_head:
        n_classes = _state_classes(view)
    if official and ARCHS[arch] is not HarmonicCNN:
        mel_kwargs = {**ot.OFFICIAL_MEL_KWARGS, **(mel_kwargs or {})}
    model = _build(arch, int(width), n_classes, mel_kwargs)
    load_tagger_state_dict(model, state, str(path), fresh_head=fresh_head)
    provenance.record_weights(path, f"audio checkpoint ({arch})")  # named in the tables
    log.info("%s: loaded %s (width %d, %s)%s", path, arch, width,
             f"{n_classes}-tag head" if n_classes else "no head",
             " from the official sota-music-tagging-models names" if official else "")
    return model.eval()


# ---------------------------------------------------------------------------------------
# Chunking and clip embeddings
# ---------------------------------------------------------------------------------------
def sliding_windows(audio: np.ndarray | torch.Tensor, win: int,
                    hop: int) -> np.ndarray | torch.Tensor:
    """Cut the last axis into windows of ``win`` samples every ``hop`` samples; drop the tail.

    Returns (..., n_windows, win) with n_windows = 1 + (len − win) // hop. A signal shorter
    than ``win`` is zero-padded to one window. Emo-CLIM uses hop = round(0.25·win)
    (75 % overlap). Works on NumPy arrays and torch tensors (returns copies).
    """
    if win < 1 or hop < 1:
        raise ValueError(f"win and hop must be >= 1, got win={win}, hop={hop}")
    n = audio.shape[-1]
    if n < win:
        pad = [(0, 0)] * (audio.ndim - 1) + [(0, win - n)]
        audio = (np.pad(audio, pad) if isinstance(audio, np.ndarray)
                 else torch.nn.functional.pad(audio, (0, win - n)))
        n = win
    count = 1 + (n - win) // hop
    starts = [i * hop for i in range(count)]
    if isinstance(audio, np.ndarray):
        return np.stack([audio[..., s:s + win] for s in starts], axis=-2)
    return torch.stack([audio[..., s:s + win] for s in starts], dim=-2)


def even_chunks(audio: np.ndarray | torch.Tensor, win: int,
                n_chunks: int = 16) -> np.ndarray | torch.Tensor:
    """``n_chunks`` windows of ``win`` samples evenly spread over the clip (Won's evaluation).

    Chunk i starts at i·((len − win) // n_chunks), as in the text2music code; a clip shorter
    than ``win`` is zero-padded first. Returns (..., n_chunks, win).
    """
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be >= 1, got {n_chunks}")
    n = audio.shape[-1]
    hop = max((n - win) // n_chunks, 0)
    if hop == 0:
        one = sliding_windows(audio, win, win)[..., :1, :]
        reps = [1] * (one.ndim - 2) + [n_chunks, 1]
        return np.tile(one, reps) if isinstance(one, np.ndarray) else one.repeat(*reps)
    win_stack = sliding_windows(audio, win, hop)
    return win_stack[..., :n_chunks, :]


@torch.no_grad()
def chunk_embeddings(model: TaggingCNN, audio: np.ndarray | torch.Tensor, win: int | None = None,
                     hop: int | None = None, n_chunks: int | None = 16, batch_size: int = 32,
                     device: str = "cpu") -> torch.Tensor:
    """Embeddings of the chunks of one clip: (n_chunks, embed_dim), model in eval mode.

    With ``hop`` given, chunks are :func:`sliding_windows` (Emo-CLIM), else
    :func:`even_chunks` with ``n_chunks`` (Won). ``win`` defaults to ``model.input_samples``.
    """
    win = int(win or model.input_samples)
    wave = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    chunks = sliding_windows(wave, win, hop) if hop else even_chunks(wave, win, n_chunks or 16)
    model.eval().to(device)
    outs = [model.embed(chunks[i:i + batch_size].to(device)).cpu()
            for i in range(0, chunks.shape[0], batch_size)]
    return torch.cat(outs)


@torch.no_grad()
def chunk_features(model: TaggingCNN, audio: np.ndarray | torch.Tensor, win: int | None = None,
                   n_chunks: int = 16) -> torch.Tensor:
    """Fixed front-end output of the :func:`even_chunks` of one clip: (n_chunks, *feature shape).

    The input for fine-tuning a CNN on chunks (:class:`FeatureEmbedder`): the front end has no
    trainable weights, so it runs once. Notebook: 01_won2021 (``finetune_audio``).
    """
    win = int(win or model.input_samples)
    wave = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    return model.features(even_chunks(wave, win, n_chunks))


class FeatureEmbedder(nn.Module):
    """A TaggingCNN's trainable part as a module: front-end features → embedding.

    ``FeatureEmbedder(cnn)(cnn.features(wave)) == cnn.embed(wave)``; put it before a head
    (``nn.Sequential(FeatureEmbedder(copy.deepcopy(cnn)), head)``) to fine-tune the CNN with
    the head. Notebook: 01_won2021 (``finetune_audio``).
    """

    def __init__(self, cnn: TaggingCNN) -> None:
        super().__init__()
        self.cnn = cnn

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.cnn.embed_features(feats)


def clip_embedding(model: TaggingCNN, audio: np.ndarray | torch.Tensor, win: int | None = None,
                   hop: int | None = None, n_chunks: int | None = 16,
                   normalize_chunks: bool = False, device: str = "cpu") -> torch.Tensor:
    """Chunk-averaged clip embedding (embed_dim,).

    Won et al.: 16 even chunks, plain mean. Emo-CLIM: 75 %-overlap windows
    (``hop=round(0.25·win)``) and the mean of L2-normalised window embeddings
    (``normalize_chunks=True``).
    """
    emb = chunk_embeddings(model, audio, win, hop, n_chunks, device=device)
    if normalize_chunks:
        emb = torch.nn.functional.normalize(emb, dim=-1)
    return emb.mean(0)


def embed_clips(model: TaggingCNN, clips: Sequence[np.ndarray], **kwargs: Any) -> np.ndarray:
    """:func:`clip_embedding` for many clips → (N, embed_dim) float32 array."""
    return np.stack([clip_embedding(model, c, **kwargs).numpy() for c in clips]).astype(np.float32)


def cached_chunk_embeddings(model: TaggingCNN, paths: Sequence[str], key: str,
                            win: int | None = None, hop: int | None = None,
                            n_chunks: int | None = 16, batch_size: int = 32,
                            device: str = "cpu", progress: bool = False) -> np.ndarray:
    """Per-chunk embeddings of many audio files, (N, n_chunks, embed_dim) float32, cached.

    For frozen-backbone experiments: the CNN runs once per clip and the chunk
    embeddings are stored under ``cache_dir("features")`` keyed by ``key`` (describe the
    model: arch, width, checkpoint params) and each file's :func:`emolib.io.file_identity`
    (resolved path, size, mtime: a replaced file is re-embedded; a missing one raises
    ``FileNotFoundError`` before the model runs). With ``hop`` the windows are
    :func:`sliding_windows` (their count must then be equal for all clips), else
    :func:`even_chunks`.
    """
    from emolib.io import atomic_path, file_identity
    from emolib.paths import cache_dir
    from emolib.progress import tqdm
    from emolib.train import params_key

    win = int(win or model.input_samples)
    h = params_key("chunk-embeddings", {"key": key, "files": [file_identity(p) for p in paths],
                                        "win": win, "hop": hop, "n_chunks": n_chunks,
                                        "version": 1})
    path = cache_dir("features") / f"chunks-{h}.npy"
    if path.exists():
        return np.load(path)
    out = [chunk_embeddings(model, load_audio(p), win, hop, n_chunks, batch_size, device).numpy()
           for p in tqdm(paths, desc="chunk embeddings", disable=not progress, leave=False)]
    lengths = {o.shape[0] for o in out}
    if len(lengths) != 1:
        raise ValueError(f"clips gave different chunk counts {sorted(lengths)}; use n_chunks (even "
                         "chunks) or clips of equal length")
    arr = np.stack(out).astype(np.float32)
    with atomic_path(path) as tmp:
        np.save(tmp, arr)
    return arr


def load_audio(path: str, sr: int = SR) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr`` (resampled with librosa's ``soxr_hq``).

    :func:`emolib.data.files.load_audio`: a missing file → ``FileNotFoundError``; an
    empty, truncated, non-finite or undecodable file → :class:`emolib.data.files.DataError`
    (a ``ValueError``), both naming the file; a bad ``sr`` → ``TypeError``/``ValueError``.

    Notebooks: 02_emoclim2024, 04_zhu2023.
    """
    from emolib.data.files import load_audio as _load_audio

    return _load_audio(path, sr)[0]


# ---------------------------------------------------------------------------------------
# Pre-training on the world's tags (MagnaTagATune / MSD role)
# ---------------------------------------------------------------------------------------
class _CropDataset(Dataset):
    """Fixed front-end features of whole clips; yields (crop, multi-hot tags).

    Random crops (torch's global generator, seeded by ``fit``) when ``random_crop``, else
    the centre crop. Crops are taken in the spectrogram domain (frames), for speed.
    """

    def __init__(self, feats: list[torch.Tensor], targets: torch.Tensor, frames: int,
                 random_crop: bool) -> None:
        self.feats, self.targets, self.frames, self.random_crop = (
            feats, targets, frames, random_crop)

    def __len__(self) -> int:
        return len(self.feats)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.feats[i]
        t = f.shape[-1]
        if t <= self.frames:
            f = torch.nn.functional.pad(f, (0, self.frames - t))
            start = 0
        elif self.random_crop:
            start = int(torch.randint(0, t - self.frames + 1, (1,)))
        else:
            start = (t - self.frames) // 2
        return f[..., start:start + self.frames], self.targets[i]


@dataclass
class TaggerResult:
    """What :func:`pretrained_tagger` returns (unpacks as ``model, val_auc``)."""

    model: TaggingCNN
    val_roc_auc: float
    val_pr_auc: float

    def __iter__(self):
        return iter((self.model, self.val_roc_auc))


def _frame_count(samples: int, hop: int = 256) -> int:
    return samples // hop + 1


def _world_fingerprint(music: Any) -> str:
    """Stable hash of the clips a tagger is trained on (ids, splits, tags and each audio
    file's :func:`emolib.io.file_identity`, so a replaced file retrains)."""
    from emolib.io import file_identity

    rows = music[["item_id", "split", "tags", "audio_path"]].itertuples(index=False)
    blob = "|".join(f"{r.item_id}:{r.split}:{','.join(sorted(r.tags))}:"
                    f"{file_identity(r.audio_path)}" for r in rows)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@torch.no_grad()
def _val_scores(model: TaggingCNN, feats: list[torch.Tensor], frames: int, n_chunks: int,
                device: str) -> np.ndarray:
    """Mean sigmoid over ``n_chunks`` even frame-chunks per clip (feature domain)."""
    model.eval().to(device)
    out = []
    for f in feats:
        t = f.shape[-1]
        if t < frames:
            f = torch.nn.functional.pad(f, (0, frames - t))
            t = frames
        hop = max((t - frames) // n_chunks, 0)
        crops = torch.stack([f[..., i * hop:i * hop + frames]
                             for i in range(n_chunks if hop else 1)])
        out.append(torch.sigmoid(model.classify_features(crops.to(device))).mean(0).cpu().numpy())
    return np.stack(out)


def pretrained_tagger(arch: str = "won2021_resnet", world: Any = None, seed: int = 0, *,
                      profile: str = "default", width: int | None = None,
                      epochs: int | None = None, batch_size: int = 16, lr: float | None = None,
                      crop_samples: int | None = None, max_clips: int | None = None,
                      device: str = "cpu", progress: bool = False,
                      refresh: bool = False) -> TaggerResult:
    """Pre-train a tagging CNN on the world's multi-label tags (BCE) once; return it + val AUC.

    The emotion world's ``music`` table (``tags`` lists over ``tag_vocab``, ``split``)
    plays MagnaTagATune / MSD: the CNN + tagging head learn to predict tags from random
    crops (spectrogram domain) with BCE and Adam, keeping the epoch with the lowest
    validation loss. The state dict is cached by :func:`emolib.train.cached_model`, keyed
    by (arch, width, epochs, lr, crop, seed, the clips' ids/splits/tags), so later calls
    only load it. Validation ROC-AUC / PR-AUC (macro over tags that have both classes in
    val; mean sigmoid over 8 even chunks) are recomputed on every call.

    Profiles: "quick" (width 8, 2 epochs), "default" (width 16, 5 epochs), "paper" (the
    paper widths, 100 epochs, lr 1e-4). Returns :class:`TaggerResult` (unpacks as
    ``model, val_auc``); the model keeps its head (``n_classes`` = len(tag_vocab)).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    from emolib.train import cached_model, fit

    if world is None:
        raise ValueError("pretrained_tagger needs a world (emolib.data.world.make_world(...))")
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(ARCHS)}")
    if profile not in ("quick", "default", "paper"):
        raise ValueError(f"profile must be 'quick', 'default' or 'paper', got {profile!r}")
    paper = profile == "paper"
    width = width or (PAPER_WIDTHS[arch] if paper else PROFILE_WIDTHS[profile])
    epochs = epochs or {"quick": 2, "default": 5, "paper": 100}[profile]
    lr = lr or (1e-4 if paper else 1e-3)
    cls = ARCHS[arch]
    crop_samples = int(crop_samples or cls.input_samples)
    frames = max(_frame_count(crop_samples), cls.min_frames)

    music = world.music
    vocab = list(world.tag_vocab)
    index = {t: i for i, t in enumerate(vocab)}
    train_df = music[music["split"] == "train"]
    val_df = music[music["split"] == "val"]
    if max_clips is not None:
        train_df = train_df.iloc[:max_clips]
        val_df = val_df.iloc[:max(max_clips // 4, 1)]

    def targets(df: Any) -> torch.Tensor:
        y = torch.zeros(len(df), len(vocab))
        for i, tags in enumerate(df["tags"]):
            for t in tags:
                if t not in index:
                    raise ValueError(f"tag {t!r} of the music table is not in world.tag_vocab")
                y[i, index[t]] = 1.0
        return y

    probe = build_tagger(arch, width, len(vocab))

    def feats_of(df: Any) -> list[torch.Tensor]:
        with torch.no_grad():
            return [probe.features(torch.as_tensor(load_audio(p)).unsqueeze(0))[0]
                    for p in df["audio_path"]]

    val_feats, y_val = feats_of(val_df), targets(val_df)
    params = {"arch": arch, "width": width, "epochs": epochs, "lr": lr, "batch_size": batch_size,
              "frames": frames, "seed": seed, "clips": _world_fingerprint(
                  music.loc[list(train_df.index) + list(val_df.index)]), "version": 1}

    def train(model: TaggingCNN) -> None:
        train_feats, y_train = feats_of(train_df), targets(train_df)
        g = torch.Generator().manual_seed(seed)
        tl = DataLoader(_CropDataset(train_feats, y_train, frames, True), batch_size=batch_size,
                        shuffle=True, generator=g, drop_last=len(train_feats) > batch_size)
        vl = DataLoader(_CropDataset(val_feats, y_val, frames, False), batch_size=batch_size)
        bce = nn.BCEWithLogitsLoss()

        def loss_fn(m: nn.Module, batch: Any) -> torch.Tensor:
            x, y = batch
            return bce(m.classify_features(x), y)

        fit(model, loss_fn, tl, vl, epochs=epochs, lr=lr, weight_decay=1e-4 if paper else 0.0,
            device=device, seed=seed, progress=progress)

    log.info("pre-training %s (width %d, %d epochs) on %d clips",
             arch, width, epochs, len(train_df))
    def build() -> nn.Module:  # seeded: the initial weights are a function of the cache key
        torch.manual_seed(seed)
        return build_tagger(arch, width, len(vocab))

    model = cached_model(f"tagger-{arch}", params, build, train, refresh=refresh)
    scores = _val_scores(model, val_feats, frames, 8, device)
    y = y_val.numpy()
    keep = [j for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    if not keep:
        roc = pr = math.nan
    else:
        roc = float(roc_auc_score(y[:, keep], scores[:, keep], average="macro"))
        pr = float(average_precision_score(y[:, keep], scores[:, keep], average="macro"))
    model.cpu().eval()
    return TaggerResult(model=model, val_roc_auc=roc, val_pr_auc=pr)
