"""Seeding: every random choice in the compendium takes a seed."""
from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["seed_everything", "rng", "set_num_threads"]


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and PyTorch; optionally ask PyTorch for deterministic kernels."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(int(seed)))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.manual_seed(int(seed))
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def rng(seed: int, *keys: int | str) -> np.random.Generator:
    """A NumPy generator derived from ``seed`` and any number of extra keys.

    ``rng(0, "music", 17)`` is independent of ``rng(0, "images", 17)`` and stable across
    runs and platforms (string keys are hashed with a fixed, non-salted hash).
    """
    import zlib

    entropy = [int(seed)]
    for k in keys:
        entropy.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k))
    return np.random.default_rng(np.random.SeedSequence(entropy))


def set_num_threads(n: int) -> None:
    """Fix PyTorch's intra-op thread count.

    Float sums are split across threads, so the thread count changes the last bits of
    trained weights and, after training, the printed tables. Notebooks pass their
    ``threads`` parameter here (default 2, the reference machine) so that the same
    parameters give the same tables whatever ``OMP_NUM_THREADS`` or the core count is.

    It also checks, once per call, that the SIMD code paths are pinned to AVX2
    (:func:`emolib.simd.check_simd_pins`), and warns naming the variable if they are not:
    the notebook then still runs, but its trained numbers may differ from the committed
    tables within the stated tolerance.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"threads must be a positive integer, got {n!r}")
    import torch

    from emolib.simd import check_simd_pins

    torch.set_num_threads(int(n))
    check_simd_pins(warn=True)
