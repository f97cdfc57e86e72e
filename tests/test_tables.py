"""emolib.tables: published-value schema, mean ± std, join semantics, atomic and
byte-stable writing, stable printing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emolib import io as emo_io
from emolib import provenance
from emolib import tables as T

PUBLISHED = """paper,table,setting,metric,published,source
toy2020,Table 3,model=3-branch; text=ISEAR,P@5,0.50,Table 3
toy2020,Table 3,model=3-branch; text=ISEAR,MRR,0.612,Table 3
toy2020,Table 3,"model=baseline, other work; text=ISEAR",P@5,0.31,Table 3; published_only
toy2020,Table 4,model=2-branch,accuracy,51.2,Table 4
"""


@pytest.fixture(autouse=True)
def outside_a_run():
    """The tables here are written outside a run: no run-record header lines, no sidecar
    (``tests/test_provenance.py`` covers tables written during a run)."""
    provenance.end_run()
    yield
    provenance.end_run()


@pytest.fixture
def env(tmp_path, monkeypatch):
    pub = tmp_path / "published"
    pub.mkdir()
    (pub / "toy2020.csv").write_text(PUBLISHED, encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.setenv("EMOLIB_OUTPUT", str(out))
    monkeypatch.setenv("EMOLIB_PUBLISHED_DIR", str(pub))
    return pub, out / "paper_tables"


def _results():
    return pd.DataFrame([
        # table, setting, metric, seed, value
        ("Table 3", "model=3-branch; text=ISEAR", "P@5", 0, 0.40),
        ("Table 3", "model=3-branch; text=ISEAR", "P@5", 1, 0.45),
        ("Table 3", "model=3-branch; text=ISEAR", "P@5", 2, 0.47),
        ("Table 3", "model=3-branch; text=ISEAR", "MRR", 0, 0.6),
        ("Table 9", "extra=yes", "P@1", 0, 0.25),
        ("Table 9", "extra=yes", "P@1", 1, 0.35),
    ], columns=["table", "setting", "metric", "seed", "value"])


# ---------------------------------------------------------------- published values
def test_load_published_round_trip(env):
    pub, _ = env
    df = T.load_published("toy2020")
    assert list(df.columns) == list(T.PUBLISHED_COLUMNS)
    assert df["published"].tolist() == ["0.50", "0.612", "0.31", "51.2"]  # digits as typed
    assert df["setting"].iloc[2] == "model=baseline, other work; text=ISEAR"
    assert df["source"].iloc[2] == "Table 3; published_only"
    # explicit folder beats the env var; written back and re-read it is identical
    df.to_csv(pub / "copy.csv", index=False)
    (pub / "copy.csv").write_text((pub / "copy.csv").read_text().replace("toy2020", "copy"))
    again = T.load_published("copy", published_dir=pub)
    pd.testing.assert_frame_equal(again.drop(columns="paper"), df.drop(columns="paper"))


def test_mean_over_seeds_and_published_value_by_hand(env):
    res = _results()
    assert T.mean_over_seeds(res, "model=3-branch; text=ISEAR", "P@5") == pytest.approx(
        (0.40 + 0.45 + 0.47) / 3)
    assert T.mean_over_seeds(res.to_dict("records"), "extra=yes", "P@1") == pytest.approx(0.30)
    with pytest.raises(KeyError, match="0 result rows for setting='extra=yes', metric='MRR'"):
        T.mean_over_seeds(res, "extra=yes", "MRR")
    assert T.published_value("toy2020", "model=3-branch; text=ISEAR", "MRR") == 0.612
    assert T.published_value("toy2020", "model=2-branch", "accuracy") == 51.2
    with pytest.raises(KeyError, match="0 published rows of toy2020"):
        T.published_value("toy2020", "model=2-branch", "P@5")


@pytest.mark.parametrize("text, message", [
    ("paper,table,setting,metric,published\ntoy2020,T,s,m,1\n", r"missing \['source'\]"),
    ("paper,table,setting,metric,published,source,note\ntoy2020,T,s,m,1,T,x\n",
     r"unexpected \['note'\]"),
    ("paper,table,setting,metric,published,source\ntoy2020,T,,m,1,T\n", r"line 2: empty 'setting'"),
    ("paper,table,setting,metric,published,source\nother,T,s,m,1,T\n", r"line 2: paper is 'other'"),
    ("paper,table,setting,metric,published,source\ntoy2020,T,s,m,1,T\ntoy2020,T,s,m,n/a,T\n",
     r"line 3: published value 'n/a' is not a number"),
    ("paper,table,setting,metric,published,source\ntoy2020,T,s,m,1,T\ntoy2020,T,s,m,2,T\n",
     r"duplicated \(table, setting, metric\) on lines \[2, 3\]"),
])
def test_load_published_schema_errors_name_the_file(env, text, message):
    pub, _ = env
    (pub / "toy2020.csv").write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        T.load_published("toy2020")
    assert "toy2020.csv" in str(err.value)


def test_load_published_missing_file_and_bad_key(env):
    with pytest.raises(FileNotFoundError, match=r"nope.*available: \['toy2020'\]"):
        T.load_published("nope")
    with pytest.raises(ValueError, match="paper_key"):
        T.load_published("../etc/passwd")


def test_package_published_files_are_valid():
    """Every CSV shipped in emolib/data/published (typed by the paper helpers) validates."""
    folder = T.published_path("x", None).parent
    for path in sorted(folder.glob("*.csv")):
        df = T.load_published(path.stem, published_dir=folder)
        assert len(df) > 0, path


# ---------------------------------------------------------------- mean ± std
def test_format_mean_std_by_hand():
    # values 0.40, 0.45, 0.47: mean 0.44, sample std sqrt(((.04)^2+(.01)^2+(.03)^2)/2) = 0.0360555
    assert T.format_mean_std([0.40, 0.45, 0.47]) == "0.440 ± 0.036"
    assert T.format_mean_std([0.40, 0.45, 0.47], ddof=0) == "0.440 ± 0.029"  # sqrt(.0026/3)
    assert T.format_mean_std([0.40, 0.45, 0.47], decimals=2) == "0.44 ± 0.04"
    assert T.format_mean_std([0.5126]) == "0.513"  # one seed: the value only
    assert T.format_mean_std([0.5, 0.5]) == "0.500 ± 0.000"
    assert T.format_mean_std([-0.0001, 0.0001]) == "0.000 ± 0.000"  # never "-0.000"
    assert T.format_mean_std([1.0, np.nan]) == "nan ± nan"
    with pytest.raises(ValueError, match="decimals"):
        T.format_mean_std([1.0], decimals=-1)


def test_summarize_groups_in_first_appearance_order():
    s = T.summarize(_results())
    assert s[["table", "metric"]].values.tolist() == [["Table 3", "P@5"], ["Table 3", "MRR"],
                                                      ["Table 9", "P@1"]]
    assert s["reproduced"].tolist() == ["0.440 ± 0.036", "0.600", "0.300 ± 0.071"]
    assert s["seeds"].tolist() == ["0,1,2", "0", "0,1"]
    assert s["n_seeds"].tolist() == [3, 1, 2]
    assert s["mean"].iloc[0] == pytest.approx(0.44)
    assert s["std"].iloc[0] == pytest.approx(np.std([0.40, 0.45, 0.47], ddof=1))
    assert np.isnan(s["std"].iloc[1])


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns="seed"), r"missing column\(s\) \['seed'\]"),
    (lambda d: d.assign(value=["x"] + [0.1] * 5), r"'value'\] must be numeric; row 0"),
    (lambda d: d.assign(seed=[0.5] + [0] * 5), r"'seed'\] must hold integers; row 0"),
    (lambda d: d.assign(metric=[""] + ["P@5"] * 5), r"'metric'\] must hold non-empty strings"),
    (lambda d: pd.concat([d, d.iloc[:1]]), r"several rows for \(table='Table 3'"),
])
def test_results_validation(mutate, message):
    with pytest.raises(ValueError, match=message):
        T.summarize(mutate(_results()))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        T.summarize([1, 2])


# ---------------------------------------------------------------- join + writing
def test_write_paper_table_join_semantics(env):
    _, out = env
    df = T.write_paper_table("toy_t3", _results(), "toy2020", "world (profile=quick)",
                             seeds=[0, 1, 2], include_tables=["Table 4"])
    assert list(df.columns) == list(T.TABLE_COLUMNS)
    expected = [
        # published rows, in file order
        ["Table 3", "model=3-branch; text=ISEAR", "P@5", "0.50", "Table 3", "0.440 ± 0.036",
         "world (profile=quick)", "0,1,2"],
        ["Table 3", "model=3-branch; text=ISEAR", "MRR", "0.612", "Table 3", "0.600",
         "world (profile=quick)", "0"],
        ["Table 3", "model=baseline, other work; text=ISEAR", "P@5", "0.31",
         "Table 3; published_only", "—", "—", "—"],
        ["Table 4", "model=2-branch", "accuracy", "51.2", "Table 4", "—", "—", "—"],
        # reproduced-only row last
        ["Table 9", "extra=yes", "P@1", "—", "—", "0.300 ± 0.071", "world (profile=quick)", "0,1"],
    ]
    assert df.drop(columns="paper").values.tolist() == expected
    assert set(df["paper"]) == {"toy2020"}
    # the CSV round-trips to the same table
    back = pd.read_csv(out / "toy_t3.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, df)
    md = (out / "toy_t3.md").read_text(encoding="utf-8")
    assert md.startswith("# toy_t3\n")
    assert "reproduced on: **world (profile=quick)**" in md
    assert "typed in from the paper" in md and "synthetic stand-in" in md
    assert "| Table 4 " in md and "0.440 ± 0.036" in md and "| 0.50 " in md


def test_published_rows_are_limited_to_the_tables_in_results(env):
    only_t3 = _results()[lambda d: d["table"] == "Table 3"]
    df = T.paper_table(only_t3, "toy2020", "world")
    assert df["table"].tolist() == ["Table 3"] * 3  # Table 4 (not in results) left out
    for extra in (["Table 4"], "all"):
        df = T.paper_table(only_t3, "toy2020", "world", include_tables=extra)
        assert df["table"].tolist() == ["Table 3"] * 3 + ["Table 4"]
        assert df["reproduced"].tolist() == ["0.440 ± 0.036", "0.600", "—", "—"]
    with pytest.raises(ValueError, match=r"include_tables \['Table 5'\] are not tables"):
        T.paper_table(only_t3, "toy2020", "world", include_tables=["Table 5"])
    with pytest.raises(TypeError, match="sequence of table names"):
        T.paper_table(only_t3, "toy2020", "world", include_tables="Table 4")


def test_write_is_byte_identical_and_leaves_no_temp_files(env):
    _, out = env
    T.write_paper_table("toy_t3", _results(), "toy2020", "world", seeds=[0, 1, 2])
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    T.write_paper_table("toy_t3", _results(), "toy2020", "world", seeds=[0, 1, 2])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert sorted(first) == ["toy_t3.csv", "toy_t3.md"]
    assert b"\r\n" not in first["toy_t3.csv"]


def test_failed_write_keeps_old_files(env, monkeypatch):
    _, out = env
    T.write_paper_table("toy_t3", _results(), "toy2020", "world", seeds=[0, 1, 2])
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(emo_io.os, "replace", boom)
    changed = _results().assign(value=lambda d: d["value"] + 0.1)
    with pytest.raises(OSError, match="disk full"):
        T.write_paper_table("toy_t3", changed, "toy2020", "world", seeds=[0, 1, 2])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old files, no temp files


def test_write_paper_table_argument_errors(env):
    with pytest.raises(ValueError, match=r"seed\(s\) \[2\] that are not in seeds"):
        T.write_paper_table("t", _results(), "toy2020", "world", seeds=[0, 1])
    with pytest.raises(ValueError, match="name must be a plain file stem"):
        T.write_paper_table("a/b", _results(), "toy2020", "world", seeds=[0, 1, 2])
    with pytest.raises(ValueError, match="data must name"):
        T.write_paper_table("t", _results(), "toy2020", "", seeds=[0, 1, 2])
    with pytest.raises(ValueError, match="seeds must be"):
        T.write_paper_table("t", _results(), "toy2020", "world", seeds=[])
    with pytest.raises(FileNotFoundError, match="no published values"):
        T.write_paper_table("t", _results(), "nope", "world", seeds=[0, 1, 2])


def test_show_is_stable_text(capsys):
    df = pd.DataFrame({"setting": ["a", "b|c"], "published": ["0.50", "—"], "x": [0.123456, np.nan],
                       "n": [3, 4]})
    T.show(df)
    first = capsys.readouterr().out
    T.show(df.copy())
    assert capsys.readouterr().out == first
    lines = first.splitlines()
    assert lines[0].split() == ["setting", "published", "x", "n"]
    assert lines[2].split() == ["a", "0.50", "0.123", "3"]  # "0.50" not parsed to 0.5
    assert lines[3].split() == ["b|c", "—", "—", "4"]
    T.show(df, decimals=1, columns=["x", "setting"])
    assert capsys.readouterr().out.splitlines()[2].split() == ["0.1", "a"]
    with pytest.raises(ValueError, match="unknown column"):
        T.show(df, columns=["nope"])


def test_notes_are_listed_in_the_markdown_only(env):
    _, out = env
    T.write_paper_table("toy_t3", _results(), "toy2020", "world", seeds=[0, 1, 2],
                        notes=["MTR rows: a CLAP-style stand-in"])
    md = (out / "toy_t3.md").read_text()
    assert "\n- MTR rows: a CLAP-style stand-in\n" in md
    assert "stand-in" not in (out / "toy_t3.csv").read_text()
    with pytest.raises(TypeError, match="notes"):
        T.write_paper_table("toy_t3", _results(), "toy2020", "world", seeds=[0, 1, 2],
                            notes="one string")
