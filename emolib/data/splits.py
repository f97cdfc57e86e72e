"""Train/validation/test splits: stratified, group-aware, and leave-one-group-out.

Used for the emotion world and for the real datasets alike. Every split is a pure
function of its inputs and ``seed``:

* :func:`stratified_split` — per class, the exact (largest-remainder) share of items
  goes to each split.
* :func:`stratified_count_split` — per class, an exact *number* of items goes to
  validation and to test, the rest to training (the emotion world's split sizes).
* :func:`group_split` — whole groups (song, author, piece) go to one split, so nothing of a
  group leaks across splits; optionally stratified by each group's majority label;
  ``counts=(n_val, n_test)`` gives exact numbers of groups per stratum instead of fractions.
* :func:`leave_one_group_out` — one fold per group (Chowdhury & Widmer's leave-one-piece-out).

Notebooks: 00_tour, 01_won2021 (by author), 03_chowdhury2023 (by piece), 04_zhu2023 (by song).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np

from emolib.seed import rng

__all__ = ["SPLIT_NAMES", "stratified_split", "stratified_count_split",
           "sklearn_stratified_split", "group_split", "leave_one_group_out", "split_counts"]

#: Split names in order: two fractions give (train, test), three give (train, val, test).
SPLIT_NAMES = ("train", "val", "test")


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    try:
        fr = tuple(float(f) for f in fractions)
    except TypeError:
        raise TypeError(f"fractions must be a sequence of 2 or 3 numbers, "
                        f"got {fractions!r}") from None
    if len(fr) not in (2, 3):
        raise ValueError(f"fractions must have 2 (train, test) or 3 (train, val, test) entries, "
                         f"got {len(fr)}: {fractions!r}")
    if any(not np.isfinite(f) or f < 0 for f in fr):
        raise ValueError(f"fractions must be finite and non-negative, got {fractions!r}")
    if abs(sum(fr) - 1.0) > 1e-6:
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {sum(fr):.6g})")
    if fr[0] == 0:
        raise ValueError(f"the train fraction must be positive, got {fractions!r}")
    return fr


def _names(fr: tuple[float, ...]) -> tuple[str, ...]:
    return ("train", "test") if len(fr) == 2 else SPLIT_NAMES


def _allocate(n: int, fr: tuple[float, ...], rotate: int = 0) -> list[int]:
    """Largest-remainder allocation of ``n`` items to splits (ties rotate by ``rotate``)."""
    raw = np.asarray(fr) * n
    counts = np.floor(raw + 1e-9).astype(int)
    rest = n - int(counts.sum())
    k = len(fr)
    # order by remainder (desc); ties prefer train, then alternate val/test with
    # ``rotate`` so that over many classes the leftovers spread over val and test
    rem = raw - counts
    order = sorted(range(k), key=lambda i: (-round(rem[i], 9),
                                            0 if i == 0 else 1 + (i - 1 - rotate) % (k - 1)))
    for i in order[:rest]:
        counts[i] += 1
    return counts.tolist()


def _check_counts(counts: Sequence[int]) -> tuple[int, int]:
    try:
        n_val, n_test = counts
    except (TypeError, ValueError):
        raise ValueError(f"counts must be a pair (n_val, n_test), got {counts!r}") from None
    for name, c in (("n_val", n_val), ("n_test", n_test)):
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {c!r}")
    return int(n_val), int(n_test)


def _count_allocation(n: int, n_val: int, n_test: int, what: str) -> list[int]:
    """(train, val, test) sizes of a class/stratum of ``n`` items: exactly ``n_val`` and
    ``n_test``, the rest (at least one) to train."""
    if n < n_val + n_test + 1:
        raise ValueError(f"{what} has {n} item(s), too few for {n_val} validation + "
                         f"{n_test} test + at least 1 training")
    return [n - n_val - n_test, n_val, n_test]


def _as_array(values: Sequence, name: str) -> np.ndarray:
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if len(arr) == 0:
        raise ValueError(f"{name} is empty: nothing to split")
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in arr):
        raise ValueError(f"{name} contains missing values (None/NaN)")
    return arr


def _sorted_unique(arr: np.ndarray) -> list:
    return sorted(set(arr.tolist()), key=lambda v: (str(type(v)), v))


def stratified_split(labels: Sequence, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                     seed: int = 0) -> np.ndarray:
    """Assign each item to "train"/"val"/"test" with exact per-class proportions.

    Within each class (in sorted label order) the items are shuffled with a generator
    derived from ``seed`` and the class, and the largest-remainder share of
    ``len(class) * fraction`` goes to each split. Returns an object array of split names
    aligned with ``labels``.
    """
    fr = _check_fractions(fractions)
    names = _names(fr)
    lab = _as_array(labels, "labels")
    out = np.empty(len(lab), dtype=object)
    for ci, c in enumerate(_sorted_unique(lab)):
        idx = np.flatnonzero(lab == c)
        idx = idx[rng(seed, "stratified_split", str(c)).permutation(len(idx))]
        start = 0
        for name, cnt in zip(names, _allocate(len(idx), fr, rotate=ci)):
            out[idx[start:start + cnt]] = name
            start += cnt
    return out


def stratified_count_split(labels: Sequence, n_val: int, n_test: int,
                           seed: int = 0) -> np.ndarray:
    """Assign each item to "train"/"val"/"test" with exact per-class *counts*.

    Within each class (sorted label order) the items are shuffled exactly as
    :func:`stratified_split` shuffles them (same generator per class); the last ``n_test``
    go to test, the ``n_val`` before them to validation, the rest (at least one item) to
    training. So the held-out sets are balanced — ``n_test`` items of every class — and
    when the counts equal the largest-remainder shares of some fractions, the split is the
    one :func:`stratified_split` gives for them. ``ValueError`` (naming the class) when a
    class has fewer than ``n_val + n_test + 1`` items. Returns split names aligned with
    ``labels``.
    """
    n_val, n_test = _check_counts((n_val, n_test))
    lab = _as_array(labels, "labels")
    out = np.empty(len(lab), dtype=object)
    for c in _sorted_unique(lab):
        idx = np.flatnonzero(lab == c)
        idx = idx[rng(seed, "stratified_split", str(c)).permutation(len(idx))]
        start = 0
        for name, cnt in zip(SPLIT_NAMES, _count_allocation(len(idx), n_val, n_test,
                                                            f"class {c!r}")):
            out[idx[start:start + cnt]] = name
            start += cnt
    return out


def sklearn_stratified_split(labels: Sequence, random_state: int = 42,
                fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> np.ndarray:
    """Emo-CLIM's stratified train/val/test split with scikit-learn (``random_state=42``).

    Used for DeepEmotion (``deepemotion.paper_split``) and the AudioSet mood subset.

    First ``train_test_split(test_size=val+test, stratify=labels)``, then the held-out part
    is split again, stratified, into validation and test. Returns split names aligned with
    ``labels``. (:func:`stratified_split` is the library's own exact-proportion split; this
    one reproduces the authors' sklearn call sequence.)
    """
    from sklearn.model_selection import train_test_split

    lab = np.asarray(list(labels), dtype=object)
    if abs(sum(fractions) - 1.0) > 1e-6 or len(fractions) != 3 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive shares summing to 1, got {fractions!r}")
    idx = np.arange(len(lab))
    held = fractions[1] + fractions[2]
    tr, rest = train_test_split(idx, test_size=held, stratify=lab, random_state=random_state)
    va, te = train_test_split(rest, test_size=fractions[2] / held, stratify=lab[rest],
                              random_state=random_state)
    out = np.empty(len(lab), dtype=object)
    out[tr], out[va], out[te] = "train", "val", "test"
    return out


def group_split(groups: Sequence, labels: Sequence | None = None,
                fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, *,
                counts: Sequence[int] | None = None) -> np.ndarray:
    """Assign whole groups to splits; no group is shared between splits.

    ``fractions`` are shares of *groups*. With ``labels``, the groups are first stratified
    by their majority label (ties: smallest label) and each stratum is split separately,
    so every split sees every class (Zhu 2023 / EMOPIA split songs 7:2:1 this way).
    ``counts=(n_val, n_test)`` replaces the fractions by exact numbers of groups per
    stratum for validation and test (the rest, at least one, train; the groups shuffled
    as with fractions). Returns an object array of split names aligned with ``groups``.
    """
    if counts is None:
        fr = _check_fractions(fractions)
        names = _names(fr)
    else:
        n_val, n_test = _check_counts(counts)
        names = SPLIT_NAMES
    grp = _as_array(groups, "groups")
    if labels is not None:
        lab = _as_array(labels, "labels")
        if len(lab) != len(grp):
            raise ValueError(f"labels and groups must have the same length, "
                             f"got {len(lab)} and {len(grp)}")
    uniq = _sorted_unique(grp)
    if labels is None:
        strata = {"__all__": uniq}
    else:
        strata: dict = {}
        for g in uniq:
            cnt = Counter(lab[grp == g].tolist())
            top = max(cnt.values())
            major = sorted((c for c, v in cnt.items() if v == top), key=str)[0]
            strata.setdefault(major, []).append(g)
    assign: dict = {}
    for si, key in enumerate(sorted(strata, key=str)):
        gs = strata[key]
        perm = rng(seed, "group_split", str(key)).permutation(len(gs))
        gs = [gs[i] for i in perm]
        start = 0
        sizes = (_allocate(len(gs), fr, rotate=si) if counts is None else
                 _count_allocation(len(gs), n_val, n_test, f"stratum {key!r} (groups)"))
        for name, cnt in zip(names, sizes):
            for g in gs[start:start + cnt]:
                assign[g] = name
            start += cnt
    return np.asarray([assign[g] for g in grp.tolist()], dtype=object)


def leave_one_group_out(groups: Sequence) -> Iterator[tuple[object, np.ndarray, np.ndarray]]:
    """Yield ``(group, train_idx, test_idx)`` once per group, groups in sorted order.

    Chowdhury & Widmer (2023) evaluate leave-one-piece-out: each piece in turn is the test
    set and the model is fitted on all other pieces.
    """
    grp = _as_array(groups, "groups")
    uniq = _sorted_unique(grp)
    if len(uniq) < 2:
        raise ValueError(f"leave_one_group_out needs at least 2 groups, got {len(uniq)}: {uniq!r}")
    for g in uniq:
        mask = grp == g
        yield g, np.flatnonzero(~mask), np.flatnonzero(mask)


def split_counts(labels: Sequence, splits: Sequence) -> "pd.DataFrame":  # noqa: F821
    """Table of item counts per label (rows) and split (columns), for notebooks and tests."""
    import pandas as pd

    tab = pd.crosstab(pd.Series(list(labels), name="label"), pd.Series(list(splits), name="split"))
    cols = [c for c in ("train", "val", "test") if c in tab.columns]
    return tab[cols]
