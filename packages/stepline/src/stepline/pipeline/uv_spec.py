"""What environment a step asks for: its ``uv:`` block, and PEP 723 inline script metadata in the
module of a python task. Pure functions and a pydantic model; nothing here runs uv."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stepline.pipeline.defaults import empty_list
from stepline.pipeline.functions import split_reference

if TYPE_CHECKING:
    from stepline.pipeline.nodes import TaskNode


class UvSpec(BaseModel):
    """A step's ``uv:`` block: the packages its environment has and the interpreter it uses."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: PEP 508 requirement strings, e.g. ``scikit-learn==1.4.2``.
    dependencies: list[str] = Field(default_factory=empty_list)
    #: The interpreter: a version (``3.11``), a specifier (``>=3.11``) or a path. Default: Stepline's own.
    python: str | None = None
    #: A requirements file (relative to the folder Stepline runs in), installed with ``uv pip install -r``.
    requirements: str | None = None
    #: A uv project folder (its ``pyproject.toml`` and ``uv.lock``), installed with ``uv sync --locked``.
    project: str | None = None

    @field_validator("dependencies")
    @classmethod
    def _pep508(cls, values: list[str]) -> list[str]:
        from packaging.requirements import InvalidRequirement, Requirement

        for value in values:
            try:
                Requirement(value)
            except InvalidRequirement as exc:
                reason = str(exc).splitlines()[0]  # packaging adds the text and a caret on more lines
                raise ValueError(f"dependency {value!r} is not a PEP 508 requirement: {reason}") from None
        return values

    @model_validator(mode="after")
    def _one_source(self) -> UvSpec:
        if self.project and (self.dependencies or self.requirements):
            raise ValueError("uv: project installs the project's locked environment; list further "
                             "dependencies in its pyproject.toml instead of 'dependencies'/'requirements'")
        if not (self.dependencies or self.requirements or self.project or self.python):
            raise ValueError("uv: needs at least one of dependencies, requirements, project or python")
        return self


#: PEP 723's reference regular expression for a metadata block.
_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


def inline_metadata(source: str) -> dict[str, Any] | None:
    """The ``script`` block of PEP 723 inline script metadata in ``source``, parsed; None without one.
    Raises ValueError for two blocks or invalid TOML."""
    blocks = [m for m in _BLOCK.finditer(source) if m.group("type") == "script"]
    if not blocks:
        return None
    import tomllib  # only here: most modules have no block, and its import costs a run ~3 ms
    if len(blocks) > 1:
        raise ValueError("has more than one '# /// script' block")
    content = "".join(line[2:] if line.startswith("# ") else line[1:]
                      for line in blocks[0].group("content").splitlines(keepends=True))
    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"has an invalid '# /// script' block: {exc}") from None


def module_file(command: str) -> Path | None:
    """The source file of a python task's module, found without importing it (its imports may need
    packages only its environment has); None when it cannot be found that way."""
    module, _ = split_reference(command)
    if module in sys.modules:
        found = getattr(sys.modules[module], "__file__", None)
        return _path(found) if found else None
    parts = module.split(".")
    if len(parts) == 1:  # a top-level module: look along the path the task would be imported from
        spec = importlib.machinery.PathFinder.find_spec(module, [os.getcwd(), *sys.path])
    else:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


@lru_cache(maxsize=1024)
def _path(name: str) -> Path:
    return Path(name)  # an imported module's file, asked for at every step: made once


@lru_cache(maxsize=256)
def _file_metadata(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    """Inline metadata of a module file, read once per version of the file (every step asks)."""
    return inline_metadata(Path(path).read_text(encoding="utf-8"))


def effective_spec(node: TaskNode) -> tuple[UvSpec | None, str]:
    """The environment a task step runs in and where it was asked for (``uv:``, ``inline script
    metadata``, or both); (None, "") for a step that runs in Stepline's own process. Raises
    :class:`~stepline.errors.StepEnvironmentError` for unreadable inline metadata."""
    from stepline.errors import StepEnvironmentError

    inline = None
    if node.command_type == "python":
        path = module_file(node.command)
        try:
            stat = os.stat(path) if path is not None else None
        except OSError:
            stat = None
        if stat is not None and S_ISREG(stat.st_mode):
            try:
                inline = _file_metadata(str(path), stat.st_mtime_ns, stat.st_size)
            except ValueError as exc:
                raise StepEnvironmentError(f"module {path.name} {exc}", hint="see PEP 723") from None
    if inline is None:
        return node.uv, ("uv:" if node.uv else "")
    dependencies = inline.get("dependencies", [])
    python = inline.get("requires-python")
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise StepEnvironmentError(f"module {path.name}: 'dependencies' of its script metadata is not a list of strings")
    base = node.uv or UvSpec.model_construct(dependencies=[], python=None, requirements=None, project=None)
    try:
        merged = UvSpec(dependencies=[*base.dependencies, *dependencies], python=base.python or python,
                        requirements=base.requirements, project=base.project)
    except ValueError as exc:
        raise StepEnvironmentError(f"module {path.name}: its script metadata: {exc}") from None
    return merged, "uv: and inline script metadata" if node.uv else "inline script metadata"


def function_signature(command: str) -> tuple[list[str], bool] | None:
    """(parameter names, takes ``**kwargs``) of a python task's function read from its module's source,
    without importing it; None when the function is not a plain ``def`` at the module's top level."""
    import ast

    from stepline.pipeline.functions import split_reference

    path = module_file(command)
    if path is None or not path.is_file():
        return None
    _, name = split_reference(command)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return None
    found = None
    for item in tree.body:  # the last definition wins, as when the module runs
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
            args = item.args
            found = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]], args.kwarg is not None
    return found
