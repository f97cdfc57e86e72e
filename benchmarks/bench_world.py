"""Benchmark: cold and cached ``make_world`` per profile, per-role build times, disk size,
items per role and split.

Budgets: quick <= 30 s cold (issue 3); default <= 2 min cold on 2 cores (issue 15; 3 min
in issue 3), <= 2 s cached, <= 1 GB on disk. Run on demand (not part of the test suite):

    python benchmarks/bench_world.py --profiles quick default [--n-jobs 2] [--learnability]

Each profile is built into a fresh temporary cache (EMOLIB_CACHE is not touched).
"""
from __future__ import annotations

import argparse
import logging
import re
import tempfile
import time
from pathlib import Path


class _RoleTimer(logging.Handler):
    """Collects the "<role> done in X s" log lines of emolib.data.world.core."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.times: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        m = re.search(r": (\w+) done in ([\d.]+) s", record.getMessage())
        if m:
            self.times[m.group(1)] = float(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", nargs="+", default=["quick", "default"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=None)
    ap.add_argument("--learnability", action="store_true", help="also time the learnability table")
    args = ap.parse_args()

    from emolib.data.world import make_world

    log = logging.getLogger("emolib.data.world.core")
    log.setLevel(logging.INFO)
    for profile in args.profiles:
        timer = _RoleTimer()
        log.addHandler(timer)
        with tempfile.TemporaryDirectory(prefix="bench_world_") as tmp:
            t0 = time.perf_counter()
            w = make_world(args.seed, profile, cache_dir=tmp, n_jobs=args.n_jobs, progress=False)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            make_world(args.seed, profile, cache_dir=tmp, n_jobs=args.n_jobs, progress=False)
            cached = time.perf_counter() - t0
            disk = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
            print(f"[{profile}] cold {cold:.1f} s | cached {cached:.2f} s | "
                  f"disk {disk / 1e6:.1f} MB | {w.manifest['n_files']} files")
            print("   per role (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timer.times.items()))
            print("   items per split: " + "; ".join(
                f"{r.table} {r.rows} ({r.train}/{r.val}/{r.test})" if r.train + r.val + r.test
                else f"{r.table} {r.rows}" for r in w.summary().itertuples()))
            if args.learnability:
                from emolib.data.world.learnability import learnability_table

                t0 = time.perf_counter()
                table = learnability_table(w, seed=args.seed, n_jobs=args.n_jobs, progress=False)
                print(f"   learnability table in {time.perf_counter() - t0:.1f} s")
                print(table.to_string(index=False))
        log.removeHandler(timer)


if __name__ == "__main__":
    main()
