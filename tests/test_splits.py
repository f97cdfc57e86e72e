"""Tests for emolib.data.splits (stratified, group-aware, leave-one-group-out)."""
from __future__ import annotations

import numpy as np
import pytest

from emolib.data.splits import (
    group_split,
    leave_one_group_out,
    split_counts,
    stratified_count_split,
    stratified_split,
)


def test_stratified_exact_per_class_proportions():
    labels = ["a"] * 60 + ["b"] * 20 + ["c"] * 10
    s = stratified_split(labels, (0.8, 0.1, 0.1), seed=3)
    tab = split_counts(labels, s)
    assert tab.loc["a"].tolist() == [48, 6, 6]
    assert tab.loc["b"].tolist() == [16, 2, 2]
    assert tab.loc["c"].tolist() == [8, 1, 1]
    assert set(s) == {"train", "val", "test"}


def test_stratified_largest_remainder_and_rotation():
    # 7 items at 70/15/15 -> 4.9, 1.05, 1.05: floors 4,1,1, one left -> train (largest remainder)
    s = stratified_split(["x"] * 7, (0.7, 0.15, 0.15), seed=0)
    assert sorted(s.tolist()).count("train") == 5
    # 5 items at 80/10/10 -> 4, .5, .5: the tie goes to val for class 0, test for class 1
    labels = ["a"] * 5 + ["b"] * 5
    tab = split_counts(labels, stratified_split(labels, (0.8, 0.1, 0.1), seed=0))
    assert tab.loc["a"].tolist() == [4, 1, 0] or tab.loc["a"].tolist() == [4, 0, 1]
    assert tab.loc["a", "val"] + tab.loc["b", "val"] == 1
    assert tab.loc["a", "test"] + tab.loc["b", "test"] == 1


def test_stratified_deterministic_and_seed_dependent():
    labels = np.repeat(np.arange(4), 25)
    a = stratified_split(labels, seed=1)
    b = stratified_split(labels, seed=1)
    c = stratified_split(labels, seed=2)
    assert (a == b).all()
    assert (a != c).any()


def test_two_fractions_give_train_test():
    s = stratified_split(["a"] * 10, (0.7, 0.3), seed=0)
    assert sorted(set(s)) == ["test", "train"]
    assert (s == "test").sum() == 3


@pytest.mark.parametrize("fractions, match", [
    ((0.8, 0.1, 0.2), "sum to 1"),
    ((1.0,), "2 .train, test. or 3"),
    ((1.2, -0.1, -0.1), "non-negative"),
    ((0.0, 0.5, 0.5), "train fraction"),
])
def test_bad_fractions_rejected(fractions, match):
    with pytest.raises(ValueError, match=match):
        stratified_split(["a", "b"], fractions)


def test_empty_and_missing_rejected():
    with pytest.raises(ValueError, match="labels is empty"):
        stratified_split([])
    with pytest.raises(ValueError, match="missing"):
        stratified_split(["a", None])
    with pytest.raises(ValueError, match="same length"):
        group_split(["g1", "g2"], labels=["a"])


def test_group_split_no_leakage_and_stratified_by_majority():
    # 4 quadrants x 16 songs x 4 clips, 7:2:1 by song (Zhu 2023 / EMOPIA)
    groups, labels = [], []
    for q in ("Q1", "Q2", "Q3", "Q4"):
        for s in range(16):
            groups += [f"{q}_s{s:03d}"] * 4
            labels += [q] * 4
    s = group_split(groups, labels, (0.7, 0.2, 0.1), seed=0)
    g = np.asarray(groups)
    for grp in set(groups):
        assert len(set(s[g == grp])) == 1, grp
    # 16 songs: 11.2, 3.2, 1.6 -> 11, 3, 2 songs per quadrant
    tab = split_counts(labels, s)
    for q in ("Q1", "Q2", "Q3", "Q4"):
        assert tab.loc[q].tolist() == [44, 12, 8]


def test_group_split_without_labels_counts_groups():
    groups = [f"a{i // 3}" for i in range(30)]  # 10 groups of 3
    s = group_split(groups, None, (0.8, 0.1, 0.1), seed=5)
    per_group = {g: set(s[np.asarray(groups) == g]) for g in set(groups)}
    assert all(len(v) == 1 for v in per_group.values())
    names = [next(iter(v)) for v in per_group.values()]
    assert names.count("train") == 8 and names.count("val") == 1 and names.count("test") == 1


def test_leave_one_group_out():
    groups = ["p2", "p1", "p2", "p3", "p1"]
    folds = list(leave_one_group_out(groups))
    assert [f[0] for f in folds] == ["p1", "p2", "p3"]
    g, train, test = folds[0]
    assert test.tolist() == [1, 4] and train.tolist() == [0, 2, 3]
    for _g, train, test in folds:
        assert set(train).isdisjoint(test) and len(train) + len(test) == 5
    with pytest.raises(ValueError, match="at least 2 groups"):
        list(leave_one_group_out(["only", "only"]))


# --- exact counts (the emotion world's split sizes) -------------------------------------

def test_stratified_count_split_exact_counts_per_class():
    labels = ["a"] * 60 + ["b"] * 20 + ["c"] * 9
    s = stratified_count_split(labels, n_val=3, n_test=5, seed=3)
    tab = split_counts(labels, s)
    assert tab.loc["a"].tolist() == [52, 3, 5]
    assert tab.loc["b"].tolist() == [12, 3, 5]
    assert tab.loc["c"].tolist() == [1, 3, 5]
    assert (s == stratified_count_split(labels, 3, 5, seed=3)).all()  # deterministic
    assert (s != stratified_count_split(labels, 3, 5, seed=4)).any()  # seed-dependent


def test_stratified_count_split_matches_fractions_when_counts_agree():
    """Same per-class shuffle as stratified_split: 60 items at 80/10/10 are 48/6/6."""
    labels = np.repeat(["x", "y", "z"], 60)
    assert (stratified_count_split(labels, 6, 6, seed=7)
            == stratified_split(labels, (0.8, 0.1, 0.1), seed=7)).all()


def test_stratified_count_split_refuses_too_small_classes():
    with pytest.raises(ValueError, match=r"class 'b' has 3 item\(s\), too few for 2 "
                                         r"validation \+ 1 test"):
        stratified_count_split(["a"] * 10 + ["b"] * 3, n_val=2, n_test=1)
    for bad, match in ((-1, "n_val must be a non-negative integer"),
                       (1.5, "n_val must be a non-negative integer"),
                       (True, "n_val must be a non-negative integer")):
        with pytest.raises(ValueError, match=match):
            stratified_count_split(["a"] * 10, n_val=bad, n_test=1)


def test_group_split_counts_whole_groups_per_stratum():
    # 4 quadrants x 24 songs x 4 clips: 11 / 3 / 10 songs per quadrant (the default world)
    groups, labels = [], []
    for q in ("Q1", "Q2", "Q3", "Q4"):
        for k in range(24):
            groups += [f"{q}_s{k:03d}"] * 4
            labels += [q] * 4
    s = group_split(groups, labels, seed=0, counts=(3, 10))
    g = np.asarray(groups)
    assert all(len(set(s[g == grp])) == 1 for grp in set(groups))
    tab = split_counts(labels, s)
    for q in ("Q1", "Q2", "Q3", "Q4"):
        assert tab.loc[q].tolist() == [44, 12, 40]
    # 16 songs at counts (3, 2) are the 7:2:1 shares: the same split as the fractions
    groups16 = [grp for grp in groups if int(grp[-3:]) < 16]
    labels16 = [grp[:2] for grp in groups16]
    assert (group_split(groups16, labels16, seed=0, counts=(3, 2))
            == group_split(groups16, labels16, (0.7, 0.2, 0.1), seed=0)).all()
    with pytest.raises(ValueError, match="stratum 'Q1' .groups. has 24 item"):
        group_split(groups, labels, seed=0, counts=(20, 4))
    with pytest.raises(ValueError, match="counts must be a pair"):
        group_split(groups, labels, counts=(3,))
