"""Compile numba caches once after install (librosa, umap), so notebooks start fast.

librosa's kernels are compiled under emolib's inter-process lock
(:func:`emolib.numba_cache.prime_librosa`): ``make test`` runs this beside the first notebook.

Also checks that the SIMD code paths are pinned (``emolib.simd``): on a machine with
AVX-512 where the Makefile's variables did not reach this process, it warns, naming them.
"""
from __future__ import annotations

import time

t0 = time.perf_counter()
import librosa  # noqa: E402
import numpy as np  # noqa: E402

from emolib.numba_cache import prime_librosa  # noqa: E402
from emolib.simd import check_simd_pins  # noqa: E402

check_simd_pins(warn=True)
prime_librosa()
y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
librosa.feature.melspectrogram(y=y, sr=16000)
librosa.onset.onset_strength(y=y, sr=16000)
from emolib.projection import umap_reducer  # noqa: E402

# fill numba's disk cache of the UMAP kernels (Fig. 3 of 01_won2021): about 20 s once here
# instead of in every process that draws a UMAP (emolib.projection)
x = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)
umap_reducer(seed=0, n_neighbors=5).fit(x[:30]).transform(x[30:])

print(f"warm-up done in {time.perf_counter() - t0:.1f} s")
