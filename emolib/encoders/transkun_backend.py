"""transkun 2.0 as an optional transcription backend (``get_backend("transkun")``).

**Model.** transkun 2.0 (Yujia Yan and Zhiyao Duan, "Scoring intervals using
non-hierarchical transformer for automatic piano transcription", Proc. ISMIR 2024,
arXiv:2404.09466; successor of Yan, Cwitkowitz & Duan, "Skipping the frame-level:
event-based piano transcription with neural semi-CRFs", NeurIPS 2021): a transformer over a
(time x mel-frequency) grid of a 229-band log-mel spectrogram (44.1 kHz, hop 1024, window
4096 and 5 learned extra windows) scores every (onset frame, offset frame) interval of each
of the 88 keys and of the sustain / soft pedals; a semi-CRF decodes non-overlapping
intervals per key, and two small heads add the velocity and sub-frame onset/offset
refinements. Trained on MAESTRO (the shipped checkpoint: without pedal extension of notes,
with data augmentation). 13.6 M parameters. Code and weights: the ``transkun`` wheel
(``transkun/pretrained/2.0.pt`` and ``2.0.conf``), MIT licence.

**Install.** ``pip install --no-deps transkun==2.0.1 moduleconf==0.1.4``: the wheel declares
torchaudio, ncls, sox, pydub, tensorboard and torch-optimizer, none needed for inference.
What inference imports: ``moduleconf`` (reads the ``.conf``) and
``transkun.ModelTransformer`` with what it imports itself (``Data``, ``Util``,
``Evaluation`` -> mir_eval, ``LayersTransformer``, ``CRF``); ``ncls`` and ``sox`` are
imported inside training-data functions only. We never import ``transkun.transcribe`` (the
CLI, which reads audio with pydub), ``train`` / ``TrainUtil`` (torch-optimizer, tensorboard)
or the ablation modules.

**torchaudio shim.** transkun's only torchaudio call is
``torchaudio.functional.melscale_fbanks`` (``MelSpectrum.__init__``, to build its mel filter
bank), and no torchaudio wheel matches torch 2.13. While the model is built, and only if the
real torchaudio is not importable, :func:`emolib.encoders.torchaudio_compat.torchaudio_stub`
registers a one-function stand-in and removes it afterwards (so no other library mistakes it
for torchaudio). The bank is also a buffer of the checkpoint, so the strict load replaces
ours with the one transkun was trained with (they are bit-identical anyway).

**Inference** (transkun's own ``TransKun.transcribe``, unchanged): mono audio resampled to
44.1 kHz; padded by ``segment - hop`` seconds on both sides; cut into ``segment_seconds``
windows (conf: 16 s) every ``hop_seconds`` (conf: 8 s); each window is gain-normalised (its
own mean / std), turned into log-mel frames (hop 1024), scored and decoded with the start
positions forced by the previous window; notes cut by a window edge are merged, zero-length
ones dropped. An L-second clip costs ``ceil(L / hop) + 2`` windows, so even a 2-s clip costs
three 16-s windows. Keep 16-s windows: on a rendered scale, 4- to 12-s windows missed most
notes (train.py's default training chunk is the conf's 16 s). With
``hop_seconds == segment_seconds`` there is no lead padding and a note starting at 0 s is
dropped (its onset falls on the first frame). Resampling: ``soxr.resample(...,
quality="HQ")`` (what transkun's CLI uses; a fixed polyphase filter, so the same input gives
the same output) in float64, then float32.
Velocities are transkun's most probable class, clipped to 1..127.

**Pedals** are decoded by the model too (MIDI controllers 64 sustain and 67 soft, as "pitches"
-64 / -67); :meth:`TranskunBackend.transcribe` returns notes only (the backend API,
``list[Note]``) and :meth:`TranskunBackend.transcribe_events` returns notes and
:class:`PedalEvent` s separately.

**Speed.** Slow on a CPU: ~17-25 s of CPU time per 16-s window (2 threads), i.e. ~60-70 s
of CPU per 10 s of audio (four windows), ~1.5 GB peak RSS; meant for ``profile="paper"`` or a
GPU (``device="cuda"``). The model is loaded once per (checkpoint, conf, device) and process.

Notebook: 04_zhu2023.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from emolib import provenance
from emolib.encoders.symbolic import Note

__all__ = ["TranskunBackend", "PedalEvent", "load_transkun", "check_state_dict",
           "default_files", "INSTALL", "PEDAL_CONTROLS"]

log = logging.getLogger(__name__)

INSTALL = "pip install --no-deps transkun==2.0.1 moduleconf==0.1.4"
PEDAL_CONTROLS = {64: "sustain", 67: "soft"}  #: transkun's pedal "pitches" are -64 and -67

#: loaded models, per (checkpoint, conf, device) — one copy per process
_MODELS: dict[tuple[str, str, str], nn.Module] = {}


class PedalEvent(NamedTuple):
    """One pedal press: MIDI controller (64 sustain, 67 soft), onset and offset in seconds."""

    control: int
    onset: float
    offset: float


def _require_transkun() -> Path:
    """The installed transkun package folder, or an ImportError with the install command."""
    missing = [m for m in ("transkun", "moduleconf") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"the 'transkun' backend needs {' and '.join(missing)}: {INSTALL} "
                          "(a plain install pulls torchaudio, tensorboard, sox, ...)")
    spec = importlib.util.find_spec("transkun")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"transkun is not an installed package: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations)))


def default_files() -> tuple[Path, Path]:
    """``(checkpoint, conf)`` of the pretrained transkun 2.0 inside the wheel."""
    pkg = _require_transkun()
    return pkg / "pretrained" / "2.0.pt", pkg / "pretrained" / "2.0.conf"


def check_state_dict(model: nn.Module, state_dict: Mapping[str, Any], source: str = "") -> None:
    """Raise ``ValueError`` naming every missing and unexpected key unless ``state_dict``
    has exactly the keys of ``model.state_dict()`` (shapes are checked by the load)."""
    expected, given = set(model.state_dict()), set(state_dict)
    missing, unexpected = sorted(expected - given), sorted(given - expected)
    if missing or unexpected:
        where = f" {source}" if source else ""
        raise ValueError(f"transkun checkpoint{where} does not match the model: "
                         f"missing keys {missing}, unexpected keys {unexpected}")


def _build(conf: Path) -> nn.Module:
    """The (untrained) transkun model described by a moduleconf ``.conf`` file."""
    import moduleconf

    from emolib.encoders.torchaudio_compat import torchaudio_stub

    manager = moduleconf.parseFromFile(str(conf))  # imports the conf's module (ModelTransformer)
    if "Model" not in manager:
        raise ValueError(f"transkun conf {conf} has no 'Model' entry")
    entry = manager["Model"]
    model_cls = getattr(entry.module, "TransKun", None)
    if model_cls is None:
        raise ValueError(f"transkun conf {conf}: module {entry.moduleName!r} has no TransKun")
    # transkun.Util.MelSpectrum.__init__ runs "import torchaudio" (for melscale_fbanks only)
    with torchaudio_stub():
        return model_cls(conf=entry.config)


def load_transkun(checkpoint: str | os.PathLike[str] | None = None,
                  conf: str | os.PathLike[str] | None = None, device: str = "cpu") -> nn.Module:
    """The transkun model with its weights (strict: exact key match), in eval mode, cached
    per (checkpoint, conf, device) for the process. Defaults: the wheel's pretrained 2.0."""
    ck_default, conf_default = default_files()
    ck = Path(checkpoint).expanduser() if checkpoint is not None else ck_default
    cf = Path(conf).expanduser() if conf is not None else conf_default
    for name, p in (("checkpoint", ck), ("conf", cf)):
        if not p.is_file():
            raise FileNotFoundError(f"transkun {name} not found: {p}")
    key = (str(ck.resolve()), str(cf.resolve()), str(torch.device(device)))
    if key in _MODELS:
        return _MODELS[key]
    model = _build(cf)
    saved = torch.load(ck, map_location="cpu", weights_only=True)
    if not isinstance(saved, Mapping):
        raise ValueError(f"transkun checkpoint {ck} is not a dict")
    # transkun.transcribe prefers "best_state_dict" when present (2.0.pt has "state_dict")
    state = saved.get("best_state_dict", saved.get("state_dict"))
    if not isinstance(state, Mapping):
        raise ValueError(f"transkun checkpoint {ck} has neither 'best_state_dict' nor "
                         f"'state_dict' (keys: {sorted(saved)})")
    check_state_dict(model, state, str(ck))
    model.load_state_dict(state, strict=True)
    model = model.to(device).eval()
    # transkun's Backbone wraps each layer in torch.utils.checkpoint even in eval mode
    # (useGradientCheckpoint=True); without gradients that only costs time and warnings.
    if hasattr(model, "backbone") and hasattr(model.backbone, "useGradientCheckpoint"):
        model.backbone.useGradientCheckpoint = False
    for p in model.parameters():
        p.requires_grad_(False)
    log.info("transkun: loaded %s (%.1f M parameters) on %s", ck.name,
             sum(p.numel() for p in model.parameters()) / 1e6, device)
    _MODELS[key] = model
    return model


def _check_audio(audio: np.ndarray, sr: int) -> np.ndarray:
    """``audio`` as a float64 1-D array, or ValueError naming the bad parameter."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    y = np.asarray(audio)
    if y.dtype.kind not in "fiu":
        raise ValueError(f"audio must be a real-valued numeric array, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"audio must be a 1-D (mono) signal, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("audio is empty")
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise ValueError("audio contains NaN or infinite samples")
    return y


class TranskunBackend:
    """Piano transcription with transkun 2.0 (Yan & Duan, ISMIR 2024; MAESTRO).

    Args:
        device: torch device of the model (``"cpu"`` or e.g. ``"cuda"``).
        checkpoint, conf: transkun weights and moduleconf file (default: the wheel's
            pretrained ``2.0.pt`` / ``2.0.conf``).
        segment_seconds, hop_seconds: transkun's window and hop (default: the conf's 16 s
            and 8 s). Keep 16-s windows (shorter ones are cheaper but miss notes, see the
            module docstring); ``hop_seconds == segment_seconds`` processes a clip of up
            to one window in a single pass (no overlap, no lead padding).

    :meth:`transcribe` returns notes only; :meth:`transcribe_events` also the pedals.
    Records the model in :mod:`emolib.provenance`.
    """

    def __init__(self, device: str = "cpu", checkpoint: str | os.PathLike[str] | None = None,
                 conf: str | os.PathLike[str] | None = None,
                 segment_seconds: float | None = None,
                 hop_seconds: float | None = None) -> None:
        for name, v in (("segment_seconds", segment_seconds), ("hop_seconds", hop_seconds)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or not math.isfinite(v) or v <= 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {v!r} "
                                 "(need 0 < hop_seconds <= segment_seconds)")
        self.model = load_transkun(checkpoint, conf, device)
        self.device = device
        seg = float(self.model.segmentSizeInSecond if segment_seconds is None
                    else segment_seconds)
        hop = float(self.model.segmentHopSizeInSecond if hop_seconds is None else hop_seconds)
        if hop > seg:
            raise ValueError(f"need 0 < hop_seconds <= segment_seconds, got "
                             f"hop_seconds={hop!r}, segment_seconds={seg!r}")
        self.segment_seconds, self.hop_seconds = seg, hop
        self.sr = int(self.model.fs)  #: transkun's sample rate (44.1 kHz)
        provenance.record_model("transkun 2.0 (Yan & Duan, MAESTRO)", "transkun")

    def _resample(self, y: np.ndarray, sr: int) -> np.ndarray:
        if sr == self.sr:
            return y.astype(np.float32)
        import soxr

        return soxr.resample(y, int(sr), self.sr, quality="HQ").astype(np.float32)

    def transcribe_events(self, audio: np.ndarray, sr: int
                          ) -> tuple[list[Note], list[PedalEvent]]:
        """Mono ``audio`` at ``sr`` Hz -> (notes, pedal events), each sorted by onset.

        Velocities are clipped to 1..127 (transkun may predict 0).
        """
        y = self._resample(_check_audio(audio, sr), int(sr))
        x = torch.from_numpy(y).unsqueeze(-1).to(self.device)  # (n_samples, 1 channel)
        out = io.StringIO()
        with torch.no_grad(), contextlib.redirect_stdout(out):  # transkun prints warnings
            events = self.model.transcribe(x, stepInSecond=self.hop_seconds,
                                           segmentSizeInSecond=self.segment_seconds,
                                           discardSecondHalf=False)
        if out.getvalue().strip():  # resolveOverlapping reports dropped zero-length notes
            log.debug("transkun printed: %s", out.getvalue().strip())
        notes, pedals = [], []
        for e in events:
            onset, offset = float(e.start), float(e.end)
            if e.pitch > 0:
                notes.append(Note(int(e.pitch), onset, offset,
                                  int(np.clip(int(e.velocity), 1, 127))))
            else:
                pedals.append(PedalEvent(-int(e.pitch), onset, offset))
        notes.sort(key=lambda n: (n.onset, n.pitch))
        pedals.sort(key=lambda p: (p.onset, p.control))
        return notes, pedals

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        """Mono ``audio`` at ``sr`` Hz -> notes sorted by (onset, pitch); pedals dropped."""
        return self.transcribe_events(audio, sr)[0]
