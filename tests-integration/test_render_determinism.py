"""Two renders of one large pipeline, by two `stepline execute` processes with different hash seeds,
write the same bytes (Argo, Step Functions and the demo-renderer)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

BLOCKS = 24  # about 600 steps: the Step Functions render stays under the service's 1 MB limit
CONFIGS = {
    "argo": ("argo-workflow.yaml", {
        "executor": {"type": "argo", "config": {"image": "registry.example/pipeline:1", "persistent_volumes": [
            {"name": "stepline-volume", "mount_path": "/mnt"}]}},
        "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/runs"}},
        "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}}}),
    "step-functions": ("state-machine.json", {
        "executor": {"type": "step-functions", "config": {
            "job_queue": "queue", "job_definition": "pipeline:1", "exchange_location": "s3://bucket/exchange"}},
        "run_log_store": {"type": "chunked-fsspec", "config": {"location": "s3://bucket/runs"}},
        "catalog": {"type": "fsspec", "config": {"location": "s3://bucket/catalog"}}}),
    "demo-renderer": ("run.sh", {"executor": {"type": "demo-renderer"}}),
}


def shell(command: str, **more) -> dict:
    return {"type": "task", "command_type": "shell", "command": command, **more}


def block(b: int) -> dict[str, dict]:
    """One block of every composite kind, nested, with names whose slugs collide or are too long."""
    return {
        f"Prepare data {b}": shell("export items='[1,2,3]'", returns=["items"], max_attempts=3,
                                   retry_delay_seconds=5, retry_backoff={"factor": 2, "max_seconds": 60},
                                   catalog={"put": ["out/*.csv"]}, on_failure=f"recover {b}",
                                   next=f"fork {b}"),
        f"recover {b}": {"type": "stub", "next": f"fork {b}"},
        f"fork {b}": {"type": "parallel", "next": f"fan {b}", "branches": {
            "left": {"start_at": "a", "steps": {"a": {"type": "task", "command": "pkg.steps.train", "next": "b"},
                                                "b": {"type": "stub"}}},
            "right": {"start_at": "each", "steps": {"each": {
                "type": "map", "iterate_on": "items", "iterate_as": "item", "branch": {
                    "start_at": "one", "steps": {"one": shell("echo $item", next="two"), "two": {"type": "stub"}}}}}},
        }},
        f"fan {b}": {"type": "map", "iterate_on": "items", "iterate_as": "item", "next": f"choose {b}",
                     "branch": {"start_at": "square", "steps": {
                         "square": shell("echo $item", next="inner"),
                         "inner": {"type": "parallel", "next": "done", "branches": {
                             key: {"start_at": "x", "steps": {"x": shell("true")}} for key in ("up", "down")}},
                         "done": {"type": "stub"}}}},
        f"choose {b}": {"type": "conditional", "parameter": "which", "next": f"repeat {b}", "branches": {
            key: {"start_at": "go", "steps": {"go": shell(f"echo {key}")}} for key in ("a", "b")},
            "default": {"start_at": "go", "steps": {"go": {"type": "stub"}}}},
        f"repeat {b}": {"type": "loop", "max_iterations": 3, "break_on": "stop", "next": f"include {b}",
                        "branch": {"start_at": "try", "steps": {"try": shell("export stop=true", returns=["stop"])}}},
        f"include {b}": {"type": "dag", "dag_definition": "sub.yaml", "next": f"Load-Data {b}"},
        f"Load-Data {b}": shell("true", next=f"load data {b}"),
        f"load data {b}": shell("true", next=f"{'a very long step name ' * 4}{b}"),
        f"{'a very long step name ' * 4}{b}": shell("true"),
    }


def write_pipeline(folder: Path) -> None:
    steps: dict[str, dict] = {}
    for b in range(BLOCKS):
        body = block(b)
        if b + 1 < BLOCKS:
            body[f"{'a very long step name ' * 4}{b}"]["next"] = f"Prepare data {b + 1}"
        steps.update(body)
    (folder / "pipeline.yaml").write_text(yaml.safe_dump({"dag": {"start_at": "Prepare data 0", "steps": steps}},
                                                         sort_keys=False))
    (folder / "sub.yaml").write_text(yaml.safe_dump({"dag": {"start_at": "extract", "steps": {
        "extract": shell("true", next="load"), "load": shell("true")}}}))
    (folder / "params.yaml").write_text(yaml.safe_dump({"which": "a", "threshold": 0.5}))


@pytest.mark.parametrize("renderer", list(CONFIGS))
def test_two_processes_render_the_same_bytes(tmp_path, cli, renderer):
    output, config = CONFIGS[renderer]
    write_pipeline(tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    renders = []
    for seed in ("1", "2"):
        done = cli.run("execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", cwd=tmp_path,
                       env=cli.env(PYTHONHASHSEED=seed))
        assert done.code == 0, done.stderr
        renders.append((tmp_path / output).read_bytes())
        (tmp_path / output).unlink()
    assert len(renders[0]) > 100_000, "the pipeline is meant to be large"
    assert renders[0] == renders[1]
