"""Re-runs: continue a failed (or interrupted) run in a NEW run that skips what already succeeded.

The new run starts from the original's initial parameters, with a copy of its catalog. Every leaf
step (also inside map iterations, parallel branches, loops, conditionals and nested dags) that
succeeded in the original is recorded as skipped-from-original — status SUCCESS, the original
attempts, message ``skipped: succeeded in run X`` — and its returned parameters are set again in its
scope, so later steps see the same values. Composites always fan out and fan in again (cheap; their
leaves are skipped). The original run log is never modified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepline.errors import NotSupportedError, StepLineError
from stepline.runlog.models import RunLog, Status, StepLog

if TYPE_CHECKING:
    from stepline.executors.context import RunContext
    from stepline.pipeline.nodes import Node

SKIPPED_PREFIX = "skipped: succeeded in run "


class PipelineChangedError(StepLineError):
    """The pipeline a re-run would use is not the one the original run used."""


def flat_steps(run_log: RunLog) -> dict[str, StepLog]:
    """Every step log of an assembled run log (branches included) by internal name."""
    found: dict[str, StepLog] = {}

    def visit(steps: dict[str, StepLog]) -> None:
        for step in steps.values():
            found[step.internal_name] = step
            for branch in step.branches.values():
                visit(branch.steps)

    visit(run_log.steps)
    return found


def succeeded_steps(run_log: RunLog) -> dict[str, StepLog]:
    """The leaf steps (tasks, stubs) of a run that succeeded: what a re-run of it skips."""
    return {name: step for name, step in flat_steps(run_log).items()
            if step.status == Status.SUCCESS and not step.branches
            and step.step_type not in ("success", "fail", "parallel", "map", "dag", "conditional", "loop")}


def ran_in(step: StepLog, run_id: str) -> str:
    """The run a step really ran in: ``run_id``, or the run a skipped step was skipped from."""
    if step.message.startswith(SKIPPED_PREFIX):
        return step.message[len(SKIPPED_PREFIX):]
    return run_id


def skip_from_original(run: RunContext, node: Node, internal_name: str, branch: str) -> Status | None:
    """Record a leaf step that succeeded in the original run as skipped; None when it must run."""
    from stepline.executors.step_context import new_step_log

    original = run.original_steps.get(internal_name)
    if original is None or original.step_type != node.type:
        return None
    outputs = original.attempts[-1].output_parameters if original.attempts else {}
    # Parameters first: a crash between the two writes leaves the step unrecorded, so it runs next time.
    run.store.update_parameters(run.run_id, outputs, branch)
    step = new_step_log(run, node, internal_name)
    step.status = Status.SUCCESS
    step.message = SKIPPED_PREFIX + ran_in(original, run.original_run_id)
    step.attempts = [a.model_copy(deep=True) for a in original.attempts]
    step.data_catalog = [d.model_copy() for d in original.data_catalog]
    step.code_identities = list(original.code_identities)
    run.store.put_step_log(run.run_id, step)
    return Status.SUCCESS


def initial_parameters_of(original: RunLog) -> dict:
    """The parameters ``original`` started with (older run logs kept only the final ones)."""
    if "initial_parameters" in original.model_fields_set:
        return dict(original.initial_parameters)
    return dict(original.parameters)


def retry(original_run_id: str, config_file: str | None = None, *, run_id: str | None = None,
          force: bool = False, quiet: bool = False, prepared=None, observers: list | None = None,
          pipeline_file: str | None = None) -> RunLog:
    """Re-run ``original_run_id`` as a new run; return the new run's log. ``prepared`` and
    ``pipeline_file`` give the pipeline to use (an SDK script's) instead of the one the original
    run recorded; it is compared with the original by dag hash all the same."""
    from stepline.config.loader import load_services
    from stepline.runtime import prepare, run_to_end, start_run

    store = (prepared.services if prepared else load_services(config_file)).run_log_store
    original = store.get_run_log(original_run_id)
    pipeline_file = pipeline_file or original.pipeline_file
    if not pipeline_file:
        raise StepLineError(f"run '{original_run_id}' does not record its pipeline file",
                            hint="re-run it with `stepline execute`")
    prepared = prepared or prepare(pipeline_file, config_file)
    if prepared.services.executor.renders:
        raise NotSupportedError(f"retry is not supported with the {prepared.services.executor.name} executor, "
                                "which renders the pipeline for another engine",
                                hint="re-run with an executor that traverses the graph: local, emulator, ...")
    new_hash = prepared.graph.dag_hash()
    if original.dag_hash and new_hash != original.dag_hash and not force:
        raise PipelineChangedError(
            f"the pipeline changed since run '{original_run_id}' (dag hash {original.dag_hash[:12]} is now "
            f"{new_hash[:12]})", file=pipeline_file,
            hint="restore it, or pass --force to re-run with the new pipeline (steps are matched by name)")
    run = start_run(prepared, pipeline_file=pipeline_file, config_file=config_file, params_file=None,
                    run_id=run_id, tag=original.tag, quiet=quiet,
                    parameters=initial_parameters_of(original), original=original, observers=observers)
    return run_to_end(run)
