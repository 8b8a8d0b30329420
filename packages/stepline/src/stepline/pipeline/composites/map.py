"""The map step: one branch per item of a list parameter."""

from typing import Any, ClassVar, Literal

from pydantic import ValidationInfo, field_validator

from stepline.pipeline.composites.base import (
    BranchPlan,
    CompositeError,
    CompositeNode,
    Params,
    parse_branch,
    returned,
)
from stepline.pipeline.composites.reducer import compile_reducer
from stepline.pipeline.graph import Graph
from stepline.pipeline.parameters import Parameter


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
        return parse_branch(raw, info, "*")

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
