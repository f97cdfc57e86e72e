"""Image encoders: the CLIP vision tower (real weights) and a small CNN (offline default).

* :class:`CLIPImageEncoder` — ``transformers.CLIPVisionModelWithProjection.from_pretrained
  (name_or_path)`` (e.g. ``"openai/clip-vit-base-patch32"``, Emo-CLIM's ViT-B/32 → 512-d
  ``image_embeds``), with CLIP's preprocessing done in torch (bilinear resize of the short
  side, centre crop to ``config.image_size``, CLIP mean/std normalisation). Frozen; the
  output is L2-normalised, as in the official code. Needs the weights on disk or a
  reachable hub — neither exists offline here, so the tests build a tiny random config,
  save it and load it through the very same path.
* :class:`SmallImageCNN` + :func:`pretrained_image_cnn` — the offline stand-in: a 4-block
  CNN pre-trained once on an *auxiliary* task of the emotion world's images — regress each
  training image's latent valence/arousal and its colour statistics (mean RGB, mean HSV
  saturation/value) with MSE — then frozen. It never sees the emotion labels, nor any
  validation/test image. Cached through :func:`emolib.train.cached_model`.

Both take float images (B, 3, H, W) in [0, 1]; :func:`preprocess` does resize/crop and
normalisation. :func:`embed_images` embeds decoded images in batches (centre view, or
random-resized-crop views for training); :func:`embed_image_files` does the same straight
from files, a chunk at a time, so that a real dataset (DeepEmotion: 21,829 images, ≈13 GB
decoded at 224²) never sits in memory at once.

Notebook: 02_emoclim2024.ipynb.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from emolib import provenance
from emolib.augment import center_resize_crop, random_resized_crop
from emolib.io import load_image

__all__ = ["CLIP_MEAN", "CLIP_STD", "preprocess", "CLIPImageEncoder", "SmallImageCNN",
           "colour_statistics", "pretrained_image_cnn", "load_images", "embed_images",
           "embed_image_files"]

log = logging.getLogger(__name__)

#: CLIP's normalisation constants (OpenAI CLIP preprocessing).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def preprocess(images: torch.Tensor, size: int, *, rng: np.random.Generator | None = None,
               mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] → resized/cropped to ``size``² and normalised.

    With ``rng`` each image gets a random resized crop (training view), otherwise the
    CLIP evaluation view (short side to ``size``, centre crop).
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (batch, 3, H, W), got {tuple(images.shape)}")
    views = [random_resized_crop(im, size, rng) if rng is not None else center_resize_crop(im, size)
             for im in images]
    x = torch.stack(views)
    m = torch.tensor(mean, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


class CLIPImageEncoder(nn.Module):
    """Frozen CLIP vision tower with projection: images → L2-normalised ``image_embeds``.

    Args:
        name_or_path: a Hugging Face id or a local directory saved with ``save_pretrained``.
        device: where the model runs.
        local_files_only: do not try the network (default True: this project is offline).
    """

    def __init__(self, name_or_path: str, device: str = "cpu",
                 local_files_only: bool = True) -> None:
        super().__init__()
        from transformers import CLIPVisionModelWithProjection

        try:
            self.model = CLIPVisionModelWithProjection.from_pretrained(
                name_or_path, local_files_only=local_files_only)
        except OSError as exc:
            raise FileNotFoundError(
                f"cannot load CLIP vision weights from {name_or_path!r}: {exc}. Download e.g. "
                "'openai/clip-vit-base-patch32' on a machine with network and pass its local "
                "directory; offline, use pretrained_image_cnn(...) instead") from exc
        provenance.record_weights(name_or_path, "CLIP image encoder")
        self.model.eval().requires_grad_(False).to(device)
        self.image_size = int(self.model.config.image_size)
        self.out_dim = int(self.model.config.projection_dim)
        self.device = device

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Preprocessed (B, 3, S, S) pixels → (B, projection_dim), unit norm."""
        out = self.model(pixel_values=pixel_values.to(self.device)).image_embeds
        return F.normalize(out, dim=-1)


class SmallImageCNN(nn.Module):
    """4 × (3×3 conv, BN, ReLU, 2×2 max-pool), channels w, 2w, 4w, 8w; global average pool.

    ``embed`` returns the 8w-d pooled feature, L2-normalised (the frozen-backbone output);
    ``forward`` adds the auxiliary regression head used for pre-training.
    """

    def __init__(self, width: int = 16, n_aux: int = 7, image_size: int = 64) -> None:
        super().__init__()
        if width < 1 or image_size < 16:
            raise ValueError(f"width must be >= 1 and image_size >= 16, got {width}, {image_size}")
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        self.body = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1),
                          nn.BatchNorm2d(chans[i + 1]), nn.ReLU(), nn.MaxPool2d(2))
            for i in range(4)])
        self.aux = nn.Linear(chans[-1], n_aux)
        self.image_size, self.out_dim = image_size, chans[-1]
        # channels-last (NHWC): oneDNN's fast CPU layout, ≈1.7× faster to train here
        self.to(memory_format=torch.channels_last)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) → (B, 8w) un-normalised pooled features."""
        return self.body(x.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) → (B, 8w) L2-normalised embedding."""
        return F.normalize(self.features(x), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Auxiliary-task predictions (B, n_aux)."""
        return self.aux(self.features(x))


def colour_statistics(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] → (B, 5): mean R, G, B, mean HSV saturation, mean HSV value."""
    mx, mn = images.max(dim=1).values, images.min(dim=1).values
    sat = torch.where(mx > 0, (mx - mn) / mx.clamp(min=1e-8), torch.zeros_like(mx))
    return torch.cat([images.mean(dim=(2, 3)), sat.mean(dim=(1, 2))[:, None],
                      mx.mean(dim=(1, 2))[:, None]], dim=1)


def load_images(paths: Sequence[str], size: int) -> torch.Tensor:
    """Decode image files to a (N, 3, size, size) float tensor in [0, 1]
    (short side + centre crop)."""
    return torch.stack([center_resize_crop(load_image(p), size) for p in paths])


def _fingerprint(df: Any) -> str:
    blob = "|".join(f"{a}:{b}" for a, b in zip(df["item_id"], df["split"]))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def pretrained_image_cnn(world: Any, seed: int = 0, *, width: int = 16, image_size: int = 64,
                         epochs: int = 8, lr: float = 1e-3, batch_size: int = 32,
                         device: str = "cpu", progress: bool = False,
                         refresh: bool = False) -> SmallImageCNN:
    """Pre-train :class:`SmallImageCNN` on the world's auxiliary image task; cache; freeze.

    Targets (standardised): latent valence and arousal of each image plus its 5 colour
    statistics (:func:`colour_statistics`). Only ``split == "train"`` images are used for
    fitting; the validation images pick the best epoch (lowest MSE). The emotion labels are
    not used. Returns the model in eval mode with gradients off.
    """
    from emolib.train import cached_model, fit

    imgs = world.images
    for col in ("item_id", "image_path", "valence", "arousal", "split"):
        if col not in imgs.columns:
            raise ValueError(f"world.images needs column {col!r}; has {list(imgs.columns)}")
    train_df, val_df = imgs[imgs["split"] == "train"], imgs[imgs["split"] == "val"]
    params = {"width": width, "image_size": image_size, "epochs": epochs, "lr": lr,
              "batch_size": batch_size, "seed": seed, "version": 1,
              "images": _fingerprint(imgs[imgs["split"].isin(["train", "val"])])}

    def targets(df: Any, x: torch.Tensor) -> torch.Tensor:
        va = torch.tensor(df[["valence", "arousal"]].to_numpy(dtype=np.float32))
        return torch.cat([va, colour_statistics(x)], dim=1)

    def train(model: SmallImageCNN) -> None:
        xt, xv = load_images(list(train_df["image_path"]), image_size), \
            load_images(list(val_df["image_path"]), image_size)
        yt, yv = targets(train_df, xt), targets(val_df, xv)
        mu, sd = yt.mean(0), yt.std(0).clamp(min=1e-6)
        yt, yv = (yt - mu) / sd, (yv - mu) / sd
        norm = lambda x: preprocess(x, image_size)  # noqa: E731
        xt, xv = norm(xt), norm(xv)
        g = torch.Generator().manual_seed(seed)
        tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xt, yt),
                                         batch_size=batch_size, shuffle=True, generator=g,
                                         drop_last=len(xt) > batch_size)
        vl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xv, yv), batch_size=256)

        def loss_fn(m: nn.Module, batch: Any) -> torch.Tensor:
            x, y = batch
            return F.mse_loss(m(x), y)

        fit(model, loss_fn, tl, vl, epochs=epochs, lr=lr, device=device, seed=seed,
            progress=progress)

    def build() -> SmallImageCNN:
        torch.manual_seed(seed)
        return SmallImageCNN(width=width, image_size=image_size)

    log.info("pre-training the small image CNN (width %d) on %d world images", width, len(train_df))
    model = cached_model("image-cnn-aux", params, build, train, refresh=refresh)
    return model.eval().requires_grad_(False)


@torch.no_grad()
def embed_images(encoder: nn.Module, images: torch.Tensor, *, size: int | None = None,
                 rng: np.random.Generator | None = None, batch_size: int = 64,
                 device: str = "cpu") -> torch.Tensor:
    """Embed decoded images (N, 3, H, W) in [0, 1] with a frozen encoder → (N, d), unit norm.

    ``encoder`` is a :class:`CLIPImageEncoder` (called directly) or a :class:`SmallImageCNN`
    (its ``embed``). ``rng`` given → random-resized-crop training views, else centre views.
    """
    size = int(size or encoder.image_size)
    fn = encoder.embed if isinstance(encoder, SmallImageCNN) else encoder
    encoder.eval().to(device)
    out = []
    for i in range(0, len(images), batch_size):
        x = preprocess(images[i:i + batch_size], size, rng=rng).to(device)
        out.append(F.normalize(fn(x), dim=-1).cpu())
    return torch.cat(out) if out else torch.empty(0, getattr(encoder, "out_dim", 0))


def embed_image_files(encoder: nn.Module, paths: Sequence[str], size: int, *,
                      rngs: Sequence[np.random.Generator | None] = (None,), chunk: int = 512,
                      batch_size: int = 64, device: str = "cpu") -> torch.Tensor:
    """Embed image files in views → (len(paths), len(rngs), d), unit norm, streaming.

    Each entry of ``rngs`` is one view: ``None`` the centre view, a generator the
    random-resized-crop views it draws. Files are decoded ``chunk`` at a time (at ``size``,
    as :func:`load_images`) and every view of a chunk is embedded before the next chunk is
    read. ``chunk`` must be a multiple of ``batch_size``, so that each generator is drawn in
    the same order as one :func:`embed_images` call over all images: the result equals
    ``stack([embed_images(encoder, load_images(paths, size), rng=g) for g in rngs], 1)``.
    """
    if chunk < 1 or batch_size < 1 or chunk % batch_size:
        raise ValueError(f"chunk ({chunk}) must be a positive multiple of "
                         f"batch_size ({batch_size})")
    if len(rngs) < 1:
        raise ValueError("rngs needs at least one view (None: the centre view)")
    out = []
    for i in range(0, len(paths), chunk):
        pix = load_images(list(paths[i:i + chunk]), size)
        out.append(torch.stack([embed_images(encoder, pix, size=size, rng=g, batch_size=batch_size,
                                             device=device) for g in rngs], dim=1))
    if not out:
        return torch.empty(0, len(rngs), getattr(encoder, "out_dim", 0))
    return torch.cat(out)
