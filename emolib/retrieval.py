"""Text → audio-feature mapping and "one correct performance among K" retrieval.

Chowdhury & Widmer (2023) map a text embedding ``g(text)`` into the 8-d mid-level space
with a linear model ``h`` (optionally after PCA of the text embeddings) and rank the
performances *of the known piece* by cosine similarity between ``h(g(text))`` and each
performance's mid-level vector. The same recipe works for any text encoder / audio
feature pair (their Table 1 crosses MTR/EWE text with MTR/mid-level audio).

* :class:`TextToAudioMap` — (L2-normalise text) → (optional PCA) → linear regression
  (ridge with ``alpha > 0``) into a z-scored audio feature space.
* :func:`cosine_scores` — query × candidate cosine similarities.
* :func:`lopo_retrieval` — leave-one-piece-out evaluation: one fold per piece; the map is
  fitted on the training pieces' (text, audio) pairs (+ optional augmentation pairs) and
  every query of the held-out piece ranks that piece's performances.
* :func:`retrieval_summary` — Top-1 / Top-2 ratio and MRR (:mod:`emolib.metrics`).
* :func:`random_baseline` — the random ranker, analytic expectation and simulation.

Notebook: 03_chowdhury2023.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression, Ridge

from emolib import metrics
from emolib.data.splits import leave_one_group_out

__all__ = ["TextToAudioMap", "cosine_scores", "lopo_retrieval", "retrieval_summary",
           "random_baseline", "rank_candidates"]


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def cosine_scores(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``(n_queries, n_candidates)`` cosine similarities (zero vectors score 0)."""
    q = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    c = np.atleast_2d(np.asarray(candidates, dtype=np.float64))
    if q.shape[1] != c.shape[1]:
        raise ValueError(f"queries have dim {q.shape[1]} but candidates dim {c.shape[1]}")
    return _unit(q) @ _unit(c).T


@dataclass
class TextToAudioMap:
    """The paper's ``h``: text embedding → (PCA) → linear regression → audio feature space.

    ``pca``: number of principal components of the (L2-normalised) text embeddings, or
    ``None`` for no PCA; it is capped at ``n_train − 1``. ``alpha``: 0 → ordinary least
    squares (sklearn ``LinearRegression``, minimum-norm when under-determined), > 0 →
    ridge. Targets are z-scored with ``target_mean``/``target_std`` computed by the caller
    (or on the training targets when not given) and predictions stay in z-units.
    """

    pca: int | None = None
    alpha: float = 0.0
    normalize_text: bool = True
    seed: int = 0
    target_mean: np.ndarray | None = None
    target_std: np.ndarray | None = None
    _pca: PCA | None = field(default=None, init=False, repr=False)
    _reg: LinearRegression | Ridge | None = field(default=None, init=False, repr=False)

    def _text(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return _unit(x) if self.normalize_text else x

    def standardise(self, y: np.ndarray) -> np.ndarray:
        """Audio features in z-units of the fitted statistics."""
        return (np.asarray(y, dtype=np.float64) - self.target_mean) / self.target_std

    def fit(self, text: np.ndarray, targets: np.ndarray) -> "TextToAudioMap":
        """Fit on ``text`` ``(n, d_text)`` and raw audio ``targets`` ``(n, d_audio)``."""
        x, y = self._text(text), np.asarray(targets, dtype=np.float64)
        if len(x) != len(y) or len(x) < 2:
            raise ValueError(f"need >= 2 aligned (text, target) pairs, got {len(x)} and {len(y)}")
        if self.target_mean is None:
            self.target_mean = y.mean(0)
        if self.target_std is None:
            self.target_std = y.std(0)
        self.target_std = np.where(np.asarray(self.target_std) > 0, self.target_std, 1.0)
        if self.pca is not None:
            n = int(min(self.pca, len(x) - 1, x.shape[1]))
            if n < 1:
                raise ValueError(f"pca must be >= 1, got {self.pca!r}")
            self._pca = PCA(n_components=n, random_state=self.seed).fit(x)
            x = self._pca.transform(x)
        self._reg = (Ridge(alpha=self.alpha) if self.alpha > 0 else LinearRegression()).fit(
            x, self.standardise(y))
        return self

    def predict(self, text: np.ndarray) -> np.ndarray:
        """Predicted audio features (z-units) of ``text`` ``(n, d_text)``."""
        if self._reg is None:
            raise RuntimeError("TextToAudioMap.predict called before fit")
        x = self._text(np.atleast_2d(text))
        if self._pca is not None:
            x = self._pca.transform(x)
        return self._reg.predict(x)


def rank_candidates(query_vec: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Candidate indices sorted by descending cosine similarity to one query (stable)."""
    return np.argsort(-cosine_scores(query_vec, candidates)[0], kind="stable")


def lopo_retrieval(perf_features: np.ndarray, perf_piece: Sequence, *,
                   train_text: np.ndarray, train_perf: Sequence[int],
                   query_text: np.ndarray, query_perf: Sequence[int],
                   aug_text: np.ndarray | None = None, aug_features: np.ndarray | None = None,
                   pca: int | None = None, alpha: float = 0.0, mapping: str = "linear",
                   normalize_text: bool = True, center_by_piece: bool = False,
                   seed: int = 0) -> pd.DataFrame:
    """Leave-one-piece-out retrieval of the correct performance among its piece's performances.

    ``perf_features`` ``(n_perf, d)`` are the performances' audio features, ``perf_piece``
    their piece. Training pairs are ``(train_text[i], perf_features[train_perf[i]])``;
    queries are ``query_text[j]`` with correct performance ``query_perf[j]``. For each
    piece (fold, :func:`emolib.data.splits.leave_one_group_out`) the map is fitted on the
    pairs whose performance belongs to *another* piece, plus all augmentation pairs
    ``(aug_text, aug_features)``; features are z-scored with the training performances'
    mean/std. ``mapping="identity"`` skips the map and compares text and audio embeddings
    directly (a joint text–audio space such as MTR/CLAP).
    ``center_by_piece=True`` (not in the paper) subtracts from every performance's
    features the mean of its piece's performances, so ``h`` learns and cosine compares
    *within-piece* deviations; augmentation targets are left as they are.

    Returns one row per query: ``query`` (index into ``query_text``), ``piece``,
    ``target`` (performance index), ``rank`` (1-based, pessimistic ties),
    ``n_candidates``, ``retrieved`` (top performance index).
    """
    feats = np.asarray(perf_features, dtype=np.float64)
    piece = np.asarray(list(perf_piece), dtype=object)
    tr_perf, q_perf = np.asarray(train_perf, dtype=int), np.asarray(query_perf, dtype=int)
    if len(piece) != len(feats):
        raise ValueError(f"perf_piece has {len(piece)} entries but perf_features {len(feats)} rows")
    if len(train_text) != len(tr_perf) or len(query_text) != len(q_perf):
        raise ValueError("train_text/train_perf and query_text/query_perf must align")
    if mapping not in ("linear", "identity"):
        raise ValueError(f"mapping must be 'linear' or 'identity', got {mapping!r}")
    if (aug_text is None) != (aug_features is None):
        raise ValueError("aug_text and aug_features must be given together")
    if center_by_piece:
        feats = feats.copy()
        for g in set(piece.tolist()):
            m = piece == g
            feats[m] -= feats[m].mean(0)
    rows = []
    for g, train_perfs, test_perfs in leave_one_group_out(piece):
        q_idx = np.flatnonzero(np.isin(q_perf, test_perfs))
        if len(q_idx) == 0:
            continue
        if mapping == "identity":
            pred = np.asarray(query_text, dtype=np.float64)[q_idx]
            cands = feats[test_perfs]
        else:
            t_idx = np.flatnonzero(np.isin(tr_perf, train_perfs))
            x_tr = np.asarray(train_text, dtype=np.float64)[t_idx]
            y_tr = feats[tr_perf[t_idx]]
            mean, std = feats[train_perfs].mean(0), feats[train_perfs].std(0)
            if aug_text is not None:
                x_tr = np.vstack([x_tr, np.asarray(aug_text, dtype=np.float64)])
                y_tr = np.vstack([y_tr, np.asarray(aug_features, dtype=np.float64)])
            h = TextToAudioMap(pca=pca, alpha=alpha, normalize_text=normalize_text, seed=seed,
                               target_mean=mean, target_std=std).fit(x_tr, y_tr)
            pred = h.predict(np.asarray(query_text, dtype=np.float64)[q_idx])
            cands = h.standardise(feats[test_perfs])
        scores = cosine_scores(pred, cands)
        local = {int(p): i for i, p in enumerate(test_perfs)}
        target_local = np.array([local[int(p)] for p in q_perf[q_idx]])
        ranks = metrics.rank_of_target(scores, target_local)
        top = test_perfs[np.argmax(scores, axis=1)]
        for j, qi in enumerate(q_idx):
            rows.append({"query": int(qi), "piece": g, "target": int(q_perf[qi]),
                         "rank": int(ranks[j]), "n_candidates": len(test_perfs),
                         "retrieved": int(top[j])})
    return pd.DataFrame(rows)


def retrieval_summary(ranks: Sequence[int]) -> dict[str, float]:
    """Top-1 ratio, Top-2 ratio and MRR of 1-based ranks (the paper's three metrics)."""
    r = np.asarray(ranks)
    return {"top1": metrics.topk_ratio(r, 1), "top2": metrics.topk_ratio(r, 2),
            "mrr": metrics.mean_reciprocal_rank(r)}


def random_baseline(n_candidates: Sequence[int], *, n_repeats: int = 0,
                    seed: int = 0) -> dict[str, float] | pd.DataFrame:
    """The random ranker ("performances are chosen at random").

    ``n_repeats == 0``: the analytic expectation over the queries, i.e. the means of
    ``min(k, K)/K`` and ``H_K/K`` over each query's number of candidates ``K``
    (:func:`emolib.metrics.random_topk_ratio`, :func:`emolib.metrics.random_mrr`).
    ``n_repeats > 0``: a DataFrame of ``n_repeats`` simulations (a uniformly random rank
    per query) with columns top1, top2, mrr.
    """
    k = np.asarray(n_candidates, dtype=int)
    if k.size == 0 or (k < 1).any():
        raise ValueError("n_candidates must be a non-empty sequence of positive ints")
    if n_repeats == 0:
        return {"top1": float(np.mean([metrics.random_topk_ratio(n, 1) for n in k])),
                "top2": float(np.mean([metrics.random_topk_ratio(n, 2) for n in k])),
                "mrr": float(np.mean([metrics.random_mrr(n) for n in k]))}
    g = np.random.default_rng(seed)
    return pd.DataFrame([retrieval_summary(g.integers(1, k + 1)) for _ in range(n_repeats)])
