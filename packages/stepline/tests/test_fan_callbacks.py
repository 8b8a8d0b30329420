"""The orchestration callbacks (start-run, fan out/in, execute-single-node, finish-run) on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.errors import StepLineError
from stepline.orchestration import callbacks
from stepline.runlog.models import Status

STEPLINE = str(Path(sys.executable).with_name("stepline"))

PIPELINE = """
dag:
  start_at: make
  steps:
    make:
      type: task
      command_type: shell
      command: 'export items="[2, 3]" kind=b'
      returns: [items, kind]
      next: fan
    fan:
      type: map
      iterate_on: items
      iterate_as: x
      reducer: "lambda *v: sum(v)"
      branch:
        start_at: sq
        steps:
          sq:
            type: task
            command_type: shell
            command: 'export y=$((x * x)); [ "$x" != 9 ]'
            returns: [y]
      next: pick
    pick:
      type: conditional
      parameter: kind
      branches:
        a: {start_at: s, steps: {s: {type: stub}}}
        b: {start_at: s, steps: {s: {type: stub}}}
      next: again
    again:
      type: loop
      max_iterations: 3
      break_on: stop
      branch:
        start_at: body
        steps:
          body:
            type: task
            command_type: shell
            command: 'export stop=$([ "$loop_index" -ge 1 ] && echo true || echo false)'
            returns: [stop]
"""


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "config.yaml").write_text("run_log_store:\n  type: chunked-fs\n")
    return tmp_path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([STEPLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def step(run_id: str, path: str) -> Status:
    from stepline.run.execute import execute_single_node

    return execute_single_node(run_id, path, "pipeline.yaml", "config.yaml")


def test_a_whole_run_through_the_callbacks(pipeline):
    from stepline.config.loader import load_services

    assert callbacks.start_run("r1", "pipeline.yaml", "config.yaml") is True
    assert callbacks.start_run("r1", "pipeline.yaml", "config.yaml") is False  # an engine's retry
    assert step("r1", "make") == Status.SUCCESS
    status, keys = callbacks.fan_out("r1", "fan", "pipeline.yaml", "config.yaml")
    assert (status, keys) == (Status.PROCESSING, ["0", "1"])
    store = load_services("config.yaml").run_log_store
    assert store.get_step_log("r1", "fan").status == Status.PROCESSING
    assert store.get_branch_log("r1", "fan.1").parameters["x"].value == 3
    for key in keys:
        assert step("r1", f"fan.{key}.sq") == Status.SUCCESS
        assert step("r1", f"fan.{key}.success") == Status.SUCCESS
    assert callbacks.fan_in("r1", "fan", "pipeline.yaml", "config.yaml") == "SUCCESS"
    assert store.get_parameters("r1", "")["y"].value == 13
    assert store.get_branch_log("r1", "fan.0").status == Status.SUCCESS

    assert callbacks.fan_out("r1", "pick", "pipeline.yaml", "config.yaml")[1] == ["b"]
    assert step("r1", "pick.b.s") == Status.SUCCESS and step("r1", "pick.b.success") == Status.SUCCESS
    assert callbacks.fan_in("r1", "pick", "pipeline.yaml", "config.yaml") == "SUCCESS"

    verdicts = []
    for i in range(3):
        assert callbacks.fan_out("r1", "again", "pipeline.yaml", "config.yaml", iteration=i)[1] == [str(i)]
        step("r1", f"again.{i}.body")
        step("r1", f"again.{i}.success")
        verdicts.append(callbacks.fan_in("r1", "again", "pipeline.yaml", "config.yaml", iteration=i))
        if verdicts[-1] != "continue":
            break
    assert verdicts == ["continue", "SUCCESS"]
    assert step("r1", "success") == Status.SUCCESS
    assert callbacks.finish_run("r1", "pipeline.yaml", "config.yaml") == Status.SUCCESS
    log = store.get_run_log("r1")
    assert log.status == Status.SUCCESS and log.parameters["stop"].value is True
    assert "stopped after 2 iterations" in log.steps["again"].message


def test_failed_branch_fails_the_composite_and_the_run(pipeline):
    callbacks.start_run("r2", "pipeline.yaml", "config.yaml")
    step("r2", "make")
    callbacks.fan_out("r2", "fan", "pipeline.yaml", "config.yaml")
    step("r2", "fan.0.sq"), step("r2", "fan.0.success")
    step("r2", "fan.1.fail")  # branch 1 ended in its fail node
    done = cli("fan", "r2", "fan", "in", "-f", "pipeline.yaml", "-c", "config.yaml", cwd=pipeline)
    assert (done.returncode, done.stdout.strip()) == (1, "FAIL")
    assert callbacks.finish_run("r2", "pipeline.yaml", "config.yaml") == Status.FAIL


def test_fan_out_cli_prints_json_and_writes_the_output_file(pipeline):
    assert cli("start-run", "r3", "-f", "pipeline.yaml", "-c", "config.yaml", cwd=pipeline).returncode == 0
    # no list yet: the map cannot fan out; it is recorded FAIL and the engine routes to on_failure
    done = cli("fan", "r3", "fan", "out", "-f", "pipeline.yaml", "-c", "config.yaml", "--output-file", "k.json",
               cwd=pipeline)
    assert (done.returncode, done.stdout.strip()) == (1, "[]")
    assert (pipeline / "k.json").read_text() == "[]"
    cli("execute-single-node", "r3", "make", "-f", "pipeline.yaml", "-c", "config.yaml", cwd=pipeline)
    done = cli("fan", "r3", "fan", "out", "-f", "pipeline.yaml", "-c", "config.yaml", "--output-file", "k.json",
               cwd=pipeline)
    assert done.returncode == 0 and json.loads(done.stdout) == ["0", "1"]
    assert (pipeline / "k.json").read_text() == '["0","1"]'


@pytest.mark.parametrize("args, message", [
    (["fan", "r4", "make", "out"], "no composite step 'make'"),
    (["fan", "r4", "fan", "sideways"], "fan direction must be 'out' or 'in'"),
    (["fan", "r4", "again", "out"], "is a loop: fan it out one iteration at a time"),
    (["fan", "r4", "fan", "out", "--iteration", "1"], "--iteration is for loop steps"),
    (["fan", "nope", "fan", "in"], "was not fanned out"),
])
def test_callback_errors_are_one_line(pipeline, args, message):
    cli("start-run", "r4", "-f", "pipeline.yaml", "-c", "config.yaml", cwd=pipeline)
    done = cli(*args, "-f", "pipeline.yaml", "-c", "config.yaml", cwd=pipeline)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_start_run_refuses_a_run_id_of_another_pipeline(pipeline):
    callbacks.start_run("r5", "pipeline.yaml", "config.yaml")
    (pipeline / "other.yaml").write_text("dag:\n  start_at: s\n  steps:\n    s: {type: stub}\n")
    with pytest.raises(StepLineError, match="already used by another pipeline"):
        callbacks.start_run("r5", "other.yaml", "config.yaml")
