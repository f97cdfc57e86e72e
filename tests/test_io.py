"""Atomic writes, cache/output folders, seeding."""
from __future__ import annotations

import numpy as np
import pytest

from emolib import paths
from emolib.io import atomic_dir, atomic_path, atomic_write_text
from emolib.seed import rng, seed_everything


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "t.csv"
    atomic_write_text(target, "a\n")
    atomic_write_text(target, "b\n")
    assert target.read_text() == "b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".png" and tmp.parent == tmp_path
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_atomic_dir_is_all_or_nothing(tmp_path):
    target = tmp_path / "world"
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as d:
            (d / "a.txt").write_text("x")
            raise KeyboardInterrupt
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(target) as d:
        (d / "a.txt").write_text("x")
    with atomic_dir(target) as d:
        (d / "b.txt").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["world"]


def test_env_vars_redirect_cache_and_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("EMOLIB_OUTPUT", str(tmp_path / "o"))
    assert paths.cache_dir("world") == tmp_path / "c" / "world"
    assert paths.tables_dir() == tmp_path / "o" / "paper_tables"
    assert paths.figures_dir().is_dir()


def test_rng_streams_are_reproducible_and_independent():
    a = rng(0, "music", 3).random(4)
    assert np.array_equal(a, rng(0, "music", 3).random(4))
    assert not np.array_equal(a, rng(0, "images", 3).random(4))
    assert not np.array_equal(a, rng(1, "music", 3).random(4))
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)
