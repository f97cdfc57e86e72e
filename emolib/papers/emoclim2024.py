"""Stewart et al. (ICASSP 2024), *Emotion-Aligned Contrastive Learning Between Images and
Music* (Emo-CLIM): the dual-branch model, its training and its evaluation.

The notebook ``02_emoclim2024`` keeps the narrative, the equations and the parameters; this
module holds the experiment as functions with explicit arguments:

* :class:`Budget` — every size and schedule that ``profile`` decides, decoded once
  (:func:`budget`);
* :func:`load_data` (the world, or DeepEmotion + AudioSet mood + MagnaTagATune) with the
  paper's label mapping (:data:`MAP`, :data:`CLASSES`), :func:`load_encoders` (image, the two
  tagging CNNs, the CLAP role) and :func:`compute_features` (the frozen encoders' outputs,
  cached: clean windows and augmented views), gathered in an :class:`Experiment`;
* training (§3.2–3.3, §4.2): :func:`sampler`, :func:`pick_views`, :func:`frozen_loss`,
  :func:`unfrozen_loss`, :func:`build_model`, :func:`train_variant`, :func:`train_all`;
* retrieval in four directions (Tables 1–2): :func:`music_embeddings`,
  :func:`image_embeddings`, :func:`retrieval`, :func:`table1_results`,
  :func:`table2_results`;
* the tagging probe (Table 3): :func:`tag_targets`, :func:`tag_head_scores`,
  :func:`branch_features`, :func:`supervised_baseline`, :func:`table3_results`.

Paper sections: §3.1 (encoders), §3.2–3.3 (projection heads, the emotion-supervised
contrastive loss, Eq. 2–4), §4.1–4.4 (data, training, retrieval, tagging).
Notebook: 02_emoclim2024.
"""
from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from emolib import augment, metrics
from emolib.data import taxonomies as tx
from emolib.encoders import audio as audio_enc
from emolib.encoders.clap import CLAP_STYLE_LABEL, ClapAudioEncoder, train_clap_style
from emolib.encoders.heads import MLPClassifier, ProjectionHead
from emolib.encoders.image import CLIPImageEncoder, embed_image_files, pretrained_image_cnn
from emolib.features import cached_array_file
from emolib.losses.supcon import emoclim_loss, flatten_views
from emolib.numba_cache import prime_librosa
from emolib.seed import rng, seed_everything
from emolib.train import FitResult, fit, params_key

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

__all__ = ["MAP", "CLASSES", "PROFILES", "WEIGHT_DECAY", "ENCODERS", "VARIANTS", "DIRECTIONS",
           "OVERLAP",
           "Budget", "budget", "Data", "load_data", "ClipReader", "Encoders", "load_encoders",
           "backbone", "windows_of", "embed_groups", "Features", "compute_features",
           "Experiment", "make_experiment", "sampler", "pick_views", "total_loss",
           "frozen_loss", "unfrozen_loss", "build_model", "train_variant", "train_all",
           "backbone_windows", "music_embeddings", "image_embeddings", "direction_scores",
           "retrieval", "claims_for_run", "not_run_notes",
           "table1_results", "table2_results", "tag_targets", "tag_head_scores",
           "branch_features", "supervised_baseline", "table3_results", "table_notes",
           "unfrozen_note", "table3_notes", "RESULT_COLUMNS", "TABLE3_EMOCLIM"]

#: DeepEmotion image label -> AudioSet music label (the official code's map; awe, disgust
#: and tender dropped): ``taxonomies.MAPPINGS["emoclim"]``.
MAP: dict[str, str] = {img: aud[0] for img, aud in tx.MAPPINGS["emoclim"].items()}
#: The shared label space: the music labels kept.
CLASSES: list[str] = list(MAP.values())
PROFILES = ("quick", "default", "paper")
#: The audio backbones (Table 1 and 3 rows name them).
ENCODERS = ("Short-Chunk CNN", "Harmonic CNN", "CLAP")
#: Table 1 rows: variant -> (audio backbone, unfrozen?).
VARIANTS: dict[str, tuple[str, bool]] = {
    "Short-Chunk CNN (frozen)": ("Short-Chunk CNN", False),
    "Short-Chunk CNN (unfrozen)": ("Short-Chunk CNN", True),
    "Harmonic CNN (frozen)": ("Harmonic CNN", False),
    "Harmonic CNN (unfrozen)": ("Harmonic CNN", True),
    "CLAP (frozen)": ("CLAP", False),
}
DIRECTIONS = ("image→music", "music→image", "image→image", "music→music")
#: AdamW's weight decay in the official code: it builds ``torch.optim.AdamW`` without setting
#: it, i.e. PyTorch's default (``../shared/papers/official_code_notes.md``).
WEIGHT_DECAY = 0.01
#: Window overlap of each evaluation (official code): 75 % for retrieval, none for tagging.
OVERLAP: dict[str, float] = {"retrieval": 0.75, "tagging": 0.0}


# --------------------------------------------------------------------------------------
# budget
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """Sizes and schedules of one run of notebook 02 (:func:`budget` decodes them).

    ``epochs`` x ``batches_per_epoch`` batches of ``batch_size`` images and clips train the
    heads of a frozen variant at learning rate ``lr`` (AdamW) on ``n_views`` cached views
    per item; an unfrozen variant fine-tunes its CNN for ``unfrozen_epochs`` x
    ``unfrozen_batches`` batches of ``unfrozen_batch_size``; ``tag_epochs`` train the
    tagging heads; ``pretrain_epochs`` the world pre-training of the stand-in image CNN,
    Short-Chunk CNN and Harmonic CNN; ``weight_decay`` AdamW's decoupled weight decay of the
    heads, fine-tuned CNNs and tagging probes (the official code builds AdamW with PyTorch's
    default, 0.01).
    """

    profile: str
    epochs: int
    batches_per_epoch: int
    batch_size: int
    lr: float
    n_views: int
    unfrozen_epochs: int
    unfrozen_batches: int
    unfrozen_batch_size: int
    tag_epochs: int
    pretrain_epochs: tuple[int, int, int]
    weight_decay: float = WEIGHT_DECAY

    def summary(self) -> str:
        """The one line the notebook prints."""
        return (f"epochs={self.epochs}x{self.batches_per_epoch} batch={self.batch_size} "
                f"lr={self.lr:g} wd={self.weight_decay:g} views={self.n_views} "
                f"unfrozen={self.unfrozen_epochs}x{self.unfrozen_batches}x"
                f"{self.unfrozen_batch_size} tag_epochs={self.tag_epochs}")


def budget(profile: str, *, epochs: int | None = None, batches_per_epoch: int | None = None,
           batch_size: int = 64, lr: float | None = None, n_views: int | None = None,
           unfrozen_epochs: int | None = None, unfrozen_batches: int | None = None,
           unfrozen_batch_size: int | None = None, tag_epochs: int | None = None,
           pretrain_epochs: Sequence[int] | None = None,
           weight_decay: float = WEIGHT_DECAY) -> Budget:
    """The :class:`Budget` of ``profile``; a parameter that is not None overrides it.

    quick / default / paper: head epochs 4 / 10 / 15 of 8 / 10 / 100 batches; lr 1e-3 /
    1e-3 / 1e-4 (the paper's; the short schedules need the larger one); views 2 / 2 / 8;
    fine-tuning 1x2x16 / 1x4x16 / 15x100x64; tagging epochs 10 / 20 / 100; pre-training
    (image CNN, Short-Chunk CNN, Harmonic CNN) (2, 2, 1) / (4, 3, 2) / (20, 100, 100);
    AdamW weight decay 0.01 in every profile (the official code's, PyTorch's default).
    Notebook: 02_emoclim2024.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r}: expected 'quick', 'default' or 'paper'")
    p = PROFILES.index(profile)

    def pick(value, choices):
        return choices[p] if value is None else value

    return Budget(profile=profile, epochs=pick(epochs, (4, 10, 15)),
                  batches_per_epoch=pick(batches_per_epoch, (8, 10, 100)),
                  batch_size=batch_size, lr=pick(lr, (1e-3, 1e-3, 1e-4)),
                  n_views=pick(n_views, (2, 2, 8)),
                  unfrozen_epochs=pick(unfrozen_epochs, (1, 1, 15)),
                  unfrozen_batches=pick(unfrozen_batches, (2, 4, 100)),
                  unfrozen_batch_size=pick(unfrozen_batch_size, (16, 16, 64)),
                  tag_epochs=pick(tag_epochs, (10, 20, 100)),
                  pretrain_epochs=tuple(pick(pretrain_epochs,
                                             ((2, 2, 1), (4, 3, 2), (20, 100, 100)))),
                  weight_decay=weight_decay)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
@dataclass
class Data:
    """Images and clips in the shared label space, the tagging clips and their vocabulary.

    ``images`` / ``music`` keep only the mapped labels (images relabelled with
    :data:`MAP`); ``name`` says which data they are; ``world`` is the emotion world or None.
    """

    images: pd.DataFrame
    music: pd.DataFrame
    tag_clips: pd.DataFrame
    tag_vocab: list[str]
    name: str
    world: Any = None

    @property
    def sr(self) -> int:
        return int(self.world.sr) if self.world is not None else audio_enc.SR


def load_data(data_root: str | Path | None, *, seed: int, profile: str) -> Data:
    """The emotion world (``data_root`` None) or the real datasets in their layouts under
    ``data_root`` (``deepemotion/``, ``audioset/``, ``mtat/``), label-mapped (§4.1).
    Notebook: 02_emoclim2024."""
    if data_root is None:
        from emolib.data.world import make_world

        world = make_world(seed=seed, profile=profile, progress=False)
        images, music, clips = world.images, world.music, world.music
        vocab, name = list(world.tag_vocab), f"world (seed={seed}, profile={profile})"
    else:
        from emolib.data import audioset, deepemotion, mtat

        root, world = Path(data_root), None
        images = deepemotion.load_deepemotion(root / "deepemotion")
        music = audioset.load_audioset_mood(root / "audioset", root / "audioset" / "audio",
                                            on_missing="drop", seed=42)
        clips, vocab = mtat.load_mtat(root / "mtat")
        name = "DeepEmotion + AudioSet mood + MagnaTagATune"
    images = images[images["label"].isin(MAP)].assign(
        label=lambda d: d["label"].map(MAP)).reset_index(drop=True)
    music = music[music["label"].isin(CLASSES)].reset_index(drop=True)
    return Data(images, music, clips, vocab, name, world)


class ClipReader:
    """Decoded clips at ``sr``, cut or zero-padded to ``clip_seconds`` so that every clip has
    the same number of windows (real AudioSet / MagnaTagATune clips vary); the last
    ``maxsize`` clips are kept in memory (4096 10-s clips: about 2.6 GB at most).
    Notebook: 02_emoclim2024."""

    def __init__(self, sr: int, clip_seconds: float, maxsize: int = 4096):
        self.sr, self.size = int(sr), int(round(clip_seconds * sr))
        self._read = functools.lru_cache(maxsize=maxsize)(self._decode)

    def _decode(self, path: str) -> np.ndarray:
        return librosa.util.fix_length(audio_enc.load_audio(path, self.sr), size=self.size)

    def __call__(self, path: str) -> np.ndarray:
        return self._read(path)


# --------------------------------------------------------------------------------------
# encoders (§3.1)
# --------------------------------------------------------------------------------------
@dataclass
class Encoders:
    """The frozen image encoder, the two pre-trained tagging CNNs and the CLAP-role model,
    with the names the tables show and the pre-training report lines."""

    image: Any
    image_name: str
    taggers: dict[str, nn.Module]
    clap: Any
    clap_name: str
    report: list[str] = field(default_factory=list)

    def label(self, name: str) -> str:
        """A backbone or variant name as shown: 'CLAP' becomes the stand-in's label offline."""
        return name.replace("CLAP", self.clap_name) if self.clap_name != "CLAP" else name


def _tagger(data: Data, arch: str, name: str, *, seed: int, profile: str, epochs: int,
            checkpoint: str | None, device: str) -> tuple[nn.Module, str]:
    """A pre-trained tagging CNN (world pre-training, or a checkpoint) and its report line."""
    if data.world is not None:
        res = audio_enc.pretrained_tagger(arch, data.world, seed, profile=profile,
                                          device=device, epochs=epochs)
        return res.model, (f"{name}: pre-trained on {len(data.tag_vocab)} world tags, val "
                           f"ROC-AUC {res.val_roc_auc:.3f} PR-AUC {res.val_pr_auc:.3f}")
    # strict load (width from the checkpoint, official names converted); its head must cover
    # the tagging vocabulary: it gives the supervised-baseline rows of Table 3
    cnn = audio_enc.load_tagger_checkpoint(checkpoint, arch, n_classes=len(data.tag_vocab))
    return cnn.eval(), f"{name}: loaded {Path(checkpoint).name} ({len(data.tag_vocab)}-tag head)"


def load_encoders(data: Data, bud: Budget, *, seed: int, device: str = "cpu",
                  clip_path: str | None = None, clap_path: str | None = None,
                  audio_checkpoints: Mapping[str, str] | None = None,
                  short_chunk_arch: str = "short_chunk_cnn") -> Encoders:
    """§3.1: CLIP (``clip_path``) or the world-pre-trained image CNN; the Short-Chunk CNN
    (``short_chunk_arch``) and Harmonic CNN pre-trained on the world's tags (or loaded from
    ``audio_checkpoints``); CLAP (``clap_path``) or the CLAP-style model.
    Notebook: 02_emoclim2024."""
    if clip_path:
        image, image_name = CLIPImageEncoder(clip_path, device=device), "CLIP"
    else:
        image = pretrained_image_cnn(data.world, seed,
                                     image_size=int(data.world.params["image_size"]),
                                     epochs=bud.pretrain_epochs[0], device=device)
        image_name = "small CNN (world auxiliary task)"
    taggers, report = {}, []
    for k, (name, arch) in enumerate({"Short-Chunk CNN": short_chunk_arch,
                                      "Harmonic CNN": "harmonic_cnn"}.items()):
        ckpt = audio_checkpoints[arch] if data.world is None else None
        taggers[name], line = _tagger(data, arch, name, seed=seed, profile=bud.profile,
                                      epochs=bud.pretrain_epochs[1 + k], checkpoint=ckpt,
                                      device=device)
        report.append(line)
    if clap_path:
        clap, clap_name = ClapAudioEncoder(clap_path, sr=data.sr, device=device), "CLAP"
    else:
        clap = train_clap_style(data.world, seed, profile=bud.profile, device=device)
        clap_name = CLAP_STYLE_LABEL
    return Encoders(image, image_name, taggers, clap, clap_name, report)


def backbone(enc: Encoders, name: str, device: str = "cpu"
             ) -> tuple[Callable[[np.ndarray], np.ndarray], int | None]:
    """(embed function: wave batch -> L2-normalised features, input length in samples or
    None for CLAP's whole-clip input). Notebook: 02_emoclim2024."""
    if name == "CLAP":
        return (lambda w: enc.clap.embed_audio(w).numpy()), None
    cnn = enc.taggers[name].eval()

    def fn(w):
        with torch.no_grad():
            return F.normalize(cnn.embed(torch.as_tensor(w).to(device)), dim=-1).cpu().numpy()
    return fn, cnn.input_samples


def windows_of(wave: np.ndarray, win: int | None, use: str = "retrieval") -> np.ndarray:
    """Windows of the model's input length: 75 % overlap for retrieval, none for tagging
    (:data:`OVERLAP`); the whole clip when ``win`` is None. Notebook: 02_emoclim2024."""
    if win is None:
        return wave[None]
    return audio_enc.sliding_windows(wave, win, max(1, round((1 - OVERLAP[use]) * win)))


def _flush(fn: Callable[[np.ndarray], np.ndarray], todo: list[np.ndarray],
           out: list[np.ndarray]) -> None:
    out.extend(np.split(fn(np.concatenate(todo)), np.cumsum([len(x) for x in todo])[:-1]))
    todo.clear()


def embed_groups(fn: Callable[[np.ndarray], np.ndarray], groups: Iterable[np.ndarray],
                 rows: int = 4) -> np.ndarray:
    """``fn`` over each ``(k, samples)`` group of an iterable, several groups per call
    (about ``rows`` waveforms: small CPU batches are fastest here) -> ``(n_groups, k, d)``.
    The groups are consumed lazily: real datasets never hold all waveforms at once.
    Notebook: 02_emoclim2024."""
    out: list[np.ndarray] = []
    todo: list[np.ndarray] = []
    for grp in groups:
        todo.append(grp)
        if sum(len(x) for x in todo) >= rows:
            _flush(fn, todo, out)
    if todo:
        _flush(fn, todo, out)
    return np.stack(out)


# --------------------------------------------------------------------------------------
# cached frozen features
# --------------------------------------------------------------------------------------
@dataclass
class Features:
    """Frozen encoders' outputs: images (centre view, ``n_views`` random-resized crops),
    per backbone the augmented training views of every retrieval clip and the clean windows
    of the test / tagging clips (``windows[use, name]``, rows in ``win_row[use, name]``)."""

    img_clean: torch.Tensor
    img_views: torch.Tensor
    img_size: int
    views: dict[str, torch.Tensor]
    windows: dict[tuple[str, str], torch.Tensor]
    win_paths: dict[tuple[str, str], list[str]]
    win_row: dict[tuple[str, str], dict[str, int]]
    bank: list[np.ndarray]


def _cached(name: str, params: Mapping[str, Any], compute: Callable[[], Any]) -> np.ndarray:
    """np.ndarray computed once and kept under cache_dir('features')."""
    return np.load(cached_array_file(f"emoclim-{name}", params,
                                     lambda: np.asarray(compute(), dtype=np.float32)))


def _window_paths(data: Data) -> dict[tuple[str, str], list[str]]:
    """Clean windows are needed for the retrieval test clips (every encoder, 75 % overlap)
    and for the tagging clips (the encoders of Table 3, no overlap); training and
    validation use the augmented views."""
    test = list(data.music.loc[data.music["split"] == "test", "audio_path"])
    tag = list(data.tag_clips["audio_path"])
    paths = {("retrieval", name): test for name in ENCODERS}
    paths.update({("tagging", name): tag for name in ("Harmonic CNN", "CLAP")})
    return paths


def _audio_views(data: Data, enc: Encoders, reader: ClipReader, name: str, key: Mapping,
                 *, seed: int, n_views: int, bank: list[np.ndarray], device: str) -> torch.Tensor:
    """``n_views`` augmented training views of every retrieval clip, (N_music, n_views, d)."""
    fn, win = backbone(enc, name, device)
    aug = augment.AudioAugment(length=win, background=bank)

    def views():
        return embed_groups(fn, (np.stack([aug(reader(p), g) for _ in range(n_views)])
                                 for i, p in enumerate(data.music["audio_path"])
                                 for g in [rng(seed, "audio-views", name, i)]))
    return torch.as_tensor(_cached(f"views-{name}", {**key, "enc": name}, views))


def compute_features(data: Data, enc: Encoders, reader: ClipReader, *, seed: int,
                     n_views: int, device: str = "cpu") -> Features:
    """Every frozen encoder's output, once per item and cached: images as the centre view
    plus ``n_views`` random-resized crops; clips as windows of the model's input length
    (:func:`windows_of`) plus ``n_views`` augmented views (random crop, background noise from
    the first 50 training clips, Gaussian noise; ``augment.AudioAugment``).
    Notebook: 02_emoclim2024."""
    music = data.music
    bank = [reader(p) for p in music.loc[music["split"] == "train", "audio_path"][:50]]
    win_paths = _window_paths(data)
    tag_paths = list(data.tag_clips["audio_path"])
    key = {"data": data.name, "paths": params_key("paths", {"p": list(music["audio_path"])
                                                            + tag_paths,
                                                            "i": list(data.images["item_id"])}),
           "image": enc.image_name, "clap": enc.clap_name, "views": n_views, "v": 3}
    img_size = int(getattr(enc.image, "image_size", 64))
    img_all = torch.as_tensor(_cached("img-views", key, lambda: embed_image_files(
        enc.image, list(data.images["image_path"]), img_size, device=device,
        rngs=[None] + [rng(seed, "img-view", v) for v in range(n_views)])))
    windows = {}
    for use, name in win_paths:
        fn, win = backbone(enc, name, device)
        windows[use, name] = torch.as_tensor(_cached(
            f"windows-{use}-{name}", {**key, "enc": name},
            lambda fn=fn, win=win, use=use, name=name: embed_groups(
                fn, (windows_of(reader(p), win, use) for p in win_paths[use, name]))))
    views = {name: _audio_views(data, enc, reader, name, key, seed=seed, n_views=n_views,
                                bank=bank, device=device) for name in ENCODERS}
    return Features(img_all[:, 0], img_all[:, 1:], img_size, views, windows, win_paths,
                    {k: {p: i for i, p in enumerate(v)} for k, v in win_paths.items()}, bank)


# --------------------------------------------------------------------------------------
# the experiment
# --------------------------------------------------------------------------------------
@dataclass
class Experiment:
    """Everything one run shares: data, encoders, cached features, the clip reader, the
    budget, the loss settings (τ, λ1..λ4, joint dimension), the world seed and the device."""

    data: Data
    enc: Encoders
    feats: Features
    reader: ClipReader
    bud: Budget
    seed: int
    temperature: float = 0.07
    lambdas: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)
    emb_dim: int = 128
    device: str = "cpu"

    @functools.cached_property
    def y_img(self) -> torch.Tensor:
        return torch.tensor([CLASSES.index(lab) for lab in self.data.images["label"]])

    @functools.cached_property
    def y_aud(self) -> torch.Tensor:
        return torch.tensor([CLASSES.index(lab) for lab in self.data.music["label"]])

    @functools.cached_property
    def split_img(self) -> np.ndarray:
        return self.data.images["split"].to_numpy()

    @functools.cached_property
    def split_aud(self) -> np.ndarray:
        return self.data.music["split"].to_numpy()

    def test_items(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the test images and test clips."""
        return np.flatnonzero(self.split_img == "test"), np.flatnonzero(self.split_aud == "test")


def make_experiment(data: Data, enc: Encoders, reader: ClipReader, bud: Budget, *, seed: int,
                    temperature: float = 0.07,
                    lambdas: Sequence[float] = (0.25, 0.25, 0.25, 0.25), emb_dim: int = 128,
                    device: str = "cpu") -> Experiment:
    """Compute (or read from the cache) the frozen features and gather the run.
    Notebook: 02_emoclim2024."""
    feats = compute_features(data, enc, reader, seed=seed, n_views=bud.n_views, device=device)
    return Experiment(data, enc, feats, reader, bud, seed, temperature, tuple(lambdas),
                      emb_dim, device)


# --------------------------------------------------------------------------------------
# training (§3.2-3.3, §4.2)
# --------------------------------------------------------------------------------------
def sampler(exp: Experiment, split: str, n_batches: int, bs: int, s: int
            ) -> augment.BalancedUnpairedSampler:
    """Label-balanced, unpaired batches of ``bs`` images and ``bs`` clips of ``split``.
    Notebook: 02_emoclim2024."""
    im = np.where(exp.split_img == split, exp.data.images["label"], None)
    au = np.where(exp.split_aud == split, exp.data.music["label"], None)
    return augment.BalancedUnpairedSampler(im, au, CLASSES, bs, n_batches, seed=s)


def pick_views(views: torch.Tensor, idx: Sequence[int], train: bool) -> torch.Tensor:
    """Two views per item: random distinct views in training, views 0 and 1 otherwise
    (``torch``'s global generator). Notebook: 02_emoclim2024."""
    n = views.shape[1]
    if train:
        a = torch.randint(0, n, (len(idx),))
        b = (a + torch.randint(1, n, (len(idx),))) % n if n > 1 else a
    else:
        a, b = torch.zeros(len(idx), dtype=torch.long), torch.full((len(idx),), min(1, n - 1))
    idx = torch.as_tensor(idx)
    return torch.stack([views[idx, a], views[idx, b]], dim=1)


def total_loss(exp: Experiment, zi_views: torch.Tensor, ii: Sequence[int],
               za_views: torch.Tensor, ai: Sequence[int]) -> torch.Tensor:
    """Eq. 4: the λ-weighted sum of the two cross-modal and two intra-modal SupCon terms,
    each item's two views flattened into the batch. Notebook: 02_emoclim2024."""
    zi, yi = flatten_views(zi_views, exp.y_img[torch.as_tensor(ii)])
    za, ya = flatten_views(za_views, exp.y_aud[torch.as_tensor(ai)])
    return emoclim_loss(zi, yi, za, ya, temperature=exp.temperature,
                        weights=exp.lambdas)["total"]


def frozen_loss(exp: Experiment, name: str) -> Callable[[nn.ModuleDict, Any], torch.Tensor]:
    """The loss of a frozen variant: both heads on cached views. Notebook: 02_emoclim2024."""
    views, img_views = exp.feats.views[name], exp.feats.img_views

    def loss_fn(model, batch):
        ii, ai = batch
        xi, xa = pick_views(img_views, ii, model.training), pick_views(views, ai, model.training)
        zi = model["image"](xi.flatten(0, 1)).view(len(ii), 2, -1)
        za = model["audio"](xa.flatten(0, 1)).view(len(ai), 2, -1)
        return total_loss(exp, zi, ii, za, ai)
    return loss_fn


def _fresh_views(exp: Experiment, aug: augment.AudioAugment, ai: Sequence[int],
                 training: bool) -> np.ndarray:
    """Two freshly augmented waveforms per clip: a new draw per training step, a fixed one
    per validation batch."""
    g = (np.random.default_rng(int(torch.randint(0, 2**31, (1,)))) if training
         else rng(exp.seed, "val-aug", int(np.sum(ai))))
    paths = exp.data.music["audio_path"]
    return np.stack([aug(exp.reader(paths.iloc[j]), g) for j in ai for _ in range(2)])


def unfrozen_loss(exp: Experiment, name: str) -> Callable[[nn.ModuleDict, Any], torch.Tensor]:
    """The loss of an unfrozen variant: the CNN (``model["encoder"]``) embeds fresh
    augmented crops at every step. Notebook: 02_emoclim2024."""
    aug = augment.AudioAugment(length=exp.enc.taggers[name].input_samples,
                               background=exp.feats.bank)

    def loss_fn(model, batch):
        ii, ai = batch
        waves = _fresh_views(exp, aug, ai, model.training)
        feats = F.normalize(model["encoder"].embed(torch.as_tensor(waves).to(exp.device)), dim=-1)
        za = model["audio"](feats).view(len(ai), 2, -1)
        zi = model["image"](pick_views(exp.feats.img_views, ii, model.training).flatten(0, 1)
                            ).view(len(ii), 2, -1)
        return total_loss(exp, zi, ii, za, ai)
    return loss_fn


def build_model(exp: Experiment, name: str, s: int, unfrozen: bool) -> nn.ModuleDict:
    """The two projection heads (Linear → BatchNorm → ReLU → Dropout(0.5) → Linear, 128-d;
    §3.2), plus a trainable copy of the CNN for an unfrozen variant; seeded by ``s``.
    Notebook: 02_emoclim2024."""
    seed_everything(s)
    d_aud = exp.feats.views[name].shape[-1]
    model = nn.ModuleDict({
        "image": ProjectionHead(exp.feats.img_clean.shape[1], 256, exp.emb_dim, 0.5),
        "audio": ProjectionHead(d_aud, 256, exp.emb_dim, 0.5)})
    if unfrozen:
        model["encoder"] = copy.deepcopy(exp.enc.taggers[name]).train().requires_grad_(True)
    return model


def train_variant(exp: Experiment, variant: str, s: int) -> FitResult:
    """Train one Table 1 variant with training seed ``s`` (AdamW; the checkpoint with the
    lowest validation loss is kept). Notebook: 02_emoclim2024."""
    name, unfrozen = VARIANTS[variant]
    bud = exp.bud
    model = build_model(exp, name, s, unfrozen)
    if unfrozen:
        tr = sampler(exp, "train", bud.unfrozen_batches, bud.unfrozen_batch_size, s)
        va = list(sampler(exp, "val", 2, bud.unfrozen_batch_size, 10_000 + s))
        ep, loss_fn = bud.unfrozen_epochs, unfrozen_loss(exp, name)
    else:
        tr = sampler(exp, "train", bud.batches_per_epoch, bud.batch_size, s)
        va = list(sampler(exp, "val", 4, bud.batch_size, 10_000 + s))
        ep, loss_fn = bud.epochs, frozen_loss(exp, name)
    return fit(model, loss_fn, tr, va, epochs=ep, lr=bud.lr, optimizer="adamw",
               weight_decay=bud.weight_decay, seed=s, device=exp.device, progress=False)


def train_all(exp: Experiment, seeds: Sequence[int], variants: Iterable[str] = VARIANTS
              ) -> tuple[dict[tuple[str, int], FitResult], list[str]]:
    """Every variant for every training seed -> (runs by (variant, seed), report lines).
    Notebook: 02_emoclim2024."""
    runs, report = {}, []
    for variant in variants:
        for s in seeds:
            t1 = time.perf_counter()
            runs[variant, s] = train_variant(exp, variant, s)
        report.append(f"{exp.enc.label(variant):28s} best epoch "
                      f"{runs[variant, seeds[0]].best_epoch:2d} "
                      f"({(time.perf_counter() - t1):.1f} s per seed)")
    return runs, report


# --------------------------------------------------------------------------------------
# retrieval (Tables 1-2)
# --------------------------------------------------------------------------------------
@torch.no_grad()
def backbone_windows(exp: Experiment, runs: Mapping, variant: str, s: int | None,
                     paths: Sequence[str], use: str) -> torch.Tensor:
    """Backbone embeddings of the ``use`` windows of ``paths``, ``(len(paths), n_win, d)``:
    the cached frozen ones, or those of run (variant, s)'s fine-tuned CNN.
    Notebook: 02_emoclim2024."""
    name, unfrozen = VARIANTS[variant]
    if not unfrozen:
        rows = exp.feats.win_row[use, name]
        return exp.feats.windows[use, name][torch.as_tensor([rows[p] for p in paths])]
    cnn, win = runs[variant, s].model["encoder"].eval(), exp.enc.taggers[name].input_samples
    return torch.stack([F.normalize(cnn.embed(torch.as_tensor(windows_of(exp.reader(p), win, use))
                                              .to(exp.device)), dim=-1).cpu() for p in paths])


@torch.no_grad()
def music_embeddings(exp: Experiment, runs: Mapping, variant: str, s: int,
                     idx: np.ndarray) -> torch.Tensor:
    """Joint-space clip embeddings ``(len(idx), emb_dim)``: mean of the L2-normalised joint
    embeddings of the clip's 75 %-overlap windows. Notebook: 02_emoclim2024."""
    feats = backbone_windows(exp, runs, variant, s,
                             list(exp.data.music["audio_path"].iloc[idx]), "retrieval")
    z = (runs[variant, s].model.eval()["audio"](feats.flatten(0, 1))
         .view(feats.shape[0], feats.shape[1], -1))
    return F.normalize(z.mean(1), dim=-1)


@torch.no_grad()
def image_embeddings(exp: Experiment, run: FitResult, idx: np.ndarray) -> torch.Tensor:
    """Joint-space embeddings of the centre views of images ``idx``. Notebook: 02_emoclim2024."""
    return run.model.eval()["image"](exp.feats.img_clean[torch.as_tensor(idx)])


def direction_scores(zi: torch.Tensor, za: torch.Tensor, li: np.ndarray, la: np.ndarray
                     ) -> dict[str, metrics.RetrievalResult]:
    """:func:`emolib.metrics.retrieval_scores` (k = 5) of the four directions; intra-modal
    queries are excluded from their own gallery. Notebook: 02_emoclim2024."""
    pairs = {"image→music": (zi, za, li, la, False), "music→image": (za, zi, la, li, False),
             "image→image": (zi, zi, li, li, True), "music→music": (za, za, la, la, True)}
    return {d: metrics.retrieval_scores(q.numpy(), g.numpy(), lq, lg, k=5, exclude_self=intra)
            for d, (q, g, lq, lg, intra) in pairs.items()}


def retrieval(zi: torch.Tensor, za: torch.Tensor, li: np.ndarray, la: np.ndarray
              ) -> dict[str, tuple[float, float]]:
    """Macro P@5 and MRR in percent of the four directions (:func:`direction_scores`).
    Notebook: 02_emoclim2024."""
    return {d: (100 * r.macro_p_at_k, 100 * r.macro_mrr)
            for d, r in direction_scores(zi, za, li, la).items()}


RESULT_COLUMNS = ["table", "setting", "metric", "seed", "value"]


def _query_rows(setting: str, s: int, ids: np.ndarray, r: metrics.RetrievalResult
                ) -> pd.DataFrame:
    """One run's per-query P@5 and reciprocal rank (percent) in one direction."""
    per = r.per_query
    return pd.concat([pd.DataFrame({"setting": setting, "metric": metric, "item": ids,
                                    "stratum": per["label"].to_numpy(), "seed": int(s),
                                    "value": 100 * per[col].to_numpy(dtype=float)})
                      for metric, col in (("P@5", "p_at_k"), ("MRR", "reciprocal_rank"))],
                     ignore_index=True)


def table1_results(exp: Experiment, runs: Mapping[tuple[str, int], FitResult]
                   ) -> tuple[pd.DataFrame, dict[tuple[str, int], tuple[torch.Tensor, ...]],
                              pd.DataFrame]:
    """Table 1's rows (macro P@5 / MRR per variant, direction and seed), the test
    embeddings of every run, and the per-query results the claims bootstrap resamples
    (:data:`emolib.claims.ITEM_COLUMNS`; item = the query's item id, stratum = its label).
    Notebook: 02_emoclim2024."""
    test_img, test_aud = exp.test_items()
    li = exp.data.images["label"].to_numpy()[test_img]
    la = exp.data.music["label"].to_numpy()[test_aud]
    ids = {"image": exp.data.images["item_id"].to_numpy()[test_img],
           "music": exp.data.music["item_id"].to_numpy()[test_aud]}
    rows, emb, items = [], {}, []
    for (variant, s), run in runs.items():
        zi = image_embeddings(exp, run, test_img)
        za = music_embeddings(exp, runs, variant, s, test_aud)
        emb[variant, s] = (zi, za)
        for d, r in direction_scores(zi, za, li, la).items():
            setting = f"encoder={exp.enc.label(variant)}; direction={d}"
            rows += [("Table 1", setting, "P@5", s, 100 * r.macro_p_at_k),
                     ("Table 1", setting, "MRR", s, 100 * r.macro_mrr)]
            items.append(_query_rows(setting, s, ids[d.split("→")[0]], r))
    return (pd.DataFrame(rows, columns=RESULT_COLUMNS), emb,
            pd.concat(items, ignore_index=True))


def table2_results(results1: pd.DataFrame, enc: Encoders, seeds: Sequence[int]) -> pd.DataFrame:
    """Table 2's Emo-CLIM rows: image→music of the frozen Harmonic CNN and CLAP variants,
    named as the paper's methods. Notebook: 02_emoclim2024."""
    rows = []
    for variant, method in [("Harmonic CNN (frozen)", "Emo-CLIM (HCNN)"),
                            ("CLAP (frozen)", "Emo-CLIM (CLAP)")]:
        method = enc.label(method)
        setting = f"method={method}; input=Image; dataset=DeepEmotion"
        of = f"encoder={enc.label(variant)}; direction=image→music"
        for s in seeds:
            sel = results1[(results1["seed"] == s) & (results1["setting"] == of)]
            rows += [("Table 2", setting, m, s, float(sel.loc[sel["metric"] == m, "value"].iloc[0]))
                     for m in ("P@5", "MRR")]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# --------------------------------------------------------------------------------------
# tagging (Table 3)
# --------------------------------------------------------------------------------------
def tag_targets(tag_clips: pd.DataFrame, vocab: Sequence[str]) -> np.ndarray:
    """Multi-hot ``(n_clips, n_tags)`` float32 targets of the tagging clips.
    Notebook: 02_emoclim2024."""
    index = {t: j for j, t in enumerate(vocab)}
    y = np.zeros((len(tag_clips), len(vocab)), dtype=np.float32)
    for i, tags_i in enumerate(tag_clips["tags"]):
        for tag in tags_i:
            y[i, index[tag]] = 1.0
    return y


def _tag_loaders(feats: torch.Tensor, y: torch.Tensor, split: np.ndarray, s: int):
    """Training windows (shuffled with seed ``s``, batch 128) and the validation windows."""
    n, w, d = feats.shape
    tr, va = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    xtr, ytr = feats[tr].reshape(-1, d), y[tr].repeat_interleave(w, 0)
    g = torch.Generator().manual_seed(s)
    train_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr),
                                           batch_size=128, shuffle=True, generator=g,
                                           drop_last=len(xtr) > 128)
    return train_dl, [(feats[va].reshape(-1, d), y[va].repeat_interleave(w, 0))]


def tag_head_scores(feats: torch.Tensor, y_tag: np.ndarray, split: np.ndarray, s: int,
                    epochs: int, weight_decay: float = WEIGHT_DECAY) -> tuple[float, float]:
    """Train the tagging head (Linear → BatchNorm → ReLU → Linear, BCE, AdamW 1e-3 with
    ``weight_decay``) on the
    training clips' windows, keep the best validation loss → macro (ROC-AUC, PR-AUC) of the
    test clips' mean window sigmoid. Notebook: 02_emoclim2024."""
    n, w, d = feats.shape
    train_dl, val_dl = _tag_loaders(feats, torch.as_tensor(y_tag), split, s)
    seed_everything(s)
    head = MLPClassifier(d, y_tag.shape[1])
    bce = nn.BCEWithLogitsLoss()
    res = fit(head, lambda m, b: bce(m(b[0]), b[1]), train_dl, val_dl, epochs=epochs, lr=1e-3,
              optimizer="adamw", weight_decay=weight_decay, seed=s, progress=False)
    te = np.flatnonzero(split == "test")
    with torch.no_grad():
        prob = (torch.sigmoid(res.model.eval()(feats[te].reshape(-1, d)))
                .view(len(te), w, -1).mean(1))
    return metrics.tagging_auc(y_tag[te], prob.numpy())


@torch.no_grad()
def branch_features(exp: Experiment, runs: Mapping, variant: str, s: int) -> torch.Tensor:
    """Joint-space window embeddings of every tagging clip through the trained audio branch.
    Notebook: 02_emoclim2024."""
    feats = backbone_windows(exp, runs, variant, s, list(exp.data.tag_clips["audio_path"]),
                             "tagging")
    return runs[variant, s].model.eval()["audio"](feats.flatten(0, 1)).view(
        feats.shape[0], feats.shape[1], -1)


@torch.no_grad()
def supervised_baseline(exp: Experiment, name: str, y_tag: np.ndarray) -> tuple[float, float]:
    """The pre-trained tagger's own head: mean sigmoid over the tagging windows of the test
    clips → macro (ROC-AUC, PR-AUC). Notebook: 02_emoclim2024."""
    cnn, win = exp.enc.taggers[name].eval(), exp.enc.taggers[name].input_samples
    clips = exp.data.tag_clips
    te = np.flatnonzero(clips["split"].to_numpy() == "test")
    prob = np.stack([torch.sigmoid(cnn(torch.as_tensor(windows_of(exp.reader(p), win, "tagging"))
                                       .to(exp.device))).mean(0).cpu().numpy()
                     for p in clips["audio_path"].iloc[te]])
    return metrics.tagging_auc(y_tag[te], prob)


#: Table 3's Emo-CLIM rows: (variant, method, pre-training).
TABLE3_EMOCLIM = [("Harmonic CNN (frozen)", "Emo-CLIM (HCNN)", "MT → SupCon"),
                  ("Harmonic CNN (unfrozen)", "Emo-CLIM (HCNN unfrozen)", "MT → SupCon"),
                  ("CLAP (frozen)", "Emo-CLIM (CLAP)", "SSL → SupCon")]


def _auc_rows(method: str, pre: str, s: int, roc: float, pr: float) -> list[tuple]:
    setting = f"method={method}; pretraining={pre}"
    return [("Table 3", setting, "ROC-AUC", s, 100 * roc),
            ("Table 3", setting, "PR-AUC", s, 100 * pr)]


def table3_results(exp: Experiment, runs: Mapping, seeds: Sequence[int]) -> pd.DataFrame:
    """Table 3: the supervised taggers' own heads (one model each, world seed), the CLAP
    role's frozen features and the Emo-CLIM audio branches (per training seed) under the
    tagging probe. Notebook: 02_emoclim2024."""
    y_tag = tag_targets(exp.data.tag_clips, exp.data.tag_vocab)
    split = exp.data.tag_clips["split"].to_numpy()
    epochs, wd, rows = exp.bud.tag_epochs, exp.bud.weight_decay, []
    for name, method in [("Short-Chunk CNN", "Short-Chunk CNN [16]"),
                         ("Harmonic CNN", "Harmonic CNN [17]")]:
        rows += _auc_rows(method, "MT", exp.seed, *supervised_baseline(exp, name, y_tag))
    clap_feats = backbone_windows(exp, runs, "CLAP (frozen)", None,
                                  list(exp.data.tag_clips["audio_path"]), "tagging")
    clap_method = "CLAP [13]" if exp.enc.clap_name == "CLAP" else exp.enc.clap_name
    for s in seeds:
        rows += _auc_rows(clap_method, "SSL", s, *tag_head_scores(clap_feats, y_tag, split, s,
                                                                  epochs, wd))
    for variant, method, pre in TABLE3_EMOCLIM:
        for s in seeds:
            rows += _auc_rows(exp.enc.label(method), pre, s, *tag_head_scores(
                branch_features(exp, runs, variant, s), y_tag, split, s, epochs, wd))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# --------------------------------------------------------------------------------------
# table notes
# --------------------------------------------------------------------------------------
def table_notes(enc: Encoders) -> list[str]:
    """What the stand-in encoders are, for every table's notes. Notebook: 02_emoclim2024."""
    notes = []
    if enc.clap_name != "CLAP":
        notes.append(f"{enc.clap_name}: a small text–audio contrastive model trained on the "
                     "emotion world's captions in the CLAP role (no CLAP weights offline); its "
                     "rows are not CLAP and are listed apart from the published CLAP rows.")
    if enc.image_name != "CLIP":
        notes.append(f"Image encoder: {enc.image_name} in the CLIP role (no CLIP weights "
                     "offline); its auxiliary pre-training targets include the images' latent "
                     "valence/arousal, an emotion signal that generic CLIP features do not "
                     "receive explicitly.")
    return notes


def unfrozen_note(bud: Budget) -> str:
    """How long the unfrozen rows were fine-tuned. Notebook: 02_emoclim2024."""
    return (f"Unfrozen rows: the audio CNN is fine-tuned for {bud.unfrozen_epochs} epoch(s) of "
            f"{bud.unfrozen_batches} batches of {bud.unfrozen_batch_size} in this profile "
            "(paper: batch 64 until the validation loss stops improving)" + (
                ", far too little to converge: these rows show the pipeline, not the method's "
                "result." if bud.profile != "paper" else "."))


def table3_notes(exp: Experiment, seeds: Sequence[int],
                 audio_checkpoints: Mapping[str, str] | None) -> list[str]:
    """Table 3's notes: where the baselines come from and which clips are tagged.
    Notebook: 02_emoclim2024."""
    if exp.data.world is not None:
        return [f"Supervised baselines: the pre-trained taggers' own heads, one model each "
                f"(world seed {exp.seed}); the other rows: mean ± std over training seeds "
                f"{list(seeds)}.",
                "Tagging here uses the same clips and tags (mood tags included) that "
                "pre-trained the taggers, and the SupCon heads were trained on the clips' "
                "emotion labels; the paper tags MagnaTagATune, a dataset none of its models "
                "was trained on."]
    return ["Supervised baselines: the heads of the loaded tagger checkpoints "
            f"({', '.join(Path(p).name for p in audio_checkpoints.values())}), one model each; "
            f"the other rows: mean ± std over training seeds {list(seeds)}.",
            f"Tagging: {len(exp.data.tag_clips)} MagnaTagATune clips with "
            f"{len(exp.data.tag_vocab)} tags; whether the checkpoints saw these clips in "
            "training depends on where they come from."]


# --------------------------------------------------------------------------------------
# claims
# --------------------------------------------------------------------------------------
def claims_for_run(claim_rows: pd.DataFrame, enc: Encoders) -> pd.DataFrame:
    """The claims file with its settings named as this run's rows: "CLAP" becomes the
    CLAP-role stand-in's label offline (the claim text and the published values stay the
    paper's). Notebook: 02_emoclim2024."""
    out = claim_rows.copy()
    for col in ("setting_a", "setting_b"):
        out[col] = [enc.label(v) if v.startswith("encoder=") else v for v in out[col]]
    return out


#: Why a claim has no per-item test here (by the start of its setting or its metric).
NOT_RUN_WHY = {
    "method=[7]": "A (image queries) and B (Won et al.'s text queries) rank different query "
                  "sets: no paired bootstrap; notebook 01 tests [7] on the world",
    "AUC": "macro ROC-/PR-AUC is computed over tags, not a mean over test items: no per-item "
           "bootstrap (Table 3 gives mean ± s.d. over training seeds)",
}


def not_run_notes(claims_table: pd.DataFrame) -> pd.DataFrame:
    """Fill the ``note`` of each "not run" claim with why it has no per-item test here
    (:data:`NOT_RUN_WHY`). Notebook: 02_emoclim2024."""
    out = claims_table.copy()
    for i, r in out.iterrows():
        if r["verdict"] != "not run":
            continue
        why = [text for key, text in NOT_RUN_WHY.items()
               if key in r["metric"] or str(r["setting_b"]).startswith(key)]
        out.at[i, "note"] = why[0] if why else r["note"]
    return out
