"""The short console summary printed at the end of a run (plain text, no markup)."""

from __future__ import annotations

import datetime as dt

from stepline.runlog.models import RunLog, StepLog

MAX_ROWS = 40


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def step_duration(step: StepLog) -> float | None:
    if not step.attempts:
        return None
    return _seconds(step.attempts[0].start_time, step.attempts[-1].end_time)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def summary(run: RunLog, where: str) -> str:
    steps = [s for s in run.steps.values() if s.step_type not in ("success", "fail")]
    lines = [f"run {run.run_id}: {run.status.value} in {format_duration(_seconds(run.start_time, run.end_time))}"
             f" ({len(steps)} step{'' if len(steps) == 1 else 's'})"]
    width = max([len(s.name) for s in steps[:MAX_ROWS]] + [4])
    for step in steps[:MAX_ROWS]:
        tries = f"  {len(step.attempts)} attempts" if len(step.attempts) > 1 else ""
        line = f"  {step.name:<{width}}  {step.status.value:<7}  {format_duration(step_duration(step)):>8}{tries}"
        if step.status.value == "FAIL" and step.message:
            line += f"  {step.message.splitlines()[0][:160]}"
        elif step.message.startswith("skipped: "):  # a re-run: succeeded in an earlier run
            line += f"  {step.message}"
        elif step.mock:
            line += "  (mocked)"
        lines.append(line)
    if len(steps) > MAX_ROWS:
        lines.append(f"  ... and {len(steps) - MAX_ROWS} more steps")
    if run.message:
        lines.append(f"  {run.message}")
    lines.append(f"run log: {where}")
    return "\n".join(lines)
