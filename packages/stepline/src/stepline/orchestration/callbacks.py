"""The callbacks an engine (bash, Argo, Step Functions) makes into Stepline while it traverses.

Each one is a short process that loads the pipeline and config, reads and writes the shared run
log, and exits 0 (success) or 1 (failure). They reuse the composite pieces of
:mod:`stepline.executors.composite`, so a rendered run records exactly what a local run records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepline.errors import PipelineDefinitionError, StepLineError
from stepline.runlog.models import Status

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.run.run_context import RunContext


def _context(run_id: str, pipeline_file: str, config_file: str | None, must_exist: bool = True) -> RunContext:
    from stepline.run.lifecycle import open_run
    from stepline.run.prepare import prepare

    prepared = prepare(pipeline_file, config_file)
    return open_run(prepared, run_id, pipeline_file=pipeline_file, config_file=config_file, must_exist=must_exist)


def start_run(run_id: str, pipeline_file: str, config_file: str | None, params_file: str | None = None,
              tag: str = "") -> bool:
    """Create the run log (PROCESSING, initial parameters) as ``stepline execute`` does. Returns False
    when the run already exists for the same pipeline (an engine retrying the start), raises when it
    exists for another."""
    from stepline.run import lifecycle
    from stepline.run.prepare import prepare

    run = lifecycle.start_run(prepare(pipeline_file, config_file), pipeline_file=pipeline_file,
                              config_file=config_file, params_file=params_file, run_id=run_id, tag=tag,
                              phase="execution", exists_ok=True)
    return run is not None


def graph_outcome(run: RunContext, graph: Graph, branch: str) -> Status:
    """SUCCESS when a success node of ``graph`` (walked as ``branch``) recorded success, else FAIL."""
    from stepline.pipeline.graph import join

    for name, node in graph.steps.items():
        if node.type == "success":
            step = run.store.get_step_log(run.run_id, join(branch, name))
            if step is not None and step.status == Status.SUCCESS:
                return Status.SUCCESS
    return Status.FAIL


def finish_run(run_id: str, pipeline_file: str, config_file: str | None) -> Status:
    """Set the run's final status from what its steps recorded (the pipeline reached its success node)."""
    from stepline.run import lifecycle

    run = _context(run_id, pipeline_file, config_file)
    status = graph_outcome(run, run.graph, "")
    lifecycle.finish_run(run, status, "" if status == Status.SUCCESS else "the pipeline did not reach its success step")
    return status


def _composite(run: RunContext, step: str):
    from stepline.pipeline.graph import find_node

    node = find_node(run.graph, step) if step else None
    if node is None or not node.composite:
        raise PipelineDefinitionError(f"no composite step '{step}' in the pipeline", file=run.pipeline_file,
                                      hint="name a parallel, map, conditional, loop or dag step by its dotted "
                                           "path, e.g. fan or outer.0.inner")
    return node


def fan_out(run_id: str, step: str, pipeline_file: str, config_file: str | None,
            iteration: int | None = None) -> tuple[Status, list[str]]:
    """Start composite ``step``: its step log (PROCESSING) and its branch logs. Returns the branch keys to
    run. A loop fans out one iteration at a time (``iteration`` 0, 1, ...). A composite that cannot fan
    out (a missing list) is recorded FAIL and returns (FAIL, [])."""
    from stepline.executors import composite as pieces
    from stepline.pipeline.composites import LoopNode

    run = _context(run_id, pipeline_file, config_file, must_exist=False)
    node = _composite(run, step)  # a wrong step is reported before a missing run
    run.store.get_run(run_id)
    branch = step.rpartition(".")[0]
    is_loop = isinstance(node, LoopNode)
    if is_loop and iteration is None:
        raise StepLineError(f"'{step}' is a loop: fan it out one iteration at a time",
                            hint=f"stepline fan RUN_ID {step} out --iteration 0 ...")
    if not is_loop and iteration is not None:
        raise StepLineError(f"--iteration is for loop steps; '{step}' is a {node.type}")
    if not is_loop or iteration == 0:
        record = pieces.start_composite(run, node, step)
    else:
        record = run.store.get_step_log(run_id, step) or pieces.start_composite(run, node, step)
    try:
        if is_loop:
            if iteration < 0 or iteration >= node.max_iterations:
                raise StepLineError(f"loop '{step}' has iterations 0 to {node.max_iterations - 1}, not {iteration}")
            plans = [pieces.loop_iteration_out(run, node, step, iteration)]
        else:
            plans = pieces.fan_out(run, node, step, run.parameters(branch))
    except StepLineError as exc:
        pieces.finish_composite(run, record, branch, Status.FAIL, None, str(exc))
        return Status.FAIL, []
    return Status.PROCESSING, [p.key for p in plans]


def fan_in(run_id: str, step: str, pipeline_file: str, config_file: str | None,
           iteration: int | None = None) -> str:
    """End composite ``step`` once its branches ran: branch statuses from their success nodes, the
    composite's status, and what flows back to the parent scope. Returns SUCCESS, FAIL or, for a loop
    that should run another iteration, ``continue``."""
    from stepline.executors import composite as pieces
    from stepline.pipeline.composites import LoopNode
    from stepline.pipeline.graph import join

    run = _context(run_id, pipeline_file, config_file, must_exist=False)  # its missing record says more
    node = _composite(run, step)
    branch = step.rpartition(".")[0]
    record = run.store.get_step_log(run_id, step)
    if record is None:
        raise StepLineError(f"composite '{step}' of run '{run_id}' was not fanned out",
                            hint=f"run `stepline fan {run_id} {step} out ...` first")
    parent = run.parameters(branch)

    def close_branch(key: str, graph) -> Status:
        name = join(step, key)
        status = graph_outcome(run, graph, name)
        log = run.store.get_branch_log(run_id, name)
        if log is not None:
            log.status = status
            run.store.put_branch_log(run_id, log)
        return status

    try:
        if isinstance(node, LoopNode):
            if iteration is None:
                raise StepLineError(f"'{step}' is a loop: fan it in one iteration at a time",
                                    hint=f"stepline fan RUN_ID {step} in --iteration N ...")
            outcome = close_branch(str(iteration), node.branch)
            status, params, message = pieces.loop_iteration_in(run, node, step, iteration, parent, outcome)
            if status is None:
                return "continue"
        else:
            plans = node.fan_out(parent)
            statuses = [close_branch(p.key, p.graph) for p in plans]
            status, params, message = pieces.fan_in(run, node, step, parent, plans, statuses)
    except StepLineError as exc:
        status, params, message = Status.FAIL, None, str(exc)
    pieces.finish_composite(run, record, branch, status, params, message)
    return status.value
