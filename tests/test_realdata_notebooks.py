"""The researcher's real-data path: every paper notebook, run end to end with ``data_root``.

One module-scoped fixture writes a miniature ``data_root`` holding every dataset in its
published layout and tiny pretrained models with random weights (``tests/realdata.py``);
each notebook is then paired from its py:percent source and executed with papermill on it
(``profile="quick"``, one seed, the smallest epochs and sizes), with ``EMOLIB_OUTPUT`` and
``EMOLIB_CACHE`` in temporary folders. Asserted: the run ends; every table it writes names
the real datasets (never the emotion world) and the Markdown tables carry no note that is
only true of the world; the notes name the pretrained weights that were loaded; every
figure of the notebook is written; no emotion world was built. When the run record exists
(a ``paper_tables/<name>.json`` beside a table), its parameters and weights and the
Markdown header are checked too.

Slow (≈ 3-4 min for the four on 2 cores): marked ``slow`` and ``after_notebooks``. ``make
test`` runs this module in a second pytest process beside the unit-test + nbval session
(it shares nothing with it: data root, cache and output are temporary folders); in a single
``pytest tests notebooks`` session the marker puts it after nbval.
"""
from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
import realdata  # tests/realdata.py: the miniature data root and models

pytestmark = [pytest.mark.slow, pytest.mark.after_notebooks]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: The tables and figures each notebook writes (on the world and on real data alike).
TABLES = {"01_won2021": ("won2021_table2", "won2021_table3", "won2021_table4"),
          "02_emoclim2024": ("emoclim_table1", "emoclim_table2", "emoclim_table3"),
          "03_chowdhury2023": ("chowdhury2023_midlevel", "chowdhury2023_table1",
                               "chowdhury2023_table2"),
          "04_zhu2023": ("zhu2023_transcription", "zhu2023_table2", "zhu2023_table3",
                         "zhu2023_table4")}
FIGURE_PREFIX = {"01_won2021": "won2021_", "02_emoclim2024": "emoclim_",
                 "03_chowdhury2023": "chowdhury2023_", "04_zhu2023": "zhu2023_"}
#: Phrases of the notes that are only true on the emotion world (stand-ins trained on it,
#: reuse of its clips); none may appear in a table written from real data.
WORLD_ONLY = re.compile(
    r"\bworld\b|world seed|world's|emotion world|world clips|world captions|"
    r"pre-trained the taggers|auxiliary task|synthetic stand-in|CLAP-style", re.IGNORECASE)
TIMES: dict[str, float] = {}


def _reproduce():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def miniature(tmp_path_factory):
    """(data_root, models, parameters per notebook, cache folder, metadata sources)."""
    base = tmp_path_factory.mktemp("realdata")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOLIB_CACHE", str(base / "cache"))
        mp.setenv("EMOLIB_PROGRESS", "0")
        t0 = time.perf_counter()
        sources = realdata.write_data_root(base / "data")
        models = realdata.write_models(base / "models")
        TIMES["fixture"] = time.perf_counter() - t0
        yield {"data_root": base / "data", "models": models, "cache": base / "cache",
               "params": realdata.notebook_parameters(base / "data", models),
               "sources": sources}
    print("miniature real-data runs (s):", {k: round(v, 1) for k, v in TIMES.items()},
          "metadata from:", sources)


def _weight_names(params: dict) -> list[str]:
    """File or folder names of the pretrained weights a notebook was given."""
    keys = ("audio_checkpoint", "text_model", "word_vectors", "clip_path", "clap_path",
            "midlevel_checkpoint")
    paths = [params[k] for k in keys if params.get(k)]
    paths += list((params.get("audio_checkpoints") or {}).values())
    return [Path(p).name for p in paths]


def _prelude(md: str) -> str:
    """The Markdown table's header and notes (everything before the table)."""
    return md.split("\n| ", 1)[0]


@pytest.mark.parametrize("name", list(TABLES))
def test_notebook_runs_on_real_data_layouts(name, miniature, tmp_path, monkeypatch,
                                            record_property):
    import papermill as pm

    from emolib.params import check_notebook

    out = tmp_path / "out"
    monkeypatch.setenv("EMOLIB_OUTPUT", str(out))
    reproduce = _reproduce()
    source = NOTEBOOKS / f"{name}.py"
    params = miniature["params"][name]
    defaults = reproduce.notebook_parameters(source)
    assert not set(params) - set(defaults), "parameters the notebook does not define"
    check_notebook(name, {**defaults, **params})  # the notebook's own first-cell check
    nb_in = reproduce.pair(source, tmp_path)
    t0 = time.perf_counter()
    pm.execute_notebook(str(nb_in), str(tmp_path / f"{name}.out.ipynb"), parameters=params,
                        kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False,
                        log_output=False, execution_timeout=900)
    TIMES[name] = time.perf_counter() - t0
    record_property("seconds", round(TIMES[name], 1))
    print(f"{name}: {TIMES[name]:.1f} s on the miniature data root")

    data = realdata.DATA_NAMES[name]
    weights = _weight_names(params)
    non_default = sorted(k for k, v in params.items() if defaults.get(k) != v)
    notes_all = []
    for table in TABLES[name]:
        csv_path, md_path = (out / "paper_tables" / f"{table}{ext}" for ext in (".csv", ".md"))
        assert csv_path.is_file() and md_path.is_file(), f"{table} not written"
        df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        used = df.loc[df["reproduced"] != "—", "data"]
        assert len(used), f"{table}: no reproduced value"
        assert set(used) == {data}, f"{table}: data column {sorted(set(used))}, expected {data!r}"
        md = md_path.read_text(encoding="utf-8")
        head = _prelude(md)
        assert f"reproduced on: **{data}**" in head, f"{table}: header does not name {data!r}"
        hits = sorted({m.group(0) for m in WORLD_ONLY.finditer(md)})
        assert not hits, f"{table}.md: world-only wording {hits} in a real-data table:\n{head}"
        notes_all.append(head)
        sidecar = out / "paper_tables" / f"{table}.json"
        if sidecar.is_file():  # the run record (when present): parameters and weights named
            record = json.loads(sidecar.read_text(encoding="utf-8"))
            run = record.get("run", record)
            text = json.dumps(run.get("parameters", run))
            missing = [k for k in non_default if f"{k} = " not in text]
            assert not missing, f"{sidecar.name}: parameters {missing} not recorded"
            text = json.dumps(run.get("weights", run))
            missing = [w for w in weights if w not in text]
            assert not missing, f"{sidecar.name}: weights {missing} not recorded"
            missing = [w for w in [*(f"{k} = " for k in non_default), *weights]
                       if w not in head]
            assert not missing, f"{table}.md: header does not name {missing}"
    notes = "\n".join(notes_all)
    named = {"01_won2021": ("text_model", "word_vectors"),  # the weights the notes name
             "02_emoclim2024": ("audio_checkpoints",)}.get(name, ())
    named = _weight_names({k: params[k] for k in named})
    if name == "04_zhu2023":
        named.append("onsets_frames")
    missing = [w for w in named if w not in notes]
    assert not missing, f"{name}: the tables' notes do not name {missing}"
    committed = {p.name for p in (ROOT / "figures").glob(f"{FIGURE_PREFIX[name]}*.png")}
    written = {p.name for p in (out / "figures").glob("*.png")}
    assert committed <= written, f"figures not written: {sorted(committed - written)}"
    world = miniature["cache"] / "world"
    assert not world.exists() or not any(world.iterdir()), "an emotion world was built"


def test_miniature_layouts_without_the_shared_copies(tmp_path):
    """Without ../shared/data the CSVs are written here: every layout entry is present and
    the readers accept what the notebooks read."""
    from emolib.data import audioset, emopia, isear
    from emolib.params import LAYOUTS, check_data_root

    root = tmp_path / "data"
    sources = realdata.write_data_root(root, shared=tmp_path / "no-shared-copy")
    assert set(sources.values()) == {"written here"}
    for name, layout in LAYOUTS.items():
        check_data_root(root, layout, name)
    music = audioset.load_audioset_mood(root / "audioset", root / "audioset" / "audio")
    assert music.groupby("label")["split"].nunique().eq(3).all()  # every mood in every split
    assert isear.read_isear(root / "isear" / "isear.csv")["label"].value_counts().eq(10).all()
    piano = emopia.read_emopia(root / "EMOPIA", midi_dir=None, missing="drop")
    assert piano.groupby("label")["split"].nunique().eq(3).all()
