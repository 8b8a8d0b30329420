"""How callbacks become states, chosen once per render: real compute tasks, or the test-only
stand-ins (``stand_in_tasks``) that moto can execute without AWS Batch or ECS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepline.api import StepLineError

from stepline_stepfunctions.compute import job_name, reader_state, retry_policy, task_state


class Tasks:
    """Real compute: Batch/ECS Task states and S3 reads. Keeps which stand-in names the pipeline
    has, so a stand-in setting naming a missing step is an error in either mode."""

    def __init__(self, settings, state_name: Callable[[str], str]) -> None:
        self.s = settings
        self.state_name = state_name
        self.fails = set(settings.stand_in_failures)
        self.used: set[str] = set()

    def callback(self, label: str, template: str, command: str, overrides: dict[str, Any] | None = None,
                 *, stand_in: str | None = None) -> dict[str, Any]:
        """The state running ``command``; ``stand_in`` is the name stand-in settings know it by."""
        fails = False
        if stand_in is not None:
            self.used.add(stand_in)
            fails = stand_in in self.fails
        return self.state(label, template, command, overrides or {}, fails)

    def state(self, label: str, template: str, command: str, overrides: dict[str, Any], fails: bool) -> dict[str, Any]:
        return task_state(self.s, command, job=job_name(label), overrides=overrides)

    def reader(self, bucket: str, key: str, field: str, simulated: dict[str, Any]) -> dict[str, Any]:
        """The state reading what the relay stored at ``key`` into ``$.fan``."""
        return reader_state(bucket, key, field)

    def retry(self, node) -> list[dict[str, Any]]:
        return retry_policy(self.s, node)

    def result(self, template: str, default: Any = None) -> Any:
        """The simulated fan-out result of step ``template`` (only stand-ins use it)."""
        return self.s.stand_in_results.get(template, default)

    def check_names(self, source: str) -> None:
        steps = {t.split(":")[0] for t in self.used}
        unknown = sorted(x for x in self.fails | set(self.s.stand_in_results) if x.split(":")[0] not in steps)
        if unknown:
            raise StepLineError(f"stand-in setting names step '{unknown[0]}', which the pipeline does not have",
                                file=source)


class StandIns(Tasks):
    """Pass states that evaluate the real command (so a test sees it in the execution history),
    a failing Parallel for ``stand_in_failures``, and reads that give ``stand_in_results``."""

    def state(self, label: str, template: str, command: str, overrides: dict[str, Any], fails: bool) -> dict[str, Any]:
        if fails:
            inner = self.state_name(f"{label} (stand-in failure)")
            return {"Type": "Parallel", "Branches": [{
                "StartAt": inner,
                "States": {inner: {
                    "Type": "Fail", "Error": "StandIn.Failed", "Cause": f"stand-in failure of {template}"}}}],
                "ResultPath": None}
        return {"Type": "Pass", "Parameters": {"command.$": command}, "ResultPath": "$.stand_in"}

    def reader(self, bucket: str, key: str, field: str, simulated: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "Pass", "Parameters": {"key.$": key, **simulated}, "ResultPath": "$.fan"}

    def retry(self, node) -> list[dict[str, Any]]:
        return []


def tasks_for(settings, state_name: Callable[[str], str]) -> Tasks:
    """The strategy the settings choose."""
    return (StandIns if settings.stand_in_tasks else Tasks)(settings, state_name)
