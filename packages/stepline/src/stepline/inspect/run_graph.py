"""The graph of what ran: the steps of a run in order, each composite with its branches' steps.

A parallel or conditional keeps one lane per branch; a map or a loop (many branches of one shape)
folds its branches into one lane whose steps count statuses across them ('2/3 succeeded').
Pure functions of a :class:`Timeline`.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from stepline.inspect.timeline import Span, Timeline, branch_summary
from stepline.pipeline.defaults import empty_list

#: Composites whose branches all have the same steps, so the graph folds them into one lane.
FOLDED_TYPES = ("map", "loop")


class GraphNode(BaseModel):
    """One box of the graph: a step (or a step folded across branches) and its status."""

    name: str
    #: The step's internal name; a folded step's first internal name (a link to one of them).
    path: str
    step_type: str
    status: str
    counts: dict[str, int] = Field(default_factory=dict)
    lanes: list[GraphLane] = Field(default_factory=empty_list)

    @property
    def detail(self) -> str:
        return branch_summary(self.counts) if self.counts else ""


class GraphLane(BaseModel):
    """A branch's steps in order (or the steps of every branch of a map, folded)."""

    name: str
    nodes: list[GraphNode] = Field(default_factory=empty_list)


def _overall(counts: Counter) -> str:
    if counts.get("FAIL"):
        return "FAIL"
    if counts.get("PROCESSING") or counts.get("CREATED"):
        return "PROCESSING"
    return "SUCCESS" if counts else "CREATED"


def _node(span: Span) -> GraphNode:
    branches = [c for c in span.children if c.kind == "branch"]
    node = GraphNode(name=span.name, path=span.path, step_type=span.step_type, status=span.status)
    if not branches:
        return node
    node.counts = dict(Counter(b.status for b in branches))
    if span.step_type in FOLDED_TYPES:
        node.lanes = [GraphLane(name=f"each of {len(branches)}", nodes=_folded(branches))]
    else:
        node.lanes = [GraphLane(name=b.name, nodes=[_node(s) for s in b.children]) for b in branches]
    return node


def _folded(branches: list[Span]) -> list[GraphNode]:
    """The steps of many branches of one shape, one node per step name with status counts."""
    by_name: dict[str, list[Span]] = {}
    for branch in branches:
        for step in branch.children:
            by_name.setdefault(step.name, []).append(step)
    nodes = []
    for steps in by_name.values():
        counts = Counter(s.status for s in steps)
        # a nested composite is drawn once, from its first occurrence
        first = _node(steps[0])
        first.status, first.counts = _overall(counts), dict(counts) if len(steps) > 1 else first.counts
        nodes.append(first)
    return nodes


def run_graph(timeline: Timeline) -> list[GraphNode]:
    """The top-level steps of a run as graph nodes, in the order they ran."""
    return [_node(span) for span in timeline.root.children if span.kind == "step"]


GraphNode.model_rebuild()
