"""Where things live: the cache directory and the compendium's output folders.

* ``EMOLIB_CACHE`` (env var) overrides the cache directory (generated world, features,
  checkpoints); the default is the user cache dir, e.g. ``~/.cache/emolib``.
* ``EMOLIB_OUTPUT`` overrides the folder that holds ``paper_tables/`` and ``figures/``;
  the default is the repository root when emolib is used from a clone, else the cwd.
"""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_dir", "repo_root", "output_root", "tables_dir", "figures_dir"]


def cache_dir(*parts: str) -> Path:
    """Return (and create) ``$EMOLIB_CACHE/<parts...>``."""
    root = os.environ.get("EMOLIB_CACHE") or platformdirs.user_cache_dir("emolib")
    path = Path(root).expanduser().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def repo_root() -> Path | None:
    """The clone's root if emolib is imported from a source checkout, else ``None``."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() and (here / "notebooks").is_dir() else None


def output_root() -> Path:
    """Folder holding ``paper_tables/`` and ``figures/`` (``EMOLIB_OUTPUT`` overrides)."""
    env = os.environ.get("EMOLIB_OUTPUT")
    if env:
        return Path(env).expanduser()
    return repo_root() or Path.cwd()


def tables_dir() -> Path:
    """Return (and create) the ``paper_tables/`` folder."""
    path = output_root() / "paper_tables"
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir() -> Path:
    """Return (and create) the ``figures/`` folder."""
    path = output_root() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path
