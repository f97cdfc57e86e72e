"""Same numbers on any x86-64 machine: the SIMD code paths the compendium pins.

Machines of the same kind differ in their CPUs: some have AVX-512, some only AVX2. Several
libraries pick their vector code at run time, and their AVX-512 loops round some float
operations differently in the last bits (NumPy's float32 ``log10``/``log2``/``log1p``/
``expm1``/``power`` and float64 ``log``/``exp``; oneDNN's and MKL's kernels). A model
trained on features that differ in the last bit ends with visibly different weights, so
the tables of notebooks 03 and 04 would depend on the CPU CI lands on.

:data:`PINNED_ENV` lists the environment variables that pin every such path to AVX2, the
reference machine's instruction set. They must be set *before* the libraries are imported
(NumPy reads ``NPY_DISABLE_CPU_FEATURES`` once, at import), which is why the Makefile
exports them and installs them into the Jupyter kernel spec; setting them inside a running
notebook is too late. :func:`check_simd_pins` tells whether the running process honours
them and warns, naming the variable, when it does not. The names in
``NPY_DISABLE_CPU_FEATURES`` are NumPy-version specific (NumPy 2.4 here): an unknown name
only prints a warning and disables nothing, which the check catches.

Notebooks: all (through :func:`emolib.seed.set_num_threads`); ``scripts/warmup.py``.
"""
from __future__ import annotations

import os
import platform
import warnings

__all__ = ["PINNED_ENV", "SimdWarning", "numpy_wide_simd", "torch_cpu_capability",
           "unpinned", "check_simd_pins"]

#: Environment variable -> value that pins each library's SIMD dispatch to AVX2.
#: Kept identical to the Makefile's exports and the kernel spec (tests/test_simd.py).
PINNED_ENV: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own (ATen) kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN convolutions / matmuls
    "MKL_CBWR": "AVX2",  # MKL's conditional numerical reproducibility
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS kernels of NumPy and SciPy
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # NumPy's own ufunc loops
}

#: NumPy dispatch targets above AVX2 (X86_V3) that must be off.
_NUMPY_WIDE = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512_SKX", "AVX512F")


class SimdWarning(RuntimeWarning):
    """The process runs SIMD code paths other than the reference machine's (AVX2)."""


def numpy_wide_simd() -> list[str]:
    """NumPy's enabled CPU features above AVX2 (e.g. ``["AVX512F", "X86_V4"]``), or ``[]``.

    Empty on a machine without AVX-512 and on one where ``NPY_DISABLE_CPU_FEATURES`` took
    effect.
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - NumPy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return sorted(name for name in _NUMPY_WIDE if features.get(name, False))


def torch_cpu_capability() -> str | None:
    """PyTorch's ATen CPU capability (``"AVX2"``, ``"AVX512"``, ...), or ``None`` if unknown."""
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability())
    except (ImportError, AttributeError):  # pragma: no cover - very old torch
        return None


def unpinned() -> dict[str, str]:
    """What runs unpinned in this process: ``{variable: what was seen}``, empty if all is well.

    A variable is reported when the library it pins is running a path wider than AVX2
    (NumPy with AVX-512 loops enabled, ATen at AVX512), whatever the variable's value —
    an unknown feature name in ``NPY_DISABLE_CPU_FEATURES`` is caught this way. oneDNN,
    MKL and OpenBLAS cannot be queried cheaply; their variables are reported when unset
    on a machine where NumPy sees AVX-512.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return {}
    issues: dict[str, str] = {}
    wide = numpy_wide_simd()
    if wide:
        issues["NPY_DISABLE_CPU_FEATURES"] = (
            f"NumPy runs with {', '.join(wide)} enabled "
            f"(NPY_DISABLE_CPU_FEATURES={os.environ.get('NPY_DISABLE_CPU_FEATURES')!r})")
    cap = torch_cpu_capability()
    if cap is not None and cap.upper().startswith("AVX512"):
        issues["ATEN_CPU_CAPABILITY"] = f"PyTorch's ATen runs at {cap}"
    if wide or (cap or "").upper().startswith("AVX512"):
        for var in ("ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "OPENBLAS_CORETYPE"):
            if os.environ.get(var) != PINNED_ENV[var]:
                issues[var] = f"{var} is {os.environ.get(var)!r} on a CPU with AVX-512"
    return issues


def check_simd_pins(warn: bool = True) -> dict[str, str]:
    """Warn (:class:`SimdWarning`) naming each variable that is not in effect; return them.

    The warning says how to fix it: start the process through ``make`` (which exports
    :data:`PINNED_ENV`) or export the variables before Python starts. Results are then
    still valid, but may differ from the committed tables within the stated tolerance.
    """
    issues = unpinned()
    if issues and warn:
        fix = " ".join(f'{k}="{PINNED_ENV[k]}"' for k in issues)
        warnings.warn(
            "SIMD code paths are not pinned to AVX2, so trained numbers may differ from the "
            f"committed tables in the last digits: {'; '.join(issues.values())}. Set {fix} "
            "before Python starts (the Makefile and the installed 'Python 3 (emolib)' kernel "
            "do this).", SimdWarning, stacklevel=2)
    return issues
