"""Bad input is refused before any work is done.

* a catalogue of bad values for every validator of ``emolib.params`` (the error type, and a
  message naming the parameter and the value);
* ``data_root`` folders missing entries of each notebook's layout (``LAYOUTS``);
* each notebook's first code cell after its parameters cell calls ``check_notebook`` right
  after its imports, before anything builds, trains or writes, and that call refuses a bad
  value given with the notebook's defaults (parameters cell + the check, run in a fresh
  namespace: no world, no training);
* ``scripts/reproduce.py`` refusing unknown ``-p`` names and bad values with exit code 2,
  before it executes or writes anything.
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import jupytext
import pytest
import torch

from emolib import params as P

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {p.stem: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))}
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is available")


# --- catalogue of bad values ----------------------------------------------------------------
# (parameter name as it must appear in the message, call, bad value, expected error)
CATALOGUE: list[tuple[str, Any, Any, type[Exception]]] = [
    *[("seed", lambda v: P.check_seed("seed", v), v, ValueError)
      for v in (-1, True, 1.0, "0", None, 2**64, [0])],
    *[("seeds", P.check_seeds, v, ValueError)
      for v in ([], (), 0, "0,1", [0, -1], [0, 0], [0, 1.5], [True], None, {0, 1}, [[0]])],
    *[("profile", P.check_profile, v, ValueError)
      for v in ("fast", "profil", "Quick", "", None, 1, ["quick"])],
    *[("device", P.check_device, v, ValueError)
      for v in ("cuda:99", "gpu", "", "CPU", "cuda:x", None, 0, "tpu")],
    *[("threads", P.check_threads, v, ValueError) for v in (0, -2, 2.0, True, "2", None)],
    *[("positives", lambda v: P.check_choice("positives", v, ("paper_w2v", "ours_w2v")), v,
       ValueError) for v in ("ours", "", None, 1, "PAPER_W2V")],
    *[("epochs", lambda v: P.check_positive("epochs", v, integer=True), v, ValueError)
      for v in (0, -1, 1.5, True, "3", None, math.inf)],
    *[("lr", lambda v: P.check_positive("lr", v, allow_none=True), v, ValueError)
      for v in (0, -1e-3, math.nan, math.inf, "1e-3", False)],
    ("n_aug", lambda v: P.check_positive("n_aug", v, integer=True, allow_zero=True), -1,
     ValueError),
    *[("lstm_sizes", lambda v: P.check_sizes("lstm_sizes", v, length=4), v, ValueError)
      for v in ([], [32, 16, 16], [32, 16, 16, 0], [32, 16, 16, 4.5], 32, None, "32,16")],
    *[("branch_weights", lambda v: P.check_weights("branch_weights", v, 3), v, ValueError)
      for v in ((0, 0, 0), (-0.1, 0.5, 0.6), (0.5, 0.5), "abc", (math.nan, 1, 1), None)],
    *[("mtr_baseline", lambda v: P.check_bool("mtr_baseline", v), v, ValueError)
      for v in ("yes", 1, None, "False")],
    *[("query", lambda v: P.check_text("query", v), v, ValueError) for v in ("", "   ", 3, None)],
    *[("word_vectors", lambda v: P.check_optional_path("word_vectors", v), v, ValueError)
      for v in ("", 3, ["a.bin"])],
    *[("audio_checkpoints", lambda v: P.check_checkpoints(
        "audio_checkpoints", v, ("short_chunk_cnn", "harmonic_cnn")), v, ValueError)
      for v in ("ckpt.pt", ["ckpt.pt"], {"resnet": "ckpt.pt"})],
    *[("data_root", lambda v: P.check_data_root(v, {}, "01_won2021"), v, ValueError)
      for v in ("", 3)],
]


@pytest.mark.parametrize("name,call,value,error", CATALOGUE,
                         ids=[f"{c[0]}={c[2]!r}" for c in CATALOGUE])
def test_bad_value_is_refused_naming_parameter_and_value(name, call, value, error):
    with pytest.raises(error) as info:
        call(value)
    message = str(info.value)
    assert name in message
    assert repr(value) in message


# path cases: (parameter, kind, what to create in tmp_path, value relative to tmp_path)
PATH_CASES = [
    ("audio_checkpoint", "file", None, "missing.pt"),  # not there
    ("audio_checkpoint", "file", "dir", "ckpt"),  # a folder, not a file
    ("text_model", "dir", None, "distilbert"),
    ("text_model", "dir", "file", "distilbert"),  # a file, not a folder
]


@pytest.mark.parametrize("name,kind,make,rel", PATH_CASES)
def test_missing_or_wrong_kind_of_path(tmp_path, name, kind, make, rel):
    target = tmp_path / rel
    if make == "dir":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    with pytest.raises(FileNotFoundError) as info:
        P.check_optional_path(name, str(target), kind=kind)
    assert name in str(info.value) and repr(str(target)) in str(info.value)


def test_checkpoint_files_must_exist_and_required_names_be_given(tmp_path):
    keys = ("short_chunk_cnn", "harmonic_cnn")
    missing = {"harmonic_cnn": str(tmp_path / "hcnn.pt")}
    with pytest.raises(FileNotFoundError, match=r"audio_checkpoints\['harmonic_cnn'\]"):
        P.check_checkpoints("audio_checkpoints", missing, keys)
    (tmp_path / "hcnn.pt").write_bytes(b"")
    assert P.check_checkpoints("audio_checkpoints", missing, keys) == missing
    with pytest.raises(ValueError, match="no checkpoint for \\['short_chunk_cnn'\\]"):
        P.check_checkpoints("audio_checkpoints", missing, keys, required=keys)
    with pytest.raises(ValueError, match="audio_checkpoints=None"):
        P.check_checkpoints("audio_checkpoints", None, keys, required=keys)


def test_messages_say_what_was_expected():
    with pytest.raises(ValueError, match="did you mean 'profile'"):
        P.check_choice("name", "profil", ("profile", "seed"))
    with pytest.raises(ValueError, match="did you mean 'quick'"):
        P.check_profile("quik")
    with pytest.raises(ValueError, match=r"available devices: 'cpu'") as info:
        P.check_device("cuda:99")
    assert "CPU build" in str(info.value) or "CUDA device(s) visible" in str(info.value)
    with pytest.raises(ValueError, match=r"seed\(s\) \[0\] repeated"):
        P.check_seeds([0, 1, 0])


@NO_CUDA
def test_cuda_is_refused_on_the_cpu_build():
    with pytest.raises(ValueError, match="device='cuda' is not available.*devices: 'cpu'"):
        P.check_device("cuda")


@pytest.mark.parametrize("call,value", [
    (lambda v: P.check_seed("seed", v), 0), (P.check_seeds, [0, 1, 2]), (P.check_seeds, (3,)),
    (P.check_profile, "paper"), (P.check_device, "cpu"), (P.check_threads, 2),
    (lambda v: P.check_positive("lr", v, allow_none=True), None),
    (lambda v: P.check_positive("n_aug", v, integer=True, allow_zero=True), 0),
    (lambda v: P.check_sizes("w", v, length=3), [8, 16, 32]),
    (lambda v: P.check_weights("w", v, 4), (0.25, 0.25, 0.25, 0.25)),
    (lambda v: P.check_bool("b", v, allow_none=True), None),
    (lambda v: P.check_optional_path("p", v), None),
])
def test_good_values_pass(call, value):
    call(value)


# --- data_root layouts ----------------------------------------------------------------------
def _make(root: Path, entry: str) -> None:
    """Create the first alternative of a layout entry (every '+' part, '*' -> 'x')."""
    for part in entry.split(" | ")[0].split(" + "):
        path = root / part.strip().replace("*", "x")
        if part.strip().endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")


LAYOUT_ENTRIES = [(nb, e) for nb, layout in P.LAYOUTS.items() for e in layout]


def test_every_notebook_has_a_layout():
    assert set(P.LAYOUTS) == set(SOURCES) == set(P.NOTEBOOK_CHECKS)
    assert all(P.LAYOUTS[nb] for nb in SOURCES if nb != "00_tour")


@pytest.mark.parametrize("notebook", [nb for nb in P.LAYOUTS if P.LAYOUTS[nb]])
def test_full_layout_passes_and_empty_folder_lists_every_entry(tmp_path, notebook):
    layout = P.LAYOUTS[notebook]
    with pytest.raises(FileNotFoundError) as info:
        P.check_data_root(str(tmp_path), layout, notebook)
    message = str(info.value)
    assert f"data_root={str(tmp_path)!r}" in message and notebook in message
    assert f"lacks {len(layout)} of the {len(layout)} entries" in message
    assert all(f"MISSING {e}" in message for e in layout)
    for entry in layout:
        _make(tmp_path, entry)
    assert P.check_data_root(str(tmp_path), layout, notebook) == tmp_path


@pytest.mark.parametrize("notebook,entry", LAYOUT_ENTRIES, ids=[f"{nb}:{e[:40]}" for nb, e in
                                                               LAYOUT_ENTRIES])
def test_each_missing_entry_is_named(tmp_path, notebook, entry):
    layout = P.LAYOUTS[notebook]
    for other in layout:
        if other != entry:
            _make(tmp_path, other)
    with pytest.raises(FileNotFoundError) as info:
        P.check_data_root(tmp_path, layout, notebook)
    message = str(info.value)
    assert f"lacks 1 of the {len(layout)} entries" in message
    assert f"MISSING {entry}" in message and message.count("MISSING") == 1
    assert layout[entry] in message  # the description of the missing entry


@pytest.mark.parametrize("notebook", [nb for nb in P.LAYOUTS if P.LAYOUTS[nb]])
def test_partial_layout_lists_all_missing_entries(tmp_path, notebook):
    layout = list(P.LAYOUTS[notebook])
    for entry in layout[::2]:
        _make(tmp_path, entry)
    with pytest.raises(FileNotFoundError) as info:
        P.check_common(data_root=str(tmp_path), layout=notebook)
    message = str(info.value)
    missing = layout[1::2]
    assert f"lacks {len(missing)} of the {len(layout)}" in message
    assert all(f"MISSING {e}" in message for e in missing)
    assert all(f"found   {e}" in message for e in layout[::2])


def test_layout_alternatives_globs_and_pairs(tmp_path):
    layout = {"con_espressione/audio_all/ | con_espressione/audio/": "recordings",
              "midlevel/audio/": "clips", "maestro/maestro-v*.csv": "metadata",
              "mtat/annotations_final.csv | mtat/tags.npy + mtat/binary.npy": "tags"}
    (tmp_path / "con_espressione" / "audio").mkdir(parents=True)  # the second alternative
    (tmp_path / "midlevel").mkdir()
    (tmp_path / "midlevel" / "audio").write_text("")  # a file where a folder is expected
    (tmp_path / "maestro").mkdir()
    (tmp_path / "maestro" / "maestro-v3.0.0.csv").write_text("")
    (tmp_path / "mtat").mkdir()
    (tmp_path / "mtat" / "tags.npy").write_text("")  # binary.npy missing: not enough
    with pytest.raises(FileNotFoundError) as info:
        P.check_data_root(tmp_path, layout, "test")
    assert "lacks 2 of the 4" in str(info.value)
    assert "MISSING midlevel/audio/" in str(info.value)
    assert "MISSING mtat/annotations_final.csv" in str(info.value)
    (tmp_path / "mtat" / "binary.npy").write_text("")
    (tmp_path / "midlevel" / "audio").unlink()
    (tmp_path / "midlevel" / "audio").mkdir()
    assert P.check_data_root(tmp_path, list(layout), "test") == tmp_path  # a plain list too


def test_data_root_must_be_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        P.check_data_root(str(tmp_path / "nowhere"), P.LAYOUTS["04_zhu2023"], "04_zhu2023")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="data_root="):
        P.check_common(data_root=str(tmp_path / "file"), layout="00_tour")
    assert P.check_data_root(None, P.LAYOUTS["01_won2021"], "01_won2021") is None
    P.check_common(data_root=str(tmp_path), layout="00_tour")  # the tour needs no entry


# --- the notebooks' first code cell ---------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _cells(notebook: str) -> tuple[str, str]:
    """(parameters cell source, first code cell after it) of a notebook's .py source."""
    cells = jupytext.read(SOURCES[notebook]).cells
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    first = next(c for c in cells[i + 1:] if c.cell_type == "code")
    return cells[i].source, first.source


def _defaults(notebook: str) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec(_cells(notebook)[0], ns)  # noqa: S102 - the notebook's own parameters cell
    return {k: v for k, v in ns.items() if not k.startswith("__")}


def _is_check(stmt: ast.stmt) -> bool:
    """``check_notebook(...)``, or ``RUN_PARAMS = check_notebook(...)`` (its return value is
    the parameters as given, for the run record)."""
    return (isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "check_notebook")


def _validation(notebook: str) -> ast.Module:
    """The validation lines of the first code cell: the emolib.params import + the call."""
    body = ast.parse(_cells(notebook)[1]).body
    keep = [s for s in body if _is_check(s)
            or (isinstance(s, ast.ImportFrom) and s.module == "emolib.params")]
    return ast.Module(body=keep, type_ignores=[])


@pytest.mark.parametrize("notebook", sorted(SOURCES))
def test_first_cell_checks_right_after_imports(notebook):
    source = _cells(notebook)[1]
    body = ast.parse(source).body
    calls = [i for i, s in enumerate(body) if _is_check(s)]
    assert len(calls) == 1, f"{notebook}: one check_notebook(...) call expected"
    assert all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body[:calls[0]]), \
        f"{notebook}: only imports may come before check_notebook(...)"
    call = body[calls[0]].value
    assert [ast.literal_eval(call.args[0]), ast.unparse(call.args[1])] == [notebook, "globals()"]
    at = source.index("check_notebook(")
    for work in ("make_world(", "write_paper_table(", "savefig(", "set_num_threads(",
                 "atomic_write_text(", "seed_everything("):
        assert work not in source[:at], f"{notebook}: {work} before the parameter check"
    assert "raise ValueError(f\"profile" not in source, "inline profile check left behind"


@pytest.mark.parametrize("notebook", sorted(SOURCES))
def test_every_parameter_is_looked_at_and_defaults_pass(notebook):
    class Recording(dict):
        def __init__(self, values: dict[str, Any]) -> None:
            super().__init__(values)
            self.seen: set[str] = set()

        def __getitem__(self, name: str) -> Any:
            self.seen.add(name)
            return super().__getitem__(name)

    defaults = _defaults(notebook)
    recording = Recording(defaults)
    P.check_notebook(notebook, recording)
    assert recording.seen == set(defaults)


def _basic_pitch_installed() -> bool:
    return importlib.util.find_spec("basic_pitch") is not None


# (notebook, bad parameters, expected error, text the message must hold)
BAD_NOTEBOOK = [
    *[(nb, {"profile": "fast"}, ValueError, "profile='fast'") for nb in SOURCES],
    *[(nb, {"device": "cuda:99"}, ValueError, "device='cuda:99'") for nb in SOURCES],
    *[(nb, {"seed": -1}, ValueError, "seed=-1") for nb in SOURCES],
    *[(nb, {"data_root": "/nonexistent/data"}, FileNotFoundError, "data_root='/nonexistent/data'")
      for nb in SOURCES],
    *[(nb, {"seeds": []}, ValueError, "seeds=[]") for nb in SOURCES if nb != "00_tour"],
    *[(nb, {"threads": 0}, ValueError, "threads=0") for nb in SOURCES if nb != "00_tour"],
    ("00_tour", {"audit_per_class": 0}, ValueError, "audit_per_class=0"),
    ("00_tour", {"audit_per_class": 2.5}, ValueError, "audit_per_class=2.5"),
    ("01_won2021", {"positives": "ours"}, ValueError, "positives='ours'"),
    ("01_won2021", {"negative_sampling": "wu"}, ValueError, "negative_sampling='wu'"),
    ("01_won2021", {"w2v_output": "tanh"}, ValueError, "w2v_output='tanh'"),
    ("01_won2021", {"audio_arch": "resnet"}, ValueError, "audio_arch='resnet'"),
    ("01_won2021", {"compare_audio_arch": "MTT_musicnn"}, ValueError,
     "compare_audio_arch='MTT_musicnn'"),
    ("01_won2021", {"finetune_audio": True}, ValueError, "musicnn is used frozen"),
    ("01_won2021", {"world_seeds": [0, 0]}, ValueError, "world_seeds=[0, 0]"),
    ("01_won2021", {"world_seeds": 3}, ValueError, "world_seeds=3"),
    ("01_won2021", {"world_seeds": [0, 1], "profile": "paper"}, ValueError,
     "pooling world draws runs on frozen features"),
    ("01_won2021", {"audio_checkpoint": "/nonexistent.pt"}, FileNotFoundError,
     "audio_checkpoint='/nonexistent.pt'"),
    ("01_won2021", {"branch_weights": (0, 0, 0)}, ValueError, "branch_weights=(0, 0, 0)"),
    ("01_won2021", {"finetune_text": "yes"}, ValueError, "finetune_text='yes'"),
    ("01_won2021", {"n_chunks": 0}, ValueError, "n_chunks=0"),
    ("02_emoclim2024", {"short_chunk_arch": "resnet"}, ValueError, "short_chunk_arch='resnet'"),
    ("02_emoclim2024", {"lambdas": (1, 1, 1)}, ValueError, "lambdas=(1, 1, 1)"),
    ("02_emoclim2024", {"audio_checkpoints": {"resnet": "x.pt"}}, ValueError, "'resnet'"),
    ("02_emoclim2024", {"pretrain_epochs": (1, 2)}, ValueError, "pretrain_epochs=(1, 2)"),
    ("02_emoclim2024", {"temperature": 0}, ValueError, "temperature=0"),
    ("02_emoclim2024", {"weight_decay": -0.01}, ValueError, "weight_decay=-0.01"),
    ("02_emoclim2024", {"weight_decay": True}, ValueError, "weight_decay=True"),
    ("02_emoclim2024", {"clip_path": "/nonexistent/clip"}, FileNotFoundError, "clip_path="),
    ("03_chowdhury2023", {"train_unit": "answers"}, ValueError, "train_unit='answers'"),
    ("03_chowdhury2023", {"query_unit": "aggregated"}, ValueError, "query_unit='aggregated'"),
    ("03_chowdhury2023", {"midlevel_widths": [8, 16]}, ValueError, "midlevel_widths=[8, 16]"),
    ("03_chowdhury2023", {"n_aug": -1}, ValueError, "n_aug=-1"),
    ("03_chowdhury2023", {"query": ""}, ValueError, "query=''"),
    ("03_chowdhury2023", {"midlevel_checkpoint": "/nonexistent.pth"}, FileNotFoundError,
     "midlevel_checkpoint="),
    pytest.param("04_zhu2023", {"transcription_backend": "basic_pitch"}, ValueError,
                 "basic-pitch is not installed", marks=pytest.mark.skipif(
                     _basic_pitch_installed(), reason="basic_pitch is installed")),
    ("04_zhu2023", {"transcription_backend": "onset_frames"}, ValueError,
     "did you mean 'onsets_frames'"),
    ("04_zhu2023", {"d_model": 30}, ValueError, "d_model=30 with n_heads=4"),
    ("04_zhu2023", {"n_frames": 4}, ValueError, "n_frames=4"),
    ("04_zhu2023", {"lstm_sizes": [32, 16, 16]}, ValueError, "lstm_sizes=[32, 16, 16]"),
    ("04_zhu2023", {"epochs": 0}, ValueError, "epochs=0"),
    ("04_zhu2023", {"profile": "paper", "n_heads": 3}, ValueError, "n_heads=3"),
]


@pytest.mark.parametrize("notebook,bad,error,text", BAD_NOTEBOOK)
def test_notebook_validation_refuses_bad_value(notebook, bad, error, text):
    """Parameters cell, then the bad value (as papermill injects it), then the validation
    lines of the first code cell, in a fresh namespace."""
    ns: dict[str, Any] = {}
    exec(_cells(notebook)[0], ns)  # noqa: S102
    ns.update(bad)
    with pytest.raises(error) as info:
        exec(compile(_validation(notebook), notebook, "exec"), ns)  # noqa: S102
    assert text in str(info.value)


@NO_CUDA
@pytest.mark.parametrize("notebook", sorted(SOURCES))
def test_notebook_validation_refuses_cuda_on_cpu_build(notebook):
    ns: dict[str, Any] = {}
    exec(_cells(notebook)[0], ns)  # noqa: S102
    ns["device"] = "cuda"
    with pytest.raises(ValueError, match="device='cuda' is not available"):
        exec(compile(_validation(notebook), notebook, "exec"), ns)  # noqa: S102


@pytest.mark.parametrize("notebook", sorted(SOURCES))
def test_notebook_validation_passes_defaults(notebook):
    ns: dict[str, Any] = {}
    exec(_cells(notebook)[0], ns)  # noqa: S102
    exec(compile(_validation(notebook), notebook, "exec"), ns)  # noqa: S102


@pytest.mark.parametrize("notebook,needs", [("01_won2021", "audio_checkpoint"),
                                             ("02_emoclim2024", "clip_path")])
def test_real_data_needs_pretrained_weights(tmp_path, notebook, needs):
    for entry in P.LAYOUTS[notebook]:
        _make(tmp_path, entry)
    params = {**_defaults(notebook), "data_root": str(tmp_path)}
    with pytest.raises(ValueError, match=f"{needs}=None with data_root="):
        P.check_notebook(notebook, params)


def test_won2021_real_data_without_a_cnn_needs_no_checkpoint(tmp_path):
    for entry in P.LAYOUTS["01_won2021"]:
        _make(tmp_path, entry)
    params = {**_defaults("01_won2021"), "data_root": str(tmp_path), "compare_audio_arch": None}
    P.check_notebook("01_won2021", params)  # musicnn's weights ship in its wheel
    with pytest.raises(ValueError, match="audio CNN 'short_chunk_cnn'"):
        P.check_notebook("01_won2021", {**params, "audio_arch": "short_chunk_cnn"})


def test_check_notebook_names_unknown_notebook_and_missing_parameter():
    with pytest.raises(ValueError, match="did you mean '01_won2021'"):
        P.check_notebook("01_won2012", {})
    with pytest.raises(KeyError, match="00_tour defines no parameter 'seed'"):
        P.check_notebook("00_tour", {})


# --- scripts/reproduce.py -------------------------------------------------------------------
@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_under_test",
                                                  ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _no_execution(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("papermill was called")


def _listing(folder: Path) -> set[str] | None:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else None


REPRODUCE_BAD = [
    (["--nb", "01", "-p", "profil", "quick"],
     "-p profil: 01_won2021 has no parameter 'profil' (did you mean 'profile'?)"),
    (["--nb", "00", "01", "-p", "seeds", "[0]"],
     "00_tour has no parameter 'seeds' (did you mean 'seed'?); it is a parameter of "
     "01_won2021 only (select with --nb)"),
    (["--nb", "00", "04", "-p", "mtr_baseline", "False"],
     "00_tour, 04_zhu2023 have no parameter 'mtr_baseline'"),
    (["--nb", "01", "--profile", "fast"], "--profile='fast': expected one of 'quick'"),
    (["--nb", "02", "--seed", "-1"], "--seed=-1"),
    (["--nb", "01", "-p", "device", "cuda:99"], "01_won2021: device='cuda:99' is not available"),
    (["--nb", "03", "-p", "train_unit", "answers"], "03_chowdhury2023: train_unit='answers'"),
    (["--nb", "04", "-p", "seeds", "[]"], "04_zhu2023: seeds=[]"),
]


@pytest.mark.parametrize("argv,text", REPRODUCE_BAD, ids=[" ".join(a) for a, _ in REPRODUCE_BAD])
def test_reproduce_refuses_before_running(reproduce, monkeypatch, tmp_path, capsys, argv, text):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("EMOLIB_OUTPUT", str(out))
    monkeypatch.setattr(reproduce.pm, "execute_notebook", _no_execution)
    executed = reproduce.NOTEBOOKS / "executed"
    before = _listing(executed)
    with pytest.raises(SystemExit) as info:
        reproduce.main(argv)
    assert info.value.code == 2
    assert text in capsys.readouterr().err
    assert _listing(executed) == before  # no notebook paired or executed
    assert list(out.iterdir()) == []  # no table, no figure


def test_reproduce_refuses_missing_data_root_entries(reproduce, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(reproduce.pm, "execute_notebook", _no_execution)
    (tmp_path / "EMOPIA").mkdir()
    (tmp_path / "EMOPIA" / "train.csv").write_text("fname,label\n")
    with pytest.raises(SystemExit) as info:
        reproduce.main(["--nb", "04", "-p", "data_root", str(tmp_path), "--out",
                        str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "04_zhu2023: data_root=" in err and "lacks 4 of the 5 entries" in err
    assert "MISSING EMOPIA/audios/" in err and "found   EMOPIA/train.csv" in err
    assert not (tmp_path / "out").exists()


def test_reproduce_reads_parameter_cells(reproduce):
    for notebook, source in SOURCES.items():
        assert reproduce.notebook_parameters(source) == _defaults(notebook)
    assert reproduce.unknown_parameters({"seed": "--seed"}, {"00_tour": {"seed": 0}}) == []


def test_reproduce_lets_good_overrides_through(reproduce, monkeypatch, tmp_path):
    """Valid names and values reach papermill unchanged (stubbed: nothing runs)."""
    calls = []
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path / "unused"))  # restored afterwards
    monkeypatch.setattr(reproduce, "numbered_sources", lambda: sorted(SOURCES.values()))
    monkeypatch.setattr(reproduce, "NOTEBOOKS", tmp_path)  # notebooks/executed/ stays as is
    monkeypatch.setattr(reproduce, "pair", lambda src, d: tmp_path / f"{src.stem}.ipynb")
    monkeypatch.setattr(reproduce, "clean", lambda path: None)
    monkeypatch.setattr(reproduce.pm, "execute_notebook",
                        lambda nb_in, nb_out, parameters, **kw: calls.append(parameters))
    argv = ["--nb", "01", "03", "--profile", "quick", "--seed", "1", "-p", "device", "cpu",
            "-p", "seeds", "[0, 1]", "-p", "threads", "1", "--out", str(tmp_path / "out")]
    assert reproduce.main(argv) == 0
    assert calls == [{"device": "cpu", "seeds": [0, 1], "threads": 1, "profile": "quick",
                      "seed": 1}] * 2


def test_check_notebook_returns_the_parameters_as_given():
    """The copy the run record uses: taken before the notebook resolves its None defaults."""
    params = _defaults("02_emoclim2024")
    got = P.check_notebook("02_emoclim2024", params)
    assert got == params and got is not params
    params["epochs"] = 4  # the notebook resolving a None default afterwards
    assert got["epochs"] is None
