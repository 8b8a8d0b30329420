"""``stepline runs show`` (a tree of one run) and ``stepline runs diff`` (two runs side by side).

Plain text only: values a task produced are printed as they are, never through a markup renderer.
"""

from __future__ import annotations

import json
from typing import Any

from stepline.cli.summary import _seconds, format_duration, step_duration
from stepline.runlog.flatten import flat_steps
from stepline.runlog.models import Parameter, RunLog, StepEnvironment, StepLog

#: Branches shown per composite before the rest are summarised (failed ones are always shown).
MAX_BRANCHES = 20
VALUE_WIDTH = 80


def short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def format_parameter(parameter: Parameter) -> str:
    if parameter.kind == "object":
        return f"<object {parameter.value}>"
    return short(parameter.value)


def format_parameters(parameters: dict[str, Parameter], indent: str) -> list[str]:
    return [f"{indent}{name} = {format_parameter(p)}" + ("  (metric)" if p.kind == "metric" else "")
            for name, p in parameters.items()]


def run_tree(run: RunLog, where: str) -> str:
    """A readable tree of a run: steps, branches, attempts, durations, parameters, catalog items."""
    duration = format_duration(_seconds(run.start_time, run.end_time))
    lines = [f"run {run.run_id}: {run.status.value} in {duration}"]
    if run.tag:
        lines.append(f"  tag: {run.tag}")
    if run.original_run_id:
        lines.append(f"  re-run of: {run.original_run_id}")
    lines.append(f"  pipeline: {run.pipeline_file or '-'} (dag hash {run.dag_hash or '-'})")
    lines.append(f"  started: {run.start_time}  ended: {run.end_time or '-'}")
    executor = (run.run_config.get("executor") or {}).get("type")
    if executor:
        lines.append(f"  executor: {executor}")
    if run.message:
        lines.append(f"  message: {run.message.splitlines()[0]}")
    if run.initial_parameters:
        lines.append("parameters at start:")
        lines += format_parameters(run.initial_parameters, "  ")
    if run.parameters:
        lines.append("parameters at end:")
        lines += format_parameters(run.parameters, "  ")
    lines.append("steps:")
    _steps(run.steps, "  ", lines)
    items = [(s, d) for s in flat_steps(run).values() for d in s.data_catalog]
    if items:
        lines.append("catalog:")
        for step, item in items:
            digest = f"  sha256 {item.data_hash[:12]}" if item.data_hash else ""
            lines.append(f"  {item.stage:<3}  {item.name}  ({step.internal_name}){digest}")
    lines.append(f"run log: {where}")
    return "\n".join(lines)


def _step_line(step: StepLog, indent: str) -> str:
    kind = "" if step.step_type == "task" else f" [{step.step_type}]"
    line = f"{indent}{step.name}{kind}  {step.status.value}  {format_duration(step_duration(step))}"
    if step.mock:
        line += "  (mocked)"
    if len(step.attempts) > 1:
        line += f"  {len(step.attempts)} attempts"
    if step.message:
        line += f"  {step.message.splitlines()[0][:160]}"
    return line


def environment_line(env: StepEnvironment) -> str:
    """One line saying what a step's environment held: interpreter, packages, the lock it came from."""
    packages = ", ".join(f"{name}=={version}" for name, version in env.packages.items()) or "no packages"
    lock = f", {env.spec['project']}/uv.lock {env.files['uv.lock'][7:19]}" if "uv.lock" in env.files else ""
    return f"environment: {env.manager} {env.key[:12]} ({env.source}), python {env.python}{lock}: {packages}"


def _steps(steps: dict[str, StepLog], indent: str, lines: list[str]) -> None:
    for step in steps.values():
        if step.step_type == "success":  # every finished branch has one; the status says it all
            continue
        lines.append(_step_line(step, indent))
        if len(step.attempts) > 1:
            for attempt in step.attempts:
                message = f"  {attempt.message.splitlines()[0][:120]}" if attempt.message else ""
                lines.append(f"{indent}    attempt {attempt.attempt_number}: {attempt.status.value}"
                             f"  {format_duration(attempt.duration_seconds)}{message}")
        if step.environment is not None:
            lines.append(f"{indent}    {environment_line(step.environment)}")
        last = step.attempts[-1] if step.attempts else None
        if last is not None and step.step_type == "task" and last.output_parameters:
            returned = ", ".join(f"{k}={format_parameter(p)}" for k, p in last.output_parameters.items())
            lines.append(f"{indent}    returned: {returned[:160]}")
        _branches(step, indent + "  ", lines)


def _branches(step: StepLog, indent: str, lines: list[str]) -> None:
    branches = list(step.branches.values())
    shown = [b for i, b in enumerate(branches) if i < MAX_BRANCHES or b.status.value != "SUCCESS"]
    for branch in shown:
        key = branch.internal_name[len(step.internal_name) + 1:]
        own = ", ".join(f"{k}={format_parameter(p)}" for k, p in branch.parameters.items())
        lines.append(f"{indent}[{key}] {branch.status.value}" + (f"  {own[:160]}" if own else ""))
        _steps(branch.steps, indent + "  ", lines)
    hidden = len(branches) - len(shown)
    if hidden:
        lines.append(f"{indent}... and {hidden} more branches, all SUCCESS (see --json)")


# ---- diff -----------------------------------------------------------------------------------------
def _flat(run: RunLog) -> dict[str, StepLog]:
    return {name: s for name, s in flat_steps(run).items() if s.step_type != "success"}


def _metrics(run: RunLog) -> dict[str, Any]:
    found = {}
    for name, step in _flat(run).items():
        if step.attempts:
            for metric, value in step.attempts[-1].user_defined_metrics.items():
                found[f"{name}: {metric}"] = value
    for name, parameter in run.parameters.items():
        if parameter.kind == "metric":
            found[name] = parameter.value
    return found


def _changes(left: dict[str, Any], right: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, before, after) for every key whose value differs; '-' where a side lacks it."""
    changed = [k for k in sorted(set(left) | set(right)) if left.get(k, _MISSING) != right.get(k, _MISSING)]
    return [(k, _plain(left[k]) if k in left else "-", _plain(right[k]) if k in right else "-") for k in changed]


_MISSING = object()


def _plain(value: Any) -> str:
    return value if isinstance(value, str) and len(value) <= 40 else short(value, 40)


def diff_sections(a: RunLog, b: RunLog) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """What differs between two runs, by section (run, parameters, metrics, step statuses):
    each section's (key, value in a, value in b) rows; an empty list when the section is the same."""
    def run_fields(run: RunLog) -> dict[str, Any]:
        return {"status": run.status.value, "pipeline": run.pipeline_file, "dag hash": run.dag_hash, "tag": run.tag}

    return [
        ("run", _changes(run_fields(a), run_fields(b))),
        ("parameters at start", _changes({k: p.value for k, p in a.initial_parameters.items()},
                                         {k: p.value for k, p in b.initial_parameters.items()})),
        ("parameters at end", _changes({k: p.value for k, p in a.parameters.items()},
                                       {k: p.value for k, p in b.parameters.items()})),
        ("metrics", _changes(_metrics(a), _metrics(b))),
        ("step statuses", _changes({k: s.status.value for k, s in _flat(a).items()},
                                   {k: s.status.value for k, s in _flat(b).items()})),
    ]


def run_diff(a: RunLog, b: RunLog) -> tuple[str, int]:
    """What differs between two runs: parameters, metrics, step statuses. Returns (text, changes)."""
    lines, changes = [f"runs {a.run_id} -> {b.run_id}"], 0
    for title, rows in diff_sections(a, b):
        changes += len(rows)
        if not rows:
            lines.append(f"{title}: same")
            continue
        lines.append(f"{title}:")
        width = max(len(k) for k, _, _ in rows)
        lines += [f"  {key:<{width}}  {before}  ->  {after}" for key, before, after in rows]
    return "\n".join(lines), changes
