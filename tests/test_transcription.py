"""Tests for emolib.encoders.transcription: rolls, O&F decoding on hand-made activations,
mir_eval note scores, the model's shapes, harmonic stacking, the backend API, and the
bounded-memory paths: memory-mapped cached features, duration-aware crop counts, chunked
inference."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from emolib.encoders import transcription as T
from emolib.encoders.symbolic import Note

FPS = 31.25


def test_decode_two_notes_from_hand_made_activations():
    onset = np.zeros((40, 88))
    frame = np.zeros((40, 88))
    vel = np.zeros((40, 88))
    # C4 (key 39) frames 5..14, onset at 5 (two onset frames above threshold: one note);
    # E4 (key 43) frames 10..29 with onset at 10; weak noise elsewhere
    onset[5:7, 39] = [0.9, 0.6]
    frame[5:15, 39] = 0.8
    vel[5, 39] = 100 / 127
    onset[10, 43] = 0.7
    frame[11:30, 43] = 0.9
    vel[10, 43] = 50 / 127
    onset[20, 10] = 0.3
    frame[20:25, 10] = 0.9      # frames without an onset are no note
    notes = T.decode_notes(onset, frame, FPS, vel)
    assert notes == [Note(60, 5 / FPS, 15 / FPS, 100), Note(64, 10 / FPS, 30 / FPS, 50)]
    # without a velocity roll every note gets 64; a lower threshold adds the weak onset
    low = T.decode_notes(onset, frame, FPS, onset_threshold=0.25)
    assert [n.pitch for n in low] == [60, 64, 31] and all(n.velocity == 64 for n in low)


def test_decode_retrigger_splits_note():
    onset = np.zeros((20, 88))
    frame = np.zeros((20, 88))
    onset[[2, 8], 40] = 1.0
    frame[2:15, 40] = 1.0
    notes = T.decode_notes(onset, frame, FPS)
    assert [(round(n.onset * FPS), round(n.offset * FPS)) for n in notes] == [(2, 8), (8, 15)]
    with pytest.raises(ValueError, match="frames, keys"):
        T.decode_notes(onset, frame[:, :10], FPS)


def test_rolls_then_decode_recovers_notes():
    notes = [Note(60, 0.16, 0.48, 90), Note(64, 0.16, 1.0, 40), Note(108, 0.5, 0.7, 127),
             Note(10, 0.1, 0.5, 64)]          # below A0: ignored
    on, fr, ve = T.notes_to_rolls(notes, 40, FPS)
    assert on.shape == (40, 88) and on.sum() == 3
    assert fr[:, 60 - 21].sum() == round(0.48 * FPS) - round(0.16 * FPS)
    back = T.decode_notes(on, fr, FPS, ve)
    assert [n.pitch for n in back] == [60, 64, 108]
    for a, b in zip(notes, back):
        assert abs(a.onset - b.onset) <= 0.5 / FPS + 1e-9
        assert abs(a.offset - b.offset) <= 0.5 / FPS + 1e-9
        assert a.velocity == b.velocity


def test_note_scores_against_hand_count():
    ref = [Note(60, 0.0, 0.5, 64), Note(64, 1.0, 1.5, 64), Note(67, 2.0, 2.5, 64)]
    est = [Note(60, 0.03, 0.5, 64),          # hit (30 ms late)
           Note(64, 1.2, 1.5, 64),           # 200 ms late: miss
           Note(67, 2.0, 3.5, 64),           # onset hit, offset wrong
           Note(72, 2.0, 2.5, 64)]           # wrong pitch
    s = T.note_scores(ref, est)
    assert s["precision"] == pytest.approx(2 / 4) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    s_off = T.note_scores(ref, est, with_offsets=True)
    assert s_off["precision"] == pytest.approx(1 / 4)
    assert T.note_scores(ref, []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_harmonic_stack_shifts():
    b = 3
    cqt = torch.zeros(1, 2, (119 - 21) * b)
    cqt[0, :, 12 * b + 1] = 1.0                  # energy exactly at key 12 (A1, 55 Hz)
    st = T.harmonic_stack(cqt, b)
    assert st.shape == (1, len(T.HARMONICS), 2, 88 * b)
    h1 = T.HARMONICS.index(1)
    h2 = T.HARMONICS.index(2)
    sub = T.HARMONICS.index(0.5)
    assert st[0, h1, 0].argmax().item() == 12 * b + 1       # fundamental of key 12
    assert st[0, h2, 0].argmax().item() == 0 * b + 1        # key 0 (A0) sees it as 2nd harmonic
    assert st[0, sub, 0].argmax().item() == 24 * b + 1      # key 24 sees it as its sub-octave


def test_model_shapes_and_front_end():
    torch.manual_seed(0)
    m = T.OnsetsFramesLite(bins_per_semitone=3, channels=4).eval()
    front = T.FrontEnd()
    y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    feats = front(y, 16000)
    assert feats.shape == (front.n_frames(16000), front.n_bins)
    # the strongest bin of a 440 Hz tone is key A4 (MIDI 69)
    k = int(np.median(feats.argmax(axis=1)))
    assert k == (69 - 21) * 3 + 1
    out = m(torch.from_numpy(feats)[None])
    assert {k: tuple(v.shape) for k, v in out.items()} == \
        {"onset": (1, feats.shape[0], 88), "frame": (1, feats.shape[0], 88),
         "velocity": (1, feats.shape[0], 88)}
    with pytest.raises(ValueError, match="sr=16000"):
        front(y, 22050)


def test_loss_decreases_on_a_tiny_batch():
    torch.manual_seed(0)
    m = T.OnsetsFramesLite(channels=4)
    cqt = torch.randn(2, 24, 294)
    on = torch.zeros(2, 24, 88)
    on[:, 3, 40] = 1
    fr = torch.zeros(2, 24, 88)
    fr[:, 3:10, 40] = 1
    ve = on * 0.5
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = T.transcription_loss(m(cqt), on, fr, ve)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


class _PeakOracle(torch.nn.Module):
    """A stand-in 'model' whose activations are known: a key sounds where its CQT level is
    a local maximum over keys, within 6 dB of the frame's loudest key, within 30 dB of the
    clip's maximum and above -60 dB, for at least two frames; an onset is the first frame
    of a sounding run. Logits are +-10 (probabilities ~1 / ~0)."""

    bins_per_semitone = 3

    def forward(self, cqt):
        b = self.bins_per_semitone
        level = cqt[..., b // 2::b][..., :88]                       # centre bin of each key
        padded = torch.nn.functional.pad(level, (1, 1), value=-1e9)
        peak = (level >= padded[..., :-2]) & (level >= padded[..., 2:])   # local max over keys
        active = peak & (level >= level.amax(-1, keepdim=True) - 6.0) & \
            (level >= level.amax(dim=(1, 2), keepdim=True) - 30.0) & (level > -60.0)
        active = active & torch.nn.functional.pad(active[:, 1:], (0, 0, 0, 1))  # >= 2 frames
        prev = torch.nn.functional.pad(active[:, :-1], (0, 0, 1, 0))
        onset = active & ~prev
        logit = lambda m: torch.where(m, 10.0, -10.0)  # noqa: E731
        return {"onset": logit(onset), "frame": logit(active), "velocity": torch.zeros_like(level)}


def _two_note_clip(first: int, second: int) -> np.ndarray:
    """Two successive electric-piano notes rendered as the world renders its MIDI (GM
    SoundFont, 16 kHz, peak-normalised). GM program 4 (E.Piano 1): its tone is close to a
    sinusoid, as the oracle's peak picking needs; the acoustic grand's octave partial is
    within 6 dB of its fundamental, which the oracle would report as a second note."""
    import pretty_midi

    from emolib.data.world.sound import synthesize

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=4)
    inst.notes += [pretty_midi.Note(90, first, 0.3, 0.8), pretty_midi.Note(90, second, 1.0, 1.5)]
    pm.instruments.append(inst)
    return synthesize(pm, 16000)


@pytest.mark.parametrize("first, second", [(60, 67), (67, 60)])
def test_end_to_end_audio_to_notes_on_synthesised_two_note_clip(first, second):
    """audio -> CQT front end -> activations -> O&F decoding through the backend API, on a
    two-note clip rendered by emolib.data.world.sound (a trained transcriber is replaced by an
    oracle with known activations: training one takes far longer than a unit test)."""
    y = _two_note_clip(first, second)
    be = T.get_backend("onsets_frames", model=_PeakOracle(), onset_threshold=0.5)
    notes = be.transcribe(y, 16000)
    assert [n.pitch for n in notes] == [first, second]
    assert notes[0].onset < notes[1].onset
    for n, (on, off) in zip(notes, [(0.3, 0.8), (1.0, 1.5)]):
        assert abs(n.onset - on) <= 0.05            # mir_eval's onset tolerance
        assert on + 0.3 < n.offset <= off + 0.25    # lasts while the key sounds (plus release)
        assert n.velocity == 64                     # sigmoid(0) * 127 rounded
    ref = [Note(first, 0.3, 0.8, 90), Note(second, 1.0, 1.5, 90)]
    assert T.note_scores(ref, notes) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_backend_registry():
    torch.manual_seed(0)
    m = T.OnsetsFramesLite(channels=4)
    front = T.FrontEnd()
    be = T.get_backend("onsets_frames", model=m, front=front, onset_threshold=0.4,
                       frame_threshold=0.3)
    assert isinstance(be, T.OnsetsFramesBackend)
    assert be.model is m and be.front is front and not m.training
    assert (be.onset_threshold, be.frame_threshold) == (0.4, 0.3)
    # the backend decodes exactly what the model's activations say
    y = _two_note_clip(60, 64)
    act = T.activations(m, y, 16000, front)
    assert set(act) == {"onset", "frame", "velocity"}
    assert all(a.shape == (front.n_frames(len(y)), 88) and 0 <= a.min() and a.max() <= 1
               for a in act.values())
    expected = T.decode_notes(act["onset"], act["frame"], front.fps, act["velocity"],
                              onset_threshold=0.4, frame_threshold=0.3)
    assert be.transcribe(y, 16000) == expected
    # silence through the oracle backend: no notes
    assert T.get_backend("onsets_frames", model=_PeakOracle()).transcribe(
        np.zeros(16000, np.float32), 16000) == []
    with pytest.raises(ValueError, match="needs model"):
        T.get_backend("onsets_frames")
    with pytest.raises(ValueError, match="unknown transcription backend"):
        T.get_backend("magic")
    try:
        import basic_pitch  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="no-deps"):
            T.get_backend("basic_pitch")


# ---------------------------------------------------------------------------- bounded memory
def _tone_clip(seconds: float, pitch: int = 69, sr: int = 16000) -> tuple[np.ndarray, list[Note]]:
    """A decaying sine of ``pitch`` re-struck every 0.5 s, with its notes."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    y = (0.5 * np.sin(2 * np.pi * f0 * t) * np.exp(-4 * (t % 0.5))).astype(np.float32)
    notes = [Note(pitch, s, s + 0.4, 40 + int(s * 20) % 80)
             for s in np.arange(0, seconds - 0.4, 0.5)]
    return y, notes


def test_window_rolls_equal_slices_of_the_full_rolls():
    g = np.random.default_rng(0)
    notes = [Note(int(g.integers(15, 115)), float(g.uniform(0, 4)), 0.0, int(g.integers(1, 128)))
             for _ in range(60)]
    notes = [Note(n.pitch, n.onset, n.onset + float(g.uniform(0, 1)), n.velocity) for n in notes]
    # same key and onset frame: last wins
    notes += [Note(60, 1.0, 1.5, 30), Note(60, 1.0, 1.2, 99)]
    full = T.notes_to_rolls(notes, 120, FPS)
    assert full[2][round(1.0 * FPS), 60 - 21] == np.float32(99 / 127)
    spans, vel = T._note_spans(notes, 120, FPS)
    for start, length in [(0, 120), (0, 7), (13, 50), (100, 64), (119, 1), (130, 10)]:
        win = T._window_rolls(spans, vel, start, length)
        for w, f in zip(win, full):
            expect = np.zeros((length, 88), np.float32)
            part = f[start:start + length]
            expect[:len(part)] = part
            np.testing.assert_array_equal(w, expect)


def test_training_reads_cached_features_through_a_memory_map(tmp_path, monkeypatch):
    import soundfile as sf

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    front = T.FrontEnd()
    clips = [_tone_clip(1.5, 60), _tone_clip(2.5, 64)]
    audios, notes = [c[0] for c in clips], [c[1] for c in clips]
    cached = T._prepare_clips(audios, notes, front)
    in_ram = T._prepare_clips(audios, notes, front, cache=False)
    npy = sorted((tmp_path / "cache" / "features").glob("transcriber-front-*.npy"))
    assert len(npy) == 2 and all(isinstance(c.feats, Path) and c.feats in npy for c in cached)
    for c, r in zip(cached, in_ram):
        np.testing.assert_array_equal(np.load(c.feats), r.feats)
        assert c.n_frames == len(r.feats)
    # audio files (read one at a time) hit the same features; a second call reuses the cache
    paths = []
    for i, y in enumerate(audios):
        paths.append(tmp_path / f"clip{i}.wav")
        sf.write(paths[-1], y, 16000, subtype="FLOAT")
    from_files = T._prepare_clips(paths, notes, front)
    for c, r in zip(from_files, in_ram):
        np.testing.assert_array_equal(np.load(c.feats), r.feats)
    T._prepare_clips(audios, notes, front)
    assert len(list((tmp_path / "cache" / "features").glob("*.npy"))) == 4   # 2 arrays + 2 files

    loads = []
    real_load = np.load

    def spy(*args, **kwargs):
        out = real_load(*args, **kwargs)
        loads.append((kwargs.get("mmap_mode"), type(out)))
        return out

    monkeypatch.setattr(np, "load", spy)
    counts = [3, 3]
    ds, ds_ram = T._CropSet(cached, 40, 7, counts), T._CropSet(in_ram, 40, 7, counts)
    for ds_ in (ds, ds_ram):
        ds_.epoch = 2
    for i in range(len(ds)):
        for a, b in zip(ds[i], ds_ram[i]):
            assert torch.equal(a, b)
    assert len(loads) == len(ds) and all(m == "r" and issubclass(t, np.memmap) for m, t in loads)


def test_cached_and_in_memory_training_give_identical_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    clips = [_tone_clip(1.5, 60), _tone_clip(2.0, 67), _tone_clip(0.8, 72)]
    audios, notes = [c[0] for c in clips], [c[1] for c in clips]
    states = []
    for cache in (True, False):
        torch.manual_seed(0)
        m = T.OnsetsFramesLite(channels=2)
        T.train_transcriber(m, audios, notes, epochs=2, batch_size=4, crop_frames=32,
                            crops_per_clip=2, seed=3, progress=False, feature_cache=cache)
        states.append(m.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_long_recordings_get_proportionally_more_crops():
    fps = 31.25
    frames = [1 + int(s * 16000) // 512 for s in (1.0, 10.0, 30.0, 50.0, 600.0)]
    assert T._crop_counts(frames, fps, 2, 30.0).tolist() == [2, 2, 2, 3, 40]
    assert T._crop_counts(frames, fps, 1, 30.0).tolist() == [1, 1, 1, 2, 20]
    assert T._crop_counts(frames, fps, 2, None).tolist() == [2] * 5
    with pytest.raises(ValueError, match="clip_seconds"):
        T._crop_counts(frames, fps, 2, 0.0)
    with pytest.raises(ValueError, match="crops_per_clip"):
        T._crop_counts(frames, fps, 0, 30.0)
    # crops come in rounds: all recordings, then those with more crops; equal counts keep
    # the old order (recording i % n)
    clip = T._Clip(np.zeros((50, 294), np.float32), 50, np.zeros((0, 3), np.int64),
                   np.zeros(0, np.float32))
    assert T._CropSet([clip] * 3, 16, 0, [1, 3, 2]).order.tolist() == [0, 1, 2, 1, 2, 1]
    ds = T._CropSet([clip] * 3, 16, 0, [2, 2, 2])
    assert len(ds) == 6 and ds.order.tolist() == [i % 3 for i in range(6)]


def test_training_errors_name_the_parameter_or_file(tmp_path):
    m = T.OnsetsFramesLite(channels=2)
    y, notes = _tone_clip(1.0)
    kw = dict(epochs=1, crop_frames=16, progress=False, feature_cache=False)
    with pytest.raises(ValueError, match=r"audios\[1\]"):
        T.train_transcriber(m, [y, np.zeros((2, 100), np.float32)], [notes, notes], **kw)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        T.train_transcriber(m, [str(tmp_path / "missing.wav")], [notes], **kw)
    with pytest.raises(ValueError, match="crop_frames"):
        T.train_transcriber(m, [y], [notes], **{**kw, "crop_frames": 0})
    with pytest.raises(ValueError, match="same, non-zero number"):
        T.train_transcriber(m, [y], [], **kw)
    with pytest.raises(FileNotFoundError, match=r"training MIDI .*missing\.mid"):
        T.pretrained_transcriber([y], [str(tmp_path / "missing.mid")], epochs=1, crop_frames=16,
                                 progress=False)


def test_chunked_inference_equals_one_pass(tmp_path):
    torch.manual_seed(0)
    m = T.OnsetsFramesLite(channels=4).eval()
    # 2 + 2 (acoustic) + 2 (onset) + 1 (velocity) + 2 + 2 (frame)
    assert T.time_context(m) == 11
    g = np.random.default_rng(0)
    feats = (g.normal(-50, 20, (300, 294))).astype(np.float32)
    whole = T.activations_from_features(m, feats, chunk_frames=None)
    np.save(tmp_path / "f.npy", feats)
    mapped = np.load(tmp_path / "f.npy", mmap_mode="r")
    for chunk in (37, 64, 299):
        for src in (feats, mapped):
            parts = T.activations_from_features(m, src, chunk_frames=chunk)
            for k in whole:
                assert parts[k].shape == (300, 88)
                np.testing.assert_allclose(parts[k], whole[k], rtol=0, atol=1e-5)
    # without context the chunk borders differ (so the test above is not vacuous)
    bare = T.activations_from_features(m, feats, chunk_frames=64, context_frames=0)
    assert np.abs(bare["frame"] - whole["frame"]).max() > 1e-3
    # inputs up to CHUNK_FRAMES take the single pass unchanged
    short = T.activations_from_features(m, feats)
    assert all(np.array_equal(short[k], whole[k]) for k in whole)
    with pytest.raises(ValueError, match="chunk_frames"):
        T.activations_from_features(m, feats, chunk_frames=0)
    # audio in, through the backend: chunked transcription == one pass
    y = _two_note_clip(60, 64)
    be_chunked = T.OnsetsFramesBackend(m, onset_threshold=0.3, frame_threshold=0.3, chunk_frames=20)
    be_whole = T.OnsetsFramesBackend(m, onset_threshold=0.3, frame_threshold=0.3, chunk_frames=None)
    a, b = (T.activations(m, y, 16000, chunk_frames=20),
            T.activations(m, y, 16000, chunk_frames=None))
    assert all(np.allclose(a[k], b[k], rtol=0, atol=1e-5) for k in a)
    assert be_chunked.transcribe(y, 16000) == be_whole.transcribe(y, 16000)


def test_parameter_check_knows_every_backend():
    from emolib.params import TRANSCRIPTION_BACKENDS

    assert TRANSCRIPTION_BACKENDS == T.BACKENDS
