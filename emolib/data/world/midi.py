"""The world's one MIDI file writer, :func:`midi_bytes` (deterministic bytes).

Two encoders, chosen by ``writer`` (the default depends on what is written, so that every
file of the world keeps its bytes):

* ``"direct"`` — a small Standard MIDI File (format 1) encoder, ~50x faster than
  ``PrettyMIDI.write`` (which otherwise dominates the clip builders); pieces it does not
  cover (several tempi, key signatures, lyrics, pitch bends, > 15 instruments) fall back
  to ``PrettyMIDI.write``. The default for a ``pretty_midi.PrettyMIDI`` (the music, piano
  and paired clips).
* ``"pretty_midi"`` — ``PrettyMIDI.write``. The default for a
  :class:`~emolib.data.world.scores.Rendition`, converted with
  :func:`~emolib.data.world.scores.to_pretty_midi` (pedal as CC64; the performances).

Either way ``pretty_midi`` reads the file back with the same notes (times quantised to
ticks), programs, drums and CCs. Notebooks: all (through ``make_world``).
"""
from __future__ import annotations

import io
import math

import pretty_midi

from emolib.data.world.scores import Rendition, to_pretty_midi

__all__ = ["MIDI_WRITERS", "midi_bytes"]

#: The encoders :func:`midi_bytes` knows.
MIDI_WRITERS: tuple[str, ...] = ("direct", "pretty_midi")


def midi_bytes(midi: pretty_midi.PrettyMIDI | Rendition, writer: str | None = None) -> bytes:
    """Standard MIDI File bytes of a ``PrettyMIDI`` or a rendition, deterministic.

    ``writer`` is ``"direct"`` (default for a ``PrettyMIDI``) or ``"pretty_midi"``
    (default for a :class:`~emolib.data.world.scores.Rendition`); see the module docstring.
    """
    if isinstance(midi, Rendition):
        pm, default = to_pretty_midi(midi), "pretty_midi"
    elif isinstance(midi, pretty_midi.PrettyMIDI):
        pm, default = midi, "direct"
    else:
        raise TypeError(f"midi_bytes needs a pretty_midi.PrettyMIDI or a Rendition, "
                        f"got {type(midi).__name__}")
    writer = default if writer is None else writer
    if writer == "direct":
        return _direct(pm)
    if writer == "pretty_midi":
        return _pretty_midi_write(pm)
    raise ValueError(f"writer must be one of {MIDI_WRITERS}, got {writer!r}")


def _vlq(n: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    events.sort(key=lambda e: (e[0], e[1]))
    body, last = bytearray(), 0
    for tick, _, data in events:
        body += _vlq(tick - last) + data
        last = tick
    body += _vlq(0) + b"\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _pretty_midi_write(pm: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def _direct(pm: pretty_midi.PrettyMIDI) -> bytes:
    """The direct encoder (single-tempo pieces; anything else -> ``PrettyMIDI.write``)."""
    tempo_times, tempi = pm.get_tempo_changes()
    if len(tempi) != 1 or pm.key_signature_changes or pm.lyrics or \
            any(i.pitch_bends for i in pm.instruments) or len(pm.instruments) > 15:
        return _pretty_midi_write(pm)
    res = int(pm.resolution)
    mpqn = int(round(6e7 / float(tempi[0])))
    ticks_per_s = 1e6 / mpqn * res

    def tick(t: float) -> int:
        return int(round(float(t) * ticks_per_s))

    conductor = [(0, 0, b"\xff\x51\x03" + mpqn.to_bytes(3, "big"))]
    for ts in pm.time_signature_changes:
        dd = int(round(math.log2(ts.denominator)))
        conductor.append((tick(ts.time), 1, b"\xff\x58\x04" + bytes(
            [ts.numerator, dd, 24, 8])))
    tracks = [_track(conductor)]
    channels = [c for c in range(16) if c != 9]
    melodic = 0
    for inst in pm.instruments:
        if inst.is_drum:
            ch = 9
        else:
            ch = channels[melodic % len(channels)]
            melodic += 1
        name = inst.name.encode("ascii", "replace")[:127]
        ev: list[tuple[int, int, bytes]] = [(0, 0, b"\xff\x03" + _vlq(len(name)) + name),
                                            (0, 1, bytes([0xC0 | ch, inst.program & 0x7F]))]
        for cc in inst.control_changes:
            ev.append((tick(cc.time), 3, bytes([0xB0 | ch, cc.number & 0x7F,
                                                 cc.value & 0x7F])))
        for n in inst.notes:
            on = tick(n.start)
            off = max(tick(n.end), on + 1)
            ev.append((on, 4, bytes([0x90 | ch, n.pitch & 0x7F, max(1, n.velocity & 0x7F)])))
            ev.append((off, 2, bytes([0x80 | ch, n.pitch & 0x7F, 0])))
        tracks.append(_track(ev))
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + \
        len(tracks).to_bytes(2, "big") + res.to_bytes(2, "big")
    return header + b"".join(tracks)
