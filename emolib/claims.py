"""Paper claims as data, checked on per-item results by a paired, class-stratified bootstrap.

Each paper's claims are typed in from the paper alone: ``emolib/data/claims/<paper>.csv``
(schema: that folder's README.md; :func:`load_claims` reads and validates one). A claim
says that setting A beats (``expected_sign`` +1) or loses to (−1) setting B on a metric.

A notebook collects its **per-item results** in a tidy DataFrame (:data:`ITEM_COLUMNS`:
``setting, metric, item, stratum, seed, value`` and optionally ``world_seed``), one row
per test item, training seed and world draw (:func:`check_item_results` validates it).
For a setting and a metric the statistic is the **macro average**: per training seed the
mean over strata (classes) of the mean over that stratum's items, then the mean over
seeds, then over world draws (:func:`macro_average`). A claim's Δ = stat(A) − stat(B) is
paired: A and B must be evaluated on the same items, seeds and world draws.

:func:`paired_bootstrap` gives Δ and its confidence interval. Resampling is nested like
the data: test items within their stratum (each stratum keeps its size, so the macro
average keeps its weights), training seeds independently of the items, and — when there
are several — world draws as the outermost level (each resampled world gets its own
resampled items and seeds). A and B always share the resampled items, seeds and worlds.
:func:`verdict` and :func:`resolvable` judge a CI; :func:`evaluate_claims` does it for
every claim of a paper; :func:`claims_table_markdown` / :func:`write_claims_table` write
``paper_tables/<paper>_claims.csv|.md`` (with the run record, like
:func:`emolib.tables.write_paper_table`).

How ``scipy.stats.bootstrap`` is used: with one world draw, the bootstrap *is*
``scipy.stats.bootstrap``: its ``data`` are index arrays — one sample of item indices per
stratum and one sample of seed indices — which scipy resamples independently of each
other (``paired=False`` across samples: exactly the stratified design); the vectorized
statistic maps the resampled index arrays to Δ. scipy cannot express the world-outer
nesting (it resamples each sample once per replicate, so a world drawn twice would reuse
one inner resample); with several world draws the bootstrap distribution comes from the
small nested resampler :func:`_nested_distribution` (tested against scipy on one world),
and scipy computes the interval from it (``bootstrap_result``, ``n_resamples=0``).

Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023 (their claims
sections).
"""
from __future__ import annotations

import inspect
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.stats
from scipy.stats import DegenerateDataWarning
from tabulate import tabulate

from emolib.data.files import DataError, read_csv
from emolib.io import atomic_write_text
from emolib.paths import tables_dir
from emolib.provenance import RunRecord, current_record, write_run_sidecar
from emolib.tables import MISSING, _fmt

__all__ = [
    "CLAIM_COLUMNS",
    "CLAIM_REQUIRED",
    "ITEM_COLUMNS",
    "RESULT_COLUMNS",
    "VERDICTS",
    "BootstrapResult",
    "claims_path",
    "load_claims",
    "check_item_results",
    "macro_average",
    "paired_bootstrap",
    "verdict",
    "resolvable",
    "sample_scale",
    "part_scale",
    "power_table",
    "power_report",
    "RESAMPLE",
    "POWER_COLUMNS",
    "evaluate_claims",
    "summary_counts",
    "summary_lines",
    "claims_table_markdown",
    "write_claims_table",
]

log = logging.getLogger(__name__)

#: Columns of ``emolib/data/claims/<paper>.csv`` (``notes`` may be absent).
CLAIM_COLUMNS = ("id", "claim", "source", "metric", "setting_a", "setting_b",
                 "expected_sign", "published_a", "published_b", "notes")
#: Columns a claims file must have.
CLAIM_REQUIRED = CLAIM_COLUMNS[:-1]
#: Columns whose cells may be empty (published values the paper does not give; notes).
_MAY_BE_EMPTY = ("published_a", "published_b", "notes")
#: Columns of the per-item results frame (``world_seed`` is optional, default 0).
ITEM_COLUMNS = ("setting", "metric", "item", "stratum", "seed", "value")
#: Columns of :func:`evaluate_claims`'s frame (the CSV written by :func:`write_claims_table`).
RESULT_COLUMNS = ("id", "claim", "source", "metric", "setting_a", "setting_b", "expected_sign",
                  "published_delta", "world_a", "world_b", "delta", "ci_low", "ci_high",
                  "verdict", "resolvable", "n_items", "n_strata", "n_seeds", "n_worlds",
                  "world_seeds", "confidence", "method", "n_resamples", "note")
#: The verdicts :func:`evaluate_claims` gives.
VERDICTS = ("holds", "reversed", "unresolved", "not run")
_METHODS = {"percentile": "percentile", "basic": "basic", "bca": "BCa"}
_KEY = ["world_seed", "setting", "metric", "seed", "item"]
_PAPER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: Index cells materialised per resampling chunk (bounds the memory of the bootstrap).
_MAX_CELLS = 1 << 22


# --------------------------------------------------------------------------------------
# the claims file
# --------------------------------------------------------------------------------------
def claims_path(paper: str, path: str | os.PathLike[str] | None = None) -> Path:
    """The claims CSV of ``paper``: ``path`` itself (a file), ``path/<paper>.csv`` (a
    folder), or the package's ``emolib/data/claims/<paper>.csv``."""
    if not isinstance(paper, str) or not _PAPER_RE.match(paper):
        raise ValueError(f"paper must be a file stem such as 'won2021', got {paper!r}")
    if path is None:
        return Path(__file__).resolve().parent / "data" / "claims" / f"{paper}.csv"
    p = Path(path)
    return p / f"{paper}.csv" if p.is_dir() else p


def _fail(path: Path, line: int, column: str, message: str) -> DataError:
    return DataError(f"{os.path.abspath(path)}: line {line}, column {column!r}: {message}")


def _check_header(path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in CLAIM_REQUIRED if c not in columns]
    if missing:
        raise _fail(path, 1, missing[0],
                    f"missing column(s) {missing} in the header of the claims file; expected "
                    f"{list(CLAIM_REQUIRED)} (and optionally 'notes'), found {list(columns)}")
    extra = [c for c in columns if c not in CLAIM_COLUMNS]
    if extra:
        raise _fail(path, 1, extra[0], f"unknown column(s) {extra} in the header of the claims "
                    f"file; the columns are {list(CLAIM_COLUMNS)}")


def _check_cells(path: Path, df: pd.DataFrame, lines: np.ndarray) -> None:
    for col in CLAIM_REQUIRED:
        if col in _MAY_BE_EMPTY:
            continue
        empty = (df[col] == "").to_numpy()
        if empty.any():
            raise _fail(path, int(lines[np.flatnonzero(empty)[0]]), col,
                        f"empty cell ({int(empty.sum())} empty in this column); every claim "
                        "needs a value here")
    dup = df["id"].duplicated(keep=False).to_numpy()
    if dup.any():
        first = df["id"].iloc[int(np.flatnonzero(dup)[0])]
        at = lines[(df["id"] == first).to_numpy()].tolist()
        raise _fail(path, int(at[1]), "id", f"id {first!r} appears on lines "
                    f"{', '.join(map(str, at))}; claim ids must be unique")
    same = (df["setting_a"] == df["setting_b"]).to_numpy()
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise _fail(path, int(lines[i]), "setting_b", f"setting_b equals setting_a "
                    f"({df['setting_a'].iloc[i]!r}); a claim compares two different settings")


def _parse_sign(path: Path, text: str, line: int) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value not in (1.0, -1.0):
        raise _fail(path, line, "expected_sign", f"{text!r} is not +1 (A > B expected) or -1 "
                    "(A < B expected)")
    return int(value)


def _parse_published(path: Path, text: str, line: int, column: str) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _fail(path, line, column, f"{text!r} is not a number; type the value as printed "
                    "in the paper (e.g. 0.512), or leave the cell empty when the paper gives "
                    "no number")
    return value


def load_claims(paper: str, path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read and validate the claims of one paper (schema: ``emolib/data/claims/README.md``).

    ``path``: the CSV file, or a folder holding ``<paper>.csv`` (default: the package's
    ``emolib/data/claims/<paper>.csv``). Returns a DataFrame with the columns
    :data:`CLAIM_COLUMNS` plus ``line`` (the row's line in the file; the header is line 1),
    in file order: strings stripped, ``expected_sign`` an int (+1 / −1), ``published_a`` /
    ``published_b`` floats (NaN where the cell is empty), ``notes`` "" when absent.

    Before anything else is done, :class:`~emolib.data.files.DataError` (a ``ValueError``)
    naming the file, the line and the column for: a missing or unknown column (line 1), an
    empty ``id`` / ``claim`` / ``source`` / ``metric`` / setting, a duplicated ``id``,
    ``setting_a == setting_b``, an ``expected_sign`` other than +1 / −1, or a published
    value that is not a finite number (e.g. "n/a": leave the cell empty instead); and what
    :func:`emolib.data.files.read_csv` refuses (not UTF-8, a row with the wrong number of
    fields, …). ``FileNotFoundError`` naming the file when it does not exist.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    p = claims_path(paper, path)
    if not p.is_file():
        folder = p.parent
        have = sorted(f.stem for f in folder.glob("*.csv")) if folder.is_dir() else []
        raise FileNotFoundError(f"no claims file for paper {paper!r}: {p} does not exist "
                                f"(available: {have or 'none'})")
    raw = read_csv(p, what=f"claims file of {paper}", line_column="line", min_rows=0)
    _check_header(p, [c for c in raw.columns if c != "line"])
    lines = raw["line"].to_numpy()
    df = raw.drop(columns="line").apply(lambda col: col.astype(str).str.strip())
    if "notes" not in df.columns:
        df["notes"] = ""
    _check_cells(p, df, lines)
    df["expected_sign"] = [_parse_sign(p, s, int(n)) for s, n in zip(df["expected_sign"], lines)]
    for col in ("published_a", "published_b"):
        df[col] = [_parse_published(p, s, int(n), col) for s, n in zip(df[col], lines)]
    df = df[list(CLAIM_COLUMNS)].assign(line=lines.astype(np.int64))
    log.info("%s: %d claim(s) from %s", paper, len(df), p)
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the per-item results frame
# --------------------------------------------------------------------------------------
def _py(v: Any) -> Any:
    """A numpy scalar as the Python value (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _row_text(df: pd.DataFrame, i: int) -> str:
    r = df.iloc[i]
    keys = [c for c in ("world_seed", *ITEM_COLUMNS) if c in df.columns]
    return f"row {i} (" + ", ".join(f"{c}={_py(r[c])!r}" for c in keys) + ")"


def _integers(df: pd.DataFrame, col: str) -> pd.Series:
    v = pd.to_numeric(df[col], errors="coerce")
    bad = (v.isna() | (np.mod(v.fillna(0), 1) != 0)).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"results[{col!r}] must hold integers (a {col.replace('_', ' ')}); "
                         f"{int(bad.sum())} row(s) do not, e.g. {_row_text(df, i)}")
    return v.astype(np.int64)


def _check_labels(df: pd.DataFrame) -> None:
    for col in ("setting", "metric"):
        bad = [i for i, x in enumerate(df[col]) if not isinstance(x, str) or not x.strip()]
        if bad:
            raise ValueError(f"results[{col!r}] must hold non-empty strings; {len(bad)} row(s) "
                             f"do not, e.g. {_row_text(df, bad[0])}")
    for col in ("item", "stratum"):
        bad = df[col].isna().to_numpy()
        if bad.any():
            raise ValueError(f"results[{col!r}] has {int(bad.sum())} missing value(s), e.g. "
                             f"{_row_text(df, int(np.flatnonzero(bad)[0]))}")


def _check_values(df: pd.DataFrame) -> pd.Series:
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"results['value'] must be numbers, not NaN or missing: {int(bad.sum())} "
                         f"row(s) are not, e.g. {_row_text(df, i)} has {df['value'].iloc[i]!r}")
    return values.astype(float)


def _check_unique(df: pd.DataFrame) -> None:
    dup = df.duplicated(_KEY, keep=False).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(f"results has several rows for one (world_seed, setting, metric, seed, "
                         f"item): {int(dup.sum())} such rows, e.g. {_row_text(df, i)}")
    n_strata = df.groupby(["world_seed", "item"], sort=False)["stratum"].nunique()
    multi = n_strata[n_strata > 1]
    if len(multi):
        world, item = multi.index[0]
        strata = df.loc[(df["world_seed"] == world) & (df["item"] == item), "stratum"].unique()
        raise ValueError(f"item {_py(item)!r} (world seed {world}) has different strata "
                         f"across rows: {sorted(map(str, strata))}; an item belongs to one class "
                         f"({len(multi)} such item(s))")


def check_item_results(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a per-item results frame; return it normalised (a copy).

    Columns: :data:`ITEM_COLUMNS` — ``setting`` and ``metric`` (non-empty strings: a row
    name of the compared methods, a metric name such as "P@5"), ``item`` (the test query /
    item id), ``stratum`` (its class), ``seed`` (training seed, an integer), ``value`` (a
    number) — and optionally ``world_seed`` (an integer; 0 when the column is absent).
    Items of different world draws are different items even when their ids coincide.

    Returns DataFrame[world_seed, setting, metric, item, stratum, seed, value] (ints for the
    seeds, floats for the values; other columns dropped). ``TypeError`` for a non-DataFrame;
    ``ValueError`` naming a row for: missing columns, NaN / missing / non-numeric values,
    non-integer seeds, empty settings or metrics, missing items or strata, several rows
    for one (world_seed, setting, metric, seed, item), an item with different strata.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame with columns {list(ITEM_COLUMNS)}, "
                        f"got {type(df).__name__}")
    missing = [c for c in ITEM_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"results is missing column(s) {missing}; expected a tidy per-item "
                         f"frame with columns {list(ITEM_COLUMNS)} (+ optional 'world_seed'), "
                         f"got {list(df.columns)}")
    out = df.reset_index(drop=True)
    if "world_seed" not in out.columns:
        out = out.assign(world_seed=0)
    out = out[["world_seed", *ITEM_COLUMNS]].copy()
    _check_labels(out)
    out["seed"] = _integers(out, "seed")
    out["world_seed"] = _integers(out, "world_seed")
    out["value"] = _check_values(out)
    _check_unique(out)
    return out


# --------------------------------------------------------------------------------------
# the design of one comparison: per world, the A − B values per stratum
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _World:
    """One world draw of a comparison: per stratum an (items, seeds) matrix."""

    world_seed: int
    diff: tuple[np.ndarray, ...]  # A − B per stratum, (n_items_k, n_seeds)
    a: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    seeds: tuple[int, ...]
    strata: tuple[Any, ...]

    @property
    def n_items(self) -> int:
        return sum(len(d) for d in self.diff)


@dataclass(frozen=True)
class _Design:
    setting_a: str
    setting_b: str
    metric: str
    worlds: tuple[_World, ...]


def _sorted(values: Sequence[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _unpaired_error(a: str, b: str, metric: str, merged: pd.DataFrame) -> ValueError:
    only_a = merged[merged["_merge"] == "left_only"]
    only_b = merged[merged["_merge"] == "right_only"]

    def eg(rows: pd.DataFrame) -> str:
        r = rows.iloc[0]
        return (f" (e.g. world_seed={_py(r.world_seed)}, seed={_py(r.seed)}, "
                f"item={_py(r['item'])!r})")

    parts = [f"{len(only_a)} (world_seed, seed, item) only in A{eg(only_a) if len(only_a) else ''}",
             f"{len(only_b)} only in B{eg(only_b) if len(only_b) else ''}"]
    return ValueError(f"settings A={a!r} and B={b!r} are not paired for metric {metric!r}: a "
                      f"paired comparison needs both evaluated on the same items, seeds and "
                      f"world draws; {'; '.join(parts)}")


def _world(a: str, b: str, metric: str, rows: pd.DataFrame, world_seed: int) -> _World:
    items = _sorted(rows["item"].unique().tolist())
    seeds = sorted(rows["seed"].unique().tolist())
    if len(rows) != len(items) * len(seeds):
        raise ValueError(f"settings A={a!r} / B={b!r}, metric {metric!r}, world seed "
                         f"{world_seed}: not every item is evaluated under every training seed "
                         f"({len(rows)} (seed, item) pairs for {len(items)} items x "
                         f"{len(seeds)} seeds); the bootstrap resamples items and seeds "
                         "independently and needs the full grid")
    item_code = pd.Index(items).get_indexer(rows["item"])
    seed_code = pd.Index(seeds).get_indexer(rows["seed"])
    mats = {}
    for col in ("value_a", "value_b"):
        m = np.empty((len(items), len(seeds)))
        m[item_code, seed_code] = rows[col].to_numpy(dtype=float)
        mats[col] = m
    stratum_of = rows.drop_duplicates("item").set_index("item")["stratum"]
    strata = _sorted(stratum_of.unique().tolist())
    per_item = stratum_of.reindex(items).to_numpy()
    groups = [np.flatnonzero(per_item == s) for s in strata]
    ma, mb = mats["value_a"], mats["value_b"]
    return _World(world_seed=int(world_seed), diff=tuple(ma[g] - mb[g] for g in groups),
                  a=tuple(ma[g] for g in groups), b=tuple(mb[g] for g in groups),
                  seeds=tuple(int(s) for s in seeds), strata=tuple(strata))


def _design(results: pd.DataFrame, a: str, b: str, metric: str) -> _Design:
    """The paired design of (A, B, metric) from a :func:`check_item_results` frame."""
    sub = results[results["metric"] == metric]
    keys = ["world_seed", "seed", "item"]
    ra = sub.loc[sub["setting"] == a, [*keys, "stratum", "value"]]
    rb = sub.loc[sub["setting"] == b, [*keys, "value"]]
    for name, rows in (("A", ra), ("B", rb)):
        if rows.empty:
            setting = a if name == "A" else b
            raise ValueError(f"no results for setting {name}={setting!r} and metric {metric!r} "
                             f"(metrics present: {sorted(results['metric'].unique())})")
    merged = ra.merge(rb, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    if (merged["_merge"] != "both").any():
        raise _unpaired_error(a, b, metric, merged)
    worlds = tuple(_world(a, b, metric, rows, int(w))
                   for w, rows in merged.groupby("world_seed", sort=True))
    return _Design(setting_a=a, setting_b=b, metric=metric, worlds=worlds)


def _macro(mats: Sequence[np.ndarray]) -> float:
    """Mean over seeds of the mean over strata of the mean over items."""
    return float(np.mean([m.mean(axis=0) for m in mats], axis=0).mean())


def _pooled(design: _Design, part: Callable[[_World], Sequence[np.ndarray]]) -> float:
    return float(np.mean([_macro(part(w)) for w in design.worlds]))


def macro_average(results: pd.DataFrame, setting: str, metric: str) -> float:
    """The statistic of one (setting, metric): per training seed the mean over strata of
    the mean over the stratum's items, averaged over seeds, then over world draws.

    ``results``: a per-item results frame (:func:`check_item_results`). ``ValueError`` when
    the setting has no rows for the metric. Notebooks: the claims sections of 01–04.
    """
    df = check_item_results(results)
    sub = df[(df["setting"] == setting) & (df["metric"] == metric)]
    if sub.empty:
        raise ValueError(f"no results for setting {setting!r} and metric {metric!r}")
    per_world = []
    for _, rows in sub.groupby("world_seed", sort=True):
        per_stratum = rows.groupby(["seed", "stratum"], sort=False)["value"].mean()
        by_seed = per_stratum.groupby(level="seed").mean()
        per_world.append(by_seed.mean())
    return float(np.mean(per_world))


# --------------------------------------------------------------------------------------
# the vectorised statistic on resampled index arrays
# --------------------------------------------------------------------------------------
def _mean_rows(d: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of the rows ``d[idx]`` over the last axis of ``idx``: (..., m) → (..., d.shape[1]).

    One gather per column of ``d`` (a few seeds): faster than materialising ``d[idx]``.
    """
    idx = np.asarray(idx, dtype=np.intp)
    return np.stack([np.take(d[:, j], idx).mean(axis=-1) for j in range(d.shape[1])], axis=-1)


def _world_stat(world: _World, items: Sequence[np.ndarray | None],
                seeds: np.ndarray | None) -> np.ndarray:
    """Δ of one world for resampled item indices (per stratum) and seed indices.

    ``None``: that sample is not resampled (all of its items or seeds, as observed; also a
    sample of size one, which is the same under every resample). Leading axes of the index
    arrays broadcast; the result has their shape.
    """
    macro: np.ndarray | float = 0.0
    for d, idx in zip(world.diff, items):
        macro = macro + (d.mean(axis=0) if idx is None else _mean_rows(d, idx))
    macro = np.asarray(macro) / len(world.diff)  # (..., n_seeds)
    if seeds is None:
        return macro.mean(axis=-1)
    weights = _mean_rows(np.eye(len(world.seeds)), seeds)
    return (macro * weights).sum(axis=-1)


@dataclass(frozen=True)
class _Plan:
    """Which sample of scipy's ``data`` is which: ("world",), ("items", w, k), ("seeds", w).

    Samples of size one are left out (scipy needs two or more observations per sample;
    a sample of one is the same under every resample)."""

    roles: tuple[tuple, ...]
    data: tuple[np.ndarray, ...]


#: What :func:`paired_bootstrap` resamples: everything (the CI of a claim), or only the test
#: items, or only the training seeds, the rest held as observed (the parts of its width).
RESAMPLE = ("all", "items", "seeds")


def _plan(design: _Design, resample: str = "all") -> _Plan:
    roles: list[tuple] = []
    data: list[np.ndarray] = []

    def add(role: tuple, n: int) -> None:
        if n > 1:
            roles.append(role)
            data.append(np.arange(n))

    if resample == "all":
        add(("world",), len(design.worlds))
    for w, world in enumerate(design.worlds):
        if resample in ("all", "items"):
            for k, d in enumerate(world.diff):
                add(("items", w, k), len(d))
        if resample in ("all", "seeds"):
            add(("seeds", w), len(world.seeds))
    return _Plan(roles=tuple(roles), data=tuple(data))


def _statistic(design: _Design, plan: _Plan) -> Callable[..., np.ndarray]:
    """The vectorised statistic for ``scipy.stats.bootstrap``: index samples → Δ.

    With several worlds, a world resampled twice reuses its one inner resample here: the
    exact nesting is :func:`_nested_distribution`'s. This statistic gives the point
    estimate and BCa's jackknife acceleration.
    """
    n_worlds = len(design.worlds)

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        if axis not in (-1, samples[0].ndim - 1):
            raise ValueError(f"the claims statistic works along the last axis, got axis={axis}")
        by_role = dict(zip(plan.roles, samples))
        total: np.ndarray | float = 0.0
        weights = (_mean_rows(np.eye(n_worlds), by_role[("world",)])
                   if ("world",) in by_role else None)
        for w, world in enumerate(design.worlds):
            items = [by_role.get(("items", w, k)) for k in range(len(world.diff))]
            t = _world_stat(world, items, by_role.get(("seeds", w)))
            total = total + (t if weights is None else weights[..., w] * t)
        return np.asarray(total if weights is not None else total / n_worlds)

    return statistic


def _inner_draws(world: _World, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` independent resamples of one world's Δ (items within strata, and seeds)."""
    out = np.empty(n)
    step = max(1, _MAX_CELLS // max(1, world.n_items + len(world.seeds)))
    for start in range(0, n, step):
        b = min(step, n - start)
        items = [rng.integers(0, len(d), size=(b, len(d))) for d in world.diff]
        seeds = rng.integers(0, len(world.seeds), size=(b, len(world.seeds)))
        out[start:start + b] = _world_stat(world, items, seeds)
    return out


def _nested_distribution(design: _Design, n_resamples: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Bootstrap distribution of Δ with world draws as the outermost level.

    Per replicate: resample the worlds; every resampled world (each of its copies) gets
    its own resample of items within strata and of seeds. With one world it is the same
    design as the scipy path (tested against it).
    """
    n_worlds = len(design.worlds)
    outer = rng.integers(0, n_worlds, size=(n_resamples, n_worlds))
    inner = np.empty((n_resamples, n_worlds))
    for w, world in enumerate(design.worlds):
        hit = outer == w
        inner[hit] = _inner_draws(world, int(hit.sum()), rng)
    return inner.mean(axis=1)


# --------------------------------------------------------------------------------------
# the bootstrap
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BootstrapResult:
    """Δ = stat(A) − stat(B) of one comparison and its bootstrap confidence interval.

    ``n_items``: test items (summed over world draws); ``n_strata``: distinct strata;
    ``n_seeds``: distinct training seeds; ``n_worlds``: world draws. ``stat_a`` /
    ``stat_b``: the macro averages of A and B; ``distribution``: the bootstrap
    distribution of Δ; ``world_seeds``: the world draws.
    """

    delta: float
    ci_low: float
    ci_high: float
    n_items: int
    n_strata: int
    n_seeds: int
    n_worlds: int
    n_resamples: int
    method: str
    confidence: float
    stat_a: float = math.nan
    stat_b: float = math.nan
    world_seeds: tuple[int, ...] = ()
    distribution: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Distribution:
    """A bootstrap distribution handed to ``scipy.stats.bootstrap(bootstrap_result=...)``."""

    bootstrap_distribution: np.ndarray


def _rng_kwargs(rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """scipy's seeding argument: ``rng`` (scipy ≥ 1.15) or ``random_state`` (older)."""
    params = inspect.signature(scipy.stats.bootstrap).parameters
    return {"rng" if "rng" in params else "random_state": rng}


def _check_options(n_resamples: int, confidence: float, method: str) -> str:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence!r}")
    key = str(method).lower()
    if key not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS.values())}, got {method!r}")
    return _METHODS[key]


def _scipy_interval(plan: _Plan, statistic: Callable[..., np.ndarray], *, n_resamples: int,
                    confidence: float, method: str, rng: np.random.Generator,
                    distribution: np.ndarray | None) -> tuple[float, float, np.ndarray]:
    """Run ``scipy.stats.bootstrap`` (or only its interval, given a ``distribution``).

    scipy's DegenerateDataWarning (BCa on a distribution without spread: the interval is
    NaN, after 0/0 RuntimeWarnings) is handled here, and those warnings are dropped: the
    interval collapses onto the constant distribution. Other warnings are passed on.
    """
    n_cells = max(1, sum(len(s) for s in plan.data))
    kwargs: dict[str, Any] = dict(
        statistic=statistic, vectorized=True, paired=False, axis=-1,
        confidence_level=confidence, method=method, batch=max(1, _MAX_CELLS // n_cells),
        **_rng_kwargs(rng))
    if distribution is None:
        kwargs["n_resamples"] = n_resamples
    else:
        kwargs.update(n_resamples=0, bootstrap_result=_Distribution(distribution))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = scipy.stats.bootstrap(plan.data, **kwargs)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    dist = np.asarray(res.bootstrap_distribution, dtype=float)
    degenerate = not (math.isfinite(lo) and math.isfinite(hi))
    for w in caught:
        if not (degenerate and _degenerate_warning(w)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if degenerate:
        lo, hi = _degenerate_interval(plan, statistic, dist, confidence, method)
    return lo, hi, dist


def _degenerate_warning(w: warnings.WarningMessage) -> bool:
    """scipy's warnings for an interval it cannot compute (BCa without spread: 0/0)."""
    return issubclass(w.category, DegenerateDataWarning) or (
        issubclass(w.category, RuntimeWarning) and "invalid value" in str(w.message))


def _degenerate_interval(plan: _Plan, statistic: Callable[..., np.ndarray], dist: np.ndarray,
                         confidence: float, method: str) -> tuple[float, float]:
    spread = float(np.ptp(dist))
    if spread <= 1e-12 * max(1.0, float(np.abs(dist).max())):
        log.info("bootstrap distribution without spread: the %s interval collapses to %g",
                 method, dist[0])
        return float(dist.min()), float(dist.max())
    log.warning("the %s interval is undefined for this bootstrap distribution; using the "
                "percentile interval", method)
    res = scipy.stats.bootstrap(plan.data, statistic, vectorized=True, axis=-1, n_resamples=0,
                                bootstrap_result=_Distribution(dist), method="percentile",
                                confidence_level=confidence)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _bootstrap_design(design: _Design, *, n_resamples: int, confidence: float, method: str,
                      seed: int | np.random.Generator, resample: str = "all") -> BootstrapResult:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    plan = _plan(design, resample)
    delta = _pooled(design, lambda w: w.diff)
    if not plan.data:  # one world, one seed, one item per stratum: nothing to resample
        lo = hi = delta
        dist = np.full(n_resamples, delta)
    else:
        statistic = _statistic(design, plan)
        nested = (_nested_distribution(design, n_resamples, rng)
                  if len(design.worlds) > 1 and resample == "all" else None)
        lo, hi, dist = _scipy_interval(plan, statistic, n_resamples=n_resamples,
                                       confidence=confidence, method=method, rng=rng,
                                       distribution=nested)
    worlds = design.worlds
    return BootstrapResult(
        delta=delta, ci_low=lo, ci_high=hi, n_items=sum(w.n_items for w in worlds),
        n_strata=len({s for w in worlds for s in w.strata}),
        n_seeds=len({s for w in worlds for s in w.seeds}), n_worlds=len(worlds),
        n_resamples=int(n_resamples), method=method, confidence=float(confidence),
        stat_a=_pooled(design, lambda w: w.a), stat_b=_pooled(design, lambda w: w.b),
        world_seeds=tuple(w.world_seed for w in worlds), distribution=dist)


def paired_bootstrap(results: pd.DataFrame, setting_a: str, setting_b: str, metric: str, *,
                     n_resamples: int = 10_000, confidence: float = 0.95,
                     seed: int | np.random.Generator = 0,
                     method: Literal["percentile", "basic", "BCa"] = "percentile",
                     resample: Literal["all", "items", "seeds"] = "all") -> BootstrapResult:
    """Δ = stat(A) − stat(B) on ``metric`` and its paired, class-stratified bootstrap CI.

    The statistic is :func:`macro_average`. Resampling (the same for A and B — paired):
    items with replacement within their stratum (each stratum keeps its size), training
    seeds with replacement independently of the items, and, with several world draws,
    the worlds as the outermost level (each resampled world gets its own item and seed
    resamples). ``method``: scipy's "percentile" (default), "basic" or "BCa" interval.
    ``seed``: ``np.random.default_rng(seed)`` drives every draw (or pass a Generator).

    With one world draw this is ``scipy.stats.bootstrap`` on index samples (one per
    stratum, one of seeds; see the module docstring); with several, the distribution is
    :func:`_nested_distribution`'s and scipy computes the interval from it. Degenerate
    data do not fail: a single seed, a one-item stratum or a single world is simply not
    resampled, and a distribution without spread (e.g. a constant shift) gives the
    interval [Δ, Δ] for every method.

    ``resample="items"`` resamples only the test items (training seeds and world draws as
    observed), ``"seeds"`` only the training seeds (items and worlds as observed): the
    widths of those CIs are the two parts of the full one (see :func:`power_row`).

    ``ValueError`` when A or B has no rows for ``metric``, when they are not evaluated on
    the same (world_seed, seed, item) triples, or when not every item is evaluated under
    every seed of its world; and for invalid ``results`` (:func:`check_item_results`).

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    method = _check_options(n_resamples, confidence, method)
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {list(RESAMPLE)}, got {resample!r}")
    design = _design(check_item_results(results), setting_a, setting_b, metric)
    return _bootstrap_design(design, n_resamples=n_resamples, confidence=confidence,
                             method=method, seed=seed, resample=resample)


# --------------------------------------------------------------------------------------
# judging a CI
# --------------------------------------------------------------------------------------
def verdict(ci_low: float, ci_high: float, expected_sign: int) -> str:
    """"holds" (CI entirely on the expected side of 0, 0 excluded), "reversed" (entirely on
    the other side) or "unresolved" (the CI contains 0, or is NaN).

    ``expected_sign`` +1: A > B expected; −1: A < B. A CI touching 0 is unresolved.
    """
    if expected_sign not in (1, -1) or isinstance(expected_sign, bool):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    if not (ci_low <= ci_high):  # also NaN
        if math.isnan(ci_low) or math.isnan(ci_high):
            return "unresolved"
        raise ValueError(f"ci_low {ci_low} is above ci_high {ci_high}")
    if ci_low > 0:
        return "holds" if expected_sign == 1 else "reversed"
    if ci_high < 0:
        return "holds" if expected_sign == -1 else "reversed"
    return "unresolved"


def resolvable(ci_low: float, ci_high: float, published_delta: float | None) -> bool | None:
    """Whether the CI is narrow enough to see the published effect: half-width ≤
    ½ |published Δ|. None when the paper gives no Δ (None or NaN)."""
    if published_delta is None or math.isnan(published_delta):
        return None
    return bool((ci_high - ci_low) / 2 <= abs(published_delta) / 2)


# --------------------------------------------------------------------------------------
# all claims of a paper
# --------------------------------------------------------------------------------------
def _absent(claims: pd.DataFrame, results: pd.DataFrame) -> dict[str, str]:
    """claim id → why it cannot be evaluated (metric or settings absent from the results)."""
    present = results.groupby("metric")["setting"].unique().map(set).to_dict()
    reasons = {}
    for c in claims.itertuples(index=False):
        if c.metric not in present:
            reasons[c.id] = f"metric {c.metric!r} absent from the results"
            continue
        gone = [f"setting_{k} {s!r}" for k, s in (("a", c.setting_a), ("b", c.setting_b))
                if s not in present[c.metric]]
        if gone:
            reasons[c.id] = f"{' and '.join(gone)} absent for metric {c.metric!r}"
    return reasons


def _claim_row(c: Any, res: BootstrapResult | None, note: str) -> dict[str, Any]:
    pub = c.published_a - c.published_b
    row = {"id": c.id, "claim": c.claim, "source": c.source, "metric": c.metric,
           "setting_a": c.setting_a, "setting_b": c.setting_b,
           "expected_sign": int(c.expected_sign),
           "published_delta": round(pub, 12) if math.isfinite(pub) else math.nan,
           "note": note}
    if res is None:
        return {**row, "world_a": math.nan, "world_b": math.nan, "delta": math.nan,
                "ci_low": math.nan, "ci_high": math.nan, "verdict": "not run",
                "resolvable": None, "n_items": 0, "n_strata": 0, "n_seeds": 0, "n_worlds": 0,
                "world_seeds": "", "confidence": math.nan, "method": "", "n_resamples": 0}
    return {**row, "world_a": res.stat_a, "world_b": res.stat_b, "delta": res.delta,
            "ci_low": res.ci_low, "ci_high": res.ci_high,
            "verdict": verdict(res.ci_low, res.ci_high, int(c.expected_sign)),
            "resolvable": resolvable(res.ci_low, res.ci_high, row["published_delta"]),
            "n_items": res.n_items, "n_strata": res.n_strata, "n_seeds": res.n_seeds,
            "n_worlds": res.n_worlds, "world_seeds": ",".join(map(str, res.world_seeds)),
            "confidence": res.confidence, "method": res.method,
            "n_resamples": res.n_resamples}


def _claims_frame(claims: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(claims, pd.DataFrame):
        raise TypeError(f"claims must be a DataFrame (load_claims), got {type(claims).__name__}")
    missing = [c for c in CLAIM_REQUIRED if c not in claims.columns]
    if missing:
        raise ValueError(f"claims is missing column(s) {missing}; load it with load_claims")
    dup = claims["id"].duplicated()
    if dup.any():
        raise ValueError(f"duplicated claim id(s): {sorted(claims['id'][dup])}")
    out = claims.reset_index(drop=True).copy()
    for col in ("published_a", "published_b"):
        out[col] = pd.to_numeric(out[col], errors="raise").astype(float)
    return out


def evaluate_claims(claims: pd.DataFrame, results: pd.DataFrame, *, n_resamples: int = 10_000,
                    seed: int = 0, confidence: float = 0.95,
                    method: Literal["percentile", "basic", "BCa"] = "percentile",
                    missing: Literal["raise", "skip"] = "raise") -> pd.DataFrame:
    """Evaluate every claim on a per-item results frame; one row per claim, in claim order.

    Each claim gets :func:`paired_bootstrap` with ``np.random.default_rng(seed)`` (so
    ``paired_bootstrap(results, a, b, metric, seed=seed)`` reproduces its row). Columns
    :data:`RESULT_COLUMNS`: the claim's id, claim, source, metric, settings and
    expected_sign; ``published_delta`` = published_a − published_b (NaN without both);
    ``world_a`` / ``world_b`` the macro averages of A and B; ``delta``, ``ci_low``,
    ``ci_high``; ``verdict`` (:func:`verdict`, or "not run"); ``resolvable``
    (:func:`resolvable`: True / False / None); n_items, n_strata, n_seeds, n_worlds;
    ``world_seeds`` ("0" or "0,1,2"); confidence, method, n_resamples; ``note`` (why a
    claim was not run, else "").

    Before any bootstrap, the claims are checked against the results: a claim whose
    metric, setting_a or setting_b has no rows → ``ValueError`` listing every such
    (claim id, setting / metric) at once; with ``missing="skip"`` those claims get the
    verdict "not run" and the reason in ``note``.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    if missing not in ("raise", "skip"):
        raise ValueError(f"missing must be 'raise' or 'skip', got {missing!r}")
    method = _check_options(n_resamples, confidence, method)
    claims = _claims_frame(claims)
    df = check_item_results(results)
    absent = _absent(claims, df)
    if absent and missing == "raise":
        listed = "; ".join(f"{cid}: {why}" for cid, why in absent.items())
        raise ValueError(f"{len(absent)} claim(s) refer to settings or metrics absent from the "
                         f"results: {listed} (pass missing='skip' to mark them 'not run')")
    rows = []
    for c in claims.itertuples(index=False):
        if c.id in absent:
            rows.append(_claim_row(c, None, absent[c.id]))
            continue
        design = _design(df, c.setting_a, c.setting_b, c.metric)
        res = _bootstrap_design(design, n_resamples=n_resamples, confidence=confidence,
                                method=method, seed=seed)
        rows.append(_claim_row(c, res, ""))
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    log.info("claims: %s", summary_counts(out))
    return out


def summary_counts(df: pd.DataFrame, threshold: float = 0.0) -> dict[str, Any]:
    """Counts of the verdicts of an :func:`evaluate_claims` frame, and how many are resolvable.

    Returns ``{"holds", "reversed", "unresolved", "not run": counts, "n_claims",
    "n_published": claims run whose |published Δ| ≥ threshold, "share_resolvable": the
    share of those that are resolvable (NaN when there are none)}``.
    """
    counts: dict[str, Any] = {v: int((df["verdict"] == v).sum()) for v in VERDICTS}
    counts["n_claims"] = len(df)
    pub = pd.to_numeric(df["published_delta"], errors="coerce").abs()
    eligible = (df["verdict"] != "not run") & pub.notna() & (pub >= threshold)
    counts["n_published"] = int(eligible.sum())
    hits = [x is True or x is np.True_ for x in df.loc[eligible, "resolvable"]]
    counts["share_resolvable"] = float(np.mean(hits)) if hits else math.nan
    return counts


def summary_lines(df: pd.DataFrame, *, threshold: float = 0.0, decimals: int = 3,
                  unit: str = "") -> list[str]:
    """Printable lines from an :func:`evaluate_claims` frame: the verdict counts and the
    share of the claims with a published |Δ| ≥ ``threshold`` (``unit`` after it) that are
    resolvable (:func:`summary_counts`), then one line per claim that was run and did not
    hold, with A, B, Δ, its CI and the published Δ at ``decimals``.
    Notebooks: 01_won2021, 02_emoclim2024."""
    c = summary_counts(df, threshold=threshold)
    lines = [f"{c['n_claims']} claims: {c['holds']} hold, {c['reversed']} reversed, "
             f"{c['unresolved']} unresolved, {c['not run']} not run; resolvable: "
             f"{c['share_resolvable']:.0%} of the {c['n_published']} with a published "
             f"|Δ| ≥ {threshold:g}{unit}"]
    d = decimals
    for r in df.itertuples():
        if r.verdict in ("holds", "not run"):
            continue
        pub = ("none given" if not np.isfinite(float(r.published_delta))
               else f"{float(r.published_delta):+.{d}f}")
        lines.append(f"- {r.verdict:10s} {r.id}: A {r.world_a:.{d}f} vs B {r.world_b:.{d}f}, "
                     f"Δ {r.delta:+.{d}f} [{r.ci_low:+.{d}f}, {r.ci_high:+.{d}f}] "
                     f"(paper Δ {pub})")
    return lines


def sample_scale(ci_low: float, ci_high: float, published_delta: float | None) -> float:
    """How many times larger the evaluation (test items and seeds alike) would have to be
    for a claim to become :func:`resolvable`: ``(half-width / (½ |published Δ|))²``, since a
    bootstrap CI's half-width shrinks as 1/√n. Below 1: already resolvable; NaN without a
    published Δ (or a zero one) or without a CI. Notebooks: 01_won2021 (the power report)."""
    pub = math.nan if published_delta is None else abs(float(published_delta))
    if not (math.isfinite(pub) and pub > 0 and math.isfinite(ci_low) and math.isfinite(ci_high)):
        return math.nan
    return float(((ci_high - ci_low) / 2 / (pub / 2)) ** 2)


def part_scale(hw_part: float, hw_rest: float, published_delta: float | None) -> float:
    """How many times more of one part of the evaluation (e.g. test items, with the training
    seeds as they are) a claim needs to become :func:`resolvable`: ``k`` with
    ``hw_part² / k + hw_rest² = (½ |published Δ|)²``, where ``hw_part`` / ``hw_rest`` are the
    half-widths of the CIs that resample only that part / only the rest
    (``paired_bootstrap(..., resample=...)``): their variances add, and each shrinks as 1/n
    of its own sample. ``inf`` when the rest alone is wider than the target (no amount of
    this part resolves the claim); ≤ 1: narrow enough already; NaN without a published Δ.
    Notebooks: 01_won2021 (the power report)."""
    pub = math.nan if published_delta is None else abs(float(published_delta))
    if not (math.isfinite(pub) and pub > 0 and math.isfinite(hw_part) and math.isfinite(hw_rest)):
        return math.nan
    room = (pub / 2) ** 2 - hw_rest ** 2
    if hw_part == 0:
        return 0.0 if room >= 0 else math.inf
    return math.inf if room <= 0 else float(hw_part ** 2 / room)


#: Columns of :func:`power_table`.
POWER_COLUMNS = ("id", "metric", "published_delta", "half_width", "hw_items", "hw_seeds",
                 "scale", "items_scale", "seeds_scale")


def power_table(claims: pd.DataFrame, results: pd.DataFrame, *, n_resamples: int = 10_000,
                seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Where each claim's CI width comes from, and what would make it resolvable.

    For every claim with a published Δ whose settings are in ``results``: ``half_width`` of
    the full CI (:func:`paired_bootstrap`, as :func:`evaluate_claims` computes it),
    ``hw_items`` / ``hw_seeds`` of the CIs that resample only the test items / only the
    training seeds, ``scale`` = :func:`sample_scale` (items and seeds alike), and
    ``items_scale`` / ``seeds_scale`` = :func:`part_scale` (more test items with the seeds
    as they are; more seeds with the items as they are). Percentile intervals, one
    ``np.random.default_rng(seed)`` per bootstrap. Columns :data:`POWER_COLUMNS`.

    Notebooks: 01_won2021 (the power report).
    """
    claims = _claims_frame(claims)
    df = check_item_results(results)
    absent = _absent(claims, df)
    rows = []
    for c in claims.itertuples(index=False):
        pub = c.published_a - c.published_b
        if c.id in absent or not math.isfinite(pub):
            continue
        design = _design(df, c.setting_a, c.setting_b, c.metric)
        ci = {part: _bootstrap_design(design, n_resamples=n_resamples, confidence=confidence,
                                      method="percentile", seed=seed, resample=part)
              for part in RESAMPLE}
        hw = {part: (r.ci_high - r.ci_low) / 2 for part, r in ci.items()}
        rows.append({"id": c.id, "metric": c.metric, "published_delta": round(pub, 12),
                     "half_width": hw["all"], "hw_items": hw["items"], "hw_seeds": hw["seeds"],
                     "scale": sample_scale(ci["all"].ci_low, ci["all"].ci_high, pub),
                     "items_scale": part_scale(hw["items"], hw["seeds"], pub),
                     "seeds_scale": part_scale(hw["seeds"], hw["items"], pub)})
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS))


def _times(k: float) -> str:
    return "never" if math.isinf(k) else f"{k:.1f}×"


def power_report(power: pd.DataFrame, *, threshold: float = 0.02,
                 factors: Sequence[float] = (2, 5, 10)) -> list[str]:
    """Printable lines from a :func:`power_table`: for each claim with a published
    |Δ| ≥ ``threshold`` that is not resolvable, the factor it needs of test items and seeds
    together, of items alone (seeds as they are) and of seeds alone ("never": the other
    part alone is wider than ½ |published Δ|); then how many of those claims would be
    resolvable with each of ``factors`` × the items alone and × the seeds alone.
    Notebooks: 01_won2021 (the power report)."""
    missing = [c for c in POWER_COLUMNS if c not in power.columns]
    if missing:
        raise ValueError(f"power is missing column(s) {missing}; compute it with power_table")
    sel = power[power["published_delta"].abs() >= threshold]
    now = sel["scale"] <= 1
    lines = [f"- {r.id}: {_times(r.scale)} the test items and seeds together; items alone "
             f"{_times(r.items_scale)}, seeds alone {_times(r.seeds_scale)}"
             for r in sel[~now].itertuples()]
    n = len(sel)
    lines.append(f"resolvable now: {int(now.sum())} of the {n} claims with a published "
                 f"|Δ| ≥ {threshold:g}")
    for part, col in (("test items", "items_scale"), ("training seeds", "seeds_scale")):
        reach = ", ".join(f"{int((now | (sel[col] <= k)).sum())} with {k:g}×" for k in factors)
        lines.append(f"more {part} alone (the other part as it is): {reach}")
    return lines


# --------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------
def _num(x: float, decimals: int) -> str:
    return MISSING if x is None or not math.isfinite(x) else _fmt(float(x), decimals)


def _display(df: pd.DataFrame, decimals: int, ci_label: str) -> pd.DataFrame:
    def ci(r: Mapping[str, Any]) -> str:
        if r["verdict"] == "not run":
            return MISSING
        return (f"{_num(r['delta'], decimals)} [{_num(r['ci_low'], decimals)}, "
                f"{_num(r['ci_high'], decimals)}]")

    res = {True: "yes", False: "no"}
    out = pd.DataFrame({
        "id": df["id"], "claim": df["claim"], "source": df["source"], "metric": df["metric"],
        "A": df["setting_a"], "B": df["setting_b"],
        "expected": ["A > B" if int(s) == 1 else "A < B" for s in df["expected_sign"]],
        "published Δ": [_num(x, decimals) for x in df["published_delta"]],
        ci_label: [ci(r) for r in df.to_dict("records")],
        "verdict": df["verdict"],
        "resolvable": [res.get(x, MISSING) if isinstance(x, bool) else MISSING
                       for x in df["resolvable"]],
    })
    if df["note"].astype(str).str.strip().ne("").any():
        out["note"] = df["note"].fillna("").astype(str)
    return out


def _world_sentence(df: pd.DataFrame, conditional_on_world: bool) -> str | None:
    run = df[df["verdict"] != "not run"]
    if run.empty or not conditional_on_world:
        return None
    seeds = sorted({int(s) for cell in run["world_seeds"] for s in str(cell).split(",") if s})
    seed_txt = ", ".join(map(str, seeds))
    if int(run["n_worlds"].max()) == 1:
        return (f"CIs are conditional on this world draw (world seed {seed_txt}); pass "
                "world_seeds to pool several draws.")
    return (f"CIs pool {int(run['n_worlds'].max())} world draws (world seeds {seed_txt}), "
            "resampled as the outermost level of the bootstrap.")


def _method_sentence(df: pd.DataFrame, paper: str) -> str:
    run = df[df["verdict"] != "not run"]
    how = (f"{run['method'].iloc[0]} interval of {int(run['n_resamples'].iloc[0]):,} resamples"
           if len(run) else "no claim was run")
    return (f"Δ = A − B of the macro average (per training seed the mean over classes of the "
            f"mean over test items, then the mean over seeds and world draws). *published Δ*: "
            f"published A − B, typed in from the paper (`emolib/data/claims/{paper}.csv`). "
            f"The CI is a paired, class-stratified bootstrap over test items and training seeds "
            f"({how}). *verdict*: holds = CI entirely on the expected side of 0; reversed = "
            f"entirely on the other side; unresolved = CI contains 0. *resolvable*: CI "
            f"half-width ≤ ½ |published Δ| ({MISSING}: the paper gives no Δ).")


def claims_table_markdown(df: pd.DataFrame, *, paper: str, data: str, seeds: Sequence[int],
                          conditional_on_world: bool = True, decimals: int = 3,
                          record: RunRecord | None = None) -> str:
    """The Markdown claims table of an :func:`evaluate_claims` frame.

    A header naming the paper, the data and the seeds (plus the run record's lines, as in
    :func:`emolib.tables.write_paper_table`; ``record`` None: the current run's), a
    sentence on the statistic and the verdicts, and — with ``conditional_on_world`` — a
    sentence on the world draws: with one draw "CIs are conditional on this world draw
    (world seed …); pass world_seeds to pool several draws". Then one row per claim:
    published Δ beside the reproduced Δ [CI], verdict and resolvable (yes / no / "—").
    Set ``conditional_on_world=False`` for real data (no world draw).
    """
    seeds = _check_seeds(seeds)
    if not isinstance(data, str) or not data.strip():
        raise ValueError(f"data must name the data used (e.g. 'world (profile=default)'), "
                         f"got {data!r}")
    world = data.strip().lower().startswith("world")
    run = df[df["verdict"] != "not run"]
    conf = float(run["confidence"].iloc[0]) if len(run) else 0.95
    label = f"{'world' if world else 'reproduced'} Δ [{conf:.0%} CI]"
    record = current_record() if record is None else record
    lines = [f"# {paper} claims", "",
             f"Paper: `{paper}` · evaluated on: **{data}** · seeds: "
             f"{', '.join(map(str, seeds))}", ""]
    if record is not None:
        lines += [*record.header_lines(), ""]
    lines.append(_method_sentence(df, paper))
    sentence = _world_sentence(df, conditional_on_world)
    if sentence:
        lines += ["", sentence]
    shown = _display(df, decimals, label)
    esc = shown.astype(str).apply(lambda col: col.str.replace("|", r"\|", regex=False))
    body = tabulate(esc, headers="keys", tablefmt="github", showindex=False, disable_numparse=True)
    return "\n".join(lines) + "\n\n" + body + "\n"


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                            for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    return [int(s) for s in seeds]


def write_claims_table(df: pd.DataFrame, paper: str, data: str, seeds: Sequence[int], *,
                       conditional_on_world: bool = True, decimals: int = 3,
                       record: RunRecord | None = None) -> pd.DataFrame:
    """Write ``paper_tables/<paper>_claims.csv`` and ``.md`` of an :func:`evaluate_claims` frame.

    Like :func:`emolib.tables.write_paper_table`: into :func:`emolib.paths.tables_dir`
    (``EMOLIB_OUTPUT`` overrides), each file atomically (a temporary file renamed over the
    target: a failed write leaves no half-written file), byte-identical for identical input;
    during a run the Markdown header lists the run record and ``<paper>_claims.json`` holds
    it (:func:`emolib.provenance.write_run_sidecar`). The CSV holds the frame's columns
    (full precision); the Markdown is :func:`claims_table_markdown`. Returns ``df``.

    Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
    """
    if not isinstance(paper, str) or not _PAPER_RE.match(paper):
        raise ValueError(f"paper must be a file stem such as 'won2021', got {paper!r}")
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"df is missing column(s) {missing}; pass evaluate_claims' frame")
    record = current_record() if record is None else record
    md_text = claims_table_markdown(df, paper=paper, data=data, seeds=seeds,
                                    conditional_on_world=conditional_on_world,
                                    decimals=decimals, record=record)
    csv_text = df[list(RESULT_COLUMNS)].to_csv(index=False, lineterminator="\n")
    out = tables_dir()
    name = f"{paper}_claims"
    atomic_write_text(out / f"{name}.md", md_text)
    atomic_write_text(out / f"{name}.csv", csv_text)
    write_run_sidecar(out / name, record)
    log.info("wrote %s.csv and %s.md (%d claims) to %s", name, name, len(df), out)
    return df
