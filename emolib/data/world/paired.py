"""Paired audio–MIDI solo-piano corpus of the emotion world (MAESTRO role).

Diverse solo-piano pieces — random keys, tempi (roughly 45–190 bpm), densities,
polyphony (accompaniment figures from held chords to tremolo), registers, velocity
levels and pedalling — each kept as MIDI and rendered to audio with the GM SoundFont's
acoustic grand piano (program 0, :mod:`emolib.data.world.sound`), so that the audio and its
score are aligned exactly. Used to pre-train a
transcription model and a symbolic Transformer (Notebook 04, Zhu et al. 2023), in the role
MAESTRO plays there. Not MAESTRO data: the pieces come from this project's composer.

Notebooks: 04_zhu2023 (through ``make_world``).
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi

from emolib.seed import rng

from .music import (
    _check_common,
    item_seed,
    render_audio,
    render_piece,
    spec_from_latent,
    write_clip,
)
from .piano import to_solo_piano
from .runner import run_items

__all__ = ["compose_paired_piece", "build_paired"]

log = logging.getLogger(__name__)

_PATTERNS = ("block", "arpeggio", "oompah", "pulse", "tremolo")


def compose_paired_piece(seed: int, duration: float = 10.0) -> pretty_midi.PrettyMIDI:
    """One diverse solo-piano piece (a pure function of ``seed`` and ``duration``)."""
    if not duration > 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    g = rng(seed, "paired")
    v, a = float(g.random()), float(g.random())
    spec = spec_from_latent(None, v, a, g, timbres=("piano",))
    spec = dataclasses.replace(
        spec,
        tempo=round(float(np.clip(45 + 145 * g.random() ** 1.2, 45, 190)), 2),
        density=float(g.uniform(0.5, 4.0)),
        velocity=float(g.uniform(30, 112)),
        accent=float(g.uniform(0, 25)),
        register=float(g.uniform(55, 82)),
        staccato=float(g.uniform(0, 0.9)),
        accomp_pattern=_PATTERNS[int(g.integers(len(_PATTERNS)))],
        pedal=bool(g.random() < 0.5),
        tremolo=False,
    )
    return to_solo_piano(render_piece(spec, float(duration), g))


def _paired_item(it: dict) -> dict:
    pm = compose_paired_piece(it["seed"], it["duration"])
    audio = render_audio(pm, it["duration"], it["sr"])
    out = Path(it["out_dir"])
    write_clip(pm, audio, it["sr"], out / it["audio_path"], out / it["midi_path"])
    return {}


def build_paired(out_dir: Path, seed: int, n_items: int, duration: float = 10.0,
                 sr: int = 16000, n_jobs: int = 1, progress: bool = True) -> pd.DataFrame:
    """Render ``n_items`` paired piano pieces under ``out_dir/paired/{audio,midi}``.

    Returns item_id (``"paired-00000"``), audio_path, midi_path (relative to ``out_dir``).

    Notebooks: 04_zhu2023 (through ``make_world``).
    """
    if not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    _check_common(seed, duration, sr, n_jobs)
    out_dir = Path(out_dir)
    items = []
    for i in range(int(n_items)):
        item_id = f"paired-{i:05d}"
        items.append({"item_id": item_id, "seed": item_seed(seed, "paired", i),
                      "duration": float(duration), "sr": int(sr), "out_dir": str(out_dir),
                      "audio_path": f"paired/audio/{item_id}.wav",
                      "midi_path": f"paired/midi/{item_id}.mid"})
    run_items(_paired_item, items, int(n_jobs), progress, "paired piano")
    return pd.DataFrame({"item_id": [it["item_id"] for it in items],
                         "audio_path": [it["audio_path"] for it in items],
                         "midi_path": [it["midi_path"] for it in items]})
