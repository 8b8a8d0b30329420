"""The mocked executor: the pipeline's shape and routing without running its tasks."""

import subprocess
import sys
from pathlib import Path

from stepline.run.execute import execute
from stepline.runlog.flatten import flat_steps
from stepline.runlog.models import Status

STEPLINE = str(Path(sys.executable).with_name("stepline"))


#: The user modules this file writes and imports: forgotten after each test (see conftest.py).
USER_MODULES = "mmods"


MODULE = """
from pathlib import Path

def real(x: int = 0):
    Path("real-ran").write_text("yes")
    raise RuntimeError("the real task must not run under the mocked executor")

def fake_square(x: int):
    return x * 100
"""

PIPELINE = """
dag:
  start_at: prepare
  steps:
    prepare:
      type: task
      command_type: shell
      command: touch real-ran; exit 3
      next: fan
      on_failure: cleanup
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: square
        steps:
          square: {type: task, command: mmods.real, returns: [squares]}
      next: fork
    fork:
      type: parallel
      branches:
        a: {start_at: l1, steps: {l1: {type: task, command: mmods.real}}}
        b: {start_at: r1, steps: {r1: {type: stub}}}
      next: train
    train:
      type: task
      command: mmods.real
      on_failure: cleanup
    cleanup:
      type: task
      command_type: shell
      command: touch real-ran
      next: fail
"""


def run(write, patches="", **kwargs):
    write("mmods.py", MODULE)
    write("pipeline.yaml", PIPELINE)
    write("params.yaml", "xs: [1, 2, 3]\n")
    write("config.yaml", "executor:\n  type: mocked\n  config:\n    patches:\n" + patches if patches
          else "executor: {type: mocked}\n")
    return execute("pipeline.yaml", "config.yaml", "params.yaml", quiet=True, **kwargs)


def test_every_task_succeeds_without_running(write, workdir):
    log = run(write)
    assert log.status == Status.SUCCESS
    assert not (workdir / "real-ran").exists()
    steps = flat_steps(log)
    tasks = {n for n, s in steps.items() if s.step_type == "task"}
    assert tasks == {"prepare", "fan.0.square", "fan.1.square", "fan.2.square", "fork.a.l1", "train"}
    assert all(steps[n].mock and steps[n].status == Status.SUCCESS for n in tasks)
    assert not steps["fork.b.r1"].mock and steps["fork.b.r1"].status == Status.SUCCESS
    assert log.run_config["executor"]["type"] == "mocked"


def test_patches_replace_chosen_commands_and_test_failure_routing(write, workdir):
    log = run(write, patches="""
      fan.*.square: {command: mmods.fake_square}
      fan.1.square: {command: 'echo "squares=-1" >> $STEPLINE_RETURNS', command_type: shell}
      train: {command: exit 1, command_type: shell}
""")
    assert log.status == Status.FAIL
    steps = flat_steps(log)
    assert [steps[f"fan.{i}.square"].attempts[-1].output_parameters["squares"].value for i in range(3)] == [100, -1, 300]
    assert not steps["fan.0.square"].mock
    assert steps["train"].status == Status.FAIL and not steps["train"].mock
    assert steps["cleanup"].mock and steps["cleanup"].status == Status.SUCCESS  # routed on failure
    assert not (workdir / "real-ran").exists()


def test_a_patch_naming_no_task_is_a_warning_and_a_bad_patch_an_error(write, workdir, capsys):
    log = run(write, patches="      trian: {command: exit 1, command_type: shell}\n")
    assert "patch 'trian' names no task step of this pipeline and is ignored" in capsys.readouterr().err
    assert not any(s.status == Status.FAIL for s in flat_steps(log).values())  # nothing ran the patch
    write("config.yaml", "executor: {type: mocked, config: {patches: {train: {cmd: x}}}}\n")
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml"],
                          cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_failed_mocked_run_can_be_retried(write, workdir):
    first = run(write, patches="      train: {command: exit 1, command_type: shell}\n", run_id="one")
    assert first.status == Status.FAIL
    write("config.yaml", "executor: {type: mocked}\n")
    from stepline.run.rerun import rerun

    again = rerun("one", "config.yaml", run_id="two", quiet=True)
    assert again.status == Status.SUCCESS
    steps = flat_steps(again)
    assert steps["prepare"].message == "skipped: succeeded in run one"
    assert steps["train"].mock and steps["train"].status == Status.SUCCESS
