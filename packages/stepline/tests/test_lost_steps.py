"""A step whose `stepline execute-single-node` process is stopped (a scheduler's SIGTERM) or killed
(SIGKILL, out of memory) never stays PROCESSING: it fails with the reason, keeping the attempt it
was in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from stepline.run.execute import execute
from stepline.run.prepare import prepare
from stepline.runlog.models import Status

STEPLINE = str(Path(sys.executable).with_name("stepline"))
SLOW = """
    dag:
      start_at: slow
      steps:
        slow: {type: task, command_type: shell, command: 'echo $$ > task.pid; echo started; sleep 300'}
"""


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def seconds(attempt) -> float:
    return (datetime.fromisoformat(attempt.end_time) - datetime.fromisoformat(attempt.start_time)).total_seconds()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_fails_the_step_as_interrupted_and_stops_its_task(write, workdir):
    write("pipeline.yaml", SLOW)
    assert subprocess.run([STEPLINE, "start-run", "r1", "-f", "pipeline.yaml"], capture_output=True).returncode == 0
    process = subprocess.Popen([STEPLINE, "execute-single-node", "r1", "slow", "-f", "pipeline.yaml"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(workdir / "task.pid")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143 and "interrupted" in err
    task = int((workdir / "task.pid").read_text())
    deadline = time.monotonic() + 10
    while alive(task) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(task), "the task's shell outlived its stepline process"
    step = prepare("pipeline.yaml", None).services.run_log_store.get_step_log("r1", "slow")
    assert step.status == Status.FAIL and step.message == "interrupted"
    [attempt] = step.attempts
    assert attempt.status == Status.FAIL and attempt.message == "interrupted"
    assert seconds(attempt) > 0


def test_a_killed_step_process_fails_the_step_keeping_the_attempt_it_was_in(write, workdir):
    # the task SIGKILLs the `stepline execute-single-node` process running it (as an OOM killer would)
    write("pipeline.yaml", """
        dag:
          start_at: doomed
          steps:
            doomed: {type: task, command_type: shell, command: 'echo before; sleep 0.3; kill -9 $PPID; sleep 5'}
    """)
    write("config.yaml", "executor: {type: emulator}\n")
    run = execute("pipeline.yaml", "config.yaml", quiet=True)
    assert run.status == Status.FAIL
    step = run.steps["doomed"]
    assert step.status == Status.FAIL
    assert "execute-single-node" in step.message and "exited -9 without recording the step" in step.message
    [attempt] = step.attempts
    assert attempt.status == Status.FAIL and attempt.message == step.message
    assert seconds(attempt) >= 0.3  # began when the task began
