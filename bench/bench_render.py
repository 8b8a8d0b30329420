"""Render time of a 1,000-step pipeline with maps and parallels, for the demo-renderer and argo.

    uv run --no-sync python bench/bench_render.py

Prints, per renderer, the time to load and check the pipeline (once) and the best-of-5 render time
(target: under 1 s), and the size of what was written.
"""

from __future__ import annotations

import os
import tempfile
import time
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
    from stepline.run.prepare import prepare

    spec = pipeline()
    configs = {
        "demo-renderer": {"executor": {"type": "demo-renderer"}, "run_log_store": {"type": "chunked-fs"}},
        "argo": {"executor": {"type": "argo", "config": {"image": "x:1", "persistent_volumes": [
                     {"name": "v", "mount_path": "/mnt"}]}},
                 "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/runs"}},
                 "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}}},
    }
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        Path("pipeline.yaml").write_text(yaml.safe_dump(spec))
        print(f"pipeline: {count(spec['dag'])} steps (without success/fail nodes)")
        for name, config in configs.items():
            Path(f"{name}.yaml").write_text(yaml.safe_dump(config))
            started = time.perf_counter()
            prepared = prepare("pipeline.yaml", f"{name}.yaml")
            loaded = time.perf_counter() - started
            from stepline.orchestration.render import RenderJob

            job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file="pipeline.yaml",
                            config_file=f"{name}.yaml")
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                written = prepared.services.executor.render(job)
                best = min(best, time.perf_counter() - started)
            size = Path(written).stat().st_size
            print(f"{name:14} load+check {loaded:6.3f} s   render {best:6.3f} s (best of 5)   "
                  f"{size / 1024:8.0f} KiB {written}")


if __name__ == "__main__":
    main()
