"""The conditional step: the branch whose key is a parameter's value."""

import json
from typing import Any, ClassVar, Literal

from pydantic import ValidationInfo, field_validator

from stepline.pipeline.composites.base import (
    BranchPlan,
    CompositeError,
    CompositeNode,
    Params,
    parse_branch,
    parse_branches,
)
from stepline.pipeline.graph import Graph


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
        return parse_branches(raw, info, "value", reserved="default")

    @field_validator("default", mode="before")
    @classmethod
    def _parse_default(cls, raw: Any, info: ValidationInfo) -> Any:
        return None if raw is None else parse_branch(raw, info, "default")

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
