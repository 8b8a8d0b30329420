"""What every composite step shares: its base class, the plan of one branch, and the parsing of a
branch's graph."""

from typing import Any, ClassVar

from pydantic import ValidationInfo

from stepline.errors import StepLineError
from stepline.pipeline.graph import ILLEGAL_NAME_CHARS, Graph, join
from stepline.pipeline.nodes import Node
from stepline.pipeline.parameters import Parameter

Params = dict[str, Parameter]


class CompositeError(StepLineError):
    """A composite cannot fan out or in at run time (a missing list, no matching branch)."""

    exit_code = 1


class BranchPlan:
    """One branch to run: its key, its graph and the parameters it starts with on top of the
    parent's (the map variable, the loop index). A plain class: ``@dataclass`` would cost every run
    with a composite about half a millisecond to build it."""

    __slots__ = ("graph", "key", "parameters")

    def __init__(self, key: str, graph: Graph, parameters: Params) -> None:
        self.key, self.graph, self.parameters = key, graph, parameters

    def __repr__(self) -> str:
        return f"BranchPlan({self.key!r}, parameters={self.parameters!r})"


def parse_branch(raw: Any, info: ValidationInfo, key: str) -> Graph:
    if isinstance(raw, Graph):
        return raw
    from stepline.pipeline.loader import parse_graph

    context = info.context or {}
    return parse_graph(raw, file=context.get("file", "<pipeline>"), prefix=join(context.get("path", ""), key),
                       base_dir=context.get("base_dir"), includes=context.get("includes", ()))


def parse_branches(raw: Any, info: ValidationInfo, keys: str, reserved: str | None = None) -> dict[str, Graph]:
    """A ``branches`` mapping (``keys`` says what its keys are, in the error) parsed into graphs; a
    key equal to ``reserved`` is refused (it has its own field)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"'branches' must be a non-empty mapping of {keys} to {{start_at, steps}}")
    for key in raw:
        check_branch_name(str(key))
        if str(key) == reserved:
            raise ValueError(f"a branch may not be named '{reserved}'; use the '{reserved}' key")
    return {str(k): parse_branch(v, info, str(k)) for k, v in raw.items()}


def check_branch_name(name: str) -> None:
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
