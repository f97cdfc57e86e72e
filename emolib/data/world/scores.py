"""Piano scores and their expressive renditions: the composer and performer of the world.

Shared by the expressive performances (:mod:`emolib.data.world.performances`, Con
Espressione role) and the mid-level training clips (:mod:`emolib.data.world.midlevel`,
mid-level dataset role), which import it; it imports neither.

A small composer writes short piano scores (:func:`compose`), each with its own character
(:class:`ScoreSpec`: key and mode, metre, texture, melody rhythm and contour, harmony
colour; :data:`PIECE_CHARACTERS`, :func:`piece_specs`); an expressive renderer
(:func:`render`) plays a score in a performer :class:`Style` — tempo curve (global tempo,
rubato arches, phrase-final ritardandi), timing noise, dynamics (level, phrase swells,
metric accents), articulation (legato ratio), sustain pedal and melody voicing; the
``deadpan`` style (:data:`STYLES`) is the mechanical rendering (constant tempo and
velocity, nominal durations, no pedal). A :class:`Rendition` is the performed note list;
:func:`to_pretty_midi`, :func:`synthesize_rendition` and :func:`wav_bytes` turn it into
MIDI and audio (its MIDI file bytes: :func:`emolib.data.world.midi.midi_bytes`).

The scores are composed by this project's rules (no real scores are used); everything is
a pure function of its arguments. Notebooks: 03_chowdhury2023, 00_tour (through
``make_world``).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace

import numpy as np

from emolib.seed import rng

__all__ = [
    "ScoreSpec",
    "Score",
    "Style",
    "Rendition",
    "STYLES",
    "PIECE_CHARACTERS",
    "piece_specs",
    "compose",
    "style_for",
    "render",
    "crop",
    "sounding_offsets",
    "to_pretty_midi",
    "SYNTH_GAIN",
    "synthesize_rendition",
    "wav_bytes",
]

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor; V and vii get the raised leading tone


# =========================================================================== scores
@dataclass(frozen=True)
class ScoreSpec:
    """Character of a composed piece (all the composer's choices)."""

    name: str
    tonic: int = 0                 # pitch class of the key
    mode: str = "major"            # "major" | "minor"
    beats_per_bar: int = 4         # 2 (compound 6/8: beats of 3 subdivisions), 3 or 4
    subdiv: int = 2                # subdivisions of the beat (2 simple, 3 compound)
    bpm: float = 90.0              # nominal tempo (beats per minute)
    texture: str = "chorale"       # chorale | alberti | arpeggio | waltz | block | melody_bass
    rhythm: str = "even"           # even | dotted | syncopated | long
    step_prob: float = 0.75        # probability of a stepwise melodic move
    chromatic: float = 0.0         # probability of a chromatic alteration of a weak note
    add7: float = 0.0              # probability of adding the chord's seventh
    cluster: float = 0.0           # probability of a semitone cluster on the chord root
    staccato: float = 0.0          # share of melody notes written short (half their IOI)
    phrase_bars: int = 4
    n_bars: int = 8
    harm_per_bar: int = 1          # chord changes per bar (1 or 2)

    def __post_init__(self) -> None:
        if self.mode not in ("major", "minor"):
            raise ValueError(f"mode must be 'major' or 'minor', got {self.mode!r}")
        if self.beats_per_bar not in (2, 3, 4):
            raise ValueError(f"beats_per_bar must be 2, 3 or 4, got {self.beats_per_bar!r}")
        if self.texture not in _TEXTURES:
            raise ValueError(f"texture must be one of {_TEXTURES}, got {self.texture!r}")
        if self.rhythm not in _BAR_RHYTHMS[4]:
            raise ValueError(f"rhythm must be one of {tuple(_BAR_RHYTHMS[4])}, got {self.rhythm!r}")
        if self.n_bars < 1 or self.phrase_bars < 1:
            raise ValueError("n_bars and phrase_bars must be positive")


@dataclass(frozen=True)
class Score:
    """A composed score: notes in beats. ``voice`` 0 melody, 1 accompaniment, 2 bass."""

    spec: ScoreSpec
    onset: np.ndarray      # beats
    duration: np.ndarray   # beats (written)
    pitch: np.ndarray
    voice: np.ndarray
    chord_changes: np.ndarray  # beats where the harmony changes (pedal points)

    @property
    def n_beats(self) -> float:
        return float(self.spec.n_bars * self.spec.beats_per_bar)

    @property
    def phrase_beats(self) -> float:
        return float(self.spec.phrase_bars * self.spec.beats_per_bar)


_TEXTURES = ("chorale", "alberti", "arpeggio", "waltz", "block", "melody_bass")

# melody rhythms: patterns of note durations (beats) filling one bar
_BAR_RHYTHMS: dict[int, dict[str, list[list[float]]]] = {
    4: {"even": [[1, 1, 1, 1], [.5, .5, 1, .5, .5, 1], [.5] * 8, [1, .5, .5, 1, 1]],
        "dotted": [[1.5, .5, 1.5, .5], [.75, .25, .75, .25, 1, 1], [1.5, .5, 2]],
        "syncopated": [[.5, 1, .5, 1, 1], [1, .5, 1, .5, 1], [.5, 1, 1, 1, .5]],
        "long": [[2, 2], [3, 1], [2, 1, 1], [4]]},
    3: {"even": [[1, 1, 1], [.5, .5, 1, 1], [.5] * 6, [1, .5, .5, 1]],
        "dotted": [[1.5, .5, 1], [.75, .25, 1, 1], [2, 1]],
        "syncopated": [[.5, 1, 1, .5], [1, .5, 1, .5], [.5, 1, 1.5]],
        "long": [[2, 1], [3], [1, 2]]},
    2: {"even": [[2 / 3, 1 / 3, 2 / 3, 1 / 3], [1 / 3] * 6, [1, 1], [1, 1 / 3, 1 / 3, 1 / 3]],
        "dotted": [[.5, 1 / 6, 1 / 3, 1], [1, .5, 1 / 6, 1 / 3]],
        "syncopated": [[1 / 3, 2 / 3, 1 / 3, 2 / 3], [2 / 3, 2 / 3, 2 / 3]],
        "long": [[2], [1, 1], [4 / 3, 2 / 3]]},
}

# chord roots (scale degrees, 0-based) per bar for a 4-bar phrase
_PROGRESSIONS = {
    "major": [[0, 3, 4, 0], [0, 5, 3, 4], [0, 4, 5, 3], [0, 1, 4, 0], [0, 3, 0, 4], [0, 5, 1, 4]],
    "minor": [[0, 3, 4, 0], [0, 5, 3, 4], [0, 6, 5, 4], [0, 3, 6, 2], [0, 5, 1, 4], [0, 3, 0, 4]],
}

#: Nine piece characters; :func:`piece_specs` permutes and jitters them with the seed.
PIECE_CHARACTERS: tuple[ScoreSpec, ...] = (
    ScoreSpec("chorale", mode="minor", beats_per_bar=4, bpm=66, texture="chorale",
              rhythm="long", step_prob=0.9, add7=0.2, harm_per_bar=2),
    ScoreSpec("minuet", mode="major", beats_per_bar=3, bpm=108, texture="waltz",
              rhythm="even", step_prob=0.7, staccato=0.3),
    ScoreSpec("nocturne", mode="minor", beats_per_bar=4, bpm=72, texture="arpeggio",
              rhythm="dotted", step_prob=0.8, add7=0.4, chromatic=0.1),
    ScoreSpec("march", mode="major", beats_per_bar=4, bpm=112, texture="block",
              rhythm="dotted", step_prob=0.55, staccato=0.45),
    ScoreSpec("lament", mode="minor", beats_per_bar=3, bpm=60, texture="melody_bass",
              rhythm="long", step_prob=0.85, chromatic=0.2, add7=0.3),
    ScoreSpec("etude", mode="major", beats_per_bar=4, bpm=96, texture="alberti",
              rhythm="even", step_prob=0.75, phrase_bars=2),
    ScoreSpec("barcarolle", mode="minor", beats_per_bar=2, subdiv=3, bpm=50,
              texture="arpeggio", rhythm="even", step_prob=0.8, add7=0.2),
    ScoreSpec("scherzo", mode="minor", beats_per_bar=3, bpm=138, texture="block",
              rhythm="syncopated", step_prob=0.5, staccato=0.5, cluster=0.15, chromatic=0.15),
    ScoreSpec("rag", mode="major", beats_per_bar=4, bpm=100, texture="waltz",
              rhythm="syncopated", step_prob=0.6, add7=0.5, chromatic=0.1, staccato=0.2),
)


def piece_specs(seed: int, n_pieces: int) -> list[ScoreSpec]:
    """``n_pieces`` piece specifications: the nine characters, permuted and jittered.

    Beyond nine, characters repeat with fresh jitter (key, tempo, progression, melody).
    Tempo and length are set so a deadpan rendering lasts about 15–25 s.
    """
    if not isinstance(n_pieces, (int, np.integer)) or n_pieces < 1:
        raise ValueError(f"n_pieces must be a positive integer, got {n_pieces!r}")
    g = rng(seed, "piece_specs")
    order = np.concatenate([g.permutation(len(PIECE_CHARACTERS))
                            for _ in range(int(np.ceil(n_pieces / len(PIECE_CHARACTERS))))])
    specs = []
    for i in range(n_pieces):
        base = PIECE_CHARACTERS[order[i]]
        bpm = float(np.round(base.bpm * g.uniform(0.9, 1.1), 1))
        bar_s = base.beats_per_bar * 60.0 / bpm
        target = g.uniform(16.0, 22.0)
        n_phr = max(1, int(round(target / (bar_s * base.phrase_bars))))
        specs.append(replace(base, name=f"{base.name}", tonic=int(g.integers(0, 12)), bpm=bpm,
                             n_bars=n_phr * base.phrase_bars,
                             step_prob=float(np.clip(base.step_prob + g.normal(0, 0.05), 0, 1))))
    return specs


def _scale_for(mode: str, root: int) -> tuple[int, ...]:
    """The scale (pcs relative to the tonic) used over a chord on degree ``root``."""
    if mode == "minor" and root in (4, 6):
        return (0, 2, 3, 5, 7, 8, 11)  # harmonic minor over V and vii
    return MAJOR if mode == "major" else MINOR


def _chord_pcs(mode: str, root: int, seventh: bool) -> list[int]:
    """Pitch classes (relative to the tonic) of the triad/seventh on degree ``root``."""
    sc = _scale_for(mode, root)
    degs = [root, root + 2, root + 4] + ([root + 6] if seventh else [])
    return [sc[d % 7] + 12 * (d // 7) for d in degs]


def _progression(spec: ScoreSpec, g: np.random.Generator) -> list[int]:
    """Chord roots per harmonic slot; every phrase ends on V or I, the piece on V–I."""
    roots: list[int] = []
    n_phr = spec.n_bars // spec.phrase_bars if spec.n_bars % spec.phrase_bars == 0 else \
        int(np.ceil(spec.n_bars / spec.phrase_bars))
    for p in range(n_phr):
        prog = list(_PROGRESSIONS[spec.mode][g.integers(len(_PROGRESSIONS[spec.mode]))])
        bars = [prog[int(k * 4 / spec.phrase_bars) % 4] for k in range(spec.phrase_bars)]
        if spec.phrase_bars >= 2:
            bars[-1] = 0 if p == n_phr - 1 else int(g.choice([4, 0]))
            if p == n_phr - 1:
                bars[-2] = 4
        roots += bars
    roots = roots[: spec.n_bars]
    return [r for r in roots for _ in range(spec.harm_per_bar)]  # re-struck per slot


def compose(spec: ScoreSpec, seed: int) -> Score:
    """Compose a score for ``spec`` (a pure function of ``spec`` and ``seed``)."""
    g = rng(seed, "compose", spec.name, spec.tonic, spec.n_bars, int(spec.bpm * 10))
    bpb, hpb = spec.beats_per_bar, spec.harm_per_bar
    roots = _progression(spec, g)
    slot = bpb / hpb
    base = 60 + spec.tonic if spec.tonic <= 5 else 48 + spec.tonic
    notes: list[tuple[float, float, int, int]] = []  # onset, dur, pitch, voice
    sevenths = g.random(len(roots)) < spec.add7
    clusters = g.random(len(roots)) < spec.cluster

    # --- melody (voice 0): diatonic walk, chord tones on strong beats
    idx = 9  # scale index relative to base: a third above the upper tonic
    for bar in range(spec.n_bars):
        end_of_phrase = (bar + 1) % spec.phrase_bars == 0
        pats = _BAR_RHYTHMS[bpb]["long" if end_of_phrase else spec.rhythm]
        pat = pats[int(g.integers(len(pats)))] if not end_of_phrase else pats[0]
        t = 0.0
        for k, d in enumerate(pat):
            b = bar * bpb + t
            root = roots[min(int(b // slot), len(roots) - 1)]
            sc = _scale_for(spec.mode, root)
            chord_degs = {(root + j) % 7 for j in (0, 2, 4)}
            strong = abs(t - round(t)) < 1e-6
            last = end_of_phrase and k == len(pat) - 1
            if strong or last:  # nearest chord tone, preferring steps
                cands = [i for i in range(idx - 4, idx + 5) if i % 7 in chord_degs]
                if last and bar == spec.n_bars - 1:
                    cands = [i for i in cands if i % 7 == 0] or cands
                w = np.array([1.0 / (1 + abs(i - idx)) ** (3 * spec.step_prob) for i in cands])
                w *= np.array([0.3 if i == idx else 1.0 for i in cands])
                idx = int(g.choice(cands, p=w / w.sum()))
            elif g.random() < spec.step_prob:
                idx += int(g.choice([-1, 1]))
            else:
                idx += int(g.choice([-4, -3, 3, 4, 5]))
            idx = int(np.clip(idx, 4, 15))
            if idx >= 14:
                idx -= 2
            pitch = base + sc[idx % 7] + 12 * (idx // 7)
            if not (strong or last) and g.random() < spec.chromatic:
                pitch += int(g.choice([-1, 1]))
            dur = d
            if not last and d <= 1 and g.random() < spec.staccato:
                dur = d / 2
            notes.append((b, dur, pitch, 0))
            t += d

    # --- accompaniment (voice 1) and bass (voice 2)
    acc_base = base - 12
    for s, root in enumerate(roots):
        b0 = s * slot
        pcs = _chord_pcs(spec.mode, root, bool(sevenths[s]))
        bass = acc_base - 12 + pcs[0] % 12
        if bass < 36:
            bass += 12
        chord = sorted({acc_base + (pc % 12) + (0 if (acc_base + pc % 12) >= 52 else 12)
                        for pc in pcs})
        if clusters[s]:
            chord = sorted(set(chord) | {chord[0] + 1})
        short = 0.5 if spec.staccato >= 0.3 else 1.0
        step = 1.0 / spec.subdiv
        if spec.texture == "chorale":
            notes += [(b0, slot, p, 1) for p in chord] + [(b0, slot, bass, 2)]
        elif spec.texture == "alberti":
            lo, hi, mid = chord[0], chord[-1], chord[len(chord) // 2]
            pattern = [lo, hi, mid, hi]
            n = int(round(slot / step))
            for k in range(n):
                notes.append((b0 + k * step, step, pattern[k % 4], 2 if k % 4 == 0 else 1))
        elif spec.texture == "arpeggio":
            arp = [bass] + chord + [c + 12 for c in chord]
            n = int(round(slot / step))
            for k in range(n):
                notes.append((b0 + k * step, step, arp[k % len(arp)], 2 if k == 0 else 1))
        elif spec.texture == "waltz":
            notes.append((b0, 1.0, bass, 2))
            for beat in range(1, int(slot)):
                notes += [(b0 + beat, short, p, 1) for p in chord]
            if int(slot) == 1:
                notes += [(b0 + 0.5, 0.5, p, 1) for p in chord]
        elif spec.texture == "block":
            notes.append((b0, slot, bass, 2))
            for beat in range(int(slot)):
                notes += [(b0 + beat, short, p, 1) for p in chord]
        else:  # melody_bass: a walking bass, root / fifth / third
            line = [bass, bass + 7 if bass + 7 < 55 else bass - 5, bass + pcs[1] - pcs[0]]
            for beat in range(int(slot)):
                notes.append((b0 + beat, 1.0, line[beat % 3], 2))
    arr = np.array(sorted(notes, key=lambda n: (n[0], n[3], n[2])), dtype=float)
    return Score(spec=spec, onset=np.round(arr[:, 0], 6), duration=arr[:, 1],
                 pitch=arr[:, 2].astype(int), voice=arr[:, 3].astype(int),
                 chord_changes=np.arange(len(roots)) * slot)


# =========================================================================== styles
@dataclass(frozen=True)
class Style:
    """Expressive choices of one performance (see :data:`STYLES`)."""

    name: str
    tempo_factor: float = 1.0     # global tempo multiplier
    rubato: float = 0.0           # depth of the within-phrase tempo arch
    ritardando: float = 0.0       # phrase-final slowing (relative tempo drop)
    timing_noise: float = 0.0     # s.d. of onset noise (s)
    velocity: float = 64.0        # mean MIDI velocity
    dyn_range: float = 0.0        # peak-to-peak phrase swell (velocity units)
    accent: float = 0.0           # extra velocity on downbeats
    dyn_noise: float = 0.0        # s.d. of velocity noise
    legato: float = 1.0           # sounding / written duration
    pedal: float = 0.0            # probability that a harmony is pedalled
    pedal_blur: bool = False      # pedal held across two harmonies
    melody_emphasis: float = 0.0  # velocity boost (and slight lead) of the melody

    def __post_init__(self) -> None:
        if self.tempo_factor <= 0:
            raise ValueError(f"tempo_factor must be positive, got {self.tempo_factor!r}")
        if not 0 <= self.pedal <= 1:
            raise ValueError(f"pedal must be in [0, 1], got {self.pedal!r}")
        if self.legato <= 0:
            raise ValueError(f"legato must be positive, got {self.legato!r}")
        if self.timing_noise < 0 or self.dyn_noise < 0:
            raise ValueError("timing_noise and dyn_noise must be non-negative")


#: Named performer styles; ``deadpan`` is the mechanical rendering.
STYLES: dict[str, Style] = {
    "deadpan": Style("deadpan"),
    "romantic": Style("romantic", 0.9, 0.12, 0.25, 0.012, 70, 24, 2, 3, 1.05, 0.8, False, 12),
    "virtuoso": Style("virtuoso", 1.25, 0.04, 0.10, 0.008, 88, 18, 6, 4, 0.75, 0.3, False, 10),
    "intimate": Style("intimate", 0.85, 0.07, 0.20, 0.010, 44, 10, 0, 2, 1.0, 0.6, False, 8),
    "percussive": Style("percussive", 1.12, 0.02, 0.05, 0.015, 100, 10, 12, 6, 0.4, 0.0, False, 3),
    "dramatic": Style("dramatic", 1.0, 0.10, 0.30, 0.015, 80, 36, 6, 5, 0.95, 0.6, False, 10),
    "playful": Style("playful", 1.2, 0.05, 0.05, 0.010, 76, 16, 8, 4, 0.45, 0.05, False, 8),
    "dreamy": Style("dreamy", 0.8, 0.09, 0.20, 0.012, 52, 14, 0, 3, 1.1, 1.0, True, 6),
    "classical": Style("classical", 1.0, 0.03, 0.10, 0.005, 66, 14, 4, 2, 0.85, 0.2, False, 6),
    "heavy": Style("heavy", 0.78, 0.04, 0.15, 0.010, 96, 10, 10, 4, 1.0, 1.0, True, 2),
}


def style_for(name: str, seed: int, key: str = "") -> Style:
    """The named style with per-performance jitter (deadpan is never jittered)."""
    if name not in STYLES:
        raise ValueError(f"style must be one of {tuple(STYLES)}, got {name!r}")
    s = STYLES[name]
    if name == "deadpan":
        return s
    g = rng(seed, "style", name, key)

    def j(x: float, rel: float) -> float:
        return float(max(0.0, x * (1 + g.normal(0, rel))))
    return replace(s, tempo_factor=j(s.tempo_factor, 0.05), rubato=j(s.rubato, 0.2),
                   ritardando=j(s.ritardando, 0.2), timing_noise=j(s.timing_noise, 0.2),
                   velocity=float(np.clip(s.velocity + g.normal(0, 4), 20, 115)),
                   dyn_range=j(s.dyn_range, 0.2), legato=float(max(0.2, j(s.legato, 0.06))),
                   pedal=float(np.clip(s.pedal + g.normal(0, 0.08), 0, 1)) if s.pedal > 0 else 0.0,
                   melody_emphasis=j(s.melody_emphasis, 0.2))


# =========================================================================== rendering
@dataclass(frozen=True)
class Rendition:
    """A performed note list: what the audio renderer and the mid-level formulas see."""

    pitch: np.ndarray
    velocity: np.ndarray
    onset: np.ndarray          # s
    offset: np.ndarray         # s (key release)
    voice: np.ndarray
    score_onset: np.ndarray    # beats
    score_duration: np.ndarray
    pedal: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (k, 2) down/up s
    beats_per_bar: int = 4
    program: int = 0           # General MIDI program used for synthesis


def sounding_offsets(r: Rendition) -> np.ndarray:
    """Key release extended to the pedal release when the pedal is down at key release."""
    off = np.asarray(r.offset, float).copy()
    for down, up in np.asarray(r.pedal, float).reshape(-1, 2):
        inside = (off >= down) & (off < up)
        off[inside] = up
    return off


def _tempo_map(score: Score, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Beat grid and performed time of each grid point (tempo curve integrated)."""
    spec = score.spec
    step = 1.0 / 48
    grid = np.arange(0, score.n_beats + 8 + step, step)
    mid = grid[:-1] + step / 2
    pos = (mid % score.phrase_beats) / score.phrase_beats
    m = 1 + style.rubato * (np.sin(np.pi * pos) - 2 / np.pi)
    m -= style.ritardando * np.clip((pos - 0.75) / 0.25, 0, 1) ** 2
    tail = 1.5 * spec.beats_per_bar
    m -= 1.5 * style.ritardando * np.clip((mid - (score.n_beats - tail)) / tail, 0, 1) ** 2
    m = np.clip(m, 0.4, None)
    spb = 60.0 / (spec.bpm * style.tempo_factor * m)
    return grid, np.concatenate([[0.0], np.cumsum(spb * step)])


def render(score: Score, style: Style, seed: int, key: str = "", program: int = 0) -> Rendition:
    """Perform ``score`` in ``style``: a pure function of its arguments."""
    g = rng(seed, "render", style.name, key)
    grid, tgrid = _tempo_map(score, style)

    def t_of(b: np.ndarray) -> np.ndarray:
        return np.interp(b, grid, tgrid)
    beats = np.unique(score.onset)
    tb = t_of(beats) + g.normal(0, style.timing_noise, len(beats)) if style.timing_noise > 0 \
        else t_of(beats)
    for i in range(1, len(tb)):  # keep the onset order of the score
        tb[i] = max(tb[i], tb[i - 1] + 0.02)
    tb -= min(0.0, float(tb[0]))
    gi = np.searchsorted(beats, score.onset)
    onset = tb[gi].copy()
    if style.timing_noise > 0:
        onset += g.normal(0, 0.3 * style.timing_noise, len(onset))
    onset -= 0.02 * (style.melody_emphasis / 12) * (score.voice == 0)
    nominal = t_of(score.onset + score.duration) - t_of(score.onset)
    offset = onset + np.maximum(style.legato * nominal, 0.04)
    onset = np.maximum(onset, 0.0)
    # dynamics: phrase swell, downbeat accent, melody emphasis, noise
    pos = (score.onset % score.phrase_beats) / score.phrase_beats
    vel = style.velocity + style.dyn_range * (np.sin(np.pi * pos) - 0.5)
    vel = vel + style.accent * (np.abs(score.onset % score.spec.beats_per_bar) < 1e-6)
    vel = vel + style.melody_emphasis * (score.voice == 0) - 0.3 * style.melody_emphasis * (
        score.voice == 1)
    if style.dyn_noise > 0:
        vel = vel + g.normal(0, style.dyn_noise, len(vel))
    vel = np.clip(np.round(vel), 1, 127).astype(int)
    # sustain pedal: legato pedalling at harmony changes
    pedal = []
    cc = np.concatenate([score.chord_changes, [score.n_beats]])
    use = g.random(len(cc) - 1) < style.pedal
    span = 2 if style.pedal_blur else 1
    for i in range(len(cc) - 1):
        if use[i]:
            down = float(t_of(cc[i])) + 0.05
            up = float(t_of(cc[min(i + span, len(cc) - 1)])) + (0.3 if i + span >= len(cc) - 1
                                                                 else 0.0)
            if pedal and down <= pedal[-1][1]:
                pedal[-1][1] = max(pedal[-1][1], up)
            else:
                pedal.append([down, up])
    return Rendition(pitch=score.pitch.copy(), velocity=vel, onset=np.round(onset, 6),
                     offset=np.round(offset, 6), voice=score.voice.copy(),
                     score_onset=score.onset.copy(), score_duration=score.duration.copy(),
                     pedal=np.round(np.array(pedal, float).reshape(-1, 2), 6),
                     beats_per_bar=score.spec.beats_per_bar, program=program)


def crop(r: Rendition, duration: float) -> Rendition:
    """Keep the notes starting before ``duration`` - 0.05 s, releases clipped to it."""
    keep = r.onset < duration - 0.05
    if not keep.any():
        raise ValueError(f"no note starts within the first {duration} s")
    ped = np.clip(r.pedal, 0, duration)
    ped = ped[ped[:, 1] > ped[:, 0]] if len(ped) else ped
    return replace(r, pitch=r.pitch[keep], velocity=r.velocity[keep], onset=r.onset[keep],
                   offset=np.minimum(r.offset[keep], duration), voice=r.voice[keep],
                   score_onset=r.score_onset[keep], score_duration=r.score_duration[keep],
                   pedal=ped.reshape(-1, 2))


# =========================================================================== I/O
def to_pretty_midi(r: Rendition, apply_pedal: bool = False):
    """A ``pretty_midi.PrettyMIDI`` of the rendition.

    With ``apply_pedal=False`` (the stored MIDI) notes end at key release and the pedal is
    written as CC64, which the world's renderer honours (:func:`synthesize_rendition`);
    with ``True`` the pedal is baked into the note ends and no CC64 is written, so any
    synthesiser hears it. Either way a key struck again (voices doubling a note) ends its
    previous note (:func:`~emolib.data.world.playable.make_playable`), so the MIDI file
    reads back as written.
    """
    import pretty_midi

    from emolib.data.world.playable import make_playable

    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=int(r.program), name="piano" if r.program < 8 else
                                  f"program{r.program}")
    ends = sounding_offsets(r) if apply_pedal else r.offset
    order = np.lexsort((r.pitch, r.onset))
    for i in order:
        inst.notes.append(pretty_midi.Note(velocity=int(r.velocity[i]), pitch=int(r.pitch[i]),
                                           start=float(r.onset[i]), end=float(ends[i])))
    if not apply_pedal:
        for down, up in r.pedal:
            inst.control_changes.append(pretty_midi.ControlChange(64, 127, float(down)))
            inst.control_changes.append(pretty_midi.ControlChange(64, 0, float(up)))
    pm.instruments.append(inst)
    return make_playable(pm)


#: Fixed gain of the rendered performances (:func:`synthesize_rendition`): loudness
#: differences between performances stay audible; peak <= 0.9. Calibrated on the SoundFont
#: renderer: no performance reaches the limit (median peak ~0.22; about 1 mid-level clip in
#: 20, the densest, does).
SYNTH_GAIN = 1.1


def synthesize_rendition(r: Rendition, sr: int, gain: float = SYNTH_GAIN) -> np.ndarray:
    """Audio of the rendition: its MIDI (program ``r.program``, pedal as CC64) rendered with
    the GM SoundFont (:func:`emolib.data.world.sound.synthesize`, fixed ``gain``)."""
    from emolib.data.world.sound import synthesize

    return np.asarray(synthesize(to_pretty_midi(r), sr=sr, gain=gain), dtype=np.float32)


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    """16-bit PCM WAV bytes (peak-limited to avoid clipping; deterministic)."""
    import soundfile as sf

    audio = np.asarray(audio, np.float64)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0.99:
        audio = audio * (0.99 / peak)
    buf = io.BytesIO()
    sf.write(buf, audio, sr, subtype="PCM_16", format="WAV")
    return buf.getvalue()
