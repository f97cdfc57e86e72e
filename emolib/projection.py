"""2-D projections for figures: a seeded UMAP whose numba kernels are cached on disk.

umap-learn and pynndescent compile most of their numba kernels without ``cache=True``, so
every fresh process spends about 20 s (2 cores) compiling them before its first
``fit`` / ``transform`` — in every executed notebook that draws a UMAP figure, and again
in the test runs. :func:`enable_umap_cache` switches numba's on-disk cache on for those
kernels (``Dispatcher.enable_caching``; numba keys each entry by the function's source,
argument types and the CPU, so a changed library or another CPU recompiles), before any of
them has run in the process; ``scripts/warmup.py`` fills the cache once after install.
The compiled code is the same with and without the cache: only the compile is skipped.

Notebook: 01_won2021 (Fig. 3).
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

__all__ = ["UMAP_MODULES", "enable_umap_cache", "umap_reducer"]

log = logging.getLogger(__name__)

#: The modules whose numba kernels a UMAP fit / transform on dense data runs.
UMAP_MODULES: tuple[str, ...] = (
    "umap.umap_", "umap.layouts", "umap.distances", "umap.sparse", "umap.utils", "umap.spectral",
    "pynndescent.pynndescent_", "pynndescent.distances", "pynndescent.utils",
    "pynndescent.rp_trees", "pynndescent.sparse", "pynndescent.sparse_nndescent",
    "pynndescent.graph_utils")

_ENABLED: list[int] = []


def enable_umap_cache() -> int:
    """Turn numba's on-disk cache on for every kernel of :data:`UMAP_MODULES`; return how
    many kernels were switched (0 when already done in this process)."""
    if _ENABLED:
        return 0
    from numba.core.registry import CPUDispatcher

    n = 0
    for name in UMAP_MODULES:
        for obj in vars(importlib.import_module(name)).values():
            if isinstance(obj, CPUDispatcher):
                obj.enable_caching()
                n += 1
    _ENABLED.append(n)
    log.debug("numba disk cache enabled for %d umap/pynndescent kernels", n)
    return n


def umap_reducer(*, seed: int, n_neighbors: int = 15, min_dist: float = 0.3,
                 metric: str = "cosine") -> Any:
    """A seeded ``umap.UMAP`` (one job, as a seeded UMAP must run) with the kernel cache on.

    Notebook: 01_won2021 (Fig. 3: fitted on the music, texts and tags projected into it).
    """
    enable_umap_cache()
    import umap

    return umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric, n_jobs=1,
                     random_state=seed)
