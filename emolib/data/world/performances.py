"""Expressive performances of the emotion world (Con Espressione role).

A small composer writes short piano scores, each with its own character (key and mode,
metre, texture, melody rhythm and contour, harmony colour); an expressive renderer plays
each score several times in named *performer styles* — tempo curve (global tempo, rubato
arches, phrase-final ritardandi), timing noise, dynamics (level, phrase swells, metric
accents), articulation (legato ratio), sustain pedal and melody voicing — and exactly one
performance per piece is deadpan (constant tempo and velocity, nominal durations, no
pedal), like the mechanical MIDI rendering in Con Espressione. Each performance gets
ground-truth mid-level values computed from its rendering and score by
:func:`emolib.data.world.midlevel.midlevel_values` (formulas and 0..1 scale documented
there) and free-text listener descriptions (:mod:`emolib.data.world.descriptions`).

The composer, the performer styles and the renderer live in
:mod:`emolib.data.world.scores` (shared with the mid-level clips); this module plans and
writes the performances. The names it used to define are still importable from here.

The scores are composed by this project's rules (no real scores are used); everything is
a pure function of the seed and the parameters. It is a teaching and testing stand-in,
never the Con Espressione data.

Notebook: 03_chowdhury2023.ipynb (retrieval), 00_tour (the world section).
"""
from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from emolib.data.world.descriptions import describe, performance_character
from emolib.data.world.midi import midi_bytes
from emolib.data.world.midlevel import MIDLEVEL_FEATURES, midlevel_values
from emolib.data.world.runner import run_items
from emolib.data.world.scores import (
    PIECE_CHARACTERS,
    STYLES,
    SYNTH_GAIN,
    Rendition,
    Score,
    ScoreSpec,
    Style,
    compose,
    crop,
    piece_specs,
    render,
    style_for,
    synthesize_rendition,
    to_pretty_midi,
    wav_bytes,
)
from emolib.io import atomic_write_bytes
from emolib.seed import rng

#: The old name of :class:`~emolib.data.world.scores.ScoreSpec` (not the clip spec
#: :class:`emolib.data.world.music.PieceSpec`).
PieceSpec = ScoreSpec

__all__ = [
    "build_performances",
    # re-exported from emolib.data.world.scores / .midi (their home since the split)
    "ScoreSpec",
    "PieceSpec",
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
    "to_pretty_midi",
    "SYNTH_GAIN",
    "synthesize_rendition",
    "midi_bytes",
    "wav_bytes",
]

log = logging.getLogger(__name__)


# =========================================================================== builder
def _check_range(name: str, value: tuple[int, int], minimum: int) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (min, max) pair of integers, got {value!r}") from None
    if lo < minimum or hi < lo:
        raise ValueError(f"{name} must be (min, max) with {minimum} <= min <= max, got {value!r}")
    return lo, hi


def _plan(seed: int, n_pieces: int, perf_per_piece: tuple[int, int],
          n_listeners: tuple[int, int]) -> list[dict]:
    """Which performances to render: piece, style, listeners (cheap, main process)."""
    specs = piece_specs(seed, n_pieces)
    names = [s for s in STYLES if s != "deadpan"]
    pool = [f"L{i:03d}" for i in range(max(40, 4 * n_listeners[1]))]
    jobs = []
    for p, spec in enumerate(specs):
        g = rng(seed, "plan", p)
        n_perf = int(g.integers(perf_per_piece[0], perf_per_piece[1] + 1))
        chosen = list(g.choice(names, size=n_perf - 1, replace=n_perf - 1 > len(names)))
        styles = list(g.permutation(["deadpan"] + chosen))
        piece_id = f"piece{p + 1:02d}"
        for k, st in enumerate(styles):
            n_l = int(g.integers(n_listeners[0], n_listeners[1] + 1))
            jobs.append({"piece": p, "spec": spec, "piece_id": piece_id, "style": str(st),
                         "performance_id": f"{piece_id}_perf{k + 1}",
                         "listeners": sorted(g.choice(pool, size=n_l, replace=False).tolist())})
    return jobs


def _render_job(job: dict, out_dir: Path, seed: int, sr: int) -> tuple[dict, list[dict]]:
    """Render, label, describe and write one performance."""
    pid = job["performance_id"]
    score = compose(job["spec"], seed=int(rng(seed, "score", job["piece"]).integers(2**31)))
    style = style_for(job["style"], seed, pid)
    r = render(score, style, seed, key=pid)
    values = midlevel_values(r)
    midi_rel, wav_rel = f"performances/midi/{pid}.mid", f"performances/audio/{pid}.wav"
    atomic_write_bytes(out_dir / midi_rel, midi_bytes(r))
    audio = synthesize_rendition(r, sr)
    atomic_write_bytes(out_dir / wav_rel, wav_bytes(audio, sr))
    row = {"performance_id": pid, "piece_id": job["piece_id"], "style": job["style"],
           "audio_path": wav_rel, "midi_path": midi_rel,
           **{k: round(float(values[k]), 6) for k in (*MIDLEVEL_FEATURES, "onset_density")}}
    char = performance_character(r, values, score.spec.bpm, score.spec.mode)
    descs = [{"description_id": f"{pid}_{lid}", "performance_id": pid,
              "piece_id": job["piece_id"], "listener_id": lid,
              "text": describe(char, seed, lid, pid)} for lid in job["listeners"]]
    return row, descs


def build_performances(out_dir: Path, seed: int, n_pieces: int = 9,
                       perf_per_piece: tuple[int, int] = (4, 7),
                       n_listeners: tuple[int, int] = (5, 9), sr: int = 16000, n_jobs: int = 1,
                       progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Render the Con Espressione-role performances under ``out_dir``.

    Writes ``performances/audio/<performance_id>.wav`` (16-bit, ``sr`` Hz, mono) and
    ``performances/midi/<performance_id>.mid`` and returns ``(performances,
    descriptions)``: ``performances[performance_id, piece_id, style, audio_path, midi_path,
    melodiousness, articulation, rhythm_complexity, rhythm_stability, dissonance,
    tonal_stability, minorness, onset_density]`` (paths relative to ``out_dir``; mid-level
    values on 0..1, onset density per second) and ``descriptions[description_id,
    performance_id, piece_id, listener_id, text]``. Same arguments → same tables and
    bytes. Notebook: 03_chowdhury2023.ipynb.
    """
    if not isinstance(n_pieces, (int, np.integer)) or n_pieces < 1:
        raise ValueError(f"n_pieces must be a positive integer, got {n_pieces!r}")
    perf_per_piece = _check_range("perf_per_piece", perf_per_piece, 2)
    n_listeners = _check_range("n_listeners", n_listeners, 1)
    if not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ValueError(f"sr must be an integer sample rate >= 8000, got {sr!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    out_dir = Path(out_dir)
    jobs = _plan(seed, int(n_pieces), perf_per_piece, n_listeners)
    results = run_items(partial(_render_job, out_dir=out_dir, seed=seed, sr=sr), jobs,
                        int(n_jobs), progress, "performances")
    log.info("rendered %d performances of %d pieces under %s", len(results), n_pieces, out_dir)
    perf = pd.DataFrame([r for r, _ in results])
    desc = pd.DataFrame([d for _, ds in results for d in ds],
                        columns=["description_id", "performance_id", "piece_id", "listener_id",
                                 "text"])
    return perf.reset_index(drop=True), desc.reset_index(drop=True)
