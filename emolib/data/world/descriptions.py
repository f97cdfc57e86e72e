"""Free-text listener descriptions of the world's performances (Con Espressione role).

Con Espressione listeners described each performance's *expressive character* with a few
adjectives or short phrases ("cold", "playful", "dynamic", "smooth tempo variation",
"emotional with dynamics"; Cancino-Chacón et al. 2020). Here a description is a pure
function of (the performance's realised character, seed, listener):

1. :func:`performance_character` summarises a rendition on 0..1 scales: speed (realised
   tempo and onset density), loudness, dynamic variation, pedal share, rubato
   (1 − rhythm stability), mechanicalness (no timing or dynamic variation at all) and the
   mid-level values (articulation, melodiousness, dissonance, minorness, …).
2. Each of :data:`CONCEPTS` (energetic, playful, tender, sad, mechanical, flowing, …) has
   an activation, a linear function of the character, and a list of synonyms/phrases.
3. Each listener (:func:`listener_profile`) has stable habits drawn from
   ``rng(seed, "listener", id)``: verbosity (1–5 terms), attention to some concepts,
   a favourite subset of each concept's synonyms, intensity words ("very", "a bit"),
   and small rates of irrelevant remarks ("nice recording") and contradictions (a term
   of the least active concept).
4. :func:`describe` draws the terms without replacement with probabilities
   ∝ attention · exp(β · activation) (Gumbel top-k) and joins them with commas.

The vocabulary and rules were written by this project; they only mimic the form of real
answers. Notebook: 03_chowdhury2023.ipynb (queries), 00_tour (examples).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from emolib.seed import rng

if TYPE_CHECKING:  # pragma: no cover
    from emolib.data.world.scores import Rendition

__all__ = ["CONCEPTS", "IRRELEVANT", "performance_character", "concept_activations",
           "listener_profile", "ListenerProfile", "describe"]

Char = Mapping[str, float]

#: concept -> (activation from the character, synonyms and short phrases)
CONCEPTS: dict[str, tuple[Callable[[Char], float], tuple[str, ...]]] = {
    "energetic": (lambda c: 0.6 * c["speed"] + 0.5 * c["loudness"] - 0.55,
                  ("energetic", "lively", "vigorous", "spirited", "driven", "full of energy",
                   "vivid")),
    "fast": (lambda c: 1.1 * c["speed"] - 0.6,
             ("fast", "quick", "hurried", "rushed", "brisk", "controlled with speed")),
    "playful": (lambda c: 0.6 * c["articulation"] + 0.4 * c["speed"]
                + 0.4 * (1 - c["minorness"]) - 0.75,
                ("playful", "bouncy", "witty", "cheeky", "light", "jolly", "funny")),
    "happy": (lambda c: 0.7 * (1 - c["minorness"]) + 0.3 * c["speed"]
              + 0.2 * (1 - c["dissonance"]) - 0.7,
              ("happy", "cheerful", "joyful", "bright", "sunny", "glad")),
    "calm": (lambda c: 0.6 * (1 - c["speed"]) + 0.3 * (1 - c["loudness"])
             + 0.2 * (1 - c["dissonance"]) - 0.65,
             ("calm", "peaceful", "serene", "relaxed", "tranquil", "quiet and calm")),
    "tender": (lambda c: 0.6 * (1 - c["loudness"]) + 0.3 * c["melodiousness"]
               + 0.3 * (1 - c["articulation"]) - 0.75,
               ("tender", "gentle", "delicate", "intimate", "shy", "sweet", "loving",
                "magical")),
    "sad": (lambda c: 0.8 * c["minorness"] + 0.4 * (1 - c["speed"]) - 0.75,
            ("sad", "melancholic", "sorrowful", "mournful", "nostalgic", "longing",
             "depressing")),
    "dark": (lambda c: 0.4 * c["minorness"] + 0.3 * c["loudness"] + 0.4 * c["pedal"]
             + 0.2 * (1 - c["speed"]) - 0.7,
             ("dark", "heavy", "gloomy", "somber", "deep", "heavy and dark",
              "too much pedal")),
    "aggressive": (lambda c: 0.6 * c["loudness"] + 0.3 * c["articulation"]
                   + 0.3 * c["dissonance"] + 0.2 * c["speed"] - 0.85,
                   ("aggressive", "harsh", "angry", "violent", "forceful", "percussive",
                    "brutal")),
    "passionate": (lambda c: 0.6 * c["dyn_var"] + 0.6 * c["rubato"] + 0.2 * c["loudness"]
                   - 0.55,
                   ("passionate", "dramatic", "intense", "emotional", "expressive",
                    "emotional with dynamics", "romantic")),
    "mechanical": (lambda c: 1.2 * c["mechanical"] - 0.4,
                   ("mechanical", "boring", "robotic", "cold", "lifeless", "flat", "beginner",
                    "like a computer", "no expression")),
    "flowing": (lambda c: 0.4 * c["melodiousness"] + 0.5 * (1 - c["articulation"])
                + 0.2 * c["pedal"] - 0.6,
                ("flowing", "smooth", "legato", "singing", "lyrical", "fluid", "cantabile")),
    "detached": (lambda c: 1.2 * c["articulation"] - 0.45,
                 ("staccato", "detached", "crisp", "choppy", "dry", "short notes", "clear")),
    "rubato": (lambda c: 1.3 * c["rubato"] - 0.45,
               ("free", "rubato", "smooth tempo variation", "lingering", "hesitant",
                "flexible tempo", "breathing")),
    "steady": (lambda c: 0.9 * c["stability"] - 0.6 * c["mechanical"] - 0.55,
               ("steady", "controlled", "precise", "strict tempo", "disciplined", "clean")),
    "dreamy": (lambda c: 0.7 * c["pedal"] + 0.3 * (1 - c["speed"]) + 0.2 * (1 - c["loudness"])
               - 0.65,
               ("dreamy", "blurry", "misty", "floating", "ethereal", "resonant", "hazy")),
    "tense": (lambda c: 1.0 * c["dissonance"] + 0.2 * c["rhythm_complexity"]
              + 0.2 * c["minorness"] - 0.6,
              ("tense", "anxious", "uneasy", "restless", "mysterious", "nervous", "scary")),
    "dynamic": (lambda c: 1.1 * c["dyn_var"] - 0.35,
                ("dynamic", "contrasting", "wide dynamics", "dynamic contrasts", "volatile")),
    "soft": (lambda c: 1.1 * (1 - c["loudness"]) - 0.6,
             ("soft", "quiet", "subdued", "restrained", "hushed", "muted")),
    "loud": (lambda c: 1.1 * c["loudness"] - 0.65,
             ("loud", "bold", "powerful", "grand", "majestic", "strong", "heavy-handed")),
    "slow": (lambda c: 1.1 * (1 - c["speed"]) - 0.6,
             ("slow", "dragging", "leisurely", "unhurried", "slow and heavy")),
}

#: Remarks unrelated to the expressive character (occasionally given by listeners).
IRRELEVANT = ("nice recording", "classical", "piano", "i know this piece", "old recording",
              "reminds me of a film", "good", "ok", "typical", "interesting", "like it")

_INTENSE = ("very", "extremely", "really", "so")
_MILD = ("a bit", "somewhat", "slightly", "rather")
_NO_INTENSITY = {"beginner", "staccato", "legato", "rubato", "cantabile", "free", "flat"}


def performance_character(r: "Rendition", values: Mapping[str, float], bpm: float,
                          mode: str) -> dict[str, float]:
    """The realised character of a rendition on 0..1 scales (see module docstring).

    ``values`` are its mid-level values (:func:`~emolib.data.world.midlevel.midlevel_values`);
    ``bpm`` the score's nominal tempo; ``mode`` its key mode (a weak prior, blended
    with the measured minorness).
    """
    beats = np.unique(r.score_onset)
    first = np.array([np.median(r.onset[r.score_onset == b]) for b in beats[[0, -1]]])
    span_b = float(beats[-1] - beats[0])
    realised_bpm = 60 * span_b / max(float(first[1] - first[0]), 1e-3) if span_b > 0 else bpm
    speed = 0.6 * np.clip((realised_bpm - 50) / 100, 0, 1) + 0.4 * np.clip(
        values["onset_density"] / 8, 0, 1)
    vel = np.asarray(r.velocity, float)
    dur = float(np.max(r.offset) - np.min(r.onset)) or 1.0
    ped = np.asarray(r.pedal, float).reshape(-1, 2)
    pedal = float(np.clip((ped[:, 1] - ped[:, 0]).sum() / dur, 0, 1)) if len(ped) else 0.0
    stability = float(values["rhythm_stability"])
    rub = 1 - stability
    mech = float(np.clip(1 - 10 * rub - vel.std() / 5 - pedal * 3, 0, 1))
    return {
        "speed": float(speed), "loudness": float(np.clip((vel.mean() - 30) / 80, 0, 1)),
        "dyn_var": float(np.clip(vel.std() / 16, 0, 1)), "pedal": pedal,
        "rubato": float(np.clip((rub - 0.2) / 0.5, 0, 1)), "stability": stability,
        "mechanical": mech,
        "articulation": float(values["articulation"]),
        "melodiousness": float(values["melodiousness"]),
        "dissonance": float(values["dissonance"]),
        "minorness": float(0.8 * values["minorness"] + 0.2 * (mode == "minor")),
        "rhythm_complexity": float(values["rhythm_complexity"]),
        "tonal_stability": float(values["tonal_stability"]),
    }


def concept_activations(char: Char) -> dict[str, float]:
    """Activation of every concept for a character (roughly −1..1; > 0 = salient)."""
    return {k: float(f(char)) for k, (f, _) in CONCEPTS.items()}


@dataclass(frozen=True)
class ListenerProfile:
    """A listener's stable habits."""

    verbosity: float                       # mean number of terms (1..5)
    attention: dict[str, float]            # multiplicative interest per concept
    favourites: dict[str, tuple[float, ...]]  # synonym preference weights per concept
    intensity: float                       # probability of an intensity word
    irrelevant: float                      # probability of an irrelevant remark
    contradiction: float                   # probability of a contradictory term
    beta: float                            # how closely the listener follows the character


def listener_profile(seed: int, listener_id: str) -> ListenerProfile:
    """The habits of ``listener_id`` (a pure function of seed and id)."""
    g = rng(seed, "listener", listener_id)
    return ListenerProfile(
        verbosity=float(g.uniform(1.3, 4.0)),
        attention={k: float(np.exp(g.normal(0, 0.5))) for k in CONCEPTS},
        favourites={k: tuple(g.dirichlet(np.full(len(v[1]), 0.6)).tolist())
                    for k, v in CONCEPTS.items()},
        intensity=float(g.uniform(0.0, 0.4)),
        irrelevant=float(g.uniform(0.0, 0.15)),
        contradiction=float(g.uniform(0.0, 0.08)),
        beta=float(g.uniform(3.0, 7.0)),
    )


def describe(char: Char, seed: int, listener_id: str, performance_id: str = "") -> str:
    """One listener's description of a performance: 1–5 comma-separated terms."""
    prof = listener_profile(seed, listener_id)
    g = rng(seed, "describe", listener_id, performance_id)
    act = concept_activations(char)
    names = list(CONCEPTS)
    a = np.array([act[k] for k in names])
    logits = prof.beta * a + np.log([prof.attention[k] for k in names])
    n = int(np.clip(round(g.normal(prof.verbosity, 0.8)), 1, 5))
    order = np.argsort(-(logits + g.gumbel(size=len(names))), kind="stable")
    chosen = [names[i] for i in order[:n]]
    if g.random() < prof.contradiction:
        chosen[-1] = names[int(np.argmin(a))]
    terms = []
    for k in chosen:
        words = CONCEPTS[k][1]
        w = words[int(g.choice(len(words), p=prof.favourites[k]))]
        if " " not in w and w not in _NO_INTENSITY and g.random() < prof.intensity:
            w = f"{g.choice(_INTENSE if act[k] > 0.25 else _MILD)} {w}"
        if w not in terms:
            terms.append(w)
    if g.random() < prof.irrelevant:
        terms.insert(int(g.integers(len(terms) + 1)), str(g.choice(IRRELEVANT)))
    return ", ".join(terms[:5])
