"""Render time of a 1,000-step pipeline with maps and parallels, for the demo-renderer and argo.

    uv run --no-sync python bench/bench_render.py

Prints, per renderer, issue 19's figure: load + check + render of the pipeline in-process, best of
5, against the target (< 0.3 s); then its parts, the first call (imports included) and the wall time
of the `stepline execute` that renders it (see bench/render_timing.py). Step Functions: see
bench_render_sfn.py (this pipeline's state machine is over the service's 1 MB limit).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import yaml


def pipeline(groups: int = 77) -> dict:
    """``groups`` x (task -> parallel of 3 branches x 2 tasks -> map with 3 tasks -> task) + ... steps."""
    steps: dict = {}
    for g in range(groups):
        nxt = f"g{g + 1}-start" if g + 1 < groups else None

        def task(next_step, name="x"):
            step = {"type": "task", "command_type": "shell", "command": f"echo {name}"}
            if next_step:
                step["next"] = next_step
            return step

        steps[f"g{g}-start"] = {**task(f"g{g}-fork"), "command": 'export items="[1,2]"', "returns": ["items"]}
        steps[f"g{g}-fork"] = {"type": "parallel", "next": f"g{g}-map", "branches": {
            b: {"start_at": "a", "steps": {"a": task("b"), "b": task(None)}} for b in ("left", "mid", "right")}}
        steps[f"g{g}-map"] = {"type": "map", "iterate_on": "items", "iterate_as": "item", "next": f"g{g}-end",
                              "branch": {"start_at": "a", "steps": {"a": task("b"), "b": task("c"), "c": task(None)}}}
        steps[f"g{g}-end"] = task(nxt)
    return {"dag": {"start_at": "g0-start", "steps": steps}}


def count(graph: dict) -> int:
    total = 0
    for step in graph["steps"].values():
        total += 1
        for branch in (step.get("branches") or {}).values():
            total += count(branch)
        if "branch" in step:
            total += count(step["branch"])
    return total


def main() -> None:
    from render_timing import report, time_render

    spec = pipeline()
    configs = {
        "demo-renderer": {"executor": {"type": "demo-renderer"}, "run_log_store": {"type": "chunked-fs"}},
        "argo": {"executor": {"type": "argo", "config": {"image": "x:1", "persistent_volumes": [
                     {"name": "v", "mount_path": "/mnt"}]}},
                 "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/runs"}},
                 "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}}},
    }
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "pipeline.yaml").write_text(yaml.safe_dump(spec))
        for name, config in configs.items():
            Path(folder, f"{name}.yaml").write_text(yaml.safe_dump(config))
            print(report(name, count(spec["dag"]), time_render(Path(folder), "pipeline.yaml", f"{name}.yaml")))
        os.chdir(Path(__file__).parent)  # out of the folder before it goes


if __name__ == "__main__":
    argparse.ArgumentParser(description="Render time of a 1,000-step pipeline (demo-renderer and argo).").parse_args()
    main()
