"""Paper tables: published values beside reproduced ones, written as CSV + Markdown.

* Published values are typed in from each paper, one file per paper:
  ``emolib/data/published/<paper_key>.csv`` with columns
  ``paper,table,setting,metric,published,source`` (schema: that folder's README.md).
  :func:`load_published` reads and validates one.
* Notebooks collect their numbers in a long DataFrame ``results[table, setting, metric,
  seed, value]`` (one row per seed). :func:`summarize` turns it into "mean ± std" strings;
  :func:`write_paper_table` joins it with the published values on (table, setting,
  metric) and writes ``paper_tables/<name>.csv`` and ``.md`` atomically — during a run
  (:func:`emolib.provenance.start_run`) the Markdown header also shows the run record and
  ``paper_tables/<name>.json`` holds it (:func:`write_run_sidecar`; the CSV is the same);
  :func:`show` prints a table in a stable text form (for ``# NBVAL_CHECK_OUTPUT`` cells).

Conventions: the standard deviation is the *sample* standard deviation over seeds
(``ddof=1``, pandas' default; a parameter); a single seed shows only the value; "—" marks
a missing value. Output is byte-identical for identical input (fixed row order, no
timestamps).

Notebooks: 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
"""
from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from emolib.io import atomic_write_text
from emolib.paths import tables_dir
from emolib.provenance import RunRecord, current_record, write_run_sidecar

__all__ = [
    "PUBLISHED_COLUMNS",
    "RESULT_COLUMNS",
    "TABLE_COLUMNS",
    "MISSING",
    "published_path",
    "load_published",
    "format_mean_std",
    "summarize",
    "mean_over_seeds",
    "published_value",
    "paper_table",
    "write_paper_table",
    "write_run_sidecar",
    "show",
    "TOLERANCE_FLOOR",
    "TOLERANCE_SDS",
    "parse_mean_std",
    "compare_tables",
]

log = logging.getLogger(__name__)

#: Columns of ``emolib/data/published/<paper_key>.csv``.
PUBLISHED_COLUMNS = ("paper", "table", "setting", "metric", "published", "source")
#: Columns a notebook's long results DataFrame must have.
RESULT_COLUMNS = ("table", "setting", "metric", "seed", "value")
#: Columns of a written paper table.
TABLE_COLUMNS = ("paper", "table", "setting", "metric", "published", "source",
                 "reproduced", "data", "seeds")
#: Shown where a table has no value (published-only or reproduced-only rows).
MISSING = "—"
#: Marker in ``source`` for values of other works that the compendium does not reproduce.
PUBLISHED_ONLY = "published_only"
#: Environment variable overriding the folder of the published-value CSVs.
PUBLISHED_DIR_ENV = "EMOLIB_PUBLISHED_DIR"

_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_JOIN_KEYS = ["table", "setting", "metric"]


# --------------------------------------------------------------------------------------
# published values
# --------------------------------------------------------------------------------------
def published_path(paper_key: str, published_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of ``<paper_key>.csv``: in ``published_dir``, else ``$EMOLIB_PUBLISHED_DIR``,
    else the package folder ``emolib/data/published``."""
    if not isinstance(paper_key, str) or not _KEY_RE.match(paper_key):
        raise ValueError(f"paper_key must be a file stem such as 'won2021', got {paper_key!r}")
    default = Path(__file__).resolve().parent / "data" / "published"
    folder = (published_dir if published_dir is not None
              else os.environ.get(PUBLISHED_DIR_ENV) or default)
    return Path(folder) / f"{paper_key}.csv"


def load_published(paper_key: str,
                   published_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read and validate the published values of one paper.

    Returns a DataFrame with columns :data:`PUBLISHED_COLUMNS`, all strings as typed in the
    file (``published`` keeps the paper's digits, e.g. "0.50"; use ``pd.to_numeric`` for
    numbers), in file order. Raises ``FileNotFoundError``/``ValueError`` naming the file
    and the line for a missing file, wrong columns, an empty field, a ``paper`` cell other
    than ``paper_key``, a non-numeric ``published`` value, or a duplicated
    (table, setting, metric).
    """
    path = published_path(paper_key, published_dir)
    if not path.is_file():
        have = sorted(p.stem for p in path.parent.glob("*.csv")) if path.parent.is_dir() else []
        raise FileNotFoundError(f"no published values for paper {paper_key!r}: {path} does not "
                                f"exist (available: {have or 'none'})")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                         skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path}: cannot parse as CSV ({exc})") from exc
    cols = [c.strip() for c in df.columns]
    if sorted(cols) != sorted(PUBLISHED_COLUMNS):
        missing = [c for c in PUBLISHED_COLUMNS if c not in cols]
        extra = [c for c in cols if c not in PUBLISHED_COLUMNS]
        raise ValueError(f"{path}: columns must be {','.join(PUBLISHED_COLUMNS)}; "
                         f"missing {missing}, unexpected {extra}")
    df.columns = cols
    df = df[list(PUBLISHED_COLUMNS)].apply(lambda col: col.str.strip())
    for i, row in enumerate(df.itertuples(index=False), start=2):  # line 1 is the header
        for col in PUBLISHED_COLUMNS:
            if getattr(row, col) == "":
                raise ValueError(f"{path}, line {i}: empty '{col}'")
        if row.paper != paper_key:
            raise ValueError(f"{path}, line {i}: paper is {row.paper!r} but must be the paper "
                             f"key {paper_key!r} (the file name)")
        try:
            float(row.published)
        except ValueError:
            raise ValueError(f"{path}, line {i}: published value {row.published!r} is not a "
                             "number (type it as printed in the paper, e.g. 0.512)") from None
    dup = df.duplicated(_JOIN_KEYS, keep=False)
    if dup.any():
        lines = (np.flatnonzero(dup.to_numpy()) + 2).tolist()
        raise ValueError(f"{path}: duplicated (table, setting, metric) on lines {lines}")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# reproduced values
# --------------------------------------------------------------------------------------
def _fmt(x: float, decimals: int) -> str:
    s = f"{x:.{decimals}f}"
    return s[1:] if re.fullmatch(r"-0\.?0*", s) else s  # no "-0.000"


def format_mean_std(values: Iterable[float], decimals: int = 3, ddof: int = 1) -> str:
    """``"0.512 ± 0.013"`` (mean ± std with ``ddof``) or just ``"0.512"`` for one value.

    NaN values propagate ("nan"). Notebooks: all paper notebooks (via :func:`summarize`).
    """
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        raise ValueError("format_mean_std needs at least one value")
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    mean = float(v.mean())
    if v.size == 1:
        return _fmt(mean, decimals)
    return f"{_fmt(mean, decimals)} ± {_fmt(float(v.std(ddof=ddof)), decimals)}"


def _validate_results(results: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame with columns {RESULT_COLUMNS}, "
                        f"got {type(results).__name__}")
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise ValueError(f"results is missing column(s) {missing}; expected a long DataFrame "
                         f"with columns {list(RESULT_COLUMNS)}, got {list(results.columns)}")
    df = results[list(RESULT_COLUMNS)].reset_index(drop=True)
    for col in _JOIN_KEYS:
        bad = [i for i, x in enumerate(df[col]) if not isinstance(x, str) or not x.strip()]
        if bad:
            raise ValueError(f"results['{col}'] must hold non-empty strings; row {bad[0]} has "
                             f"{df[col].iloc[bad[0]]!r}")
    seeds = pd.to_numeric(df["seed"], errors="coerce")
    if seeds.isna().any() or not np.all(np.mod(seeds, 1) == 0):
        i = int(np.flatnonzero(seeds.isna() | (np.mod(seeds.fillna(0), 1) != 0))[0])
        raise ValueError(f"results['seed'] must hold integers; row {i} has {df['seed'].iloc[i]!r}")
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = values.isna() & df["value"].notna() & ~df["value"].astype(str).str.lower().eq("nan")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"results['value'] must be numeric; row {i} has {df['value'].iloc[i]!r}")
    df = df.assign(seed=seeds.astype(np.int64), value=values.astype(float))
    dup = df.duplicated(_JOIN_KEYS + ["seed"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = df.iloc[i]
        raise ValueError(f"results has several rows for (table={r.table!r}, setting={r.setting!r}, "
                         f"metric={r.metric!r}, seed={r.seed})")
    return df


def summarize(results: pd.DataFrame, decimals: int = 3, ddof: int = 1) -> pd.DataFrame:
    """Mean ± std over seeds per (table, setting, metric), in order of first appearance.

    Returns DataFrame[table, setting, metric, n_seeds, seeds ("0,1,2"), mean, std (NaN for
    one seed), reproduced (:func:`format_mean_std` string)]. ``std`` uses ``ddof``
    (default 1: sample standard deviation over seeds).
    """
    df = _validate_results(results)
    rows = []
    for key, grp in df.groupby(_JOIN_KEYS, sort=False):
        vals = grp["value"].to_numpy()
        rows.append({
            "table": key[0], "setting": key[1], "metric": key[2],
            "n_seeds": len(vals),
            "seeds": ",".join(str(s) for s in sorted(grp["seed"])),
            "mean": float(vals.mean()),
            "std": float(vals.std(ddof=ddof)) if len(vals) > 1 else math.nan,
            "reproduced": format_mean_std(vals, decimals, ddof),
        })
    cols = ["table", "setting", "metric", "n_seeds", "seeds", "mean", "std", "reproduced"]
    return pd.DataFrame(rows, columns=cols)


def mean_over_seeds(results: pd.DataFrame | Sequence[dict], setting: str, metric: str) -> float:
    """The reproduced mean over seeds of one (setting, metric) of a results table.

    ``results``: the long DataFrame (or list of row dicts) of :data:`RESULT_COLUMNS`. The
    mean is :func:`summarize`'s; a (setting, metric) absent from ``results`` or present in
    several tables raises ``KeyError`` naming it. Notebooks: discussion cells of 01–03.
    """
    summ = summarize(pd.DataFrame(results))
    hit = summ[(summ["setting"] == setting) & (summ["metric"] == metric)]
    if len(hit) != 1:
        raise KeyError(f"{len(hit)} result rows for setting={setting!r}, metric={metric!r} "
                       "(expected 1)")
    return float(hit["mean"].iloc[0])


def published_value(paper_key: str, setting: str, metric: str,
                    published_dir: str | os.PathLike[str] | None = None) -> float:
    """The published number of one (setting, metric) of a paper, as a float.

    ``KeyError`` naming it when the published file has no such row, or more than one.
    Notebooks: discussion cells of 01–02 (comparisons beside the reproduced means).
    """
    pub = load_published(paper_key, published_dir)
    hit = pub[(pub["setting"] == setting) & (pub["metric"] == metric)]
    if len(hit) != 1:
        raise KeyError(f"{len(hit)} published rows of {paper_key} for setting={setting!r}, "
                       f"metric={metric!r} (expected 1)")
    return float(hit["published"].iloc[0])


# --------------------------------------------------------------------------------------
# the joined table
# --------------------------------------------------------------------------------------
def paper_table(results: pd.DataFrame, paper: str, data: str, decimals: int = 3, ddof: int = 1,
                published_dir: str | os.PathLike[str] | None = None,
                include_tables: Sequence[str] | str = ()) -> pd.DataFrame:
    """Outer join of published and reproduced values on (table, setting, metric), unwritten.

    The published rows listed are those of the paper tables that occur in ``results`` (so
    a file written per paper table holds only that table's published rows), plus those
    of ``include_tables`` (names, or ``"all"`` for the whole published file), e.g. a
    table the notebook does not reproduce at all. A reproduced row therefore never shows
    "—" where the paper has a value.

    Row order: the listed published rows first (in file order), then reproduced rows
    without a published value (in order of first appearance in ``results``). Published-
    only rows show ``reproduced``, ``data`` and ``seeds`` as "—"; reproduced-only rows
    show ``published`` and ``source`` as "—". Columns: :data:`TABLE_COLUMNS`.
    """
    if not isinstance(data, str) or not data.strip():
        raise ValueError("data must name the data used (e.g. 'world (profile=default)'), "
                         f"got {data!r}")
    pub = load_published(paper, published_dir)
    summ = summarize(results, decimals, ddof)
    if include_tables == "all":
        extra = set(pub["table"])
    elif isinstance(include_tables, str):
        raise TypeError(f"include_tables must be a sequence of table names or 'all', "
                        f"got the string {include_tables!r}")
    else:
        extra = set(include_tables)
        unknown = sorted(extra - set(pub["table"]))
        if unknown:
            raise ValueError(f"include_tables {unknown} are not tables of the published values "
                             f"of {paper!r} ({sorted(set(pub['table']))})")
    pub = pub[pub["table"].isin(set(summ["table"]) | extra)]
    by_key = {tuple(r[k] for k in _JOIN_KEYS): r for r in summ.to_dict("records")}
    rows, seen = [], set()
    for r in pub.to_dict("records"):
        key = tuple(r[k] for k in _JOIN_KEYS)
        rep = by_key.get(key)
        seen.add(key)
        rows.append({**r,
                     "reproduced": rep["reproduced"] if rep else MISSING,
                     "data": data if rep else MISSING,
                     "seeds": rep["seeds"] if rep else MISSING})
        if rep and PUBLISHED_ONLY in r["source"]:
            log.info("%s: %s is marked %s but has a reproduced value", paper, key, PUBLISHED_ONLY)
    for key, rep in by_key.items():
        if key not in seen:
            rows.append({"paper": paper, "table": key[0], "setting": key[1], "metric": key[2],
                         "published": MISSING, "source": MISSING, "reproduced": rep["reproduced"],
                         "data": data, "seeds": rep["seeds"]})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _markdown(df: pd.DataFrame, name: str, paper: str, data: str, seeds: Sequence[int],
              ddof: int, notes: Sequence[str] = (), run_lines: Sequence[str] = ()) -> str:
    seeds_txt = ", ".join(str(s) for s in seeds)
    world = data.strip().lower().startswith("world")
    lines = [
        f"# {name}",
        "",
        f"Paper: `{paper}` · reproduced on: **{data}** · seeds: {seeds_txt}",
        "",
    ]
    if run_lines:
        lines += [*run_lines, ""]
    lines += [
        f"*published*: typed in from the paper (`emolib/data/published/{paper}.csv`); rows whose "
        f"source says `{PUBLISHED_ONLY}` are numbers the paper reports that this compendium does "
        f"not reproduce. *reproduced*: computed by this compendium on the data named above, "
        f"mean ± std (ddof={ddof}) over seeds (one seed: the value). {MISSING}: no value.",
    ]
    if world:
        lines += ["", "The emotion world is a synthetic stand-in for the papers' datasets: "
                  "reproduced values test the method, they are not expected to match the "
                  "published numbers."]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    esc = df.astype(str).apply(lambda col: col.str.replace("|", r"\|", regex=False))
    body = tabulate(esc, headers="keys", tablefmt="github", showindex=False, disable_numparse=True)
    return "\n".join(lines) + "\n\n" + body + "\n"


def write_paper_table(name: str, results: pd.DataFrame, paper: str, data: str,
                      seeds: Sequence[int], decimals: int = 3, *, ddof: int = 1,
                      published_dir: str | os.PathLike[str] | None = None,
                      include_tables: Sequence[str] | str = (),
                      notes: Sequence[str] = (), record: RunRecord | None = None
                      ) -> pd.DataFrame:
    """Join published and reproduced values and write ``paper_tables/<name>.csv`` and ``.md``.

    Args:
        name: file stem, e.g. "won2021_table3".
        results: long DataFrame[table, setting, metric, seed, value], one row per seed.
        paper: paper key of the published file (won2021, emoclim2024, chowdhury2023, zhu2023).
        data: what produced the reproduced values, e.g. "world (profile=default)" or
            "AudioSet mood subset + ISEAR".
        seeds: the seeds the notebook ran; every seed in ``results`` must be among them.
        decimals: decimals of the reproduced "mean ± std".
        ddof: delta degrees of freedom of the std (1 = sample std).
        published_dir: folder of the published CSVs (default: the package's).
        include_tables: published tables listed besides those occurring in ``results``
            (names or "all"; see :func:`paper_table`).
        notes: sentences listed under the Markdown header, e.g. which rows use a stand-in
            model ("MTR rows: a CLAP-style model trained on the world's captions").
        record: the run record (default: the current run's,
            :func:`emolib.provenance.current_record`; None outside a run).

    Both files are written atomically (``emolib.io``) into :func:`emolib.paths.tables_dir`
    (``EMOLIB_OUTPUT`` overrides) and are byte-identical for identical input. The CSV has
    the columns :data:`TABLE_COLUMNS`; the Markdown file adds a header saying which data
    produced the values and that the published ones are typed in from the paper. With a run
    record the header also lists its :meth:`~emolib.provenance.RunRecord.header_lines` and
    ``<name>.json`` holds the record (:func:`write_run_sidecar`); the CSV does not change.
    Returns the table (see :func:`paper_table` for row order and "—").
    """
    if not isinstance(name, str) or not _KEY_RE.match(name):
        raise ValueError(f"name must be a plain file stem such as 'won2021_table3', got {name!r}")
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                            for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    df = paper_table(results, paper, data, decimals, ddof, published_dir, include_tables)
    used = set(_validate_results(results)["seed"].tolist())
    extra = sorted(used - {int(s) for s in seeds})
    if extra:
        raise ValueError(f"results contain seed(s) {extra} that are not in seeds={seeds}")
    csv_text = df.to_csv(index=False, lineterminator="\n")
    if isinstance(notes, str) or not all(isinstance(n, str) for n in notes):
        raise TypeError(f"notes must be a sequence of strings, got {notes!r}")
    record = current_record() if record is None else record
    run_lines = record.header_lines() if record is not None else ()
    md_text = _markdown(df, name, paper, data, seeds, ddof, notes, run_lines)
    out = tables_dir()
    atomic_write_text(out / f"{name}.md", md_text)
    atomic_write_text(out / f"{name}.csv", csv_text)
    write_run_sidecar(out / name, record)
    log.info("wrote %s.csv and %s.md (%d rows) to %s", name, name, len(df), out)
    return df


def show(df: pd.DataFrame, decimals: int = 3, columns: Sequence[str] | None = None) -> None:
    """Print ``df`` as a plain text table that is stable across runs (for nbval).

    Floats are printed with ``decimals`` decimals, strings as they are (no number parsing),
    no index. ``columns`` selects and orders columns (default: all).
    Notebooks: all (``# NBVAL_CHECK_OUTPUT`` table cells).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"show expects a pandas DataFrame, got {type(df).__name__}")
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"show: unknown column(s) {missing}; the table has {list(df.columns)}")
        df = df[list(columns)]
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [MISSING if pd.isna(x) else _fmt(float(x), decimals) for x in out[col]]
        else:
            out[col] = [MISSING if pd.api.types.is_scalar(x) and pd.isna(x) else str(x)
                        for x in out[col]]
    print(tabulate(out, headers="keys", tablefmt="simple", showindex=False, disable_numparse=True))


# --------------------------------------------------------------------------------------
# comparing a re-run with the committed tables
# --------------------------------------------------------------------------------------
#: Tolerance of a trained number on another CPU: |Δ mean| ≤ max(TOLERANCE_FLOOR × scale,
#: TOLERANCE_SDS × the larger seed std of the two runs); scale = 100 for percent tables.
TOLERANCE_FLOOR = 0.02
TOLERANCE_SDS = 2.0
_NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|nan"  # plain, or exponent notation (pandas' CSVs)
_MEAN_STD_RE = re.compile(rf"^\s*({_NUM})(?:\s*±\s*({_NUM}))?\s*$")


def parse_mean_std(text: str) -> tuple[float, float] | None:
    """``"0.512 ± 0.013"`` -> ``(0.512, 0.013)``, ``"0.512"`` -> ``(0.512, 0.0)``, "—" -> None.

    The inverse of :func:`format_mean_std` up to its rounding; plain numbers may be in
    exponent notation (``"-3.1e-05"``) and an empty cell (a NaN that pandas wrote to a CSV,
    e.g. a claim that was not run) is missing like "—". Anything else raises
    ``ValueError`` naming the text.
    """
    if str(text).strip() in (MISSING, ""):
        return None
    m = _MEAN_STD_RE.match(str(text))
    if m is None:
        raise ValueError(f"not a 'mean ± std' value: {text!r}")
    return float(m.group(1)), float(m.group(2)) if m.group(2) else 0.0


def compare_tables(committed: str | os.PathLike[str], rerun: str | os.PathLike[str], *,
                   value_columns: Sequence[str] = ("reproduced",), percent: bool | None = None,
                   floor: float = TOLERANCE_FLOOR, n_sds: float = TOLERANCE_SDS) -> pd.DataFrame:
    """Compare a re-executed table CSV with the committed one; one row per compared value.

    Every column except ``value_columns`` must be identical (same rows, same order: the
    settings, published values, data and seeds do not depend on the CPU). Each value
    column holds trained numbers, "mean ± std" strings or plain numbers, compared within
    ``tol = max(floor × scale, n_sds × max(std_committed, std_rerun))``, scale 100 for a
    percent table (``percent=None``: any ``source`` cell says "(percent)"). Returns
    DataFrame[row, setting, metric, column, committed, rerun, delta, tol, ok]; raises
    ``ValueError`` naming both files when the tables differ outside the value columns.

    Used by ``tests/test_reexecuted_tables.py`` (make test) and for comparing any
    ``make reproduce OUT=...`` run with the committed tables.
    """
    a = pd.read_csv(committed, dtype=str, keep_default_na=False, na_filter=False)
    b = pd.read_csv(rerun, dtype=str, keep_default_na=False, na_filter=False)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        raise ValueError(f"{rerun} has columns {list(b.columns)} and {len(b)} rows; the committed "
                         f"{committed} has {list(a.columns)} and {len(a)} rows")
    missing = [c for c in value_columns if c not in a.columns]
    if missing:
        raise ValueError(f"{committed}: no value column(s) {missing}")
    fixed = [c for c in a.columns if c not in value_columns]
    diff = (a[fixed] != b[fixed]).any(axis=1)
    if diff.any():
        i = int(np.flatnonzero(diff.to_numpy())[0])
        cols = [c for c in fixed if a[c].iloc[i] != b[c].iloc[i]]
        raise ValueError(f"{rerun}, line {i + 2}: {cols} differ from the committed {committed} "
                         f"({[a[c].iloc[i] for c in cols]} vs {[b[c].iloc[i] for c in cols]})")
    if percent is None:
        percent = "source" in a.columns and bool(a["source"].str.contains("(percent)",
                                                                           regex=False).any())
    scale = 100.0 if percent else 1.0
    rows = []
    for col in value_columns:
        for i, (x, y) in enumerate(zip(a[col], b[col], strict=True)):
            px, py = parse_mean_std(x), parse_mean_std(y)
            if px is None or py is None:
                ok = (px is None) == (py is None)
                delta = tol = math.nan
            else:
                delta = abs(px[0] - py[0])
                tol = max(floor * scale, n_sds * max(px[1], py[1]))
                ok = bool(delta <= tol + 1e-12) or (math.isnan(px[0]) and math.isnan(py[0]))
            rows.append({"row": i + 2, "setting": a["setting"].iloc[i] if "setting" in a else "",
                         "metric": a["metric"].iloc[i] if "metric" in a else "", "column": col,
                         "committed": x, "rerun": y, "delta": delta, "tol": tol, "ok": ok})
    return pd.DataFrame(rows, columns=["row", "setting", "metric", "column", "committed",
                                       "rerun", "delta", "tol", "ok"])
