"""Piano 4Q clips of the emotion world (EMOPIA role): solo piano, Q1..Q4, grouped by song.

Each *song* draws one latent point around its quadrant's centroid (``sample_latent("emopia",
...)``) and, from it, its own key, mode, tempo, progression, accompaniment figure and
melodic motif; its clips are different segments of that song (the progression starts at a
different bar, small tempo/dynamics drift, fresh melodic variation), as EMOPIA's clips are
segments of one YouTube piano cover. Song-level splits therefore matter.

Cue design (as in EMOPIA, Hung et al. 2021, where arousal is much easier than valence
from audio): arousal drives tempo, note density, velocity and the accompaniment figure —
strong acoustic cues; valence drives mode (major/minor) and harmony (dissonance,
chromatic chords) — mostly *symbolic* cues, with only a weak register effect in the
audio. Fusing acoustic and symbolic features (Notebook 04, Zhu et al. 2023) should help
valence most. The cue rules were written by this project; this is not EMOPIA data.

Notebooks: 00_tour, 04_zhu2023 (through ``make_world``).
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
    make_motif,
    render_audio,
    render_piece,
    spec_from_latent,
    write_clip,
)
from .playable import make_playable
from .runner import run_items

__all__ = ["to_solo_piano", "piano_song_spec", "compose_piano_clip", "build_piano"]

log = logging.getLogger(__name__)


def to_solo_piano(pm: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    """Merge every non-drum track into one acoustic-piano track (program 0) with pedal.

    Sustain-pedal events of the merged tracks are united (pedal down while any was down);
    where the tracks meet on one key, the key's earlier note ends at the new strike
    (:func:`~emolib.data.world.playable.make_playable`).
    """
    out = pretty_midi.PrettyMIDI(initial_tempo=float(pm.get_tempo_changes()[1][0]),
                                 resolution=pm.resolution)
    out.time_signature_changes = list(pm.time_signature_changes)
    piano = pretty_midi.Instrument(program=0, name="piano")
    for inst in pm.instruments:
        if not inst.is_drum:
            piano.notes.extend(inst.notes)
    piano.notes.sort(key=lambda n: (n.start, n.pitch, n.end))
    # union of the pedal-down intervals of all tracks
    intervals = []
    for inst in pm.instruments:
        down = None
        for cc in sorted((c for c in inst.control_changes if c.number == 64),
                         key=lambda c: c.time):
            if cc.value >= 64 and down is None:
                down = cc.time
            elif cc.value < 64 and down is not None:
                intervals.append((down, cc.time))
                down = None
    intervals.sort()
    merged: list[list[float]] = []
    for a, b in intervals:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in merged:
        piano.control_changes.append(pretty_midi.ControlChange(64, 100, a))
        piano.control_changes.append(pretty_midi.ControlChange(64, 0, b))
    out.instruments.append(piano)
    return make_playable(out)  # melody and accompaniment may meet on one key


def piano_song_spec(valence: float, arousal: float, song_seed: int):
    """The :class:`~emolib.data.world.music.PieceSpec` of one piano song.

    Pure valence–arousal mapping (no label colour), piano only; the register (the main
    *acoustic* valence cue of the general mapping) is damped so that valence is carried
    mostly by mode and harmony.
    """
    g = rng(song_seed, "piano-song")
    spec = spec_from_latent(None, valence, arousal, g, timbres=("piano",))
    register = float(np.clip(63 + 5 * valence + 3 * arousal + 3 * g.normal(), 52, 80))
    return dataclasses.replace(spec, register=register)


def compose_piano_clip(valence: float, arousal: float, song_seed: int, clip_index: int,
                       duration: float = 10.0) -> pretty_midi.PrettyMIDI:
    """Clip ``clip_index`` of the song ``song_seed``: a segment/variation of its motif."""
    if not duration > 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    if clip_index < 0:
        raise ValueError(f"clip_index must be >= 0, got {clip_index!r}")
    spec = piano_song_spec(valence, arousal, song_seed)
    motif = make_motif(spec, rng(song_seed, "piano-motif"))
    g = rng(song_seed, "piano-clip", int(clip_index))
    spec = dataclasses.replace(
        spec, tempo=round(float(np.clip(spec.tempo * (1 + 0.03 * g.normal()), 40, 200)), 2),
        velocity=float(np.clip(spec.velocity + 4 * g.normal(), 20, 122)))
    pm = render_piece(spec, float(duration), g, motif=motif, start_bar=2 * int(clip_index))
    return to_solo_piano(pm)


def _piano_item(it: dict) -> dict:
    pm = compose_piano_clip(it["valence"], it["arousal"], it["song_seed"], it["clip"],
                            it["duration"])
    audio = render_audio(pm, it["duration"], it["sr"])
    out = Path(it["out_dir"])
    write_clip(pm, audio, it["sr"], out / it["audio_path"], out / it["midi_path"])
    return {}


def build_piano(out_dir: Path, seed: int, n_songs_per_quadrant: int, clips_per_song: int,
                duration: float = 10.0, sr: int = 16000, spread: float = 0.12,
                n_jobs: int = 1, progress: bool = True) -> pd.DataFrame:
    """Render the EMOPIA-role piano clips under ``out_dir/piano/{audio,midi}``.

    Returns item_id (``"Q1_s012_0"``: quadrant, song, clip index), song_id
    (``"Q1_s012"``), label (Q1..Q4), valence, arousal (the song's latent point),
    audio_path, midi_path (relative to ``out_dir``). Rows ordered by quadrant, song, clip.

    Notebooks: 04_zhu2023 (through ``make_world``).
    """
    from .latent import sample_latent

    for name, val in (("n_songs_per_quadrant", n_songs_per_quadrant),
                      ("clips_per_song", clips_per_song)):
        if not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"{name} must be a positive integer, got {val!r}")
    _check_common(seed, duration, sr, n_jobs)
    lat = sample_latent("emopia", int(n_songs_per_quadrant), seed, spread=spread,
                        label_noise=0.0)
    out_dir = Path(out_dir)
    items, rows = [], []
    per_q: dict[str, int] = {}
    for i, r in enumerate(lat.itertuples(index=False)):
        s_idx = per_q.get(r.label, 0)
        per_q[r.label] = s_idx + 1
        song_id = f"{r.label}_s{s_idx:03d}"
        song_seed = item_seed(seed, "piano-song", i)
        for j in range(int(clips_per_song)):
            item_id = f"{song_id}_{j}"
            it = {"valence": float(r.valence), "arousal": float(r.arousal),
                  "song_seed": song_seed, "clip": j, "duration": float(duration),
                  "sr": int(sr), "out_dir": str(out_dir),
                  "audio_path": f"piano/audio/{item_id}.wav",
                  "midi_path": f"piano/midi/{item_id}.mid"}
            items.append(it)
            rows.append({"item_id": item_id, "song_id": song_id, "label": r.label,
                         "valence": float(r.valence), "arousal": float(r.arousal),
                         "audio_path": it["audio_path"], "midi_path": it["midi_path"]})
    run_items(_piano_item, items, int(n_jobs), progress, "piano clips")
    return pd.DataFrame(rows)
