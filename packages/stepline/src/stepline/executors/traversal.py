"""Graph traversal: follow ``next`` on success and ``on_failure`` (or the graph's fail node) on failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from stepline.pipeline.graph import join
from stepline.runlog.models import Status

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.nodes import Node
    from stepline.run.run_context import RunContext
    from stepline.runlog.models import StepLog

#: run_node(run, node, internal_name, branch) -> status of that step
RunNode = Callable[["RunContext", "Node", str, str], Status]


def traverse(run: RunContext, graph: Graph, run_node: RunNode, branch: str = "",
             record_end: Callable[[StepLog], None] | None = None) -> Status:
    """Walk ``graph`` from ``start_at`` to a terminal node; return SUCCESS or FAIL.

    ``branch`` is the dotted internal name of the branch being walked ('' for the pipeline); it
    prefixes the steps' internal names and scopes their parameters. ``record_end`` takes the step log
    of the terminal node instead of the store (a branch writes it with its own log, in one write).
    """
    from stepline.executors.step_context import held_by, terminal_step_log

    current = graph.start_at
    while True:
        node = graph.steps[current]
        internal_name = join(branch, current)
        if node.terminal:
            end = terminal_step_log(run, node, internal_name)
            if record_end is None:
                run.store.put_step_log(run.run_id, end)
            else:
                record_end(end)
            return end.status
        started = time.monotonic()
        if record_end is None or node.composite:
            status = run_node(run, node, internal_name, branch)
        else:  # a leaf that leads to the branch's end is recorded with it (see held_by)
            with held_by(_ends_branch(graph, current, node, record_end)):
                status = run_node(run, node, internal_name, branch)
        for observe in run.step_observers:  # e.g. the CLI's progress display
            observe(run, internal_name, node, status, time.monotonic() - started)
        current = node.next if status == Status.SUCCESS else graph.failure_target(current)


def _ends_branch(graph: Graph, name: str, node: Node, record_end: Callable[[StepLog], None]):
    """Takes the step log of leaf ``name`` when the node it leads to (by its outcome) is terminal."""

    def take(step: StepLog) -> bool:
        target = node.next if step.status == Status.SUCCESS else graph.failure_target(name)
        if not graph.steps[target].terminal:
            return False
        record_end(step)
        return True

    return take
