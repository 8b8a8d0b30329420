"""A run log's steps as one flat mapping, branches included: what inspection and re-runs read."""

from __future__ import annotations

from stepline.runlog.models import RunLog, Status, StepLog


def flat_steps(run_log: RunLog) -> dict[str, StepLog]:
    """Every step log of an assembled run log (the steps of every branch, at any depth) by internal
    name, parents before their branches' steps."""
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


def statuses(run_log: RunLog) -> dict[str, str]:
    """The status of every step of a run (branches included) by internal name."""
    return {name: step.status.value for name, step in flat_steps(run_log).items()}
