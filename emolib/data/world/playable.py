"""One key sounds once at a time: the world's MIDI made playable as written.

A MIDI channel cannot hold the same key twice: a second note-on of a sounding key and the
first note-off that follows are ambiguous, and readers resolve them differently
(``pretty_midi`` ends every open note of the key at the first note-off). The composer can
write such overlaps — a legato melody note tied over into the same pitch, the melody and
the accompaniment of a solo-piano piece meeting on one key, a score's voices doubling a
note, fast hi-hats — so before a piece is rendered and written, :func:`make_playable`
ends each note where the same key is struck again (as a piano's hammer re-strikes the
string, and as :func:`emolib.soundfont.sustained_offsets` hears it) and merges strikes of
one key closer than a MIDI tick and a half into one (the louder velocity, the later end).
The audio and the stored MIDI then describe the same notes, and the MIDI file reads back
as written. Used by the music, piano, paired and performance builders.
"""
from __future__ import annotations

import pretty_midi

__all__ = ["make_playable"]


def make_playable(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """``pm`` with no key of any track sounding twice at once (changed in place and
    returned); notes sorted by (start, pitch). Control changes are kept as they are."""
    tempo = float(pm.get_tempo_changes()[1][0]) if len(pm.get_tempo_changes()[1]) else 120.0
    merge = 1.5 * 60.0 / (tempo * pm.resolution)  # seconds: a tick and a half
    for inst in pm.instruments:
        by_key: dict[int, list[pretty_midi.Note]] = {}
        for n in inst.notes:
            by_key.setdefault(int(n.pitch), []).append(n)
        notes: list[pretty_midi.Note] = []
        for key_notes in by_key.values():
            key_notes.sort(key=lambda n: (n.start, n.end))
            strikes: list[pretty_midi.Note] = []
            for n in key_notes:
                if strikes and n.start - strikes[-1].start < merge:
                    last = strikes[-1]
                    last.velocity, last.end = max(last.velocity, n.velocity), max(last.end,
                                                                                   n.end)
                    continue
                strikes.append(pretty_midi.Note(velocity=n.velocity, pitch=n.pitch,
                                                start=n.start, end=n.end))
            for a, b in zip(strikes, strikes[1:]):
                if a.end > b.start:
                    a.end = b.start
            notes += strikes
        notes.sort(key=lambda n: (n.start, n.pitch))
        inst.notes = notes
    return pm
