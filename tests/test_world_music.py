"""Tests for the emotion world's music, piano 4Q and paired corpora.

emolib.data.world.music (AudioSet-mood role + tags + captions), .piano (EMOPIA role),
.paired (MAESTRO role). Cues are measured on the MIDI with implementations written here.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from emolib.data.world.music import (
    MUSIC_LABELS,
    TAG_VOCAB,
    build_music,
    compose_clip,
    midi_bytes,
    piece_stats,
    render_piece,
    spec_from_latent,
    tags_from_piece,
)
from emolib.data.world.paired import build_paired, compose_paired_piece
from emolib.data.world.piano import build_piano, compose_piano_clip
from emolib.seed import rng

# Krumhansl–Kessler key profiles (Krumhansl 1990), C major / C minor
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _notes(pm, drums=False):
    return [n for i in pm.instruments if i.is_drum == drums for n in i.notes]


def _estimated_mode(pm) -> str:
    """Krumhansl–Schmuckler key finding on the duration-weighted pitch-class histogram."""
    hist = np.zeros(12)
    for n in _notes(pm):
        hist[n.pitch % 12] += n.end - n.start
    best = max(((np.corrcoef(hist, np.roll(prof, k))[0, 1], mode)
                for prof, mode in ((_KK_MAJOR, "major"), (_KK_MINOR, "minor"))
                for k in range(12)), key=lambda x: x[0])
    return best[1]


def _dissonance(pm, step=0.1) -> float:
    """Share of simultaneous pitch-class pairs forming a semitone/major 7th or tritone."""
    notes = _notes(pm)
    end = max(n.end for n in notes)
    bad = total = 0
    for t in np.arange(0, end, step):
        pcs = sorted({n.pitch % 12 for n in notes if n.start <= t < n.end})
        for i in range(len(pcs)):
            for j in range(i + 1, len(pcs)):
                d = (pcs[j] - pcs[i]) % 12
                total += 1
                bad += min(d, 12 - d) in (1, 6)
    return bad / max(total, 1)


def _tempo(pm) -> float:
    return float(pm.get_tempo_changes()[1][0])


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- compose_clip
def test_labels_and_vocab():
    from emolib.data.taxonomies import TAXONOMIES

    assert MUSIC_LABELS == TAXONOMIES["audioset"]
    assert 20 <= len(TAG_VOCAB) <= 30 and len(set(TAG_VOCAB)) == len(TAG_VOCAB)


def test_compose_clip_is_deterministic():
    a = compose_clip("funny", 0.8, 0.6, seed=11)
    b = compose_clip("funny", 0.8, 0.6, seed=11)
    assert midi_bytes(a[0]) == midi_bytes(b[0])
    assert a[1:] == b[1:]
    c = compose_clip("funny", 0.8, 0.6, seed=12)
    assert midi_bytes(c[0]) != midi_bytes(a[0])


def test_clip_length_and_types():
    pm, tags, caption, cues = compose_clip("sad", 0.2, 0.3, seed=3, duration=6.0)
    assert isinstance(pm, pretty_midi.PrettyMIDI)
    assert 3.0 < pm.get_end_time() <= 6.0 + 1e-6
    assert tags and set(tags) <= set(TAG_VOCAB)
    assert tags == [t for t in TAG_VOCAB if t in tags]  # vocabulary order
    assert isinstance(caption, str) and caption.endswith(".") and caption[0].isupper()
    assert cues["mode"] in ("major", "minor") and cues["tempo"] > 0


def test_tempo_density_loudness_rise_with_arousal():
    lo = [compose_clip("happy", 0.6, 0.15, seed=s)[0] for s in range(10)]
    hi = [compose_clip("happy", 0.6, 0.85, seed=s)[0] for s in range(10)]

    def mean(f, pms):
        return float(np.mean([f(pm) for pm in pms]))

    def density(pm):
        return len(_notes(pm)) / pm.get_end_time()

    def velocity(pm):
        return float(np.mean([n.velocity for n in _notes(pm)]))

    assert mean(_tempo, hi) > mean(_tempo, lo) + 40
    assert mean(density, hi) > 1.5 * mean(density, lo)
    assert mean(velocity, hi) > mean(velocity, lo) + 20


def test_minor_share_rises_as_valence_drops():
    def minor_share(v):
        return np.mean([_estimated_mode(compose_clip("tender", v, 0.5, seed=s)[0]) == "minor"
                        for s in range(14)])

    assert minor_share(0.1) - minor_share(0.9) > 0.4


def test_scary_more_dissonant_than_tender():
    scary = np.mean([_dissonance(compose_clip("scary", 0.1, 0.9, seed=s)[0])
                     for s in range(8)])
    tender = np.mean([_dissonance(compose_clip("tender", 0.65, 0.5, seed=s)[0])
                      for s in range(8)])
    assert scary > tender + 0.1


def test_articulation_staccato_for_funny_legato_for_tender():
    def ratio(label, v, a):
        out = []
        for s in range(8):
            pm = compose_clip(label, v, a, seed=s)[0]
            mel = next(i for i in pm.instruments if i.name == "melody")
            on = np.array([n.start for n in mel.notes])
            ln = np.array([n.end - n.start for n in mel.notes])
            ioi = np.diff(on)
            ok = ioi > 1e-3
            out.append(np.median(ln[:-1][ok] / ioi[ok]))
        return float(np.mean(out))

    assert ratio("funny", 0.9, 0.6) < ratio("tender", 0.65, 0.5) - 0.3


def test_true_tags_follow_the_realised_instruments():
    for s in range(6):
        spec = spec_from_latent("exciting", 0.9, 0.8, rng(s, "t"))
        pm = render_piece(spec, 4.0, rng(s, "n"))
        tags = tags_from_piece(piece_stats(pm, spec), spec, rng(s, "g"), keep=1.0,
                               spurious=0.0)
        has_drums = any(i.is_drum and i.notes for i in pm.instruments)
        assert ("drums" in tags) == has_drums
        assert ("bass" in tags) == any(i.program == 33 and i.notes for i in pm.instruments)
        assert ("fast" in tags) or spec.tempo < 120


def test_captions_vary_and_mention_the_mode():
    caps = []
    for s in range(12):
        _, _, cap, cues = compose_clip("happy", 0.9, 0.7, seed=s)
        assert cues["mode"] in cap
        caps.append(cap)
    assert len({" ".join(c.split()[:3]) for c in caps}) >= 5


def test_midi_bytes_round_trip_matches_pretty_midi_writer():
    pm = compose_clip("angry", 0.1, 0.85, seed=5)[0]
    ours = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(pm)))
    buf = io.BytesIO()
    pm.write(buf)
    ref = pretty_midi.PrettyMIDI(io.BytesIO(buf.getvalue()))
    assert len(ours.instruments) == len(ref.instruments)
    for a, b in zip(ours.instruments, ref.instruments):
        assert (a.program, a.is_drum, a.name) == (b.program, b.is_drum, b.name)
        key = lambda n: (n.start, n.pitch, n.velocity, n.end)  # noqa: E731
        x, y = np.array(sorted(map(key, a.notes))), np.array(sorted(map(key, b.notes)))
        assert x.shape == y.shape
        assert np.array_equal(x[:, 1:3], y[:, 1:3])
        tick = 60.0 / (_tempo(pm) * pm.resolution)
        assert np.allclose(x[:, [0, 3]], y[:, [0, 3]], atol=1.01 * tick)
    assert _tempo(ours) == pytest.approx(_tempo(pm), rel=1e-4)


# --------------------------------------------------------------------------- builders
def test_build_music_files_and_determinism(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    df1 = build_music(a, seed=3, n_per_class=1, duration=2.0, progress=False)
    df2 = build_music(b, seed=3, n_per_class=1, duration=2.0, progress=False, n_jobs=2)
    assert df1.equals(df2)
    assert _digest(a) == _digest(b)
    assert list(df1.columns) == ["item_id", "label", "true_label", "valence", "arousal",
                                 "audio_path", "midi_path", "tags", "caption"]
    assert df1["true_label"].tolist() == list(MUSIC_LABELS)
    for r in df1.itertuples():
        assert r.audio_path == f"music/audio/{r.item_id}.wav"
        info = sf.info(a / r.audio_path)
        assert (info.samplerate, info.frames, info.channels, info.subtype) == \
            (16000, 32000, 1, "PCM_16")
        assert pretty_midi.PrettyMIDI(str(a / r.midi_path)).instruments
        assert set(r.tags.split(";")) <= set(TAG_VOCAB)
    other = build_music(tmp_path / "c", seed=4, n_per_class=1, duration=2.0, progress=False)
    assert not other["caption"].equals(df1["caption"]) or _digest(tmp_path / "c") != _digest(a)


def test_build_piano_ids_and_song_grouping(tmp_path):
    df = build_piano(tmp_path, seed=1, n_songs_per_quadrant=2, clips_per_song=2,
                     duration=2.0, progress=False)
    assert len(df) == 16
    assert df["item_id"].iloc[0] == "Q1_s000_0" and df["item_id"].iloc[-1] == "Q4_s001_1"
    assert df["item_id"].str.fullmatch(r"Q[1-4]_s\d{3}_\d").all()
    assert (df["item_id"].str[:2] == df["label"]).all()
    assert (df.groupby("song_id")["label"].nunique() == 1).all()
    assert (df.groupby("song_id").size() == 2).all()
    tempi = {}
    for r in df.itertuples():
        pm = pretty_midi.PrettyMIDI(str(tmp_path / r.midi_path))
        assert [(i.program, i.is_drum) for i in pm.instruments] == [(0, False)]
        tempi.setdefault(r.song_id, []).append(_tempo(pm))
        assert sf.info(tmp_path / r.audio_path).frames == 32000
    # clips of a song share its tempo (small drift); songs differ more
    within = np.mean([abs(t[0] - t[1]) for t in tempi.values()])
    between = np.std([np.mean(t) for t in tempi.values()])
    assert within < between


def test_piano_quadrant_cues():
    # arousal -> tempo/velocity; valence -> mode (symbolic)
    hi_a = [compose_piano_clip(0.5, 0.85, s, 0) for s in range(8)]
    lo_a = [compose_piano_clip(0.5, 0.15, s, 0) for s in range(8)]
    assert np.mean([_tempo(p) for p in hi_a]) > np.mean([_tempo(p) for p in lo_a]) + 40
    minor = lambda v: np.mean([_estimated_mode(compose_piano_clip(v, 0.5, s, 0)) == "minor"  # noqa
                               for s in range(12)])
    assert minor(0.15) - minor(0.85) > 0.4


def test_build_paired(tmp_path):
    df = build_paired(tmp_path, seed=0, n_items=3, duration=2.0, progress=False)
    assert df["item_id"].tolist() == ["paired-00000", "paired-00001", "paired-00002"]
    for r in df.itertuples():
        assert sf.info(tmp_path / r.audio_path).frames == 32000
        pm = pretty_midi.PrettyMIDI(str(tmp_path / r.midi_path))
        assert pm.instruments[0].program == 0 and pm.instruments[0].notes
    tempi = [_tempo(compose_paired_piece(s)) for s in range(12)]
    assert max(tempi) - min(tempi) > 50  # diverse tempi


@pytest.mark.parametrize("call, name", [
    (lambda d: build_music(d, 0, 0, progress=False), "n_per_class"),
    (lambda d: build_music(d, 0, 1, duration=0, progress=False), "duration"),
    (lambda d: build_music(d, 0, 1, sr=0, progress=False), "sr"),
    (lambda d: build_music(d, 0, 1, n_jobs=0, progress=False), "n_jobs"),
    (lambda d: compose_clip("bored", 0.5, 0.5, 0), "label"),
    (lambda d: compose_clip("sad", 1.5, 0.5, 0), "valence"),
    (lambda d: compose_clip("sad", 0.5, 0.5, 0, duration=-1), "duration"),
    (lambda d: build_piano(d, 0, 1, 0, progress=False), "clips_per_song"),
    (lambda d: build_piano(d, 0, 0, 1, progress=False), "n_songs_per_quadrant"),
    (lambda d: build_piano(d, 0, 1, 1, sr=-5, progress=False), "sr"),
    (lambda d: build_paired(d, 0, 0, progress=False), "n_items"),
    (lambda d: build_paired(d, 0, 1, duration=0.0, progress=False), "duration"),
])
def test_bad_parameters(tmp_path, call, name):
    with pytest.raises(ValueError, match=name):
        call(tmp_path)
