"""emolib.numba_cache: librosa's kernels are imported while the inter-process lock is held.

The race itself (two processes compiling on an empty cache, then segmentation faults) takes
minutes of compiling to show and is measured by ``benchmarks/bench_numba_cache.py``; here the
lock is checked from another process, with stand-in modules in place of librosa's.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from emolib import numba_cache

PROBE = """
import sys
from filelock import FileLock, Timeout
try:
    FileLock(sys.argv[1], timeout=0).acquire()
except Timeout:
    sys.exit(3)
"""


def _lock_is_held_elsewhere(path) -> bool:
    rc = subprocess.run([sys.executable, "-c", PROBE, str(path)], check=False).returncode
    assert rc in (0, 3), f"the lock probe failed (exit {rc})"
    return rc == 3


def _stand_in_modules(tmp_path, monkeypatch, n: int = 2) -> tuple[str, ...]:
    """Modules that, when imported, record whether another process could take the lock."""
    names = tuple(f"emolib_numba_probe_{i}" for i in range(n))
    for name in names:
        (tmp_path / f"{name}.py").write_text(
            "import sys\nfrom tests.test_numba_cache import _lock_is_held_elsewhere\n"
            "from emolib.numba_cache import lock_path\n"
            "HELD = _lock_is_held_elsewhere(lock_path())\n")
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(numba_cache, "EAGER_MODULES", names)
    return names


def test_lock_path_follows_the_numba_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    default = numba_cache.lock_path()
    assert default == numba_cache.lock_path()  # stable
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "a"))
    a = numba_cache.lock_path()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "b"))
    assert len({default, a, numba_cache.lock_path()}) == 3
    assert default.name.startswith("emolib-numba-") and default.suffix == ".lock"


def test_modules_are_imported_while_another_process_cannot_take_the_lock(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))  # a lock of this test only
    names = _stand_in_modules(tmp_path, monkeypatch)
    assert not _lock_is_held_elsewhere(numba_cache.lock_path())
    numba_cache.prime_librosa()
    assert [sys.modules[name].HELD for name in names] == [True, True]
    assert not _lock_is_held_elsewhere(numba_cache.lock_path())  # released afterwards


def test_second_call_returns_without_the_lock(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    _stand_in_modules(tmp_path, monkeypatch)
    numba_cache.prime_librosa()
    # another process holds the lock now: a primed process must not wait for it
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom filelock import FileLock\n"
                               "with FileLock(sys.argv[1]):\n    print('held', flush=True)\n"
                               "    time.sleep(30)\n", str(numba_cache.lock_path())],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        numba_cache.prime_librosa(timeout=0.2)  # raises TimeoutError if it took the lock
    finally:
        holder.kill()
        holder.wait()


def test_timeout_names_the_lock_file(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    _stand_in_modules(tmp_path, monkeypatch)
    from filelock import FileLock

    path = numba_cache.lock_path()
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom filelock import FileLock\n"
                               "with FileLock(sys.argv[1]):\n    print('held', flush=True)\n"
                               "    time.sleep(30)\n", str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TimeoutError, match=str(path)):
            numba_cache.prime_librosa(timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
    with FileLock(str(path), timeout=0):  # free again once the holder is gone
        pass


def test_the_library_imports_primed_librosa():
    import emolib.features  # noqa: F401  (primes at import)

    assert all(name in sys.modules for name in numba_cache.EAGER_MODULES)


def test_every_library_module_that_uses_librosa_primes_it():
    """A module of emolib that reaches into librosa calls prime_librosa (read from the source)."""
    import re
    from pathlib import Path

    root = Path(numba_cache.__file__).resolve().parent
    uses = re.compile(r"\blibrosa\.[a-z_]+|from librosa[.\w]* import")
    missing = [str(p.relative_to(root.parent)) for p in sorted(root.rglob("*.py"))
               if p.name != "numba_cache.py" and uses.search(p.read_text(encoding="utf-8"))
               and "prime_librosa()" not in p.read_text(encoding="utf-8")]
    assert not missing, f"modules using librosa without numba_cache.prime_librosa(): {missing}"


def test_beat_tracking_is_primed_if_used():
    """librosa.beat is left out of EAGER_MODULES only as long as no module of emolib uses it."""
    import re
    from pathlib import Path

    root = Path(numba_cache.__file__).resolve().parent
    beat = re.compile(r"librosa\.beat\b|beat_track|librosa\.beat import|from librosa import beat")
    users = [p.name for p in root.rglob("*.py")
             if p.name != "numba_cache.py" and beat.search(p.read_text(encoding="utf-8"))]
    assert not users or "librosa.beat" in numba_cache.EAGER_MODULES, users
