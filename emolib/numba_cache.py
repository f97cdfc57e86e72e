"""numba's compile cache for librosa, safe when several processes start at once.

librosa compiles its generalised ufuncs (peak picking, local maxima and minima, zero
crossings, parabolic interpolation, the beat tracker's kernels) with ``cache=True`` as soon
as ``librosa.util``, ``librosa.core`` or ``librosa.beat`` is first imported: about 35 s on
an empty cache here, then about 3 s to load them from it. numba stores each of these
functions in two files (the kernel and its ufunc wrapper). Two processes that compile them
at the same time can leave the two halves from different processes, whose ABI tags do not
match (numba issue #10128, open in numba 0.68); from then on *every* process that loads the
cache crashes with a segmentation fault at its first peak picking, until the cache is
deleted. Measured on this machine kind: two processes importing ``librosa.util`` together
on an empty cache left it broken in 2 of 4 trials, 0 of 4 through the lock below
(``benchmarks/bench_numba_cache.py``, RESULTS.md).
It happens in practice: ``make test`` runs two processes side by side on a fresh install,
and the emotion world's builder starts worker processes.

:func:`prime_librosa` imports those modules while holding an inter-process file lock
(``filelock``): one process compiles and writes the cache, the others wait for it and then
load the complete cache. Every emolib module that uses librosa calls it before its first
use of librosa (an import of ``emolib.features`` is enough); later calls return at once.

Plain ``@njit`` functions (UMAP's, librosa's lazily compiled ones) keep one file per
compiled signature and are not affected by this issue; ``scripts/warmup.py`` fills their
cache once after set-up.

Notebooks: all (through :mod:`emolib.features` and the audio encoders); ``scripts/warmup.py``.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["EAGER_MODULES", "lock_path", "prime_librosa"]

log = logging.getLogger(__name__)

#: librosa's modules whose import compiles cached generalised ufuncs (librosa 0.11) and that
#: emolib imports. ``librosa.beat`` compiles some too, but nothing in emolib imports it (and
#: loading it costs 3.6 s per process): a module that starts using beat tracking must add it
#: here (``tests/test_numba_cache.py`` checks).
EAGER_MODULES: tuple[str, ...] = ("librosa.util.utils", "librosa.core.audio",
                                  "librosa.core.pitch")


def lock_path() -> Path:
    """The lock file shared by every process that uses the same numba cache.

    numba writes librosa's cache beside librosa's sources (``__pycache__``) unless
    ``NUMBA_CACHE_DIR`` is set, so the lock is named after both: processes of one virtual
    environment share it, other environments or cache folders do not wait for it.
    """
    import importlib.util

    spec = importlib.util.find_spec("librosa")
    where = str(spec.origin if spec is not None else "librosa")
    key = f"{where}|{os.environ.get('NUMBA_CACHE_DIR', '')}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"emolib-numba-{digest}.lock"


def prime_librosa(timeout: float = 900.0) -> None:
    """Import librosa's eagerly compiled modules under the cache lock (once per process).

    Waits at most ``timeout`` seconds for another process that is compiling (a cold
    compile takes about 35 s on 2 cores), then raises ``TimeoutError`` naming the lock
    file. Notebooks: all, through the modules that use librosa.
    """
    if all(name in sys.modules for name in EAGER_MODULES):
        return
    from filelock import FileLock, Timeout

    path = lock_path()
    t0 = time.perf_counter()
    try:
        with FileLock(str(path), timeout=timeout):
            waited = time.perf_counter() - t0
            for name in EAGER_MODULES:
                importlib.import_module(name)
    except Timeout:
        raise TimeoutError(f"waited {timeout:g} s for the numba cache lock {path}: another "
                           "process is still compiling librosa's kernels (about 35 s on 2 "
                           "cores) or is stuck; the lock is released when it exits") from None
    log.debug("librosa's numba kernels ready in %.1f s (%.1f s waiting for %s)",
              time.perf_counter() - t0, waited, path)
