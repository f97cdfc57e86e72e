"""Tests for the emotion world's offline synthesiser (emolib.data.world.synth)."""
from __future__ import annotations

import numpy as np
import pretty_midi
import pytest
from scipy.signal import stft

from emolib.data.world.synth import (
    GM_TIMBRE_TABLE,
    RELEASE_TAIL,
    TIMBRES,
    render_note,
    sounding_offsets,
    synthesize,
    timbre_for,
)

SR = 16000


def _pm(notes, program=0, is_drum=False, pedal=None):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for pitch, vel, s, e in notes:
        inst.notes.append(pretty_midi.Note(velocity=vel, pitch=pitch, start=s, end=e))
    for t, val in pedal or []:
        inst.control_changes.append(pretty_midi.ControlChange(64, val, t))
    pm.instruments.append(inst)
    return pm


def _mixed_pm():
    g = np.random.default_rng(3)
    pm = pretty_midi.PrettyMIDI()
    for prog, drum in [(0, False), (48, False), (33, False), (25, False), (0, True)]:
        inst = pretty_midi.Instrument(program=prog, is_drum=drum)
        for _ in range(12):
            s = float(g.uniform(0, 2.5))
            inst.notes.append(pretty_midi.Note(int(g.integers(30, 120)),
                                               int(g.integers(36, 84)), s, s + 0.3))
        pm.instruments.append(inst)
    return pm


def _centroid(y):
    """Power-weighted spectral centroid (Hz)."""
    power = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    return float((power * freqs).sum() / power.sum())


def _log_stft(y):
    """Flattened, unit-norm dB magnitude STFT (floored at -60 dB) of the first second."""
    y = np.pad(y, (0, max(0, SR - len(y))))[:SR]
    _, _, z = stft(y, SR, nperseg=512)
    m = np.abs(z)
    m = np.maximum(20 * np.log10(m / m.max() + 1e-12), -60.0) + 60.0
    m = m.ravel()
    return m / np.linalg.norm(m)


def test_deterministic_and_seed_dependent():
    pm = _mixed_pm()
    a = synthesize(pm, sr=SR, seed=1)
    b = synthesize(pm, sr=SR, seed=1)
    assert np.array_equal(a, b)
    c = synthesize(pm, sr=SR, seed=2)  # drum noise differs
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("sr", [16000, 22050])
def test_length_dtype_peak(sr):
    pm = _mixed_pm()
    y = synthesize(pm, sr=sr)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == int(np.ceil((pm.get_end_time() + RELEASE_TAIL) * sr))
    assert np.isfinite(y).all()
    assert np.max(np.abs(y)) == pytest.approx(0.9, abs=1e-5)


def test_fixed_gain_keeps_loudness_and_limits_peak():
    quiet = synthesize(_pm([(60, 30, 0.0, 1.0), (64, 30, 0.0, 1.0)]), sr=SR, gain=0.5)
    loud = synthesize(_pm([(60, 120, 0.0, 1.0), (64, 120, 0.0, 1.0)]), sr=SR, gain=0.5)
    rms = lambda y: float(np.sqrt(np.mean(y**2)))  # noqa: E731
    assert rms(loud) > 4 * rms(quiet)
    huge = synthesize(_pm([(p, 127, 0.0, 1.0) for p in range(48, 72)]), sr=SR, gain=50.0)
    assert np.max(np.abs(huge)) <= 0.9 + 1e-6


def test_piano_pitch_and_velocity_brightness():
    y = render_note("piano", 69, 100, 1.0, sr=SR)
    spec = np.abs(np.fft.rfft(y[: SR]))
    f_peak = np.fft.rfftfreq(SR, 1 / SR)[np.argmax(spec)]
    assert abs(f_peak - 440.0) < 3.0  # fundamental dominates, slight inharmonicity only
    soft = render_note("piano", 60, 30, 0.5, sr=SR)
    hard = render_note("piano", 60, 115, 0.5, sr=SR)
    tone = slice(int(0.03 * SR), None)  # after the hammer noise
    assert _centroid(hard[tone]) > 1.2 * _centroid(soft[tone])
    assert np.max(np.abs(hard)) > 5 * np.max(np.abs(soft))


def test_timbres_differ():
    specs = {t: _log_stft(render_note(t, 38 if t == "drums" else 57, 90, 0.5, sr=SR))
             for t in TIMBRES}
    names = list(specs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert float(specs[a] @ specs[b]) < 0.96, (a, b)
    # strings: slow attack; piano: fast attack
    pn, st = render_note("piano", 60, 90, 1.0, sr=SR), render_note("strings", 60, 90, 1.0, sr=SR)
    first = int(0.03 * SR)
    assert np.abs(pn[:first]).max() / np.abs(pn).max() > 0.5
    assert np.abs(st[:first]).max() / np.abs(st).max() < 0.3


def test_sustain_pedal_lengthens_sound():
    note = [(60, 90, 0.0, 0.3)]
    dry = synthesize(_pm(note), sr=SR, gain=1.0)
    wet = synthesize(_pm(note, pedal=[(0.0, 127), (2.0, 0)]), sr=SR, gain=1.0)
    win = slice(int(1.0 * SR), int(1.8 * SR))
    e_dry = float(np.sum(dry[win] ** 2)) if len(dry) > win.start else 0.0
    assert float(np.sum(wet[win] ** 2)) > 100 * e_dry + 1e-6


def test_sounding_offsets_by_hand():
    inst = _pm([(60, 80, 0.0, 0.5), (62, 80, 1.0, 1.2), (60, 80, 1.5, 1.7), (64, 80, 3.0, 3.2)],
               pedal=[(0.4, 127), (2.5, 0)]).instruments[0]
    offs = sounding_offsets(inst)
    # note 0 released under the pedal -> until re-struck at 1.5; note 1 -> pedal up 2.5;
    # note 2 -> pedal up 2.5; note 3 after the pedal -> its own end
    assert offs.tolist() == pytest.approx([1.5, 2.5, 2.5, 3.2])
    drum = _pm([(38, 80, 0.0, 0.1)], is_drum=True, pedal=[(0.0, 127), (2.0, 0)]).instruments[0]
    assert sounding_offsets(drum).tolist() == pytest.approx([0.1])


def test_gm_table():
    assert timbre_for(0) == "piano" and timbre_for(33) == "bass"
    assert timbre_for(48) == "strings" and timbre_for(25) == "pluck"
    assert timbre_for(81) == "synth" and timbre_for(19) == "organ"
    assert timbre_for(12) == "mallet" and timbre_for(5, is_drum=True) == "drums"
    covered = sorted(p for lo, hi, _ in GM_TIMBRE_TABLE for p in range(lo, hi + 1))
    assert covered == list(range(128))
    with pytest.raises(ValueError, match="program"):
        timbre_for(128)


def test_bad_parameters():
    pm = _pm([(60, 80, 0.0, 0.5)])
    with pytest.raises(ValueError, match="sr"):
        synthesize(pm, sr=0)
    with pytest.raises(ValueError, match="tail"):
        synthesize(pm, tail=-1.0)
    with pytest.raises(ValueError, match="timbre"):
        render_note("theremin", 60, 80, 0.5)
    with pytest.raises(TypeError, match="PrettyMIDI"):
        synthesize("song.mid")


def test_empty_midi_is_silence():
    y = synthesize(pretty_midi.PrettyMIDI(), sr=SR)
    assert len(y) == int(np.ceil(RELEASE_TAIL * SR)) and not y.any()
