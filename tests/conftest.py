"""Session-wide pytest set-up: checks that need the notebooks' re-execution run last."""
from __future__ import annotations


def pytest_collection_modifyitems(session, config, items):
    """Move tests marked ``after_notebooks`` behind every other item (the nbval cells).

    ``make test`` collects ``tests`` before ``notebooks``; the tests that compare the tables
    the notebooks wrote with the committed ones must run after nbval has executed them.
    """
    late = [item for item in items if item.get_closest_marker("after_notebooks")]
    if late:
        items[:] = [item for item in items if not item.get_closest_marker("after_notebooks")] + late
