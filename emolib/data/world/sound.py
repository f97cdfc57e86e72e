"""The emotion world's audio: every MIDI it writes, rendered with a General MIDI SoundFont.

:func:`synthesize` renders a :class:`pretty_midi.PrettyMIDI` with
:func:`emolib.soundfont.render_midi` — TinySoundFont playing ``TimGM6mb.sf2``, the GM
SoundFont that ``pretty_midi`` ships — so the MIDI program of each track decides its
instrument (GM program 0, Acoustic Grand Piano, for every piano role; drums on the GM drum
channel) and the sustain pedal (CC 64) is honoured. What the world adds:

* **length** — exactly ``ceil((pm.get_end_time() + tail) * sr)`` samples (``tail``
  seconds, :data:`RELEASE_TAIL` by default, let the releases ring out);
* **loudness** — with ``gain=None`` the audio is peak-normalised to :data:`PEAK_LIMIT`
  (0.9); with a fixed ``gain`` it is multiplied by ``gain`` and scaled down only if its
  peak would exceed 0.9, so loudness differences between clips (a cue of the world)
  survive. The world's builders use fixed gains (``music.CLIP_GAIN``,
  ``scores.SYNTH_GAIN``), calibrated on this renderer so that only the loudest few clips
  reach the limit (see those constants);
* 16 kHz (any ``sr`` works), mono float32, and deterministic: the same MIDI gives the
  same samples, bit for bit, on every call and in every worker process.

This replaces the project's earlier additive numpy synthesiser (retired with issue 15).
Notebooks: 00_tour (listening to the world), every notebook through ``make_world``.
"""
from __future__ import annotations

import math

import numpy as np
import pretty_midi

from emolib.soundfont import render_midi

__all__ = ["RELEASE_TAIL", "PEAK_LIMIT", "synthesize"]

#: Seconds of audio after ``pm.get_end_time()`` for the releases to ring out.
RELEASE_TAIL: float = 0.5

#: Largest absolute sample value :func:`synthesize` returns.
PEAK_LIMIT: float = 0.9


def synthesize(pm: pretty_midi.PrettyMIDI, sr: int = 16000, *, gain: float | None = None,
               tail: float = RELEASE_TAIL) -> np.ndarray:
    """Render ``pm`` with the GM SoundFont to mono float32 at ``sr`` Hz (see the module
    docstring for the length and loudness rules).

    ``gain=None``: peak-normalised to 0.9; a positive float: fixed gain, lowered only so
    that the peak stays <= 0.9. Silent MIDI gives zeros.
    """
    if not isinstance(pm, pretty_midi.PrettyMIDI):
        raise TypeError(f"pm must be a pretty_midi.PrettyMIDI, got {type(pm).__name__}")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    if not tail >= 0:
        raise ValueError(f"tail must be >= 0 seconds, got {tail!r}")
    if gain is not None and not gain > 0:
        raise ValueError(f"gain must be positive or None, got {gain!r}")
    total = int(math.ceil((pm.get_end_time() + tail) * sr))
    y = render_midi(pm, int(sr), tail=tail)
    if len(y) < total:
        y = np.pad(y, (0, total - len(y)))
    y = y[:total]
    peak = float(np.max(np.abs(y))) if total else 0.0
    if peak > 0:
        scale = PEAK_LIMIT / peak if gain is None else min(float(gain), PEAK_LIMIT / peak)
        y = y * np.float32(scale)
    return y.astype(np.float32, copy=False)
