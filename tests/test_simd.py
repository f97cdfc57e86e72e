"""The SIMD pins (emolib.simd) reach the Makefile, conda, the Jupyter kernel and the guard."""
from __future__ import annotations

import os
import re
import shlex
import sys
import warnings
from pathlib import Path

import pytest

from emolib import simd

ROOT = Path(__file__).resolve().parent.parent


def _makefile() -> str:
    return (ROOT / "Makefile").read_text(encoding="utf-8")


def test_makefile_exports_every_pin():
    exports = dict(re.findall(r"^export (\w+) \?= (.+)$", _makefile(), flags=re.M))
    assert {k: exports.get(k) for k in simd.PINNED_ENV} == simd.PINNED_ENV


def test_makefile_installs_every_pin_into_the_kernel_spec():
    text = _makefile().replace("\\\n", " ")
    install = next(line for line in text.splitlines() if "ipykernel install" in line)
    words = shlex.split(install)
    env = {words[i + 1]: words[i + 2] for i, w in enumerate(words) if w == "--env"}
    assert env == simd.PINNED_ENV


def test_environment_yml_sets_every_pin():
    yml = (ROOT / "environment.yml").read_text(encoding="utf-8")
    block = yml.split("\nvariables:\n", 1)[1].split("\ndependencies:", 1)[0]
    got = dict(re.findall(r"^\s+(\w+): (.+)$", block, flags=re.M))
    assert got == simd.PINNED_ENV


def test_npy_names_are_known_to_this_numpy():
    """An unknown name in NPY_DISABLE_CPU_FEATURES disables nothing (NumPy only warns)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    for name in simd.PINNED_ENV["NPY_DISABLE_CPU_FEATURES"].split():
        assert name in __cpu_features__, f"NumPy does not know the CPU feature {name!r}"
    # every dispatch target above AVX2 is named (X86_V3 = AVX2 stays on)
    wide = [t for t in __cpu_dispatch__ if t not in ("X86_V2", "X86_V3")]
    assert set(wide) <= set(simd.PINNED_ENV["NPY_DISABLE_CPU_FEATURES"].split())


def test_guard_warns_naming_the_variable(monkeypatch):
    monkeypatch.setattr(simd.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(simd, "numpy_wide_simd", lambda: ["AVX512F", "X86_V4"])
    monkeypatch.setattr(simd, "torch_cpu_capability", lambda: "AVX2")
    monkeypatch.delenv("MKL_CBWR", raising=False)
    with pytest.warns(simd.SimdWarning, match="NPY_DISABLE_CPU_FEATURES") as rec:
        issues = simd.check_simd_pins()
    assert set(issues) >= {"NPY_DISABLE_CPU_FEATURES", "MKL_CBWR"}
    assert "X86_V4" in str(rec[0].message)
    assert 'NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"' in str(rec[0].message)


def test_guard_names_torch_at_avx512(monkeypatch):
    monkeypatch.setattr(simd.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(simd, "numpy_wide_simd", lambda: [])
    monkeypatch.setattr(simd, "torch_cpu_capability", lambda: "AVX512")
    with pytest.warns(simd.SimdWarning, match="ATEN_CPU_CAPABILITY"):
        simd.check_simd_pins()


def test_guard_is_silent_when_pinned(monkeypatch):
    monkeypatch.setattr(simd, "numpy_wide_simd", lambda: [])
    monkeypatch.setattr(simd, "torch_cpu_capability", lambda: "AVX2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert simd.check_simd_pins() == {}


def test_this_process_runs_pinned():
    """Under `make test` the variables are exported, so nothing here runs wider than AVX2."""
    if not all(os.environ.get(k) == v for k, v in simd.PINNED_ENV.items()):
        pytest.skip("SIMD variables not exported (run through `make test`)")
    assert simd.unpinned() == {}


def _kernel_spec():
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return None


def test_kernel_spec_carries_every_pin():
    spec = _kernel_spec()
    if spec is None or not spec.resource_dir.startswith(sys.prefix):
        pytest.skip("no python3 kernel spec installed in this environment (run `make setup`)")
    assert {k: spec.env.get(k) for k in simd.PINNED_ENV} == simd.PINNED_ENV


@pytest.mark.slow
def test_a_started_kernel_sees_the_pins():
    """A kernel started from an environment *without* the variables still gets them."""
    spec = _kernel_spec()
    if spec is None or not spec.resource_dir.startswith(sys.prefix):
        pytest.skip("no python3 kernel spec installed in this environment (run `make setup`)")
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k not in simd.PINNED_ENV}
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        code = ("import os, json; from emolib import simd; "
                "print(json.dumps({k: os.environ.get(k) for k in simd.PINNED_ENV}), "
                "simd.numpy_wide_simd())")
        out: list[str] = []
        kc.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(
            m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    import json

    text = "".join(out).strip()
    seen, wide = text.rsplit(" ", 1)
    assert json.loads(seen) == simd.PINNED_ENV
    assert wide == "[]"
