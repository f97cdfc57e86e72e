"""`make test` runs every kind of test: the commands it would run (``make -n test``)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recipe() -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # make -n still executes recipe lines that use $(MAKE): the test recipe must have none
    # (else this test would run the whole test command)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_rule = makefile[makefile.index("\ntest:"):]
    test_rule = test_rule[:test_rule.index("\n\n")]
    assert "$(MAKE)" not in test_rule
    out = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return out[out.index("ruff check"):]  # the test recipe (make -n may list set-up first)


def _nbval_runs(recipe: str) -> list[list[str]]:
    """The notebooks of each nbval invocation of the recipe."""
    calls = [c for c in re.split(r"-m pytest ", recipe)[1:] if "--nbval-lax" in c.split("\n\n")[0]]
    return [re.findall(r"notebooks/\d\d_\w+\.ipynb", c[:c.index("--nbval-lax")]) for c in calls]


def test_make_test_runs_unit_tests_realdata_runs_and_nbval(recipe):
    assert '-m pytest tests -m "not after_notebooks"' in recipe  # unit tests
    # the real-data module is marked after_notebooks, so it needs its own invocation
    assert "-m pytest tests/test_realdata_notebooks.py" in recipe
    assert "scripts/warmup.py" in recipe  # numba caches, beside the first notebooks
    # two processes side by side: idle OpenMP threads sleep (the Makefile says why)
    assert recipe.index("export OMP_WAIT_POLICY=PASSIVE") < recipe.index("-m pytest")
    runs = _nbval_runs(recipe)
    assert len(runs) == 2, runs  # the notebooks are shared between the two processes


def test_make_test_runs_every_notebook_once_with_the_table_checks(recipe):
    runs = _nbval_runs(recipe)
    ran = [nb for run in runs for nb in run]
    committed = sorted(f"notebooks/{p.name}"
                       for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(ran) == committed  # each notebook once, none left out
    for call in re.split(r"-m pytest ", recipe)[1:]:
        head = call.split("\n\n")[0]
        if "--nbval-lax" in head:  # the table checks run in the session that ran the notebook
            assert "tests/test_reexecuted_tables.py" in head[:head.index("--nbval-lax")]
