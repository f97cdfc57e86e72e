"""Automatic piano transcription (audio -> notes) behind a pluggable backend API.

Zhu et al. (2023) obtain the symbolic domain from audio with a pre-trained transcription
model (pre-trained on MAESTRO; the paper cites Onsets and Frames [11] and a refined
feature-fusion variant [40]). EMOPIA's own MIDI is *not* used as input.

* API: a backend is any object with ``transcribe(audio, sr) -> list[Note]``;
  :func:`get_backend` builds one by name.
* ``"onsets_frames"`` (default, offline): :class:`OnsetsFramesLite`, a small model of the
  Onsets-and-Frames family (Hawthorne et al. 2018): CQT input, harmonic stacking and a
  pitch-equivariant conv stack, then O&F's heads — onset (88 sigmoids), frame (88
  sigmoids, conditioned on the onset predictions) and velocity. Trained here on the world's paired
  audio-MIDI corpus (MAESTRO role) with :func:`train_transcriber` and cached through
  :func:`emolib.train.cached_model` (:func:`pretrained_transcriber`). Notes are decoded
  with O&F's rule (:func:`decode_notes`): a note starts where the onset probability
  crosses the threshold and lasts while the frame probability stays above its threshold.
* ``"basic_pitch"`` (optional): Spotify's basic-pitch, whose ONNX model ships in its wheel.
  It is *not* a dependency: a plain ``pip install basic-pitch`` pulls TensorFlow, so it
  has to be installed with ``pip install --no-deps basic-pitch onnxruntime "resampy<0.4.3"``.
  The backend is guarded by import and untested here (not installed in this environment).

Evaluation: :func:`note_scores` — note-level precision / recall / F1 with
``mir_eval.transcription`` (onset tolerance 50 ms; with or without the offset criterion).

Notebook: 04_zhu2023.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from emolib.encoders.symbolic import Note
from emolib.features import log_mel

__all__ = ["Transcriber", "FrontEnd", "notes_to_rolls", "decode_notes", "OnsetsFramesLite",
           "transcription_loss", "train_transcriber", "pretrained_transcriber",
           "OnsetsFramesBackend", "BasicPitchBackend", "harmonic_stack", "HARMONICS", "activations", "get_backend", "note_scores", "MIN_PITCH",
           "N_KEYS"]

log = logging.getLogger(__name__)

MIN_PITCH = 21  #: A0, the lowest piano key
N_KEYS = 88


class Transcriber(Protocol):
    """What every transcription backend provides."""

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:  # pragma: no cover
        ...


@dataclass(frozen=True)
class FrontEnd:
    """Log-magnitude CQT input of the transcriber, ``bins_per_semitone`` bins per key.

    Bins are placed so that bin
    ``k * bins_per_semitone + bins_per_semitone // 2`` is exactly key ``min_pitch + k``;
    they reach up to ``max_pitch`` (MIDI 119 ~ 7.9 kHz, below 8 kHz Nyquist at 16 kHz).
    Hop 512 at 16 kHz = 31.25 frames/s as in Onsets and Frames.
    """

    sr: int = 16000
    hop_length: int = 512
    bins_per_semitone: int = 3
    min_pitch: int = MIN_PITCH
    max_pitch: int = 119

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.sr / self.hop_length

    @property
    def n_bins(self) -> int:
        return (self.max_pitch - self.min_pitch) * self.bins_per_semitone

    def __call__(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Audio -> ``(n_frames, n_bins)`` CQT magnitude in dB (ref 1, floor -100 dB)."""
        import librosa

        if sr != self.sr:
            raise ValueError(f"transcriber front end expects sr={self.sr}, got sr={sr}; resample first")
        y = np.asarray(audio, dtype=np.float32)
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"audio must be a non-empty 1-D signal, got shape {y.shape}")
        b = self.bins_per_semitone
        fmin = librosa.midi_to_hz(self.min_pitch - (b // 2) / b)
        c = np.abs(librosa.cqt(y, sr=sr, hop_length=self.hop_length, fmin=fmin,
                               n_bins=self.n_bins, bins_per_octave=12 * b))
        return librosa.amplitude_to_db(c, ref=1.0, amin=1e-5, top_db=None).T.astype(np.float32)

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.hop_length


# ---------------------------------------------------------------------------- targets
def notes_to_rolls(notes: Sequence[Note], n_frames: int, fps: float, *,
                   min_pitch: int = MIN_PITCH, n_keys: int = N_KEYS
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Notes -> (onset, frame, velocity) rolls ``(n_frames, n_keys)`` (float32).

    Onset: 1 at the frame nearest the onset; frame: 1 from the onset frame up to (not
    including) the offset frame, at least one frame; velocity: velocity/127 on onset frames.
    Notes outside the key range or after the last frame are ignored.
    """
    onset = np.zeros((n_frames, n_keys), np.float32)
    frame = np.zeros_like(onset)
    vel = np.zeros_like(onset)
    for n in notes:
        k = int(n.pitch) - min_pitch
        if not 0 <= k < n_keys:
            continue
        a = int(round(n.onset * fps))
        if a >= n_frames:
            continue
        b = min(max(int(round(n.offset * fps)), a + 1), n_frames)
        onset[a, k] = 1.0
        frame[a:b, k] = 1.0
        vel[a, k] = n.velocity / 127.0
    return onset, frame, vel


def decode_notes(onset_prob: np.ndarray, frame_prob: np.ndarray, fps: float,
                 velocity: np.ndarray | None = None, *, onset_threshold: float = 0.5,
                 frame_threshold: float = 0.5, min_pitch: int = MIN_PITCH) -> list[Note]:
    """Onsets-and-Frames decoding of ``(n_frames, n_keys)`` activations into notes.

    A note starts at frame ``t`` where ``onset_prob`` is above ``onset_threshold`` and was
    not at ``t - 1``; it lasts while ``frame_prob`` (or the onset) stays above threshold and
    ends at the first frame where both drop below, or at the next onset of the same key.
    Its velocity is ``velocity[t] * 127`` (clipped to 1..127; 64 without a velocity roll).
    """
    if onset_prob.shape != frame_prob.shape or onset_prob.ndim != 2:
        raise ValueError(f"onset and frame activations must both be (frames, keys), got "
                         f"{onset_prob.shape} and {frame_prob.shape}")
    on = onset_prob >= onset_threshold
    fr = (frame_prob >= frame_threshold) | on
    starts = on & ~np.vstack([np.zeros((1, on.shape[1]), bool), on[:-1]])
    n_frames = on.shape[0]
    notes = []
    for t, k in zip(*np.nonzero(starts)):
        end = t + 1
        while end < n_frames and fr[end, k] and not starts[end, k]:
            end += 1
        v = 64 if velocity is None else int(np.clip(round(float(velocity[t, k]) * 127), 1, 127))
        notes.append(Note(int(k) + min_pitch, t / fps, end / fps, v))
    return sorted(notes, key=lambda n: (n.onset, n.pitch))


# ---------------------------------------------------------------------------- model
#: Harmonics stacked by the model (0.5 = the sub-octave, which helps reject octave errors).
HARMONICS: tuple[float, ...] = (0.5, 1, 2, 3, 4, 5, 6)


def harmonic_stack(cqt: Tensor, bins_per_semitone: int, n_keys: int = N_KEYS,
                   harmonics: Sequence[float] = HARMONICS) -> Tensor:
    """``(B, T, n_bins)`` CQT -> ``(B, H, T, n_keys * bins_per_semitone)``: channel ``h``
    holds the CQT shifted so that each key's bins see its ``h``-th harmonic (zero beyond
    the top bin / below the bottom bin)."""
    b, t, n = cqt.shape
    width = n_keys * bins_per_semitone
    out = []
    for h in harmonics:
        shift = int(round(12 * bins_per_semitone * np.log2(h)))
        sl = cqt[..., max(shift, 0):max(shift, 0) + width] if shift >= 0 else cqt[..., :width + shift]
        pad_left = -shift if shift < 0 else 0
        pad_right = width - sl.shape[-1] - pad_left
        out.append(F.pad(sl, (pad_left, pad_right)))
    return torch.stack(out, dim=1)


class OnsetsFramesLite(nn.Module):
    """A small Onsets-and-Frames-family transcriber: CQT ``(B, T, n_bins)`` -> three
    ``(B, T, 88)`` logit maps (onset, frame, velocity).

    Acoustic stack: harmonic stacking of the CQT (the front end of basic-pitch, Bittner et
    al. 2022), a learned BatchNorm, two 2-D convs over (time, frequency) shared by all keys,
    and a conv with stride ``bins_per_semitone`` down to one column per key. Heads as in
    O&F: onset logits; frame logits from the acoustic features *and* the (detached) onset
    probabilities; velocity. Everything is convolutional and pitch-equivariant, so the
    model trains in minutes on a CPU — our substitution for O&F's conv + BiLSTM stack,
    which needs GPU-days on MAESTRO. Widths are parameters.
    """

    def __init__(self, bins_per_semitone: int = 3, channels: int = 16, time_kernel: int = 5,
                 n_keys: int = N_KEYS) -> None:
        super().__init__()
        self.bins_per_semitone, self.n_keys = bins_per_semitone, n_keys
        h, c, k = len(HARMONICS), channels, time_kernel
        self.input_norm = nn.BatchNorm2d(h)
        self.conv = nn.Sequential(
            nn.Conv2d(h, c, (k, 5), padding=(k // 2, 2)), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, (k, 3), padding=(k // 2, 1)), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, (1, bins_per_semitone), stride=(1, bins_per_semitone)), nn.ReLU())
        self.onset_head = nn.Conv2d(c, 1, (k, 1), padding=(k // 2, 0))
        self.velocity_head = nn.Conv2d(c, 1, (3, 1), padding=(1, 0))
        self.frame_head = nn.Sequential(nn.Conv2d(c + 1, c, (k, 1), padding=(k // 2, 0)), nn.ReLU(),
                                        nn.Conv2d(c, 1, (k, 1), padding=(k // 2, 0)))

    def forward(self, cqt: Tensor) -> dict[str, Tensor]:
        n_bins_min = self.n_keys * self.bins_per_semitone
        if cqt.ndim != 3 or cqt.shape[-1] < n_bins_min:
            raise ValueError(f"OnsetsFramesLite expects (batch, frames, >= {n_bins_min} CQT bins), "
                             f"got {tuple(cqt.shape)}")
        x = self.input_norm(harmonic_stack(cqt, self.bins_per_semitone, self.n_keys))
        h = self.conv(x)                                            # (B, C, T, 88)
        onset = self.onset_head(h)
        frame = self.frame_head(torch.cat([h, torch.sigmoid(onset).detach()], dim=1))
        vel = self.velocity_head(h)
        return {"onset": onset[:, 0], "frame": frame[:, 0], "velocity": vel[:, 0]}


def transcription_loss(out: dict[str, Tensor], onset: Tensor, frame: Tensor, velocity: Tensor,
                       onset_pos_weight: float = 20.0, frame_pos_weight: float = 3.0) -> Tensor:
    """O&F loss: BCE(onset) + BCE(frame) + onset-masked squared error of velocity.

    Positive frames are up-weighted (``pos_weight``) because onsets are rare — our choice,
    so the small model stops predicting silence early in a short CPU training run.
    """
    pw_on = torch.tensor(onset_pos_weight, dtype=onset.dtype)
    pw_fr = torch.tensor(frame_pos_weight, dtype=frame.dtype)
    loss = F.binary_cross_entropy_with_logits(out["onset"], onset, pos_weight=pw_on)
    loss = loss + F.binary_cross_entropy_with_logits(out["frame"], frame, pos_weight=pw_fr)
    v = torch.sigmoid(out["velocity"])
    loss = loss + (onset * (v - velocity) ** 2).sum() / onset.sum().clamp_min(1.0)
    return loss


class _CropSet(torch.utils.data.Dataset):
    """Random ``crop`` -frame excerpts of (mel, onset, frame, velocity) per clip (seeded)."""

    def __init__(self, items: list[tuple[np.ndarray, ...]], crop: int, seed: int, n_per_clip: int) -> None:
        self.items, self.crop, self.seed, self.n = items, crop, seed, n_per_clip
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items) * self.n

    def __getitem__(self, i: int):
        mel, on, fr, ve = self.items[i % len(self.items)]
        g = np.random.default_rng([self.seed, self.epoch, i])
        t = len(mel)
        start = int(g.integers(0, t - self.crop + 1)) if t > self.crop else 0
        sl = slice(start, start + self.crop)

        def pad(a):
            a = a[sl]
            return np.pad(a, ((0, self.crop - len(a)), (0, 0))) if len(a) < self.crop else a

        return tuple(torch.from_numpy(np.ascontiguousarray(pad(a))) for a in (mel, on, fr, ve))


def _prepare(audios: Sequence[np.ndarray], note_lists: Sequence[Sequence[Note]], front: FrontEnd):
    items = []
    for y, notes in zip(audios, note_lists):
        mel = front(y, front.sr).astype(np.float32)
        rolls = notes_to_rolls(notes, len(mel), front.fps, min_pitch=front.min_pitch)
        items.append((mel, *rolls))
    return items


def train_transcriber(model: OnsetsFramesLite, audios: Sequence[np.ndarray],
                      note_lists: Sequence[Sequence[Note]], *, front: FrontEnd | None = None,
                      epochs: int = 20, lr: float = 1e-3, batch_size: int = 8,
                      crop_frames: int = 160, crops_per_clip: int = 2, seed: int = 0,
                      progress: bool = True):
    """Train ``model`` on paired audio and notes (random crops); returns the FitResult."""
    from emolib.train import fit

    front = front or FrontEnd(bins_per_semitone=model.bins_per_semitone)
    if len(audios) != len(note_lists) or not audios:
        raise ValueError(f"need the same, non-zero number of audio clips and note lists, got "
                         f"{len(audios)} and {len(note_lists)}")
    ds = _CropSet(_prepare(audios, note_lists, front), crop_frames, seed, crops_per_clip)
    g = torch.Generator().manual_seed(seed)

    class _Loader:
        def __iter__(self):
            ds.epoch += 1
            return iter(torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g))

    def loss_fn(m, batch):
        mel, on, fr, ve = batch
        return transcription_loss(m(mel), on, fr, ve)

    return fit(model, loss_fn, _Loader(), epochs=epochs, lr=lr, seed=seed, progress=progress,
               grad_clip=3.0)


@torch.no_grad()
def activations(model: OnsetsFramesLite, audio: np.ndarray, sr: int,
                front: FrontEnd | None = None) -> dict[str, np.ndarray]:
    """Onset/frame/velocity probabilities ``(n_frames, 88)`` for a whole clip."""
    front = front or FrontEnd(bins_per_semitone=model.bins_per_semitone)
    model.eval()
    return activations_from_features(model, front(audio, sr))


@torch.no_grad()
def activations_from_features(model: OnsetsFramesLite, feats: np.ndarray) -> dict[str, np.ndarray]:
    """Like :func:`activations` on a precomputed ``(n_frames, n_bins)`` front-end output."""
    model.eval()
    mel = torch.from_numpy(np.asarray(feats, np.float32))[None]
    out = model(mel)
    return {k: torch.sigmoid(v[0]).numpy() for k, v in out.items()}


class OnsetsFramesBackend:
    """Backend wrapper: ``transcribe(audio, sr)`` with a trained :class:`OnsetsFramesLite`."""

    def __init__(self, model: OnsetsFramesLite, front: FrontEnd | None = None,
                 onset_threshold: float = 0.5, frame_threshold: float = 0.5) -> None:
        self.model, self.front = model.eval(), front or FrontEnd(bins_per_semitone=model.bins_per_semitone)
        self.onset_threshold, self.frame_threshold = onset_threshold, frame_threshold

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        act = activations(self.model, audio, sr, self.front)
        return decode_notes(act["onset"], act["frame"], self.front.fps, act["velocity"],
                            onset_threshold=self.onset_threshold,
                            frame_threshold=self.frame_threshold, min_pitch=self.front.min_pitch)


def _fingerprint(audios: Sequence[np.ndarray], note_lists: Sequence[Sequence[Note]]) -> str:
    h = hashlib.sha256()
    for y, notes in zip(audios, note_lists):
        h.update(np.asarray(y, np.float32).tobytes()[:65536])
        h.update(str(len(y)).encode())
        h.update(repr([tuple(n) for n in notes][:64]).encode())
    return h.hexdigest()[:16]


def pretrained_transcriber(audios: Sequence[np.ndarray], note_lists: Sequence[Sequence[Note]], *,
                           front: FrontEnd | None = None, channels: int = 16,
                           time_kernel: int = 5, epochs: int = 20, lr: float = 1e-3,
                           batch_size: int = 8, crop_frames: int = 160, crops_per_clip: int = 2,
                           seed: int = 0, progress: bool = True) -> OnsetsFramesLite:
    """Build and train an :class:`OnsetsFramesLite` once on paired data; cached thereafter.

    The cache key covers every argument and a fingerprint of the training data.
    Notebook: 04_zhu2023 (the world's paired corpus plays MAESTRO).
    """
    from emolib.train import cached_model

    front = front or FrontEnd()
    params: dict[str, Any] = {"front": front.__dict__, "channels": channels,
                              "time_kernel": time_kernel, "epochs": epochs, "lr": lr,
                              "batch_size": batch_size, "crop": crop_frames,
                              "crops_per_clip": crops_per_clip, "seed": seed,
                              "data": _fingerprint(audios, note_lists), "n": len(audios)}

    def build() -> OnsetsFramesLite:
        torch.manual_seed(seed)
        return OnsetsFramesLite(front.bins_per_semitone, channels, time_kernel)

    def train(model: OnsetsFramesLite) -> None:
        train_transcriber(model, audios, note_lists, front=front, epochs=epochs, lr=lr,
                          batch_size=batch_size, crop_frames=crop_frames,
                          crops_per_clip=crops_per_clip, seed=seed, progress=progress)

    return cached_model("zhu2023_onsets_frames", params, build, train)


class BasicPitchBackend:
    """Optional backend: Spotify basic-pitch (ONNX model inside its wheel).

    Needs ``pip install --no-deps basic-pitch onnxruntime "resampy<0.4.3"`` (a plain install
    pulls TensorFlow). Not installed in the default environment and untested here.
    """

    def __init__(self, onset_threshold: float = 0.5, frame_threshold: float = 0.3) -> None:
        try:
            from basic_pitch import ICASSP_2022_MODEL_PATH  # noqa: F401
            from basic_pitch.inference import predict  # noqa: F401
        except ImportError as err:
            raise ImportError("the 'basic_pitch' backend needs basic-pitch: pip install --no-deps "
                              "basic-pitch onnxruntime 'resampy<0.4.3' (a plain install pulls "
                              "TensorFlow)") from err
        self.onset_threshold, self.frame_threshold = onset_threshold, frame_threshold

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:  # pragma: no cover
        import tempfile

        import soundfile as sf
        from basic_pitch import ICASSP_2022_MODEL_PATH
        from basic_pitch.inference import predict

        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, np.asarray(audio, np.float32), sr)
            _, _, events = predict(tmp.name, ICASSP_2022_MODEL_PATH,
                                   onset_threshold=self.onset_threshold,
                                   frame_threshold=self.frame_threshold)
        notes = [Note(int(p), float(s), float(e), int(np.clip(round(a * 127), 1, 127)))
                 for s, e, p, a, *_ in events]
        return sorted(notes, key=lambda n: (n.onset, n.pitch))


def get_backend(name: str = "onsets_frames", **kwargs: Any) -> Transcriber:
    """Build a transcription backend by name: ``"onsets_frames"`` (needs ``model=``) or
    ``"basic_pitch"`` (optional install)."""
    if name == "onsets_frames":
        if "model" not in kwargs:
            raise ValueError("the 'onsets_frames' backend needs model=<trained OnsetsFramesLite> "
                             "(see pretrained_transcriber)")
        return OnsetsFramesBackend(**kwargs)
    if name == "basic_pitch":
        return BasicPitchBackend(**kwargs)
    raise ValueError(f"unknown transcription backend {name!r}; choose 'onsets_frames' or 'basic_pitch'")


def note_scores(ref: Sequence[Note], est: Sequence[Note], *, onset_tolerance: float = 0.05,
                with_offsets: bool = False) -> dict[str, float]:
    """Note-level precision, recall, F1 (mir_eval.transcription), onset-only by default.

    With ``with_offsets`` the offset must also be within max(50 ms, 20 % of the note).
    Empty reference or estimate lists give zeros (mir_eval warns and returns 0 too).
    """
    import mir_eval

    def arr(notes):
        if not notes:
            return np.zeros((0, 2)), np.zeros(0)
        iv = np.array([[n.onset, max(n.offset, n.onset + 1e-3)] for n in notes])
        hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in notes])
        return iv, hz

    (ri, rp), (ei, ep) = arr(ref), arr(est)
    if len(ri) == 0 or len(ei) == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ri, rp, ei, ep, onset_tolerance=onset_tolerance,
        offset_ratio=0.2 if with_offsets else None)
    return {"precision": float(p), "recall": float(r), "f1": float(f)}
