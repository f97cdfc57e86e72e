"""Progress bars that never print a warning, or a wall of bars, into a committed notebook.

``tqdm.auto`` picks the Jupyter widget bar inside a kernel, and when ``ipywidgets`` is not
installed it falls back to the text bar with a red ``TqdmWarning: IProgress not found``
(including a machine path) in the notebook's output. :func:`tqdm` here makes the same
choice without the warning: the widget bar only in a Jupyter kernel with ``ipywidgets``,
the text bar otherwise.

``EMOLIB_PROGRESS=0`` switches every bar off: the Makefile exports it for
``make reproduce`` and ``make test`` (and ``scripts/reproduce.py`` sets it), so that the
executed notebooks readers see carry no progress bars (text bars would be stored as red
stderr output); an interactive session keeps its bars.

Notebooks: all (through the world builder, feature caches and the fit loop).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

__all__ = ["tqdm", "progress_enabled", "in_jupyter_kernel"]

_OFF = ("0", "false", "off", "no")


def in_jupyter_kernel() -> bool:
    """True inside a Jupyter/IPython kernel (notebook, papermill, nbval), not in a terminal."""
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_enabled() -> bool:
    """False when ``EMOLIB_PROGRESS`` is 0/false/off/no (non-interactive runs)."""
    return os.environ.get("EMOLIB_PROGRESS", "1").strip().lower() not in _OFF


def _bar_class() -> type:
    if in_jupyter_kernel() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as bar
    else:
        from tqdm.std import tqdm as bar
    return bar


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """A tqdm progress bar (same arguments), switched off when :func:`progress_enabled` is
    False; otherwise as the caller's ``disable`` says."""
    if not progress_enabled():
        kwargs["disable"] = True
    return _bar_class()(*args, **kwargs)
