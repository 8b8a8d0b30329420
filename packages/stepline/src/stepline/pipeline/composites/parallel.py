"""The parallel step: every branch runs, concurrently where the executor allows."""

from typing import Any, ClassVar, Literal

from pydantic import ValidationInfo, field_validator

from stepline.pipeline.composites.base import (
    BranchPlan,
    CompositeNode,
    Params,
    parse_branches,
)
from stepline.pipeline.graph import Graph


class ParallelNode(CompositeNode):
    """Runs every branch, concurrently where the executor allows."""

    name: ClassVar[str] = "parallel"
    type: Literal["parallel"] = "parallel"
    branches: dict[str, Graph]

    @field_validator("branches", mode="before")
    @classmethod
    def _parse(cls, raw: Any, info: ValidationInfo) -> Any:
        return parse_branches(raw, info, "branch name")

    def branch_graphs(self) -> dict[str, Graph]:
        return dict(self.branches)

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        return [BranchPlan(key, graph, {}) for key, graph in self.branches.items()]
