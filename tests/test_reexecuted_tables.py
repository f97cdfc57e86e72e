"""Trained numbers: the tables a re-execution wrote agree with the committed ones.

``make test`` re-executes every notebook under nbval with ``EMOLIB_OUTPUT`` pointing at a
temporary folder (``notebooks/executed/test-output``), so the committed ``paper_tables/``
and ``figures/`` are never written over. nbval compares the cells whose output is
deterministic by construction (taxonomies, mappings, published values, analytic
baselines, world tables, shapes and row counts) exactly. The cells that print trained
numbers are not compared by nbval; instead, after every notebook ran, the tests below
compare each table the re-execution wrote with the committed one:

* every column but the trained values is identical (rows, settings, published values,
  data, seeds);
* each trained value ("mean ± std" over seeds, or one value) agrees within
  ``|Δ mean| ≤ max(0.02 × scale, 2 × the larger seed std of the two runs)``, scale 100 for
  the percent tables of Emo-CLIM (``emolib.tables.TOLERANCE_FLOOR`` / ``TOLERANCE_SDS``).

On the reference CPU the re-executed tables are byte-identical to the committed ones; on
another CPU they agree within the tolerance. Each table's outcome (byte-identical, or the
largest |Δ|) is appended to ``<EMOLIB_OUTPUT>/tolerance_report.txt``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from emolib import tables

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "paper_tables"
FIGURES = ROOT / "figures"

#: Which notebook writes which committed table / figure (by file-name prefix).
PREFIX_NOTEBOOK = {"taxonomies": "00_tour", "world_learnability": "00_tour", "tour_": "00_tour",
                   "world_audit": "00_tour",
                   "won2021": "01_won2021", "emoclim": "02_emoclim2024",
                   "chowdhury2023": "03_chowdhury2023", "zhu2023": "04_zhu2023"}
#: The columns of trained numbers per table; tables not listed have the paper-table column.
VALUE_COLUMNS = {"taxonomies": (), "world_learnability": ("value",), "world_audit": ("value",),
                 # claims tables: the world's statistics and their CIs are trained numbers
                 **{f"{p}_claims": ("world_a", "world_b", "delta", "ci_low", "ci_high")
                    for p in ("won2021", "emoclim2024", "chowdhury2023", "zhu2023")}}


def notebook_of(name: str) -> str:
    hits = [nb for prefix, nb in PREFIX_NOTEBOOK.items() if name.startswith(prefix)]
    assert len(hits) == 1, f"no single notebook writes {name} (update PREFIX_NOTEBOOK)"
    return hits[0]


# ---------------------------------------------------------------------- compare_tables
def _write(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _row(rep: str, source: str = "Table 1 row 1", seeds: str = "0,1,2") -> dict:
    return {"paper": "p", "table": "Table 1", "setting": "a=b", "metric": "MRR",
            "published": "0.50", "source": source, "reproduced": rep, "data": "world",
            "seeds": seeds}


@pytest.mark.parametrize(("committed", "rerun", "ok"), [
    ("0.500 ± 0.010", "0.500 ± 0.010", True),  # identical
    ("0.500 ± 0.010", "0.519 ± 0.012", True),  # within the 0.02 floor
    ("0.500 ± 0.010", "0.521 ± 0.010", False),  # outside max(0.02, 2 × 0.010)
    ("0.500 ± 0.050", "0.590 ± 0.040", True),  # within 2 × 0.05 = 0.10
    ("0.500 ± 0.050", "0.610 ± 0.040", False),
    ("0.500 ± 0.010", "0.440 ± 0.035", True),  # the larger std of the two counts: 0.07
    ("0.500", "0.515", True),  # one seed: the floor only
    ("0.500", "0.530", False),
    ("—", "—", True),
    ("—", "0.500", False),
])
def test_compare_tables_tolerance(tmp_path, committed, rerun, ok):
    a = _write(tmp_path / "a.csv", [_row(committed)])
    b = _write(tmp_path / "b.csv", [_row(rerun)])
    report = tables.compare_tables(a, b)
    assert len(report) == 1
    assert bool(report["ok"].iloc[0]) is ok


def test_compare_tables_percent_scale(tmp_path):
    a = _write(tmp_path / "a.csv", [_row("40.00 ± 0.50", source="Table 1 row 1 (percent)")])
    b = _write(tmp_path / "b.csv", [_row("41.90 ± 0.50", source="Table 1 row 1 (percent)")])
    c = _write(tmp_path / "c.csv", [_row("42.10 ± 0.50", source="Table 1 row 1 (percent)")])
    assert tables.compare_tables(a, b)["ok"].all()  # 1.90 ≤ 0.02 × 100
    assert not tables.compare_tables(a, c)["ok"].any()
    assert tables.compare_tables(a, b)["tol"].iloc[0] == pytest.approx(2.0)


@pytest.mark.parametrize("field", ["seeds", "published", "setting"])
def test_compare_tables_other_columns_exact(tmp_path, field):
    a = _write(tmp_path / "a.csv", [_row("0.500 ± 0.010")])
    changed = {**_row("0.500 ± 0.010"), field: "changed"}
    b = _write(tmp_path / "b.csv", [changed])
    with pytest.raises(ValueError, match=rf"b\.csv, line 2: \['{field}'\] differ"):
        tables.compare_tables(a, b)


def test_compare_tables_row_count(tmp_path):
    a = _write(tmp_path / "a.csv", [_row("0.5"), _row("0.6")])
    b = _write(tmp_path / "b.csv", [_row("0.5")])
    with pytest.raises(ValueError, match="1 rows"):
        tables.compare_tables(a, b)


def test_parse_mean_std_round_trip():
    assert tables.parse_mean_std(tables.format_mean_std([0.5, 0.6, 0.7])) == (0.6, 0.1)
    assert tables.parse_mean_std("-0.099 ± 0.176") == (-0.099, 0.176)
    assert tables.parse_mean_std("0.5") == (0.5, 0.0)
    assert tables.parse_mean_std("—") is None
    assert tables.parse_mean_std("") is None  # a NaN in a pandas CSV (a claim not run)
    assert tables.parse_mean_std("-3.1e-05") == (-3.1e-05, 0.0)
    assert tables.parse_mean_std("1.5E+02 ± 2e-1") == (150.0, 0.2)
    with pytest.raises(ValueError, match="'fast'"):
        tables.parse_mean_std("fast")


# ---------------------------------------------------------------------- after nbval
def _rerun_root(request) -> tuple[Path, set[str]]:
    """The re-execution's output folder and the notebooks nbval ran in this session."""
    ran = {Path(str(item.fspath)).stem for item in request.session.items
           if Path(str(item.fspath)).suffix == ".ipynb"}
    if not ran:
        pytest.skip("no notebook was re-executed in this session (`make test` runs them)")
    out = os.environ.get("EMOLIB_OUTPUT")
    assert out, "notebooks ran without EMOLIB_OUTPUT: they wrote over the committed tables"
    out_path = Path(out).resolve()
    assert out_path != ROOT.resolve(), ("EMOLIB_OUTPUT is the clone: the committed tables "
                                        "were overwritten")
    return out_path, ran


@pytest.mark.after_notebooks
@pytest.mark.parametrize("name", sorted(p.stem for p in COMMITTED.glob("*.csv")))
def test_reexecuted_table_within_tolerance(request, name):
    out, ran = _rerun_root(request)
    if notebook_of(name) not in ran:
        pytest.skip(f"{notebook_of(name)} was not re-executed in this session")
    rerun = out / "paper_tables" / f"{name}.csv"
    assert rerun.is_file(), f"the re-execution of {notebook_of(name)} wrote no {rerun}"
    report = tables.compare_tables(COMMITTED / f"{name}.csv", rerun,
                                   value_columns=VALUE_COLUMNS.get(name, ("reproduced",)))
    bad = report[~report["ok"]]
    assert bad.empty, (f"{len(bad)} of {len(report)} trained values of {name} differ beyond the "
                       f"tolerance:\n{bad.to_string(index=False)}")
    identical = (COMMITTED / f"{name}.csv").read_bytes() == rerun.read_bytes()
    line = (f"{name}: {len(report)} trained values within tolerance; " + (
        "byte-identical" if identical else f"max |Δ| {report['delta'].max():.4f}"))
    with open(out / "tolerance_report.txt", "a", encoding="utf-8") as fh:  # read by humans
        fh.write(line + "\n")


@pytest.mark.after_notebooks
@pytest.mark.parametrize("name", sorted(p.name for p in FIGURES.glob("*.png")))
def test_reexecuted_figure_written(request, name):
    out, ran = _rerun_root(request)
    if notebook_of(name) not in ran:
        pytest.skip(f"{notebook_of(name)} was not re-executed in this session")
    fig = out / "figures" / name
    assert fig.is_file() and fig.stat().st_size > 1000, f"the re-execution wrote no figure {fig}"
