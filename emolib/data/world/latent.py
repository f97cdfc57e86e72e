"""The emotion world's latent model: a label and a valence–arousal point per item.

Each item gets a *true* category of a taxonomy and a valence–arousal point drawn from a
Gaussian around that category's centroid (NRC VAD, :mod:`emolib.data.taxonomies`),
clipped to [0, 1]. ``spread`` (the Gaussian's standard deviation) sets the difficulty;
``label_noise`` is the probability that the *observed* label is replaced by another
category — drawn with weights that fall off with valence–arousal distance, the way
annotators confuse neighbouring emotions. Renderers see the latent point and the true
label; datasets expose the observed label.

Notebooks: 00_tour (the world section) and, through ``make_world``, every paper notebook.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from emolib.data.taxonomies import labels, va_centroid
from emolib.seed import rng

__all__ = ["sample_latent"]


def sample_latent(taxonomy: str, n_per_class: int, seed: int, spread: float = 0.12,
                  label_noise: float = 0.1) -> pd.DataFrame:
    """Draw ``n_per_class`` latent items per label of ``taxonomy``.

    Returns a DataFrame with columns ``item_id`` (``"<taxonomy>-00000"``), ``label``
    (observed, possibly noisy), ``true_label``, ``valence`` and ``arousal`` in [0, 1];
    rows are ordered by true class (taxonomy order), then index. A pure function of its
    arguments.
    """
    labs = labels(taxonomy)
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}")
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"spread must be in [0, 1] (std of the VA Gaussian), got {spread!r}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise!r}")
    g = rng(seed, "latent", taxonomy)
    centroids = np.asarray([va_centroid(taxonomy, lab) for lab in labs])
    true_idx = np.repeat(np.arange(len(labs)), n_per_class)
    points = np.clip(centroids[true_idx] + g.normal(0.0, spread, size=(len(true_idx), 2)), 0, 1)
    # confusion weights between classes: closer centroids are confused more often
    dist = np.linalg.norm(centroids[:, None, :] - centroids[None, :, :], axis=-1)
    conf = np.exp(-dist / 0.25)
    np.fill_diagonal(conf, 0.0)
    conf /= conf.sum(axis=1, keepdims=True)
    flip = g.random(len(true_idx)) < label_noise
    u = g.random(len(true_idx))
    cum = np.cumsum(conf[true_idx], axis=1)
    noisy_idx = np.minimum((u[:, None] > cum).sum(axis=1), len(labs) - 1)
    obs_idx = np.where(flip, noisy_idx, true_idx)
    return pd.DataFrame({
        "item_id": [f"{taxonomy}-{i:05d}" for i in range(len(true_idx))],
        "label": [labs[i] for i in obs_idx],
        "true_label": [labs[i] for i in true_idx],
        "valence": points[:, 0].round(6),
        "arousal": points[:, 1].round(6),
    })
