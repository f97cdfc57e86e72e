"""emolib.projection: numba's disk cache switched on for UMAP's kernels, same projection."""
from __future__ import annotations

import importlib

import numpy as np
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

from emolib import projection


def _kernels():
    for name in projection.UMAP_MODULES:
        for obj in vars(importlib.import_module(name)).values():
            if isinstance(obj, CPUDispatcher):
                yield obj


def test_every_umap_kernel_caches_on_disk():
    projection.enable_umap_cache()
    kernels = list(_kernels())
    assert len(kernels) > 100  # the layout optimiser, fuzzy simplicial set, NN-descent, ...
    assert not [k.__name__ for k in kernels if isinstance(k._cache, NullCache)]
    assert projection.enable_umap_cache() == 0  # once per process


def test_seeded_reducer_repeats_and_projects_new_points():
    x = np.random.default_rng(1).standard_normal((60, 6)).astype(np.float32)
    a = projection.umap_reducer(seed=3, n_neighbors=5).fit(x[:50])
    b = projection.umap_reducer(seed=3, n_neighbors=5).fit(x[:50])
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert a.embedding_.shape == (50, 2) and a.n_jobs == 1 and a.metric == "cosine"
    np.testing.assert_array_equal(a.transform(x[50:]), b.transform(x[50:]))
