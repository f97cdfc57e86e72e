"""Tests for emolib.encoders.symbolic: refined MIDI-like tokens (round trip, harmonic),
real MIDI files, the Transformer encoder, masked-token pre-training, the LSTM-Attn baseline."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from emolib.encoders import symbolic as S
from emolib.encoders.symbolic import MidiLikeVocab, Note

EMOPIA = Path(__file__).resolve().parents[2] / "shared" / "data" / "emopia"


def test_hand_made_tokens_exact():
    v = MidiLikeVocab()
    notes = [Note(60, 0.0, 0.5, 80), Note(64, 0.0, 0.5, 80), Note(67, 0.25, 1.0, 100)]
    toks = S.notes_to_tokens(notes, v)
    assert toks == ["CLS",
                    "HARMONIC_2", "VELOCITY_20", "NOTE_ON_60",
                    "HARMONIC_2", "VELOCITY_20", "NOTE_ON_64",
                    "TIME_SHIFT_25", "HARMONIC_3", "VELOCITY_25", "NOTE_ON_67",
                    "TIME_SHIFT_25", "NOTE_OFF_60", "NOTE_OFF_64",
                    "TIME_SHIFT_50", "NOTE_OFF_67"]


def test_harmonic_counts_sounding_notes_at_onset():
    v = MidiLikeVocab()
    # a triad (3 at each onset), a melody note inside it (4), a note starting exactly when
    # the others end (only itself)
    notes = [Note(p, 0.0, 1.0, 64) for p in (48, 52, 55)] + [Note(72, 0.5, 0.8, 64),
                                                             Note(74, 1.0, 1.5, 64)]
    toks = S.notes_to_tokens(notes, v)
    harm = [t for t in toks if t.startswith("HARMONIC_")]
    assert harm == ["HARMONIC_3"] * 3 + ["HARMONIC_4", "HARMONIC_1"]
    capped = S.notes_to_tokens(notes, MidiLikeVocab(max_harmonic=2))
    assert [t for t in capped if t.startswith("HARMONIC_")] == ["HARMONIC_2"] * 4 + ["HARMONIC_1"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_up_to_quantisation(seed):
    g = np.random.default_rng(seed)
    v = MidiLikeVocab()
    notes = []
    for p in g.choice(np.arange(30, 100), size=12, replace=False):  # distinct pitches
        on = float(g.uniform(0, 4))
        notes.append(Note(int(p), on, on + float(g.uniform(0.05, 2.5)), int(g.integers(1, 128))))
    back = S.tokens_to_notes(S.notes_to_tokens(notes, v), v)
    assert len(back) == len(notes)
    for a, b in zip(sorted(notes, key=lambda n: n.pitch), sorted(back, key=lambda n: n.pitch)):
        assert a.pitch == b.pitch
        assert abs(a.onset - b.onset) <= 0.005 + 1e-9
        assert abs(a.offset - b.offset) <= 0.005 + 1e-9
        assert abs(a.velocity - b.velocity) <= 2


def test_long_gaps_use_several_time_shifts_and_restrike():
    v = MidiLikeVocab()
    notes = [Note(60, 0.0, 2.5, 64), Note(60, 1.0, 1.2, 64)]  # re-struck key ends the first
    toks = S.notes_to_tokens(notes, v, add_cls=False)
    back = S.tokens_to_notes(toks, v)
    assert back == [Note(60, 0.0, 1.0, 66), Note(60, 1.0, 1.2, 66)]
    long = S.notes_to_tokens([Note(60, 2.5, 2.6, 64)], v, add_cls=False)
    assert long[:3] == ["TIME_SHIFT_100", "TIME_SHIFT_100", "TIME_SHIFT_50"]


def test_vocab_encode_decode_and_errors():
    v = MidiLikeVocab()
    assert len(v) == 3 + 128 + 128 + 100 + 32 + 12
    ids = v.encode(["CLS", "NOTE_ON_60", "TIME_SHIFT_1"])
    assert v.decode(ids) == ["CLS", "NOTE_ON_60", "TIME_SHIFT_1"]
    with pytest.raises(ValueError, match="unknown token"):
        v.encode(["NOTE_ON_200"])
    with pytest.raises(ValueError, match="pitch"):
        S.notes_to_tokens([Note(130, 0, 1, 64)], v)
    with pytest.raises(ValueError, match="onset"):
        S.notes_to_tokens([Note(60, 1.0, 0.5, 64)], v)


def test_midi_file_round_trip(tmp_path):
    notes = [Note(60, 0.1, 0.6, 90), Note(64, 0.1, 0.6, 70), Note(67, 0.7, 1.9, 50)]
    path = tmp_path / "x.mid"
    S.notes_to_midi(notes).write(str(path))
    got = S.midi_to_notes(path)
    assert [n.pitch for n in got] == [60, 64, 67]
    assert np.allclose([n.onset for n in got], [0.1, 0.1, 0.7], atol=1e-3)
    with pytest.raises(FileNotFoundError, match="MIDI file not found"):
        S.midi_to_notes(tmp_path / "missing.mid")
    (tmp_path / "bad.mid").write_bytes(b"not a midi file")
    with pytest.raises(ValueError, match="cannot parse"):
        S.midi_to_notes(tmp_path / "bad.mid")


@pytest.mark.parametrize("name", ["sample_piano_clip.mid", "example_generative.mid"])
def test_real_emopia_midi(name):
    path = EMOPIA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    v = MidiLikeVocab()
    notes = S.midi_to_notes(path)
    assert len(notes) > 50
    ids = S.encode_notes(notes, v)
    assert ids[0] == v.cls_id and ids.max() < len(v)
    back = S.tokens_to_notes(v.decode(ids), v)
    # same-pitch duplicates are merged; everything else comes back within 5 ms
    assert len(back) >= 0.95 * len(notes)
    orig = {}
    for n in notes:
        orig.setdefault(n.pitch, []).append(n.onset)
    err = [min(abs(o - b.onset) for o in orig[b.pitch]) for b in back]
    assert max(err) <= 0.005 + 1e-6


def test_pad_batch():
    ids, mask = S.pad_batch([[2, 5, 6], [2]], pad_id=0)
    assert ids.tolist() == [[2, 5, 6], [2, 0, 0]]
    assert mask.tolist() == [[False, False, False], [False, True, True]]
    ids2, _ = S.pad_batch([[1, 2, 3, 4]], max_len=2)
    assert ids2.tolist() == [[1, 2]]


def _tiny_encoder(v):
    torch.manual_seed(0)
    return S.SymbolicEncoder(len(v), d_model=32, n_heads=4, n_layers=4, d_ff=64, max_len=64,
                             dropout=0.0)


def test_encoder_shapes_and_padding_invariance():
    v = MidiLikeVocab()
    enc = _tiny_encoder(v).eval()
    assert len(enc.encoder.layers) == 4
    a = S.encode_notes([Note(60, 0, 0.5, 64), Note(62, 0.5, 1.0, 64)], v)
    ids, mask = S.pad_batch([a, a[:3]], v.pad_id)
    seq, val = enc(ids, mask)
    assert seq.shape == (2, len(a), 32) and val.shape == (2,)
    # the padded item gives the same valence logit as when it is alone
    alone_seq, alone_val = enc(torch.as_tensor(a[:3])[None], None)
    assert torch.allclose(val[1], alone_val[0], atol=1e-5)
    ids_b = ids.clone()
    ids_b[1, 3:] = 7  # change padded content: nothing changes
    assert torch.allclose(enc(ids_b, mask)[1], val, atol=1e-6)
    with pytest.raises(ValueError, match="max_len"):
        enc(torch.zeros(1, 65, dtype=torch.long))


def test_mask_tokens_rules():
    v = MidiLikeVocab()
    ids = torch.full((4, 200), v.index["NOTE_ON_60"])
    ids[:, 0] = v.cls_id
    mask = torch.zeros_like(ids, dtype=torch.bool)
    mask[:, 150:] = True
    g = torch.Generator().manual_seed(0)
    inputs, labels = S.mask_tokens(ids, mask, v, p=0.5, generator=g)
    target = labels != -100
    assert not target[:, 0].any() and not target[mask].any()
    frac = target[~mask].float().mean().item()
    assert 0.4 < frac < 0.6
    assert (inputs[target] == v.mask_id).float().mean().item() == pytest.approx(0.8, abs=0.08)
    assert torch.equal(inputs[~target], ids[~target])


def test_pretraining_lowers_mlm_loss():
    v = MidiLikeVocab()
    # a strongly patterned corpus: ascending scales with fixed rhythm
    seqs = [S.encode_notes([Note(48 + (i + k) % 24, 0.25 * k, 0.25 * k + 0.2, 64)
                            for k in range(16)], v)
            for i in range(8)]
    torch.manual_seed(0)
    enc = S.SymbolicEncoder(len(v), d_model=32, n_heads=4, n_layers=2, d_ff=64, max_len=64,
                            dropout=0.0)
    res = S.pretrain_symbolic(enc, seqs, v, epochs=8, lr=3e-3, batch_size=8, max_len=64,
                              seed=0, progress=False)
    h = res.history["train_loss"].to_numpy()
    assert h[-1] < 0.7 * h[0]


def test_bilstm_attention_shapes_and_masking():
    v = MidiLikeVocab()
    torch.manual_seed(0)
    m = S.BiLSTMAttention(len(v), n_classes=4, emb_dim=16, lstm_hidden=8, da=8, r=3,
                          hidden=16).eval()
    ids, mask = S.pad_batch([[2, 10, 11, 12, 13], [2, 10, 11]], v.pad_id)
    logits = m(ids, mask)
    assert logits.shape == (2, 4)
    att = m.last_attention
    assert att.shape == (2, 3, 5)
    assert torch.all(att[1, :, 3:] == 0)
    assert torch.allclose(att.sum(-1), torch.ones(2, 3))
    alone = m(ids[1:, :3], None)
    assert torch.allclose(alone, logits[1:], atol=1e-5)


def test_plain_midi_like_and_note_statistics():
    v = MidiLikeVocab()
    notes = [Note(60, 0.0, 0.5, 80), Note(64, 0.0, 0.5, 80), Note(67, 0.5, 1.0, 40)]
    plain = S.notes_to_tokens(notes, v, harmonic=False)
    assert not any(t.startswith("HARMONIC") for t in plain)
    assert S.tokens_to_notes(plain, v) == S.tokens_to_notes(S.notes_to_tokens(notes, v), v)
    st = S.note_statistics(notes)
    assert st.shape == (12,)
    assert st[0] == pytest.approx(3 / 1.0)            # 3 notes in 1 s
    assert st[1] == pytest.approx(191 / 3)            # mean pitch
    assert st[8] == pytest.approx((2 + 2 + 1) / 3)    # polyphony at onsets
    assert st[11] == pytest.approx(1.0)               # C-E: a major third only
    assert np.all(S.note_statistics([]) == 0)


def test_frozen_symbolic_features():
    torch.manual_seed(0)
    f = S.FrozenSymbolicFeatures(8).eval()
    seq = torch.randn(2, 5, 8)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    h, val = f(seq, pad)
    assert h.shape == (2, 5, 8) and val.shape == (2,)
    seq2 = seq.clone()
    seq2[1, 3:] = 50
    assert torch.allclose(f(seq2, pad)[1], val)
