"""Two processes filling librosa's numba cache at once: broken caches with and without the lock.

Each trial starts from an empty ``NUMBA_CACHE_DIR`` (librosa's own ``__pycache__`` is not
touched), starts two processes at the same moment that import librosa's eagerly compiled
modules, then a third process that loads the cache and picks peaks on a short curve. A
trial counts as *broken* when that third process (or one of the two) dies with a signal
(a segmentation fault: numba issue #10128). Mode ``bare`` imports the modules directly;
mode ``locked`` goes through :func:`emolib.numba_cache.prime_librosa`.

    python benchmarks/bench_numba_cache.py --trials 3

About 40-70 s per trial on 2 cores (the cold compile, twice).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT = {
    "bare": "import importlib\nfrom emolib.numba_cache import EAGER_MODULES\n"
            "for m in EAGER_MODULES: importlib.import_module(m)\n",
    "locked": "from emolib.numba_cache import prime_librosa\nprime_librosa()\n",
}
WAIT = "import sys, time\nt = float(sys.argv[1])\nwhile time.time() < t: time.sleep(0.005)\n"
CHECK = ("import numpy as np, librosa\n"
         "x = np.random.default_rng(0).random(2000).astype(np.float32)\n"
         "librosa.util.peak_pick(x, pre_max=3, post_max=3, pre_avg=3, post_avg=3, delta=0.1,"
         " wait=5)\nlibrosa.util.localmax(x)\nlibrosa.zero_crossings(x - 0.5)\n")


def trial(mode: str, root: Path) -> tuple[bool, float, list[int]]:
    """One trial: (broken, seconds, exit codes of the two writers and the checker)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(root)}
    start = time.time() + 8.0  # both writers past their imports before the common start
    t0 = time.perf_counter()
    writers = [subprocess.Popen([sys.executable, "-c", WAIT + IMPORT[mode], str(start)], env=env)
               for _ in range(2)]
    codes = [w.wait() for w in writers]
    codes.append(subprocess.run([sys.executable, "-c", CHECK], env=env, check=False).returncode)
    return any(c < 0 for c in codes), time.perf_counter() - t0, codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--modes", nargs="+", default=["bare", "locked"], choices=list(IMPORT))
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}")
    for mode in args.modes:
        broken = 0
        for i in range(args.trials):
            with tempfile.TemporaryDirectory(prefix="emolib-numba-bench-") as d:
                bad, secs, codes = trial(mode, Path(d))
            broken += bad
            print(f"{mode:7s} trial {i + 1}: {'BROKEN' if bad else 'ok':6s} {secs:5.1f} s  "
                  f"exit codes {codes}", flush=True)
        print(f"{mode}: {broken} of {args.trials} trials left a broken cache")


if __name__ == "__main__":
    main()
