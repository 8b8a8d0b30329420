"""The loop step: one branch again and again until it says stop."""

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from stepline.pipeline.composites.base import BranchPlan, CompositeNode, Params, parse_branch
from stepline.pipeline.graph import Graph
from stepline.pipeline.parameters import Parameter


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
        return parse_branch(raw, info, "*")

    def branch_graphs(self) -> dict[str, Graph]:
        return {"*": self.branch}

    def branch_graph(self, key: str) -> Graph | None:
        return self.branch

    def iteration(self, index: int, carried: Params) -> BranchPlan:
        """Iteration ``index`` starts with what earlier iterations returned, and its index."""
        return BranchPlan(str(index), self.branch, {**carried, self.index_as: Parameter(value=index)})

    def done(self, final: Params) -> bool:
        return bool(final.get(self.break_on, Parameter(value=False)).value)
