"""Run the numbered notebooks through papermill, in order, and print a timing summary.

Usage (normally through ``make reproduce``)::

    python scripts/reproduce.py [--nb 00 02] [--profile quick] [--seed 1] [-p key value ...]

Each ``notebooks/NN_name.py`` (jupytext py:percent, the reviewed source) is paired into an
unexecuted ``NN_name.ipynb`` under ``notebooks/executed/`` and executed there by papermill.
With default parameters a notebook that ran to the end then replaces the committed
``notebooks/NN_name.ipynb``, so the committed notebooks carry the outputs of the default
run and a failed or interrupted run never leaves a half-executed notebook in their place
(the failed copy stays in ``notebooks/executed/`` for inspection). With any override
(profile, seed, -p, --out) the executed copies stay in ``notebooks/executed/``. Tables and
figures are written by the notebooks themselves (``--out`` redirects them).

Bad input is refused before anything runs or is written (exit code 2): a ``-p`` name that a
selected notebook's ``parameters`` cell does not define (with the closest valid names), a
``--profile`` or ``--seed`` that a notebook does not take or that is not valid, and any value
that the notebook's own first-cell check (``emolib.params.check_notebook``) would refuse.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill as pm

from emolib.params import (
    NOTEBOOK_CHECKS,
    NotLiteral,
    check_notebook,
    check_profile,
    check_seed,
    notebook_defaults,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _value(text: str):
    """Parse a -p value like papermill's CLI: Python literal if possible, else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _absolute(value):
    """A relative path given on the command line, as an absolute path.

    Kernels run in ``notebooks/``; ``-p data_root data`` means ``./data`` where you typed
    it. A string is taken as a path when it starts with ``~`` or names something that
    exists relative to the current folder; mappings (``audio_checkpoints``) are resolved
    value by value. Anything else is returned unchanged.
    """
    if isinstance(value, dict):
        return {k: _absolute(v) for k, v in value.items()}
    if isinstance(value, str) and value:
        path = Path(value).expanduser()
        if value.startswith("~") or (not path.is_absolute() and path.exists()):
            return str(path.resolve())
    return value


def numbered_sources() -> list[Path]:
    """All ``NN_*.py`` jupytext sources in notebooks/, in numeric order."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


#: The reader of the parameters cells (``emolib.params.notebook_defaults``) by its former name.
notebook_parameters = notebook_defaults


def unknown_parameters(requested: Mapping[str, str], defined: Mapping[str, Mapping[str, Any]]
                       ) -> list[str]:
    """One message per requested parameter that some selected notebook does not define.

    ``requested`` maps a parameter name to how it was asked for (``-p profil``,
    ``--seed``); ``defined`` maps each selected notebook to its parameters."""
    errors = []
    for name, flag in requested.items():
        lacking = [nb for nb, names in defined.items() if name not in names]
        if not lacking:
            continue
        close = difflib.get_close_matches(
            name, sorted({n for nb in lacking for n in defined[nb]}), n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        having = [nb for nb in defined if nb not in lacking]
        where = f"; it is a parameter of {', '.join(having)} only (select with --nb)" \
            if having else ""
        verb = "has" if len(lacking) == 1 else "have"
        errors.append(f"{flag}: {', '.join(lacking)} {verb} no parameter {name!r}{hint}{where}")
    return errors


def pair(source: Path, directory: Path) -> Path:
    """Write the unexecuted ``.ipynb`` twin of a py:percent source into ``directory``."""
    target = directory / source.with_suffix(".ipynb").name
    nb = jupytext.read(source)
    for i, cell in enumerate(nb.cells):  # stable cell ids -> stable notebook files
        cell["id"] = f"{source.stem[:2]}-{i:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (emolib)",
                                 "language": "python"}
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    nbformat.write(nb, str(target))
    return target


def clean(path: Path) -> None:
    """Drop papermill's volatile timing metadata so re-runs give small diffs."""
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nb", nargs="*", default=None, help="notebook numbers, e.g. 00 02")
    ap.add_argument("--profile", default=None, help="quick | default | paper")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default=None, help="folder for paper_tables/ and figures/")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"))
    ap.add_argument("--kernel", default="python3")
    args = ap.parse_args(argv)

    sources = numbered_sources()
    if args.nb:
        wanted = {n.zfill(2) for n in args.nb}
        unknown = wanted - {s.name[:2] for s in sources}
        if unknown:
            ap.error(f"--nb: no notebook numbered {sorted(unknown)}; "
                     f"have {[s.name[:2] for s in sources]}")
        sources = [s for s in sources if s.name[:2] in wanted]
    params = {k: _absolute(_value(v)) for k, v in args.param}
    flags = {k: f"-p {k}" for k in params}
    try:  # nothing runs and nothing is written before every check below has passed
        if args.profile is not None:
            params["profile"] = check_profile(args.profile, name="--profile")
            flags["profile"] = "--profile"
        if args.seed is not None:
            params["seed"], flags["seed"] = check_seed("--seed", args.seed), "--seed"
    except ValueError as exc:
        ap.error(str(exc))
    defined = {src.stem: notebook_defaults(src) for src in sources}
    errors = unknown_parameters(flags, defined)
    if errors:
        ap.error("\n  ".join(errors))
    for name, defaults in defined.items():  # the notebooks' own first-cell checks, up front
        values = {**defaults, **params}
        if name in NOTEBOOK_CHECKS and not any(isinstance(v, NotLiteral) for v in values.values()):
            try:  # relative paths as the kernel sees them: it runs in notebooks/
                with contextlib.chdir(NOTEBOOKS):
                    check_notebook(name, values)
            except (ValueError, FileNotFoundError) as exc:
                ap.error(f"{name}: {exc}")
    if args.out:
        os.environ["EMOLIB_OUTPUT"] = str(Path(args.out).resolve())
    os.environ.setdefault("EMOLIB_PROGRESS", "0")  # no progress bars stored in the notebooks
    executed_dir = NOTEBOOKS / "executed"
    executed_dir.mkdir(exist_ok=True)
    publish = not params and not args.out  # default run: the committed notebooks get its outputs

    summary = []
    for src in sources:
        nb_in = pair(src, executed_dir)
        nb_out = nb_in
        print(f"== {src.name}  parameters={json.dumps(params) if params else 'defaults'}",
              flush=True)
        t0 = time.perf_counter()
        status = "ok"
        try:
            pm.execute_notebook(str(nb_in), str(nb_out), parameters=params, kernel_name=args.kernel,
                                cwd=str(NOTEBOOKS), progress_bar=False, log_output=False)
        except pm.PapermillExecutionError as exc:  # keep going; report at the end
            status = f"FAILED in cell {exc.exec_count}: {exc.ename}: {exc.evalue[:200]}"
        except Exception as exc:  # noqa: BLE001 - a kernel crash etc.; report at the end
            status = f"FAILED: {type(exc).__name__}: {str(exc).strip()[:200]}"
        clean(nb_out)
        if publish and status == "ok":
            os.replace(nb_out, NOTEBOOKS / nb_out.name)  # atomic: same file system
        summary.append((src.stem, time.perf_counter() - t0, status))
        print(f"   {status} in {summary[-1][1]:.1f} s", flush=True)

    print("\nnotebook                        seconds  status")
    for name, secs, status in summary:
        print(f"{name:<30} {secs:8.1f}  {status}")
    print(f"{'total':<30} {sum(s for _, s, _ in summary):8.1f}")
    return 0 if all(s == "ok" for _, _, s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
