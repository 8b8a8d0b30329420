"""End to end on one machine: the commands the rendered machine runs (read from moto's execution
history with stand-in tasks) are run for real, in that order, against a run log and catalog on moto
S3 — so every rendered callback is one the CLI accepts, and together they record a whole run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import yaml
from sfn_helpers import commands

PIPELINE = """
dag:
  start_at: make
  steps:
    make:
      type: task
      command_type: shell
      command: export items='[1, 2]' side=heads
      returns: [items, side]
      next: square
    square:
      type: map
      iterate_on: items
      iterate_as: item
      next: route
      branch:
        start_at: sq
        steps:
          sq:
            type: task
            command_type: shell
            command: export sq=$(( item * item ))
            returns: [sq]
    route:
      type: conditional
      parameter: side
      next: again
      branches:
        heads:
          start_at: h
          steps:
            h: {type: stub}
        tails:
          start_at: t
          steps:
            t: {type: stub}
    again:
      type: loop
      max_iterations: 3
      break_on: done
      branch:
        start_at: body
        steps:
          body:
            type: task
            command_type: shell
            command: if [ "$loop_index" -ge 1 ]; then export done=true; else export done=false; fi
            returns: [done]
"""


def test_the_rendered_callbacks_record_a_whole_run(moto, tmp_path, monkeypatch):
    from stepline.orchestration.render import RenderJob
    from stepline.run.prepare import prepare

    bucket = f"replay-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=bucket)
    options = {"endpoint_url": moto.env["AWS_ENDPOINT_URL"]}
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "executor": {"type": "step-functions", "config": {
            "job_queue": "q", "job_definition": "d", "exchange_location": f"s3://{bucket}/exchange",
            "stand_in_tasks": True,
            # what the real callbacks will print: the map's keys, the branch, the loop's last iteration
            "stand_in_results": {"square": ["0", "1"], "route": "heads", "again": 1}}},
        "run_log_store": {"type": "chunked-fsspec", "config": {"location": f"s3://{bucket}/runs",
                                                               "storage_options": options}},
        "catalog": {"type": "fsspec", "config": {"location": f"s3://{bucket}/catalog", "storage_options": options}},
    }))
    prepared = prepare(str(tmp_path / "pipeline.yaml"), str(config))
    job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file="pipeline.yaml",
                    config_file="config.yaml")
    definition = json.loads(prepared.services.executor.render_text(job))
    run_id = f"replay-{uuid.uuid4().hex[:6]}"
    status, events = moto.run(definition, run_id)
    assert status == "SUCCEEDED"

    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, **moto.env, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    for command in commands(events, definition):
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"

    # what the relay stored is what the stand-ins assumed
    def stored(key: str):
        return json.loads(moto.s3.get_object(Bucket=bucket, Key=f"exchange/{run_id}/{key}")["Body"].read())

    assert stored("square.out.json") == ["0", "1"]
    assert stored("route.out.json") == ["heads"]
    assert stored("again.in.0.json") == "continue" and stored("again.in.1.json") == "SUCCESS"

    for key, value in moto.env.items():
        monkeypatch.setenv(key, value)
    store = prepared.services.run_log_store
    log = store.get_run_log(run_id)
    assert log.status.value == "SUCCESS"
    assert {name: p.value for name, p in log.parameters.items()}["sq"] == [1, 4]
    assert log.steps["square"].status.value == "SUCCESS"
    assert sorted(log.steps["again"].branches) == ["again.0", "again.1"]
    assert sorted(log.steps["route"].branches) == ["route.heads"]
