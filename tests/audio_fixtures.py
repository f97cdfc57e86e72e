"""Audio that the tests of the real pretrained models make themselves: General MIDI
renderings (emolib.soundfont, TinySoundFont + pretty_midi's TimGM6mb.sf2) of a piano
passage, a drum loop, major and minor cadences and a scale, each with its own notes.

Notes are ``(pitch, onset_s, offset_s, velocity)``; audio is mono float32 at 16 kHz (the
world's rate; ``scale`` takes ``sr``), peak-normalised to 0.5.
"""
from __future__ import annotations

import numpy as np

from emolib.soundfont import render_notes

SR = 16000
Notes = list[tuple[int, float, float, int]]


def _norm(y: np.ndarray) -> np.ndarray:
    return (0.5 * y / max(float(np.abs(y).max()), 1e-9)).astype(np.float32)


def piano_passage_notes(seconds: float = 12.0) -> Notes:
    """A slow, soft C-major piano piece: left-hand chords, right-hand melody."""
    chords = [(48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50)]  # C Am F G
    melody = [72, 71, 69, 67, 65, 64, 62, 64, 67, 69, 71, 72]
    notes: Notes = []
    beat = 1.0
    for i in range(int(seconds / beat)):
        t = i * beat
        for p in chords[(i // 2) % 4]:
            notes.append((p, t, t + 2 * beat - 0.05, 55))
        notes.append((melody[i % len(melody)], t, t + beat * 0.95, 70))
    return notes


def piano_passage(seconds: float = 12.0) -> np.ndarray:
    return _norm(render_notes(piano_passage_notes(seconds), SR, program=0))


def drum_loop(seconds: float = 12.0, bpm: float = 128.0) -> np.ndarray:
    """A four-on-the-floor drum loop: kick on every beat, snare on 2 and 4, closed hi-hat
    on every eighth note (GM percussion keys 36, 38, 42)."""
    beat = 60.0 / bpm
    notes: Notes = []
    for i in range(int(seconds / beat)):
        t = i * beat
        notes.append((36, t, t + 0.1, 120))
        if i % 2 == 1:
            notes.append((38, t, t + 0.1, 110))
        notes.append((42, t, t + 0.05, 90))
        notes.append((42, t + beat / 2, t + beat / 2 + 0.05, 80))
    return _norm(render_notes(notes, SR, drums=True))


def cadence_notes(mode: str) -> Notes:
    """I–IV–V–I in C major (``"major"``) or i–iv–V–i in A minor (``"minor"``), two
    seconds per chord, bass doubled, played twice."""
    if mode == "major":
        chords = [(48, 60, 64, 67), (41, 60, 65, 69), (43, 59, 62, 67), (48, 60, 64, 67)]
    elif mode == "minor":
        chords = [(45, 57, 60, 64), (38, 57, 62, 65), (40, 56, 59, 64), (45, 57, 60, 64)]
    else:
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    notes: Notes = []
    for rep in range(2):
        for j, chord in enumerate(chords):
            t = (rep * len(chords) + j) * 2.0
            notes += [(p, t, t + 1.9, 80) for p in chord]
    return notes


def cadence(mode: str) -> np.ndarray:
    return _norm(render_notes(cadence_notes(mode), SR, program=0))


def scale_notes(start: int = 60, n: int = 15, step: float = 0.4) -> Notes:
    """An ascending-then-descending C-major scale from ``start``, one note per ``step`` s."""
    up = [0, 2, 4, 5, 7, 9, 11, 12]
    pitches = [start + d for d in up] + [start + d for d in reversed(up[:-1])]
    return [(p, i * step, i * step + step * 0.9, 80) for i, p in enumerate(pitches[:n])]


def scale(start: int = 60, n: int = 15, step: float = 0.4, sr: int = SR) -> np.ndarray:
    return _norm(render_notes(scale_notes(start, n, step), sr, program=0))
