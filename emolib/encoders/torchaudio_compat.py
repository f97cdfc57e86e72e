"""The one torchaudio function that transkun needs, for environments without torchaudio.

Why: transkun (:mod:`emolib.encoders.transkun_backend`) builds its mel front end with
``torchaudio.functional.melscale_fbanks`` (``transkun/Util.py``, ``MelSpectrum``) and uses
nothing else from torchaudio. torchaudio wheels are pinned to one torch release each and
none matches torch 2.13, so torchaudio is not installed here. :func:`melscale_fbanks`
re-implements that function with torchaudio's definition (``torchaudio/functional/
functional.py``: ``_hz_to_mel``, ``_mel_to_hz``, ``_create_triangular_filterbank``,
``melscale_fbanks``), operation for operation in the default float32, so the filter bank is
the one torchaudio computes. (The transkun checkpoint stores the bank it was trained with as
the buffer ``framewiseFeatureExtractor.freq2mels`` and the strict load overwrites ours with
it; ``tests/test_torchaudio_compat.py`` checks that both agree.)

:func:`install_torchaudio_stub` puts a minimal stand-in module ``torchaudio`` (with only
``torchaudio.functional.melscale_fbanks``) into :data:`sys.modules` *if and only if* the
real torchaudio cannot be imported; a real torchaudio is never shadowed. The stand-in is
marked ``__emolib_stub__ = True``. Only the transkun loader uses it, through the context
manager :func:`torchaudio_stub`, which removes the stand-in again once transkun's model is
built (transkun imports torchaudio only then): other libraries probe for torchaudio
(``importlib.util.find_spec``) and must not mistake the stand-in for the real package.

Notebook: 04_zhu2023 (through the transkun backend).
"""
from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import logging
import math
import numbers
import sys
import types
import warnings
from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = ["melscale_fbanks", "hz_to_mel", "mel_to_hz", "install_torchaudio_stub",
           "uninstall_torchaudio_stub", "torchaudio_stub", "is_stub"]

log = logging.getLogger(__name__)

_MEL_SCALES = ("htk", "slaney")
# Slaney (Auditory Toolbox) mel scale: linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # = 15
_LOGSTEP = math.log(6.4) / 27.0


def _check_scale(mel_scale: str) -> None:
    if mel_scale not in _MEL_SCALES:
        raise ValueError(f'mel_scale should be one of "htk" or "slaney", got {mel_scale!r}')


def hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    """Hz -> mel (torchaudio's ``_hz_to_mel``): HTK ``2595 log10(1 + f / 700)``, or Slaney
    ``f / (200/3)`` below 1 kHz and ``15 + ln(f / 1000) / (ln 6.4 / 27)`` above."""
    _check_scale(mel_scale)
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + (freq / 700.0))
    mels = freq / _F_SP
    if freq >= _MIN_LOG_HZ:
        mels = _MIN_LOG_MEL + math.log(freq / _MIN_LOG_HZ) / _LOGSTEP
    return mels


def mel_to_hz(mels: Tensor, mel_scale: str = "htk") -> Tensor:
    """Mel -> Hz, elementwise on a tensor (torchaudio's ``_mel_to_hz``)."""
    _check_scale(mel_scale)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    freqs = _F_SP * mels
    log_t = mels >= _MIN_LOG_MEL
    freqs[log_t] = _MIN_LOG_HZ * torch.exp(_LOGSTEP * (mels[log_t] - _MIN_LOG_MEL))
    return freqs


def _triangular_filterbank(all_freqs: Tensor, f_pts: Tensor) -> Tensor:
    """``(n_freqs, n_filter)`` triangles with corners ``f_pts[i], f_pts[i+1], f_pts[i+2]``
    (torchaudio's ``_create_triangular_filterbank``, adopted there from librosa)."""
    f_diff = f_pts[1:] - f_pts[:-1]                           # (n_filter + 1)
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)      # (n_freqs, n_filter + 2)
    zero = torch.zeros(1)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]      # (n_freqs, n_filter)
    up_slopes = slopes[:, 2:] / f_diff[1:]                    # (n_freqs, n_filter)
    return torch.max(zero, torch.min(down_slopes, up_slopes))


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk") -> Tensor:
    """Triangular mel filter bank ``(n_freqs, n_mels)``, torchaudio's definition exactly.

    ``all_freqs = linspace(0, sample_rate // 2, n_freqs)``; ``n_mels + 2`` points equally
    spaced on the mel scale (``mel_scale`` "htk" or "slaney") from ``f_min`` to ``f_max``,
    back in Hz, are the corners of the triangles; each weight is
    ``max(0, min(rising, falling))``. ``norm="slaney"`` divides each triangle by its width
    in Hz / 2 (``2 / (f_pts[2:] - f_pts[:-2])``, constant area). Like torchaudio it warns
    when a filter is all zero (``n_mels`` too high for ``n_freqs``).

    Apply as ``spec(..., n_freqs) @ fb``. Raises ``ValueError`` for a ``norm`` other than
    None / "slaney", an unknown ``mel_scale``, non-positive ``n_freqs`` / ``n_mels`` /
    ``sample_rate``, or frequencies that are not finite with ``0 <= f_min < f_max``
    (torchaudio does not check the last three; it accepts nothing here that they exclude
    but nonsense).
    """
    if norm is not None and norm != "slaney":
        raise ValueError(f'norm must be one of None or "slaney", got {norm!r}')
    _check_scale(mel_scale)
    n_freqs, n_mels = _positive_int("n_freqs", n_freqs), _positive_int("n_mels", n_mels)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) \
            or not math.isfinite(sample_rate) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive number, got {sample_rate!r}")
    for name, f in (("f_min", f_min), ("f_max", f_max)):
        if isinstance(f, bool) or not isinstance(f, numbers.Real) or not math.isfinite(f):
            raise ValueError(f"{name} must be a finite number, got {f!r}")
    if not 0 <= f_min < f_max:
        raise ValueError(f"need 0 <= f_min < f_max, got f_min={f_min!r}, f_max={f_max!r}")

    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_min = hz_to_mel(f_min, mel_scale=mel_scale)
    m_max = hz_to_mel(f_max, mel_scale=mel_scale)
    m_pts = torch.linspace(m_min, m_max, n_mels + 2)
    f_pts = mel_to_hz(m_pts, mel_scale=mel_scale)
    fb = _triangular_filterbank(all_freqs, f_pts)
    if norm == "slaney":
        enorm = 2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels])
        fb *= enorm.unsqueeze(0)
    if (fb.max(dim=0).values == 0.0).any():
        warnings.warn("At least one mel filterbank has all zero values. "
                      f"The value for `n_mels` ({n_mels}) may be set too high. "
                      f"Or, the value for `n_freqs` ({n_freqs}) may be set too low.",
                      stacklevel=2)
    return fb


def is_stub(module: object) -> bool:
    """Whether ``module`` is the stand-in of :func:`install_torchaudio_stub`."""
    return bool(getattr(module, "__emolib_stub__", False))


def install_torchaudio_stub() -> bool:
    """Make ``import torchaudio; torchaudio.functional.melscale_fbanks`` work for transkun.

    If a real torchaudio is importable (or already imported), nothing changes and False is
    returned. Otherwise a stand-in package ``torchaudio`` whose only content is
    ``torchaudio.functional.melscale_fbanks`` (this module's function) is registered in
    :data:`sys.modules` and True is returned; other attributes raise ``AttributeError`` as
    usual. Idempotent (True again while the stand-in is registered). Prefer
    :func:`torchaudio_stub`, which removes the stand-in again.
    """
    present = sys.modules.get("torchaudio")
    if present is not None:
        return is_stub(present)
    try:
        real = importlib.util.find_spec("torchaudio") is not None
    except (ImportError, ValueError):
        real = False
    if real:
        try:
            import torchaudio  # noqa: F401  (a real install that imports: use it)

            return False
        except Exception as err:  # a broken install (e.g. built for another torch)
            log.warning("torchaudio is installed but does not import (%s); using emolib's "
                        "melscale_fbanks stand-in", err)
            for name in [m for m in sys.modules
                         if m == "torchaudio" or m.startswith("torchaudio.")]:
                del sys.modules[name]
    pkg = types.ModuleType("torchaudio", "emolib stand-in for torchaudio (melscale_fbanks "
                           "only); see emolib.encoders.torchaudio_compat")
    functional = types.ModuleType("torchaudio.functional",
                                  "emolib stand-in: melscale_fbanks only")
    functional.melscale_fbanks = melscale_fbanks  # type: ignore[attr-defined]
    pkg.functional = functional  # type: ignore[attr-defined]
    pkg.__path__ = []  # a package, so "import torchaudio.functional" resolves via sys.modules
    # a spec, so that importlib.util.find_spec("torchaudio") does not raise while registered
    pkg.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None, is_package=True)
    functional.__spec__ = importlib.machinery.ModuleSpec("torchaudio.functional", None)
    for m in (pkg, functional):
        m.__emolib_stub__ = True  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = pkg
    sys.modules["torchaudio.functional"] = functional
    log.info("torchaudio not installed: registered emolib's melscale_fbanks stand-in")
    return True


def uninstall_torchaudio_stub() -> bool:
    """Remove the stand-in of :func:`install_torchaudio_stub` from :data:`sys.modules`
    (True if it was there). A real torchaudio is never touched."""
    removed = False
    for name in ("torchaudio.functional", "torchaudio"):
        if is_stub(sys.modules.get(name)):
            del sys.modules[name]
            removed = True
    return removed


@contextlib.contextmanager
def torchaudio_stub() -> Iterator[bool]:
    """``with torchaudio_stub():`` — the stand-in is registered inside the block only (if no
    real torchaudio is importable; yields whether it is). transkun imports torchaudio only
    while it builds its model (``MelSpectrum.__init__``), so the transkun loader builds the
    model inside this block, and other libraries never see a fake torchaudio afterwards
    (they probe for it with ``importlib.util.find_spec`` and would then try to use it)."""
    installed_here = sys.modules.get("torchaudio") is None and install_torchaudio_stub()
    try:
        yield installed_here or is_stub(sys.modules.get("torchaudio"))
    finally:
        if installed_here:
            uninstall_torchaudio_stub()
