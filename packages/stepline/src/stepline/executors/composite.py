"""Running composite steps: fan out into branch logs, run the branches, fan in.

The executor decides *how* branches run (one after another, or in worker processes) through its
``run_branches``; this module holds what is the same for every executor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stepline.errors import StepLineError
from stepline.executors.step_context import new_step_log
from stepline.pipeline.graph import Graph, join, walk
from stepline.runlog.models import Attempt, BranchLog, Status, StepLog, utc_now

if TYPE_CHECKING:
    from stepline.executors.traversal import RunNode
    from stepline.pipeline.composites import BranchPlan, CompositeNode
    from stepline.run.run_context import RunContext

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

    step = start_composite(run, node, internal_name)
    parent = run.parameters(branch)
    run.frozen_parameters[branch] = parent
    try:
        if isinstance(node, LoopNode):
            status, params, message = _run_loop(run, node, internal_name, parent, run_branches)
        else:
            plans = fan_out(run, node, internal_name, parent)
            statuses = run_branches(run, [(join(internal_name, p.key), p.graph) for p in plans])
            status, params, message = fan_in(run, node, internal_name, parent, plans, statuses)
    except StepLineError as exc:
        status, params, message = Status.FAIL, None, str(exc)
    except BaseException:  # interrupted: record it before unwinding
        finish_composite(run, step, branch, Status.FAIL, None, "interrupted")
        raise
    finally:
        run.frozen_parameters.pop(branch, None)
    return finish_composite(run, step, branch, status, params, message)


# ---- the pieces, shared with the orchestrators' ``stepline fan`` callbacks ---------------------------
def start_composite(run: RunContext, node: CompositeNode, internal_name: str) -> StepLog:
    """Record the composite's step log as PROCESSING with one open attempt."""
    step = new_step_log(run, node, internal_name)
    step.attempts = [Attempt()]
    run.store.put_step_log(run.run_id, step)
    return step


def fan_out(run: RunContext, node: CompositeNode, internal_name: str, parent) -> list[BranchPlan]:
    """The node's branches for ``parent`` parameters, with their branch logs created."""
    plans = node.fan_out(parent)
    for plan in plans:
        run.store.put_branch_log(run.run_id, BranchLog(internal_name=join(internal_name, plan.key),
                                                       status=Status.CREATED, parameters=plan.parameters))
    return plans


def fan_in(run: RunContext, node: CompositeNode, internal_name: str, parent, plans: list[BranchPlan],
           statuses: list[Status]) -> tuple[Status, dict | None, str]:
    """(status, changes to the parent's parameters, message) once every branch has ended."""
    failed = [p.key for p, s in zip(plans, statuses) if s != Status.SUCCESS]
    if failed:
        return Status.FAIL, None, f"{len(failed)} of {len(plans)} branches failed: {', '.join(failed[:10])}"
    overlays = [_overlay(run, join(internal_name, p.key)) for p in plans]
    params, message = node.fan_in(parent, plans, overlays)
    return Status.SUCCESS, params, message


def finish_composite(run: RunContext, step: StepLog, branch: str, status: Status, params: dict | None,
                     message: str) -> Status:
    """Apply what flows back to the parent scope (on success) and close the composite's step log."""
    if params and status == Status.SUCCESS:
        run.store.update_parameters(run.run_id, params, branch)
    attempt = step.attempts[-1] if step.attempts else Attempt()
    step.attempts = step.attempts or [attempt]
    attempt.status, attempt.message, attempt.end_time = status, message, utc_now()
    step.status, step.message = status, message
    run.store.put_step_log(run.run_id, step)
    return status


def _overlay(run: RunContext, branch: str):
    found = run.store.get_branch_log(run.run_id, branch)
    return dict(found.parameters) if found else {}


def loop_iteration_out(run: RunContext, node, internal_name: str, index: int) -> BranchPlan:
    """Create the branch log of loop iteration ``index``: what earlier iterations returned, and its index."""
    carried = loop_carried(run, node, internal_name, index - 1) if index else {}
    plan = node.iteration(index, carried)
    run.store.put_branch_log(run.run_id, BranchLog(internal_name=join(internal_name, plan.key),
                                                   parameters=plan.parameters))
    return plan


def loop_carried(run: RunContext, node, internal_name: str, index: int) -> dict:
    """What iteration ``index``'s scope holds, for the next iteration and, after the last, the
    parent scope. The index stays in the loop unless a step of the branch returns a value under
    that name (runnable's loops often do: there the index is only an environment variable)."""
    carried = _overlay(run, join(internal_name, str(index)))
    if not any(node.index_as in (r.name for r in getattr(n, "returns", ())) for _, n in walk(node.branch)):
        carried.pop(node.index_as, None)
    return carried


def loop_iteration_in(run: RunContext, node, internal_name: str, index: int, parent,
                      status: Status) -> tuple[Status | None, dict | None, str]:
    """After iteration ``index`` ended with ``status``: (None, None, "") to run another iteration,
    else the loop's final (status, changes to the parent's parameters, message)."""
    if status != Status.SUCCESS:
        return Status.FAIL, None, f"iteration {index} failed"
    carried = loop_carried(run, node, internal_name, index)
    if node.done({**parent, **carried}):
        return Status.SUCCESS, carried, f"stopped after {index + 1} iterations: {node.break_on} is true"
    if index + 1 >= node.max_iterations:
        message = f"reached max_iterations ({node.max_iterations}) before '{node.break_on}' became true"
        if node.fail_on_max_iterations:
            return Status.FAIL, None, message
        return Status.SUCCESS, carried, message
    return None, None, ""


def _run_loop(run: RunContext, node, internal_name: str, parent, run_branches: RunBranches):
    for index in range(node.max_iterations):
        plan = loop_iteration_out(run, node, internal_name, index)
        [status] = run_branches(run, [(join(internal_name, plan.key), plan.graph)])
        final, params, message = loop_iteration_in(run, node, internal_name, index, parent, status)
        if final is not None:
            return final, params, message
    raise AssertionError("unreachable: the last iteration always decides")  # pragma: no cover
