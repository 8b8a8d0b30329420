"""Per-step executor assignment: `executor: NAME` on a step, `executors:` in the config."""

from __future__ import annotations

import os

import pytest
from stepline.errors import StepLineError
from stepline.run.execute import execute
from stepline.run.prepare import prepare
from stepline.runlog.models import Status

PIPELINE = """
    dag:
      start_at: here
      steps:
        here: {type: task, command: where.record, next: fan}
        fan:
          type: parallel
          branches:
            a: {start_at: away, steps: {away: {type: task, command: where.record, executor: %s, next: success}, success: {type: success}, fail: {type: fail}}}
            b: {start_at: home, steps: {home: {type: task, command: where.record, next: success}, success: {type: success}, fail: {type: fail}}}
          next: success
        success: {type: success}
        fail: {type: fail}
"""
MODULE = """
import os
from pathlib import Path

def record():
    with Path("pids.txt").open("a") as f:
        f.write(f"{os.environ.get('STEPLINE_STEP_NAME', '?')} {os.getpid()}\\n")
"""


def pids(workdir):
    return [int(line.split()[1]) for line in (workdir / "pids.txt").read_text().splitlines()]


def test_a_step_runs_on_its_named_executor_and_the_rest_on_the_main_one(write, workdir):
    write("where.py", MODULE)
    write("pipeline.yaml", PIPELINE % "isolated")
    write("config.yaml", """
        executor: {type: local, config: {max_workers: 1}}
        executors:
          isolated: {type: emulator}
          unused: {type: local}
    """)
    run = execute("pipeline.yaml", "config.yaml", quiet=True)
    assert run.status == Status.SUCCESS
    found = pids(workdir)
    assert found.count(os.getpid()) == 2  # `here` and `fan.b.home` ran in this process
    assert len(set(found)) == 2  # `fan.a.away` ran in a separate execute-single-node process
    assert run.run_config["executor"]["type"] == "local"
    assert run.run_config["executors"]["isolated"]["type"] == "emulator"


def test_an_undefined_named_executor_is_refused_before_the_run(write, workdir):
    write("where.py", MODULE)
    write("pipeline.yaml", PIPELINE % "gpu")
    write("config.yaml", "executors: {isolated: {type: emulator}}\n")
    with pytest.raises(StepLineError) as err:
        prepare("pipeline.yaml", "config.yaml")
    message = str(err.value)
    assert "step 'fan.a.away' names executor 'gpu'" in message and "defined: isolated" in message
    assert "\n" not in message


def test_integration_checks_run_for_each_executor_a_step_uses(write, workdir):
    write("where.py", MODULE)
    write("config.yaml", """
        run_log_store: {type: buffered}
        executors: {isolated: {type: emulator}}
    """)
    write("plain.yaml", (PIPELINE % "isolated").replace(", executor: isolated", ""))
    prepare("plain.yaml", "config.yaml")  # the emulator entry is not used: not checked
    write("pipeline.yaml", PIPELINE % "isolated")
    with pytest.raises(StepLineError, match="emulator executor runs steps in other processes"):
        prepare("pipeline.yaml", "config.yaml")


def test_a_malformed_executors_section_is_a_one_line_error(write, workdir):
    write("config.yaml", "executors: {gpu: {type: emulator, settings: {}}}\n")
    write("where.py", MODULE)
    write("pipeline.yaml", PIPELINE % "gpu")
    with pytest.raises(StepLineError, match="section 'executors.gpu': unknown key 'settings'"):
        prepare("pipeline.yaml", "config.yaml")


NICE_PIPELINE = """
dag:
  start_at: level
  steps:
    level:
      type: task
      command_type: shell
      command: 'export level=$(nice)'
      returns: [level]
"""


def _run_with(executor, write):
    write("pipeline.yaml", NICE_PIPELINE)
    write("emulator.yaml", "executor:\n  type: emulator\n")
    prepared = prepare("pipeline.yaml", "emulator.yaml")
    prepared.services.executor = executor
    return execute("pipeline.yaml", "emulator.yaml", prepared=prepared, quiet=True)


def test_a_step_process_executor_runs_the_step_in_the_command_it_wraps(write, workdir):
    from stepline.executors.step_process import StepProcessExecutor

    class Nice(StepProcessExecutor):
        name = "nice-test"

        def wrap_command(self, run, node, internal_name, command):
            return ["nice", "-n", "5", *command]

    log = _run_with(Nice(), write)
    assert log.status == Status.SUCCESS
    assert log.parameters["level"].value == os.nice(0) + 5


def test_a_step_its_wrapped_command_never_records_is_recorded_lost(write, workdir):
    from stepline.executors.step_process import StepProcessExecutor

    class Broken(StepProcessExecutor):
        name = "broken-test"

        def wrap_command(self, run, node, internal_name, command):
            return ["false"]

    log = _run_with(Broken(), write)
    assert log.status == Status.FAIL
    assert log.steps["level"].status == Status.FAIL
    assert "`false` exited 1 without recording the step" in log.steps["level"].message
