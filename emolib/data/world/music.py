"""Music clips of the emotion world (AudioSet-mood role): composed MIDI + audio + tags.

Each clip is a short piece — melody, accompaniment (chords), optional bass and drums —
whose musical cues are continuous functions of the latent valence–arousal point, with a
modest, label-specific "colour", following the cue literature (Gabrielsson & Lindström
2010, "The role of structure in the musical expression of emotions"; Juslin & Laukka
2003; Eerola et al. 2013):

* **valence** -> mode (major vs minor, probabilistically), consonance (added 7ths vs
  clusters/tritones), register (higher = brighter), melodic contour;
* **arousal** -> tempo, note density, loudness (velocity) and accents, accompaniment
  figure (held chords -> arpeggios -> pulsing chords), presence of drums/bass;
* **label colour** (offsets, deliberately smaller than the latent effects so neighbouring
  classes overlap): *angry* dissonance/accents/low register/busy drums; *exciting*
  tempo/density/drive; *funny* bouncy staccato, leaps, chromatic grace notes, marimba or
  pizzicato-like plucks; *happy* major, regular rhythm, high register; *sad* slow legato,
  low register, minor; *scary* string tremolo, clusters, tritones, chromatic harmony,
  irregular rhythm, dynamic swells; *tender* soft legato, warm 7ths, pedal, 3/4.

All randomness comes from :func:`emolib.seed.rng`, so every function is a pure function
of its arguments. The cue rules were written by this project as a teaching/testing
instrument; they are not the AudioSet data.

**Instrumentation** is a cue rule too. Every clip is rendered from its MIDI with the
General MIDI SoundFont ``TimGM6mb.sf2`` (:mod:`emolib.data.world.sound`), so the GM
program of each track is the instrument heard. The literature followed: timbre alone
changes the emotion listeners perceive in a melody, with melody, tempo and loudness held
fixed (Hailstone et al. 2009, "It's not what you play, it's how you play it: timbre
affects perception of emotion in music", QJEP 62(11)); in isolated instrument tones of
equal pitch, loudness and duration, the affect ratings (valence, energy and tension
arousal) are predicted by a few spectral and temporal descriptors, among them the ratio of
high- to low-frequency energy (brightness) and the attack slope — bright, sharp-attack
tones are rated more energetic and tense (Eerola, Ferrer & Alluri 2012, "Timbre and affect
dimensions: evidence from affect and similarity ratings and acoustic correlates of
isolated instrument sounds", Music Perception 30(1)); the cross-modal cue table of Juslin
& Laukka (2003, Psych. Bulletin 129(5)) gives bright/sharp timbre (much high-frequency
energy, fast attacks) for anger and happiness (anger the brighter) and soft/dull timbre
(little high-frequency energy, slow attacks) for sadness and tenderness, a soft spectrum
for fear; instruments that cannot sustain (marimba, xylophone) afford the short, bright
notes of happy music, not the long legato of sad music (Schutz, Huron, Keeton & Loewer
2008, "The happy xylophone", Empirical Musicology Review 3(3)). The GM programs (0-based;
the TimGM6mb preset names) and what the SoundFont makes of them (measured at 16 kHz on
C3/C4/C5, velocity 90: spectral centroid in multiples of f0, time to 90 % of the peak
envelope):

==========  ================================  =============  ==========================
timbre      GM program (TimGM6mb preset)      centroid/f0,   cue (literature above)
                                              attack
==========  ================================  =============  ==========================
piano       0 Acoustic Grand ("Piano 1")      2.3, 18 ms     sharp attack, decaying;
                                                             neutral (every piano role)
strings     48 String Ensemble 1              1.8, 580 ms    soft/dull, slow attack:
            ("Strings CLP"); tremolo figures:                sadness, tenderness, fear
            44 Tremolo Strings, held notes    2.5, 110 ms    (bowed tremolo: fear)
pluck       25 Steel-string Acoustic Guitar   1.4, 10 ms     sharp attack, short decay:
            ("Steel Guitar")                                 happiness
mallet      12 Marimba                        1.0, 27 ms     short, percussive (cannot
                                                             sustain): happy, funny
synth       81 Sawtooth Lead ("Saw Wave")     2.2, 4 ms      sharpest attack, bright:
                                                             anger, high arousal
organ       19 Church Organ                   3.3, 85 ms     bright (much high-frequency
                                                             energy), loud, sustained:
                                                             anger
bass        33 Electric Bass (finger)         3.2, 3 ms      (bass line, any mood)
drums       channel 10, standard kit          —              (high arousal)
==========  ================================  =============  ==========================

Melody and accompaniment timbres are drawn with weights = a latent base + the label's
colour (:func:`timbre_weights`; :data:`_COLOUR` ``melody`` / ``accomp``). The base, with
v, a = valence, arousal in [0, 1]:

=========  ==========================  =====================  ============================
timbre     melody base                 accompaniment base     why
=========  ==========================  =====================  ============================
piano      1.0 + 0.5 (1 - a)           1.0                    the default instrument
strings    0.5 + 0.6 (1 - v)           0.5 + 0.6 (1 - a)      soft/dull: sad, fear, tender
pluck      0.4 + 0.5 v                 0.3 + 0.4 v            sharp attack: happiness
synth      0.1 + 0.7 a²                0.1 + 0.5 a²           sharp/bright: high arousal
organ      0.25                        0.2                    bright (colour: anger)
mallet     0.15 + 0.4 v · staccato     0.1                    short notes: happy, funny
=========  ==========================  =====================  ============================

and the label colours (added weights; tremolo accompaniment is given to the strings
80 % of the time whatever the label):

=========  =====================================  =========================================
label      melody / accompaniment colour          cue
=========  =====================================  =========================================
angry      synth +1.0 / +0.6, organ +0.6 / +0.6   bright, sharp timbre (J&L 2003; Eerola
                                                  et al. 2012: brightness and attack raise
                                                  energy and tension)
exciting   synth +0.8 / +0.5, pluck +0.5 / +0.5,  sharp attacks, medium-high brightness
           piano +0.3 / +0.4                      (J&L 2003, happiness / high arousal)
funny      mallet +1.4 / +0.4, pluck +0.6 / +0.7, short percussive notes (Schutz et al.
           organ +0.4 / —, piano — / +0.5         2008); no timbre study of humour: the
                                                  organ is the composer's choice
happy      piano +0.8 / +0.8, pluck +0.7 / +0.6,  bright, fast attacks (J&L 2003)
           strings +0.2 / —
sad        piano +1.0 / +0.8, strings +0.8 / +0.8 soft, dull, slow attacks (J&L 2003)
scary      strings +1.0 / +1.2, piano +0.6 /      soft spectrum (J&L 2003, fear), bowed
           +0.3, synth +0.3 / —, organ — / +0.4   string tremolo (GM 44)
tender     piano +1.0 / +0.8, strings +0.5 /      soft timbre, slow attacks (J&L 2003)
           +0.8, pluck +0.5 / +0.5
=========  =====================================  =========================================

A tremolo figure of the strings is written as held notes on GM 44, whose sample is a bowed
tremolo (repeated 90-ms notes on the ensemble preset, whose attack is 580 ms, never reach
their level, and each leaves a 3-s release behind); on any other timbre (the piano roles'
tremolo, for one) it stays repeated notes.

Changed against the literature in issue 15: *angry* no longer adds strings (+0.4 melody,
+0.4 accompaniment before): the GM string ensemble is the softest, slowest-attack timbre
of the set, the cue Juslin & Laukka give for sadness and tenderness, not anger (angry
clips still get strings from the low-valence base weight and with tremolo). The other
weights and programs already matched the table; the composer's programs are
:data:`PROGRAMS`.

Tags (MagnaTagATune role) are derived from the *realised* piece (instruments actually
used, tempo, mean velocity, mode, dissonance...) and then made noisy (missed tags,
occasional spurious tags), like crowd-sourced tags. Captions are short sentences built
from the same realised cues with wording variation.

Notebooks: 00_tour (the world), 01_won2021, 02_emoclim2024 (through ``make_world``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi

from emolib.io import atomic_path, atomic_write_bytes
from emolib.seed import rng

from .midi import midi_bytes
from .playable import make_playable
from .runner import run_items
from .sound import synthesize

__all__ = [
    "MUSIC_LABELS",
    "TAG_VOCAB",
    "CLIP_GAIN",
    "PROGRAMS",
    "TREMOLO_PROGRAM",
    "TIMBRE_POOL",
    "timbre_weights",
    "PieceSpec",
    "Motif",
    "spec_from_latent",
    "make_motif",
    "render_piece",
    "piece_stats",
    "tags_from_piece",
    "caption_from_piece",
    "compose_clip",
    "render_audio",
    "timbre_for",
    "midi_bytes",  # from emolib.data.world.midi (re-exported)
    "write_clip",
    "item_seed",
    "run_items",  # from emolib.data.world.runner (re-exported)
    "build_music",
]

log = logging.getLogger(__name__)

#: The AudioSet-mood labels (same order as ``taxonomies.TAXONOMIES["audioset"]``).
MUSIC_LABELS: tuple[str, ...] = ("angry", "exciting", "funny", "happy", "sad", "scary",
                                 "tender")

#: MagnaTagATune-like tag vocabulary: instruments, tempo, loudness, mood-ish, style.
TAG_VOCAB: tuple[str, ...] = (
    # instruments
    "piano", "strings", "guitar", "bass", "drums", "synth", "organ", "marimba",
    # tempo
    "fast", "slow",
    # loudness
    "loud", "quiet", "soft",
    # mood-ish
    "happy", "sad", "dark", "calm", "energetic", "weird",
    # style
    "classical", "pop", "ambient", "electronic", "rock", "jazz",
    # texture
    "solo",
)

#: Fixed gain applied by :func:`render_audio` (loudness differences survive; peak <= 0.9).
#: Calibrated on the SoundFont renderer: about 1 music clip in 20 reaches the 0.9 limit
#: (none of the piano-role clips), median clip peak ~0.47 (the old synthesiser's ~0.50).
CLIP_GAIN: float = 0.7

_TIMBRE_TAG = {"piano": "piano", "strings": "strings", "pluck": "guitar", "bass": "bass",
               "drums": "drums", "synth": "synth", "organ": "organ", "mallet": "marimba"}

#: GM program (0-based) of each timbre of the composer; the SoundFont plays these presets
#: of TimGM6mb.sf2 (see the module docstring for why each).
PROGRAMS: dict[str, int] = {"piano": 0, "mallet": 12, "organ": 19, "pluck": 25, "bass": 33,
                            "strings": 48, "synth": 81}

#: GM program of bowed string tremolo ("Tremolo Strings"; TimGM6mb "Strings (Tremelo)"):
#: tremolo figures of the strings are held notes on this preset, which plays the tremolo.
TREMOLO_PROGRAM: int = 44

#: (first program, last program, timbre): the GM families, for any MIDI's tags.
_GM_FAMILIES: tuple[tuple[int, int, str], ...] = (
    (0, 7, "piano"), (8, 15, "mallet"), (16, 23, "organ"), (24, 31, "pluck"),
    (32, 39, "bass"), (40, 55, "strings"), (56, 79, "organ"), (80, 87, "synth"),
    (88, 95, "strings"), (96, 103, "synth"), (104, 111, "pluck"), (112, 119, "mallet"),
    (120, 127, "synth"))


def timbre_for(program: int, is_drum: bool = False) -> str:
    """The world's timbre category of a General-MIDI ``program`` (0..127) or a drum track
    (the composer's own programs, :data:`PROGRAMS`, map back to their timbre)."""
    if is_drum:
        return "drums"
    if not 0 <= int(program) <= 127:
        raise ValueError(f"program must be a General-MIDI program 0..127, got {program!r}")
    return next(t for lo, hi, t in _GM_FAMILIES if lo <= int(program) <= hi)


_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_MAJOR_PROGS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (0, 1, 4, 0), (0, 3, 0, 4),
                (0, 5, 1, 4))
_MINOR_PROGS = ((0, 3, 4, 0), (0, 5, 2, 6), (0, 3, 6, 2), (0, 5, 3, 4), (0, 1, 4, 0),
                (0, 6, 5, 4))


@dataclass(frozen=True)
class _Colour:
    """Label-specific offsets added to the latent cue functions."""

    tempo: float = 0.0
    minor: float = 0.0  # added to the minor-mode logit
    dissonance: float = 0.0
    velocity: float = 0.0  # MIDI velocity units
    staccato: float = 0.0
    density: float = 0.0
    register: float = 0.0  # semitones
    syncopation: float = 0.0
    tremolo: float = 0.0
    leap: float = 0.0
    chromatic: float = 0.0
    drums: float = 0.0
    waltz: float = 0.1
    pedal: float = 0.0
    swell: float = 0.0
    melody: dict = field(default_factory=dict)  # extra weight per melody timbre
    accomp: dict = field(default_factory=dict)  # extra weight per accompaniment timbre


_COLOUR: dict[str, _Colour] = {
    "angry": _Colour(tempo=6, minor=0.8, dissonance=0.3, velocity=10, staccato=0.1,
                     register=-5, syncopation=0.25, tremolo=0.15, leap=0.1, chromatic=0.15,
                     drums=0.25, melody={"synth": 1.0, "organ": 0.6},
                     accomp={"synth": 0.6, "organ": 0.6}),
    "exciting": _Colour(tempo=10, minor=-0.3, velocity=6, staccato=0.1, density=0.3,
                        register=2, syncopation=0.2, drums=0.3,
                        melody={"synth": 0.8, "pluck": 0.5, "piano": 0.3},
                        accomp={"synth": 0.5, "pluck": 0.5, "piano": 0.4}),
    "funny": _Colour(tempo=2, minor=-0.3, staccato=0.4, register=5, leap=0.35,
                     chromatic=0.25, syncopation=0.1, drums=0.05,
                     melody={"mallet": 1.4, "pluck": 0.6, "organ": 0.4},
                     accomp={"pluck": 0.7, "piano": 0.5, "mallet": 0.4}),
    "happy": _Colour(tempo=3, minor=-0.8, register=3, density=0.1, drums=0.1,
                     melody={"piano": 0.8, "pluck": 0.7, "strings": 0.2},
                     accomp={"pluck": 0.6, "piano": 0.8}),
    "sad": _Colour(tempo=-8, minor=0.8, velocity=-4, staccato=-0.25, density=-0.2,
                   register=-4, waltz=0.25, pedal=0.3, drums=-0.2,
                   melody={"piano": 1.0, "strings": 0.8},
                   accomp={"piano": 0.8, "strings": 0.8}),
    "scary": _Colour(tempo=-18, minor=1.0, dissonance=0.45, velocity=-10, register=-3,
                     syncopation=0.35, tremolo=0.6, leap=0.25, chromatic=0.4, drums=-0.2,
                     swell=0.7, melody={"strings": 1.0, "piano": 0.6, "synth": 0.3},
                     accomp={"strings": 1.2, "organ": 0.4, "piano": 0.3}),
    "tender": _Colour(tempo=-6, minor=-0.5, dissonance=-0.1, velocity=-8, staccato=-0.3,
                      density=-0.1, waltz=0.4, pedal=0.5, drums=-0.15,
                      melody={"piano": 1.0, "pluck": 0.5, "strings": 0.5},
                      accomp={"piano": 0.8, "strings": 0.8, "pluck": 0.5}),
}


@dataclass
class PieceSpec:
    """Every musical decision of a piece; :func:`render_piece` turns it into MIDI.

    Notebook: 00_tour (printed next to a clip to show its cues).
    """

    tonic: int  # pitch class 0..11
    mode: str  # "major" | "minor"
    meter: int  # beats per bar (3 or 4)
    tempo: float  # beats per minute
    progression: tuple[int, ...]  # scale degrees (0-based), one chord per bar, cycled
    density: float  # melody notes per beat
    staccato: float  # 0 legato .. 1 very short notes
    velocity: float  # mean MIDI velocity
    accent: float  # extra velocity on strong beats
    register: float  # centre MIDI pitch of the melody
    leap: float  # probability of melodic leaps
    chromatic: float  # probability of chromatic alterations / chords
    syncopation: float  # rhythmic irregularity 0..1
    dissonance: float  # 0 consonant .. 1 clusters and tritones
    tremolo: bool
    swell: float  # crescendo/decrescendo depth (scary)
    accomp_pattern: str  # block | arpeggio | oompah | pulse | tremolo
    bass_pattern: str | None  # whole | root5 | eighths | walking | None
    drum_pattern: str | None  # rock | four | half | busy | polka | None
    melody_timbre: str
    accomp_timbre: str
    pedal: bool

    def to_dict(self) -> dict:
        """Plain-dict view (JSON-friendly)."""
        d = asdict(self)
        d["progression"] = list(self.progression)
        return d


def _check_unit(name: str, x: float) -> float:
    x = float(x)
    if not (0.0 <= x <= 1.0) or math.isnan(x):
        raise ValueError(f"{name} must be in [0, 1], got {x!r}")
    return x


def _weighted_choice(g: np.random.Generator, weights: dict[str, float]) -> str:
    keys = sorted(weights)
    w = np.array([max(weights[k], 0.0) for k in keys], dtype=float)
    if w.sum() <= 0:
        w = np.ones(len(keys))
    return keys[int(g.choice(len(keys), p=w / w.sum()))]


#: The melody/accompaniment timbres the composer draws from (the bass line is always "bass").
TIMBRE_POOL: tuple[str, ...] = ("piano", "strings", "pluck", "synth", "organ", "mallet")


def timbre_weights(label: str | None, valence: float, arousal: float, staccato: float,
                   part: str = "melody", timbres: Sequence[str] | None = None, *,
                   colour_strength: float = 1.0) -> dict[str, float]:
    """The instrumentation rule: unnormalised weight of each timbre for the ``part``
    ("melody" or "accomp") of a piece at (``valence``, ``arousal``) with melody
    ``staccato``: the latent base plus ``colour_strength`` times ``label``'s colour (the
    tables in the module docstring). Negative sums count as 0 when drawing.
    """
    if part not in ("melody", "accomp"):
        raise ValueError(f"part must be 'melody' or 'accomp', got {part!r}")
    if label is not None and label not in _COLOUR:
        raise ValueError(f"label must be one of {MUSIC_LABELS} or None, got {label!r}")
    pool = tuple(timbres) if timbres is not None else TIMBRE_POOL
    for t in pool:
        if t not in TIMBRE_POOL:
            raise ValueError(f"timbres must be among {sorted(TIMBRE_POOL)}, got {t!r}")
    v, a = float(valence), float(arousal)
    if part == "melody":
        base = {"piano": 1.0 + 0.5 * (1 - a), "strings": 0.5 + 0.6 * (1 - v),
                "pluck": 0.4 + 0.5 * v, "synth": 0.1 + 0.7 * a * a, "organ": 0.25,
                "mallet": 0.15 + 0.4 * v * float(staccato)}
    else:
        base = {"piano": 1.0, "strings": 0.5 + 0.6 * (1 - a), "pluck": 0.3 + 0.4 * v,
                "synth": 0.1 + 0.5 * a * a, "organ": 0.2, "mallet": 0.1}
    c = _COLOUR[label] if label is not None else _Colour()
    colour = c.melody if part == "melody" else c.accomp
    return {t: base[t] + float(colour_strength) * colour.get(t, 0.0) for t in pool}


def spec_from_latent(label: str | None, valence: float, arousal: float,
                     g: np.random.Generator, *, timbres: Sequence[str] | None = None,
                     colour_strength: float = 1.0) -> PieceSpec:
    """Draw a :class:`PieceSpec` whose cues follow (valence, arousal) and ``label``'s colour.

    ``label=None`` (or ``colour_strength=0``) gives the pure valence–arousal mapping (used
    by the EMOPIA-role piano clips). ``timbres`` restricts the instruments (e.g. piano).
    """
    if label is not None and label not in _COLOUR:
        raise ValueError(f"label must be one of {MUSIC_LABELS} or None, got {label!r}")
    v, a = _check_unit("valence", valence), _check_unit("arousal", arousal)
    c = _COLOUR[label] if label is not None else _Colour()
    k = float(colour_strength)
    n = g.normal

    def sig(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-x))

    tempo = float(np.clip(62 + 100 * a + k * c.tempo + 7 * n(), 48, 196))
    p_minor = sig(7.0 * (0.5 - v) + k * c.minor)
    mode = "minor" if g.random() < p_minor else "major"
    meter = 3 if g.random() < (k * c.waltz + 0.1 * (1 - k)) * (1.2 - 0.8 * a) else 4
    dissonance = float(np.clip(0.1 + 0.45 * (1 - v) * a + 0.1 * (1 - v) + k * c.dissonance
                               + 0.08 * n(), 0, 1))
    velocity = float(np.clip(42 + 62 * a + k * c.velocity + 5 * n(), 20, 122))
    accent = float(np.clip(4 + 14 * a + 0.5 * k * c.velocity + 2 * n(), 0, 30))
    staccato = float(np.clip(0.12 + 0.45 * a * v + k * c.staccato + 0.1 * n(), 0, 1))
    density = float(np.clip(0.7 + 2.1 * a + k * c.density + 0.3 * n(), 0.5, 4.0))
    register = float(np.clip(62 + 9 * v + 4 * a + k * c.register + 2.5 * n(), 50, 82))
    syncopation = float(np.clip(0.05 + 0.3 * a * (1 - v) + k * c.syncopation + 0.08 * n(),
                                0, 1))
    leap = float(np.clip(0.15 + 0.25 * a + k * c.leap + 0.05 * n(), 0, 0.9))
    chromatic = float(np.clip(0.03 + 0.1 * (1 - v) * a + k * c.chromatic + 0.05 * n(), 0, 0.9))
    tremolo = bool(g.random() < np.clip(k * c.tremolo + 0.25 * (1 - v) * a - 0.08, 0, 1))
    swell = float(np.clip(k * c.swell + 0.15 * (1 - v) * a + 0.1 * n(), 0, 1))
    progs = _MINOR_PROGS if mode == "minor" else _MAJOR_PROGS
    progression = progs[int(g.integers(len(progs)))]

    # accompaniment figure
    if tremolo and g.random() < 0.85:
        accomp_pattern = "tremolo"
    else:
        scores = {"block": 1.3 * (1 - a) + 0.1,
                  "arpeggio": 1.0 - 1.6 * abs(a - 0.45),
                  "oompah": 1.6 * staccato * v - 0.1,
                  "pulse": 2.0 * a - 0.9}
        accomp_pattern = _weighted_choice(g, {kk: max(s, 0.03) ** 2 for kk, s in scores.items()})

    pool = tuple(timbres) if timbres is not None else TIMBRE_POOL
    melody_timbre = _weighted_choice(
        g, timbre_weights(label, v, a, staccato, "melody", pool, colour_strength=k))
    accomp_timbre = _weighted_choice(
        g, timbre_weights(label, v, a, staccato, "accomp", pool, colour_strength=k))
    if accomp_pattern == "tremolo" and "strings" in pool and g.random() < 0.8:
        accomp_timbre = "strings"

    has_ensemble = timbres is None
    p_bass = float(np.clip(0.25 + 0.6 * a + 0.5 * k * c.drums, 0, 0.95)) if has_ensemble else 0
    bass_pattern = None
    if g.random() < p_bass:
        bass_pattern = _weighted_choice(g, {"whole": 1.2 * (1 - a) + 0.1,
                                            "root5": 0.6,
                                            "eighths": 1.8 * a - 0.6,
                                            "walking": 0.5 * v})
    p_drums = float(np.clip(-0.35 + 1.0 * a + k * c.drums, 0, 0.95)) if has_ensemble else 0
    drum_pattern = None
    if g.random() < p_drums:
        drum_pattern = _weighted_choice(g, {"half": 1.2 * (1 - a),
                                            "rock": 0.8,
                                            "four": 1.2 * a * v,
                                            "busy": 1.5 * a * (1 - v) + k * c.dissonance,
                                            "polka": k * c.staccato * 2})
    pedal = bool(g.random() < np.clip(0.2 + 0.5 * (1 - staccato) * (1 - a) + k * c.pedal,
                                      0, 0.95))
    return PieceSpec(
        tonic=int(g.integers(12)), mode=mode, meter=meter, tempo=round(tempo, 2),
        progression=tuple(int(x) for x in progression), density=density, staccato=staccato,
        velocity=velocity, accent=accent, register=register, leap=leap, chromatic=chromatic,
        syncopation=syncopation, dissonance=dissonance, tremolo=tremolo, swell=swell,
        accomp_pattern=accomp_pattern, bass_pattern=bass_pattern, drum_pattern=drum_pattern,
        melody_timbre=melody_timbre, accomp_timbre=accomp_timbre, pedal=pedal)


# --------------------------------------------------------------------------- harmony
def _scale(mode: str) -> tuple[int, ...]:
    return _MINOR if mode == "minor" else _MAJOR


def _chord(spec: PieceSpec, degree: int, g: np.random.Generator) -> list[int]:
    """Chord pitch classes (semitones above the tonic, may exceed 11) for one bar."""
    sc = _scale(spec.mode)
    tones = [sc[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]
    if spec.mode == "minor" and degree == 4:
        tones[1] = 11  # harmonic-minor leading tone: major V
    if g.random() < spec.chromatic * 0.6:
        # chromatic colour: diminished triad on a tritone / Neapolitan-like chord
        root = 6 if g.random() < 0.5 else 1
        tones = [root, root + 3, root + 6] if root == 6 else [root, root + 4, root + 7]
    if g.random() < 0.2 + 0.5 * spec.dissonance:  # seventh
        tones.append(sc[(degree + 6) % 7] + 12 * ((degree + 6) // 7))
    if g.random() < spec.dissonance ** 1.5:  # cluster: a minor second against a chord tone
        tones.append(tones[int(g.integers(len(tones)))] + 1)
    if g.random() < spec.dissonance ** 2:  # tritone above the root
        tones.append(tones[0] + 6)
    return tones


def _voicing(tones: Sequence[int], tonic: int, low: int) -> list[int]:
    """Place chord tones (semitones over tonic) in [low, low + 12), sorted, unique."""
    out = set()
    for t in tones:
        p = tonic + t
        p = low + (p - low) % 12
        out.add(int(p))
    return sorted(out)


# --------------------------------------------------------------------------- melody motif
@dataclass(frozen=True)
class Motif:
    """One bar of melody: onsets (beats), durations (beats), chord-relative scale steps."""

    onsets: tuple[float, ...]
    lengths: tuple[float, ...]
    steps: tuple[int, ...]


def make_motif(spec: PieceSpec, g: np.random.Generator) -> Motif:
    """A one-bar rhythmic/melodic cell: density, syncopation and leaps from ``spec``."""
    sub = int(np.clip(round(spec.density), 1, 4))
    if spec.density < 0.8:
        sub = 1
    grid = 1.0 / sub
    slots = np.arange(0, spec.meter, grid)
    fill = float(np.clip(0.55 + 0.4 * min(spec.density / sub, 1.0), 0.5, 0.97))
    keep = g.random(len(slots)) < fill
    keep[0] = True if g.random() > spec.syncopation * 0.7 else keep[0]
    if not keep.any():
        keep[0] = True
    onsets = slots[keep].astype(float)
    # syncopation: anticipate some onsets by half a grid step
    shift = g.random(len(onsets)) < spec.syncopation * 0.5
    onsets = np.where(shift & (onsets > 0), onsets - grid / 2, onsets)
    onsets = np.unique(np.round(onsets, 4))
    nxt = np.append(onsets[1:], spec.meter)
    lengths = nxt - onsets
    steps = []
    cur = int(g.choice([0, 2, 4]))
    for i, on in enumerate(onsets):
        if i == 0:
            steps.append(cur)
            continue
        if g.random() < spec.leap:
            cur += int(g.choice([-5, -4, -3, 3, 4, 5, 7]))
        else:
            cur += int(g.choice([-2, -1, -1, 1, 1, 2]))
        if abs(on - round(on)) < 1e-6 and g.random() < 0.6:  # strong beats: chord tones
            cur = int(min((-7, -5, -3, 0, 2, 4, 7, 9, 11), key=lambda s: abs(s - cur)))
        cur = int(np.clip(cur, -7, 11))
        steps.append(cur)
    return Motif(tuple(float(x) for x in onsets), tuple(float(x) for x in lengths),
                 tuple(steps))


def _step_pitch(spec: PieceSpec, degree: int, step: int, base: int) -> int:
    sc = _scale(spec.mode)
    s = degree + step
    return base + sc[s % 7] + 12 * (s // 7)


# --------------------------------------------------------------------------- rendering
def _add(inst: pretty_midi.Instrument, pitch: int, vel: float, start: float, end: float,
         duration: float) -> None:
    if start >= duration - 1e-3:
        return
    end = min(end, duration)
    if end - start < 0.02:
        return
    inst.notes.append(pretty_midi.Note(velocity=min(max(int(round(vel)), 1), 127),
                                       pitch=min(max(int(pitch), 21), 108),
                                       start=round(float(start), 4), end=round(float(end), 4)))


def render_piece(spec: PieceSpec, duration: float, g: np.random.Generator,
                 motif: Motif | None = None, start_bar: int = 0) -> pretty_midi.PrettyMIDI:
    """Write ``spec`` as MIDI: melody (motif varied per bar), accompaniment, bass, drums.

    ``motif`` lets several clips share a song's motif (EMOPIA-role piano songs);
    ``start_bar`` offsets the chord progression (a different segment of the song).
    All note ends are clipped to ``duration`` seconds; a key struck again ends its previous
    note (:func:`~emolib.data.world.playable.make_playable`).
    """
    if not duration > 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    motif = motif if motif is not None else make_motif(spec, g)
    beat = 60.0 / spec.tempo
    bar = spec.meter * beat
    n_bars = int(math.ceil(duration / bar))
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(spec.tempo), resolution=480)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(spec.meter, 4, 0.0))
    mel = pretty_midi.Instrument(program=PROGRAMS[spec.melody_timbre], name="melody")
    # bowed tremolo (strings): held notes on the GM tremolo-strings preset; a piano (or
    # any other timbre's) tremolo is written out as repeated notes
    bowed = spec.accomp_pattern == "tremolo" and spec.accomp_timbre == "strings"
    acc = pretty_midi.Instrument(program=TREMOLO_PROGRAM if bowed else
                                 PROGRAMS[spec.accomp_timbre], name="accompaniment")
    mel_trem = pretty_midi.Instrument(program=TREMOLO_PROGRAM, name="melody tremolo")
    bass = pretty_midi.Instrument(program=PROGRAMS["bass"], name="bass")
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    art = 1.1 - 0.8 * spec.staccato  # sounding fraction of the inter-onset interval
    mel_base = int(round(spec.register)) - 5  # scale step 0 sits a fourth below the centre
    mel_base = mel_base - ((mel_base - spec.tonic) % 12)  # snap to the tonic
    acc_low = int(np.clip(spec.register - 17, 40, 60))
    bass_base = 36 + (spec.tonic - 36) % 12  # tonic in octave 2..3
    if bass_base > 43:
        bass_base -= 12
    sc = _scale(spec.mode)

    def vel_at(t: float, base: float, strong: bool) -> float:
        v = base + (spec.accent if strong else 0.0) + 4.0 * g.normal()
        if spec.swell > 0:
            v *= 1.0 - 0.35 * spec.swell * math.cos(2 * math.pi * t / max(duration, 1.0))
        return v

    for b in range(n_bars):
        t0 = b * bar
        degree = spec.progression[(b + start_bar) % len(spec.progression)]
        tones = _chord(spec, degree, g)
        # ---- melody: the motif transposed onto the chord, with small variations
        for on, ln, st in zip(motif.onsets, motif.lengths, motif.steps):
            if g.random() < 0.12:  # variation: a rest or a new neighbour step
                if g.random() < 0.4:
                    continue
                st += int(g.choice([-1, 1]))
            p = _step_pitch(spec, degree, st, mel_base)
            if g.random() < spec.chromatic * 0.5:
                p += int(g.choice([-1, 1]))
            start = t0 + on * beat
            if spec.syncopation > 0.3:
                start += float(g.normal(0, 0.02 * spec.syncopation))
                start = max(start, 0.0)
            ln_s = ln * beat
            if spec.tremolo and spec.melody_timbre == "strings" and g.random() < 0.5:
                # a bowed-tremolo melody note: held on the tremolo-strings preset
                _add(mel_trem, p, vel_at(start, spec.velocity, False) - 6, start,
                     start + ln_s * 0.95, duration)
                continue
            _add(mel, p, vel_at(start, spec.velocity + 6, on % spec.meter == 0), start,
                 start + max(ln_s * art, 0.06), duration)
        # ---- accompaniment
        voice = _voicing(tones, spec.tonic, acc_low)
        av = spec.velocity - 10
        pat = spec.accomp_pattern
        if pat == "block":
            halves = 2 if spec.tempo > 100 else 1
            for h in range(halves):
                s = t0 + h * bar / halves
                for p in voice:
                    _add(acc, p, vel_at(s, av, h == 0), s, s + bar / halves * min(art, 1.02),
                         duration)
        elif pat == "arpeggio":
            step = beat / 2 if spec.tempo < 130 else beat
            seq = voice + voice[1:-1][::-1] if len(voice) > 2 else voice
            k = 0
            while k * step < bar - 1e-6:
                s = t0 + k * step
                end = t0 + bar if spec.pedal or spec.staccato < 0.2 else s + step * art
                _add(acc, seq[k % len(seq)], vel_at(s, av - 4, k == 0), s, end, duration)
                k += 1
        elif pat == "oompah":
            for q in range(spec.meter):
                s = t0 + q * beat
                if q == 0:
                    _add(acc, voice[0] - 12, vel_at(s, av, True), s, s + beat * 0.45, duration)
                else:
                    for p in voice[1:] if len(voice) > 1 else voice:
                        _add(acc, p, vel_at(s, av - 6, False), s, s + beat * 0.3, duration)
        elif pat == "pulse":
            step = beat / 2 if spec.tempo < 150 else beat
            k = 0
            while k * step < bar - 1e-6:
                s = t0 + k * step
                for p in voice:
                    _add(acc, p, vel_at(s, av, k % 2 == 0), s, s + step * min(art, 0.9),
                         duration)
                k += 1
        elif pat == "tremolo" and bowed:  # the cluster held through the bar, bowed tremolo
            cluster = voice[:3] if spec.dissonance < 0.5 else voice[:2] + [voice[0] + 1]
            for p in cluster:
                _add(acc, p, vel_at(t0, av - 8, False), t0, t0 + bar, duration)
        elif pat == "tremolo":  # repeated notes (piano and the other timbres)
            step = min(beat / 4, 0.09)
            k = 0
            cluster = voice[:3] if spec.dissonance < 0.5 else voice[:2] + [voice[0] + 1]
            while k * step < bar - 1e-6:
                s = t0 + k * step
                for p in cluster:
                    _add(acc, p, vel_at(s, av - 8, False), s, s + step * 0.9, duration)
                k += 1
        # ---- bass
        root = bass_base + (sc[degree % 7] if not (spec.mode == "minor" and degree == 4)
                            else 7)
        bp = spec.bass_pattern
        bv = spec.velocity - 4
        if bp == "whole":
            _add(bass, root, vel_at(t0, bv, True), t0, t0 + bar * 0.98, duration)
        elif bp == "root5":
            half = spec.meter // 2 if spec.meter == 4 else 2
            _add(bass, root, vel_at(t0, bv, True), t0, t0 + half * beat * min(art, 0.98),
                 duration)
            s = t0 + half * beat
            _add(bass, root + 7, vel_at(s, bv, False), s, s + (spec.meter - half) * beat
                 * min(art, 0.98), duration)
        elif bp == "eighths":
            for k in range(spec.meter * 2):
                s = t0 + k * beat / 2
                _add(bass, root, vel_at(s, bv, k % 2 == 0), s, s + beat / 2 * 0.8, duration)
        elif bp == "walking":
            nxt_degree = spec.progression[(b + start_bar + 1) % len(spec.progression)]
            for q in range(spec.meter):
                s = t0 + q * beat
                p = root if q == 0 else _step_pitch(spec, degree, q, bass_base)
                if q == spec.meter - 1:
                    p = bass_base + sc[nxt_degree % 7] + int(g.choice([-1, 1]))
                _add(bass, p, vel_at(s, bv, q == 0), s, s + beat * 0.9, duration)
        # ---- drums
        dp = spec.drum_pattern
        dv = spec.velocity
        if dp is not None:
            hits: list[tuple[int, float, float]] = []  # (key, beat position, velocity offset)
            if dp == "polka":
                for q in range(spec.meter):
                    hits.append((36 if q == 0 else 38, q, 0 if q == 0 else -10))
            elif dp == "half":
                hits += [(36, 0, 0), (38, spec.meter / 2 if spec.meter == 4 else 2, -4)]
                hits += [(42, q, -20) for q in range(spec.meter)]
            elif dp == "four":
                hits += [(36, q, 0) for q in range(spec.meter)]
                hits += [(42, q + 0.5, -15) for q in range(spec.meter)]
                hits += [(38, q, -5) for q in range(1, spec.meter, 2)]
            elif dp == "rock":
                hits += [(36, q, 0) for q in range(0, spec.meter, 2)]
                hits += [(38, q, -3) for q in range(1, spec.meter, 2)]
                hits += [(42, q / 2, -18) for q in range(spec.meter * 2)]
            elif dp == "busy":
                hits += [(36, q, 0) for q in (0, 0.75, 2, 2.5) if q < spec.meter]
                hits += [(38, q, 2) for q in range(1, spec.meter, 2)]
                hits += [(42, q / 4, -22) for q in range(spec.meter * 4)]
                if b % 2 == 0:
                    hits.append((49, 0, 5))
            for key, pos, off in hits:
                s = t0 + pos * beat
                _add(drums, key, vel_at(s, dv + off, pos == 0), s, s + 0.1, duration)
        # ---- pedal (piano voices): down after the bar line, up just before the next
        if spec.pedal:
            for inst, timbre in ((mel, spec.melody_timbre), (acc, spec.accomp_timbre)):
                if timbre == "piano" and t0 + 0.02 < duration:
                    inst.control_changes.append(pretty_midi.ControlChange(64, 100, t0 + 0.02))
                    inst.control_changes.append(pretty_midi.ControlChange(
                        64, 0, min(t0 + bar - 0.03, duration)))
    for inst in (mel, mel_trem, acc, bass, drums):
        if inst.notes:
            pm.instruments.append(inst)
    return make_playable(pm)  # a key re-struck ends its previous note


# --------------------------------------------------------------------------- realised cues
def _dissonant_share(pm: pretty_midi.PrettyMIDI, step: float = 0.125) -> float:
    """Share of simultaneous (non-drum) pitch-class pairs a semitone/major 7th or a tritone
    apart, sampled every ``step`` seconds."""
    notes = np.array([(n.start, n.end, n.pitch) for i in pm.instruments if not i.is_drum
                      for n in i.notes], dtype=float).reshape(-1, 3)
    if len(notes) < 2:
        return 0.0
    times = np.arange(0, notes[:, 1].max(), step)
    active = (notes[None, :, 0] <= times[:, None]) & (notes[None, :, 1] > times[:, None])
    onehot = np.eye(12, dtype=np.int64)[notes[:, 2].astype(int) % 12]
    pcs = (active.astype(np.int64) @ onehot) > 0  # (times, 12)
    k = pcs.sum(axis=1)
    total = int((k * (k - 1) // 2).sum())
    if total == 0:
        return 0.0
    semis = int((pcs & np.roll(pcs, -1, axis=1)).sum())  # ic 1 (each pair once)
    trit = int((pcs & np.roll(pcs, -6, axis=1)).sum()) // 2  # ic 6 (counted twice)
    return (semis + trit) / total


def piece_stats(pm: pretty_midi.PrettyMIDI, spec: PieceSpec) -> dict:
    """Cues measured on the realised MIDI (plus the spec's key/mode/tempo)."""
    notes = [n for i in pm.instruments if not i.is_drum for n in i.notes]
    melodic = [i for i in pm.instruments if i.name in ("melody", "melody tremolo")]
    mel = None
    if melodic:  # the melody with its bowed-tremolo notes (a track of their own)
        mel = pretty_midi.Instrument(program=melodic[0].program, name="melody")
        mel.notes = sorted((n for i in melodic for n in i.notes), key=lambda n: n.start)
    dur = max(pm.get_end_time(), 1e-6)
    timbres = sorted({timbre_for(i.program, i.is_drum) for i in pm.instruments if i.notes})
    ratios = []
    if mel is not None and len(mel.notes) > 1:
        on = np.array([n.start for n in mel.notes])
        ln = np.array([n.end - n.start for n in mel.notes])
        ioi = np.diff(on)
        ok = ioi > 1e-3
        ratios = (ln[:-1][ok] / ioi[ok]).tolist()
    return {
        "tempo": float(spec.tempo),
        "mode": spec.mode,
        "tonic": int(spec.tonic),
        "meter": int(spec.meter),
        "timbres": timbres,
        "n_notes": len(notes),
        "note_density": len(notes) / dur,
        "melody_density": (len(mel.notes) / dur) if mel is not None else 0.0,
        "mean_velocity": float(np.mean([n.velocity for n in notes])) if notes else 0.0,
        "melody_pitch": float(np.mean([n.pitch for n in mel.notes])) if mel and mel.notes
        else 0.0,
        "articulation": float(np.median(ratios)) if ratios else 1.0,
        "dissonance": _dissonant_share(pm),
        "tremolo": spec.accomp_pattern == "tremolo" or spec.tremolo,
        "drums": any(i.is_drum and i.notes for i in pm.instruments),
        "pedal": any(cc.number == 64 for i in pm.instruments for cc in i.control_changes),
    }


def _true_tags(st: dict, spec: PieceSpec) -> list[str]:
    tags = [_TIMBRE_TAG[t] for t in st["timbres"]]
    fast = st["tempo"] >= 120 or (st["tempo"] >= 105 and st["melody_density"] > 4)
    slow = st["tempo"] < 85
    if fast:
        tags.append("fast")
    if slow:
        tags.append("slow")
    mv = st["mean_velocity"]
    if mv >= 84:
        tags.append("loud")
    if mv <= 56:
        tags.append("quiet")
    if mv <= 62 and st["articulation"] > 0.85:
        tags.append("soft")
    minor = st["mode"] == "minor"
    if not minor and st["tempo"] >= 90 and st["dissonance"] < 0.2 and st["melody_pitch"] > 66:
        tags.append("happy")
    if minor and st["tempo"] < 100 and mv < 80:
        tags.append("sad")
    if minor and (st["melody_pitch"] < 64 or st["dissonance"] > 0.2 or spec.tremolo):
        tags.append("dark")
    if st["tempo"] < 95 and mv < 70 and not st["drums"]:
        tags.append("calm")
    if st["tempo"] >= 125 or (st["drums"] and mv >= 82):
        tags.append("energetic")
    if st["dissonance"] > 0.25 or spec.chromatic > 0.35 or st["tremolo"]:
        tags.append("weird")
    ts = set(st["timbres"])
    if not st["drums"] and ts <= {"piano", "strings", "organ", "pluck"} and spec.chromatic < 0.5:
        tags.append("classical")
    if st["tempo"] < 90 and st["articulation"] > 0.85 and ("strings" in ts or "synth" in ts) \
            and mv < 70:
        tags.append("ambient")
    if "synth" in ts and st["drums"]:
        tags.append("electronic")
    if st["drums"] and mv >= 80 and ("pluck" in ts or "bass" in ts or "organ" in ts) \
            and st["tempo"] >= 100:
        tags.append("rock")
    if st["drums"] and not minor and mv < 95 and spec.drum_pattern in ("rock", "four", "half"):
        tags.append("pop")
    if spec.bass_pattern == "walking" or (spec.dissonance > 0.35 and not minor
                                         and "pluck" in ts | {"piano"}):
        tags.append("jazz")
    if len(ts) == 1:
        tags.append("solo")
    return [t for t in TAG_VOCAB if t in set(tags)]


def tags_from_piece(stats: dict, spec: PieceSpec, g: np.random.Generator,
                    keep: float = 0.8, spurious: float = 0.06) -> list[str]:
    """Noisy multi-label tags from the realised piece (in ``TAG_VOCAB`` order).

    ``stats`` is :func:`piece_stats` of the piece. Each true tag is kept with probability
    ``keep`` (taggers miss tags); a random spurious tag is added with probability
    ``spurious``; never empty.
    """
    true = _true_tags(stats, spec)
    kept = [t for t in true if g.random() < keep]
    if g.random() < spurious:
        kept.append(TAG_VOCAB[int(g.integers(len(TAG_VOCAB)))])
    if not kept and true:
        kept = [true[0]]
    return [t for t in TAG_VOCAB if t in set(kept)]


_INST_NOUN = {"piano": ("piano", "solo piano", "keys"), "strings": ("strings", "string section",
              "orchestral strings"), "pluck": ("guitar", "plucked guitar", "acoustic guitar"),
              "synth": ("synthesizer", "synth lead", "electronic synth"),
              "organ": ("organ", "reedy organ", "organ"),
              "mallet": ("marimba", "mallet percussion", "marimba"),
              "bass": ("bass", "bass line", "bass guitar")}


def caption_from_piece(stats: dict, spec: PieceSpec, g: np.random.Generator) -> str:
    """A one-sentence description of the realised piece (``stats`` = :func:`piece_stats`),
    with wording variation."""
    st = stats

    def pick(options: Sequence[str]) -> str:
        return options[int(g.integers(len(options)))]

    tempo = (pick(("fast", "brisk", "up-tempo", "lively")) if st["tempo"] >= 120 else
             pick(("slow", "unhurried", "leisurely", "slow-moving")) if st["tempo"] < 85 else
             pick(("moderately paced", "mid-tempo", "steady")))
    mv = st["mean_velocity"]
    loud = (pick(("loud", "forceful", "intense", "powerful")) if mv >= 84 else
            pick(("quiet", "soft", "gentle", "hushed")) if mv <= 58 else "")
    lead = pick(_INST_NOUN[spec.melody_timbre])
    key = pick((f"in a {spec.mode} key", f"in {spec.mode}", f"with {spec.mode} harmony"))
    extras = []
    if spec.accomp_timbre != spec.melody_timbre:
        adj = "soft " if mv <= 58 and g.random() < 0.5 else ""
        extras.append(pick((f"with {adj}{_INST_NOUN[spec.accomp_timbre][0]} accompaniment",
                            f"over {adj}{_INST_NOUN[spec.accomp_timbre][0]} chords")))
    if st["drums"]:
        extras.append(pick(("over a steady drum beat", "with drums", "driven by drums")
                           if spec.drum_pattern != "busy" else
                           ("with pounding drums", "over busy, heavy drums")))
    if spec.bass_pattern is not None and g.random() < 0.6:
        extras.append(pick(("with a walking bass line",) if spec.bass_pattern == "walking"
                           else ("with a bass line", "with a low bass")))
    if st["articulation"] < 0.55 and g.random() < 0.8:
        extras.append(pick(("played staccato", "with short, bouncy notes",
                            "with detached notes")))
    elif st["articulation"] > 0.95 and g.random() < 0.6:
        extras.append(pick(("with smooth legato phrases", "played legato")))
    if st["tremolo"] and g.random() < 0.85:
        extras.append(pick(("with trembling tremolo", "with shivering string tremolo")))
    if st["dissonance"] > 0.25 and g.random() < 0.8:
        extras.append(pick(("with dissonant, clashing chords", "with tense dissonances")))
    if st["melody_pitch"] > 74 and g.random() < 0.5:
        extras.append("in a high register")
    elif 0 < st["melody_pitch"] < 60 and g.random() < 0.5:
        extras.append(pick(("in a low register", "in a dark, low register")))
    g.shuffle(extras)
    extras = extras[:3]
    head = " ".join(w for w in (tempo + ("," if loud else ""), loud) if w)
    template = int(g.integers(3))
    if template == 0:
        text = f"a {head} {lead} piece {key}"
    elif template == 1:
        text = f"{head} {lead} music {key}"
    else:
        text = f"a {spec.mode}-key {lead} tune, {head}"
    if extras:
        text += ", " + ", ".join(extras)
    text = " ".join(text.split())
    return text[0].upper() + text[1:] + "."


# --------------------------------------------------------------------------- public API
def compose_clip(label: str, valence: float, arousal: float, seed: int,
                 duration: float = 10.0
                 ) -> tuple[pretty_midi.PrettyMIDI, list[str], str, dict]:
    """Compose one AudioSet-mood-role clip: (MIDI, noisy tags, caption, cues).

    ``cues`` holds the :class:`PieceSpec` fields plus the cues measured on the MIDI
    (``piece_stats``). A pure function of its arguments.

    Notebook: 00_tour (the world section).
    """
    if label not in MUSIC_LABELS:
        raise ValueError(f"label must be one of {MUSIC_LABELS}, got {label!r}")
    if not (isinstance(duration, (int, float)) and duration > 0):
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    spec = spec_from_latent(label, valence, arousal, rng(seed, "music-spec"))
    pm = render_piece(spec, float(duration), rng(seed, "music-notes"))
    stats = piece_stats(pm, spec)
    tags = tags_from_piece(stats, spec, rng(seed, "music-tags"))
    caption = caption_from_piece(stats, spec, rng(seed, "music-caption"))
    cues = {**spec.to_dict(), **{f"measured_{k}": v for k, v in stats.items()}}
    return pm, tags, caption, cues


def render_audio(pm: pretty_midi.PrettyMIDI, duration: float, sr: int = 16000) -> np.ndarray:
    """Render ``pm`` with the GM SoundFont at the fixed clip gain (:data:`CLIP_GAIN`, peak
    <= 0.9), cut/pad to exactly ``duration`` s, 50 ms fade-out."""
    y = synthesize(pm, sr=sr, gain=CLIP_GAIN)
    n = int(round(duration * sr))
    y = np.pad(y, (0, max(0, n - len(y))))[:n]
    nf = min(int(0.05 * sr), n)
    if nf > 0:
        y[n - nf:] *= np.linspace(1.0, 0.0, nf, dtype=np.float32)
    return y


def write_clip(pm: pretty_midi.PrettyMIDI, audio: np.ndarray, sr: int, audio_file: Path,
               midi_file: Path) -> None:
    """Write 16-bit PCM WAV and MIDI atomically."""
    import soundfile as sf

    with atomic_path(audio_file) as tmp:
        sf.write(tmp, audio, sr, subtype="PCM_16", format="WAV")
    atomic_write_bytes(midi_file, midi_bytes(pm))


def item_seed(seed: int, *keys: int | str) -> int:
    """A per-item integer seed derived from the world seed and keys (stable)."""
    return int(rng(seed, "item-seed", *keys).integers(0, 2**31 - 1))


def _check_common(seed: int, duration: float, sr: int, n_jobs: int) -> None:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(duration, (int, float)) and duration > 0):
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr must be a positive integer sample rate, got {sr!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")


def _music_item(it: dict) -> dict:
    pm, tags, caption, _ = compose_clip(it["true_label"], it["valence"], it["arousal"],
                                        it["seed"], it["duration"])
    audio = render_audio(pm, it["duration"], it["sr"])
    out = Path(it["out_dir"])
    write_clip(pm, audio, it["sr"], out / it["audio_path"], out / it["midi_path"])
    return {"tags": ";".join(tags), "caption": caption}


def build_music(out_dir: Path, seed: int, n_per_class: int, duration: float = 10.0,
                sr: int = 16000, spread: float = 0.12, label_noise: float = 0.1,
                n_jobs: int = 1, progress: bool = True) -> pd.DataFrame:
    """Render the AudioSet-mood-role clips under ``out_dir/music/{audio,midi}``.

    Returns one row per clip: item_id, label (observed, noisy), true_label, valence,
    arousal, audio_path and midi_path (relative to ``out_dir``), tags (";"-joined,
    ``TAG_VOCAB`` order) and caption. Rows in latent order; files and rows are a pure
    function of the arguments (``n_jobs`` changes only the speed).

    Notebooks: every notebook through ``make_world`` (00_tour, 01_won2021, 02_emoclim2024).
    """
    from .latent import sample_latent

    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    _check_common(seed, duration, sr, n_jobs)
    lat = sample_latent("audioset", int(n_per_class), seed, spread=spread,
                        label_noise=label_noise)
    out_dir = Path(out_dir)
    items = []
    for i, row in enumerate(lat.itertuples(index=False)):
        items.append({"true_label": row.true_label, "valence": float(row.valence),
                      "arousal": float(row.arousal), "seed": item_seed(seed, "music", i),
                      "duration": float(duration), "sr": int(sr), "out_dir": str(out_dir),
                      "audio_path": f"music/audio/{row.item_id}.wav",
                      "midi_path": f"music/midi/{row.item_id}.mid"})
    res = run_items(_music_item, items, int(n_jobs), progress, "music clips")
    df = lat.copy()
    df["audio_path"] = [it["audio_path"] for it in items]
    df["midi_path"] = [it["midi_path"] for it in items]
    df["tags"] = [r["tags"] for r in res]
    df["caption"] = [r["caption"] for r in res]
    return df
