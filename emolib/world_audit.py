"""World audit: how realistic is the emotion world to models no one on this project trained?

The emotion world (:mod:`emolib.data.world`) renders its latent emotion into music with cue
rules this project wrote, and every model trained here learns exactly those rules. This
module asks *outside* models — real pretrained networks trained on real recordings — what
they hear in the world's audio, so that "the world sounds like music of that mood" becomes
a measured claim instead of a hope. Three parts, one tidy table:

(a) **tags** — musicnn's taggers (Pons & Serra 2019; :mod:`emolib.encoders.musicnn`):

    * ``MSD_musicnn`` (last.fm tags of the Million Song Dataset) on sampled music clips: per
      mood, the mean clip probability of each mood/affect tag of :data:`MSD_MOOD_TAGS`;
      over all sampled clips, Spearman's ρ of ``P(happy) − P(sad)`` with the clip's latent
      valence (and the same on the EMOPIA-role piano clips);
    * ``MTT_musicnn`` (MagnaTagATune): Spearman's ρ of ``P(fast) − P(slow)`` with latent
      arousal (music and piano clips); which of MTT's instrument tags
      (:data:`MTT_INSTRUMENT_TAGS`) is top-1 per clip, as shares per role (music, piano,
      paired), with the mean probability of each such tag — a synthetic piano that MTT
      calls "guitar" is not a realistic piano — and, for music, how often that top-1
      instrument is one the world tagged the clip with.

(b) **key** — madmom's key CNN (Korzeniowski & Widmer 2018;
    :func:`emolib.encoders.madmom_models.key_posterior`): the fraction of clips detected
    minor (mode marginal, ``p_minor > p_major``) per mood (music) and quadrant (piano),
    beside the fraction in minor by the world's own mode, and their agreement. The world
    has no mode column: its generator draws the mode of each piece with probability
    ``P(minor) = sigmoid(7 (0.5 − valence) + label colour)``
    (:func:`emolib.data.world.music.spec_from_latent`); :func:`world_modes` re-runs that
    draw with the clip's own seed (exactly the mode its MIDI was composed in).

(c) **transcription** — madmom's CNN piano transcriber (Kelz, Böck & Widmer 2019;
    :class:`emolib.encoders.madmom_models.MadmomBackend`) on the piano roles (EMOPIA-role
    ``piano`` clips and MAESTRO-role ``paired`` clips; the test split if it holds at least
    ``n_clips`` clips, else all splits): note precision / recall / F1 against the world's
    MIDI (:func:`emolib.encoders.transcription.note_scores`, mir_eval, 50 ms onset
    tolerance), onsets only and with offsets, mean over clips.

Columns of the table (:data:`COLUMNS`): ``part`` ("a tags", "b key", "c transcription"),
``role`` (the world's table: music, piano, paired), ``group`` (a mood, a quadrant or
"all"), ``measure`` (in words), ``value``, ``n`` (clips), ``model`` (as recorded in the
run's provenance; "world generator" for the world's own mode) and ``detail`` (p-values,
split, chance agreement...). Moods are the *observed* labels (``label``, with the world's
label noise), as the datasets expose them. Clips are sampled per class by
:func:`sample_clips` (seeded, stratified); the result is a pure function of
``(world, n_per_class, seed)``. :func:`write_world_audit` writes
``paper_tables/world_audit.csv`` and ``.md`` (the header names the world).

Models are loaded lazily (importing this module imports neither torch nor madmom).
madmom's models are CC BY-NC-SA 4.0 (non-commercial); musicnn's weights ISC.

Notebook: 00_tour (the world tour).
"""
from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from emolib import provenance
from emolib.io import atomic_write_text
from emolib.paths import tables_dir
from emolib.progress import tqdm
from emolib.seed import rng

if TYPE_CHECKING:
    from emolib.data.world import World
    from emolib.encoders.symbolic import Note
    from emolib.encoders.transcription import Transcriber

__all__ = ["COLUMNS", "PARTS", "MSD_MODEL", "MTT_MODEL", "MSD_MOOD_TAGS", "MTT_INSTRUMENT_TAGS",
           "VALENCE_CONTRAST", "AROUSAL_CONTRAST", "WORLD_MODE_MODEL", "TABLE_NAME",
           "sample_clips", "tag_clips", "detect_modes", "world_modes", "clip_note_scores",
           "mood_tag_rows", "spearman_row", "instrument_rows", "instrument_agreement_row",
           "mode_rows", "audit_tags", "audit_key", "audit_transcription", "world_audit",
           "world_data_name", "write_world_audit"]

log = logging.getLogger(__name__)

#: Columns of the audit table, in order.
COLUMNS: tuple[str, ...] = ("part", "role", "group", "measure", "value", "n", "model", "detail")
#: The three parts (values of ``part``).
PARTS: tuple[str, ...] = ("a tags", "b key", "c transcription")
TABLE_NAME = "world_audit"  #: file stem under paper_tables/

MSD_MODEL = "MSD_musicnn"  #: musicnn's last.fm (Million Song Dataset) tagger
MTT_MODEL = "MTT_musicnn"  #: musicnn's MagnaTagATune tagger
WORLD_MODE_MODEL = "world generator"  #: ``model`` of rows that state the world's own mode

#: The MSD-50 (last.fm) tags that name a mood or an affective quality of the music: the
#: valence pair happy / sad and beautiful; the low-arousal, relaxed Mellow, chill,
#: chillout; the high-arousal, social party and sexy. Left out: "catchy" (how memorable a
#: hook is, not a feeling), "easy listening" (a radio format / genre), and every genre,
#: era, instrument and vocalist tag.
MSD_MOOD_TAGS: tuple[str, ...] = ("happy", "sad", "beautiful", "Mellow", "chill", "chillout",
                                  "party", "sexy")
#: MTT-50 tags that name an instrument (voices, "beat(s)", styles and moods excluded).
MTT_INSTRUMENT_TAGS: tuple[str, ...] = ("guitar", "piano", "strings", "violin", "cello", "harp",
                                        "harpsichord", "flute", "sitar", "synth", "drums")
#: (positive tag, negative tag) whose probability difference tracks the latent dimension.
VALENCE_CONTRAST: tuple[str, str] = ("happy", "sad")  # MSD_musicnn
AROUSAL_CONTRAST: tuple[str, str] = ("fast", "slow")  # MTT_musicnn

_ONSET_TOLERANCE = 0.05  # s, mir_eval's default and note_scores'


# --------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------
def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def sample_clips(df: pd.DataFrame, n_per_class: int = 20, seed: int = 0,
                 split: str | None = None, *, by: str | None = "label") -> pd.DataFrame:
    """A seeded sample of ``n_per_class`` rows of each class of ``df[by]`` (all rows of a
    class that has fewer).

    ``split`` keeps only the rows of that split first; ``by=None`` samples ``n_per_class``
    rows from the whole table (one class). Each class is drawn with its own generator
    (``rng(seed, "world-audit", class)``), so a class's sample does not depend on the other
    classes. Returns the chosen rows with their original index, classes in sorted order
    and, within a class, in the table's order.
    """
    n = _check_count("n_per_class", n_per_class)
    if split is not None:
        if "split" not in df.columns:
            raise ValueError(f"split={split!r} asked for, but the table has no 'split' column")
        df = df[df["split"] == split]
    if by is not None and by not in df.columns:
        raise ValueError(f"cannot stratify by {by!r}: the table has columns {list(df.columns)}")
    keys = [None] if by is None else sorted(df[by].unique())
    chosen: list[Any] = []
    for key in keys:
        members = df.index if key is None else df.index[df[by] == key]
        if len(members) > n:
            g = rng(int(seed), "world-audit", "all" if key is None else str(key))
            pick = np.sort(g.choice(len(members), size=n, replace=False))
            members = members[pick]
        chosen.extend(members)
    return df.loc[chosen]


# --------------------------------------------------------------------------------------
# running the models (the only functions that touch audio)
# --------------------------------------------------------------------------------------
def _load(path: str | Path) -> tuple[np.ndarray, int]:
    from emolib.data.files import load_audio

    return load_audio(path, None)


@functools.lru_cache(maxsize=4)
def _tagger(model: str) -> Any:
    from emolib.encoders.musicnn import load_musicnn

    return load_musicnn(model)


def _musicnn_label(model: str) -> str:
    """The model's name as :func:`emolib.encoders.musicnn.load_musicnn` records it."""
    return f"musicnn {model}"


def tag_clips(model: str, paths: Iterable[str | Path]) -> tuple[np.ndarray, tuple[str, ...]]:
    """musicnn ``model``'s clip probabilities of each audio file: ``(n_clips, 50)`` float64
    (mean over 3-s patches, musicnn's default) and the 50 tag names."""
    from emolib.encoders.musicnn import tag_audio

    tagger = _tagger(model)
    provenance.record_model(_musicnn_label(model), "musicnn")  # also when the tagger is cached
    probs = []
    for path in tqdm(list(paths), desc=f"{model} tags", leave=False):
        y, sr = _load(path)
        probs.append(np.asarray(tag_audio(tagger, y, sr).clip_probs, dtype=np.float64))
    return np.stack(probs) if probs else np.zeros((0, 50)), tuple(tagger.tag_names)


def detect_modes(paths: Iterable[str | Path]) -> list[str]:
    """madmom's key-CNN mode ("major"/"minor", the mode marginal) of each audio file."""
    from emolib.encoders.madmom_models import key_posterior

    modes = []
    for path in tqdm(list(paths), desc="madmom key", leave=False):
        y, sr = _load(path)
        modes.append(key_posterior(y, sr).mode)
    return modes


def clip_note_scores(backend: Transcriber, audio_path: str | Path,
                     midi_path: str | Path) -> dict[str, float]:
    """Transcribe one clip with ``backend`` and score it against its MIDI: ``precision``,
    ``recall``, ``f1`` (onsets, 50 ms) and ``*_offsets`` (onsets and offsets)."""
    from emolib.encoders.symbolic import midi_to_notes
    from emolib.encoders.transcription import note_scores

    y, sr = _load(audio_path)
    est: list[Note] = backend.transcribe(y, sr)
    ref = midi_to_notes(midi_path)
    onset = note_scores(ref, est, onset_tolerance=_ONSET_TOLERANCE)
    offset = note_scores(ref, est, onset_tolerance=_ONSET_TOLERANCE, with_offsets=True)
    return {**onset, **{f"{k}_offsets": v for k, v in offset.items()}}


# --------------------------------------------------------------------------------------
# the world's own mode
# --------------------------------------------------------------------------------------
def _music_seed(world: World, item_id: str) -> int:
    """The seed ``build_music`` gave clip ``item_id`` ("audioset-00012": latent row 12)."""
    from emolib.data.world.music import item_seed

    return item_seed(world.seed, "music", int(str(item_id).rsplit("-", 1)[1]))


def _piano_song_seed(world: World, item_id: str) -> int:
    """The seed ``build_piano`` gave the song of clip ``item_id`` ("Q1_s012_0"): it
    enumerates the latent songs by quadrant (taxonomy order), then song index."""
    from emolib.data.taxonomies import labels
    from emolib.data.world.core import split_sizes
    from emolib.data.world.music import item_seed

    quadrant, song, _ = str(item_id).split("_")
    songs_per_quadrant = sum(split_sizes(world.params, "piano"))
    index = labels("emopia").index(quadrant) * songs_per_quadrant + int(song[1:])
    return item_seed(world.seed, "piano-song", index)


def _music_mode(world: World, row: Any) -> str:
    from emolib.data.world.music import spec_from_latent

    g = rng(_music_seed(world, row.item_id), "music-spec")  # as compose_clip draws it
    return spec_from_latent(row.true_label, float(row.valence), float(row.arousal), g).mode


def _piano_mode(world: World, row: Any) -> str:
    from emolib.data.world.piano import piano_song_spec

    return piano_song_spec(float(row.valence), float(row.arousal),
                           _piano_song_seed(world, row.item_id)).mode


def world_modes(world: World, role: str, df: pd.DataFrame) -> pd.Series:
    """The world's own mode ("major"/"minor") of each row of ``df`` (rows of ``world.<role>``).

    A ``mode`` column, if the world has one, is used as it is; otherwise the generator's
    draw is repeated with the clip's seed: for music
    :func:`~emolib.data.world.music.spec_from_latent` (``P(minor) = sigmoid(7 (0.5 − v) +
    label colour)``), for piano the song's :func:`~emolib.data.world.piano.piano_song_spec`
    (no colour). Index as ``df``'s.
    """
    if "mode" in df.columns:
        return df["mode"].astype(str)
    rule = {"music": _music_mode, "piano": _piano_mode}.get(role)
    if rule is None:
        raise ValueError(f"the world's mode is known for the roles music and piano, not {role!r}")
    return pd.Series([rule(world, row) for row in df.itertuples(index=False)], index=df.index,
                     dtype=object)


# --------------------------------------------------------------------------------------
# rows (pure functions of numbers)
# --------------------------------------------------------------------------------------
def _row(part: str, role: str, group: str, measure: str, value: float, n: int, model: str,
         detail: str = "") -> dict[str, Any]:
    return {"part": part, "role": role, "group": group, "measure": measure,
            "value": float(value), "n": int(n), "model": model, "detail": detail}


def _column(probs: np.ndarray, names: Sequence[str], tag: str) -> np.ndarray:
    if tag not in names:
        raise ValueError(f"tag {tag!r} is not among the model's tags {list(names)}")
    return np.asarray(probs, dtype=np.float64)[:, list(names).index(tag)]


def mood_tag_rows(probs: np.ndarray, names: Sequence[str], groups: Sequence[str], *,
                  role: str, model: str, tags: Sequence[str] = MSD_MOOD_TAGS
                  ) -> list[dict[str, Any]]:
    """Per group (sorted) and tag: the mean clip probability of ``tags`` (part a)."""
    groups = np.asarray(list(groups), dtype=object)
    rows = []
    for group in sorted(set(groups.tolist())):
        mask = groups == group
        for tag in tags:
            rows.append(_row(PARTS[0], role, str(group), f"mean P({tag})",
                             float(_column(probs, names, tag)[mask].mean()), int(mask.sum()),
                             model))
    return rows


def spearman_row(x: Sequence[float], y: Sequence[float], *, role: str, measure: str,
                 model: str, part: str = PARTS[0]) -> dict[str, Any]:
    """One row with Spearman's ρ of ``x`` and ``y`` (scipy.stats.spearmanr); ``detail``
    holds the two-sided p-value. Fewer than 3 clips or a constant input give NaN."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        why = "fewer than 3 clips" if len(x) < 3 else "constant input"
        return _row(part, role, "all", measure, math.nan, len(x), model, f"undefined: {why}")
    res = stats.spearmanr(x, y)
    return _row(part, role, "all", measure, float(res.statistic), len(x), model,
                f"p = {float(res.pvalue):.2g}")


def _contrast_row(probs: np.ndarray, names: Sequence[str], contrast: tuple[str, str],
                  latent: Sequence[float], dimension: str, *, role: str,
                  model: str) -> dict[str, Any]:
    pos, neg = contrast
    diff = _column(probs, names, pos) - _column(probs, names, neg)
    return spearman_row(diff, latent, role=role, model=model,
                        measure=f"Spearman ρ of P({pos}) − P({neg}) with latent {dimension}")


def _top_instruments(probs: np.ndarray, names: Sequence[str],
                     instruments: Sequence[str]) -> list[str]:
    cols = np.stack([_column(probs, names, t) for t in instruments], axis=1)
    return [instruments[i] for i in np.argmax(cols, axis=1)] if len(cols) else []


def instrument_rows(probs: np.ndarray, names: Sequence[str], *, role: str, model: str,
                    expected: str | None = None,
                    instruments: Sequence[str] = MTT_INSTRUMENT_TAGS) -> list[dict[str, Any]]:
    """Per instrument tag shown: the share of clips whose top-1 instrument tag (argmax over
    ``instruments``) it is, then its mean clip probability. Shown: every tag that is top-1
    at least once (largest share first, ties in tag order), plus ``expected`` (the
    instrument the clips really are) even when its share is 0."""
    top = _top_instruments(probs, names, instruments)
    n = len(top)
    shares = {t: (top.count(t) / n if n else math.nan) for t in instruments}
    shown = [t for t in instruments if shares[t] > 0 or t == expected]
    shown.sort(key=lambda t: (-shares[t], instruments.index(t)))
    note = f"argmax over MTT's {len(instruments)} instrument tags"
    rows = []
    for t in shown:
        real = f"; the clips are {expected}" if t == expected else ""
        rows.append(_row(PARTS[0], role, "all",
                         f"share of clips whose top-1 instrument tag is {t!r}", shares[t], n,
                         model, note + real))
        mean = float(_column(probs, names, t).mean()) if n else math.nan
        rows.append(_row(PARTS[0], role, "all", f"mean P({t})", mean, n, model,
                         "mean clip probability" + real))
    return rows


def _tag_list(tags: Any) -> list[str]:
    if isinstance(tags, str):
        return [t for t in tags.split(";") if t]
    return [str(t) for t in tags]


def instrument_agreement_row(probs: np.ndarray, names: Sequence[str], world_tags: Sequence[Any],
                             *, role: str, model: str,
                             instruments: Sequence[str] = MTT_INSTRUMENT_TAGS) -> dict[str, Any]:
    """Share of clips whose top-1 instrument tag is among the clip's own world tags, over
    the clips that carry at least one tag of ``instruments``."""
    top = _top_instruments(probs, names, instruments)
    own = [set(_tag_list(t)) & set(instruments) for t in world_tags]
    hits = [t in o for t, o in zip(top, own) if o]
    value = float(np.mean(hits)) if hits else math.nan
    return _row(PARTS[0], role, "all", "share of clips whose top-1 instrument tag is one of "
                "the clip's world tags", value, len(hits), model,
                "n: clips with a world instrument tag MTT knows; world tags are noisy "
                "(each true tag kept with p = 0.8)")


def mode_rows(groups: Sequence[str], detected: Sequence[str], world: Sequence[str], *,
              role: str, model: str) -> list[dict[str, Any]]:
    """Per group (sorted) and over all clips: fraction detected minor, fraction minor in
    the world, agreement of the two (part b); the "all" agreement row's detail gives the
    agreement expected by chance from the two marginals."""
    g = np.asarray(list(groups), dtype=object)
    det = np.asarray(list(detected), dtype=object) == "minor"
    own = np.asarray(list(world), dtype=object) == "minor"
    if not len(g) == len(det) == len(own):
        raise ValueError(f"groups, detected and world modes differ in length: "
                         f"{len(g)}, {len(det)}, {len(own)}")
    rows = []
    for group in [*sorted(set(g.tolist())), "all"]:
        m = np.ones(len(g), bool) if group == "all" else g == group
        n = int(m.sum())
        p_det, p_own = float(det[m].mean()), float(own[m].mean())
        chance = p_det * p_own + (1 - p_det) * (1 - p_own)
        rows += [
            _row(PARTS[1], role, str(group), "fraction detected minor", p_det, n, model),
            _row(PARTS[1], role, str(group), "fraction minor in the world (generator's mode)",
                 p_own, n, WORLD_MODE_MODEL),
            _row(PARTS[1], role, str(group), "agreement of detected and world mode",
                 float((det[m] == own[m]).mean()), n, model,
                 f"chance agreement {chance:.3f}" if group == "all" else ""),
        ]
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({"value": float, "n": int}).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the three parts
# --------------------------------------------------------------------------------------
def audit_tags(world: World, n_per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """Part (a): musicnn's MSD and MTT taggers on ``n_per_class`` clips per mood (music),
    per quadrant (piano) and ``n_per_class`` paired clips (see the module docstring)."""
    music = sample_clips(world.music, n_per_class, seed)
    piano = sample_clips(world.piano, n_per_class, seed)
    paired = sample_clips(world.paired, n_per_class, seed, by=None)
    msd, mtt = _musicnn_label(MSD_MODEL), _musicnn_label(MTT_MODEL)
    rows: list[dict[str, Any]] = []
    for role, clips in (("music", music), ("piano", piano)):
        p_msd, n_msd = tag_clips(MSD_MODEL, clips["audio_path"])
        p_mtt, n_mtt = tag_clips(MTT_MODEL, clips["audio_path"])
        if role == "music":
            rows += mood_tag_rows(p_msd, n_msd, clips["label"], role=role, model=msd)
        rows.append(_contrast_row(p_msd, n_msd, VALENCE_CONTRAST, clips["valence"], "valence",
                                  role=role, model=msd))
        rows.append(_contrast_row(p_mtt, n_mtt, AROUSAL_CONTRAST, clips["arousal"], "arousal",
                                  role=role, model=mtt))
        rows += instrument_rows(p_mtt, n_mtt, role=role, model=mtt,
                                expected="piano" if role == "piano" else None)
        if role == "music":
            rows.append(instrument_agreement_row(p_mtt, n_mtt, clips["tags"], role=role,
                                                 model=mtt))
    p_mtt, n_mtt = tag_clips(MTT_MODEL, paired["audio_path"])
    rows += instrument_rows(p_mtt, n_mtt, role="paired", model=mtt, expected="piano")
    log.info("world audit (a): %d music, %d piano, %d paired clips tagged", len(music),
             len(piano), len(paired))
    return _frame(rows)


def audit_key(world: World, n_per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """Part (b): madmom's key CNN on ``n_per_class`` clips per mood (music) and quadrant
    (piano): fraction detected minor beside the world's own mode, and their agreement."""
    from emolib.encoders.madmom_models import KEY_MODEL_NAME

    rows: list[dict[str, Any]] = []
    for role, table in (("music", world.music), ("piano", world.piano)):
        clips = sample_clips(table, n_per_class, seed)
        detected = detect_modes(clips["audio_path"])
        rows += mode_rows(clips["label"], detected, world_modes(world, role, clips), role=role,
                          model=KEY_MODEL_NAME)
        log.info("world audit (b): %d %s clips keyed", len(clips), role)
    return _frame(rows)


def audit_transcription(world: World, n_clips: int = 20, seed: int = 0) -> pd.DataFrame:
    """Part (c): madmom's piano transcription of ``n_clips`` clips of each piano role
    (``piano``: EMOPIA role, ``paired``: MAESTRO role) — the test split when it holds at
    least ``n_clips`` clips, else all splits — scored against the world's MIDI; mean
    precision / recall / F1 over clips, onsets only and with offsets."""
    from emolib.encoders.madmom_models import NOTES_MODEL_NAME, MadmomBackend

    n_clips = _check_count("n_clips", n_clips)
    backend = MadmomBackend()
    rows: list[dict[str, Any]] = []
    for role, table in (("piano", world.piano), ("paired", world.paired)):
        n_test = int((table["split"] == "test").sum())
        split = "test" if n_test >= n_clips else None
        clips = sample_clips(table, n_clips, seed, split=split, by=None)
        scores = pd.DataFrame([clip_note_scores(backend, a, m) for a, m in
                               tqdm(list(zip(clips["audio_path"], clips["midi_path"])),
                                    desc=f"madmom {role}", leave=False)])
        where = "test split" if split else f"all splits (the test split has {n_test} clips)"
        detail = f"{where}; mean over clips; vs the world's MIDI"
        for suffix, what in (("", "onsets, 50 ms"),
                             ("_offsets", "onsets 50 ms + offsets within max(50 ms, 20 %)")):
            for metric in ("precision", "recall", "f1"):
                name = "F1" if metric == "f1" else metric
                rows.append(_row(PARTS[2], role, "all", f"note {name} ({what})",
                                 float(scores[metric + suffix].mean()), len(scores),
                                 NOTES_MODEL_NAME, detail))
        log.info("world audit (c): %d %s clips transcribed (%s)", len(clips), role, where)
    return _frame(rows)


def world_audit(world: World, n_per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """The whole audit: parts (a), (b) and (c) in one tidy table (:data:`COLUMNS`); part
    (c) transcribes ``n_per_class`` clips per piano role. Deterministic given
    ``(world, n_per_class, seed)``."""
    n_per_class = _check_count("n_per_class", n_per_class)
    parts = [audit_tags(world, n_per_class, seed), audit_key(world, n_per_class, seed),
             audit_transcription(world, n_per_class, seed)]
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def world_data_name(world: World) -> str:
    """``"world (seed=0, profile=default)"``: the data name the notebooks write."""
    return f"world (seed={world.seed}, profile={world.profile})"


def _markdown(df: pd.DataFrame, world: World, run_lines: Sequence[str]) -> str:
    esc = df.copy()
    for col in ("measure", "detail", "model", "group", "role"):
        esc[col] = esc[col].astype(str).str.replace("|", r"\|", regex=False)
    lines = ["# World audit: the emotion world through pretrained models",
             "",
             f"Data: **{world_data_name(world)}**, world cache key `{world.root.name}` — the "
             "project's synthetic world, not the papers' data. Models no one on this project "
             "trained (musicnn's MSD and MTT taggers; madmom's key CNN and piano "
             "transcriber) listen to sampled clips: (a) mood and instrument tags against the "
             "world's moods and latent valence/arousal, (b) detected mode against the "
             "world's mode, (c) transcription against the world's MIDI. "
             "Written by `emolib.world_audit` (notebook 00_tour).", ""]
    if run_lines:
        lines += [*run_lines, ""]
    body = esc.to_markdown(index=False, floatfmt=".4f")  # mood-tag means are ~0.001-0.1
    return "\n".join(lines) + "\n" + body + "\n"


def write_world_audit(df: pd.DataFrame, world: World, *,
                      record: provenance.RunRecord | None = None) -> tuple[Path, ...]:
    """Write ``paper_tables/world_audit.csv`` and ``.md`` atomically (``emolib.io``; folder
    :func:`emolib.paths.tables_dir`, ``EMOLIB_OUTPUT`` overrides) and, during a run, the run
    record sidecar ``world_audit.json`` (:func:`emolib.provenance.write_run_sidecar`).

    The CSV is ``df`` (values to 6 significant digits) plus a ``data`` column naming the
    world; the Markdown table shows 4 decimals; the Markdown header names
    the world (seed, profile, cache key) and lists the run record. Not a published-vs-
    reproduced table, so not :func:`emolib.tables.write_paper_table`. ``record``: the run
    record (default: the current run's, :func:`emolib.provenance.current_record`; None
    outside a run). Returns the paths written (CSV, Markdown, and the sidecar if any).
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"the audit table lacks column(s) {missing}; expected {list(COLUMNS)}")
    out = tables_dir()
    record = provenance.current_record() if record is None else record
    csv_text = df[list(COLUMNS)].assign(data=world_data_name(world)).to_csv(
        index=False, float_format="%.6g", lineterminator="\n")
    md_text = _markdown(df[list(COLUMNS)], world, record.header_lines() if record else ())
    csv_path = atomic_write_text(out / f"{TABLE_NAME}.csv", csv_text)
    md_path = atomic_write_text(out / f"{TABLE_NAME}.md", md_text)
    sidecar = provenance.write_run_sidecar(out / TABLE_NAME, record)
    log.info("wrote %s.csv and %s.md (%d rows) to %s", TABLE_NAME, TABLE_NAME, len(df), out)
    return (csv_path, md_path) + ((sidecar,) if sidecar is not None else ())
