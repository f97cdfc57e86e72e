"""Evaluation metrics of the four papers, exact and vectorised.

Retrieval with class labels (Won et al. 2021; Emo-CLIM, Stewart et al. 2024)
    :func:`retrieval_scores` ranks a gallery for every query by cosine similarity (or
    negative Euclidean distance), in query chunks so that memory stays bounded, and returns
    precision at k and the reciprocal rank of the first relevant item per query, averaged
    per query class and then over classes (*macro*, as in the papers), plus the *micro*
    mean over queries and the per-class table (:class:`RetrievalResult`).
    :func:`precision_at_k`, :func:`first_relevant_rank` and :func:`reciprocal_rank` are
    the same per-query statistics on a score matrix you already have.

Retrieval of one correct item among K candidates (Chowdhury & Widmer 2023)
    :func:`rank_of_target`, :func:`topk_ratio`, :func:`mean_reciprocal_rank`, and the
    expectations for a random ranker :func:`random_topk_ratio`, :func:`random_mrr`.

Classification and tagging (Zhu et al. 2023; Emo-CLIM tagging transfer)
    :func:`accuracy`, :func:`tagging_auc` (macro ROC-AUC and PR-AUC via scikit-learn).

Conventions shared by the ranking functions (tested in tests/test_metrics.py):

* **Order.** Items are ranked by decreasing score. Items with *equal* scores are ordered
  by increasing gallery index, i.e. the order ``np.argsort(-score, kind="stable")``
  gives. Ranks are 1-based.
* **Score precision.** :func:`retrieval_scores` computes similarities in float64 and
  rounds them to float32 before ranking. Float64 results of a matrix product differ in the
  last bits with the BLAS blocking (chunk size, threads, library), which could reorder
  items whose similarity is mathematically equal (duplicates); after rounding, such items
  are exact ties and the tie rule above applies, so the result does not depend on
  ``chunk_size``. Scores closer than float32 resolution (~6e-8 relative) count as ties.
* **No relevant item.** A query with no relevant item in its gallery scores P@k = 0 and
  RR = 0 (torchmetrics' default ``empty_target_action="neg"``); it is kept in the
  averages and counted in ``RetrievalResult.n_queries_without_relevant``; its rank of the
  first relevant item is missing (``<NA>``).
* **k larger than the gallery.** P@k divides by ``k`` even when fewer than ``k`` items
  can be retrieved (torchmetrics ``RetrievalPrecision(adaptive_k=False)``, its default);
  with ``adaptive_k=True`` it divides by ``min(k, gallery size)`` instead.

Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "RetrievalResult",
    "retrieval_scores",
    "similarity_matrix",
    "precision_at_k",
    "first_relevant_rank",
    "reciprocal_rank",
    "rank_of_target",
    "topk_ratio",
    "mean_reciprocal_rank",
    "random_topk_ratio",
    "random_mrr",
    "tagging_auc",
    "accuracy",
]

log = logging.getLogger(__name__)

Similarity = Literal["cosine", "euclidean"]
_SIMILARITIES = ("cosine", "euclidean")
#: Default memory budget of one query chunk, in score-matrix elements (chunk rows x gallery).
#: The peak working set is about 30 bytes per element (float64 product, float32 scores, a
#: partitioned copy, boolean masks), i.e. ~125 MB for this budget, whatever n_q is
#: (measured: benchmarks/bench_metrics.py, 1e4 x 1e5, dim 64: 125 MiB traced peak).
DEFAULT_CHUNK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _as_array(x: Any, name: str, ndim: int | None = None, dtype: Any = None) -> np.ndarray:
    """numpy view of an array-like or torch tensor, with a clear error on the wrong rank."""
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    return arr


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {k!r}")
    return int(k)


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf "
                         f"(first at index {tuple(int(i) for i in bad)})")


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    """Labels as a 1-D object array of length ``n`` (torch/numpy/list/Series accepted)."""
    if hasattr(labels, "detach"):
        labels = labels.detach().cpu().numpy()
    if isinstance(labels, np.ndarray) and labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row), got shape {labels.shape}")
    items = list(labels)
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per row), got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} labels but the embeddings have {n} rows")
    if pd.isna(arr).any():
        raise ValueError(f"{name} contains missing labels (NaN/None) at index "
                         f"{int(np.flatnonzero(pd.isna(arr))[0])}")
    return arr


# --------------------------------------------------------------------------------------
# similarities
# --------------------------------------------------------------------------------------
def _normalise_rows(x: np.ndarray, name: str) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"{name} has an all-zero row "
                         f"(index {int(np.flatnonzero(norms[:, 0] == 0)[0])}); "
                         "its cosine similarity is undefined")
    return x / norms


def _similarity_block(q: np.ndarray, g: np.ndarray, similarity: str,
                      q_sq: np.ndarray | None = None, g_sq: np.ndarray | None = None) -> np.ndarray:
    """Scores of a query block against the gallery: float64 maths, float32 result.

    ``q``/``g`` are float64; for cosine they are already L2-normalised, for euclidean
    ``q_sq``/``g_sq`` are their squared norms.
    """
    dot = q @ g.T
    if similarity == "cosine":
        return dot.astype(np.float32)
    d2 = q_sq[:, None] + g_sq[None, :] - 2.0 * dot
    np.maximum(d2, 0.0, out=d2)
    np.sqrt(d2, out=d2)
    np.negative(d2, out=d2)
    return d2.astype(np.float32)


def similarity_matrix(query_emb: Any, gallery_emb: Any,
                      similarity: Similarity = "cosine") -> np.ndarray:
    """Full (n_q, n_g) score matrix, exactly as :func:`retrieval_scores` ranks it.

    cosine: :math:`s_{ij} = q_i^\\top g_j / (\\lVert q_i\\rVert \\lVert g_j\\rVert)`;
    euclidean: :math:`s_{ij} = -\\lVert q_i - g_j \\rVert_2`. Computed in float64,
    returned as float32 (see the module docstring). Only for small sets: it materialises
    the whole matrix. Notebooks: 01_won2021, 02_emoclim2024.
    """
    q, g = _prepare_embeddings(query_emb, gallery_emb, similarity)
    return _similarity_block(q[0], g[0], similarity, q[1], g[1])


def _prepare_embeddings(query_emb: Any, gallery_emb: Any, similarity: str):
    if similarity not in _SIMILARITIES:
        raise ValueError(f"similarity must be one of {_SIMILARITIES}, got {similarity!r}")
    q = _as_array(query_emb, "query_emb", ndim=2, dtype=np.float64)
    g = _as_array(gallery_emb, "gallery_emb", ndim=2, dtype=np.float64)
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"query_emb has dimension {q.shape[1]} but gallery_emb has {g.shape[1]}")
    if g.shape[0] == 0:
        raise ValueError("gallery_emb is empty")
    _check_finite(q, "query_emb")
    _check_finite(g, "gallery_emb")
    if similarity == "cosine":
        return (_normalise_rows(q, "query_emb"), None), (_normalise_rows(g, "gallery_emb"), None)
    return (q, np.einsum("ij,ij->i", q, q)), (g, np.einsum("ij,ij->i", g, g))


# --------------------------------------------------------------------------------------
# per-query statistics on a score block (the exact kernels)
# --------------------------------------------------------------------------------------
def _count(mask: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Number of True values (``sum`` is faster than ``count_nonzero`` along an axis)."""
    return mask.sum(axis=axis)


def _first_relevant_rank_block(s: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """1-based rank of the first relevant item per row (0 where a row has none).

    rank = 1 + #{j: s_j > s*} + #{j < j*: s_j = s*}, where s* is the best score of a
    relevant item and j* the smallest index of a relevant item with that score: the
    position of j* in the stable order of -s. No sort needed.
    """
    has = rel.any(axis=1)
    s_star = np.where(rel, s, -np.inf).max(axis=1)[:, None]
    ahead = _count(s > s_star, axis=1)
    at_star = s == s_star
    tied_rows = np.flatnonzero(has & (_count(at_star, axis=1) > 1))
    if tied_rows.size:  # other items share the best relevant score: count those before j*
        at, r = at_star[tied_rows], rel[tied_rows]
        j_star = np.argmax(at & r, axis=1)  # first relevant item holding the best score
        before = np.arange(s.shape[1])[None, :] < j_star[:, None]
        ahead[tied_rows] += _count(at & before, axis=1)
    return np.where(has, 1 + ahead, 0).astype(np.int64)


def _hits_at_k_block(s: np.ndarray, rel: np.ndarray, k: int) -> np.ndarray:
    """Number of relevant items among the first ``k`` of the stable order of -s, per row.

    With t the k-th largest score (np.partition, O(n_g) per row): every item with s > t is
    in the top k, and the remaining slots go to items with s = t in index order.
    """
    n_g = s.shape[1]
    k_eff = min(k, n_g)
    t = np.partition(s, n_g - k_eff, axis=1)[:, n_g - k_eff][:, None]
    top = s >= t
    hits = _count(top & rel, axis=1)
    # rows where items tied at t straddle the cut: keep only the first slots by index
    for r in np.flatnonzero(_count(top, axis=1) > k_eff):
        above = s[r] > t[r]
        at = s[r] == t[r]
        take = at & (np.cumsum(at) <= k_eff - _count(above))
        hits[r] = _count((above | take) & rel[r])
    return hits.astype(np.int64)


def _check_scores_relevant(scores: Any, relevant: Any) -> tuple[np.ndarray, np.ndarray]:
    s = _as_array(scores, "scores", dtype=np.float64)
    r = _as_array(relevant, "relevant", dtype=bool)
    if s.ndim == 1:
        s, r = s[None, :], (r[None, :] if r.ndim == 1 else r)
    if s.ndim != 2 or s.shape != r.shape:
        raise ValueError(f"scores and relevant must have the same 1-D or 2-D shape, "
                         f"got {np.shape(scores)} and {np.shape(relevant)}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return s, r


def precision_at_k(scores: Any, relevant: Any, k: int, adaptive_k: bool = False) -> np.ndarray:
    """Precision at k per query: ``#relevant among the top k / k``.

    :math:`P@k = \\frac{1}{k}\\sum_{r=1}^{k} \\mathrm{rel}(\\pi(r))` where :math:`\\pi` is
    the ranking (decreasing score, ties by index). ``scores`` and ``relevant`` are (n_q, n_g)
    (or 1-D for one query). Divides by ``min(k, n_g)`` if ``adaptive_k``.
    Notebooks: 01_won2021, 02_emoclim2024.
    """
    k = _check_k(k)
    s, r = _check_scores_relevant(scores, relevant)
    denom = min(k, s.shape[1]) if adaptive_k else k
    return _hits_at_k_block(s, r, k) / denom


def first_relevant_rank(scores: Any, relevant: Any) -> np.ndarray:
    """1-based rank of the first relevant item per query (0 if the query has none).

    Ranking by decreasing score, equal scores by increasing index (stable). Notebooks:
    01_won2021, 02_emoclim2024.
    """
    s, r = _check_scores_relevant(scores, relevant)
    return _first_relevant_rank_block(s, r)


def reciprocal_rank(scores: Any, relevant: Any) -> np.ndarray:
    """Reciprocal rank of the first relevant item per query, :math:`1/\\mathrm{rank}` (0 if none).

    Its mean over queries is the MRR. Notebooks: 01_won2021, 02_emoclim2024.
    """
    ranks = first_relevant_rank(scores, relevant)
    return np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)


# --------------------------------------------------------------------------------------
# chunked retrieval evaluation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetrievalResult:
    """Result of :func:`retrieval_scores`.

    Attributes:
        macro_p_at_k, macro_mrr: per query -> mean per query class -> mean over classes
            (the papers' averaging).
        micro_p_at_k, micro_mrr: mean over queries.
        per_class: DataFrame[label, n_queries, p_at_k, mrr] (sorted by label).
        per_query: DataFrame[query_index, label, n_relevant, rank_first_relevant (Int64,
            <NA> if no relevant item), reciprocal_rank, hits_at_k, p_at_k].
        k: the k of P@k.
        n_queries_without_relevant: queries with no relevant gallery item (scored 0).
    """

    macro_p_at_k: float
    macro_mrr: float
    micro_p_at_k: float
    micro_mrr: float
    per_class: pd.DataFrame
    per_query: pd.DataFrame
    k: int
    n_queries_without_relevant: int

    def as_dict(self, average: Literal["macro", "micro"] = "macro") -> dict[str, float]:
        """``{"P@k": ..., "MRR": ...}`` with the macro (default) or micro values."""
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        if average == "macro":
            return {f"P@{self.k}": self.macro_p_at_k, "MRR": self.macro_mrr}
        return {f"P@{self.k}": self.micro_p_at_k, "MRR": self.micro_mrr}


def _relevance_matrix(q_uniques: np.ndarray, g_uniques: np.ndarray,
                      relevance: Mapping[Hashable, Collection[Hashable]] | None) -> np.ndarray:
    """Boolean (n_query_labels, n_gallery_labels): is gallery label j relevant to query label i."""
    if relevance is None:
        return np.array([[ql == gl for gl in g_uniques] for ql in q_uniques], dtype=bool).reshape(
            len(q_uniques), len(g_uniques))
    if not isinstance(relevance, Mapping):
        raise TypeError(f"relevance must be a mapping query label -> collection of gallery "
                        f"labels, or None; got {type(relevance).__name__}")
    missing = [ql for ql in q_uniques if ql not in relevance]
    if missing:
        raise ValueError(f"relevance has no entry for query label(s) {sorted(map(str, missing))}; "
                         f"it maps {sorted(map(str, relevance))}")
    out = np.zeros((len(q_uniques), len(g_uniques)), dtype=bool)
    for i, ql in enumerate(q_uniques):
        targets = relevance[ql]
        if isinstance(targets, (str, bytes)) or not isinstance(targets, Collection):
            raise TypeError(f"relevance[{ql!r}] must be a collection of gallery labels "
                            f"(e.g. a set or tuple), got {targets!r}")
        targets = set(targets)
        out[i] = [gl in targets for gl in g_uniques]
    return out


def _sorted_labels(labels: Sequence[Any]) -> list[Any]:
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=str)


def retrieval_scores(
    query_emb: Any,
    gallery_emb: Any,
    query_labels: Any,
    gallery_labels: Any,
    k: int = 5,
    relevance: Mapping[Hashable, Collection[Hashable]] | None = None,
    exclude_self: bool = False,
    similarity: Similarity = "cosine",
    chunk_size: int | None = None,
    adaptive_k: bool = False,
) -> RetrievalResult:
    """Rank the gallery for every query and score P@k and reciprocal rank, macro and micro.

    For query :math:`q` with ranking :math:`\\pi_q` of the gallery (decreasing similarity,
    equal scores by increasing gallery index) and relevance :math:`\\mathrm{rel}_q(j)`:

    * :math:`P@k(q) = \\frac{1}{k} \\sum_{r=1}^{k} \\mathrm{rel}_q(\\pi_q(r))`;
    * :math:`RR(q) = 1/\\min\\{r : \\mathrm{rel}_q(\\pi_q(r))\\}` (0 if nothing is relevant);
    * macro: :math:`\\frac{1}{|C|}\\sum_{c \\in C} \\frac{1}{|Q_c|}\\sum_{q \\in Q_c} m(q)`
      over the query classes :math:`C` (Emo-CLIM; Won et al. 2021 §5); micro: mean over
      all queries.

    Args:
        query_emb, gallery_emb: (n_q, d) and (n_g, d) arrays or tensors.
        query_labels, gallery_labels: one hashable label per row.
        k: cut-off of P@k (>= 1). If k exceeds the gallery size P@k still divides by k
            (unless ``adaptive_k``), as torchmetrics' RetrievalPrecision does by default.
        relevance: ``{query_label: {gallery labels counted as relevant}}`` (one-to-many
            allowed, e.g. Won et al.'s manual mapping); every query label must have an
            entry. ``None``: a gallery item is relevant iff its label equals the query's.
        exclude_self: intra-modal retrieval; query i *is* gallery item i (requires
            n_q == n_g) and is removed from its own ranking (gallery size n_g - 1).
        similarity: "cosine" or "euclidean" (negative Euclidean distance, e.g. for
            valence-arousal regression outputs, Won et al. 2021).
        chunk_size: queries scored at once. ``None`` picks the largest chunk whose score
            matrix has at most ``DEFAULT_CHUNK_ELEMENTS`` entries (~125 MB working set),
            so memory stays bounded for any n_q; the full (n_q, n_g) matrix is never built.
            The result does not depend on it.
        adaptive_k: divide P@k by min(k, gallery size) instead of k.

    Returns:
        :class:`RetrievalResult`. Queries without any relevant gallery item score 0 and
        are counted in ``n_queries_without_relevant`` (a warning is logged).

    Notebooks: 01_won2021, 02_emoclim2024.
    """
    k = _check_k(k)
    (q, q_sq), (g, g_sq) = _prepare_embeddings(query_emb, gallery_emb, similarity)
    n_q, n_g = q.shape[0], g.shape[0]
    if n_q == 0:
        raise ValueError("query_emb is empty")
    ql = _labels(query_labels, n_q, "query_labels")
    gl = _labels(gallery_labels, n_g, "gallery_labels")
    if exclude_self and n_q != n_g:
        raise ValueError(f"exclude_self=True means query i is gallery item i, so n_q must equal "
                         f"n_g; got {n_q} queries and {n_g} gallery items")
    if exclude_self and n_g < 2:
        raise ValueError("exclude_self=True needs at least 2 gallery items")
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_ELEMENTS // n_g)
    elif (isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
          or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    chunk_size = int(min(chunk_size, n_q))

    q_codes, q_uniques = pd.factorize(pd.Series(ql, dtype=object), sort=False)
    g_codes, g_uniques = pd.factorize(pd.Series(gl, dtype=object), sort=False)
    rel_labels = _relevance_matrix(np.asarray(q_uniques, dtype=object),
                                   np.asarray(g_uniques, dtype=object), relevance)

    ranks = np.empty(n_q, dtype=np.int64)
    hits = np.empty(n_q, dtype=np.int64)
    n_rel = np.empty(n_q, dtype=np.int64)
    for start in range(0, n_q, chunk_size):
        stop = min(start + chunk_size, n_q)
        s = _similarity_block(q[start:stop], g, similarity,
                              None if q_sq is None else q_sq[start:stop], g_sq)
        rel = rel_labels[q_codes[start:stop]][:, g_codes]
        if exclude_self:
            rows = np.arange(stop - start)
            s[rows, np.arange(start, stop)] = -np.inf  # ranked last, and never relevant
            rel[rows, np.arange(start, stop)] = False
        n_rel[start:stop] = _count(rel, axis=1)
        ranks[start:stop] = _first_relevant_rank_block(s, rel)
        hits[start:stop] = _hits_at_k_block(s, rel, k)

    n_eff = n_g - 1 if exclude_self else n_g
    denom = min(k, n_eff) if adaptive_k else k
    p_at_k = hits / denom
    rr = np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)
    n_without = int((n_rel == 0).sum())
    if n_without:
        log.warning("%d of %d queries have no relevant gallery item; they score P@k = RR = 0",
                    n_without, n_q)

    per_query = pd.DataFrame({
        "query_index": np.arange(n_q),
        "label": pd.Series(ql, dtype=object),
        "n_relevant": n_rel,
        "rank_first_relevant": pd.array(ranks, dtype="Int64"),
        "reciprocal_rank": rr,
        "hits_at_k": hits,
        "p_at_k": p_at_k,
    })
    per_query.loc[ranks == 0, "rank_first_relevant"] = pd.NA
    grouped = per_query.groupby("label", sort=False)
    per_class = pd.DataFrame({
        "n_queries": grouped.size(),
        "p_at_k": grouped["p_at_k"].mean(),
        "mrr": grouped["reciprocal_rank"].mean(),
    })
    per_class = per_class.loc[_sorted_labels(list(per_class.index))]
    per_class = per_class.rename_axis("label").reset_index()
    return RetrievalResult(
        macro_p_at_k=float(per_class["p_at_k"].mean()),
        macro_mrr=float(per_class["mrr"].mean()),
        micro_p_at_k=float(p_at_k.mean()),
        micro_mrr=float(rr.mean()),
        per_class=per_class,
        per_query=per_query,
        k=k,
        n_queries_without_relevant=n_without,
    )


# --------------------------------------------------------------------------------------
# one correct item among K candidates (Chowdhury & Widmer 2023)
# --------------------------------------------------------------------------------------
def rank_of_target(scores: Any, target_idx: Any,
                   ties: Literal["pessimistic", "optimistic", "stable"] = "pessimistic",
                   candidates: Any | None = None) -> np.ndarray:
    """1-based rank of the one correct candidate in each row of ``scores``.

    ``scores`` is (n_queries, n_candidates) (or 1-D for one query), higher = better;
    ``target_idx`` the column of the correct candidate per row (or an int). Returns an
    int64 array with one rank per row (shape (1,) for 1-D ``scores``).
    :math:`\\mathrm{rank} = 1 + \\#\\{j : s_j > s_t\\} + \\#\\{j \\ne t : s_j = s_t\\}`
    with ``ties="pessimistic"`` (default: a ranker that scores everything equally gets
    the worst rank, never a lucky one); ``"optimistic"`` drops the second term;
    ``"stable"`` counts only tied candidates with a smaller index (the order
    ``argsort(-s, kind="stable")`` gives, as in :func:`retrieval_scores`).

    ``candidates`` (bool, same shape as ``scores``) restricts each row to its own
    candidate set, e.g. the performances of the queried piece when pieces have different
    numbers of performances (Chowdhury & Widmer: "among all performances of the piece");
    the target must be a candidate. Notebook: 03_chowdhury2023.
    """
    if ties not in ("pessimistic", "optimistic", "stable"):
        raise ValueError(f"ties must be 'pessimistic', 'optimistic' or 'stable', got {ties!r}")
    s = _as_array(scores, "scores", dtype=np.float64)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] == 0:
        raise ValueError(f"scores must be (n_queries, n_candidates) with n_candidates >= 1, "
                         f"got shape {np.shape(scores)}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    t = _as_array(target_idx, "target_idx")
    t = np.broadcast_to(t, (s.shape[0],)) if t.ndim == 0 else t
    if t.shape != (s.shape[0],):
        raise ValueError(f"target_idx must hold one index per row of scores ({s.shape[0]}), "
                         f"got shape {t.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"target_idx must be integers, got dtype {t.dtype}")
    if np.any((t < 0) | (t >= s.shape[1])):
        raise ValueError(f"target_idx must be in [0, {s.shape[1] - 1}], got values "
                         f"{t.min()}..{t.max()}")
    rows = np.arange(s.shape[0])
    if candidates is None:
        cand = np.ones(s.shape, dtype=bool)
    else:
        cand = _as_array(candidates, "candidates", dtype=bool)
        cand = cand[None, :] if cand.ndim == 1 else cand
        if cand.shape != s.shape:
            raise ValueError(f"candidates must have the shape of scores {s.shape}, "
                             f"got {cand.shape}")
        if not cand[rows, t].all():
            raise ValueError(f"the target of row {int(np.flatnonzero(~cand[rows, t])[0])} "
                             "is not among its candidates")
    st = s[rows, t][:, None]
    ahead = (cand & (s > st)).sum(axis=1)
    if ties == "pessimistic":
        tied = (cand & (s == st)).sum(axis=1) - 1
    elif ties == "optimistic":
        tied = 0
    else:
        idx = np.arange(s.shape[1])[None, :]
        tied = (cand & (s == st) & (idx < t[:, None])).sum(axis=1)
    return (1 + ahead + tied).astype(np.int64)


def _check_ranks(ranks: Any) -> np.ndarray:
    r = _as_array(ranks, "ranks")
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"ranks must be a non-empty 1-D array, got shape {r.shape}")
    if not np.issubdtype(r.dtype, np.integer):
        if not np.all(np.mod(r, 1) == 0):
            raise ValueError("ranks must be integers (1-based)")
        r = r.astype(np.int64)
    if np.any(r < 1):
        raise ValueError(f"ranks are 1-based and must be >= 1, got min {r.min()}")
    return r


def topk_ratio(ranks: Any, k: int) -> float:
    """Fraction of queries whose correct item is within the top k:
    :math:`\\frac{1}{N}\\sum 1[r_i \\le k]`.

    Notebook: 03_chowdhury2023.
    """
    k = _check_k(k)
    return float(np.mean(_check_ranks(ranks) <= k))


def mean_reciprocal_rank(ranks: Any) -> float:
    """MRR of 1-based ranks of the correct item: :math:`\\frac{1}{N}\\sum 1/r_i`.

    Notebook: 03_chowdhury2023.
    """
    return float(np.mean(1.0 / _check_ranks(ranks)))


def _check_counts(n: Any) -> np.ndarray:
    arr = _as_array(n, "n")
    arr = arr.reshape(-1)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1):
        raise ValueError(f"n must be a candidate count >= 1 (or an array of counts), got {n!r}")
    return arr.astype(np.int64)


def random_topk_ratio(n: int | Sequence[int], k: int) -> float:
    """Expected top-k ratio of a random ranker among n candidates: :math:`\\min(k, n)/n`.

    ``n`` may be an array of per-query candidate counts; the result is then the mean of
    the per-query expectations (the expected top-k ratio of that query set).
    Notebook: 03_chowdhury2023.
    """
    k = _check_k(k)
    counts = _check_counts(n)
    return float(np.mean(np.minimum(k, counts) / counts))


def random_mrr(n: int | Sequence[int]) -> float:
    """Expected MRR of a random ranker among n candidates:
    :math:`H_n / n = \\frac{1}{n}\\sum_{r=1}^n 1/r`.

    ``n`` may be an array of per-query candidate counts (mean of :math:`H_{n_i}/n_i`).
    Notebook: 03_chowdhury2023.
    """
    counts = _check_counts(n)
    harmonic = np.cumsum(1.0 / np.arange(1, counts.max() + 1))
    return float(np.mean(harmonic[counts - 1] / counts))


# --------------------------------------------------------------------------------------
# classification and tagging
# --------------------------------------------------------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of exact matches, :math:`\\frac{1}{N}\\sum 1[\\hat y_i = y_i]` (labels of any type).

    Notebook: 04_zhu2023 (4Q, arousal and valence accuracy).
    """
    t = _as_array(y_true, "y_true")
    p = _as_array(y_pred, "y_pred")
    if t.ndim != 1 or p.ndim != 1 or t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, "
                         f"got {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(t == p))


def tagging_auc(y_true: Any, y_score: Any) -> tuple[float, float]:
    """Macro ROC-AUC and macro PR-AUC of multi-label tagging.

    ``y_true`` (n_items, n_tags) binary, ``y_score`` same shape. ROC-AUC and PR-AUC
    (average precision, :math:`\\sum_n (R_n - R_{n-1}) P_n`) are computed per tag with
    scikit-learn and averaged over tags (``average="macro"``), as in the tagging code of
    Won et al. 2020 and Emo-CLIM. Tags whose column in ``y_true`` has a single class have
    no AUC; they are skipped with a warning.
    Notebook: 02_emoclim2024 (tagging transfer).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    t = _as_array(y_true, "y_true")
    s = _as_array(y_score, "y_score", dtype=np.float64)
    if t.ndim != 2 or t.shape != s.shape:
        raise ValueError(f"y_true and y_score must be 2-D (n_items, n_tags) of equal shape, "
                         f"got {t.shape} and {s.shape}")
    if not np.isin(t, (0, 1)).all():
        raise ValueError("y_true must be binary (0/1 or bool)")
    _check_finite(s, "y_score")
    t = t.astype(int)
    pos = t.sum(axis=0)
    ok = (pos > 0) & (pos < t.shape[0])
    if not ok.any():
        raise ValueError("no tag has both positive and negative items; AUC is undefined")
    if not ok.all():
        warnings.warn(f"tagging_auc: {int((~ok).sum())} of {t.shape[1]} tags have a single class "
                      f"in y_true (columns {np.flatnonzero(~ok).tolist()[:10]}...) and are skipped",
                      stacklevel=2)
    roc = roc_auc_score(t[:, ok], s[:, ok], average="macro")
    pr = average_precision_score(t[:, ok], s[:, ok], average="macro")
    return float(roc), float(pr)
