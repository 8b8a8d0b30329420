"""Composite steps: parallel, map, conditional, loop and nested dag.

Each node holds its branches as graphs and knows, as pure functions, how to fan out (which
branches run, with which parameters) and fan in (which parameters flow back to the parent).
Executors and orchestrators' ``fan`` callbacks share these functions.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stepline.errors import PipelineDefinitionError, StepLineError
from stepline.pipeline.graph import ILLEGAL_NAME_CHARS, Graph, join
from stepline.pipeline.nodes import Node
from stepline.pipeline.parameters import Parameter

Params = dict[str, Parameter]


class CompositeError(StepLineError):
    """A composite cannot fan out or in at run time (a missing list, no matching branch)."""

    exit_code = 1


@dataclass
class BranchPlan:
    """One branch to run: its key, its graph and the parameters it starts with on top of the
    parent's (the map variable, the loop index)."""

    key: str
    graph: Graph
    parameters: Params


def _parse_branch(raw: Any, info: ValidationInfo, key: str) -> Graph:
    if isinstance(raw, Graph):
        return raw
    from stepline.pipeline.loader import parse_graph

    context = info.context or {}
    return parse_graph(raw, file=context.get("file", "<pipeline>"), prefix=join(context.get("path", ""), key),
                       base_dir=context.get("base_dir"), includes=context.get("includes", ()))


def _check_branch_name(name: str) -> None:
    if not name.strip() or any(c in name for c in ILLEGAL_NAME_CHARS):
        raise ValueError(f"illegal branch name {name!r}: names may not be empty or contain '.' or '%'")


def returned(plan: BranchPlan, overlay: Params) -> Params:
    """What a branch returned: its final overlay less what it started with, unchanged."""
    return {name: p for name, p in overlay.items() if plan.parameters.get(name) != p}


class CompositeNode(Node):
    composite: ClassVar[bool] = True

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        """The branches to run and their starting parameters."""
        raise CompositeError(f"{self.type} steps fan out iteratively")

    def fan_in(self, parent: Params, plans: list[BranchPlan], overlays: list[Params]) -> tuple[Params, str]:
        """What flows back to the parent once every branch succeeded (the changes to the parent's
        parameters), and a message for the step log. ``overlays`` are the branches' own parameters."""
        merged: Params = {}
        sources: dict[str, str] = {}
        clashes = []
        for plan, overlay in zip(plans, overlays):
            for name, value in returned(plan, overlay).items():
                if name in sources and merged[name] != value:
                    clashes.append(name)
                merged[name], sources[name] = value, plan.key
        message = ""
        if clashes:
            detail = ", ".join(f"'{n}' from branch '{sources[n]}'" for n in sorted(set(clashes)))
            message = f"branches returned the same names; the last branch in order wins: {detail}"
        return merged, message


class ParallelNode(CompositeNode):
    """Runs every branch, concurrently where the executor allows."""

    name: ClassVar[str] = "parallel"
    type: Literal["parallel"] = "parallel"
    branches: dict[str, Graph]

    @field_validator("branches", mode="before")
    @classmethod
    def _parse(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, dict) or not raw:
            raise ValueError("'branches' must be a non-empty mapping of branch name to {start_at, steps}")
        for key in raw:
            _check_branch_name(str(key))
        return {str(k): _parse_branch(v, info, str(k)) for k, v in raw.items()}

    def branch_graphs(self) -> dict[str, Graph]:
        return dict(self.branches)

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        return [BranchPlan(key, graph, {}) for key, graph in self.branches.items()]


class MapNode(CompositeNode):
    """Runs ``branch`` once per item of the list parameter ``iterate_on``; iteration keys are indexes."""

    name: ClassVar[str] = "map"
    type: Literal["map"] = "map"
    branch: Graph
    iterate_on: str
    iterate_as: str
    reducer: str | None = None

    @field_validator("branch", mode="before")
    @classmethod
    def _parse(cls, raw: Any, info: ValidationInfo) -> Any:
        return _parse_branch(raw, info, "*")

    @field_validator("reducer")
    @classmethod
    def _reducer_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_reducer(value, check_only=True)
        return value

    def branch_graphs(self) -> dict[str, Graph]:
        return {"*": self.branch}

    def branch_graph(self, key: str) -> Graph | None:
        return self.branch

    def items(self, parent: Params) -> list[Any]:
        if self.iterate_on not in parent:
            raise CompositeError(f"map iterates on '{self.iterate_on}', which is not a parameter",
                                 hint="set it in the parameters file or return it from an earlier step")
        items = parent[self.iterate_on].value
        if not isinstance(items, list):
            raise CompositeError(f"map iterates on '{self.iterate_on}', which is {type(items).__name__}, not a list")
        return items

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        return [BranchPlan(str(i), self.branch, {self.iterate_as: Parameter(kind="json", value=item)})
                for i, item in enumerate(self.items(parent))]

    def fan_in(self, parent: Params, plans: list[BranchPlan], overlays: list[Params]) -> tuple[Params, str]:
        kinds: dict[str, str] = {}
        for plan, overlay in zip(plans, overlays):
            for name, p in returned(plan, overlay).items():
                if name != self.iterate_as:
                    kinds.setdefault(name, p.kind)
        merged: Params = {}
        reduce = compile_reducer(self.reducer) if self.reducer else None
        missing = Parameter(value=None)
        for name, kind in kinds.items():
            values = [overlay.get(name, parent.get(name, missing)).value for overlay in overlays]
            if reduce is not None:
                try:
                    value = reduce(*values)
                except Exception as exc:
                    raise CompositeError(f"reducer failed on '{name}': {type(exc).__name__}: {exc}") from None
            else:
                value = values
            merged[name] = Parameter(kind="metric" if kind == "metric" and reduce else "json", value=value)
        return merged, ""


class ConditionalNode(CompositeNode):
    """Runs the branch whose key equals the value of ``parameter`` (or ``default``)."""

    name: ClassVar[str] = "conditional"
    type: Literal["conditional"] = "conditional"
    parameter: str
    branches: dict[str, Graph]
    default: Graph | None = None

    @field_validator("branches", mode="before")
    @classmethod
    def _parse(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, dict) or not raw:
            raise ValueError("'branches' must be a non-empty mapping of value to {start_at, steps}")
        for key in raw:
            _check_branch_name(str(key))
            if str(key) == "default":
                raise ValueError("a branch may not be named 'default'; use the 'default' key")
        return {str(k): _parse_branch(v, info, str(k)) for k, v in raw.items()}

    @field_validator("default", mode="before")
    @classmethod
    def _parse_default(cls, raw: Any, info: ValidationInfo) -> Any:
        return None if raw is None else _parse_branch(raw, info, "default")

    def branch_graphs(self) -> dict[str, Graph]:
        found = dict(self.branches)
        if self.default is not None:
            found["default"] = self.default
        return found

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        if self.parameter not in parent:
            raise CompositeError(f"conditional on '{self.parameter}', which is not a parameter")
        value = parent[self.parameter].value
        for candidate in (str(value), json.dumps(value)):
            if candidate in self.branches:
                return [BranchPlan(candidate, self.branches[candidate], {})]
        if self.default is not None:
            return [BranchPlan("default", self.default, {})]
        raise CompositeError(f"no branch matches {self.parameter} = {value!r} and there is no default",
                             hint=f"branches: {', '.join(self.branches)}")


class LoopNode(CompositeNode):
    """Runs ``branch`` again and again until it returns ``break_on`` true, at most ``max_iterations``.

    Reaching ``max_iterations`` ends the loop with the last iteration's status, as runnable does
    (what it returned flows on); ``fail_on_max_iterations: true`` makes that a failure instead."""

    name: ClassVar[str] = "loop"
    type: Literal["loop"] = "loop"
    branch: Graph
    max_iterations: int = Field(ge=1)
    break_on: str
    index_as: str = "loop_index"
    fail_on_max_iterations: bool = False

    @field_validator("branch", mode="before")
    @classmethod
    def _parse(cls, raw: Any, info: ValidationInfo) -> Any:
        return _parse_branch(raw, info, "*")

    def branch_graphs(self) -> dict[str, Graph]:
        return {"*": self.branch}

    def branch_graph(self, key: str) -> Graph | None:
        return self.branch

    def iteration(self, index: int, carried: Params) -> BranchPlan:
        """Iteration ``index`` starts with what earlier iterations returned, and its index."""
        return BranchPlan(str(index), self.branch, {**carried, self.index_as: Parameter(value=index)})

    def done(self, final: Params) -> bool:
        return bool(final.get(self.break_on, Parameter(value=False)).value)


class DagNode(CompositeNode):
    """A sub-pipeline from another file (``dag_definition``, relative to the including file)."""

    name: ClassVar[str] = "dag"
    type: Literal["dag"] = "dag"
    dag_definition: str
    branch: Graph | None = None

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> DagNode:
        if self.branch is None:
            from stepline.pipeline.loader import parse_graph
            from stepline.pipeline.yaml_io import load_yaml_file

            context = info.context or {}
            base = Path(context.get("base_dir") or Path.cwd())
            path = base / self.dag_definition
            chain = tuple(context.get("includes", ()))
            if str(path.resolve()) in chain:
                names = [Path(p).name for p in (*chain[chain.index(str(path.resolve())):], str(path.resolve()))]
                raise PipelineDefinitionError("dag_definition includes form a cycle: " + " -> ".join(names),
                                              file=context.get("file"), hint="a pipeline cannot include itself")
            if not os.path.isfile(path):  # False, not an OSError, for a name too long
                raise PipelineDefinitionError(f"dag_definition '{self.dag_definition}' is not a file (looked in {base})",
                                              file=context.get("file"), hint="paths are relative to the including file")
            raw = load_yaml_file(path)
            body = raw.get("dag", raw.get("pipeline")) if isinstance(raw, dict) else None
            if body is None:
                raise PipelineDefinitionError(f"dag_definition '{self.dag_definition}' has no top-level 'dag:'",
                                              file=context.get("file"), hint="point at a pipeline file")
            self.branch = parse_graph(body, file=str(path), prefix=join(context.get("path", ""), "dag"),
                                      base_dir=path.resolve().parent, includes=(*chain, str(path.resolve())))
        return self

    def branch_graphs(self) -> dict[str, Graph]:
        return {"dag": self.branch} if self.branch else {}

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        return [BranchPlan("dag", self.branch, {})]


SAFE_BUILTINS = {name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
                 for name in ("abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "len",
                              "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str",
                              "sum", "tuple", "zip")}


# Attributes that lead from a value to frames, code or globals (a generator's gi_frame.f_back reaches
# the caller's globals), or read attributes by name through a format string. The lambda is the
# pipeline author's own code, not untrusted input: this keeps a reducer to arithmetic on its values,
# it is not a sandbox against someone who can already write the pipeline's tasks.
_INTROSPECTION = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "format", "format_map",
    "mro"})
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*[.:][A-Za-z_]\w*$")


def compile_reducer(text: str, *, check_only: bool = False):
    """A reducer from a dotted path to a function, or from one lambda expression (nothing else)."""
    source = text.strip()
    if len(source) > 1000:
        raise ValueError("reducer is longer than 1000 characters; write it as a function and give its dotted path")
    if source.startswith("lambda"):
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"reducer is not a valid lambda: {exc.msg}") from None
        except (RecursionError, MemoryError):
            raise ValueError("reducer is nested too deeply; write it as a function") from None
        if not isinstance(tree.body, ast.Lambda):
            raise ValueError("reducer must be exactly one lambda expression, e.g. 'lambda *x: max(x)'")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr in _INTROSPECTION):
                raise ValueError(f"reducer may not use the attribute '{node.attr}' (nor any starting with '_')")
        if check_only:
            return None
        code = compile(tree, "<reducer>", "eval")
        return eval(code, {"__builtins__": SAFE_BUILTINS})  # noqa: S307 - a verified single lambda
    if not _DOTTED.match(source):
        raise ValueError("reducer must be one lambda expression or a dotted path to a function "
                         "(e.g. 'lambda *x: max(x)' or 'my_pkg.reducers.total')")
    if check_only:
        return None
    from stepline.pipeline.functions import import_callable

    return import_callable(source)
