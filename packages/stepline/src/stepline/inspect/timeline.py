"""The timeline of a run: one tree of spans (steps, branches, attempts) with times relative to the
run's start, statuses, and what each step received and returned.

Pure functions of a :class:`RunLog`; the console, the HTML file and the web UI are views of it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

from stepline.executors.skip_from_original import ran_in
from stepline.pipeline.defaults import empty_list
from stepline.runlog.models import Attempt, BranchLog, Parameter, RunLog, StepLog

SpanKind = Literal["run", "step", "branch", "attempt"]
#: Steps every branch ends with; their status is the branch's, so the timeline leaves them out.
_HIDDEN_TYPES = ("success",)


class Span(BaseModel):
    """One row of the timeline: a run, a step, a branch of a composite, or one attempt of a step."""

    kind: SpanKind
    name: str
    #: The dotted internal name (a step's or a branch's); an attempt's is its step's.
    path: str
    status: str
    step_type: str = ""
    #: Seconds from the run's start; None when it has not started (or not ended) yet.
    start: float | None = None
    end: float | None = None
    message: str = ""
    attempt_number: int | None = None
    mock: bool = False
    #: A re-run's step that succeeded earlier: the run it ran in (its times are that run's, so the
    #: span has no place on this run's axis).
    skipped_from: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    #: A composite's branches by status, e.g. {"SUCCESS": 2, "FAIL": 1}.
    branch_counts: dict[str, int] = Field(default_factory=dict)
    children: list[Span] = Field(default_factory=empty_list)

    @property
    def duration(self) -> float | None:
        return None if self.start is None or self.end is None else max(0.0, self.end - self.start)

    def walk(self):
        """This span and every span under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


class Timeline(BaseModel):
    """A run's timeline: the root span (the run) and the length of the time axis in seconds."""

    run_id: str
    status: str
    tag: str = ""
    original_run_id: str = ""
    #: The run's start as written in the run log (absolute, ISO-8601).
    started: str
    #: Seconds covered by the axis: the run's duration, or up to the latest known time while it runs.
    total: float
    root: Span


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def parameter_value(parameter: Parameter) -> Any:
    """A parameter as shown: its value, or a reference for an object kept in the catalog."""
    return f"<object {parameter.value}>" if parameter.kind == "object" else parameter.value


def branch_summary(counts: dict[str, int]) -> str:
    """'2/3 succeeded', or '2/3 succeeded, 1 failed' when some failed."""
    total = sum(counts.values())
    text = f"{counts.get('SUCCESS', 0)}/{total} succeeded"
    if counts.get("FAIL"):
        text += f", {counts['FAIL']} failed"
    return text


class _Clock:
    def __init__(self, origin: dt.datetime) -> None:
        self.origin = origin
        self.latest = 0.0

    def offset(self, text: str | None) -> float | None:
        moment = parse_time(text)
        if moment is None:
            return None
        seconds = max(0.0, (moment - self.origin).total_seconds())
        self.latest = max(self.latest, seconds)
        return seconds


def build_timeline(run: RunLog) -> Timeline:
    """The timeline of an assembled run log (see :meth:`RunLogStore.get_run_log`)."""
    clock = _Clock(parse_time(run.start_time))
    children = _steps(run.steps, clock)
    root = Span(kind="run", name=run.run_id, path="", status=run.status.value, start=0.0,
                end=clock.offset(run.end_time), message=run.message,
                inputs={k: parameter_value(p) for k, p in run.initial_parameters.items()},
                outputs={k: parameter_value(p) for k, p in run.parameters.items() if p.kind != "metric"},
                metrics={k: p.value for k, p in run.parameters.items() if p.kind == "metric"},
                children=children)
    total = root.end if root.end is not None else clock.latest
    return Timeline(run_id=run.run_id, status=run.status.value, tag=run.tag, original_run_id=run.original_run_id,
                    started=run.start_time, total=max(total, 1e-6), root=root)


def _steps(steps: dict[str, StepLog], clock: _Clock) -> list[Span]:
    # in the store's order: by first attempt, so a re-run's skipped steps keep their place
    return [_step(step, clock) for step in steps.values() if step.step_type not in _HIDDEN_TYPES]


def _attempt(step: StepLog, attempt: Attempt, clock: _Clock) -> Span:
    return Span(kind="attempt", name=f"attempt {attempt.attempt_number}", path=step.internal_name,
                status=attempt.status.value, step_type=step.step_type, start=clock.offset(attempt.start_time),
                end=clock.offset(attempt.end_time), message=attempt.message, attempt_number=attempt.attempt_number,
                inputs={k: parameter_value(p) for k, p in attempt.input_parameters.items()},
                outputs={k: parameter_value(p) for k, p in attempt.output_parameters.items()},
                metrics=dict(attempt.user_defined_metrics))


def _step(step: StepLog, clock: _Clock) -> Span:
    skipped_from = ran_in(step, "")
    attempts = [_attempt(step, a, clock) for a in step.attempts]
    if skipped_from:
        for attempt in attempts:
            attempt.start = attempt.end = None
    branches = [_branch(b, clock) for b in step.branches.values()]
    last = attempts[-1] if attempts else None
    span = Span(kind="step", name=step.name, path=step.internal_name, status=step.status.value,
                step_type=step.step_type, mock=step.mock, skipped_from=skipped_from,
                start=attempts[0].start if attempts else None, end=last.end if last else None,
                message=step.message or (last.message if last else ""),
                inputs=last.inputs if last else {}, outputs=last.outputs if last else {},
                metrics=last.metrics if last else {},
                branch_counts=dict(Counter(b.status for b in branches)) if branches else {},
                # one attempt is the step itself; several are rows of their own
                children=(attempts if len(attempts) > 1 else []) + branches)
    if span.start is None and branches:
        span.start, span.end = _bounds(branches)
    return span


def _branch(branch: BranchLog, clock: _Clock) -> Span:
    children = _steps(branch.steps, clock)
    start, end = _bounds(children)
    key = branch.internal_name.rpartition(".")[2]
    return Span(kind="branch", name=key, path=branch.internal_name, status=branch.status.value,
                start=start, end=end, message=branch.message,
                inputs={k: parameter_value(p) for k, p in branch.parameters.items()}, children=children)


def _bounds(spans: list[Span]) -> tuple[float | None, float | None]:
    starts = [s.start for s in spans if s.start is not None]
    ends = [s.end for s in spans if s.end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def find_span(timeline: Timeline, path: str) -> Span | None:
    """The step span at a dotted internal name, or None."""
    for span in timeline.root.walk():
        if span.kind == "step" and span.path == path:
            return span
    return None
