"""The import structure of ``emolib``, read from the source with :mod:`ast` (nothing imported).

Every ``import`` / ``from ... import`` statement counts, wherever it is: module level,
inside functions, under ``if TYPE_CHECKING:`` or ``try:`` (relative imports resolved
against the importing module's package). Asserted:

(a) the modules of :mod:`emolib.data.world` import each other without a circle;
(b) the data layer (:mod:`emolib.data` and below) imports none of :mod:`emolib.encoders`,
    :mod:`emolib.papers`, :mod:`emolib.train`;
(c) no module of ``emolib`` imports a notebook (``notebooks/*.py``), statically or through
    ``importlib`` / ``runpy``.

A package's ``__init__`` is the module named after the package; importing a submodule is
not counted as importing its parent package (Python runs the parent's ``__init__`` first,
but that is no dependency of the importer on the package's contents).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "emolib"
NOTEBOOKS = ROOT / "notebooks"

WORLD = "emolib.data.world"
DATA = "emolib.data"
FORBIDDEN_IN_DATA = ("emolib.encoders", "emolib.papers", "emolib.train")
DYNAMIC_IMPORTERS = {"import_module", "__import__", "run_module", "run_path",
                     "spec_from_file_location", "SourceFileLoader", "exec_module"}


@dataclass(frozen=True)
class Import:
    """One imported name: ``target`` is absolute (a module of emolib when it is one)."""

    source: str  # importing module
    target: str  # the module (or, for external names, the dotted name) imported
    line: int

    def where(self) -> str:
        return f"{self.source} (line {self.line})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in p.parts}


MODULES = _modules()


def _resolve(name: str) -> str:
    """The longest prefix of ``name`` that is a module of emolib, else ``name`` itself."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in MODULES:
            return cand
    return name


def _package_of(module: str) -> str:
    """The package relative imports of ``module`` are resolved against."""
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))
    out: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [Import(module, _resolve(a.name), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split(".")
                if node.level - 1 > len(base) - 1:
                    raise AssertionError(f"{module} line {node.lineno}: relative import "
                                         f"beyond the top-level package")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                # ``from pkg import submodule`` imports the submodule; else a name of ``mod``
                out.append(Import(module, sub if sub in MODULES else _resolve(mod),
                                  node.lineno))
    return out


GRAPH: dict[str, list[Import]] = {m: _imports(m) for m in MODULES}


def _strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges.get(w, ()))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    comps.append(sorted(comp))
    return comps


def _a_cycle(comp: list[str], edges: dict[str, list[str]]) -> list[str]:
    """One circle through the first module of a strongly connected component."""
    members = set(comp)
    start = comp[0]
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth first: the shortest circle back to ``start``
        nxt = []
        for v in frontier:
            for w in edges.get(v, ()):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start, start]
                if w in members and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no circle found in {comp}")  # pragma: no cover


def _world_graph() -> tuple[dict[str, list[str]], dict[tuple[str, str], str]]:
    world = [m for m in MODULES if m == WORLD or m.startswith(WORLD + ".")]
    edges: dict[str, list[str]] = {m: [] for m in world}
    lines: dict[tuple[str, str], list[int]] = {}
    for m in world:
        for imp in GRAPH[m]:
            if imp.target in edges:
                if imp.target not in edges[m]:
                    edges[m].append(imp.target)
                lines.setdefault((m, imp.target), []).append(imp.line)
    return edges, {k: "line " + ", ".join(map(str, sorted(set(v)))) for k, v in lines.items()}


def test_the_graph_was_read():
    assert WORLD in MODULES and f"{WORLD}.core" in MODULES
    targets = {i.target for i in GRAPH[f"{WORLD}.core"]}
    assert f"{WORLD}.music" in targets  # a function-level import of core
    assert "emolib.io" in targets and "numpy" in targets


def test_cycle_finder_on_a_toy_graph():
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["d"], "e": ["a"]}
    comps = [c for c in _strongly_connected(list(edges), edges) if len(c) > 1]
    assert comps == [["a", "b", "c"]]
    assert _a_cycle(["a", "b", "c"], edges) == ["a", "b", "c", "a"]
    assert _a_cycle(["d"], edges) == ["d", "d"]


def test_world_modules_import_each_other_without_a_circle():
    edges, lines = _world_graph()
    circles = []
    for comp in _strongly_connected(sorted(edges), edges):
        if len(comp) > 1 or comp[0] in edges[comp[0]]:
            cyc = _a_cycle(comp, edges)
            steps = " -> ".join(f"{a} ({lines[(a, b)]})" for a, b in zip(cyc, cyc[1:]))
            inside = ", ".join(f"{a} -> {b} ({lines[(a, b)]})" for a in comp
                               for b in edges[a] if b in comp)
            circles.append(f"circle among {comp}: {steps} -> {cyc[-1]}; "
                           f"all imports inside it: {inside}")
    assert not circles, "import circles inside emolib.data.world:\n" + "\n".join(circles)


def test_the_data_layer_imports_no_encoders_papers_or_training():
    bad = [f"{imp.where()} imports {imp.target}"
           for m, imps in GRAPH.items() if m == DATA or m.startswith(DATA + ".")
           for imp in imps
           if any(imp.target == f or imp.target.startswith(f + ".") for f in FORBIDDEN_IN_DATA)]
    assert not bad, "the data layer imports a higher layer:\n" + "\n".join(bad)


def _notebook_names() -> set[str]:
    return {p.stem for p in NOTEBOOKS.glob("*.py")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")}


def _mentions_notebook(text: str, names: set[str]) -> bool:
    parts = set(text.replace("\\", "/").replace("/", ".").split("."))
    return "notebooks" in parts or bool(parts & names)


def test_no_module_imports_a_notebook():
    names = _notebook_names()
    assert names, f"no notebooks found under {NOTEBOOKS}"
    bad = [f"{imp.where()} imports {imp.target}" for imps in GRAPH.values() for imp in imps
           if _mentions_notebook(imp.target, names)]
    for m, path in MODULES.items():  # importlib / runpy with a literal module name or path
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            if fn in DYNAMIC_IMPORTERS:
                for arg in ast.walk(node):
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and \
                            _mentions_notebook(arg.value, names):
                        bad.append(f"{m} (line {node.lineno}) loads {arg.value!r} via {fn}")
    assert not bad, "emolib imports a notebook:\n" + "\n".join(bad)


@pytest.mark.parametrize("text, expected", [
    ("notebooks.helpers", True), ("notebooks/00_tour.py", True), ("00_tour", True),
    ("emolib.data.world", False), ("madmom", False)])
def test_notebook_detector(text, expected):
    assert _mentions_notebook(text, {"00_tour"}) is expected
