"""Compile numba caches once after install (librosa, umap), so notebooks start fast."""
from __future__ import annotations

import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import librosa  # noqa: E402

y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
librosa.feature.melspectrogram(y=y, sr=16000)
librosa.onset.onset_strength(y=y, sr=16000)
import umap  # noqa: E402,F401

print(f"warm-up done in {time.perf_counter() - t0:.1f} s")
