"""Running composite steps: fan out into branch logs, run the branches, fan in.

The executor decides *how* branches run (one after another, or in worker processes) through its
``run_branches``; this module holds what is the same for every executor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stepline.errors import StepLineError
from stepline.executors.step_context import new_step_log
from stepline.pipeline.graph import Graph, join
from stepline.runlog.models import Attempt, BranchLog, Status, utc_now

if TYPE_CHECKING:
    from stepline.executors.context import RunContext
    from stepline.executors.traversal import RunNode
    from stepline.pipeline.composites import CompositeNode

#: run_branches(run, [(branch internal name, graph)]) -> statuses in the same order
RunBranches = Callable[["RunContext", list[tuple[str, Graph]]], list[Status]]


def run_branch(run: RunContext, branch: str, graph: Graph, run_node: RunNode) -> Status:
    """Walk one branch whose log (with its starting parameters) exists; record its outcome."""
    from stepline.executors.traversal import traverse

    store = run.store
    log = store.get_branch_log(run.run_id, branch) or BranchLog(internal_name=branch)
    log.status = Status.PROCESSING
    store.put_branch_log(run.run_id, log)
    status = traverse(run, graph, run_node, branch=branch)
    log = store.get_branch_log(run.run_id, branch) or log
    log.status = status
    store.put_branch_log(run.run_id, log)
    return status


def run_composite(run: RunContext, node: CompositeNode, internal_name: str, branch: str,
                  run_branches: RunBranches) -> Status:
    """Run a composite step and record its step log; return its status."""
    from stepline.pipeline.composites import LoopNode

    store = run.store
    step = new_step_log(run, node, internal_name)
    attempt = Attempt()
    step.attempts = [attempt]
    store.put_step_log(run.run_id, step)
    parent = run.parameters(branch)
    run.frozen_parameters[branch] = parent
    try:
        if isinstance(node, LoopNode):
            status, params, message = _run_loop(run, node, internal_name, parent, run_branches)
        else:
            plans = node.fan_out(parent)
            for plan in plans:
                store.put_branch_log(run.run_id, BranchLog(internal_name=join(internal_name, plan.key),
                                                           status=Status.CREATED, parameters=plan.parameters))
            statuses = run_branches(run, [(join(internal_name, p.key), p.graph) for p in plans])
            failed = [p.key for p, s in zip(plans, statuses) if s != Status.SUCCESS]
            if failed:
                status, params = Status.FAIL, None
                message = f"{len(failed)} of {len(plans)} branches failed: {', '.join(failed[:10])}"
            else:
                overlays = [_overlay(run, join(internal_name, p.key)) for p in plans]
                params, message = node.fan_in(parent, plans, overlays)
                status = Status.SUCCESS
    except StepLineError as exc:
        status, params, message = Status.FAIL, None, str(exc)
    finally:
        run.frozen_parameters.pop(branch, None)
    if params and status == Status.SUCCESS:
        store.update_parameters(run.run_id, params, branch)
    attempt.status, attempt.message, attempt.end_time = status, message, utc_now()
    step.status, step.message = status, message
    store.put_step_log(run.run_id, step)
    return status


def _overlay(run: RunContext, branch: str):
    found = run.store.get_branch_log(run.run_id, branch)
    return dict(found.parameters) if found else {}


def _run_loop(run: RunContext, node, internal_name: str, parent, run_branches: RunBranches):
    store = run.store
    carried: dict = {}
    for index in range(node.max_iterations):
        plan = node.iteration(index, carried)
        name = join(internal_name, plan.key)
        store.put_branch_log(run.run_id, BranchLog(internal_name=name, parameters=plan.parameters))
        [status] = run_branches(run, [(name, plan.graph)])
        if status != Status.SUCCESS:
            return Status.FAIL, None, f"iteration {index} failed"
        carried = _overlay(run, name)
        carried.pop(node.index_as, None)
        if node.done({**parent, **carried}):
            return Status.SUCCESS, carried, f"stopped after {index + 1} iterations: {node.break_on} is true"
    return Status.FAIL, None, (f"reached max_iterations ({node.max_iterations}) before '{node.break_on}' "
                               "became true")
