"""A small, offline, deterministic additive synthesiser for the emotion world's MIDI.

No soundfont and no synth library: every note is a handful of sinusoidal partials (or a
noise burst for drums) computed with NumPy, one vectorised block per partial and note.
Within one call, the tonal part of a note is cached — struck voices by (timbre, pitch,
velocity bin), their damper applied per note; sustained voices also by held duration in
10 ms steps — and the noisy onsets come from a small fixed pool, so a 10-s clip with a
few hundred notes renders in roughly 30–60 ms of CPU. The same
:class:`pretty_midi.PrettyMIDI` and ``seed`` always give the identical array. (No
FluidSynth path: pyfluidsynth/libfluidsynth are not installed here.)

Voices (``TIMBRES``) and the General-MIDI program -> timbre table (``GM_TIMBRE_TABLE``):

==========  ==============================  =================================================
programs    GM families                     timbre
==========  ==============================  =================================================
0-7         pianos                          ``piano``: partials n*f0*sqrt(1+B n^2) (slight
                                            inharmonicity B rising with pitch), brightness
                                            (spectral tilt) rising with velocity, exponential
                                            decay faster for higher partials and higher keys,
                                            hammer noise, damper release; honours CC64.
8-15        chromatic percussion            ``mallet``: marimba-like partial ratios 1:4:10,
                                            fast decays, soft click.
16-23       organs                          ``organ``: drawbar partials, no decay, tremolo.
24-31       guitars                         ``pluck``: decaying harmonic partials shaped by
                                            the plucking position (comb), short noise pick.
32-39       basses                          ``bass``: few low partials, slow decay.
40-55       strings, ensembles, choirs      ``strings``: sawtooth-like pad, slow attack,
                                            delayed vibrato (5.5 Hz), slow release.
56-79       brass, reeds, pipes             ``organ`` (a sustained wind-like voice).
80-87       synth leads                     ``synth``: two detuned sawtooth oscillators.
88-95       synth pads                      ``strings``.
96-103      synth effects                   ``synth``.
104-111     ethnic (sitar, banjo, koto...)  ``pluck``.
112-119     percussive (bells, drums...)    ``mallet``.
120-127     sound effects                   ``synth``.
is_drum     channel 10 kit                  ``drums``: kick (swept sine), snare (tone +
                                            noise), hats/cymbals (high-passed noise),
                                            toms (swept sine), claps; other keys a generic
                                            noise burst.
==========  ==============================  =================================================

The sustain pedal (CC64 >= 64 = down) lengthens every non-drum note held at pedal-down
until the pedal is released (a re-struck key cuts its previous sounding note). Pitch
bends, CC7/CC11 and panning are ignored (mono output).

``synthesize`` peak-normalises to 0.9 by default; ``gain=...`` instead applies a fixed gain
(lowering it only when the peak would exceed 0.9), which keeps loudness differences
between clips — the emotion world's music builders use that so "loud"/"quiet" is a cue.

Notebooks: 00_tour (listening to the world), and every notebook through ``make_world``.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np
import pretty_midi

from emolib.seed import rng

__all__ = [
    "TIMBRES",
    "GM_TIMBRE_TABLE",
    "RELEASE_TAIL",
    "timbre_for",
    "instrument_timbre",
    "sounding_offsets",
    "render_note",
    "synthesize",
]

log = logging.getLogger(__name__)

#: The synthesiser's voices.
TIMBRES: tuple[str, ...] = ("piano", "strings", "pluck", "bass", "synth", "organ", "mallet",
                            "drums")

#: (first program, last program, timbre) for General-MIDI programs 0..127.
GM_TIMBRE_TABLE: tuple[tuple[int, int, str], ...] = (
    (0, 7, "piano"),
    (8, 15, "mallet"),
    (16, 23, "organ"),
    (24, 31, "pluck"),
    (32, 39, "bass"),
    (40, 55, "strings"),
    (56, 79, "organ"),
    (80, 87, "synth"),
    (88, 95, "strings"),
    (96, 103, "synth"),
    (104, 111, "pluck"),
    (112, 119, "mallet"),
    (120, 127, "synth"),
)

#: Seconds of audio appended after ``pm.get_end_time()`` for releases to ring out.
RELEASE_TAIL: float = 0.5

#: Per-timbre mixing level (roughly equalises perceived loudness between voices).
_LEVEL = {"piano": 0.55, "strings": 0.35, "pluck": 0.5, "bass": 0.6, "synth": 0.22,
          "organ": 0.3, "mallet": 0.5, "drums": 0.5}

_HOP = 32  # envelope decimation (2 ms at 16 kHz): envelopes are held for _HOP samples
_DB50 = np.log(10 ** (45 / 20))  # decay exponent at which a partial is cut (45 dB down)


def timbre_for(program: int, is_drum: bool = False) -> str:
    """The synthesiser voice for a General-MIDI ``program`` (0..127) or a drum track."""
    if is_drum:
        return "drums"
    if not 0 <= int(program) <= 127:
        raise ValueError(f"program must be a General-MIDI program 0..127, got {program!r}")
    for lo, hi, timbre in GM_TIMBRE_TABLE:
        if lo <= program <= hi:
            return timbre
    raise AssertionError("unreachable: GM_TIMBRE_TABLE covers 0..127")  # pragma: no cover


def instrument_timbre(inst: pretty_midi.Instrument) -> str:
    """The voice that renders a :class:`pretty_midi.Instrument`."""
    return timbre_for(inst.program, inst.is_drum)


def _midi_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def sounding_offsets(inst: pretty_midi.Instrument, end_time: float | None = None) -> np.ndarray:
    """Effective release time of each note of ``inst`` (in ``inst.notes`` order).

    A note released while the sustain pedal (CC64 >= 64) is down keeps sounding until the
    pedal goes up (or ``end_time``); a key struck again cuts its previous sounding note.
    Drum tracks ignore the pedal.
    """
    notes = inst.notes
    offs = np.array([n.end for n in notes], dtype=float)
    if not notes:
        return offs
    if end_time is None:
        end_time = max(max(n.end for n in notes),
                       max((c.time for c in inst.control_changes), default=0.0))
    if not inst.is_drum:
        ccs = sorted((c.time, c.value) for c in inst.control_changes if c.number == 64)
        if ccs:
            # pedal state as intervals [down, up)
            intervals, down_at = [], None
            for t, v in ccs:
                if v >= 64 and down_at is None:
                    down_at = t
                elif v < 64 and down_at is not None:
                    intervals.append((down_at, t))
                    down_at = None
            if down_at is not None:
                intervals.append((down_at, end_time))
            for i, n in enumerate(notes):
                for a, b in intervals:
                    if a <= n.end < b:
                        offs[i] = max(offs[i], b)
                        break
    # a re-struck key damps its previous sounding note
    by_pitch: dict[int, list[int]] = {}
    for i, n in enumerate(notes):
        by_pitch.setdefault(n.pitch, []).append(i)
    for idx in by_pitch.values():
        idx.sort(key=lambda j: notes[j].start)
        for j, k in zip(idx[:-1], idx[1:]):
            if notes[k].start > notes[j].start:
                offs[j] = min(offs[j], notes[k].start)
    return offs


# --------------------------------------------------------------------------- building blocks
def _partials(freqs: np.ndarray, amps: np.ndarray, alphas: np.ndarray, length: int,
              sr: int) -> np.ndarray:
    """sum_n amps_n * exp(-alphas_n t) * sin(2 pi f_n t), float32, ``length`` samples.

    Envelopes are evaluated every ``_HOP`` samples and held (broadcast over a
    (frames, _HOP) view); each partial is computed only until it is 50 dB down.
    """
    keep = (freqs < 0.45 * sr) & (amps > 0)
    freqs, amps, alphas = freqs[keep], amps[keep], alphas[keep]
    if length <= 0:
        return np.zeros(0, dtype=np.float32)
    n_frames = -(-length // _HOP)
    out = np.zeros((n_frames, _HOP), dtype=np.float32)
    buf = np.empty((n_frames, _HOP), dtype=np.float32)
    k = _ramp(n_frames * _HOP).reshape(n_frames, _HOP)
    tc = _ramp(n_frames) * np.float32(_HOP / sr)
    for f, a, al in zip(freqs, amps, alphas):
        m = n_frames if al <= 0 else min(n_frames, int(np.ceil(_DB50 / al * sr / _HOP)) + 1)
        env = np.exp(-np.float32(al) * tc[:m])
        env *= np.float32(a)
        b = buf[:m]
        np.multiply(k[:m], np.float32(2.0 * np.pi * f / sr), out=b)
        np.sin(b, out=b)
        b *= env[:, None]
        out[:m] += b
    return out.reshape(-1)[:length]


_RAMP = np.arange(16000 * 64, dtype=np.float32)
_RAMP.flags.writeable = False


def _ramp(n: int) -> np.ndarray:
    """0, 1, ..., n-1 as float32 (a read-only view of a shared ramp when possible)."""
    return _RAMP[:n] if n <= len(_RAMP) else np.arange(n, dtype=np.float32)


def _harmonics_of_phase(theta: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """sum_n amps_n sin(n * theta) for a shared (possibly modulated) phase ``theta``.

    Uses the Chebyshev recurrence sin((n+1)x) = 2 cos(x) sin(nx) - sin((n-1)x).
    """
    s_prev = np.zeros_like(theta)
    s_cur = np.sin(theta)
    c2 = 2.0 * np.cos(theta)
    out = np.float32(amps[0]) * s_cur
    for a in amps[1:]:
        s_prev, s_cur = s_cur, c2 * s_cur - s_prev
        out += np.float32(a) * s_cur
    return out


def _release(length_hold: int, tau: float, sr: int) -> tuple[int, np.ndarray]:
    """Release tail (exponential, down 45 dB) appended after ``length_hold`` samples."""
    n = int(np.ceil(_DB50 * tau * sr))
    return n, np.exp(-np.arange(n, dtype=np.float32) / np.float32(tau * sr))


def _envelope(total: int, hold: int, attack: float, release_tau: float, sr: int,
              sustain_decay: float = 0.0) -> np.ndarray:
    """Linear attack, optional exponential sustain decay, exponential release after hold."""
    t = np.arange(total, dtype=np.float32) / np.float32(sr)
    env = np.minimum(1.0, t / np.float32(max(attack, 1e-4))).astype(np.float32)
    if sustain_decay > 0:
        env *= np.exp(-np.float32(sustain_decay) * t)
    if hold < total:
        env[hold:] *= np.exp(-(t[hold:] - t[hold]) / np.float32(release_tau))
    return env


def _noise(g: np.random.Generator, n: int) -> np.ndarray:
    return g.standard_normal(n).astype(np.float32)


def _highpass(x: np.ndarray, order: int = 1) -> np.ndarray:
    for _ in range(order):
        x = np.diff(x, prepend=np.float32(0.0))
    return x


def _cap(n: int, max_len: int | None) -> int:
    """``n`` samples, or fewer if the caller needs at most ``max_len`` (sample values at a
    given index do not depend on the length rendered)."""
    return n if max_len is None else min(n, int(max_len))


# --------------------------------------------------------------------------- voices
# Struck/plucked voices (piano, pluck, mallet) return their *free decay* (until 45 dB
# down); the damper (release after the key/pedal is let go) is applied per note by
# _ToneCache, so one rendering per (pitch, velocity bin) serves every note length.
# Sustained voices (strings, synth, organ, bass) take the held duration.
def _piano(pitch: int, v: float, sr: int, max_len: int | None = None) -> np.ndarray:
    f0 = _midi_hz(pitch)
    b = 7e-5 * 2.0 ** ((pitch - 21) / 17.0)  # inharmonicity coefficient
    n = np.arange(1, 13, dtype=np.float64)
    freqs = n * f0 * np.sqrt(1.0 + b * n**2)
    tilt = 2.7 - 1.7 * v  # brighter at high velocity
    amps = n**-tilt * (0.35 + 0.65 * np.abs(np.sin(np.pi * n / 7.0)))  # hammer at 1/7
    amps[amps < 0.006] = 0.0
    t60 = float(np.clip(9.0 * 2.0 ** (-(pitch - 36) / 14.0), 0.35, 12.0))
    alpha1 = 6.9 / t60
    alphas = alpha1 * (1.0 + 0.3 * (n - 1) ** 1.3)
    y = _partials(freqs, amps, alphas, _cap(int(np.ceil(_DB50 / alpha1 * sr)), max_len), sr)
    na = min(int(0.002 * sr), len(y))
    y[:na] *= np.linspace(0, 1, na, endpoint=False, dtype=np.float32)
    return y


def _pluck(pitch: int, v: float, sr: int, max_len: int | None = None) -> np.ndarray:
    f0 = _midi_hz(pitch)
    n = np.arange(1, 13, dtype=np.float64)
    freqs = n * f0 * np.sqrt(1.0 + 2e-5 * n**2)
    pos = 0.13 + 0.1 * (1 - v)  # plucked nearer the bridge when hard: brighter
    amps = np.abs(np.sin(np.pi * n * pos)) / n ** (1.4 - 0.4 * v)
    t60 = float(np.clip(4.0 * 2.0 ** (-(pitch - 40) / 18.0), 0.4, 6.0))
    alpha1 = 6.9 / t60
    alphas = alpha1 * (1.0 + 0.7 * (n - 1))
    return _partials(freqs, amps, alphas, _cap(int(np.ceil(_DB50 / alpha1 * sr)), max_len), sr)


def _bass(pitch: int, v: float, hold_s: float, sr: int) -> np.ndarray:
    f0 = _midi_hz(pitch)
    n = np.arange(1, 8, dtype=np.float64)
    amps = n ** -(2.2 - 0.8 * v)
    alphas = 0.9 * (1.0 + 0.8 * (n - 1))
    hold = int(hold_s * sr)
    n_rel, rel = _release(hold, 0.04, sr)
    total = hold + n_rel
    y = _partials(n * f0, amps, alphas, total, sr)
    y[hold:] *= rel[: total - hold]
    na = min(int(0.006 * sr), total)
    y[:na] *= np.linspace(0, 1, na, endpoint=False, dtype=np.float32)
    return y


def _strings(pitch: int, v: float, hold_s: float, sr: int) -> np.ndarray:
    f0 = _midi_hz(pitch)
    n_max = int(min(8, 0.45 * sr // f0))
    if n_max < 1:
        return np.zeros(1, dtype=np.float32)
    n = np.arange(1, n_max + 1, dtype=np.float64)
    amps = (1.0 / n) * np.exp(-(n - 1) / (2.0 + 4.0 * v))
    hold = int(hold_s * sr)
    n_rel, _ = _release(hold, 0.15, sr)
    total = hold + n_rel
    t = np.arange(total, dtype=np.float32) / np.float32(sr)
    rate = np.float32(5.5)
    depth = np.float32(0.004 * f0 / 5.5) * np.clip((t - 0.25) / 0.4, 0.0, 1.0)  # delayed vibrato
    theta = np.float32(2 * np.pi * f0) * t + depth * np.sin(np.float32(2 * np.pi) * rate * t)
    theta2 = np.float32(2 * np.pi * f0 * 1.003) * t + np.float32(np.pi / 3)  # chorus voice
    y = 0.6 * _harmonics_of_phase(theta, amps) + 0.4 * _harmonics_of_phase(theta2, amps[:4])
    attack = 0.35 - 0.25 * v  # slow bowing attack, faster when loud
    y *= _envelope(total, hold, attack, 0.15, sr)
    return y


def _synth(pitch: int, v: float, hold_s: float, sr: int) -> np.ndarray:
    f0 = _midi_hz(pitch)
    n_max = int(min(14, 0.45 * sr // (f0 * 1.006)))
    if n_max < 1:
        return np.zeros(1, dtype=np.float32)
    n = np.arange(1, n_max + 1, dtype=np.float64)
    amps = (1.0 / n) * np.exp(-(n - 1) / (3.0 + 6.0 * v))
    hold = int(hold_s * sr)
    n_rel, _ = _release(hold, 0.08, sr)
    total = hold + n_rel
    k = np.arange(total, dtype=np.float64)
    th1 = (2 * np.pi * f0 / sr * k).astype(np.float32)
    th2 = (2 * np.pi * f0 * 1.006 / sr * k + 1.0).astype(np.float32)
    y = 0.5 * (_harmonics_of_phase(th1, amps) + _harmonics_of_phase(th2, amps))
    env = _envelope(total, hold, 0.01, 0.08, sr)
    t = np.arange(total, dtype=np.float32) / np.float32(sr)
    env *= 0.7 + 0.3 * np.exp(-t / np.float32(0.2))  # decay to sustain level
    return y * env


def _organ(pitch: int, v: float, hold_s: float, sr: int) -> np.ndarray:
    f0 = _midi_hz(pitch)
    mult = np.array([1, 2, 3, 4, 6, 8], dtype=np.float64)
    amps = np.array([1.0, 0.7, 0.45, 0.3, 0.2, 0.12]) * (0.6 + 0.4 * v) ** np.arange(6)
    hold = int(hold_s * sr)
    n_rel, _ = _release(hold, 0.04, sr)
    total = hold + n_rel
    y = _partials(mult * f0, amps, np.zeros(6), total, sr)
    t = np.arange(total, dtype=np.float32) / np.float32(sr)
    y *= 1.0 + 0.08 * np.sin(np.float32(2 * np.pi * 6.0) * t)  # tremolo
    return y * _envelope(total, hold, 0.015, 0.04, sr)


def _mallet(pitch: int, v: float, sr: int, max_len: int | None = None) -> np.ndarray:
    f0 = _midi_hz(pitch)
    ratios = np.array([1.0, 3.99, 10.0])
    amps = np.array([1.0, 0.35 + 0.3 * v, 0.08 + 0.2 * v])
    t60 = float(np.clip(1.6 * 2.0 ** (-(pitch - 60) / 24.0), 0.3, 3.0))
    alphas = 6.9 / t60 * np.array([1.0, 3.5, 9.0])
    return _partials(ratios * f0, amps, alphas,
                     _cap(int(np.ceil(_DB50 * t60 / 6.9 * sr)), max_len), sr)


_TRANSIENT = {"piano": (0.02, 0.004, 1), "pluck": (0.004, 0.0, 1), "mallet": (0.003, 0.0, 1)}


@functools.lru_cache(maxsize=32)
def _transient_pool(timbre: str, sr: int, seed: int = 0, size: int = 8) -> np.ndarray:
    """``size`` unit-level noise bursts (hammer thump, pick, mallet click) of a voice."""
    dur, tau, order = _TRANSIENT[timbre]
    g = rng(seed, "synth-transients", timbre, sr)
    n = int(dur * sr)
    pool = np.diff(g.standard_normal((size, n + order)).astype(np.float32), n=order, axis=1)
    if tau > 0:
        pool *= np.exp(-np.arange(n, dtype=np.float32) / np.float32(tau * sr))
    pool.flags.writeable = False
    return pool


def _transient(timbre: str, v: float, sr: int, g: np.random.Generator) -> np.ndarray | None:
    """The noisy onset of a struck/plucked note, drawn from a small fixed pool."""
    if timbre not in _TRANSIENT:
        return None
    pool = _transient_pool(timbre, sr)
    gain = {"piano": 0.04 + 0.12 * v, "pluck": 0.15 * v, "mallet": 0.2 * v}[timbre]
    return pool[int(g.integers(len(pool)))] * np.float32(gain)


@functools.lru_cache(maxsize=256)
def _decay(n_samples: int, tau_samples: float) -> np.ndarray:
    y = np.exp(-np.arange(n_samples, dtype=np.float32) / np.float32(tau_samples))
    y.flags.writeable = False
    return y


@functools.lru_cache(maxsize=64)
def _sweep(f_start: float, f_end: float, tau_f: float, dur: float, tau: float,
           sr: int) -> np.ndarray:
    """A decaying sine whose frequency glides from f_start to f_end (kick, toms)."""
    n = int(dur * sr)
    t = np.arange(n, dtype=np.float64) / sr
    # instantaneous frequency f_end + (f_start - f_end) exp(-t / tau_f), integrated
    theta = 2 * np.pi * (f_end * t + (f_start - f_end) * tau_f * (1 - np.exp(-t / tau_f)))
    y = np.sin(theta).astype(np.float32) * _decay(n, tau * sr)
    y.flags.writeable = False
    return y


def _drum(pitch: int, v: float, hold_s: float, sr: int, g: np.random.Generator) -> np.ndarray:
    def decay(n_samples: int, tau: float) -> np.ndarray:
        return _decay(n_samples, tau * sr)

    def sweep(f_start: float, f_end: float, tau_f: float, dur: float, tau: float) -> np.ndarray:
        return _sweep(f_start, f_end, tau_f, dur, tau, sr).copy()

    if pitch in (35, 36):  # kick
        y = sweep(140.0, 48.0, 0.03, 0.35, 0.09)
        y[: int(0.003 * sr)] += 0.3 * _highpass(_noise(g, int(0.003 * sr)))
    elif pitch in (38, 40, 37):  # snare / side stick
        n = int(0.25 * sr)
        y = 0.8 * _highpass(_noise(g, n)) * decay(n, 0.05) + 0.5 * sweep(
            220.0, 180.0, 0.02, 0.25, 0.04)
    elif pitch == 39:  # clap: three quick bursts
        n = int(0.2 * sr)
        y = np.zeros(n, dtype=np.float32)
        for off in (0.0, 0.011, 0.022):
            i = int(off * sr)
            m = n - i
            y[i:] += _highpass(_noise(g, m)) * decay(m, 0.012 if off < 0.02 else 0.05)
    elif pitch in (42, 44):  # closed / pedal hi-hat
        n = int(0.08 * sr)
        y = _highpass(_noise(g, n), 2) * decay(n, 0.015) * 0.5
    elif pitch == 46:  # open hi-hat
        n = int(0.4 * sr)
        y = _highpass(_noise(g, n), 2) * decay(n, 0.1) * 0.45
    elif pitch in (49, 52, 55, 57):  # crash cymbals
        n = int(1.5 * sr)
        y = _highpass(_noise(g, n), 2) * decay(n, 0.4) * 0.4
    elif pitch in (51, 53, 59):  # ride
        n = int(0.8 * sr)
        y = (_highpass(_noise(g, n), 2) * 0.25 + 0.15 * _partials(
            np.array([2900.0, 4170.0, 5300.0]), np.ones(3), np.zeros(3), n, sr)) * decay(n, 0.2)
    elif pitch in (41, 43, 45, 47, 48, 50):  # toms, low to high
        f = 80.0 * 2.0 ** ((pitch - 41) / 12.0)
        y = sweep(f * 1.6, f, 0.04, 0.4, 0.12)
    else:  # any other percussion: a band-limited noise burst
        n = int(0.15 * sr)
        y = _highpass(_noise(g, n)) * decay(n, 0.03) * 0.6
    return y


_STRUCK = {"piano": (_piano, 0.06, 0.0), "pluck": (_pluck, 0.05, 0.0),
           "mallet": (_mallet, 0.05, 0.3)}  # voice, damper time constant, ring after off
_VOICES = {"bass": _bass, "strings": _strings, "synth": _synth, "organ": _organ}

_V_STEPS = 8  # brightness is quantised to 1/8 velocity steps (amplitude is exact)
_HOLD_STEP = 0.01  # sustained voices: held durations quantised to 10 ms for the cache


class _ToneCache:
    """Tonal part of notes, cached per synthesize call.

    Struck voices: keyed by (timbre, pitch, velocity bin), damped per note; sustained
    voices: keyed by (timbre, pitch, velocity bin, hold in 10 ms).
    """

    def __init__(self, sr: int) -> None:
        self.sr = sr
        self.store: dict[tuple, np.ndarray] = {}
        self.limits: dict[tuple, int] = {}  # struck voices: longest rendering any note needs

    def need(self, timbre: str, pitch: int, v: float, hold_s: float,
             room: int | None = None) -> None:
        """Register that a struck note will be requested (bounds the free-decay length);
        ``room``: samples left in the output after the note's onset."""
        if timbre in _STRUCK:
            _, tau, ring = _STRUCK[timbre]
            key = (timbre, int(pitch), max(int(round(v * _V_STEPS)), 1))
            n = int(round((hold_s + ring) * self.sr)) + int(np.ceil(_DB50 * tau * self.sr))
            if room is not None:
                n = min(n, int(room))
            self.limits[key] = max(self.limits.get(key, 0), n)

    def get(self, timbre: str, pitch: int, v: float, hold_s: float) -> np.ndarray:
        vb = max(int(round(v * _V_STEPS)), 1)
        if timbre in _STRUCK:
            fn, tau, ring = _STRUCK[timbre]
            key: tuple = (timbre, int(pitch), vb)
            full = self.store.get(key)
            if full is None:
                full = fn(int(pitch), vb / _V_STEPS, self.sr, self.limits.get(key))
                full.flags.writeable = False
                self.store[key] = full
            hold = int(round((hold_s + ring) * self.sr))
            if hold >= len(full):
                return full
            n_rel = int(np.ceil(_DB50 * tau * self.sr))
            end = min(len(full), hold + n_rel)
            y = full[:end].copy()
            y[hold:] *= _decay(n_rel, tau * self.sr)[: end - hold]
            return y
        hb = int(round(hold_s / _HOLD_STEP))
        key = (timbre, int(pitch), vb, hb)
        y = self.store.get(key)
        if y is None:
            y = _VOICES[timbre](int(pitch), vb / _V_STEPS, hb * _HOLD_STEP, self.sr)
            y.flags.writeable = False
            self.store[key] = y
        return y


def _note_audio(cache: _ToneCache, timbre: str, pitch: int, v: float, hold_s: float,
                g: np.random.Generator) -> np.ndarray:
    """Unscaled note: cached tonal part + fresh noisy transient (or a drum hit)."""
    if timbre == "drums":
        return _drum(int(pitch), v, hold_s, cache.sr, g)
    y = cache.get(timbre, pitch, v, hold_s)
    tr = _transient(timbre, v, cache.sr, g)
    if tr is not None:
        y = y.copy()
        n = min(len(tr), len(y))
        y[:n] += tr[:n]
    return y


def render_note(timbre: str, pitch: int, velocity: int, hold: float, sr: int = 16000,
                seed: int = 0) -> np.ndarray:
    """One note of ``timbre`` held ``hold`` seconds (release appended), float32.

    The amplitude grows with velocity (``(velocity/127)**1.5`` times the voice level);
    so does brightness.
    """
    if timbre not in TIMBRES:
        raise ValueError(f"timbre must be one of {TIMBRES}, got {timbre!r}")
    g = rng(seed, "synth-note", timbre, int(pitch), int(velocity))
    v = float(np.clip(velocity, 1, 127)) / 127.0
    cache = _ToneCache(int(sr))
    cache.need(timbre, int(pitch), v, max(float(hold), 0.0))
    y = _note_audio(cache, timbre, int(pitch), v, max(float(hold), 0.0), g)
    return (y * np.float32(v**1.5 * _LEVEL[timbre])).astype(np.float32)


def synthesize(pm: pretty_midi.PrettyMIDI, sr: int = 16000, seed: int = 0, *,
               gain: float | None = None, tail: float = RELEASE_TAIL,
               timbres: Sequence[str] | None = None) -> np.ndarray:
    """Render ``pm`` to mono float32 audio at ``sr`` Hz, deterministically.

    Length: ``ceil((pm.get_end_time() + tail) * sr)`` samples. With ``gain=None`` the
    result is peak-normalised to 0.9; with a float it is multiplied by ``gain`` and only
    scaled down if its peak would exceed 0.9 (loudness differences survive). ``timbres``
    overrides the voice of each instrument (same order as ``pm.instruments``). ``seed``
    drives the noise components (hammer, pick, drums).

    Notebooks: 00_tour; used by the world builders (music, piano, paired, performances).
    """
    if not isinstance(pm, pretty_midi.PrettyMIDI):
        raise TypeError(f"pm must be a pretty_midi.PrettyMIDI, got {type(pm).__name__}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    if tail < 0:
        raise ValueError(f"tail must be >= 0 seconds, got {tail!r}")
    if gain is not None and not gain > 0:
        raise ValueError(f"gain must be positive or None, got {gain!r}")
    if timbres is not None and len(timbres) != len(pm.instruments):
        raise ValueError(f"timbres must give one voice per instrument "
                         f"({len(pm.instruments)}), got {len(timbres)}")
    end_time = pm.get_end_time()
    total = int(np.ceil((end_time + tail) * sr))
    out = np.zeros(total, dtype=np.float32)
    cache = _ToneCache(int(sr))
    plan = []  # (instrument index, timbre, sounding offsets)
    for i, inst in enumerate(pm.instruments):
        timbre = timbres[i] if timbres is not None else instrument_timbre(inst)
        if timbre not in TIMBRES:
            raise ValueError(f"timbre must be one of {TIMBRES}, got {timbre!r}")
        offs = sounding_offsets(inst, end_time)
        plan.append((i, timbre, offs))
        for note, off in zip(inst.notes, offs):  # bound each free decay by what is used
            start = int(round(note.start * sr))
            if start < total and note.velocity > 0:
                cache.need(timbre, int(note.pitch), min(note.velocity, 127) / 127.0,
                           max(off - note.start, 0.0), total - start)
    for i, timbre, offs in plan:
        inst = pm.instruments[i]
        g = rng(seed, "synth", i, inst.program, int(inst.is_drum))
        level = _LEVEL[timbre]
        for note, off in zip(inst.notes, offs):
            start = int(round(note.start * sr))
            if start >= total or note.velocity <= 0:
                continue
            v = min(note.velocity, 127) / 127.0
            y = _note_audio(cache, timbre, int(note.pitch), v, max(off - note.start, 0.0), g)
            n = min(len(y), total - start)
            out[start:start + n] += y[:n] * np.float32(v**1.5 * level)
    peak = float(np.max(np.abs(out))) if total else 0.0
    if peak > 0:
        scale = 0.9 / peak if gain is None else min(float(gain), 0.9 / peak)
        out *= np.float32(scale)
    return out
