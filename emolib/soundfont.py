"""Render MIDI to audio offline with a General MIDI SoundFont.

The renderer is TinySoundFont (the ``tinysoundfont`` wheel, a self-contained C library;
installed with ``pip install --no-deps``, because the wheel declares ``pyaudio``, which
offline rendering does not need) playing ``TimGM6mb.sf2``, the General MIDI SoundFont that
``pretty_midi`` ships inside its package (6 MB; GPL-2 licensed SoundFont by Tim Brechbill).

* :func:`render_midi` — a :class:`pretty_midi.PrettyMIDI` (every instrument on its own
  channel with its GM program; drum tracks on the GM drum channel) to mono float32.
* :func:`render_notes` — a list of ``(pitch, onset, offset, velocity)`` for one program.

Rendering is deterministic: the same MIDI gives the same samples, bit for bit (TinySoundFont
has no random voice parameters; events are placed at exact sample positions), whatever was
rendered before in the process (the parsed SoundFont is reused, its voices stopped first).

Used by tests/audio_fixtures.py: the audio that the tests of the real pretrained models make.
"""
from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["soundfont_path", "render_midi", "render_notes", "sustained_offsets", "GM_PIANO",
           "DRUM_CHANNEL", "SUSTAIN_CC"]

log = logging.getLogger(__name__)

GM_PIANO = 0  #: General MIDI program 1, Acoustic Grand Piano (0-based)
DRUM_CHANNEL = 9  #: the GM percussion channel (0-based)
SUSTAIN_CC = 64  #: MIDI controller number of the sustain (damper) pedal


def soundfont_path() -> Path:
    """Path of ``TimGM6mb.sf2`` inside the installed ``pretty_midi`` package."""
    import pretty_midi

    path = Path(pretty_midi.__file__).resolve().parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pretty_midi's General MIDI SoundFont is missing; "
                                "reinstall pretty_midi (it ships TimGM6mb.sf2)")
    return path


@lru_cache(maxsize=1)
def _soundfont_bytes() -> bytes:
    return soundfont_path().read_bytes()


def _tsf() -> Any:
    try:
        import tinysoundfont._tinysoundfont as tsf
    except ImportError as exc:  # pragma: no cover - installed by `make setup`
        raise ImportError("SoundFont rendering needs tinysoundfont: "
                          "pip install --no-deps tinysoundfont==0.3.7") from exc
    return tsf


@lru_cache(maxsize=4)
def _loaded(sr: int, gain: float) -> Any:
    """The parsed SoundFont for one (sample rate, gain), kept for the process (parsing the
    6 MB file costs ~15 ms, as much as rendering a simple 10-s clip)."""
    tsf = _tsf()
    font = tsf.SoundFont(_soundfont_bytes())
    font.set_output(tsf.OutputMode.StereoInterleaved, int(sr), float(gain))
    font.set_max_voices(_MAX_VOICES)
    return font


def _fresh(sr: int, gain: float) -> Any:
    """The process's SoundFont in its just-loaded state.

    TinySoundFont's ``reset`` clears the channels but lets sounding voices ring on, so
    every voice is first stopped and rendered out (a voice stopped by "all sounds off"
    falls silent within one 64-sample block); a voice still sounding after that (never
    seen) gets a freshly parsed SoundFont instead. Rendering on the reused font is then
    bit-identical to rendering on a new one (tests/test_soundfont.py).
    """
    font = _loaded(int(sr), float(gain))
    for chan in range(16):
        font.channel_sounds_off(chan)
    flush = np.zeros((1024, 2), np.float32)
    font.render(_bytes(flush))
    if flush[256:].any():  # pragma: no cover - defensive
        _loaded.cache_clear()
        return _loaded(int(sr), float(gain))
    font.reset()
    return font


def _bytes(block: np.ndarray) -> memoryview:
    """A float32 array as the unsigned-byte buffer TinySoundFont renders into (no copy)."""
    return memoryview(block).cast("B")


#: Voices TinySoundFont may play at once (the oldest is cut beyond that; the wrapper's
#: default).
_MAX_VOICES = 256


def render_midi(midi: Any, sr: int = 16000, *, tail: float = 0.5,
                gain: float = 0.0) -> np.ndarray:
    """Render a ``pretty_midi.PrettyMIDI`` to mono float32 at ``sr`` Hz.

    Each instrument gets its own channel (drums on :data:`DRUM_CHANNEL`) with its GM
    program; note-ons, note-offs and control changes are played at their sample positions.
    TinySoundFont has no sustain pedal, so CC 64 is applied here (:func:`sustained_offsets`:
    a note released under the pedal sounds until the pedal is lifted). ``tail`` seconds
    after the last event let the release ring out. ``gain`` is TinySoundFont's global gain in dB.
    The output is the mean of TinySoundFont's two stereo channels; the parsed SoundFont
    is kept for the process (see :func:`_fresh`).
    """
    if sr <= 0:
        raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    if tail < 0:
        raise ValueError(f"tail must be >= 0 seconds, got {tail!r}")
    events: list[tuple[int, int, int, int, int, int]] = []  # (sample, order, kind, chan, a, b)
    horizon = max([n.end for i in midi.instruments for n in i.notes]
                  + [c.time for i in midi.instruments for c in i.control_changes] + [0.0])
    melodic = iter(c for c in range(16) if c != DRUM_CHANNEL)
    programs: list[tuple[int, int, bool]] = []
    for inst in midi.instruments:
        if inst.is_drum:
            chan = DRUM_CHANNEL
        else:
            try:
                chan = next(melodic)
            except StopIteration:
                raise ValueError("render_midi: more than 15 melodic instruments; "
                                 "General MIDI has 15 melodic channels") from None
        programs.append((chan, 0 if inst.is_drum else int(inst.program), bool(inst.is_drum)))
        for cc in inst.control_changes:
            if cc.number != SUSTAIN_CC:
                events.append((round(cc.time * sr), 1, 2, chan, int(cc.number), int(cc.value)))
        ends = sustained_offsets(inst.notes, inst.control_changes)
        for n, end_s in zip(inst.notes, ends):
            start = round(n.start * sr)
            events.append((start, 2, 1, chan, int(n.pitch), int(n.velocity)))
            end = round(min(end_s, horizon) * sr)  # a pedal never lifted: to the end
            events.append((max(end, start + 1), 0, 0, chan, int(n.pitch), 0))
    events.sort()
    total = (events[-1][0] if events else 0) + round(tail * sr)
    out = np.zeros(total, np.float32)
    font = _fresh(int(sr), float(gain))
    for chan, program, drum in programs:
        font.channel_set_bank(chan, 128 if drum else 0)
        font.channel_set_preset_number(chan, program, drum)
    stereo = np.zeros((0, 2), np.float32)

    def render_to(end: int) -> None:
        nonlocal stereo
        if len(stereo) < end - pos:
            stereo = np.zeros((max(end - pos, 4096), 2), np.float32)
        block = stereo[: end - pos]
        font.render(_bytes(block))
        out[pos:end] = block.mean(axis=1)

    pos = 0
    for sample, _, kind, chan, a, b in events:
        if sample > pos:
            render_to(sample)
            pos = sample
        if kind == 1:
            if 0 < b <= 127 and 0 <= a <= 127:
                font.channel_note_on(chan, a, b / 127.0)
        elif kind == 0:
            if 0 <= a <= 127:
                font.channel_note_off(chan, a)
        else:
            font.channel_midi_control(chan, a, b)
    if total > pos:
        render_to(total)
    return out


def _pedal_intervals(control_changes: Sequence[Any]) -> list[tuple[float, float]]:
    """(down, up) times of the sustain pedal (CC 64, value >= 64 is down); a pedal still
    down at the end is held forever."""
    spans, down = [], None
    for cc in sorted((c for c in control_changes if c.number == SUSTAIN_CC),
                     key=lambda c: c.time):
        if cc.value >= 64 and down is None:
            down = float(cc.time)
        elif cc.value < 64 and down is not None:
            spans.append((down, float(cc.time)))
            down = None
    if down is not None:
        spans.append((down, float("inf")))
    return spans


def sustained_offsets(notes: Sequence[Any], control_changes: Sequence[Any]) -> list[float]:
    """Sounding end of each note under the sustain pedal (TinySoundFont ignores CC 64).

    A note released while the pedal is down sounds until the pedal comes up, or until the
    same key is struck again, whichever is first (as on a piano: the damper falls, or the
    hammer strikes the string anew). Without pedal events the ends are the notes' own.
    """
    spans = _pedal_intervals(control_changes)
    downs = [d for d, _ in spans]
    onsets: dict[int, list[float]] = {}  # pitch -> sorted onsets of its notes
    for m in notes:
        onsets.setdefault(int(m.pitch), []).append(float(m.start))
    for v in onsets.values():
        v.sort()
    ends = []
    for n in notes:
        end = float(n.end)
        k = bisect.bisect_right(downs, end) - 1  # the last pedal going down at or before end
        if k >= 0 and end < spans[k][1]:
            end = spans[k][1]
        same = onsets[int(n.pitch)]
        j = bisect.bisect_right(same, float(n.start))  # the first restrike after the onset
        if j < len(same) and same[j] < end:
            end = same[j]
        ends.append(end)
    return ends


def render_notes(notes: Iterable[Sequence[float]], sr: int = 16000, *, program: int = GM_PIANO,
                 drums: bool = False, tail: float = 0.5, gain: float = 0.0) -> np.ndarray:
    """Render ``(pitch, onset_s, offset_s, velocity)`` tuples with one GM program
    (``drums=True``: GM percussion, pitch = drum key) to mono float32."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=int(program), is_drum=bool(drums))
    for pitch, onset, offset, velocity in notes:
        inst.notes.append(pretty_midi.Note(int(velocity), int(pitch), float(onset),
                                           float(offset)))
    pm.instruments.append(inst)
    return render_midi(pm, sr, tail=tail, gain=gain)
