"""The shape of the code: no import cycle among a package's modules (the core's or a backend's), arrows
between the core's layers point one way, and no backend package imports another.

Imports are read from the source (``ast``), at module level and inside functions alike; an import under
``if TYPE_CHECKING:`` is a type hint, not a dependency, and is left out. To add a rule, add an entry to
:data:`LAYER_RULES` (or a test that uses :func:`imports_of`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[2]
CORE = PACKAGES / "stepline" / "src"

#: Cycles that are allowed: pydantic's recursive models of a graph and its nodes refer to each other.
ALLOWED_CYCLES = [{"stepline.pipeline.graph", "stepline.pipeline.nodes", "stepline.pipeline.composites"}]

#: (modules the rule is about, what they may import from the core (None: anything), what they may not).
LAYER_RULES = [
    ("stepline.pipeline", ("stepline.pipeline", "stepline.errors", "stepline.plugins"), ()),
    ("stepline.executors", None, ("stepline.run", "stepline.orchestration.callbacks", "stepline.cli", "stepline.sdk")),
    *[(service, None, ("stepline.executors", "stepline.run", "stepline.orchestration", "stepline.cli", "stepline.sdk"))
      for service in ("stepline.runlog", "stepline.catalog", "stepline.secrets", "stepline.tracking")],
]


def module_names(src: Path) -> dict[str, Path]:
    """Every module under ``src`` by its dotted name (a package by its own name)."""
    found = {}
    for path in src.rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def imported_names(path: Path, module: str) -> set[str]:
    """The dotted names ``path`` (module ``module``) imports, outside ``if TYPE_CHECKING:`` blocks;
    ``from a import b`` gives ``a.b`` (which may be a module or a name in ``a``)."""
    names: set[str] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def imports_of(src: Path) -> dict[str, set[str]]:
    """For each module under ``src``: the modules under ``src`` it imports. ``from a import b`` counts
    as importing module ``a.b`` when there is one, else module ``a``. The root package (``stepline``,
    whose names load lazily) is left out."""
    modules = module_names(src)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        found = set()
        for name in imported_names(path, module):
            if name not in modules:
                name = name.rpartition(".")[0]
            if name in modules and name != module and "." in name:
                found.add(name)
        graph[module] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                other = stack.pop()
                component.add(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("package", sorted(p.name for p in PACKAGES.glob("stepline*") if (p / "src").is_dir()))
def test_no_import_cycle_among_a_packages_modules(package):
    graph = imports_of(PACKAGES / package / "src")
    found = [sorted(c) for c in cycles(graph) if not any(c <= allowed for allowed in ALLOWED_CYCLES)]
    assert not found, f"import cycles: {found}"


@pytest.mark.parametrize("layer, allowed, forbidden", LAYER_RULES, ids=[rule[0] for rule in LAYER_RULES])
def test_arrows_between_layers_point_one_way(layer, allowed, forbidden):
    wrong = []
    for module, imported in sorted(imports_of(CORE).items()):
        if not _within(module, (layer,)):
            continue
        for other in sorted(imported):
            if (allowed is not None and not _within(other, allowed)) or _within(other, forbidden):
                wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(wrong)


def backends() -> dict[str, Path]:
    """Each backend package's import name -> its source folder."""
    return {src.name: src for package in sorted(PACKAGES.glob("stepline-*"))
            for src in (package / "src").iterdir() if src.is_dir() and (src / "__init__.py").exists()}


@pytest.mark.parametrize("backend", sorted(backends()))
def test_a_backend_imports_no_other_backend(backend):
    others = set(backends()) - {backend}
    src = backends()[backend]
    wrong = []
    for module, path in sorted(module_names(src.parent).items()):
        if not _within(module, (backend,)):
            continue
        for name in sorted(imported_names(path, module)):
            if name.split(".")[0] in others:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_checks_see_a_cycle_and_a_wrong_arrow(tmp_path):
    """The checks themselves: a made-up package with a cycle and a pipeline module importing the SDK."""
    pkg = tmp_path / "stepline"
    (pkg / "pipeline").mkdir(parents=True)
    (pkg / "sdk").mkdir()
    for init in (pkg / "__init__.py", pkg / "pipeline" / "__init__.py", pkg / "sdk" / "__init__.py"):
        init.write_text("")
    (pkg / "pipeline" / "loader.py").write_text("def f():\n    from stepline.sdk.steps import Step\n")
    (pkg / "sdk" / "steps.py").write_text("from stepline.pipeline import loader\n"
                                          "from typing import TYPE_CHECKING\n"
                                          "if TYPE_CHECKING:\n    from stepline.sdk import hints\n")
    graph = imports_of(tmp_path)
    assert graph["stepline.pipeline.loader"] == {"stepline.sdk.steps"}
    assert graph["stepline.sdk.steps"] == {"stepline.pipeline.loader"}
    assert cycles(graph) == [{"stepline.pipeline.loader", "stepline.sdk.steps"}]
