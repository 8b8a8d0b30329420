"""Running composite steps: fan out into branch logs, run the branches, fan in.

The executor decides *how* branches run (one after another, or in worker processes) through its
``run_branches``; this module holds what is the same for every executor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stepline.component import Locality
from stepline.errors import StepLineError
from stepline.executors.step_context import new_step_log
from stepline.pipeline.graph import Graph, join, walk
from stepline.runlog.models import Attempt, BranchLog, Status, StepLog, utc_now

if TYPE_CHECKING:
    from stepline.executors.traversal import RunNode
    from stepline.pipeline.composites import BranchPlan, CompositeNode, Params
    from stepline.run.run_context import RunContext


class Branch:
    """One branch to walk: its internal name, its graph and the parameters it starts with on top of
    its parent's (its overlay: the map variable, the loop index); and whether it is :func:`sealed`
    (None: not known yet; the branches of a map share one graph). A plain class, as
    :class:`~stepline.pipeline.composites.BranchPlan` is."""

    __slots__ = ("graph", "name", "parameters", "sealed")

    def __init__(self, name: str, graph: Graph, parameters: Params, sealed: bool | None = None) -> None:
        self.name, self.graph, self.parameters, self.sealed = name, graph, parameters, sealed

    def __repr__(self) -> str:
        return f"Branch({self.name!r}, parameters={self.parameters!r}, sealed={self.sealed!r})"


#: What walking one branch gave: its status, and its overlay when a step changed it (None: unchanged).
BranchOutcome = tuple[Status, "Params | None"]

#: run_branches(run, branches) -> their outcomes in the same order
RunBranches = Callable[["RunContext", list[Branch]], list[BranchOutcome]]


def run_branch(run: RunContext, branch: Branch, run_node: RunNode) -> BranchOutcome:
    """Walk one branch and record it in its branch log, with the step log of the terminal node it
    ended in (one write, not two).

    A sealed branch (see :func:`sealed`) is recorded once, when it ends: its parameters cannot change
    and nothing outside this process reads them, so its steps take them from memory. Any other branch's
    log is written when it starts (its steps and other processes read its parameters from the store)
    and again when it ends. A crash in between leaves the steps it recorded, which the store shows
    under the branch as still PROCESSING (see :func:`stepline.runlog.base.assemble`)."""
    from stepline.executors.traversal import traverse
    from stepline.runlog.base import parent_of

    store = run.store
    log = BranchLog(internal_name=branch.name, status=Status.PROCESSING, parameters=dict(branch.parameters))
    closed = sealed(run, branch.graph) if branch.sealed is None else branch.sealed
    if closed:
        run.frozen_parameters[branch.name] = {**run.parameters(parent_of(parent_of(branch.name))),
                                              **branch.parameters}
    else:
        store.put_branch_log(run.run_id, log)
    ended: list[StepLog] = []
    try:
        status = traverse(run, branch.graph, run_node, branch=branch.name, record_end=ended.append)
    finally:
        if closed:
            run.frozen_parameters.pop(branch.name, None)
    if not closed:
        log = store.get_branch_log(run.run_id, branch.name) or log
    log.status = status
    store.put_branch_log(run.run_id, log, with_steps=ended, once=closed)
    return status, (None if closed else log.parameters)


def sealed(run: RunContext, graph: Graph) -> bool:
    """Whether a branch of ``graph`` keeps the parameters it starts with and runs wholly in this
    process: no step declares returns, none runs in another process (which would read its parameters
    from the store), and this is not a re-run (a skipped step sets its original outputs again)."""
    if run.original_steps:
        return False
    for _, node in walk(graph):
        if getattr(node, "returns", None):
            return False
        if not node.composite and not node.terminal:
            named = getattr(node, "executor", None)
            executor = run.services.executors.get(named, run.executor) if named else run.executor
            if executor.runs_steps_in != Locality.PROCESS:
                return False
    return True


def run_composite(run: RunContext, node: CompositeNode, internal_name: str, branch: str,
                  run_branches: RunBranches) -> Status:
    """Run a composite step and record its step log; return its status."""
    from stepline.pipeline.composites import is_loop

    step = start_composite(run, node, internal_name)
    parent = run.parameters(branch)
    outer = run.frozen_parameters.get(branch)  # a sealed branch's scope is frozen already
    run.frozen_parameters[branch] = parent
    try:
        if is_loop(node):
            status, params, message = _run_loop(run, node, internal_name, parent, run_branches)
        else:
            plans = node.fan_out(parent)
            closed = {id(graph): sealed(run, graph) for graph in {id(p.graph): p.graph for p in plans}.values()}
            outcomes = run_branches(run, [Branch(join(internal_name, p.key), p.graph, p.parameters,
                                                 closed[id(p.graph)]) for p in plans])
            overlays = [p.parameters if o is None else o for p, (_, o) in zip(plans, outcomes)]
            status, params, message = fan_in(run, node, internal_name, parent, plans, [s for s, _ in outcomes],
                                              overlays)
    except StepLineError as exc:
        status, params, message = Status.FAIL, None, str(exc)
    except BaseException:  # interrupted: record it before unwinding
        finish_composite(run, step, branch, Status.FAIL, None, "interrupted")
        raise
    finally:
        if outer is None:
            run.frozen_parameters.pop(branch, None)
        else:
            run.frozen_parameters[branch] = outer
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
           statuses: list[Status], overlays: list[Params] | None = None) -> tuple[Status, dict | None, str]:
    """(status, changes to the parent's parameters, message) once every branch has ended.
    ``overlays``: the branches' own parameters as they ended, when the caller has them (else read)."""
    failed = [p.key for p, s in zip(plans, statuses) if s != Status.SUCCESS]
    if failed:
        return Status.FAIL, None, f"{len(failed)} of {len(plans)} branches failed: {', '.join(failed[:10])}"
    if overlays is None:
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
    plan = loop_iteration(run, node, internal_name, index)
    run.store.put_branch_log(run.run_id, BranchLog(internal_name=join(internal_name, plan.key),
                                                   parameters=plan.parameters))
    return plan


def loop_iteration(run: RunContext, node, internal_name: str, index: int) -> BranchPlan:
    """Loop iteration ``index``: what earlier iterations returned, and its index."""
    return node.iteration(index, loop_carried(run, node, internal_name, index - 1) if index else {})


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
        plan = loop_iteration(run, node, internal_name, index)
        [(status, _)] = run_branches(run, [Branch(join(internal_name, plan.key), plan.graph, plan.parameters)])
        final, params, message = loop_iteration_in(run, node, internal_name, index, parent, status)
        if final is not None:
            return final, params, message
    raise AssertionError("unreachable: the last iteration always decides")  # pragma: no cover
