"""The official sota-music-tagging-models checkpoints → emolib's tagging CNNs.

Won et al. (2020), "Evaluation of CNN-based automatic music tagging models", code at
github.com/minzwon/sota-music-tagging-models: ``training/model.py`` defines
``ShortChunkCNN``, ``ShortChunkCNN_Res`` and ``HarmonicCNN`` (``training/modules.py`` their
blocks ``Conv_2d``, ``Res_2d``, ``Res_2d_mp`` and the ``HarmonicSTFT`` front end), and the
released weights ``models/{mtat,msd,jamendo}/{short,short_res,hcnn}/best_model.pth`` are
plain ``state_dict``\\ s of those modules. This module renames them to the layer names of
:class:`emolib.encoders.audio.ShortChunkCNN`, :class:`~emolib.encoders.audio.ShortChunkResNet`
and :class:`~emolib.encoders.audio.HarmonicCNN` (same layers, same tensor shapes):

=========================================  ============================================
official                                   emolib
=========================================  ============================================
``spec_bn.*`` (short, short_res)           ``spec_bn.*``
``hstft_bn.*`` (hcnn)                      ``hfb_bn.*``
``hstft.bw_Q`` (hcnn, learnable Q)         ``hfb.q``
``layer{i}.conv|bn.*`` (``Conv_2d``)       ``layers.{i-1}.conv|bn.*``
``layer{i}.conv_1|bn_1|conv_2|bn_2.*``     ``layers.{i-1}.conv1|bn1|conv2|bn2.*``
``layer{i}.conv_3|bn_3.*`` (``Res_2d``)    ``layers.{i-1}.shortcut.0|shortcut.1.*``
``dense1.*`` / ``bn.*`` / ``dense2.*``     ``head.net.0.*`` / ``head.net.1.*`` / ``head.net.4.*``
``spec.spectrogram.window``,               not loaded: emolib computes its fixed front end;
``spec.mel_scale.fb``, ``hstft.spec.window``  :func:`check_official_frontend` compares them
=========================================  ============================================

Differences from the official models, handled here or by the loader:

* Mel front end: the official models use ``torchaudio.transforms.MelSpectrogram`` (HTK mel
  scale, unnormalised triangular filters); emolib's default :class:`MelSpectrogram` uses
  librosa's Slaney scale and Slaney normalisation. Official weights need
  :data:`OFFICIAL_MEL_KWARGS` (``htk=True, norm=None``), which
  :func:`emolib.encoders.audio.load_tagger_checkpoint` passes for an official checkpoint;
  a model with another front end is refused (:func:`check_official_frontend`).
* Output: the official ``forward`` ends in a sigmoid (tag probabilities); emolib's head
  returns logits (apply ``torch.sigmoid``).
* A Harmonic CNN trained with ``learn_bw='fix'`` saves no ``hstft.bw_Q``; emolib's Harmonic
  CNN learns Q, so such a checkpoint is refused (the released ones learn Q).
* ``Won2021ResNet`` (the ISMIR 2021 text2music model) has no counterpart in this repository;
  the other official models (FCN, Musicnn, CRNN, SampleCNN(SE), CNNSA) have none in emolib.

Notebooks: 02_emoclim2024 (real-data path: the MSD short-chunk CNN / ResNet and Harmonic
CNN weights), through :func:`emolib.encoders.audio.load_tagger_checkpoint`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import librosa
import torch

from emolib.numba_cache import prime_librosa

prime_librosa()  # librosa's numba kernels, compiled by one process at a time

if TYPE_CHECKING:  # pragma: no cover - typing only
    from emolib.encoders.audio import TaggingCNN

__all__ = [
    "OFFICIAL_MEL_KWARGS",
    "OFFICIAL_MODEL_TYPES",
    "is_official_state_dict",
    "official_arch",
    "official_name_map",
    "convert_official_state_dict",
    "check_official_frontend",
]

log = logging.getLogger(__name__)

#: ``mel_kwargs`` of emolib's :class:`~emolib.encoders.audio.MelSpectrogram` that reproduce
#: the official models' ``torchaudio.transforms.MelSpectrogram`` filterbank.
OFFICIAL_MEL_KWARGS: dict[str, object] = {"htk": True, "norm": None}

#: The official ``--model_type`` names → emolib architecture names (``audio.ARCHS``).
OFFICIAL_MODEL_TYPES = {"short": "short_chunk_cnn", "short_res": "short_chunk_resnet",
                        "hcnn": "harmonic_cnn"}

# The official torchaudio front-end defaults (training/model.py): 16 kHz, n_fft 512,
# 128 mels over 0–8000 Hz.
_OFFICIAL_MEL = {"sr": 16000, "n_fft": 512, "n_mels": 128, "fmin": 0.0, "fmax": 8000.0}

# Fixed front-end tensors of the official checkpoints: compared, not loaded.
_FRONTEND_KEYS = {
    "short_chunk_cnn": ("spec.spectrogram.window", "spec.mel_scale.fb"),
    "short_chunk_resnet": ("spec.spectrogram.window", "spec.mel_scale.fb"),
    "harmonic_cnn": ("hstft.spec.window",),
}

# Official block type of layer1..layer7 → {official submodule: emolib submodule}.
_CONV_2D = {"conv": "conv", "bn": "bn"}
_RES_2D_MP = {"conv_1": "conv1", "bn_1": "bn1", "conv_2": "conv2", "bn_2": "bn2"}
_RES_2D = {**_RES_2D_MP, "conv_3": "shortcut.0", "bn_3": "shortcut.1"}
_BLOCKS = {
    "short_chunk_cnn": [_CONV_2D] * 7,
    "short_chunk_resnet": [_RES_2D] * 7,
    "harmonic_cnn": [_CONV_2D, _RES_2D_MP, _RES_2D_MP, _RES_2D_MP, _CONV_2D, _RES_2D_MP,
                     _RES_2D_MP],
}
_STEM = {
    "short_chunk_cnn": {"spec_bn": "spec_bn"},
    "short_chunk_resnet": {"spec_bn": "spec_bn"},
    "harmonic_cnn": {"hstft_bn": "hfb_bn"},
}
_HEAD = {"dense1": "head.net.0", "bn": "head.net.1", "dense2": "head.net.4"}

_OFFICIAL_KEY = re.compile(r"^(layer\d+|dense\d*|spec|hstft|hstft_bn)\.")


def _strip(key: str) -> str:
    return key.removeprefix("module.")


def is_official_state_dict(state: Mapping[str, object]) -> bool:
    """Whether ``state`` uses the naming of sota-music-tagging-models' ``training/model.py``.

    True when a key starts with ``layer<N>.``, ``dense…``, ``spec.`` or ``hstft`` (emolib's
    tagging CNNs name their blocks ``layers.<N>`` and their head ``head.net``). A
    ``module.`` prefix (DataParallel) is ignored. Notebook: 02_emoclim2024 (real-data path).
    """
    return any(_OFFICIAL_KEY.match(_strip(k)) for k in state)


def official_arch(state: Mapping[str, object]) -> str | None:
    """The emolib architecture of an official checkpoint, or None if ``state`` is not official.

    ``hstft`` keys → ``"harmonic_cnn"`` (official ``HarmonicCNN``); ``layer1..7`` of
    ``Res_2d`` blocks (``conv_1``, ``conv_3``) with ``spec_bn`` → ``"short_chunk_resnet"``
    (``ShortChunkCNN_Res``; the official ``BoCCNN`` has the same layers); ``layer1..7`` of
    ``Conv_2d`` blocks with ``spec_bn`` and ``dense1`` → ``"short_chunk_cnn"``
    (``ShortChunkCNN``). Any other official model → ``ValueError``.
    Notebook: 02_emoclim2024 (real-data path).
    """
    if not is_official_state_dict(state):
        return None
    keys = {_strip(k) for k in state}
    layers = {int(m.group(1)) for k in keys if (m := re.match(r"layer(\d+)\.", k))}
    mods = {k.rsplit(".", 1)[0] for k in keys}
    if any(k.startswith(("hstft.", "hstft_bn.")) for k in keys):
        return "harmonic_cnn"
    seven = bool(layers) and max(layers) == 7
    plain_2d = all(_state_ndim(state, k) in (None, 4) for k in keys
                   if re.match(r"layer\d+\.conv(_\d)?\.weight$", k))
    if seven and plain_2d and "spec_bn" in mods and not any(k.startswith("encoder.")
                                                              for k in keys):
        if any(re.match(r"layer\d+\.conv_1$", m) for m in mods):
            return "short_chunk_resnet"
        if any(re.match(r"layer\d+\.conv$", m) for m in mods) and "dense1" in mods:
            return "short_chunk_cnn"
    raise ValueError(
        "the checkpoint uses sota-music-tagging-models' names but is none of the models "
        f"emolib converts ({', '.join(f'{o!r} = {a}' for o, a in OFFICIAL_MODEL_TYPES.items())}"
        "); FCN, Musicnn, CRNN, SampleCNN(SE) and CNNSA have no emolib counterpart "
        f"(layers {sorted(layers)}, first keys {sorted(keys)[:5]})")


def _state_ndim(state: Mapping[str, object], key: str) -> int | None:
    """``state[key].ndim`` (``module.``-prefixed keys too), None when absent or not a tensor."""
    for k in (key, f"module.{key}"):
        v = state.get(k)
        if isinstance(v, torch.Tensor):
            return v.ndim
    return None


def official_name_map(arch: str) -> dict[str, str]:
    """Official module name → emolib module name for one architecture (see the module doc).

    Module names, not tensor names: ``"layer3.conv_1" → "layers.2.conv1"``; a tensor keeps
    its last component (``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked``; ``hstft.bw_Q`` is the one parameter renamed, to ``hfb.q``).
    Notebook: 02_emoclim2024 (real-data path).
    """
    if arch not in _BLOCKS:
        raise ValueError(_no_counterpart(arch))
    out = dict(_STEM[arch])
    for i, block in enumerate(_BLOCKS[arch], start=1):
        out.update({f"layer{i}.{o}": f"layers.{i - 1}.{e}" for o, e in block.items()})
    out.update(_HEAD)
    return out


def _no_counterpart(arch: str) -> str:
    if arch == "won2021_resnet":
        return ("won2021_resnet (the ISMIR 2021 text2music audio CNN) has no counterpart in "
                "sota-music-tagging-models; its checkpoints need emolib's layer names")
    return (f"no official sota-music-tagging-models counterpart for arch {arch!r}; "
            f"convertible: {sorted(_BLOCKS)}")


def convert_official_state_dict(state: Mapping[str, torch.Tensor],
                                arch: str) -> dict[str, torch.Tensor]:
    """Rename an official sota-music-tagging-models ``state_dict`` to emolib's layer names.

    ``arch`` is the emolib architecture (``"short_chunk_cnn"``, ``"short_chunk_resnet"``,
    ``"harmonic_cnn"``); it must be the one the checkpoint holds (:func:`official_arch`),
    else ``ValueError``. Tensors are passed through unchanged (same shapes in both code
    bases); the fixed front-end tensors (``spec.spectrogram.window``, ``spec.mel_scale.fb``,
    ``hstft.spec.window``) are dropped — emolib computes its front end, and
    :func:`check_official_frontend` compares them with a model's. An official key with no
    emolib counterpart → ``ValueError`` listing it; a Harmonic CNN checkpoint without a
    learnt Q (``hstft.bw_Q``) → ``ValueError``. Missing tensors are left to the strict
    loader (:func:`emolib.encoders.audio.load_tagger_state_dict`), which lists them.

    Notebook: 02_emoclim2024 (real-data path, through ``load_tagger_checkpoint``).
    """
    if arch not in _BLOCKS:
        raise ValueError(_no_counterpart(arch))
    found = official_arch(state)
    if found is None:
        raise ValueError(f"not an official sota-music-tagging-models state_dict (first keys "
                         f"{list(state)[:5]}); expected names like 'layer1.conv.weight'")
    if found != arch:
        inv = {a: o for o, a in OFFICIAL_MODEL_TYPES.items()}
        raise ValueError(f"the checkpoint is the official {inv[found]!r} model ({found}), "
                         f"not {inv[arch]!r} ({arch})")
    names = official_name_map(arch)
    frontend = set(_FRONTEND_KEYS[arch])
    out: dict[str, torch.Tensor] = {}
    unmapped: list[str] = []
    for raw_key, value in state.items():
        key = _strip(raw_key)
        if key in frontend:
            continue
        if key == "hstft.bw_Q":
            out["hfb.q"] = value
            continue
        module, _, tensor = key.rpartition(".")
        if module in names:
            out[f"{names[module]}.{tensor}"] = value
        else:
            unmapped.append(key)
    if unmapped:
        raise ValueError(f"{len(unmapped)} tensor(s) of the official {arch} checkpoint have no "
                         f"emolib counterpart: {', '.join(unmapped[:10])}"
                         + (f" (+{len(unmapped) - 10} more)" if len(unmapped) > 10 else ""))
    if arch == "harmonic_cnn" and "hfb.q" not in out:
        raise ValueError("official Harmonic CNN checkpoint without 'hstft.bw_Q': it was trained "
                         "with learn_bw='fix' (Q not saved); emolib's HarmonicCNN learns Q "
                         "(hfb.q) like the official default learn_bw='only_Q' and cannot tell "
                         "which fixed Q was used")
    return out


def _official_mel_fb(state: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, str]:
    """The official model's mel filterbank as (n_mels, n_freq) and where it came from."""
    fb = state.get("spec.mel_scale.fb")
    if isinstance(fb, torch.Tensor) and fb.numel() > 0:
        return fb.detach().float().T, "the checkpoint's spec.mel_scale.fb"
    # Old torchaudio builds the filterbank lazily: a checkpoint saved before the first
    # forward pass holds an empty buffer. The official defaults then define it.
    ref = librosa.filters.mel(sr=_OFFICIAL_MEL["sr"], n_fft=_OFFICIAL_MEL["n_fft"],
                              n_mels=_OFFICIAL_MEL["n_mels"], fmin=_OFFICIAL_MEL["fmin"],
                              fmax=_OFFICIAL_MEL["fmax"], htk=True, norm=None)
    origin = "the official defaults (16 kHz, n_fft 512, 128 HTK mels 0-8000 Hz)"
    return torch.as_tensor(ref, dtype=torch.float32), origin


def check_official_frontend(state: Mapping[str, torch.Tensor], model: TaggingCNN,
                            source: str = "state_dict") -> None:
    """Check that ``model``'s fixed front end is the one an official checkpoint was trained on.

    Mel models: the model's mel filterbank must equal the checkpoint's
    ``spec.mel_scale.fb`` (transposed; an empty one, as saved by old torchaudio before the
    first forward pass, stands for the official defaults), up to 1e-4; the STFT window
    (``spec.spectrogram.window`` / ``hstft.spec.window``) must be the model's (length
    n_fft, periodic Hann). A difference → ``ValueError`` naming ``source`` and saying what
    differs (e.g. emolib's default Slaney filterbank instead of torchaudio's HTK one).

    Notebook: 02_emoclim2024 (real-data path, through ``load_tagger_checkpoint``).
    """
    state = {_strip(k): v for k, v in state.items()}
    arch = official_arch(state)
    if arch is None:
        return
    front = getattr(model, "frontend", None)
    if arch in ("short_chunk_cnn", "short_chunk_resnet"):
        mel_fb = getattr(front, "mel_fb", None)
        if mel_fb is None:
            raise ValueError(f"{source}: official {arch} checkpoint (mel front end), but "
                             f"{type(model).__name__} has no mel front end")
        ref, origin = _official_mel_fb(state)
        ours = mel_fb.detach().float().cpu()
        if ours.shape != ref.shape:
            raise ValueError(f"{source}: mel filterbank differs: {origin} is {tuple(ref.shape)} "
                             f"(mels × FFT bins), the model's {tuple(ours.shape)}")
        diff = float((ours - ref).abs().max())
        if diff > 1e-4:
            raise ValueError(
                f"{source}: the official checkpoint was trained on torchaudio's mel filterbank "
                f"({origin}: HTK mel scale, unnormalised filters); the model's differs by up "
                f"to {diff:.3g} (emolib's default is librosa's Slaney scale and Slaney norm). "
                f"Build it with mel_kwargs={OFFICIAL_MEL_KWARGS} (load_tagger_checkpoint "
                "does so for official checkpoints)")
        window, ours_w = state.get("spec.spectrogram.window"), front.spectrogram.window
    else:
        window, ours_w = state.get("hstft.spec.window"), getattr(front, "window", None)
    if isinstance(window, torch.Tensor) and ours_w is not None:
        same = (window.shape == ours_w.shape
                and float((window.float() - ours_w.cpu()).abs().max()) <= 1e-6)
        if not same:
            raise ValueError(f"{source}: STFT window differs: the checkpoint's has "
                             f"{window.numel()} samples, the model's is a periodic Hann window "
                             f"of {ours_w.numel()} (n_fft)")
