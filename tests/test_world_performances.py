"""Tests for the world's performances, listener descriptions and mid-level ground truth."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
import pytest
import soundfile as sf

from emolib.data.world import descriptions as D
from emolib.data.world import midlevel as M
from emolib.data.world import performances as P

MID = list(M.MIDLEVEL_FEATURES)


def _rend(pitch, onset, offset, score_onset=None, voice=None, velocity=None, pedal=None):
    """A hand-made rendition (1 beat = 1 s unless score_onset says otherwise)."""
    n = len(pitch)
    return P.Rendition(
        pitch=np.asarray(pitch), velocity=np.asarray(velocity if velocity is not None
                                                     else [64] * n),
        onset=np.asarray(onset, float), offset=np.asarray(offset, float),
        voice=np.asarray(voice if voice is not None else [0] * n),
        score_onset=np.asarray(score_onset if score_onset is not None else onset, float),
        score_duration=np.ones(n), pedal=np.asarray(pedal if pedal is not None else
                                                    np.zeros((0, 2)), float).reshape(-1, 2))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("perf_a")
    perf, desc = P.build_performances(out, seed=3, n_pieces=2, perf_per_piece=(2, 3),
                                      n_listeners=(2, 3), sr=8000, progress=False)
    return out, perf, desc


# ------------------------------------------------------------------ hand-computed formulas
def test_onset_density_matches_hand_count():
    # onsets 0 and 0.01 merge (< 30 ms), as do 1.0 and 1.02: 4 events; last release 2.0 s
    r = _rend([60, 64, 62, 60, 67, 65], [0, 0.01, 0.5, 1.0, 1.02, 1.5],
              [0.4, 0.4, 0.9, 1.4, 1.4, 2.0])
    assert M.onset_density(r) == pytest.approx(4 / 2.0)
    assert M.onset_density(r, duration=4.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="duration"):
        M.onset_density(r, duration=0.0)


def test_articulation_and_pedal_hand_case():
    r = _rend([60, 62, 64, 65], [0, 1, 2, 3], [0.5, 1.5, 2.5, 3.5])
    assert M.articulation(r) == pytest.approx(0.5)  # legato ratio 0.5 for the first three
    # a pedal held over each release makes the same notes sound legato
    pedalled = replace(r, pedal=np.array([[0.1, 1.0], [1.1, 2.0], [2.1, 3.0]]))
    assert M.articulation(pedalled) == pytest.approx(0.0)


def test_dissonance_hand_case():
    major = _rend([60, 64, 67], [0, 0, 0], [1, 1, 1])
    cluster = _rend([60, 61, 67], [0, 0, 0], [1, 1, 1])
    # pair weights: (C,E)=0, (C,G)=0, (E,G)=0.05 -> mean 1/60; (C,Db)=1, (C,G)=0, (Db,G)=0.7
    assert M.dissonance(major) == pytest.approx(1 - math.exp(-(0.05 / 3) / 0.25))
    assert M.dissonance(cluster) == pytest.approx(1 - math.exp(-(1.7 / 3) / 0.25))
    assert M.dissonance(_rend([60], [0], [1])) == 0.0


def test_rhythm_stability_hand_case():
    steady = _rend([60] * 4, [0, 0.5, 1.0, 1.5], [0.4, 0.9, 1.4, 1.9], score_onset=[0, 1, 2, 3])
    assert M.rhythm_stability(steady) == pytest.approx(1.0)
    wobbly = replace(steady, onset=np.array([0, 0.5, 1.1, 1.5]))
    s = float(np.std(np.log([0.5, 0.6, 0.4])))  # equal weights: population s.d.
    assert M.rhythm_stability(wobbly) == pytest.approx(math.exp(-s / 0.12))


def test_key_features_against_numpy_pearson():
    def pearsonr(a, b):
        return np.corrcoef(a, b)[0, 1]

    # C major scale, tonic and dominant held longer
    pitch = [60, 62, 64, 65, 67, 69, 71, 72]
    dur = np.array([2, 1, 1, 1, 2, 1, 1, 2], float)
    on = np.concatenate([[0], np.cumsum(dur)[:-1]])
    r = _rend(pitch, on, on + dur)
    hist = M._pc_histogram(r)
    rmaj, rmin = M._key_correlations(hist)
    assert rmaj[0] == pytest.approx(pearsonr(hist, M.KK_MAJOR))
    assert rmin[9] == pytest.approx(pearsonr(hist, np.roll(M.KK_MINOR, 9)))
    assert int(np.argmax(rmaj)) == 0 and rmaj.max() > rmin.max()
    a_minor = _rend([57, 60, 64, 45], [0, 0, 0, 0], [4, 4, 4, 4])
    c_major = _rend([60, 64, 67, 48], [0, 0, 0, 0], [4, 4, 4, 4])
    assert M.minorness(a_minor) > 0.6 > 0.4 > M.minorness(c_major)
    chromatic = _rend(list(range(60, 72)), np.arange(12) * 0.5, np.arange(12) * 0.5 + 0.5)
    assert M.tonal_stability(chromatic) < M.tonal_stability(r)


# ------------------------------------------------------------------ monotonic renderer checks
@pytest.fixture(scope="module")
def score():
    return P.compose(P.piece_specs(0, 9)[0], seed=1)


def test_more_staccato_raises_articulation(score):
    vals = [M.articulation(P.render(score, P.Style("s", legato=lg), 0))
            for lg in (1.0, 0.8, 0.6, 0.4, 0.2)]
    assert all(a < b for a, b in zip(vals, vals[1:])), vals


def test_timing_noise_lowers_rhythm_stability(score):
    vals = [M.rhythm_stability(P.render(score, P.Style("n", timing_noise=s), 0))
            for s in (0.0, 0.005, 0.015, 0.04)]
    assert vals[0] == pytest.approx(1.0, abs=1e-4)  # onsets are rounded to 1 µs
    assert all(a > b for a, b in zip(vals, vals[1:])), vals
    rub = [M.rhythm_stability(P.render(score, P.Style("r", rubato=x), 0)) for x in (0, .05, .15)]
    assert rub[0] > rub[1] > rub[2]


def test_minor_mode_pieces_have_higher_minorness():
    diffs = []
    for spec in P.piece_specs(5, 9):
        for cs in (0, 1):
            major = P.render(P.compose(replace(spec, mode="major"), cs), P.STYLES["deadpan"], 0)
            minor = P.render(P.compose(replace(spec, mode="minor"), cs), P.STYLES["deadpan"], 0)
            diffs.append(M.minorness(minor) - M.minorness(major))
    diffs = np.array(diffs)
    # a perceptual cue mix, not a mode oracle: clearly higher on average, rarely reversed
    assert diffs.mean() > 0.3 and (diffs > 0).mean() >= 0.9, diffs.round(2)


def test_dissonant_intervals_raise_dissonance():
    spec = P.piece_specs(0, 9)[0]
    base = P.render(P.compose(replace(spec, cluster=0.0, add7=0.0, chromatic=0.0), 4),
                    P.STYLES["deadpan"], 0)
    harsh = P.render(P.compose(replace(spec, cluster=1.0, add7=0.0, chromatic=0.0), 4),
                     P.STYLES["deadpan"], 0)
    assert M.dissonance(harsh) > M.dissonance(base) + 0.05


def test_deadpan_is_most_stable_and_least_variable_per_piece():
    for spec in P.piece_specs(7, 4):
        sc = P.compose(spec, 3)
        stab, resid = {}, {}
        for name in P.STYLES:
            r = P.render(sc, P.style_for(name, 7, spec.name), 7, key=spec.name)
            stab[name] = M.rhythm_stability(r)
            fit = np.polyfit(r.score_onset, r.onset, 1)  # timing variance around a line
            resid[name] = float(np.var(r.onset - np.polyval(fit, r.score_onset)))
            if name == "deadpan":
                assert np.all(r.velocity == 64) and len(r.pedal) == 0
                np.testing.assert_allclose(r.offset - r.onset,
                                           r.score_duration * 60 / spec.bpm, atol=1e-5)
        assert stab["deadpan"] == max(stab.values()) == pytest.approx(1.0, abs=1e-4)
        assert resid["deadpan"] == min(resid.values())
        assert resid["deadpan"] < 1e-8 < min(v for k, v in resid.items() if k != "deadpan")


# ------------------------------------------------------------------ descriptions
def _char(score, style):
    r = P.render(score, style, 0)
    return D.performance_character(r, M.midlevel_values(r), score.spec.bpm, score.spec.mode)


def test_descriptions_follow_the_character(score):
    lively = _char(score, P.Style("lively", tempo_factor=1.35, velocity=104, dyn_range=12,
                                  accent=8, legato=0.4, timing_noise=0.006))
    dead = _char(score, P.STYLES["deadpan"])
    energy = {w for k in ("energetic", "playful", "fast", "aggressive")
              for w in D.CONCEPTS[k][1]}
    mech = set(D.CONCEPTS["mechanical"][1])

    def count(char, vocab):
        n = 0
        for i in range(60):
            for term in D.describe(char, 0, f"L{i:03d}", "x").split(", "):
                n += any(term == w or term.endswith(" " + w) for w in vocab)
        return n
    assert count(lively, energy) > count(dead, energy) + 10
    assert count(dead, mech) > count(lively, mech) + 10


def test_descriptions_are_short_varied_and_pure(score):
    char = _char(score, P.STYLES["romantic"])
    texts = [D.describe(char, 0, f"L{i:03d}", "p") for i in range(12)]
    assert all(t and 1 <= len(t.split(", ")) <= 5 for t in texts)
    assert len(set(texts)) >= 6  # listeners differ
    assert texts == [D.describe(char, 0, f"L{i:03d}", "p") for i in range(12)]
    assert texts != [D.describe(char, 1, f"L{i:03d}", "p") for i in range(12)]


# ------------------------------------------------------------------ builders
def test_build_performances_schema_and_files(built):
    out, perf, desc = built
    assert list(perf.columns) == ["performance_id", "piece_id", "style", "audio_path",
                                  "midi_path", *MID, "onset_density"]
    assert list(desc.columns) == ["description_id", "performance_id", "piece_id",
                                  "listener_id", "text"]
    assert perf.performance_id.is_unique and desc.description_id.is_unique
    counts = perf.groupby("piece_id").size()
    assert len(counts) == 2 and counts.between(2, 3).all()
    assert (perf.groupby("piece_id")["style"].apply(lambda s: (s == "deadpan").sum()) == 1).all()
    assert perf[MID].apply(lambda c: c.between(0, 1)).all().all()
    assert (perf.onset_density > 0).all()
    per_perf = desc.groupby("performance_id").size()
    assert set(per_perf.index) == set(perf.performance_id) and per_perf.between(2, 3).all()
    assert desc.text.str.len().gt(0).all()
    for _, row in perf.iterrows():
        assert not Path(row.audio_path).is_absolute()
        assert row.audio_path == f"performances/audio/{row.performance_id}.wav"
        info = sf.info(out / row.audio_path)
        assert info.samplerate == 8000 and info.channels == 1 and info.subtype == "PCM_16"
        pm = pretty_midi.PrettyMIDI(str(out / row.midi_path))
        assert len(pm.instruments[0].notes) > 20
        has_pedal = any(c.number == 64 for c in pm.instruments[0].control_changes)
        assert not (row["style"] == "deadpan" and has_pedal)


def test_build_is_deterministic_and_seed_dependent(built, tmp_path):
    out, perf, desc = built
    perf2, desc2 = P.build_performances(tmp_path / "b", seed=3, n_pieces=2,
                                        perf_per_piece=(2, 3), n_listeners=(2, 3), sr=8000,
                                        n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(perf, perf2)
    pd.testing.assert_frame_equal(desc, desc2)
    assert _files(out) == _files(tmp_path / "b")
    perf3, desc3 = P.build_performances(tmp_path / "c", seed=4, n_pieces=1,
                                        perf_per_piece=(2, 2), n_listeners=(2, 2), sr=8000,
                                        progress=False)
    assert not perf3[MID].equals(perf[MID].iloc[: len(perf3)].reset_index(drop=True))
    assert set(_files(tmp_path / "c").values()).isdisjoint(_files(out).values())


def test_build_midlevel_uses_the_same_formulas(tmp_path):
    df = M.build_midlevel(tmp_path / "a", seed=2, n_clips=3, duration=2.0, sr=8000,
                          progress=False, rating_noise=0.0)
    assert list(df.columns) == ["clip_id", "audio_path", *MID]
    for i, row in df.iterrows():
        expect = M.midlevel_values(M._random_clip(2, i, 2.0), duration=2.0)
        assert row[MID].to_numpy(float) == pytest.approx([expect[k] for k in MID], abs=1e-6)
        info = sf.info(tmp_path / "a" / row.audio_path)
        assert info.frames == 16000 and info.samplerate == 8000
    again = M.build_midlevel(tmp_path / "b", seed=2, n_clips=3, duration=2.0, sr=8000,
                             progress=False, rating_noise=0.0)
    pd.testing.assert_frame_equal(df, again)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    other = M.build_midlevel(tmp_path / "c", seed=3, n_clips=3, duration=2.0, sr=8000,
                             progress=False, rating_noise=0.0)
    assert not other[MID].equals(df[MID])


@pytest.mark.parametrize("kwargs, name", [
    ({"n_pieces": 0}, "n_pieces"),
    ({"perf_per_piece": (5, 3)}, "perf_per_piece"),
    ({"perf_per_piece": (1, 3)}, "perf_per_piece"),
    ({"n_listeners": (0, 2)}, "n_listeners"),
    ({"sr": 100}, "sr"),
    ({"n_jobs": 0}, "n_jobs"),
])
def test_bad_parameters_are_rejected(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        P.build_performances(tmp_path, seed=0, progress=False, **kwargs)
    assert not any(tmp_path.iterdir())


def test_bad_midlevel_and_style_parameters(tmp_path):
    with pytest.raises(ValueError, match="n_clips"):
        M.build_midlevel(tmp_path, seed=0, n_clips=0)
    with pytest.raises(ValueError, match="duration"):
        M.build_midlevel(tmp_path, seed=0, n_clips=2, duration=0.1)
    with pytest.raises(ValueError, match="style"):
        P.style_for("jazzy", 0)
    with pytest.raises(ValueError, match="mode"):
        P.PieceSpec("x", mode="dorian")


def test_the_one_midi_writer_keeps_each_roles_format(score):
    """A rendition is written by PrettyMIDI.write (the performances' files), a PrettyMIDI
    by the direct encoder (the clips'), unless ``writer`` says otherwise."""
    import io

    from emolib.data.world import midi, music, scores

    assert P.midi_bytes is music.midi_bytes is midi.midi_bytes
    assert P.PieceSpec is scores.ScoreSpec and P.PieceSpec is not music.PieceSpec
    r = P.render(score, P.style_for("romantic", 0, "k"), 0, key="k")
    buf = io.BytesIO()
    P.to_pretty_midi(r).write(buf)
    assert P.midi_bytes(r) == buf.getvalue() == midi.midi_bytes(r, writer="pretty_midi")
    fast = midi.midi_bytes(P.to_pretty_midi(r))
    assert fast == midi.midi_bytes(r, writer="direct") != buf.getvalue()
    back = pretty_midi.PrettyMIDI(io.BytesIO(fast))
    assert len(back.instruments[0].notes) == len(r.pitch)
    with pytest.raises(ValueError, match="writer"):
        midi.midi_bytes(r, writer="mido")
    with pytest.raises(TypeError, match="Rendition"):
        midi.midi_bytes(b"MThd")
