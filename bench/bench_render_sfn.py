"""Render time of a 1,000-step pipeline with maps and parallels for the step-functions executor.

    uv run --no-sync python bench/bench_render_sfn.py [--steps 1000] [--repeat 5]

Prints issue 19's figure, load + check + render in-process, best of 5, against the target (< 0.3 s),
then its parts, the first call (imports included), the wall time of the `stepline execute` that
renders it (see bench/render_timing.py) and the number of states. Rendering needs no AWS service.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
from pathlib import Path

import yaml


def pipeline(steps: int) -> tuple[dict, int]:
    """Blocks of: task -> parallel (2 branches x 2 tasks) -> map (branch of 3 tasks) = 12 steps."""
    body: dict[str, dict] = {}
    count, block = 0, 0
    names: list[str] = []
    while count < steps:
        b = block
        body[f"prepare {b}"] = {"type": "task", "command_type": "shell", "command": "export items='[1,2]'",
                                "returns": ["items"], "max_attempts": 2}
        body[f"fork {b}"] = {"type": "parallel", "branches": {
            key: {"start_at": "one", "steps": {"one": {"type": "task", "command_type": "shell", "command": "true",
                                                        "next": "two"},
                                                "two": {"type": "stub"}}}
            for key in ("left", "right")}}
        body[f"fan {b}"] = {"type": "map", "iterate_on": "items", "iterate_as": "item", "branch": {
            "start_at": "a", "steps": {"a": {"type": "task", "command_type": "shell", "command": "true", "next": "b"},
                                       "b": {"type": "task", "command_type": "shell", "command": "true",
                                             "next": "c"},
                                       "c": {"type": "stub"}}}}
        names += [f"prepare {b}", f"fork {b}", f"fan {b}"]
        count += 12
        block += 1
    for current, following in itertools.pairwise(names):
        body[current]["next"] = following
    return {"dag": {"start_at": names[0], "steps": body}}, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from render_timing import report, time_render

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        document, count = pipeline(args.steps)
        (folder / "pipeline.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        (folder / "config.yaml").write_text(yaml.safe_dump({
            "executor": {"type": "step-functions", "config": {
                "job_queue": "q", "job_definition": "d", "exchange_location": "s3://bucket/exchange"}},
            "run_log_store": {"type": "chunked-fsspec", "config": {"location": "s3://bucket/runs"}},
            "catalog": {"type": "fsspec", "config": {"location": "s3://bucket/catalog"}}}))
        times = time_render(folder, "pipeline.yaml", "config.yaml", args.repeat)
        machine = json.loads((folder / "state-machine.json").read_text())
        os.chdir(Path(__file__).parent)  # out of the folder before it goes
    print(report("step-functions", count, times))
    print(f"  {count_states(machine)} states")


def count_states(machine: dict) -> int:
    total = 0
    for state in machine["States"].values():
        total += 1
        for branch in state.get("Branches", []):
            total += count_states(branch)
        if "ItemProcessor" in state:
            total += count_states(state["ItemProcessor"])
    return total


if __name__ == "__main__":
    main()
