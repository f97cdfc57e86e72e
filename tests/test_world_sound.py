"""The emotion world's audio (issue 15): every MIDI it writes rendered with the GM SoundFont.

emolib.data.world.sound (length and loudness rules, determinism), the instrumentation
rules of emolib.data.world.music (GM programs per timbre, timbre weights per mood), and
every audio role of a tiny world: non-silent 16 kHz mono of the requested length, its
stored MIDI the composed one (round trip), its audio the rendering of that MIDI.
"""
from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from emolib.data.taxonomies import labels, va_centroid
from emolib.data.world import music as M
from emolib.data.world.sound import PEAK_LIMIT, RELEASE_TAIL, synthesize
from emolib.seed import rng

SR = 16000


def _pm(notes, program=0, pedal=None):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes += [pretty_midi.Note(v, p, s, e) for p, v, s, e in notes]
    for t, val in pedal or []:
        inst.control_changes.append(pretty_midi.ControlChange(64, val, t))
    pm.instruments.append(inst)
    return pm


# --------------------------------------------------------------------------- renderer
def test_length_and_peak_normalisation():
    pm = _pm([(60, 90, 0.0, 0.7), (64, 90, 0.5, 1.2)])
    y = synthesize(pm, SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == math.ceil((pm.get_end_time() + RELEASE_TAIL) * SR)
    assert np.abs(y).max() == pytest.approx(PEAK_LIMIT, abs=1e-6)
    assert len(synthesize(pm, SR, tail=0.0)) == math.ceil(1.2 * SR)
    # the pedal (CC64) lengthens pm.get_end_time() and is heard
    held = _pm([(60, 90, 0.0, 0.3)], pedal=[(0.0, 127), (1.5, 0)])
    dry = _pm([(60, 90, 0.0, 0.3)])
    yh, yd = synthesize(held, SR, gain=1.0), synthesize(dry, SR, gain=1.0)
    assert len(yh) == math.ceil(2.0 * SR) and len(yd) == math.ceil(0.8 * SR)
    assert np.sqrt(np.mean(yh[int(1.0 * SR):int(1.4 * SR)] ** 2)) > 1e-3  # still sounding


def test_fixed_gain_keeps_loudness_differences_and_limits_the_peak():
    quiet = synthesize(_pm([(60, 30, 0.0, 1.0), (64, 30, 0.0, 1.0)]), SR, gain=M.CLIP_GAIN)
    loud = synthesize(_pm([(60, 120, 0.0, 1.0), (64, 120, 0.0, 1.0)]), SR, gain=M.CLIP_GAIN)
    assert np.abs(loud).max() > 2.5 * np.abs(quiet).max()
    assert np.abs(loud).max() < PEAK_LIMIT
    huge = synthesize(_pm([(p, 127, 0.0, 1.0) for p in range(48, 72)]), SR, gain=50.0)
    assert np.abs(huge).max() == pytest.approx(PEAK_LIMIT, abs=1e-6)


def test_silence_and_bad_input():
    y = synthesize(pretty_midi.PrettyMIDI(), SR)
    assert len(y) == math.ceil(RELEASE_TAIL * SR) and not y.any()
    pm = _pm([(60, 90, 0.0, 0.5)])
    with pytest.raises(TypeError, match="PrettyMIDI"):
        synthesize("song.mid")
    for kwargs, match in ((dict(sr=0), "sr must be"), (dict(tail=-1.0), "tail must be"),
                          (dict(gain=0.0), "gain must be positive")):
        with pytest.raises(ValueError, match=match):
            synthesize(pm, **kwargs)


def _clip_digest(seed: int) -> str:
    pm, *_ = M.compose_clip("scary", 0.2, 0.6, seed, duration=3.0)
    return hashlib.sha256(M.render_audio(pm, 3.0).tobytes()).hexdigest()


def test_rendering_is_bit_identical_per_seed_and_process():
    """Same seed -> same samples: twice, after other renders, and in a fresh process."""
    a = _clip_digest(11)
    _clip_digest(12)  # another clip in between (the parsed SoundFont is reused)
    assert _clip_digest(11) == a
    assert _clip_digest(12) != a
    code = ("from tests.test_world_sound import _clip_digest; print(_clip_digest(11))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert out.stdout.strip() == a


def test_make_playable_by_hand_and_the_file_reads_back_as_written():
    import io

    from emolib.data.world.midi import midi_bytes
    from emolib.data.world.playable import make_playable

    pm = _pm([(60, 80, 0.0, 1.0),     # re-struck at 0.5: ends there
              (60, 90, 0.5, 0.8),
              (64, 70, 0.0, 0.4),     # struck twice at once: one note, louder, later end
              (64, 100, 0.0005, 0.6),
              (67, 60, 1.0, 1.5)])    # alone: unchanged
    make_playable(pm)
    got = [(n.pitch, n.velocity, n.start, n.end) for n in pm.instruments[0].notes]
    assert got == [(60, 80, 0.0, 0.5), (64, 100, 0.0, 0.6), (60, 90, 0.5, 0.8),
                   (67, 60, 1.0, 1.5)]
    for writer in ("direct", "pretty_midi"):
        back = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(pm, writer=writer)))
        _same_notes(back, pm)


# --------------------------------------------------------------------------- instrument rules
def test_programs_exist_in_the_soundfont():
    import tinysoundfont

    from emolib.soundfont import soundfont_path

    synth = tinysoundfont.Synth()
    sfid = synth.sfload(str(soundfont_path()))
    assert M.PROGRAMS["piano"] == 0
    assert set(M.PROGRAMS) == set(M.TIMBRE_POOL) | {"bass"}
    for timbre, program in M.PROGRAMS.items():
        assert synth.sfpreset_name(sfid, 0, program) is not None, timbre
        assert M.timbre_for(program) == timbre
    assert synth.sfpreset_name(sfid, 128, 0) is not None  # the drum kit
    assert synth.sfpreset_name(sfid, 0, M.TREMOLO_PROGRAM) is not None
    assert M.timbre_for(M.TREMOLO_PROGRAM) == "strings"
    assert M.timbre_for(5, is_drum=True) == "drums" and M.timbre_for(42) == "strings"
    with pytest.raises(ValueError, match="0..127"):
        M.timbre_for(128)


def _centroid(label):
    return va_centroid("audioset", label)


def test_timbre_weights_follow_the_literature_table():
    """Juslin & Laukka 2003 / Eerola et al. 2012: bright, sharp timbres for anger, soft and
    dull ones (the strings) for sadness and tenderness; mallets for 'funny' (short notes)."""
    def w(label, part="melody", staccato=0.3):
        return M.timbre_weights(label, *_centroid(label), staccato, part)

    for part in ("melody", "accomp"):
        angry = w("angry", part)
        assert max(angry, key=angry.get) == "synth"
        assert angry["strings"] < w("sad", part)["strings"]
        assert angry["strings"] < w("tender", part)["strings"]
        for soft in ("sad", "tender"):
            assert w(soft, part)["synth"] < angry["synth"]
            assert w(soft, part)["strings"] > w(soft, part)["synth"]
    funny = w("funny", staccato=0.6)
    assert max(funny, key=funny.get) == "mallet"
    assert "strings" not in M._COLOUR["angry"].melody | M._COLOUR["angry"].accomp
    assert M.timbre_weights(None, 0.5, 0.5, 0.3, "melody", ("piano",)) == {"piano": 1.25}
    with pytest.raises(ValueError, match="part must be"):
        M.timbre_weights("sad", 0.5, 0.5, 0.3, "bass")
    with pytest.raises(ValueError, match="timbres must be among"):
        M.timbre_weights("sad", 0.5, 0.5, 0.3, "melody", ("theremin",))


@pytest.mark.parametrize("label", labels("audioset"))
def test_pieces_draw_timbres_with_the_rule_weights(label):
    """spec_from_latent draws the melody timbre with probability timbre_weights / sum."""
    v, a = _centroid(label)
    n = 1500
    counts, expected = Counter(), Counter()
    for seed in range(n):
        spec = M.spec_from_latent(label, v, a, rng(seed, "timbre-rule-test"))
        counts[spec.melody_timbre] += 1
        wts = {t: max(x, 0.0) for t, x in
               M.timbre_weights(label, v, a, spec.staccato, "melody").items()}
        total = sum(wts.values())
        for t, x in wts.items():
            expected[t] += x / total
    for t in M.TIMBRE_POOL:
        assert abs(counts[t] - expected[t]) / n < 0.04, (t, counts[t], expected[t])


def test_written_midi_programs_follow_the_rules():
    seen_bowed = False
    for i, label in enumerate(list(labels("audioset")) * 4 + ["scary"] * 12):
        pm, _, _, cues = M.compose_clip(label, *_centroid(label), seed=100 + i, duration=4.0)
        back = pretty_midi.PrettyMIDI(__import__("io").BytesIO(M.midi_bytes(pm)))
        progs = {inst.name: (inst.program, inst.is_drum) for inst in back.instruments}
        if "melody" in progs:
            assert progs["melody"] == (M.PROGRAMS[cues["melody_timbre"]], False)
        if "melody tremolo" in progs:  # bowed-tremolo melody notes: GM tremolo strings
            assert cues["melody_timbre"] == "strings" and cues["tremolo"]
            assert progs["melody tremolo"] == (M.TREMOLO_PROGRAM, False)
        if "accompaniment" in progs:
            bowed = cues["accomp_pattern"] == "tremolo" and cues["accomp_timbre"] == "strings"
            want = M.TREMOLO_PROGRAM if bowed else M.PROGRAMS[cues["accomp_timbre"]]
            assert progs["accompaniment"] == (want, False)
            seen_bowed |= bowed
        if "bass" in progs:
            assert progs["bass"] == (M.PROGRAMS["bass"], False)
        if "drums" in progs:
            assert progs["drums"][1]
    assert seen_bowed  # the scary clips include a bowed-tremolo accompaniment
    # a bowed tremolo is held notes (one per chord tone and bar), not repeated strikes
    for seed in range(40):
        pm, _, _, cues = M.compose_clip("scary", 0.15, 0.6, seed=seed, duration=6.0)
        if cues["accomp_pattern"] == "tremolo" and cues["accomp_timbre"] == "strings":
            acc = next(i for i in pm.instruments if i.name == "accompaniment")
            bar = cues["meter"] * 60.0 / cues["tempo"]
            assert len(acc.notes) <= 4 * math.ceil(6.0 / bar)
            break
    else:
        pytest.fail("no bowed-tremolo clip among 40 scary ones")


# --------------------------------------------------------------------------- every role
TINY = dict(roles=("music", "piano", "paired", "performances", "midlevel"), label_noise=0.0,
            music_n_train_per_class=1, music_n_val_per_class=1, music_n_test_per_class=1,
            music_duration=2.0, piano_train_songs_per_quadrant=1,
            piano_val_songs_per_quadrant=1, piano_test_songs_per_quadrant=1,
            piano_clips_per_song=1, piano_duration=2.0, paired_n_train=2, paired_n_val=1,
            paired_n_test=1, paired_duration=2.0, perf_n_pieces=2, perf_per_piece=(2, 2),
            perf_n_listeners=(2, 2), midlevel_n_train=3, midlevel_n_val=1,
            midlevel_n_test=1, midlevel_duration=2.0)


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    from emolib.data.world import make_world

    return make_world(seed=4, profile="quick", cache_dir=tmp_path_factory.mktemp("ws"),
                      n_jobs=2, progress=False, **TINY)


def _pcm16(y: np.ndarray) -> np.ndarray:
    """What soundfile stores as PCM_16, read back as float (for comparing with a file)."""
    import io

    buf = io.BytesIO()
    sf.write(buf, y, SR, subtype="PCM_16", format="WAV")
    buf.seek(0)
    return sf.read(buf, dtype="float32")[0]


def _same_notes(a: pretty_midi.PrettyMIDI, b: pretty_midi.PrettyMIDI) -> None:
    assert [(i.program, i.is_drum) for i in a.instruments] == \
        [(i.program, i.is_drum) for i in b.instruments]
    tick = 1.01 * 60.0 / (a.get_tempo_changes()[1][0] * a.resolution)
    for x, y in zip(a.instruments, b.instruments):
        key = lambda n: (n.pitch, n.start, n.end)  # noqa: E731
        xs, ys = sorted(x.notes, key=key), sorted(y.notes, key=key)
        assert [(n.pitch, n.velocity) for n in xs] == [(n.pitch, n.velocity) for n in ys]
        assert np.allclose([(n.start, n.end) for n in xs], [(n.start, n.end) for n in ys],
                           atol=tick)
        assert len(x.control_changes) == len(y.control_changes)


@pytest.mark.slow
def test_every_role_is_nonsilent_16k_mono_of_the_requested_length(tiny_world):
    w = tiny_world
    for name, duration in (("music", 2.0), ("piano", 2.0), ("paired", 2.0),
                           ("midlevel", 2.0), ("performances", None)):
        df = getattr(w, name)
        assert len(df) > 0, name
        for row in df.itertuples():
            y, sr = sf.read(row.audio_path, dtype="float32")
            assert sr == SR and y.ndim == 1, (name, row.audio_path)
            if duration is not None:
                assert len(y) == round(duration * SR), (name, len(y))
            else:  # a performance: its whole MIDI plus the release tail (the file's times
                pm = pretty_midi.PrettyMIDI(row.midi_path)  # are rounded to ~1 ms ticks)
                want = (pm.get_end_time() + RELEASE_TAIL) * SR
                assert abs(len(y) - want) <= 0.002 * SR, (name, len(y), want)
            assert np.abs(y).max() > 0.02 and np.sqrt(np.mean(y ** 2)) > 1e-3, (name, row)
            assert np.abs(y).max() <= PEAK_LIMIT + 1e-4
    # the piano roles and the performances are GM program 0 (acoustic grand) throughout
    for name in ("piano", "paired", "performances"):
        for p in getattr(w, name)["midi_path"]:
            assert {(i.program, i.is_drum) for i in pretty_midi.PrettyMIDI(p).instruments} \
                == {(0, False)}, (name, p)
    programs = {i.program for p in w.music["midi_path"]
                for i in pretty_midi.PrettyMIDI(p).instruments if not i.is_drum}
    assert programs <= set(M.PROGRAMS.values()) | {M.TREMOLO_PROGRAM}


@pytest.mark.slow
def test_stored_midi_and_audio_are_the_composed_piece_rendered(tiny_world):
    """MIDI round trip (the file is the composed piece, to a tick) and audio = the
    SoundFont rendering of that piece (to 16-bit PCM), for music, piano and paired."""
    from emolib.data.world.paired import compose_paired_piece
    from emolib.data.world.piano import compose_piano_clip
    from emolib.world_audit import _music_seed, _piano_song_seed

    w = tiny_world
    for row in w.music.itertuples():
        pm, *_ = M.compose_clip(row.true_label, row.valence, row.arousal,
                                _music_seed(w, row.item_id), 2.0)
        _same_notes(pretty_midi.PrettyMIDI(row.midi_path), pm)
        np.testing.assert_array_equal(sf.read(row.audio_path, dtype="float32")[0],
                                      _pcm16(M.render_audio(pm, 2.0)))
    for row in w.piano.itertuples():
        clip = int(row.item_id.rsplit("_", 1)[1])
        pm = compose_piano_clip(row.valence, row.arousal, _piano_song_seed(w, row.item_id),
                                clip, 2.0)
        _same_notes(pretty_midi.PrettyMIDI(row.midi_path), pm)
        np.testing.assert_array_equal(sf.read(row.audio_path, dtype="float32")[0],
                                      _pcm16(M.render_audio(pm, 2.0)))
    for i, row in enumerate(w.paired.itertuples()):
        pm = compose_paired_piece(M.item_seed(w.seed, "paired", i), 2.0)
        _same_notes(pretty_midi.PrettyMIDI(row.midi_path), pm)
        np.testing.assert_array_equal(sf.read(row.audio_path, dtype="float32")[0],
                                      _pcm16(M.render_audio(pm, 2.0)))


@pytest.mark.slow
def test_performances_and_midlevel_audio_are_their_renditions_rendered(tiny_world):
    """Performances: the stored MIDI is the rendition's (pedal as CC64), the audio its
    SoundFont rendering; mid-level clips (audio only): the cropped rendering."""
    import io

    from emolib.data.world import midlevel as ML
    from emolib.data.world import performances as P
    from emolib.data.world import scores as S

    w, seed = tiny_world, tiny_world.seed
    p = w.params
    jobs = {j["performance_id"]: j for j in P._plan(seed, p["perf_n_pieces"],
                                                     tuple(p["perf_per_piece"]),
                                                     tuple(p["perf_n_listeners"]))}
    for row in w.performances.itertuples():
        job = jobs[row.performance_id]
        score = S.compose(job["spec"], seed=int(rng(seed, "score", job["piece"]).integers(2**31)))
        r = S.render(score, S.style_for(job["style"], seed, row.performance_id), seed,
                     key=row.performance_id)
        _same_notes(pretty_midi.PrettyMIDI(row.midi_path), S.to_pretty_midi(r))
        with open(row.audio_path, "rb") as f:
            assert f.read() == S.wav_bytes(S.synthesize_rendition(r, SR), SR)
    for i, row in enumerate(w.midlevel.itertuples()):
        r = ML._random_clip(seed, i, 2.0)
        y = S.synthesize_rendition(r, SR)[: 2 * SR]
        y = np.pad(y, (0, 2 * SR - len(y)))
        assert sf.read(row.audio_path, dtype="float32")[0].tolist() == \
            sf.read(io.BytesIO(S.wav_bytes(y, SR)), dtype="float32")[0].tolist()
