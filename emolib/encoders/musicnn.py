"""musicnn's real pretrained music taggers (Pons & Serra, ISMIR 2019 LBD) in PyTorch.

The ``musicnn`` 0.1.0 wheel (ISC licence; installed with ``--no-deps``, since it declares
TensorFlow and ``numpy<1.17``) ships four TensorFlow 1 checkpoints: ``MTT_musicnn`` and
``MTT_vgg`` trained on MagnaTagATune, ``MSD_musicnn`` and ``MSD_vgg`` trained on the Million
Song Dataset (last.fm tags), 50 tags each; the weights come under musicnn's ISC licence,
the training data under their own terms. This module reads them with
:mod:`emolib.encoders.tf_checkpoint` (no TensorFlow), converts them once to safetensors in
the cache, and runs them with torch modules that compute what musicnn's TF graph
(``musicnn/models.py``) computes.

Input pipeline (musicnn's ``extractor.batch_data``; :func:`log_mel`, :func:`make_patches`)
-----------------------------------------------------------------------------------------
mono float32 audio at 16 kHz (other rates: ``librosa.resample``, librosa's default
``soxr_hq``; musicnn's ``librosa.load`` of 2019 used resampy) -> librosa mel power
spectrogram, ``n_fft=512``, ``hop_length=256``, 96 Slaney mels, Hann window, centred frames
with *reflect* padding (the default of the librosa 0.7–0.9 musicnn was released with; librosa
0.10 changed it to zeros, so it is passed explicitly) -> cast to float16 (musicnn stores
its spectrograms so) -> ``log10(10000 * x + 1)``. That last step is computed in float32:
with the NumPy musicnn pins (``<1.17``), ``10000 * float16_array`` promotes to float32
(value-based casting: 10000 needs uint16, and float16 with uint16 gives float32); under
NumPy 2's rules the same line stays float16 and overflows to ``inf`` for mel power above
6.55, which is common in music (the two example clips of musicnn's repository get
``inf`` in 34 % and 57 % of their frames), so the line is not run literally.
Patches: 187 frames (``librosa.time_to_frames(3 s) + 1``), hop 187 frames (no overlap) by
default; ``hop_seconds`` converts like musicnn's ``input_overlap``
(``librosa.time_to_frames(hop)``: 1 s -> 61 frames). Only whole patches are used; audio
shorter than one patch (2.976 s) is refused (musicnn crashes on it).

musicnn architecture (:class:`Musicnn`; NCHW with H = time, W = mel band)
--------------------------------------------------------------------------
* input batch norm (one channel);
* front end, musically motivated: timbral convs 7x38 and 7x67 (``int(0.4*96)``,
  ``int(0.7*96)``), 204 filters each, on the input zero-padded by 3 frames in time ("valid"
  otherwise); temporal convs 128x1, 64x1, 32x1, 51 filters each, TF "same" padding (63/64,
  31/32, 15/16 frames before/after); each conv -> ReLU -> batch norm -> max over all
  frequency positions (computed as max/min over frequency first, then ReLU and batch
  norm: the same bits, see :class:`_FreqPooledBlock`); concatenated: 561 channels per frame
  (``timbral`` 408, ``temporal`` 153);
* mid end: three 1-D convs over time (kernel 7, zero-padded by 3, 64 filters) -> ReLU ->
  batch norm, the 2nd and 3rd with residual connections (``cnn1``, ``cnn2 = bn(...) + cnn1``,
  ``cnn3 = bn(...) + cnn2``); dense connection: front end and the three outputs
  concatenated, 753 channels;
* back end: max and mean over time (``max_pool``, ``mean_pool``, 753 each), interleaved per
  channel (TF flattens the (753, 2) stack) -> batch norm -> dropout 0.5 -> dense 200 + ReLU
  -> batch norm (``penultimate``) -> dropout 0.5 -> dense 50 -> sigmoid.

vgg architecture (:class:`Vgg`)
-------------------------------
input batch norm; five blocks of 3x3 conv (128 filters, "same") -> ReLU -> batch norm ->
max pool (valid): 4x1 stride 2x2, then 2x2/2, 2x2/2, 2x2/2, 4x4/4 (``pool1`` ... ``pool5``);
dropout 0.25 between blocks; flatten in TF's (time, freq, channel) order -> dropout 0.5 ->
dense 50 -> sigmoid. The ``MSD_vgg`` checkpoint's own training graph (its ``.meta``) pools
differently — 4x1 stride 4x1, then 1x4 stride 1x4, then as above — while musicnn's
extractor runs it with the pools above (both end in 2x1x128, so TF restores it silently).
``load_musicnn(..., pooling="training")`` builds the training graph's pools instead.

Every batch norm is ``tf.layers.batch_normalization`` at inference: moving statistics,
epsilon 1e-3 (read from the graphs: ``FusedBatchNorm`` ``epsilon`` attr and the
``batchnorm/add/y`` constant), fused form ``(x - mean) * (gamma * rsqrt(var + eps)) + beta``
on 4-D tensors, TF's unfused form ``x * m + (beta - mean * m)`` on the 2-D back-end ones
(:class:`TFBatchNorm`). Dropout is the identity at inference.

TF -> torch names (:func:`tf_name_map`)
---------------------------------------
musicnn: ``batch_normalization`` -> ``input_bn``; ``conv2d``/``batch_normalization_1`` ->
``timbral_74.conv``/``.bn``; ``conv2d_1``/``_2`` -> ``timbral_77``; ``conv2d_2..4``/
``batch_normalization_3..5`` -> ``temporal_128``, ``temporal_64``, ``temporal_32``;
``conv2d_5..7``/``batch_normalization_6..8`` -> ``midend_1..3``; ``batch_normalization_9``
-> ``pool_bn``; ``dense`` -> ``dense``; ``batch_normalization_10`` -> ``dense_bn``;
``dense_1`` -> ``output``. vgg: ``batch_normalization`` -> ``input_bn``; ``{i}CNN`` and
``batch_normalization_{i}`` -> ``block{i}.conv``/``.bn``; ``dense`` -> ``output``.
``gamma``/``beta``/``moving_mean``/``moving_variance`` -> ``weight``/``bias``/
``running_mean``/``running_var``; conv kernels HWIO -> OIHW (mid-end ones to Conv1d's
``(out, in, k)``), dense kernels ``(in, out)`` -> ``(out, in)``. Adam's slots
(``*/Adam``, ``*/Adam_1``), ``beta1_power``, ``beta2_power`` and ``global_step`` are
excluded by name (:data:`EXCLUDED_PATTERNS`); every other checkpoint tensor is used.

API
---
* :func:`load_musicnn` -> :class:`MusicnnTagger` (eval mode, no gradients, float32);
  records the model in the run's provenance.
* :func:`tag_audio` -> :class:`TagResult`: per-patch probabilities ``(n_patches, 50)``, clip
  probabilities (mean over patches, as musicnn's ``top_tags``), tag names, patch starts.
* :func:`embed_audio` -> dict of arrays named as musicnn's extractor names them: musicnn
  ``max_pool``, ``mean_pool`` (753), ``penultimate`` (200); vgg ``pool5`` (2, 128) and
  ``penultimate`` (256, the flattened ``pool5`` fed to the output layer; not an extractor
  name). Each is per patch ``(n_patches, ...)``, and ``<name>_clip`` is its mean over
  patches. ``frame_level=True`` adds ``timbral``, ``temporal``, ``cnn1..3``
  (``(n_patches, frames, channels)``) or vgg's ``pool1..4`` (``(n_patches, time, freq, 128)``)
  — per patch, not concatenated over patches as musicnn's extractor does (which also
  repeats the first patch's ``cnn1..3`` for all later batches, a bug not reproduced here).
* :func:`analyze_audio` -> both from one pass of the model.
* :func:`convert_checkpoint`, :func:`read_tf_state_dict`, :func:`tf_name_map`,
  :func:`to_tf_layout` (the inverse of the layout changes, for checks).

Checked against musicnn's published outputs: on the two example clips of its repository
(not shipped in the wheel) ``MTT_musicnn`` gives the README's top-10 tags of
``joram-moments_of_clarity-08-solipsism-59-88.mp3`` and top-3 of
``TRWJAZW128F42760DD_test.mp3`` (22.05 kHz stereo) in the same order.
Bit-identity with TensorFlow is not claimed: the same operations in the same order, but
convolution and ``rsqrt`` kernels round differently in the last bits.

Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from emolib import provenance
from emolib.encoders import tf_checkpoint
from emolib.io import atomic_path
from emolib.numba_cache import prime_librosa
from emolib.paths import cache_dir

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

__all__ = ["MODELS", "SR", "N_FFT", "HOP", "N_MELS", "PATCH_SECONDS", "EXCLUDED_PATTERNS",
           "TFBatchNorm", "Musicnn", "Vgg", "MusicnnTagger", "TagResult", "load_musicnn",
           "tag_audio", "embed_audio", "analyze_audio", "log_mel", "make_patches", "patch_frames",
           "hop_frames", "convert_checkpoint", "read_tf_state_dict", "tf_name_map",
           "to_tf_layout", "checkpoint_prefix", "tag_names", "check_state_dict",
           "excluded_tensors", "converted_path", "even_patch_starts", "patch_embeddings",
           "cached_patch_embeddings"]

log = logging.getLogger(__name__)

MODELS = ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg")
SR = 16000  #: musicnn's sample rate (configuration.SR)
N_FFT = 512  #: configuration.FFT_SIZE
HOP = 256  #: configuration.FFT_HOP
N_MELS = 96  #: configuration.N_MELS
PATCH_SECONDS = 3.0  #: the models' training input length
BN_EPSILON = 1e-3  #: tf.layers.batch_normalization's default, confirmed in the graphs
#: Checkpoint tensors that are optimiser state, not model weights (never loaded).
EXCLUDED_PATTERNS = (r"/Adam(_\d+)?$", r"^beta[12]_power$", r"(^|/)global_step$")
#: Bump when the conversion (names, layouts) changes: the cache file name includes it.
_CONVERSION_VERSION = "1"
#: vgg max pools ((kernel), (stride)) per block, (time, freq).
_VGG_POOLS_EXTRACTOR = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)),
                        ((2, 2), (2, 2)), ((4, 4), (4, 4)))
_VGG_POOLS_TRAINING = {"MTT_vgg": _VGG_POOLS_EXTRACTOR,
                       "MSD_vgg": (((4, 1), (4, 1)), ((1, 4), (1, 4)), ((2, 2), (2, 2)),
                                   ((2, 2), (2, 2)), ((4, 4), (4, 4)))}


# --------------------------------------------------------------------------------------
# the musicnn package
# --------------------------------------------------------------------------------------
def _package_dir() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the musicnn package is not installed: pip install --no-deps "
                          "musicnn==0.1.0 (requirements-nodeps.txt); TensorFlow is not needed")
    return Path(next(iter(spec.submodule_search_locations)))


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown musicnn model {model!r}; expected one of {MODELS}")


def _arch(model: str) -> str:
    return "vgg" if model.endswith("_vgg") else "musicnn"


def checkpoint_prefix(model: str) -> str:
    """The TF checkpoint prefix of ``model`` inside the musicnn package (``<dir>/``)."""
    _check_model(model)
    return os.path.join(str(_package_dir() / model), "")


def tag_names(model: str) -> tuple[str, ...]:
    """The 50 tags of ``model`` (musicnn.configuration MTT_LABELS / MSD_LABELS)."""
    _check_model(model)
    _package_dir()
    from musicnn import configuration  # pure Python; does not import TensorFlow

    labels = configuration.MTT_LABELS if model.startswith("MTT") else configuration.MSD_LABELS
    return tuple(labels)


# --------------------------------------------------------------------------------------
# modules
# --------------------------------------------------------------------------------------
class TFBatchNorm(nn.Module):
    """``tf.layers.batch_normalization`` at inference (moving statistics; channels on dim 1).

    ``fused=True``: ``FusedBatchNorm``'s ``(x - mean) * (gamma * rsqrt(var + eps)) + beta``
    (TF used it for the 4-D tensors); ``fused=False``: the unfused graph's
    ``x * m + (beta - mean * m)`` with ``m = rsqrt(var + eps) * gamma`` (2-D tensors).
    This module has no training mode: it always normalises with the stored statistics.
    """

    def __init__(self, num_features: int, *, eps: float = BN_EPSILON, fused: bool = True):
        super().__init__()
        self.eps = eps
        self.fused = fused
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def scale(self) -> Tensor:
        """``gamma * rsqrt(moving_variance + eps)``, the per-channel slope."""
        return torch.rsqrt(self.running_var + self.eps) * self.weight

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        m = self.scale()
        if self.fused:
            return (x - self.running_mean.view(shape)) * m.view(shape) + self.bias.view(shape)
        return x * m.view(shape) + (self.bias - self.running_mean * m).view(shape)


class _ConvBlock(nn.Module):
    """conv -> ReLU -> batch norm, as ``tf.layers.conv2d(activation=relu)`` then
    ``batch_normalization``; ``pad`` is F.pad's tuple, applied first (zeros)."""

    def __init__(self, conv: nn.Module, channels: int, pad: tuple[int, ...]):
        super().__init__()
        self.conv = conv
        self.bn = TFBatchNorm(channels)
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(F.relu(self.conv(F.pad(x, self.pad))))


class _FreqPooledBlock(_ConvBlock):
    """conv -> ReLU -> batch norm -> max over all frequency positions, computed as
    conv -> max (or min) over frequency -> ReLU -> batch norm.

    Both orders give the same bits: ReLU and the batch norm are per-channel monotone maps
    (non-decreasing, or non-increasing where the slope ``gamma * rsqrt(var + eps)`` is
    negative), and float rounding keeps monotonicity, so the maximum of the mapped values is
    the mapped maximum (or minimum) of the conv outputs. This skips two passes over the
    largest tensors of the model (tests/test_musicnn.py checks the equality).
    """

    def forward(self, x: Tensor) -> Tensor:
        lo, hi = torch.aminmax(self.conv(F.pad(x, self.pad)), dim=3)
        rising = (self.bn.scale() >= 0).view(1, -1, 1)
        return self.bn(F.relu(torch.where(rising, hi, lo)))

    def unpooled(self, x: Tensor) -> Tensor:
        """The literal order (reference for the equality check)."""
        return super().forward(x).amax(dim=3)


def _same_pad(k: int) -> tuple[int, int]:
    """TF "SAME" padding for stride 1: the extra zero goes after."""
    return (k - 1) // 2, k - 1 - (k - 1) // 2


def _time_first(x: Tensor) -> Tensor:
    """(B, C, T) -> musicnn's (B, T, C)."""
    return x.transpose(1, 2)


class Musicnn(nn.Module):
    """musicnn (models.build_musicnn): musically motivated front end, residual 1-D mid end,
    max+mean temporal pooling back end. Input ``(B, 1, T, 96)``; see the module docstring."""

    def __init__(self, n_classes: int = 50, *, n_mels: int = N_MELS, num_filt_frontend: float = 1.6,
                 num_filt_midend: int = 64, num_units_backend: int = 200):
        super().__init__()
        n_timbral = int(num_filt_frontend * 128)
        n_temporal = int(num_filt_frontend * 32)
        self.input_bn = TFBatchNorm(1)
        self.timbral_74 = _FreqPooledBlock(nn.Conv2d(1, n_timbral, (7, int(0.4 * n_mels))),
                                           n_timbral, (0, 0, 3, 3))
        self.timbral_77 = _FreqPooledBlock(nn.Conv2d(1, n_timbral, (7, int(0.7 * n_mels))),
                                           n_timbral, (0, 0, 3, 3))
        for k in (128, 64, 32):
            block = _FreqPooledBlock(nn.Conv2d(1, n_temporal, (k, 1)), n_temporal,
                                     (0, 0) + _same_pad(k))
            self.add_module(f"temporal_{k}", block)
        n_front = 2 * n_timbral + 3 * n_temporal
        self.midend_1 = _ConvBlock(nn.Conv1d(n_front, num_filt_midend, 7), num_filt_midend, (3, 3))
        self.midend_2 = _ConvBlock(nn.Conv1d(num_filt_midend, num_filt_midend, 7),
                                   num_filt_midend, (3, 3))
        self.midend_3 = _ConvBlock(nn.Conv1d(num_filt_midend, num_filt_midend, 7),
                                   num_filt_midend, (3, 3))
        n_mid = n_front + 3 * num_filt_midend
        self.pool_bn = TFBatchNorm(2 * n_mid, fused=False)
        self.dense = nn.Linear(2 * n_mid, num_units_backend)
        self.dense_bn = TFBatchNorm(num_units_backend, fused=False)
        self.output = nn.Linear(num_units_backend, n_classes)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        x = self.input_bn(x)
        # each block ends in max_pooling2d over all frequency positions, squeezed: (B, C, T)
        front = [self.timbral_74(x), self.timbral_77(x)]
        front += [getattr(self, f"temporal_{k}")(x) for k in (128, 64, 32)]
        frontend = torch.cat(front, dim=1)  # (B, 561, T)
        cnn1 = self.midend_1(frontend)
        cnn2 = self.midend_2(cnn1) + cnn1
        cnn3 = self.midend_3(cnn2) + cnn2
        mid = torch.cat([frontend, cnn1, cnn2, cnn3], dim=1)  # (B, 753, T)
        max_pool = mid.amax(dim=2)
        mean_pool = mid.mean(dim=2)
        flat = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # TF's (753, 2) flatten
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(flat))))
        logits = self.output(penultimate)
        t = _time_first
        return {"logits": logits, "timbral": t(torch.cat(front[:2], dim=1)),
                "temporal": t(torch.cat(front[2:], dim=1)), "cnn1": t(cnn1), "cnn2": t(cnn2),
                "cnn3": t(cnn3), "mean_pool": mean_pool, "max_pool": max_pool,
                "penultimate": penultimate}


class Vgg(nn.Module):
    """musicnn's vgg baseline (models.vgg): five 3x3 conv blocks with max pooling, one dense
    output layer. Input ``(B, 1, 187, 96)``; ``pools`` are the blocks' ((kernel), (stride))."""

    def __init__(self, n_classes: int = 50, *, num_filters: int = 128,
                 pools: Sequence[tuple[tuple[int, int], tuple[int, int]]] = _VGG_POOLS_EXTRACTOR,
                 flat_features: int = 256):
        super().__init__()
        self.input_bn = TFBatchNorm(1)
        self.pools = tuple((tuple(k), tuple(s)) for k, s in pools)
        for i in range(1, 6):
            conv = nn.Conv2d(1 if i == 1 else num_filters, num_filters, 3)
            self.add_module(f"block{i}", _ConvBlock(conv, num_filters, (1, 1, 1, 1)))
        self.output = nn.Linear(flat_features, n_classes)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        x = self.input_bn(x)
        out: dict[str, Tensor] = {}
        for i, (kernel, stride) in enumerate(self.pools, start=1):
            x = F.max_pool2d(getattr(self, f"block{i}")(x), kernel, stride)
            out[f"pool{i}"] = x.permute(0, 2, 3, 1)  # musicnn's NHWC: (B, time, freq, C)
        flat = out["pool5"].flatten(1)  # TF flattens NHWC
        if out["pool5"].shape[2] == 1:  # musicnn squeezes the single frequency position
            out["pool5"] = out["pool5"][:, :, 0, :]
        out["penultimate"] = flat
        out["logits"] = self.output(flat)
        return out


class MusicnnTagger(nn.Module):
    """A loaded musicnn model: ``forward(x)`` on log-mel patches ``(B, frames, 96)`` (musicnn's
    batch layout, time first) returns a dict with ``logits``, ``probs`` (sigmoid) and the
    features of :func:`embed_audio`. On audio use :func:`tag_audio`, :func:`embed_audio` or
    :func:`analyze_audio` (both from one pass).

    Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
    """

    def __init__(self, model: str, net: nn.Module, *, pooling: str = "extractor"):
        super().__init__()
        _check_model(model)
        self.model_name = model
        self.arch = _arch(model)
        self.dataset = model.split("_")[0]
        self.pooling = pooling
        self.tag_names: tuple[str, ...] = tag_names(model)
        self.net = net

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        if x.dim() != 3 or x.shape[2] != N_MELS:
            raise ValueError(f"expected log-mel patches (batch, frames, {N_MELS}), got "
                             f"{tuple(x.shape)}")
        out = self.net(x.unsqueeze(1))
        out["probs"] = torch.sigmoid(out["logits"])
        return out


# --------------------------------------------------------------------------------------
# TF names and layouts
# --------------------------------------------------------------------------------------
_BN_SUFFIX = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean",
              "moving_variance": "running_var"}


def _bn(tf_scope: str, torch_scope: str) -> dict[str, tuple[str, str]]:
    return {f"{tf_scope}/{k}": (f"{torch_scope}.{v}", "vector") for k, v in _BN_SUFFIX.items()}


def _layer(tf_scope: str, torch_scope: str, kind: str) -> dict[str, tuple[str, str]]:
    return {f"{tf_scope}/kernel": (f"{torch_scope}.weight", kind),
            f"{tf_scope}/bias": (f"{torch_scope}.bias", "vector")}


def tf_name_map(arch: str) -> dict[str, tuple[str, str]]:
    """TF variable name -> (torch state-dict name, layout kind) for ``"musicnn"``/``"vgg"``.

    Kinds: ``conv2d`` (HWIO -> OIHW), ``conv1d`` (H,W,1,O -> O,W,H), ``dense``
    ((in, out) -> (out, in)), ``vector`` (unchanged).
    """
    out = _bn("batch_normalization", "input_bn")
    if arch == "musicnn":
        blocks = ["timbral_74", "timbral_77", "temporal_128", "temporal_64", "temporal_32",
                  "midend_1", "midend_2", "midend_3"]
        for i, block in enumerate(blocks):
            kind = "conv1d" if block.startswith("midend") else "conv2d"
            out.update(_layer("conv2d" if i == 0 else f"conv2d_{i}", f"{block}.conv", kind))
            out.update(_bn(f"batch_normalization_{i + 1}", f"{block}.bn"))
        out.update(_bn("batch_normalization_9", "pool_bn"))
        out.update(_layer("dense", "dense", "dense"))
        out.update(_bn("batch_normalization_10", "dense_bn"))
        out.update(_layer("dense_1", "output", "dense"))
    elif arch == "vgg":
        for i in range(1, 6):
            out.update(_layer(f"{i}CNN", f"block{i}.conv", "conv2d"))
            out.update(_bn(f"batch_normalization_{i}", f"block{i}.bn"))
        out.update(_layer("dense", "output", "dense"))
    else:
        raise ValueError(f"unknown architecture {arch!r}; expected 'musicnn' or 'vgg'")
    return out


def _to_torch_layout(kind: str, a: np.ndarray) -> np.ndarray:
    if kind == "conv2d":
        return a.transpose(3, 2, 0, 1)
    if kind == "conv1d":
        if a.ndim != 4 or a.shape[2] != 1:
            raise ValueError(f"mid-end kernel of shape {a.shape}: expected (k, in, 1, out)")
        return a[:, :, 0, :].transpose(2, 1, 0)
    if kind == "dense":
        return a.T
    return a


def to_tf_layout(kind: str, a: np.ndarray) -> np.ndarray:
    """Undo the layout change of :func:`tf_name_map`'s ``kind`` (torch -> TF layout)."""
    if kind == "conv2d":
        return a.transpose(2, 3, 1, 0)
    if kind == "conv1d":
        return a.transpose(2, 1, 0)[:, :, None, :]
    if kind == "dense":
        return a.T
    return a


def excluded_tensors(names: Sequence[str]) -> list[str]:
    """The names that are optimiser state (:data:`EXCLUDED_PATTERNS`), in order."""
    return [n for n in names if any(re.search(p, n) for p in EXCLUDED_PATTERNS)]


def read_tf_state_dict(model: str) -> dict[str, np.ndarray]:
    """Read ``model``'s checkpoint and return the torch state dict (as arrays, float32).

    Every tensor is either excluded by name (optimiser state, logged) or mapped; a tensor
    of neither kind, or a mapped name missing from the checkpoint, raises ValueError.
    """
    tensors = tf_checkpoint.read_checkpoint(checkpoint_prefix(model))
    names = tf_name_map(_arch(model))
    excluded = excluded_tensors(list(tensors))
    log.info("%s: %d checkpoint tensors: %d weights, %d optimiser tensors excluded (%s)",
             model, len(tensors), len(tensors) - len(excluded), len(excluded),
             ", ".join(EXCLUDED_PATTERNS))
    log.debug("%s: excluded tensors: %s", model, ", ".join(excluded))
    unexpected = sorted(set(tensors) - set(names) - set(excluded))
    missing = sorted(set(names) - set(tensors))
    if unexpected or missing:
        raise ValueError(f"{model}: checkpoint and name map disagree: unmapped checkpoint "
                         f"tensors {unexpected}, mapped names missing from the checkpoint "
                         f"{missing}")
    out = {}
    for tf_name, (torch_name, kind) in names.items():
        out[torch_name] = np.ascontiguousarray(_to_torch_layout(kind, tensors[tf_name]),
                                               dtype=np.float32)
    return out


# --------------------------------------------------------------------------------------
# conversion cache
# --------------------------------------------------------------------------------------
def _checkpoint_files(model: str) -> list[Path]:
    prefix = checkpoint_prefix(model)
    index = tf_checkpoint.read_index(prefix)
    return [Path(prefix + ".index")] + [Path(index.shard_path(i))
                                        for i in range(index.num_shards)]


def _checkpoint_hash(model: str) -> str:
    h = hashlib.sha256(f"emolib-musicnn-conversion {_CONVERSION_VERSION} {model}\n".encode())
    for path in _checkpoint_files(model):
        h.update(f"{path.name} {path.stat().st_size}\n".encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def converted_path(model: str) -> Path:
    """Where the converted safetensors of ``model`` live (name includes a checkpoint hash)."""
    _check_model(model)
    return cache_dir("pretrained", "musicnn") / f"{model}-{_checkpoint_hash(model)}.safetensors"


def convert_checkpoint(model: str) -> Path:
    """Convert ``model``'s TF checkpoint to safetensors in the cache, once; return the path.

    An existing file of the same checkpoint hash is reused as it is (not rewritten); a new
    one is written to a temporary file and renamed into place.
    """
    from safetensors.numpy import save_file

    target = converted_path(model)
    if target.exists():
        return target
    t0 = time.perf_counter()
    state = read_tf_state_dict(model)
    # one metadata key: safetensors writes several in hash-map order (files would differ)
    meta = {"emolib": json.dumps({"model": model, "conversion": _CONVERSION_VERSION,
                                  "source": f"musicnn {_musicnn_version()} TF1 checkpoint"},
                                 sort_keys=True)}
    with atomic_path(target) as tmp:
        save_file(state, str(tmp), metadata=meta)
    log.info("converted %s to %s in %.2f s", model, target, time.perf_counter() - t0)
    return target


def _musicnn_version() -> str:
    try:
        import importlib.metadata

        return importlib.metadata.version("musicnn")
    except Exception:  # pragma: no cover - metadata missing
        return "unknown"


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------
def _build(model: str, pooling: str) -> nn.Module:
    if _arch(model) == "musicnn":
        return Musicnn(len(tag_names(model)))
    if pooling == "extractor":
        pools = _VGG_POOLS_EXTRACTOR
    elif pooling == "training":
        pools = _VGG_POOLS_TRAINING[model]
    else:
        raise ValueError(f"pooling must be 'extractor' or 'training', got {pooling!r}")
    return Vgg(len(tag_names(model)), pools=pools)


def check_state_dict(module: nn.Module, state: Mapping[str, Tensor | np.ndarray], *,
                     what: str = "state dict") -> None:
    """Refuse ``state`` unless its keys and shapes are exactly ``module``'s (ValueError
    naming every missing, unexpected and mis-shaped tensor)."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(f"{k}: {tuple(state[k].shape)} != {expected[k]}"
                    for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if missing or unexpected or shapes:
        raise ValueError(f"{what} does not match {type(module).__name__}: missing keys "
                         f"{missing}, unexpected keys {unexpected}, shape mismatches {shapes}")


def _load_state(model: str, path: Path) -> dict[str, Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # a damaged cache file: convert again
        log.warning("could not read %s (%s); converting %s again", path, exc, model)
        path.unlink(missing_ok=True)
        return load_file(str(convert_checkpoint(model)))


def load_musicnn(model: str = "MTT_musicnn", device: str | torch.device = "cpu", *,
                 pooling: str = "extractor") -> MusicnnTagger:
    """Load one of musicnn's pretrained taggers (:data:`MODELS`) as a torch module.

    Converts the TF checkpoint on first use (:func:`convert_checkpoint`), loads it strictly
    (:func:`check_state_dict`), and returns the tagger in eval mode without gradients.
    ``pooling`` (vgg only): ``"extractor"`` — the pools of musicnn's ``models.vgg``, which
    its extractor runs for both vgg checkpoints; ``"training"`` — the pools of the
    checkpoint's own training graph (differs for ``MSD_vgg``; see the module docstring).

    Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
    """
    _check_model(model)
    if pooling not in ("extractor", "training"):
        raise ValueError(f"pooling must be 'extractor' or 'training', got {pooling!r}")
    path = convert_checkpoint(model)
    state = _load_state(model, path)
    net = _build(model, pooling)
    check_state_dict(net, state, what=f"{path.name}")
    net.load_state_dict(state, strict=True)
    tagger = MusicnnTagger(model, net, pooling=pooling).to(device=device, dtype=torch.float32)
    tagger.eval().requires_grad_(False)
    label = f"musicnn {model}" + (" (training-graph pools)" if pooling == "training"
                                  and _arch(model) == "vgg" else "")
    provenance.record_model(label, "musicnn")
    return tagger


# --------------------------------------------------------------------------------------
# input pipeline
# --------------------------------------------------------------------------------------
def _mono_16k(audio: np.ndarray, sr: float) -> np.ndarray:
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:  # (channels, samples) as librosa; (samples, <= 8 channels) transposed
        if y.shape[1] <= 8 < y.shape[0]:
            y = y.T
        y = librosa.to_mono(y)
    elif y.ndim != 1:
        raise ValueError(f"audio must be 1-D (samples) or 2-D (channels, samples), got "
                         f"shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("audio contains NaN or inf samples")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    return np.ascontiguousarray(y, dtype=np.float32)


def log_mel(audio: np.ndarray, sr: float) -> np.ndarray:
    """musicnn's input representation of ``audio``: ``(frames, 96)`` float32.

    Mel power spectrogram (librosa, n_fft 512, hop 256, 96 mels, reflect-padded centred
    frames) -> float16 -> ``log10(10000 x + 1)`` in float32 (see the module docstring).
    """
    y = _mono_16k(audio, sr)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP, n_fft=N_FFT,
                                         n_mels=N_MELS, pad_mode="reflect").T
    x = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000) * x + np.float32(1)).astype(np.float32)


def patch_frames(patch_seconds: float = PATCH_SECONDS) -> int:
    """Frames per patch as musicnn converts ``input_length`` (3 s -> 187)."""
    n = int(librosa.time_to_frames(patch_seconds, sr=SR, n_fft=N_FFT, hop_length=HOP)) + 1
    if n < 1:
        raise ValueError(f"patch_seconds={patch_seconds} gives {n} frames")
    return n


def hop_frames(hop_seconds: float | None, n_frames: int) -> int:
    """Frames between patch starts: ``n_frames`` for None (musicnn's default, no overlap),
    else musicnn's ``input_overlap`` conversion ``librosa.time_to_frames(hop_seconds)``."""
    if hop_seconds is None:
        return n_frames
    n = int(librosa.time_to_frames(hop_seconds, sr=SR, n_fft=N_FFT, hop_length=HOP))
    if n < 1:
        raise ValueError(f"hop_seconds={hop_seconds} gives a hop of {n} frames; musicnn's "
                         f"conversion needs hop_seconds >= {(N_FFT // 2 + HOP) / SR:.3f} s")
    return n


def make_patches(spec: np.ndarray, n_frames: int, hop: int) -> np.ndarray:
    """Cut ``(frames, 96)`` into ``(n_patches, n_frames, 96)``: starts ``0, hop, ...`` while a
    whole patch fits (musicnn's ``batch_data``)."""
    if spec.shape[0] < n_frames:
        raise ValueError(f"audio gives {spec.shape[0]} frames; a patch needs {n_frames} "
                         f"(at least {(n_frames - 1) * HOP / SR:.3f} s at {SR} Hz)")
    starts = range(0, spec.shape[0] - n_frames + 1, hop)
    return np.stack([spec[s:s + n_frames] for s in starts]).astype(np.float32)


@dataclass(frozen=True)
class TagResult:
    """Tag probabilities of one clip: ``patch_probs`` ``(n_patches, 50)`` (musicnn's taggram),
    ``clip_probs`` ``(50,)`` = their mean over patches, ``tag_names``, and each patch's start
    in seconds (``patch_starts``)."""

    patch_probs: np.ndarray
    clip_probs: np.ndarray
    tag_names: tuple[str, ...]
    patch_starts: np.ndarray
    model: str

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most likely tags of the clip, most likely first."""
        order = np.argsort(-self.clip_probs, kind="stable")[:k]
        return [(self.tag_names[i], float(self.clip_probs[i])) for i in order]

    def rank(self, tag: str) -> int:
        """0-based rank of ``tag`` in the clip probabilities (0 = most likely)."""
        order = list(np.argsort(-self.clip_probs, kind="stable"))
        return order.index(self.tag_names.index(tag))


def _forward_patches(tagger: MusicnnTagger, audio: np.ndarray, sr: float, patch_seconds: float,
                     hop_seconds: float | None, batch_size: int
                     ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    n_frames = patch_frames(patch_seconds)
    if tagger.arch == "vgg" and n_frames != patch_frames(PATCH_SECONDS):
        raise ValueError("the vgg models take 3-s patches only (patch_seconds=3), as in musicnn")
    hop = hop_frames(hop_seconds, n_frames)
    patches = make_patches(log_mel(audio, sr), n_frames, hop)
    device = next(tagger.parameters()).device
    outs: list[dict[str, np.ndarray]] = []
    with torch.inference_mode():
        for i in range(0, len(patches), batch_size):
            x = torch.from_numpy(patches[i:i + batch_size]).to(device)
            outs.append({k: v.cpu().numpy() for k, v in tagger(x).items()})
    merged = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
    starts = np.arange(len(patches)) * hop * HOP / SR
    return merged, starts


def _tag_result(tagger: MusicnnTagger, out: Mapping[str, np.ndarray],
                starts: np.ndarray) -> TagResult:
    probs = np.asarray(out["probs"], dtype=np.float32)
    return TagResult(patch_probs=probs, clip_probs=probs.mean(axis=0), tag_names=tagger.tag_names,
                     patch_starts=starts, model=tagger.model_name)


_POOLED = {"musicnn": ("max_pool", "mean_pool", "penultimate"), "vgg": ("pool5", "penultimate")}
_FRAMES = {"musicnn": ("timbral", "temporal", "cnn1", "cnn2", "cnn3"),
           "vgg": ("pool1", "pool2", "pool3", "pool4")}


def _embeddings(tagger: MusicnnTagger, out: Mapping[str, np.ndarray], starts: np.ndarray,
                frame_level: bool) -> dict[str, np.ndarray]:
    names = _POOLED[tagger.arch] + (_FRAMES[tagger.arch] if frame_level else ())
    emb: dict[str, np.ndarray] = {}
    for name in names:
        emb[name] = np.asarray(out[name], dtype=np.float32)
        emb[f"{name}_clip"] = emb[name].mean(axis=0)
    emb["patch_starts"] = starts
    return emb


def tag_audio(tagger: MusicnnTagger, audio: np.ndarray, sr: float, *,
              patch_seconds: float = PATCH_SECONDS, hop_seconds: float | None = None,
              batch_size: int = 8) -> TagResult:
    """Tag ``audio`` (mono or ``(channels, samples)``, any rate) with ``tagger``.

    Patches of ``patch_seconds`` (3 s = 187 frames), ``hop_seconds`` apart (None: back to
    back, musicnn's default). Returns per-patch and clip (mean) probabilities.

    Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
    """
    out, starts = _forward_patches(tagger, audio, sr, patch_seconds, hop_seconds, batch_size)
    return _tag_result(tagger, out, starts)


def embed_audio(tagger: MusicnnTagger, audio: np.ndarray, sr: float, *,
                patch_seconds: float = PATCH_SECONDS, hop_seconds: float | None = None,
                frame_level: bool = False, batch_size: int = 8) -> dict[str, np.ndarray]:
    """musicnn's embeddings of ``audio``: per patch under musicnn's names and their mean over
    patches under ``<name>_clip``, plus ``patch_starts`` (seconds); see the module docstring
    for names and shapes.

    Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
    """
    out, starts = _forward_patches(tagger, audio, sr, patch_seconds, hop_seconds, batch_size)
    return _embeddings(tagger, out, starts, frame_level)


def analyze_audio(tagger: MusicnnTagger, audio: np.ndarray, sr: float, *,
                  patch_seconds: float = PATCH_SECONDS, hop_seconds: float | None = None,
                  frame_level: bool = False, batch_size: int = 8
                  ) -> tuple[TagResult, dict[str, np.ndarray]]:
    """:func:`tag_audio` and :func:`embed_audio` from one pass of the model.

    Notebooks: 00_tour (the world tour), 01_won2021, 02_emoclim2024.
    """
    out, starts = _forward_patches(tagger, audio, sr, patch_seconds, hop_seconds, batch_size)
    return _tag_result(tagger, out, starts), _embeddings(tagger, out, starts, frame_level)


# --------------------------------------------------------------------------------------
# frozen features of many clips (01_won2021's music branch input), cached
# --------------------------------------------------------------------------------------
def even_patch_starts(n_total: int, n_frames: int, n_patches: int) -> np.ndarray:
    """Start frames of ``n_patches`` patches of ``n_frames`` spread evenly over a
    ``n_total``-frame spectrogram: the first at 0, the last ending at the last frame
    (rounded to whole frames; they overlap when the clip is short)."""
    if n_patches < 1:
        raise ValueError(f"n_patches must be >= 1, got {n_patches}")
    if n_total < n_frames:
        raise ValueError(f"the clip gives {n_total} frames; a patch needs {n_frames} "
                         f"(at least {(n_frames - 1) * HOP / SR:.3f} s at {SR} Hz)")
    return np.round(np.linspace(0, n_total - n_frames, n_patches)).astype(int)


def patch_embeddings(tagger: MusicnnTagger, audio: np.ndarray, sr: float, n_patches: int, *,
                     layer: str = "penultimate") -> np.ndarray:
    """``(n_patches, dim)`` float32: ``layer`` (one of the pooled features, e.g. the 200-d
    ``penultimate`` that musicnn's tag layer reads, or ``max_pool``) of ``n_patches``
    evenly spaced 3-s patches (:func:`even_patch_starts`), one batch per clip. A clip
    shorter than one patch is padded at the end with silence (log-mel 0, the value
    :func:`log_mel` gives zeros) to a whole patch: every patch then starts at 0.

    Notebook: 01_won2021 (the music branch's frozen features).
    """
    if layer not in _POOLED[tagger.arch]:
        raise ValueError(f"layer={layer!r}: {tagger.model_name} gives {_POOLED[tagger.arch]}")
    spec = log_mel(audio, sr)
    n_frames = patch_frames()
    if spec.shape[0] < n_frames:
        spec = np.pad(spec, ((0, n_frames - spec.shape[0]), (0, 0)))
    starts = even_patch_starts(spec.shape[0], n_frames, n_patches)
    x = torch.from_numpy(np.stack([spec[s:s + n_frames] for s in starts]))
    device = next(tagger.parameters()).device
    with torch.inference_mode():
        return tagger(x.to(device))[layer].cpu().numpy().astype(np.float32)


def cached_patch_embeddings(tagger: MusicnnTagger, paths: Sequence[str], n_patches: int, *,
                            layer: str = "penultimate", progress: bool = False) -> np.ndarray:
    """:func:`patch_embeddings` of many audio files, ``(N, n_patches, dim)`` float32, cached.

    Stored under ``cache_dir("features")``, keyed by the model, the hash of its converted
    checkpoint files, ``layer``, ``n_patches`` and each file's identity
    (:func:`emolib.io.file_identity`: a replaced file is re-embedded, a missing one raises
    ``FileNotFoundError`` before the model runs). Each clip is its own batch, so a clip's
    features do not depend on which other clips are embedded with it.

    Notebook: 01_won2021.
    """
    from emolib.encoders.audio import load_audio
    from emolib.io import file_identity
    from emolib.progress import tqdm
    from emolib.train import params_key

    key = params_key("musicnn-patch-embeddings", {
        "model": tagger.model_name, "weights": _checkpoint_hash(tagger.model_name),
        "layer": layer, "n_patches": int(n_patches),
        "files": [file_identity(p) for p in paths], "version": 1})
    path = cache_dir("features") / f"musicnn-{key}.npy"
    if path.exists():
        return np.load(path)
    out = np.stack([patch_embeddings(tagger, load_audio(p), SR, n_patches, layer=layer)
                    for p in tqdm(paths, desc=f"{tagger.model_name} patches",
                                  disable=not progress, leave=False)])
    with atomic_path(path) as tmp:
        np.save(tmp, out)
    return out
