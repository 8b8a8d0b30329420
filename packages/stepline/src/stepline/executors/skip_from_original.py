"""A re-run skips a leaf step that succeeded in the run it continues: the step is recorded as skipped
(status SUCCESS, the original attempts, message ``skipped: succeeded in run X``) and its returned
parameters are set again in its scope, so later steps see the same values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepline.runlog.models import Status, StepLog

if TYPE_CHECKING:
    from stepline.pipeline.nodes import Node
    from stepline.run.run_context import RunContext

SKIPPED_PREFIX = "skipped: succeeded in run "


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
