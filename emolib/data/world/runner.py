"""The world's one job runner: a function over a list of items, results in order.

Every builder that renders files item by item (music, piano, paired, performances,
mid-level clips) goes through :func:`run_items`. Workers are *forked* copies of the
calling process (where the platform can fork), so they run with exactly the caller's
imported modules, NumPy / BLAS dispatch and environment: ``n_jobs`` changes the speed,
never a byte. Where fork is unavailable the platform's default start method is used.

Notebooks: all (through ``make_world``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["run_items"]


def run_items(fn: Callable[[Any], Any], items: list, n_jobs: int, progress: bool,
              desc: str) -> list:
    """Apply ``fn`` to every item (a picklable module-level function), results in order.

    Bind further arguments with :func:`functools.partial`; ``n_jobs == 1`` (or fewer than
    two items) runs in the calling process.
    """
    from emolib.progress import tqdm

    if n_jobs == 1 or len(items) < 2:
        return [fn(it) for it in tqdm(items, desc=desc, disable=not progress)]
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(min(n_jobs, len(items))) as pool:
        return list(tqdm(pool.imap(fn, items, chunksize=max(1, len(items) // (8 * n_jobs))),
                         total=len(items), desc=desc, disable=not progress))
