"""The public API for backend authors (stepline.api) is the only door between the core and the
backends: every backend package's source imports only ``stepline.api`` from the core, the core never
imports a backend, and no backend imports another. Imports are read from the source (``ast``),
inside functions too; imports under ``if TYPE_CHECKING:`` count as well (a backend's type hints name
public types)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import stepline.api

PACKAGES = Path(__file__).resolve().parents[2]
BACKENDS = {path.name.replace("-", "_"): path / "src" for path in sorted(PACKAGES.glob("stepline-*"))}


def imports(src: Path) -> list[tuple[Path, str, list[str]]]:
    """(file, module imported from, names) of every import under ``src``."""
    found = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path, node.module, [alias.name for alias in node.names]))
            elif isinstance(node, ast.Import):
                found += [(path, alias.name, []) for alias in node.names]
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_backends_are_found():
    assert {"stepline_sql", "stepline_fsspec", "stepline_container", "stepline_argo"} <= set(BACKENDS)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_backend_imports_only_the_public_api_from_the_core(backend):
    outside = [(path.relative_to(PACKAGES), module, names) for path, module, names in imports(BACKENDS[backend])
               if top(module) == "stepline" and (module != "stepline.api" or set(names) - set(stepline.api.__all__))]
    assert not outside, f"{backend} imports from the core outside stepline.api.__all__: {outside}"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_backend_imports_no_other_backend(backend):
    others = [(path.relative_to(PACKAGES), module) for path, module, _ in imports(BACKENDS[backend])
              if top(module) in BACKENDS and top(module) != backend]
    assert not others, f"{backend} imports another backend: {others}"


def test_the_core_imports_no_backend():
    found = [(path.relative_to(PACKAGES), module) for path, module, _ in imports(PACKAGES / "stepline" / "src")
             if top(module) in BACKENDS]
    assert not found, f"the core imports a backend: {found}"


def test_every_public_name_resolves_to_where_the_api_says():
    for name in stepline.api.__all__:
        assert getattr(stepline.api, name) is getattr(importlib.import_module(stepline.api._WHERE[name]), name)
    assert sorted(stepline.api.__all__) == sorted(stepline.api._WHERE)
    with pytest.raises(AttributeError, match="stepline.api has no 'execute_stepp'"):
        stepline.api.execute_stepp  # noqa: B018


def test_importing_the_api_imports_nothing_else():
    code = "import sys, stepline.api; print(sorted(m for m in sys.modules if m.startswith('stepline.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "['stepline.api']\n"


def test_every_public_name_is_in_the_api_reference():
    page = (PACKAGES.parent / "docs" / "reference" / "api.md").read_text()
    missing = [name for name in stepline.api.__all__ if f"`{name}`" not in page]
    assert not missing, f"docs/reference/api.md does not list {missing}"
