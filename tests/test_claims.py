"""emolib.claims: the claims file, the per-item results frame, the paired class-stratified
bootstrap (against hand-computable cases, scipy and a plain-numpy reference), verdicts
and the written claims table. Offline, a few seconds."""
from __future__ import annotations

import json
import math
import os
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from emolib import claims as C
from emolib import provenance
from emolib.provenance import RunRecord


@pytest.fixture(autouse=True)
def outside_a_run():
    """Tables here are written outside a run unless a test passes a record."""
    provenance.end_run()
    yield
    provenance.end_run()


# ----------------------------------------------------------------------------- helpers
def frame(a: np.ndarray, b: np.ndarray, strata: np.ndarray, *, metric: str = "P@5",
          world_seed: int | None = None) -> pd.DataFrame:
    """Per-item results of settings A and B: ``a`` / ``b`` are (items, seeds) arrays."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n, s = a.shape
    item = np.repeat(np.arange(n), s)
    seed = np.tile(np.arange(s), n)
    parts = []
    for name, v in (("A", a), ("B", b)):
        parts.append(pd.DataFrame({"setting": name, "metric": metric, "item": item,
                                   "stratum": np.asarray(strata)[item], "seed": seed,
                                   "value": v.ravel()}))
    df = pd.concat(parts, ignore_index=True)
    return df if world_seed is None else df.assign(world_seed=world_seed)


def random_case(rng: np.random.Generator, sizes=(5, 8, 12), n_seeds: int = 3,
                shift: float = 0.1, noise: float = 0.1) -> pd.DataFrame:
    strata = np.repeat(np.arange(len(sizes)), sizes)
    n = len(strata)
    b = rng.normal(0.5, 0.2, (n, n_seeds))
    a = b + shift + rng.normal(0, noise, (n, n_seeds)) + rng.normal(0, noise, n_seeds)
    return frame(a, b, strata)


def reference_distribution(df: pd.DataFrame, n_resamples: int, seed: int) -> np.ndarray:
    """Plain numpy, written independently of emolib: loops over the world slots, the worlds
    and the strata, each level drawn with its own ``rng.integers``; vectorised over the
    resamples. Every world slot of every resample gets independent item and seed draws
    (computed for every candidate world, then the drawn world's is picked)."""
    rng = np.random.default_rng(seed)
    if "world_seed" not in df.columns:
        df = df.assign(world_seed=0)
    worlds = []
    for _, w in df.groupby("world_seed"):
        a = w[w.setting == "A"].pivot(index="item", columns="seed", values="value")
        b = w[w.setting == "B"].pivot(index="item", columns="seed", values="value")
        d = (a - b).to_numpy()
        st = w[w.setting == "A"].drop_duplicates("item").set_index("item")["stratum"]
        st = st.reindex(a.index).to_numpy()
        worlds.append([d[st == k] for k in np.unique(st)])
    rows = np.arange(n_resamples)
    total = np.zeros(n_resamples)
    for _slot in range(len(worlds)):
        picked = rng.integers(0, len(worlds), n_resamples)
        inner = np.empty((len(worlds), n_resamples))
        for w, strata in enumerate(worlds):
            n_seeds = strata[0].shape[1]
            seeds = rng.integers(0, n_seeds, (n_resamples, n_seeds))
            macro = np.zeros((n_resamples, n_seeds))
            for d in strata:
                items = rng.integers(0, len(d), (n_resamples, len(d)))
                macro += d[items].mean(axis=1)  # (resamples, seeds)
            macro /= len(strata)
            inner[w] = np.take_along_axis(macro, seeds, axis=1).mean(axis=1)
        total += inner[picked, rows]
    return total / len(worlds)


def write(tmp_path, text: str, name: str = "toy2020.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


HEADER = "id,claim,source,metric,setting_a,setting_b,expected_sign,published_a,published_b,notes\n"
GOOD = HEADER + (
    "c1,A beats B,Table 3,P@5,A,B,+1,0.50,0.40,\n"
    "c2,B loses to A,§5.1,P@5,B,A,-1,,,no number in the paper\n")


# ------------------------------------------------------------------ bootstrap: exact cases
def test_identical_methods_give_zero_and_a_collapsed_ci():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(30, 3))
    res = C.paired_bootstrap(frame(v, v, np.arange(30) % 3), "A", "B", "P@5", n_resamples=2000)
    assert res.delta == 0.0
    assert res.ci_low == res.ci_high == 0.0
    assert (res.n_items, res.n_strata, res.n_seeds, res.n_worlds) == (30, 3, 3, 1)


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa"])
def test_constant_shift_gives_the_shift_and_a_point_ci(method):
    rng = np.random.default_rng(1)
    b = rng.normal(size=(40, 3))
    c = 0.137
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DegenerateDataWarning leaks out (BCa)
        res = C.paired_bootstrap(frame(b + c, b, np.arange(40) % 4), "A", "B", "P@5",
                                 n_resamples=2000, method=method)
    assert res.delta == pytest.approx(c, abs=1e-12)
    assert res.ci_low == pytest.approx(c, abs=1e-12)
    assert res.ci_high == pytest.approx(c, abs=1e-12)
    assert res.method == method


def test_degenerate_designs_do_not_crash():
    # one seed, a stratum with a single item, all differences equal
    b = np.arange(6.0)[:, None]
    df = frame(b + 1.0, b, np.array([0, 1, 1, 1, 2, 2]))
    for method in ("percentile", "BCa"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=500, method=method)
        assert (res.delta, res.ci_low, res.ci_high) == pytest.approx((1.0, 1.0, 1.0))
        assert res.n_seeds == 1
    # nothing at all to resample: one seed, one item per stratum
    one = frame(np.array([[2.0], [3.0]]), np.array([[1.0], [1.0]]), np.array([0, 1]))
    res = C.paired_bootstrap(one, "A", "B", "P@5", n_resamples=100)
    assert (res.delta, res.ci_low, res.ci_high) == (1.5, 1.5, 1.5)


def test_noisy_shift_ci_covers_the_shift_excludes_zero_and_shrinks_with_n():
    c = 0.2
    widths = []
    for n in (60, 600):
        rng = np.random.default_rng(n)
        b = rng.normal(0.5, 0.2, (n, 3))
        a = b + c + rng.normal(0, 0.3, (n, 3))
        res = C.paired_bootstrap(frame(a, b, np.arange(n) % 3), "A", "B", "P@5",
                                 n_resamples=4000)
        assert res.ci_low < c < res.ci_high
        assert res.ci_low > 0
        widths.append(res.ci_high - res.ci_low)
    assert widths[1] < 0.5 * widths[0]  # ~ 1/sqrt(10)


def test_macro_average_weights_strata_equally_and_strata_keep_their_sizes(monkeypatch):
    strata = np.array([0] * 90 + [1] * 10)
    b = np.random.default_rng(2).normal(size=(100, 2))
    a = b + np.where(strata == 0, 1.0, -3.0)[:, None]
    df = frame(a, b, strata)
    # the samples scipy resamples: one per stratum (sizes kept) and one of seeds
    seen = []
    real = scipy.stats.bootstrap

    def spy(data, statistic, **kw):
        seen.append([len(s) for s in data])

        def recording(*samples, axis=-1):
            if samples[0].ndim == 2:
                seen.append([s.shape[-1] for s in samples]
                            + [int(samples[0].max()), int(samples[1].max())])
            return statistic(*samples, axis=axis)

        return real(data, recording, **kw)

    monkeypatch.setattr(C.scipy.stats, "bootstrap", spy)
    res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=3000)
    assert res.delta == pytest.approx(-1.0)  # (1 + (-3)) / 2, not the micro mean
    micro = (df[df.setting == "A"].value.mean() - df[df.setting == "B"].value.mean())
    assert micro == pytest.approx(0.9 * 1 + 0.1 * -3) == pytest.approx(0.6)
    assert C.macro_average(df, "A", "P@5") - C.macro_average(df, "B", "P@5") == \
        pytest.approx(-1.0)
    # zero within-stratum variance: the stratified CI collapses onto the point
    assert res.ci_low == pytest.approx(-1.0) and res.ci_high == pytest.approx(-1.0)
    assert seen[0] == [90, 10, 2]
    assert seen[1][:3] == [90, 10, 2] and seen[1][3] <= 89 and seen[1][4] <= 9
    # whereas resampling the 100 items without strata (the naive micro bootstrap) spreads
    rng = np.random.default_rng(0)
    d = np.where(strata == 0, 1.0, -3.0)
    naive = d[rng.integers(0, 100, (3000, 100))].mean(axis=1)
    assert np.percentile(naive, 97.5) - np.percentile(naive, 2.5) > 0.3


def test_seeds_are_resampled_three_values_for_two_seeds():
    # zero item noise, per-seed offsets: Δ is 0 on seed 0 and 1 on seed 1, for every item
    b = np.zeros((20, 2))
    a = b + np.array([0.0, 1.0])
    res = C.paired_bootstrap(frame(a, b, np.arange(20) % 2), "A", "B", "P@5",
                             n_resamples=8000)
    assert res.delta == pytest.approx(0.5)
    values, counts = np.unique(np.round(res.distribution, 12), return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]  # mean of 2 resampled seeds
    assert counts / counts.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.02)
    assert (res.ci_low, res.ci_high) == (0.0, 1.0)  # 25% mass at each end


# -------------------------------------------------------------- bootstrap vs references
def test_matches_an_independent_loop_reference_and_the_nested_resampler():
    df = random_case(np.random.default_rng(3))
    n = 20_000
    res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=n, seed=11)
    ref = reference_distribution(df, n, seed=12)
    lo, hi = np.percentile(ref, [2.5, 97.5])
    assert res.ci_low == pytest.approx(lo, abs=0.01)
    assert res.ci_high == pytest.approx(hi, abs=0.01)
    assert res.delta == pytest.approx(ref.mean(), abs=0.01)
    # the nested resampler (used for several worlds) on one world = scipy's design
    design = C._design(C.check_item_results(df), "A", "B", "P@5")
    nested = C._nested_distribution(design, n, np.random.default_rng(13))
    assert np.percentile(nested, [2.5, 97.5]) == pytest.approx([res.ci_low, res.ci_high],
                                                               abs=0.01)
    assert nested.std() == pytest.approx(res.distribution.std(), rel=0.05)


def test_world_nesting_matches_the_loop_reference():
    rng = np.random.default_rng(4)
    df = pd.concat([random_case(rng, shift=s).assign(world_seed=w)
                    for w, s in enumerate((0.05, 0.1, 0.2))], ignore_index=True)
    n = 20_000
    res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=n, seed=5)
    ref = reference_distribution(df, n, seed=6)
    assert res.n_worlds == 3 and res.world_seeds == (0, 1, 2)
    assert np.percentile(res.distribution, [2.5, 50, 97.5]) == \
        pytest.approx(np.percentile(ref, [2.5, 50, 97.5]), abs=0.01)
    assert res.distribution.std() == pytest.approx(ref.std(), rel=0.05)


def test_determinism():
    df = random_case(np.random.default_rng(5))
    r1 = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=3000, seed=7)
    r2 = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=3000, seed=7)
    r3 = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=3000, seed=8)
    assert (r1.ci_low, r1.ci_high) == (r2.ci_low, r2.ci_high)
    np.testing.assert_array_equal(r1.distribution, r2.distribution)
    assert (r1.ci_low, r1.ci_high) != (r3.ci_low, r3.ci_high)
    assert r3.ci_low == pytest.approx(r1.ci_low, abs=0.02)
    assert r3.ci_high == pytest.approx(r1.ci_high, abs=0.02)
    shuffled = df.sample(frac=1.0, random_state=0)  # row order does not matter
    r4 = C.paired_bootstrap(shuffled, "A", "B", "P@5", n_resamples=3000, seed=7)
    assert (r4.ci_low, r4.ci_high) == pytest.approx((r1.ci_low, r1.ci_high), abs=1e-12)


def test_world_seeds_are_the_outer_level():
    rng = np.random.default_rng(6)
    parts = []
    for w, shift in ((0, 5.0), (1, -5.0)):
        b = rng.normal(size=(30, 2))
        parts.append(frame(b + shift + rng.normal(0, 0.1, (30, 2)), b, np.arange(30) % 3,
                           world_seed=w))
    both = pd.concat(parts, ignore_index=True)
    pooled = C.paired_bootstrap(both, "A", "B", "P@5", n_resamples=4000)
    assert pooled.n_worlds == 2
    assert pooled.ci_low < -4 and pooled.ci_high > 4  # covers 0, wide
    alone = C.paired_bootstrap(parts[0], "A", "B", "P@5", n_resamples=4000)
    assert alone.n_worlds == 1
    assert alone.ci_low > 4.5 and alone.ci_high - alone.ci_low < 0.5


def test_10000_resamples_are_fast():
    rng = np.random.default_rng(7)
    df = random_case(rng, sizes=(60, 70, 65, 75, 60, 70), n_seeds=3)  # 400 items, 6 strata
    C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=100)  # warm-up
    t0 = time.perf_counter()
    res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=10_000)
    elapsed = time.perf_counter() - t0
    assert res.n_items == 400 and res.n_strata == 6
    assert elapsed < 2.0, f"{elapsed:.2f} s"  # ~0.2 s measured; loose for a busy machine


# --------------------------------------------------------------------- results frame
def _ok() -> pd.DataFrame:
    return frame(np.ones((4, 2)), np.zeros((4, 2)), np.array([0, 0, 1, 1]))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.drop(columns="stratum"), "missing column"),
    (lambda d: d.assign(value=d.value.where(d.index != 3)), "NaN"),
    (lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), "several rows"),
    (lambda d: d.assign(stratum=np.where(d.index == 0, 9, d.stratum)), "different strata"),
    (lambda d: d.assign(seed=d.seed + 0.5), "integers"),
    (lambda d: d.assign(setting=""), "non-empty strings"),
])
def test_check_item_results_refuses_bad_frames(change, message):
    with pytest.raises(ValueError, match=message):
        C.check_item_results(change(_ok()))


def test_check_item_results_defaults_world_seed_and_pairing_is_enforced():
    out = C.check_item_results(_ok())
    assert (out["world_seed"] == 0).all() and out["seed"].dtype == np.int64
    df = _ok()
    unpaired = df[~((df.setting == "B") & (df["item"] == 3))]
    with pytest.raises(ValueError, match=r"not paired.*2 \(world_seed, seed, item\) only in A "
                                         r"\(e\.g\. world_seed=0, seed=0, item=3\)"):
        C.paired_bootstrap(unpaired, "A", "B", "P@5")
    both = df[~((df["item"] == 3) & (df.seed == 1))]
    with pytest.raises(ValueError, match="every training seed"):
        C.paired_bootstrap(both, "A", "B", "P@5")
    with pytest.raises(ValueError, match="no results for setting"):
        C.paired_bootstrap(df, "A", "Z", "P@5")


# --------------------------------------------------------------------- verdicts
@pytest.mark.parametrize("lo, hi, sign, expected", [
    (0.1, 0.3, 1, "holds"),
    (-0.3, -0.1, 1, "reversed"),
    (-0.1, 0.2, 1, "unresolved"),
    (0.0, 0.2, 1, "unresolved"),  # touching 0
    (-0.2, 0.0, -1, "unresolved"),
    (-0.3, -0.1, -1, "holds"),
    (0.1, 0.3, -1, "reversed"),
    (0.0, 0.0, 1, "unresolved"),
    (math.nan, math.nan, 1, "unresolved"),
])
def test_verdict(lo, hi, sign, expected):
    assert C.verdict(lo, hi, sign) == expected


def test_verdict_refuses_bad_signs_and_resolvable():
    for bad in (0, 2, True):
        with pytest.raises(ValueError, match="expected_sign"):
            C.verdict(0.1, 0.2, bad)
    assert C.resolvable(0.1, 0.3, 0.2) is True  # half-width 0.1 <= 0.1
    assert C.resolvable(0.1, 0.3, -0.2) is True
    assert C.resolvable(0.0, 0.4, 0.2) is False
    assert C.resolvable(0.0, 0.4, None) is None
    assert C.resolvable(0.0, 0.4, math.nan) is None


# --------------------------------------------------------------------- claims file
def test_load_claims_round_trip(tmp_path):
    df = C.load_claims("toy2020", write(tmp_path, GOOD))
    assert df["id"].tolist() == ["c1", "c2"]
    assert df["expected_sign"].tolist() == [1, -1]
    assert df["published_a"].iloc[0] == 0.5 and math.isnan(df["published_b"].iloc[1])
    assert df["notes"].tolist() == ["", "no number in the paper"]
    assert df["line"].tolist() == [2, 3]
    # the folder form and an absent 'notes' column
    text = "\n".join(",".join(line.split(",")[:9]) for line in GOOD.splitlines()[:2]) + "\n"
    write(tmp_path, text, "other.csv")
    assert C.load_claims("other", tmp_path)["notes"].tolist() == [""]
    with pytest.raises(FileNotFoundError, match="nope"):
        C.load_claims("nope", tmp_path)


@pytest.mark.parametrize("text, line, column", [
    (GOOD + "c1,again,Table 4,P@5,A,B,1,,,\n", 4, "id"),
    (HEADER + "c1,x,Table 3,P@5,A,B,0,,,\n", 2, "expected_sign"),
    (HEADER + "c1,x,Table 3,P@5,A,B,1,0.5,,\nc2,y,Table 3,MRR,A,B,1,n/a,0.3,\n", 3,
     "published_a"),
    (HEADER.replace("expected_sign,", "") + "c1,x,Table 3,P@5,A,B,0.5,0.4,\n", 1,
     "expected_sign"),
    (HEADER + "c1,x,,P@5,A,B,1,,,\n", 2, "source"),
    (HEADER + "c1,x,Table 3,P@5,A,A,1,,,\n", 2, "setting_b"),
])
def test_load_claims_errors_name_file_line_and_column(tmp_path, text, line, column):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as err:
        C.load_claims("toy2020", path)
    msg = str(err.value)
    assert str(path) in msg and f"line {line}," in msg and repr(column) in msg, msg


# --------------------------------------------------------------------- evaluate_claims
def _claims(tmp_path, extra: str = "") -> pd.DataFrame:
    return C.load_claims("toy2020", write(tmp_path, GOOD + extra))


def test_evaluate_claims_one_row_per_claim(tmp_path):
    rng = np.random.default_rng(8)
    b = rng.normal(0.4, 0.1, (50, 3))
    results = frame(b + 0.1 + rng.normal(0, 0.02, (50, 3)), b, np.arange(50) % 5)
    out = C.evaluate_claims(_claims(tmp_path), results, n_resamples=2000)
    assert list(out.columns) == list(C.RESULT_COLUMNS)
    assert out["id"].tolist() == ["c1", "c2"]
    c1, c2 = out.iloc[0], out.iloc[1]
    assert c1.verdict == "holds" and c2.verdict == "holds"  # c2: B < A expected
    assert c1.delta == pytest.approx(-c2.delta) == pytest.approx(c1.world_a - c1.world_b)
    assert c1.published_delta == pytest.approx(0.1) and math.isnan(c2.published_delta)
    assert c1.resolvable in (True, False) and c2.resolvable is None
    assert (c1.n_items, c1.n_strata, c1.n_seeds, c1.n_worlds) == (50, 5, 3, 1)
    single = C.paired_bootstrap(results, "A", "B", "P@5", n_resamples=2000, seed=0)
    assert (c1.ci_low, c1.ci_high) == (single.ci_low, single.ci_high)
    counts = C.summary_counts(out)
    assert counts["holds"] == 2 and counts["reversed"] == counts["unresolved"] == 0
    assert counts["not run"] == 0 and counts["n_published"] == 1
    assert counts["share_resolvable"] == float(c1.resolvable)
    assert C.summary_counts(out, threshold=0.5)["n_published"] == 0


def test_evaluate_claims_lists_every_missing_setting_at_once_or_skips(tmp_path):
    claims = _claims(tmp_path, "c3,x,Table 5,P@5,A,Z,1,,,\nc4,y,Table 6,MRR,A,B,1,,,\n"
                               "c5,z,Table 7,P@5,Y,X,-1,0.1,0.2,\n")
    results = _ok()
    with pytest.raises(ValueError) as err:
        C.evaluate_claims(claims, results, n_resamples=100)
    msg = str(err.value)
    assert "3 claim(s)" in msg
    assert "c3: setting_b 'Z'" in msg and "c4: metric 'MRR'" in msg
    assert "c5: setting_a 'Y' and setting_b 'X'" in msg
    out = C.evaluate_claims(claims, results, n_resamples=100, missing="skip")
    assert out["verdict"].tolist() == ["holds", "holds", "not run", "not run", "not run"]
    assert "setting_b 'Z' absent" in out["note"].iloc[2] and out["note"].iloc[0] == ""
    assert C.summary_counts(out)["not run"] == 3


def test_summary_lines_by_hand():
    df = pd.DataFrame({
        "id": ["a", "b", "c", "d"], "verdict": ["holds", "reversed", "unresolved", "not run"],
        "published_delta": [0.1, 0.05, np.nan, 0.3], "resolvable": [True, False, None, None],
        "world_a": [0.5, 0.2, 0.4, np.nan], "world_b": [0.3, 0.4, 0.41, np.nan],
        "delta": [0.2, -0.2, -0.01, np.nan], "ci_low": [0.1, -0.3, -0.05, np.nan],
        "ci_high": [0.3, -0.1, 0.04, np.nan]})
    lines = C.summary_lines(df, threshold=0.02, decimals=2, unit=" points")
    assert lines == [
        "4 claims: 1 hold, 1 reversed, 1 unresolved, 1 not run; resolvable: 50% of the 2 "
        "with a published |Δ| ≥ 0.02 points",
        "- reversed   b: A 0.20 vs B 0.40, Δ -0.20 [-0.30, -0.10] (paper Δ +0.05)",
        "- unresolved c: A 0.40 vs B 0.41, Δ -0.01 [-0.05, +0.04] (paper Δ none given)"]


# --------------------------------------------------------------------- output
def _evaluated(tmp_path) -> pd.DataFrame:
    rng = np.random.default_rng(9)
    b = rng.normal(0.4, 0.1, (40, 2))
    results = frame(b + 0.05 + rng.normal(0, 0.05, (40, 2)), b, np.arange(40) % 4,
                    world_seed=3)
    claims = _claims(tmp_path, "c3,has | pipe,Table 5,P@5,A,Z,1,,,\n")
    return C.evaluate_claims(claims, results, n_resamples=500, missing="skip")


def test_write_claims_table(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path / "out"))
    df = _evaluated(tmp_path)
    C.write_claims_table(df, "toy2020", "world (seed=3, profile=default)", [0, 1])
    folder = tmp_path / "out" / "paper_tables"
    md = (folder / "toy2020_claims.md").read_text(encoding="utf-8")
    csv = pd.read_csv(folder / "toy2020_claims.csv", keep_default_na=False)
    assert csv["id"].tolist() == ["c1", "c2", "c3"]
    assert list(csv.columns) == list(C.RESULT_COLUMNS)
    for cid in ("c1", "c2", "c3"):
        assert f"| {cid} " in md
    assert "Paper: `toy2020` · evaluated on: **world (seed=3, profile=default)** · seeds: 0, 1" \
        in md
    assert ("CIs are conditional on this world draw (world seed 3); pass world_seeds to pool "
            "several draws") in md
    assert r"has \| pipe" in md and "world Δ [95% CI]" in md and "not run" in md
    assert not (folder / "toy2020_claims.json").exists()  # outside a run: no sidecar
    # byte-identical for identical input
    before = (folder / "toy2020_claims.csv").read_bytes()
    C.write_claims_table(df, "toy2020", "world (seed=3, profile=default)", [0, 1])
    assert (folder / "toy2020_claims.csv").read_bytes() == before
    # several worlds: no "conditional" sentence; real data: the option turns it off
    pooled = df.assign(n_worlds=np.where(df.verdict == "not run", 0, 2), world_seeds="3,4")
    text = C.claims_table_markdown(pooled, paper="toy2020", data="world", seeds=[0])
    assert "conditional" not in text and "CIs pool 2 world draws (world seeds 3, 4)" in text
    text = C.claims_table_markdown(df, paper="toy2020", data="real", seeds=[0],
                                   conditional_on_world=False)
    assert "conditional" not in text and "reproduced Δ [95% CI]" in text


def test_write_claims_table_with_a_run_record(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path / "out"))
    record = RunRecord(notebook="01_won2021", parameters=(), data="world (seed=3)")
    C.write_claims_table(_evaluated(tmp_path), "toy2020", "world (seed=3)", [0, 1],
                         record=record)
    folder = tmp_path / "out" / "paper_tables"
    assert "- run: notebook `01_won2021`" in (folder / "toy2020_claims.md").read_text("utf-8")
    side = json.loads((folder / "toy2020_claims.json").read_text("utf-8"))
    assert side["table"] == "toy2020_claims" and side["run"]["notebook"] == "01_won2021"


def test_a_failed_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path / "out"))
    df = _evaluated(tmp_path)

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        C.write_claims_table(df, "toy2020", "world", [0])
    folder = tmp_path / "out" / "paper_tables"
    assert list(folder.iterdir()) == []  # neither a target nor a temporary file


def test_sample_scale_by_hand():
    assert C.sample_scale(0.1, 0.3, 0.2) == pytest.approx(1.0)  # exactly resolvable
    assert C.sample_scale(0.0, 0.4, -0.2) == pytest.approx(4.0)  # twice the half-width: 4x
    assert C.sample_scale(-0.01, 0.01, 0.1) == pytest.approx(0.04)
    assert math.isnan(C.sample_scale(0.0, 0.4, None))
    assert math.isnan(C.sample_scale(0.0, 0.4, 0.0))
    assert math.isnan(C.sample_scale(float("nan"), 0.4, 0.2))
    # consistent with resolvable(): scale <= 1 exactly when the claim is resolvable
    for lo, hi, pub in [(0.1, 0.3, 0.2), (0.0, 0.4, 0.2), (-0.05, 0.02, 0.1)]:
        assert (C.sample_scale(lo, hi, pub) <= 1) == C.resolvable(lo, hi, pub)


# --------------------------------------------------------------------- power: parts of a CI
def _scipy_ci(samples, statistic, n_resamples: int, seed: int) -> tuple[float, float]:
    res = scipy.stats.bootstrap(samples, statistic, vectorized=True, paired=False, axis=-1,
                                n_resamples=n_resamples, method="percentile",
                                **C._rng_kwargs(np.random.default_rng(seed)))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def test_resampling_only_items_is_scipy_on_the_item_means_per_stratum():
    rng = np.random.default_rng(21)
    strata = np.repeat([0, 1], [7, 11])
    b = rng.normal(0.5, 0.2, (18, 3))
    a = b + 0.05 + rng.normal(0, 0.1, (18, 3)) + rng.normal(0, 0.05, 3)
    res = C.paired_bootstrap(frame(a, b, strata), "A", "B", "P@5", n_resamples=3000, seed=4,
                             resample="items")
    # seeds held as observed: each item's Δ is its mean over the seeds; the statistic is the
    # mean over the two strata of the stratum means
    d = (a - b).mean(axis=1)
    ref = _scipy_ci((d[strata == 0], d[strata == 1]),
                    lambda x, y, axis=-1: (x.mean(axis=axis) + y.mean(axis=axis)) / 2, 3000, 4)
    np.testing.assert_allclose((res.ci_low, res.ci_high), ref, rtol=0, atol=1e-12)
    assert res.delta == pytest.approx(d[strata == 0].mean() / 2 + d[strata == 1].mean() / 2)


def test_resampling_only_seeds_is_scipy_on_the_per_seed_macro_averages():
    rng = np.random.default_rng(22)
    strata = np.repeat([0, 1, 2], [4, 5, 6])
    b = rng.normal(0.5, 0.2, (15, 6))
    a = b + rng.normal(0, 0.1, (15, 6)) + rng.normal(0, 0.05, 6)
    res = C.paired_bootstrap(frame(a, b, strata), "A", "B", "P@5", n_resamples=3000, seed=5,
                             resample="seeds")
    per_seed = np.mean([(a - b)[strata == k].mean(axis=0) for k in range(3)], axis=0)
    ref = _scipy_ci((per_seed,), lambda x, axis=-1: x.mean(axis=axis), 3000, 5)
    np.testing.assert_allclose((res.ci_low, res.ci_high), ref, rtol=0, atol=1e-12)


def test_the_parts_vanish_where_their_sample_does_not_vary_and_bad_options_fail():
    rng = np.random.default_rng(23)
    strata = np.arange(30) % 3
    b = rng.normal(0.5, 0.2, (30, 4))
    # Δ differs between items, never between seeds: no seed part
    same_seeds = frame(b + rng.normal(0, 0.1, (30, 1)), b, strata)
    assert C.paired_bootstrap(same_seeds, "A", "B", "P@5", n_resamples=500,
                              resample="seeds").ci_low == pytest.approx(
        C.paired_bootstrap(same_seeds, "A", "B", "P@5", n_resamples=500,
                           resample="seeds").ci_high)
    # Δ differs between seeds, never between items: no item part
    same_items = frame(b + rng.normal(0, 0.1, (1, 4)), b, strata)
    r = C.paired_bootstrap(same_items, "A", "B", "P@5", n_resamples=500, resample="items")
    assert r.ci_high - r.ci_low == pytest.approx(0, abs=1e-12)
    full = C.paired_bootstrap(same_items, "A", "B", "P@5", n_resamples=500)
    assert full.ci_high - full.ci_low > 0.01
    with pytest.raises(ValueError, match="resample must be one of"):
        C.paired_bootstrap(same_items, "A", "B", "P@5", resample="worlds")


def test_resampling_items_of_several_worlds_holds_the_worlds_and_averages_them():
    rng = np.random.default_rng(24)
    parts = []
    for w in (0, 1):
        b = rng.normal(0.5, 0.2, (20, 2))
        parts.append(frame(b + 0.1 * w + rng.normal(0, 0.05, (20, 2)), b, np.arange(20) % 2,
                           world_seed=w))
    df = pd.concat(parts, ignore_index=True)
    res = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=2000, resample="items")
    full = C.paired_bootstrap(df, "A", "B", "P@5", n_resamples=2000)
    assert res.delta == pytest.approx(full.delta) and res.ci_low < res.delta < res.ci_high
    # the worlds' difference (0 vs 0.1) is not resampled: a much narrower CI than the full one
    assert res.ci_high - res.ci_low < 0.5 * (full.ci_high - full.ci_low)


def test_part_scale_by_hand():
    assert C.part_scale(0.2, 0.0, 0.2) == pytest.approx(4.0)  # 0.04 / (0.1² − 0)
    assert C.part_scale(0.1, 0.05, -0.2) == pytest.approx(0.01 / 0.0075)
    assert C.part_scale(0.1, 0.1, 0.2) == math.inf  # the rest alone fills the target
    assert C.part_scale(0.1, 0.2, 0.2) == math.inf
    assert C.part_scale(0.0, 0.05, 0.2) == 0.0 and C.part_scale(0.0, 0.2, 0.2) == math.inf
    assert math.isnan(C.part_scale(0.1, 0.0, None)) and math.isnan(C.part_scale(0.1, 0.0, 0))
    # with no rest, the part's scale is sample_scale's
    assert C.part_scale(0.15, 0.0, 0.1) == pytest.approx(C.sample_scale(0.0, 0.3, 0.1))


def test_power_table_rows_parts_and_scales(tmp_path):
    rng = np.random.default_rng(25)
    b = rng.normal(0.4, 0.1, (60, 3))
    results = frame(b + 0.1 + rng.normal(0, 0.05, (60, 3)) + rng.normal(0, 0.02, 3), b,
                    np.arange(60) % 5)
    claims = _claims(tmp_path, "c3,x,Table 5,P@5,A,Z,1,0.3,0.2,\n")
    out = C.power_table(claims, results, n_resamples=2000, seed=0)
    assert list(out.columns) == list(C.POWER_COLUMNS)
    assert out["id"].tolist() == ["c1"]  # c2: no published Δ; c3: setting Z not run
    row = out.iloc[0]
    ev = C.evaluate_claims(claims, results, n_resamples=2000, seed=0, missing="skip").iloc[0]
    assert row.half_width == pytest.approx((ev.ci_high - ev.ci_low) / 2)
    assert row.scale == pytest.approx(C.sample_scale(ev.ci_low, ev.ci_high, 0.1))
    assert 0 < row.hw_seeds and 0 < row.hw_items < row.half_width
    assert row.items_scale == pytest.approx(C.part_scale(row.hw_items, row.hw_seeds, 0.1))
    assert row.seeds_scale == pytest.approx(C.part_scale(row.hw_seeds, row.hw_items, 0.1))
    # the two parts' variances add up to about the full one
    assert row.hw_items ** 2 + row.hw_seeds ** 2 == pytest.approx(row.half_width ** 2, rel=0.3)


def test_power_report_by_hand():
    power = pd.DataFrame({
        "id": ["ok", "items", "seeds", "tiny"], "metric": "P@5",
        "published_delta": [0.3, -0.1, 0.1, 0.01],
        "half_width": [0.05, 0.1, 0.1, 0.1], "hw_items": [0.04, 0.09, 0.02, 0.1],
        "hw_seeds": [0.03, 0.02, 0.09, 0.0],
        "scale": [0.1, 4.0, 4.0, 400.0], "items_scale": [0.2, 3.0, math.inf, 400.0],
        "seeds_scale": [0.1, math.inf, 6.0, 0.0]})
    lines = C.power_report(power, threshold=0.02, factors=(2, 5))
    assert lines[0] == ("- items: 4.0× the test items and seeds together; items alone 3.0×, "
                        "seeds alone never")
    assert lines[1].startswith("- seeds: ") and "seeds alone 6.0×" in lines[1]
    assert lines[2] == "resolvable now: 1 of the 3 claims with a published |Δ| ≥ 0.02"  # no tiny
    assert lines[3] == "more test items alone (the other part as it is): 1 with 2×, 2 with 5×"
    assert lines[4] == "more training seeds alone (the other part as it is): 1 with 2×, 1 with 5×"
    with pytest.raises(ValueError, match="power_table"):
        C.power_report(power.drop(columns="hw_seeds"))
