"""emolib.metrics: hand-computed cases, tie rules, chunking, and independent references
(torchmetrics retrieval metrics, scikit-learn, a brute-force stable-argsort ranking)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from emolib import metrics as M


def _unit(deg):
    rad = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


# gallery on the unit circle: cosine similarity = cos(angle difference)
G_DEG = [0, 10, 25, 90, 180]
G_LAB = ["x", "y", "x", "y", "z"]
Q_DEG = [0, 85, 12, 170]
Q_LAB = ["x", "y", "x", "w"]  # "w" has no item in the gallery


# ---------------------------------------------------------------- brute-force reference
def _reference(scores, rel, k, adaptive_k=False):
    """The documented definition, literally: stable argsort of -score, then count."""
    p, rr, rank = [], [], []
    for s, r in zip(scores, rel):
        order = np.argsort(-s, kind="stable")
        rr_sorted = r[order]
        denom = min(k, len(s)) if adaptive_k else k
        p.append(rr_sorted[:k].sum() / denom)
        pos = np.flatnonzero(rr_sorted)
        rank.append(pos[0] + 1 if len(pos) else 0)
        rr.append(1.0 / (pos[0] + 1) if len(pos) else 0.0)
    return np.array(p), np.array(rr), np.array(rank)


# ---------------------------------------------------------------- hand-computed cases
def test_hand_computed_macro_micro_one_query_class_and_no_relevant():
    res = M.retrieval_scores(_unit(Q_DEG), _unit(G_DEG), Q_LAB, G_LAB, k=2)
    # rankings: q0 g0,g1,..  q1 g3,g2,..  q2 g1,g0,..  q3 g4,g3,.. (no "w" anywhere)
    pq = res.per_query
    assert pq["p_at_k"].tolist() == [0.5, 0.5, 0.5, 0.0]
    assert pq["reciprocal_rank"].tolist() == [1.0, 1.0, 0.5, 0.0]
    assert pq["rank_first_relevant"].tolist()[:3] == [1, 1, 2]
    assert pd.isna(pq["rank_first_relevant"].iloc[3])
    assert pq["n_relevant"].tolist() == [2, 2, 2, 0]
    assert res.n_queries_without_relevant == 1
    # per class: w (1 query) P 0 RR 0; x (2 queries) P .5 RR .75; y (1 query) P .5 RR 1
    assert res.per_class["label"].tolist() == ["w", "x", "y"]
    assert res.per_class["n_queries"].tolist() == [1, 2, 1]
    assert res.per_class["p_at_k"].tolist() == [0.0, 0.5, 0.5]
    assert res.per_class["mrr"].tolist() == [0.0, 0.75, 1.0]
    assert res.macro_p_at_k == pytest.approx(1 / 3)
    assert res.macro_mrr == pytest.approx((0 + 0.75 + 1) / 3)
    assert res.micro_p_at_k == pytest.approx(1.5 / 4)
    assert res.micro_mrr == pytest.approx(2.5 / 4)
    assert res.k == 2
    assert res.as_dict() == {"P@2": res.macro_p_at_k, "MRR": res.macro_mrr}
    assert res.as_dict("micro") == {"P@2": res.micro_p_at_k, "MRR": res.micro_mrr}


def test_k_larger_than_gallery_divides_by_k_unless_adaptive():
    q, g = _unit([0]), _unit(G_DEG)
    res = M.retrieval_scores(q, g, ["x"], G_LAB, k=10)
    assert res.per_query["hits_at_k"].tolist() == [2]
    assert res.micro_p_at_k == pytest.approx(2 / 10)
    res = M.retrieval_scores(q, g, ["x"], G_LAB, k=10, adaptive_k=True)
    assert res.micro_p_at_k == pytest.approx(2 / 5)


def test_label_set_relevance_one_to_many():
    rel = {"x": {"x", "y"}, "y": ("y",), "w": frozenset({"z"})}
    res = M.retrieval_scores(_unit(Q_DEG), _unit(G_DEG), Q_LAB, G_LAB, k=2, relevance=rel)
    assert res.per_query["p_at_k"].tolist() == [1.0, 0.5, 1.0, 0.5]
    assert res.per_query["reciprocal_rank"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert res.per_query["n_relevant"].tolist() == [4, 2, 4, 1]
    assert res.macro_p_at_k == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert res.n_queries_without_relevant == 0


def test_exclude_self_intra_modal():
    e = _unit(G_DEG)
    res = M.retrieval_scores(e, e, G_LAB, G_LAB, k=2, exclude_self=True)
    # g0: g1 g2 | g1: g0 g2 g3 | g2: g1 g0 | g3: g2 g1 | g4: no other "z"
    assert res.per_query["p_at_k"].tolist() == [0.5, 0.0, 0.5, 0.5, 0.0]
    assert res.per_query["reciprocal_rank"].tolist() == pytest.approx([0.5, 1 / 3, 0.5, 0.5, 0.0])
    assert res.per_query["n_relevant"].tolist() == [1, 1, 1, 1, 0]
    assert res.n_queries_without_relevant == 1
    assert res.macro_p_at_k == pytest.approx((0.5 + 0.25 + 0.0) / 3)
    assert res.macro_mrr == pytest.approx((0.5 + 5 / 12 + 0.0) / 3)
    # without exclusion every query finds itself first
    res = M.retrieval_scores(e, e, G_LAB, G_LAB, k=1)
    assert res.per_query["reciprocal_rank"].tolist() == [1.0] * 5


def test_exclude_self_with_k_covering_the_whole_gallery():
    e = _unit(G_DEG)
    res = M.retrieval_scores(e, e, G_LAB, G_LAB, k=5, exclude_self=True)
    assert res.per_query["hits_at_k"].tolist() == [1, 1, 1, 1, 0]
    assert res.micro_p_at_k == pytest.approx(4 / 25)
    res = M.retrieval_scores(e, e, G_LAB, G_LAB, k=5, exclude_self=True, adaptive_k=True)
    assert res.micro_p_at_k == pytest.approx(4 / 20)  # gallery size 4 once self is removed


def test_ties_are_ordered_by_gallery_index():
    # query at 0 deg; g0 and g1 are identical (exact tie), g2/g3/g4 identical at 45 deg
    g = _unit([0, 0, 45, 45, 45, 90])
    lab = ["b", "a", "b", "a", "a", "a"]
    res = M.retrieval_scores(_unit([0]), g, ["a"], lab, k=1)
    # stable order: g0 (b), g1 (a), g2 (b), g3 (a), g4 (a), g5 (a)
    assert res.per_query["rank_first_relevant"].tolist() == [2]
    assert res.micro_p_at_k == 0.0
    for k, hits in [(2, 1), (3, 1), (4, 2), (5, 3), (6, 4)]:
        res = M.retrieval_scores(_unit([0]), g, ["a"], lab, k=k)
        assert res.per_query["hits_at_k"].tolist() == [hits], k
    # the same gallery in another order changes the tie-break, as documented
    res = M.retrieval_scores(_unit([0]), g[[1, 0, 3, 2, 4, 5]], ["a"],
                             [lab[i] for i in [1, 0, 3, 2, 4, 5]], k=3)
    assert res.per_query["rank_first_relevant"].tolist() == [1]
    assert res.per_query["hits_at_k"].tolist() == [2]


def test_score_matrix_kernels_match_stable_argsort_on_heavy_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(60, 25)).astype(float)  # many ties everywhere
    rel = rng.random((60, 25)) < 0.25
    rel[0] = False  # a query with nothing relevant
    for k in (1, 2, 5, 25, 40):
        p_ref, rr_ref, rank_ref = _reference(scores, rel, k)
        np.testing.assert_array_equal(M.precision_at_k(scores, rel, k), p_ref)
        np.testing.assert_array_equal(M.reciprocal_rank(scores, rel), rr_ref)
        np.testing.assert_array_equal(M.first_relevant_rank(scores, rel), rank_ref)
        p_ad, _, _ = _reference(scores, rel, k, adaptive_k=True)
        np.testing.assert_array_equal(M.precision_at_k(scores, rel, k, adaptive_k=True), p_ad)


def _random_set(seed, n_q=37, n_g=53, d=6, n_cls=4, dup=True):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_q, d))
    g = rng.normal(size=(n_g, d))
    if dup:  # exact duplicates in the gallery (ties) and queries equal to gallery items
        g[10:15] = g[3]
        q[:5] = g[20:25]
    ql = rng.integers(0, n_cls, n_q).tolist()
    gl = rng.integers(0, n_cls, n_g).tolist()
    return q, g, ql, gl


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_chunked_equals_unchunked_exactly(similarity):
    q, g, ql, gl = _random_set(1)
    rel = {0: {0, 1}, 1: {1}, 2: {2, 3}, 3: {3, 0}}
    full = M.retrieval_scores(q, g, ql, gl, k=5, relevance=rel, similarity=similarity,
                              chunk_size=len(q))
    for cs in (1, 2, 7, 36, 1000, None):
        res = M.retrieval_scores(q, g, ql, gl, k=5, relevance=rel, similarity=similarity,
                                 chunk_size=cs)
        pd.testing.assert_frame_equal(res.per_query, full.per_query)
        pd.testing.assert_frame_equal(res.per_class, full.per_class)
        assert (res.macro_p_at_k, res.macro_mrr, res.micro_p_at_k, res.micro_mrr) == (
            full.macro_p_at_k, full.macro_mrr, full.micro_p_at_k, full.micro_mrr)
    # and with exclude_self (intra-modal)
    full = M.retrieval_scores(g, g, gl, gl, k=3, exclude_self=True, similarity=similarity)
    for cs in (1, 5, 53, 99):
        res = M.retrieval_scores(g, g, gl, gl, k=3, exclude_self=True, similarity=similarity,
                                 chunk_size=cs)
        pd.testing.assert_frame_equal(res.per_query, full.per_query)


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_retrieval_scores_match_brute_force_reference(similarity):
    q, g, ql, gl = _random_set(2)
    # independent float64 scores: explicit cosine / explicit pairwise distances
    if similarity == "cosine":
        s = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
            g / np.linalg.norm(g, axis=1, keepdims=True)).T
    else:
        s = -np.sqrt(((q[:, None, :] - g[None, :, :]) ** 2).sum(-1))
    # exact duplicates must be exact ties in the reference as well
    s[:, 10:15] = s[:, [3]]
    rel = np.asarray(ql)[:, None] == np.asarray(gl)[None, :]
    p_ref, rr_ref, rank_ref = _reference(s, rel, 4)
    res = M.retrieval_scores(q, g, ql, gl, k=4, similarity=similarity, chunk_size=8)
    np.testing.assert_array_equal(res.per_query["p_at_k"].to_numpy(), p_ref)
    np.testing.assert_array_equal(res.per_query["reciprocal_rank"].to_numpy(), rr_ref)
    np.testing.assert_array_equal(res.per_query["rank_first_relevant"].fillna(0).to_numpy(int),
                                  rank_ref)
    np.testing.assert_allclose(M.similarity_matrix(q, g, similarity), s, atol=1e-6)


def test_accepts_torch_tensors_and_string_labels():
    torch = pytest.importorskip("torch")
    q, g, ql, gl = _random_set(3, dup=False)
    a = M.retrieval_scores(q, g, ql, gl, k=3)
    b = M.retrieval_scores(torch.tensor(q, dtype=torch.float64),
                           torch.tensor(g, dtype=torch.float64),
                           torch.tensor(ql), torch.tensor(gl), k=3)
    assert a.macro_mrr == b.macro_mrr and a.micro_p_at_k == b.micro_p_at_k
    c = M.retrieval_scores(q, g, [f"c{x}" for x in ql], [f"c{x}" for x in gl], k=3)
    assert c.macro_mrr == a.macro_mrr
    assert c.per_class["label"].tolist() == [f"c{x}" for x in sorted(set(ql))]


# ---------------------------------------------------------------- torchmetrics reference
def test_agrees_with_torchmetrics_micro_and_per_class_macro():
    torch = pytest.importorskip("torch")
    tm = pytest.importorskip("torchmetrics.retrieval")
    q, g, ql, gl = _random_set(4, n_q=60, n_g=80, d=8, n_cls=5, dup=False)
    gl[:3] = [5, 5, 5]  # query class 5 does not exist; gallery class 5 has no query
    ql[:2] = [6, 6]      # two queries whose class has no gallery item (scored 0 by both)
    relevance = {c: {c} for c in range(5)} | {6: {6}}
    res = M.retrieval_scores(q, g, ql, gl, k=5, relevance=relevance)
    s = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
        g / np.linalg.norm(g, axis=1, keepdims=True)).T
    target = np.asarray(ql)[:, None] == np.asarray(gl)[None, :]
    # torchmetrics only counts relevant items with a positive score: shift cosine into (0, 3]
    preds = torch.tensor(s + 2.0).flatten()
    tgt = torch.tensor(target).flatten()
    idx = torch.arange(len(q)).repeat_interleave(len(g))

    def tm_value(metric, rows):
        rows = torch.tensor(rows)
        mask = torch.isin(idx, rows)
        return float(metric(preds[mask], tgt[mask], indexes=idx[mask]))

    all_rows = list(range(len(q)))
    assert res.micro_mrr == pytest.approx(tm_value(tm.RetrievalMRR(), all_rows), abs=1e-6)
    assert res.micro_p_at_k == pytest.approx(
        tm_value(tm.RetrievalPrecision(top_k=5), all_rows), abs=1e-6)
    per_class_mrr, per_class_p = [], []
    for c in sorted(set(ql)):
        rows = [i for i, lab in enumerate(ql) if lab == c]
        per_class_mrr.append(tm_value(tm.RetrievalMRR(), rows))
        per_class_p.append(tm_value(tm.RetrievalPrecision(top_k=5), rows))
    np.testing.assert_allclose(res.per_class["mrr"], per_class_mrr, atol=1e-6)
    np.testing.assert_allclose(res.per_class["p_at_k"], per_class_p, atol=1e-6)
    assert res.macro_mrr == pytest.approx(np.mean(per_class_mrr), abs=1e-6)
    assert res.macro_p_at_k == pytest.approx(np.mean(per_class_p), abs=1e-6)
    assert res.n_queries_without_relevant == 2
    # k larger than the gallery, adaptive or not
    small = M.retrieval_scores(q[:10], g[:4], ql[:10], gl[:4], k=6, relevance=relevance)
    sub = (torch.tensor(s[:10, :4] + 2.0).flatten(), torch.tensor(target[:10, :4]).flatten(),
           torch.arange(10).repeat_interleave(4))
    assert small.micro_p_at_k == pytest.approx(float(tm.RetrievalPrecision(top_k=6)(
        sub[0], sub[1], indexes=sub[2])), abs=1e-6)
    small = M.retrieval_scores(q[:10], g[:4], ql[:10], gl[:4], k=6, relevance=relevance,
                               adaptive_k=True)
    assert small.micro_p_at_k == pytest.approx(float(tm.RetrievalPrecision(
        top_k=6, adaptive_k=True)(sub[0], sub[1], indexes=sub[2])), abs=1e-6)


# ---------------------------------------------------------------- errors
def test_clear_errors():
    q, g = np.ones((3, 4)), np.ones((5, 4))
    with pytest.raises(ValueError, match="dimension"):
        M.retrieval_scores(q, np.ones((5, 3)), [0] * 3, [0] * 5)
    with pytest.raises(ValueError, match="query_labels has 2 labels"):
        M.retrieval_scores(q, g, [0] * 2, [0] * 5)
    with pytest.raises(ValueError, match="gallery_labels has 4 labels"):
        M.retrieval_scores(q, g, [0] * 3, [0] * 4)
    with pytest.raises(ValueError, match="query_emb must be a 2-D"):
        M.retrieval_scores(np.ones(4), g, [0], [0] * 5)
    for bad_k in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            M.retrieval_scores(q, g, [0] * 3, [0] * 5, k=bad_k)
    with pytest.raises(ValueError, match="similarity must be one of"):
        M.retrieval_scores(q, g, [0] * 3, [0] * 5, similarity="dot")
    with pytest.raises(ValueError, match="chunk_size"):
        M.retrieval_scores(q, g, [0] * 3, [0] * 5, chunk_size=0)
    with pytest.raises(ValueError, match="n_q must equal"):
        M.retrieval_scores(q, g, [0] * 3, [0] * 5, exclude_self=True)
    with pytest.raises(ValueError, match="no entry for query label"):
        M.retrieval_scores(q, g, [0, 1, 2], [0] * 5, relevance={0: {0}})
    with pytest.raises(TypeError, match="collection of gallery labels"):
        M.retrieval_scores(q, g, ["a"] * 3, ["a"] * 5, relevance={"a": "a"})
    with pytest.raises(ValueError, match="all-zero row"):
        M.retrieval_scores(np.zeros((3, 4)), g, [0] * 3, [0] * 5)
    with pytest.raises(ValueError, match="NaN or inf"):
        M.retrieval_scores(np.full((3, 4), np.nan), g, [0] * 3, [0] * 5)
    with pytest.raises(ValueError, match="missing labels"):
        M.retrieval_scores(q, g, [0, None, 1], [0] * 5)
    with pytest.raises(ValueError, match="same 1-D or 2-D shape"):
        M.precision_at_k(np.ones((2, 3)), np.ones((2, 4), bool), 1)


# ---------------------------------------------------------------- one correct item among K
def test_rank_of_target_tie_rules():
    s = np.array([[0.5, 0.9, 0.5, 0.1], [0.5, 0.9, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0]])
    t = np.array([0, 2, 3])
    assert M.rank_of_target(s, t).tolist() == [3, 3, 4]
    assert M.rank_of_target(s, t, ties="optimistic").tolist() == [2, 2, 1]
    assert M.rank_of_target(s, t, ties="stable").tolist() == [2, 3, 4]
    assert M.rank_of_target([0.1, 0.3, 0.2], 2).tolist() == [2]
    # stable agrees with the argsort definition used by retrieval_scores
    rng = np.random.default_rng(5)
    s = rng.integers(0, 3, size=(40, 7)).astype(float)
    t = rng.integers(0, 7, 40)
    ref = [int(np.flatnonzero(np.argsort(-row, kind="stable") == ti)[0]) + 1
           for row, ti in zip(s, t)]
    assert M.rank_of_target(s, t, ties="stable").tolist() == ref
    with pytest.raises(ValueError, match="ties must be"):
        M.rank_of_target(s, t, ties="average")
    with pytest.raises(ValueError, match="integers"):
        M.rank_of_target(s, t.astype(float))
    with pytest.raises(ValueError, match="target_idx must be in"):
        M.rank_of_target(s, np.full(40, 7))
    with pytest.raises(ValueError, match="one index per row"):
        M.rank_of_target(s, t[:3])


def test_rank_of_target_with_per_query_candidate_sets():
    # row 0: 3 performances of its piece (columns 0-2), row 1: 5 (columns 0-4)
    s = np.array([[0.2, 0.9, 0.4, 5.0, 5.0], [0.2, 0.9, 0.4, 0.3, 0.9]])
    cand = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    assert M.rank_of_target(s, [2, 3], candidates=cand).tolist() == [2, 4]
    assert M.rank_of_target(s, [2, 1], candidates=cand).tolist() == [2, 2]  # tie with col 4
    assert M.rank_of_target(s, [2, 1], candidates=cand, ties="stable").tolist() == [2, 1]
    assert M.rank_of_target(s, [2, 3]).tolist() == [4, 4]  # without the mask
    with pytest.raises(ValueError, match="not among its candidates"):
        M.rank_of_target(s, [3, 0], candidates=cand)
    with pytest.raises(ValueError, match="shape of scores"):
        M.rank_of_target(s, [0, 0], candidates=cand[:, :3])


def test_topk_ratio_and_mrr_by_hand():
    ranks = [1, 3, 2, 5]
    assert M.topk_ratio(ranks, 1) == 0.25
    assert M.topk_ratio(ranks, 2) == 0.5
    assert M.topk_ratio(ranks, 5) == 1.0
    assert M.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 1 / 2 + 1 / 5) / 4)
    with pytest.raises(ValueError, match=">= 1"):
        M.mean_reciprocal_rank([0, 1])
    with pytest.raises(ValueError, match="integers"):
        M.topk_ratio([1.5], 1)
    with pytest.raises(ValueError, match="k must be"):
        M.topk_ratio([1], 0)


def test_random_ranker_expectations():
    assert M.random_mrr(1) == 1.0
    assert M.random_mrr(3) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert M.random_topk_ratio(10, 3) == 0.3
    assert M.random_topk_ratio(4, 9) == 1.0
    # per-query candidate counts: mean of the per-query expectations
    assert M.random_mrr([1, 2]) == pytest.approx((1 + 0.75) / 2)
    assert M.random_topk_ratio([2, 4], 1) == pytest.approx((1 / 2 + 1 / 4) / 2)
    with pytest.raises(ValueError, match="candidate count"):
        M.random_mrr(0)
    # Monte Carlo with rank_of_target on continuous random scores
    rng = np.random.default_rng(7)
    n = 8
    ranks = M.rank_of_target(rng.random((40000, n)), rng.integers(0, n, 40000))
    assert M.mean_reciprocal_rank(ranks) == pytest.approx(M.random_mrr(n), abs=0.01)
    assert M.topk_ratio(ranks, 3) == pytest.approx(M.random_topk_ratio(n, 3), abs=0.01)


# ---------------------------------------------------------------- classification / tagging
def _roc_auc_mann_whitney(y, s):
    r = rankdata(s)
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def _average_precision(y, s):
    order = np.argsort(-s, kind="stable")
    y = y[order]
    prec = np.cumsum(y) / np.arange(1, len(y) + 1)
    return float((prec * y).sum() / y.sum())  # no ties in continuous scores


def test_tagging_auc_against_hand_formulas_and_skips_single_class_tags():
    rng = np.random.default_rng(8)
    y = (rng.random((50, 6)) < 0.3).astype(int)
    s = rng.random((50, 6)) + 0.5 * y
    y[:, 4] = 0  # a tag with no positive item
    with pytest.warns(UserWarning, match="single class"):
        roc, pr = M.tagging_auc(y, s)
    keep = [0, 1, 2, 3, 5]
    assert roc == pytest.approx(np.mean([_roc_auc_mann_whitney(y[:, j], s[:, j]) for j in keep]))
    assert pr == pytest.approx(np.mean([_average_precision(y[:, j], s[:, j]) for j in keep]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        M.tagging_auc(y[:, keep], s[:, keep])  # no warning when every tag has both classes
    with pytest.raises(ValueError, match="equal shape"):
        M.tagging_auc(y, s[:, :3])
    with pytest.raises(ValueError, match="binary"):
        M.tagging_auc(y * 2, s)


def test_accuracy_matches_sklearn():
    from sklearn.metrics import accuracy_score

    rng = np.random.default_rng(9)
    t = rng.choice(["Q1", "Q2", "Q3", "Q4"], 101)
    p = np.where(rng.random(101) < 0.6, t, rng.choice(["Q1", "Q2", "Q3", "Q4"], 101))
    assert M.accuracy(t, p) == pytest.approx(accuracy_score(t, p))
    assert M.accuracy([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    with pytest.raises(ValueError, match="equal length"):
        M.accuracy([1, 2], [1])


def test_random_mrr_is_harmonic_over_n():
    for n in (1, 2, 10, 100):
        assert M.random_mrr(n) == pytest.approx(sum(1 / r for r in range(1, n + 1)) / n)
    n = 10**5  # H_n = ln n + gamma + 1/(2n) - O(n^-2)
    assert M.random_mrr(n) == pytest.approx((math.log(n) + 0.5772156649015329 + 1 / (2 * n)) / n,
                                            rel=1e-9)
