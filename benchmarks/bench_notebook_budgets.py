"""Benchmark: paper notebooks run alone with only the emotion world cached, against budgets.

Budgets (issues 5, 6 and 16): ``01_won2021`` <= 4 min, ``02_emoclim2024`` <= 4 min and
``03_chowdhury2023`` <= 3 min on
the 2-core CPU, default profile, with the world cached and nothing else (every stand-in
encoder is pre-trained, every feature computed). Run on demand, not by the test suite:

    python benchmarks/bench_notebook_budgets.py [--nb 02 03] [--world-from ~/.cache/emolib]

Each notebook gets a fresh temporary ``EMOLIB_CACHE`` holding only the world: copied from
``--world-from`` (a cache folder with a ``world/`` inside) when given, else built there
first (not timed). The notebook then runs through ``make reproduce NB=.. OUT=..`` (the
README command, with the Makefile's SIMD pins), its tables and figures sent to the
temporary folder, so the committed ones are not touched. The wall time includes kernel
start-up.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGETS_S = {"01": 240.0, "02": 240.0, "03": 180.0}


def world_only_cache(tmp: Path, world_from: Path | None, env: dict[str, str]) -> None:
    """Fill ``tmp`` with the default world (copied, or built untimed)."""
    if world_from is not None:
        src = world_from.expanduser() / "world"
        if not src.is_dir():
            raise SystemExit(f"--world-from {world_from}: no world/ folder inside")
        shutil.copytree(src, tmp / "world")
        return
    subprocess.run([sys.executable, "-c", "from emolib.data.world import make_world; "
                    "make_world(0, 'default', progress=False)"], env=env, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nb", nargs="+", default=sorted(BUDGETS_S))
    ap.add_argument("--world-from", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    for nb in args.nb:
        with tempfile.TemporaryDirectory(prefix=f"bench_nb{nb}_") as tmp_s:
            tmp = Path(tmp_s)
            env = {**os.environ, "EMOLIB_CACHE": str(tmp / "cache")}
            (tmp / "cache").mkdir()
            world_only_cache(tmp / "cache", args.world_from, env)
            t0 = time.perf_counter()
            proc = subprocess.run(["make", "--no-print-directory", "reproduce", f"NB={nb}",
                                   f"OUT={tmp / 'out'}"], env=env, cwd=ROOT)
            wall = time.perf_counter() - t0
            budget = BUDGETS_S.get(nb)
            verdict = "failed" if proc.returncode else (
                "no budget" if budget is None else ("within" if wall <= budget else "OVER"))
            rows.append((nb, wall, budget, verdict))
    print("\nnotebook  wall (s)  budget (s)  verdict")
    for nb, wall, budget, verdict in rows:
        print(f"{nb:8s}  {wall:8.1f}  {budget or float('nan'):10.0f}  {verdict}")


if __name__ == "__main__":
    main()
