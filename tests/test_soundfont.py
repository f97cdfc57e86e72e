"""emolib.soundfont: General MIDI rendering with TinySoundFont and pretty_midi's SoundFont."""
from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from emolib.soundfont import DRUM_CHANNEL, render_midi, render_notes, soundfont_path

SR = 16000


def test_soundfont_ships_with_pretty_midi():
    path = soundfont_path()
    assert path.name == "TimGM6mb.sf2" and path.stat().st_size > 5_000_000
    assert path.read_bytes()[:4] == b"RIFF"


def test_note_sounds_at_its_time_and_pitch():
    y = render_notes([(69, 0.5, 1.5, 100)], SR, tail=0.5)  # A4 = 440 Hz
    assert y.dtype == np.float32 and y.ndim == 1 and len(y) == 2 * SR
    assert np.abs(y[: int(0.5 * SR)]).max() == 0.0  # silence before the onset
    seg = y[int(0.6 * SR): int(1.4 * SR)]
    assert np.sqrt(np.mean(seg ** 2)) > 1e-3
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / SR)
    assert abs(freqs[np.argmax(spec)] - 440.0) < 5.0


def test_rendering_is_bit_identical_and_programs_differ():
    notes = [(60, 0.0, 1.0, 90), (64, 0.25, 1.0, 90), (67, 0.5, 1.0, 90)]
    a, b = render_notes(notes, SR), render_notes(notes, SR)
    assert np.array_equal(a, b)
    strings = render_notes(notes, SR, program=48)
    assert a.shape == strings.shape and not np.allclose(a, strings)


def test_drums_use_percussion_channel():
    pm = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes.append(pretty_midi.Note(110, 36, 0.0, 0.1))
    pm.instruments.append(kit)
    drums = render_midi(pm, SR)
    piano_c2 = render_notes([(36, 0.0, 0.1, 110)], SR)
    assert DRUM_CHANNEL == 9
    assert np.abs(drums).max() > 1e-3 and not np.allclose(drums, piano_c2)


def test_sustain_pedal_holds_the_note():
    def render(pedal: bool) -> np.ndarray:
        pm = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(program=0)
        inst.notes.append(pretty_midi.Note(90, 60, 0.0, 0.3))
        if pedal:
            inst.control_changes += [pretty_midi.ControlChange(64, 127, 0.0),
                                     pretty_midi.ControlChange(64, 0, 1.8)]
        else:  # same last event time, so both renders have the same length
            inst.control_changes += [pretty_midi.ControlChange(7, 100, 1.8)]
        pm.instruments.append(inst)
        return render_midi(pm, SR, tail=0.2)

    held, dry = render(True), render(False)
    late = slice(int(1.0 * SR), int(1.7 * SR))
    assert np.sqrt(np.mean(held[late] ** 2)) > 3 * np.sqrt(np.mean(dry[late] ** 2))


def test_bad_sample_rate_refused():
    with pytest.raises(ValueError, match="sr must be a positive"):
        render_notes([(60, 0, 1, 90)], 0)


def test_sustained_offsets_hand_computed():
    from emolib.soundfont import sustained_offsets

    N, CC = pretty_midi.Note, pretty_midi.ControlChange
    notes = [N(80, 60, 0.0, 0.5),   # released under the pedal (0.2-2.0): sounds to 2.0
             N(80, 62, 0.0, 2.5),   # released after the pedal is up: its own end
             N(80, 64, 0.3, 0.6),   # under the pedal, but struck again at 1.0
             N(80, 64, 1.0, 1.2),   # under the pedal: to 2.0
             N(80, 67, 3.0, 3.5)]   # under the second pedal, never lifted
    ccs = [CC(64, 100, 0.2), CC(64, 0, 2.0), CC(64, 127, 3.1)]
    assert sustained_offsets(notes, ccs) == [2.0, 2.5, 1.0, 2.0, float("inf")]
    assert sustained_offsets(notes, []) == [0.5, 2.5, 0.6, 1.2, 3.5]


def test_pedal_never_lifted_renders_to_the_last_event():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes.append(pretty_midi.Note(90, 60, 0.0, 0.3))
    inst.control_changes.append(pretty_midi.ControlChange(64, 127, 0.0))
    pm.instruments.append(inst)
    y = render_midi(pm, SR, tail=0.5)
    assert len(y) == round(0.8 * SR)


def test_reused_soundfont_renders_like_a_freshly_parsed_one():
    """The parsed SoundFont is kept for the process; a render must not depend on what was
    rendered before (TinySoundFont's reset lets voices ring on: they are stopped first)."""
    import emolib.soundfont as sf

    def clip(program: int, pitches: list[int]) -> pretty_midi.PrettyMIDI:
        pm = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(program=program)
        inst.notes += [pretty_midi.Note(100, p, 0.1 * i, 0.1 * i + 0.6)
                       for i, p in enumerate(pitches)]
        pm.instruments.append(inst)
        return pm

    a, b = clip(48, [60, 64, 67, 72]), clip(19, [48, 55, 62])
    sf._loaded.cache_clear()
    fresh = render_midi(a, SR, tail=0.1)  # tail too short for the strings to ring out
    render_midi(b, SR, tail=0.0)  # leaves organ voices sounding
    again = render_midi(a, SR, tail=0.1)
    assert np.array_equal(fresh, again)
    sf._loaded.cache_clear()
    assert np.array_equal(render_midi(a, SR, tail=0.1), fresh)
