"""The transkun 2.0 backend (emolib.encoders.transkun_backend) with the real pretrained model.

transkun needs ~1.2-1.5 s of CPU per second of *window*, and with the conf's 16 s / 8 s an
L-second clip costs ceil(L / 8) + 2 windows of 16 s (three even for a 2-s clip: ~1 min).
So the file runs one inference (module-scoped) with ``hop_seconds = segment_seconds = 16``:
a single 16-s window, the length the model was trained on (shorter windows miss most
notes of this clip). Without the conf's lead padding (segment - hop = 0) a note at 0 s
would have its onset on the first frame, where transkun cannot confirm it, so the clip
starts after LEAD seconds of silence.
"""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("transkun")
pytest.importorskip("moduleconf")

import audio_fixtures as af  # noqa: E402

from emolib.encoders import transkun_backend as tb  # noqa: E402
from emolib.encoders.symbolic import Note  # noqa: E402
from emolib.encoders.transcription import get_backend, note_scores  # noqa: E402

LEAD = 0.25  # seconds of silence before the scale
SCALE = {"start": 60, "n": 8, "step": 0.3}


@pytest.fixture(scope="module")
def backend() -> tb.TranskunBackend:
    return tb.TranskunBackend(segment_seconds=16, hop_seconds=16)


@pytest.fixture(scope="module")
def scale_result(backend) -> tuple[list[Note], list[Note]]:
    """(reference notes, transkun's notes) of a rendered C-major scale, 16 kHz."""
    y = np.concatenate([np.zeros(int(LEAD * af.SR), np.float32), af.scale(**SCALE)])
    ref = [Note(p, a + LEAD, b + LEAD, v) for p, a, b, v in af.scale_notes(**SCALE)]
    return ref, backend.transcribe(y, af.SR)


@pytest.mark.slow
def test_scale_onset_f1(scale_result):
    ref, est = scale_result
    scores = note_scores(ref, est)  # mir_eval, onset within 50 ms
    assert scores["f1"] >= 0.9, (scores, est)
    assert all(isinstance(n, Note) and 1 <= n.velocity <= 127 and n.offset > n.onset
               for n in est)
    assert est == sorted(est, key=lambda n: (n.onset, n.pitch))
    assert {n.pitch for n in est} <= {n.pitch for n in ref} | {n.pitch + 12 for n in ref}


def test_model_is_loaded_once_in_eval_mode(backend):
    assert tb.load_transkun() is backend.model  # cached per (checkpoint, conf, device)
    assert not backend.model.training
    assert not any(p.requires_grad for p in backend.model.parameters())
    assert backend.sr == 44100
    n_params = sum(p.numel() for p in backend.model.parameters())
    assert 13.5e6 < n_params < 13.7e6


def test_stub_does_not_outlive_the_model_build(backend):
    if importlib.util.find_spec("torchaudio") is not None:
        pytest.skip("a real torchaudio is installed")
    assert "torchaudio" not in sys.modules


def test_get_backend(backend):
    b = get_backend("transkun")
    assert isinstance(b, tb.TranskunBackend)
    assert b.model is backend.model
    assert (b.segment_seconds, b.hop_seconds) == (16.0, 8.0)  # the conf's


# ------------------------------------------------------------------ strict loading
def test_strict_check_names_missing_and_extra_keys(backend):
    model = backend.model
    state = dict(model.state_dict())
    tb.check_state_dict(model, state)  # the real one matches exactly
    gone = "velocityPredictor.0.weight"
    missing = {k: v for k, v in state.items() if k != gone}
    with pytest.raises(ValueError, match=rf"missing keys \['{gone}'\], unexpected keys \[\]"):
        tb.check_state_dict(model, missing)
    extra = {**state, "bogus.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"missing keys \[\], unexpected keys \['bogus.weight'\]"):
        tb.check_state_dict(model, extra)


def test_loader_refuses_a_checkpoint_with_a_missing_key(backend, tmp_path):
    state = {k: v for k, v in backend.model.state_dict().items()
             if k != "scorer.map.0.bias"}
    path = tmp_path / "broken.pt"
    torch.save({"state_dict": state}, path)
    with pytest.raises(ValueError, match="scorer.map.0.bias"):
        tb.load_transkun(checkpoint=path)
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        tb.load_transkun(checkpoint=tmp_path / "absent.pt")


# ------------------------------------------------------------------ events, bad input
def test_pedals_are_returned_separately(backend, monkeypatch):
    from transkun.Data import Note as TkNote

    fake = [TkNote(0.5, 0.9, 64, 0), TkNote(0.1, 2.0, -64, 127), TkNote(0.2, 0.6, 60, 70),
            TkNote(0.3, 0.4, -67, 127)]
    monkeypatch.setattr(backend.model, "transcribe", lambda *a, **k: list(fake))
    notes, pedals = backend.transcribe_events(np.zeros(1600, np.float32), 16000)
    assert notes == [Note(60, 0.2, 0.6, 70), Note(64, 0.5, 0.9, 1)]  # velocity 0 -> 1
    assert pedals == [tb.PedalEvent(64, 0.1, 2.0), tb.PedalEvent(67, 0.3, 0.4)]
    assert backend.transcribe(np.zeros(1600, np.float32), 16000) == notes


@pytest.mark.parametrize("audio,sr,match", [
    (np.zeros((2, 1600), np.float32), 16000, "1-D"),
    (np.zeros(0, np.float32), 16000, "empty"),
    (np.array([0.0, np.nan, 0.0]), 16000, "NaN"),
    (np.array([0.0, np.inf]), 16000, "NaN or infinite"),
    (np.zeros(4, np.complex64), 16000, "real-valued"),
    (np.zeros(1600, np.float32), 0, "sr"),
    (np.zeros(1600, np.float32), -16000, "sr"),
    (np.zeros(1600, np.float32), 16000.5, "sr"),
    (np.zeros(1600, np.float32), True, "sr"),
])
def test_bad_input_fails_before_the_model_runs(backend, monkeypatch, audio, sr, match):
    def boom(*args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(backend.model, "transcribe", boom)
    with pytest.raises(ValueError, match=match):
        backend.transcribe(audio, sr)


@pytest.mark.parametrize("segment,hop", [(8, 16), (16, 0), (16, -1), (float("nan"), 8), (16, True)])
def test_bad_window_raises(backend, segment, hop):
    with pytest.raises(ValueError, match="hop_seconds"):
        tb.TranskunBackend(segment_seconds=segment, hop_seconds=hop)


def test_missing_package_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transkun" else real(name, *a))
    with pytest.raises(ImportError, match="pip install --no-deps transkun==2.0.1 "
                                          "moduleconf==0.1.4"):
        tb.TranskunBackend()
