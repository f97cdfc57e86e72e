"""`make test` runs every kind of test: the commands it would run (``make -n test``)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recipe() -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return out[out.index("ruff check"):]  # the test recipe (make -n may list set-up first)


def test_make_test_runs_unit_tests_realdata_runs_and_nbval(recipe):
    assert '-m pytest tests -m "not after_notebooks"' in recipe  # unit tests
    # the real-data module is marked after_notebooks, so it needs its own invocation
    assert "-m pytest tests/test_realdata_notebooks.py" in recipe
    assert "-m pytest notebooks tests/test_reexecuted_tables.py" in recipe  # nbval + checks
    assert "--nbval-lax" in recipe
