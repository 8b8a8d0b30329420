"""What the CLI, the SDK and an engine's callbacks call to run a pipeline: execute it (or render it
for an engine), or execute one node of a run an engine traverses."""

from __future__ import annotations

import json
from typing import Any

from stepline.errors import PipelineDefinitionError, StepLineError
from stepline.run.lifecycle import open_run, run_id_in_environment, run_to_end, sigterm_raises, start_run
from stepline.run.prepare import Prepared, prepare
from stepline.runlog.models import RunLog, Status


def execute(pipeline_file: str, config_file: str | None = None, params_file: str | None = None,
            run_id: str | None = None, tag: str = "", quiet: bool = False,
            prepared: Prepared | None = None, observers: list | None = None,
            retry_of: str | None = None, top_level: bool = False) -> RunLog:
    """Run (or, with an orchestration executor, render) a pipeline; return its run log (None when
    the executor renders: see :func:`render`). ``retry_of``: re-run that run with this pipeline
    instead (as ``stepline retry`` does; the ``retry`` executor asks for the same). ``top_level``: the
    run log returned holds the pipeline's own steps without their branches (what a summary shows)."""
    prepared = prepared or prepare(pipeline_file, config_file)
    if prepared.services.executor.renders:
        render(pipeline_file, config_file, params_file, prepared=prepared)
        return None
    if retry_of:
        from stepline.run.rerun import rerun

        return rerun(retry_of, config_file, run_id=run_id, quiet=quiet, prepared=prepared, observers=observers,
                     pipeline_file=pipeline_file, top_level=top_level)
    retry_of = getattr(prepared.services.executor, "retry_of", None)
    if retry_of:  # runnable's `executor: {type: retry, config: {run_id: ...}}`
        from stepline.run.rerun import rerun

        return rerun(retry_of, config_file, run_id=run_id, quiet=quiet, prepared=prepared, observers=observers,
                     top_level=top_level)
    run = start_run(prepared, pipeline_file=pipeline_file, config_file=config_file, params_file=params_file,
                    run_id=run_id, tag=tag, quiet=quiet, observers=observers)
    return run_to_end(run, top_level=top_level)


def render(pipeline_file: str, config_file: str | None = None, params_file: str | None = None,
           prepared: Prepared | None = None) -> str:
    """Render the pipeline with an orchestration executor (no run log is created); return the path written."""
    from stepline.orchestration.render import RenderJob

    prepared = prepared or prepare(pipeline_file, config_file)
    job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline_file,
                    config_file=config_file, params_file=params_file)
    return prepared.services.executor.render(job)


def execute_single_node(run_id: str, step: str, pipeline_file: str, config_file: str | None = None,
                        map_variable: str | None = None, prepared: Prepared | None = None) -> Status:
    """Run one leaf step of an existing run in the shared step context (orchestrators' callback)."""
    from stepline.executors.step_context import execute_step, record_terminal
    from stepline.pipeline.graph import find_node

    prepared = prepared or prepare(pipeline_file, config_file)
    services = prepared.services
    node = find_node(prepared.graph, step)
    runs_on = services.executors.get(getattr(node, "executor", None) or "", services.executor)
    if node is not None and node.terminal:  # engines record the success/fail node a branch ends in
        run = open_run(prepared, run_id, pipeline_file=pipeline_file, config_file=config_file, executor=runs_on)
        return record_terminal(run, node, step)
    if node is None or node.composite:
        raise PipelineDefinitionError(f"no leaf step '{step}' in the pipeline", file=pipeline_file,
                                      hint="name a task or stub by its dotted path, e.g. fan.3.square")
    variables: dict[str, Any] = {}
    if map_variable:
        try:
            variables = json.loads(map_variable)
        except ValueError:
            raise StepLineError(f"--map-variable is not JSON: {map_variable!r}", hint='e.g. \'{"chunk": 3}\'') from None
    run = open_run(prepared, run_id, pipeline_file=pipeline_file, config_file=config_file, executor=runs_on)
    branch = step.rpartition(".")[0]
    # a scheduler's or engine's SIGTERM fails the step as "interrupted"
    with sigterm_raises(), run_id_in_environment(run_id):
        return execute_step(run, node, step, branch=branch, map_variable=variables).status
