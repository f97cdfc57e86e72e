"""Mid-level perceptual features of the emotion world: ground-truth formulas and clips.

The real mid-level dataset (Aljanaki & Soleymani 2018) has crowd-sourced 1..10 ratings of
seven perceptual qualities. In the world they are *computed* from a rendered note list
(score position + performed timing, duration, velocity, pedal), all on a **0..1 scale**
(an affine map of a 1..10 rating scale), plus onset density in onsets per second. The
same function, :func:`midlevel_values`, labels the expressive performances
(:mod:`emolib.data.world.performances`, Con Espressione role) and the short training clips
built here (mid-level dataset role), so a model trained on the clips transfers.

Formulas (``r`` = a rendition; "sounding" end = key release, extended to the pedal release
when the key is released while the sustain pedal is down):

* **legato ratio** of a note = min(1, sounding duration / time to the next onset of the
  same voice) (last note of a voice excluded).
* **articulation** = 1 − mean legato ratio over all notes (staccato share; pedal blurs it).
* **melodiousness** = 0.35·step share + 0.15·(1 − leap share) + 0.30·melody legato
  + 0.20·melody prominence, where step share = share of melodic intervals ≤ 2 semitones,
  leap share = share > 7 semitones, melody legato = mean legato ratio of the melody, and
  prominence = clip(0.5 + (mean melody velocity − mean other velocity) / 40, 0, 1)
  (0.75 for a melody alone). The melody is voice 0, or the skyline when there is none.
* **rhythm_stability** = exp(−s / 0.12), s = duration-weighted standard deviation of
  log(seconds per beat) between consecutive score onsets (tempo-curve variability and
  timing noise; a deadpan rendering has s = 0 → 1).
* **rhythm_complexity** = clip(0.5·min(1, 2·syncopation) + 0.5·H, 0, 1): syncopation =
  share of off-beat score onsets not followed by an onset on the next beat; H = entropy of
  the performed inter-onset intervals (log2 ratio to the median, 0.25-octave bins over
  ±3 octaves) in bits, divided by 3 and capped at 1.
* **dissonance** = 1 − exp(−R / 0.25), R = time-average (over sounding time) of the mean
  pairwise roughness weight of the notes sounding together; weights by interval mod 12:
  m2 1.0, M7 0.7, tritone 0.7, M2 0.6, m7 0.4, P4 0.1, m3/M6/m6 0.05, others 0; intervals
  wider than an octave count 0.7×.
* **tonal_stability** = mean over 4 s windows (hop 2 s) of clip((r* − 0.2) / 0.75, 0, 1),
  r* = the best Pearson correlation of the window's duration-weighted pitch-class
  histogram with the 24 Krumhansl–Kessler key profiles (key clarity), weighted by the
  sounding time in each window.
* **minorness** = 0.5·σ((r_min − r_maj) / 0.15) + 0.25·m_bass + 0.25·m_any:
  r_min / r_maj = best minor / major key-profile correlation of the whole rendition;
  m_bass = share of minor chords among the triads heard over the bass in sliding windows
  (0.75 s, hop 0.25 s; bass = lowest note sounding ≥ 25 % of the window; a triad = its
  fifth and exactly one of the minor / major third above the bass, each ≥ 8 % of the
  window's sounding time); m_any = the same share over triads on any root (pitch classes
  ≥ 15 %); each share is 0.5 when no triad is heard. (Mode is clear to listeners but not
  to any one cue, hence three.)
* **onset_density** = number of onset events (onsets closer than 30 ms merge into one
  event) / duration, duration = the clip length when given, else the last key release.

Only :func:`build_midlevel` adds listener noise: ``rating_noise`` (default 0.03, Gaussian,
clipped to [0, 1]) stands in for the disagreement of crowd-sourced ratings; the
performances' ground truth is noise-free.

Notebook: 03_chowdhury2023.ipynb (mid-level model training and evaluation), 00_tour.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from emolib.data.taxonomies import MIDLEVEL_NAMES
from emolib.data.world.runner import run_items
from emolib.data.world.scores import (
    _BAR_RHYTHMS,
    _TEXTURES,
    Rendition,
    ScoreSpec,
    Style,
    compose,
    crop,
    render,
    sounding_offsets,
    synthesize_rendition,
    wav_bytes,
)
from emolib.io import atomic_write_bytes
from emolib.seed import rng

__all__ = [
    "MIDLEVEL_FEATURES",
    "KK_MAJOR",
    "KK_MINOR",
    "legato_ratios",
    "sounding_offsets",
    "articulation",
    "melodiousness",
    "rhythm_stability",
    "rhythm_complexity",
    "dissonance",
    "tonal_stability",
    "minorness",
    "onset_density",
    "midlevel_values",
    "build_midlevel",
]

log = logging.getLogger(__name__)

#: The seven mid-level features, in the order of the real dataset's annotation file
#: (:data:`emolib.data.taxonomies.MIDLEVEL_NAMES`, under the name this module always used).
MIDLEVEL_FEATURES: tuple[str, ...] = MIDLEVEL_NAMES

#: Krumhansl & Kessler (1982) probe-tone key profiles, tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

#: Roughness weight per interval (semitones mod 12), see the module docstring.
_ROUGHNESS = np.array([0.0, 1.0, 0.6, 0.05, 0.0, 0.1, 0.7, 0.0, 0.05, 0.05, 0.4, 0.7])

_CHORD_GAP = 0.03  # onsets closer than this (s) form one onset event

# the 12 rotations of each KK profile, centred and normalised (for Pearson r)
_KK_ROLLED = np.stack([np.stack([np.roll(p, k) for k in range(12)]) for p in (KK_MAJOR, KK_MINOR)])
_KK_ROLLED = _KK_ROLLED - _KK_ROLLED.mean(-1, keepdims=True)
_KK_ROLLED = _KK_ROLLED / np.sqrt((_KK_ROLLED ** 2).sum(-1, keepdims=True))


# --------------------------------------------------------------------------- helpers
def legato_ratios(r: Rendition, voices: np.ndarray | None = None) -> np.ndarray:
    """Per-note min(1, sounding duration / IOI to the next onset of the same voice).

    Notes that are the last of their voice get NaN. ``voices`` overrides ``r.voice``.
    """
    onset = np.asarray(r.onset, float)
    off = sounding_offsets(r)
    voice = np.asarray(r.voice if voices is None else voices)
    out = np.full(len(onset), np.nan)
    for v in np.unique(voice):
        idx = np.flatnonzero(voice == v)
        idx = idx[np.argsort(onset[idx], kind="stable")]
        t = onset[idx]
        for j, i in enumerate(idx):
            later = t[j + 1:][t[j + 1:] > t[j] + _CHORD_GAP]
            if len(later):
                out[i] = min(1.0, (off[i] - onset[i]) / (later[0] - t[j]))
    return out


def _melody_index(r: Rendition) -> np.ndarray:
    """Indices of the melody notes (voice 0, else the skyline), in time order."""
    voice = np.asarray(r.voice)
    onset = np.asarray(r.onset, float)
    idx = np.flatnonzero(voice == 0)
    if len(idx) == 0:  # skyline: the highest note of every score onset
        pitch = np.asarray(r.pitch)
        so = np.asarray(r.score_onset, float)
        idx = np.array([np.flatnonzero(so == b)[np.argmax(pitch[so == b])]
                        for b in np.unique(so)], dtype=int)
    return idx[np.argsort(onset[idx], kind="stable")]


def _onset_groups(r: Rendition) -> tuple[np.ndarray, np.ndarray]:
    """Unique score onsets (beats) and the median performed time of each."""
    so = np.asarray(r.score_onset, float)
    onset = np.asarray(r.onset, float)
    beats, inv, counts = np.unique(so, return_inverse=True, return_counts=True)
    srt = onset[np.lexsort((onset, inv))]
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    times = 0.5 * (srt[start + (counts - 1) // 2] + srt[start + counts // 2])
    return beats, times


def _segments(r: Rendition) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant segments: (lengths (S,), active-note mask (S, N))."""
    on = np.asarray(r.onset, float)
    off = sounding_offsets(r)
    bounds = np.unique(np.concatenate([on, off]))
    if len(bounds) < 2:
        return np.zeros(0), np.zeros((0, len(on)), bool)
    mid = 0.5 * (bounds[1:] + bounds[:-1])
    active = (on[None, :] <= mid[:, None]) & (off[None, :] > mid[:, None])
    return np.diff(bounds), active


def _pc_histogram(r: Rendition, t0: float = -np.inf, t1: float = np.inf) -> np.ndarray:
    """Pitch-class histogram weighted by sounding time inside [t0, t1)."""
    on = np.asarray(r.onset, float)
    off = sounding_offsets(r)
    dur = np.clip(np.minimum(off, t1) - np.maximum(on, t0), 0, None)
    return np.bincount(np.asarray(r.pitch) % 12, weights=dur, minlength=12)


def _key_correlations(hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of ``hist`` with the 12 major and the 12 minor KK profiles (tonic 0..11)."""
    b = np.asarray(hist, float) - np.mean(hist)
    nb = np.sqrt((b ** 2).sum())
    if nb <= 0:
        return np.zeros(12), np.zeros(12)
    return (_KK_ROLLED[0] @ b) / nb, (_KK_ROLLED[1] @ b) / nb


# --------------------------------------------------------------------------- features
def articulation(r: Rendition) -> float:
    """1 − mean legato ratio (0 = fully legato, → 1 = very short staccato)."""
    lr = legato_ratios(r)
    lr = lr[~np.isnan(lr)]
    return float(np.clip(1.0 - lr.mean(), 0, 1)) if len(lr) else 0.0


def melodiousness(r: Rendition) -> float:
    """Stepwise, singable, legato and prominent melody (see module docstring)."""
    idx = _melody_index(r)
    pitch = np.asarray(r.pitch)
    if len(idx) < 2:
        return 0.0
    iv = np.abs(np.diff(pitch[idx]))
    step, leap = float(np.mean(iv <= 2)), float(np.mean(iv > 7))
    voices = np.zeros(len(pitch), int)
    voices[idx] = 1
    lr = legato_ratios(r, voices=np.where(voices == 1, 0, 1 + np.arange(len(pitch))))[idx]
    mel_legato = float(np.nanmean(lr)) if np.any(~np.isnan(lr)) else 0.0
    vel = np.asarray(r.velocity, float)
    others = np.setdiff1d(np.arange(len(pitch)), idx)
    prom = 0.75 if len(others) == 0 else float(
        np.clip(0.5 + (vel[idx].mean() - vel[others].mean()) / 40.0, 0, 1))
    return float(np.clip(0.35 * step + 0.15 * (1 - leap) + 0.30 * mel_legato + 0.20 * prom, 0, 1))


def rhythm_stability(r: Rendition) -> float:
    """exp(−s/0.12), s = weighted std of log seconds-per-beat between score onsets."""
    beats, times = _onset_groups(r)
    if len(beats) < 3:
        return 1.0
    db, dt = np.diff(beats), np.diff(times)
    lspb = np.log(np.maximum(dt, 1e-3) / db)
    mu = np.average(lspb, weights=db)
    s = float(np.sqrt(np.average((lspb - mu) ** 2, weights=db)))
    return float(np.exp(-s / 0.12))


def rhythm_complexity(r: Rendition) -> float:
    """0.5·min(1, 2·syncopation share) + 0.5·normalised performed-IOI entropy."""
    beats, times = _onset_groups(r)
    if len(beats) < 3:
        return 0.0
    bset = set(np.round(beats, 6))
    offbeat = np.abs(beats - np.round(beats)) > 1e-6
    synco = [round(float(np.ceil(b)), 6) not in bset for b in beats[offbeat]]
    sync_share = float(np.sum(synco)) / len(beats)
    ioi = np.diff(times)
    ioi = ioi[ioi > _CHORD_GAP]
    if len(ioi) < 2:
        return float(np.clip(0.5 * min(1.0, 2 * sync_share), 0, 1))
    rel = np.clip(np.log2(ioi / np.median(ioi)), -3, 3 - 1e-9)
    counts = np.bincount(((rel + 3) / 0.25).astype(int), minlength=24)
    p = counts[counts > 0] / counts.sum()
    h = float(min(1.0, -(p * np.log2(p)).sum() / 3.0))
    return float(np.clip(0.5 * min(1.0, 2 * sync_share) + 0.5 * h, 0, 1))


def dissonance(r: Rendition) -> float:
    """1 − exp(−R/0.25), R = time-averaged mean pairwise roughness of sounding notes."""
    lengths, active = _segments(r)
    pitch = np.asarray(r.pitch)
    d = np.abs(pitch[:, None] - pitch[None, :])
    w = _ROUGHNESS[d % 12] * np.where(d > 12, 0.7, 1.0)  # note-pair weights
    a = active.astype(float)
    k = a.sum(1)
    pair_sum = 0.5 * np.einsum("sn,nm,sm->s", a, w, a, optimize=True)
    n_pairs = k * (k - 1) / 2
    mean_w = np.where(n_pairs > 0, pair_sum / np.maximum(n_pairs, 1), 0.0)
    sounding = k > 0
    den = float(lengths[sounding].sum())
    raw = float((lengths * mean_w)[sounding].sum()) / den if den > 0 else 0.0
    return float(1 - np.exp(-raw / 0.25))


def tonal_stability(r: Rendition, window: float = 4.0, hop: float = 2.0) -> float:
    """Mean windowed key clarity (best KK correlation, mapped to 0..1)."""
    on = np.asarray(r.onset, float)
    off = sounding_offsets(r)
    if len(on) == 0:
        return 0.0
    t0, t1 = float(on.min()), float(off.max())
    starts = np.arange(t0, max(t0 + 1e-9, t1 - window + hop), hop)
    vals, weights = [], []
    for s in starts:
        h = _pc_histogram(r, s, s + window)
        if h.sum() <= 0:
            continue
        rmaj, rmin = _key_correlations(h)
        vals.append(np.clip((max(rmaj.max(), rmin.max()) - 0.2) / 0.75, 0, 1))
        weights.append(h.sum())
    return float(np.average(vals, weights=weights)) if vals else 0.0


def _window_overlap(r: Rendition, window: float = 0.75, hop: float = 0.25) -> np.ndarray:
    """(W, N) sounding time of every note inside sliding windows."""
    on = np.asarray(r.onset, float)
    off = sounding_offsets(r)
    starts = np.arange(float(on.min()), float(off.max()), hop)
    return np.clip(np.minimum(off[None, :], starts[:, None] + window)
                   - np.maximum(on[None, :], starts[:, None]), 0, None)


def _bass_triads(r: Rendition, window: float = 0.75) -> tuple[int, int]:
    """Windows whose bass carries a major / a minor triad (counts)."""
    ov = _window_overlap(r, window)
    pitch = np.asarray(r.pitch)
    h = ov @ np.eye(12)[pitch % 12]
    tot = h.sum(1, keepdims=True)
    present = h > 0.08 * np.maximum(tot, 1e-9)
    held = ov >= 0.25 * window
    bass = np.where(held, pitch[None, :], 10_000).min(1)
    ok = bass < 10_000
    rows = np.flatnonzero(ok)
    b = bass[ok] % 12
    fifth = present[rows, (b + 7) % 12]
    m3, M3 = present[rows, (b + 3) % 12], present[rows, (b + 4) % 12]
    return int((fifth & M3 & ~m3).sum()), int((fifth & m3 & ~M3).sum())


def _all_triads(r: Rendition, window: float = 0.75) -> tuple[int, int]:
    """Major / minor triads (any root) heard in sliding windows (counts)."""
    ov = _window_overlap(r, window)
    h = ov @ np.eye(12)[np.asarray(r.pitch) % 12]
    present = h > 0.15 * np.maximum(h.sum(1, keepdims=True), 1e-9)
    m3, M3, p5 = (np.roll(present, -k, axis=1) for k in (3, 4, 7))
    return int((present & M3 & p5 & ~m3).sum()), int((present & m3 & p5 & ~M3).sum())


def minorness(r: Rendition) -> float:
    """0.5·σ((r_min − r_maj)/0.15) + 0.25·bass-triad + 0.25·any-triad minor shares."""
    h = _pc_histogram(r)
    if h.sum() <= 0:
        return 0.5
    rmaj, rmin = _key_correlations(h)
    evidence = 1 / (1 + np.exp(-(rmin.max() - rmaj.max()) / 0.15))
    shares = []
    for n_maj, n_min in (_bass_triads(r), _all_triads(r)):
        shares.append(0.5 if n_maj + n_min == 0 else n_min / (n_maj + n_min))
    return float(np.clip(0.5 * evidence + 0.25 * shares[0] + 0.25 * shares[1], 0, 1))


def onset_density(r: Rendition, duration: float | None = None) -> float:
    """Onset events (onsets < 30 ms apart merged) per second of ``duration``.

    ``duration`` defaults to the last key release of the rendition.
    """
    on = np.sort(np.asarray(r.onset, float))
    if len(on) == 0:
        return 0.0
    n_events = 1 + int(np.sum(np.diff(on) >= _CHORD_GAP))
    dur = float(np.max(r.offset)) if duration is None else float(duration)
    if dur <= 0:
        raise ValueError(f"duration must be positive, got {dur!r}")
    return n_events / dur


def midlevel_values(r: Rendition, duration: float | None = None) -> dict[str, float]:
    """All seven mid-level features (0..1) and onset density (per s) of a rendition."""
    return {
        "melodiousness": melodiousness(r),
        "articulation": articulation(r),
        "rhythm_complexity": rhythm_complexity(r),
        "rhythm_stability": rhythm_stability(r),
        "dissonance": dissonance(r),
        "tonal_stability": tonal_stability(r),
        "minorness": minorness(r),
        "onset_density": onset_density(r, duration),
    }


# --------------------------------------------------------------------------- clips
#: General-MIDI programs of the clips and their weights: acoustic grand piano most often,
#: then string ensemble, nylon guitar, marimba, church organ, saw lead, finger bass.
CLIP_PROGRAMS: tuple[tuple[int, float], ...] = (
    (0, 0.45), (48, 0.15), (24, 0.12), (12, 0.08), (19, 0.08), (81, 0.06), (33, 0.06))


def _random_clip(seed: int, index: int, duration: float):
    """A random score + random expressive style, rendered and cropped to ``duration``."""
    g = rng(seed, "midlevel_clip", index)
    bpb = int(g.choice([2, 3, 4], p=[0.2, 0.35, 0.45]))
    bpm = float(g.uniform(45, 80) if bpb == 2 else g.uniform(55, 165))
    bar_s = bpb * 60.0 / bpm
    spec = ScoreSpec(
        name=f"clip{index}", tonic=int(g.integers(12)), mode=str(g.choice(["major", "minor"])),
        beats_per_bar=bpb, subdiv=3 if bpb == 2 else int(g.choice([2, 2, 3])),
        bpm=round(bpm, 1), texture=str(g.choice(_TEXTURES)),
        rhythm=str(g.choice(list(_BAR_RHYTHMS[4]))), step_prob=float(g.uniform(0.3, 0.95)),
        chromatic=float(g.uniform(0, 0.5) * (g.random() < 0.5)),
        add7=float(g.uniform(0, 0.9)), cluster=float(g.uniform(0, 0.7) * (g.random() < 0.35)),
        staccato=float(g.uniform(0, 0.7) * (g.random() < 0.5)),
        phrase_bars=int(g.choice([2, 4])), harm_per_bar=int(g.choice([1, 1, 2])),
        n_bars=int(np.ceil(1.6 * duration / bar_s)) + 1)
    score = compose(spec, seed=int(g.integers(2**31)))
    if g.random() < 0.2:  # atonal variant: chords shifted chromatically, at random
        slot_of = np.searchsorted(score.chord_changes, score.onset, side="right") - 1
        shifts = g.integers(-6, 7, size=len(score.chord_changes))
        pitch = score.pitch + np.where(score.voice > 0, shifts[slot_of], 0)
        score = replace(score, pitch=pitch)
    style = Style(
        "random", tempo_factor=float(g.uniform(0.8, 1.25)), rubato=float(g.uniform(0, 0.15)),
        ritardando=float(g.uniform(0, 0.3)),
        timing_noise=float(g.uniform(0, 0.025) * (g.random() < 0.8)),
        velocity=float(g.uniform(35, 105)), dyn_range=float(g.uniform(0, 35)),
        accent=float(g.uniform(0, 12)), dyn_noise=float(g.uniform(0, 6)),
        legato=float(g.uniform(0.3, 1.15)), pedal=float(g.uniform(0, 1) * (g.random() < 0.6)),
        pedal_blur=bool(g.random() < 0.3), melody_emphasis=float(g.uniform(0, 14)))
    programs, probs = zip(*CLIP_PROGRAMS)
    program = int(g.choice(programs, p=np.array(probs) / np.sum(probs)))
    r = render(score, style, seed, key=f"clip{index}", program=program)
    if program == 33:  # bass: an octave lower
        r = replace(r, pitch=np.maximum(r.pitch - 12, 28))
    return crop(r, duration)


def _clip_job(job: dict, out_dir: Path, seed: int, sr: int) -> dict:
    """Render, label and write one mid-level clip."""
    i, duration, noise = job["index"], job["duration"], job["rating_noise"]
    r = _random_clip(seed, i, duration)
    values = midlevel_values(r, duration=duration)
    n = int(round(duration * sr))
    audio = synthesize_rendition(r, sr)
    audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
    clip_id = f"ml{i:05d}"
    rel = f"midlevel/audio/{clip_id}.wav"
    atomic_write_bytes(out_dir / rel, wav_bytes(audio, sr))
    g = rng(seed, "midlevel_rating", i)
    row = {"clip_id": clip_id, "audio_path": rel}
    for k in MIDLEVEL_FEATURES:
        v = values[k] + (g.normal(0, noise) if noise > 0 else 0.0)
        row[k] = round(float(np.clip(v, 0, 1)), 6)
    return row


def build_midlevel(out_dir: Path, seed: int, n_clips: int, duration: float = 5.0,
                   sr: int = 16000, n_jobs: int = 1, progress: bool = True,
                   rating_noise: float = 0.03) -> pd.DataFrame:
    """Render ``n_clips`` varied short clips with their seven mid-level values.

    Each clip is a random score (any texture, metre, mode, harmony colour, optionally
    atonal chord shifts) played in a random expressive style by one of the GM programs of
    :data:`CLIP_PROGRAMS` (rendered with the GM SoundFont), cropped to ``duration`` s; written to
    ``midlevel/audio/<clip_id>.wav`` (16-bit, ``sr`` Hz). Returns
    ``DataFrame[clip_id, audio_path, melodiousness, articulation, rhythm_complexity,
    rhythm_stability, dissonance, tonal_stability, minorness]`` (paths relative to
    ``out_dir``), values from :func:`midlevel_values` plus Gaussian ``rating_noise``
    (clipped to 0..1). Notebook: 03_chowdhury2023.ipynb.
    """
    if not isinstance(n_clips, (int, np.integer)) or n_clips < 1:
        raise ValueError(f"n_clips must be a positive integer, got {n_clips!r}")
    if not 1.0 <= float(duration) <= 60.0:
        raise ValueError(f"duration must be between 1 and 60 seconds, got {duration!r}")
    if not isinstance(sr, (int, np.integer)) or sr < 8000:
        raise ValueError(f"sr must be an integer sample rate >= 8000, got {sr!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    if not 0.0 <= rating_noise <= 0.5:
        raise ValueError(f"rating_noise must be in [0, 0.5], got {rating_noise!r}")
    jobs = [{"index": i, "duration": float(duration), "rating_noise": float(rating_noise)}
            for i in range(int(n_clips))]
    rows = run_items(partial(_clip_job, out_dir=Path(out_dir), seed=seed, sr=int(sr)), jobs,
                     int(n_jobs), progress, "mid-level clips")
    log.info("rendered %d mid-level clips of %.1f s under %s", len(rows), duration, out_dir)
    return pd.DataFrame(rows, columns=["clip_id", "audio_path", *MIDLEVEL_FEATURES])
