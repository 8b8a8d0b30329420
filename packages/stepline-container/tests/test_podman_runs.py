"""The local-container executor against real podman + runc and the offline image of tools/podman.sh."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from stepline.run.execute import execute
from stepline.runlog.models import Status
from stepline.testing.cli import clean_env
from stepline.testing.executor import ExecutorContract

PIPELINE = """
    dag:
      start_at: make
      steps:
        make: {type: task, command: steps.make, returns: [items], next: fan}
        fan:
          type: map
          iterate_on: items
          iterate_as: x
          branch:
            start_at: square
            steps:
              square: {type: task, command: steps.square, returns: [sq], next: success}
              success: {type: success}
              fail: {type: fail}
          reducer: "lambda *xs: sorted(xs)"
          next: shell
        shell:
          type: task
          command_type: shell
          command: 'echo "sq=$sq in $(cat /proc/1/cgroup | wc -l)" > shell-$STEPLINE_RUN_ID.txt; test -z "$EXPECT_CONTAINER" || test "$container" = podman'
          next: success
        success: {type: success}
        fail: {type: fail}
"""
STEPS = """
import os, time

def make():
    return [1, 2, 3]

def square(x):
    if os.environ.get("EXPECT_CONTAINER"):  # set by the container config's `environment:`
        assert os.environ.get("container") == "podman", "not in a container"  # podman sets it
        # a barrier: with max_workers 2, two map items must run at the same time
        open(f"started-{x}", "w").close()
        deadline = time.monotonic() + 30
        while sum(os.path.exists(f"started-{i}") for i in (1, 2, 3)) < 2:
            assert time.monotonic() < deadline, "map items did not run concurrently"
            time.sleep(0.05)
    return x * x

def slow():
    time.sleep(60)
"""


def config(image: str, **extra) -> str:
    lines = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return f"executor:\n  type: local-container\n  config:\n    docker_image: {image}\n    max_workers: 2\n{lines}"


def summary(run):
    """What must match between a local and a container run: each step's status and outputs."""
    steps = {}

    def visit(logs):
        for step in logs.values():
            outputs = {k: p.value for a in step.attempts for k, p in a.output_parameters.items()}
            steps[step.internal_name] = (step.status, outputs)
            for branch in step.branches.values():
                visit(branch.steps)

    visit(run.steps)
    return steps, {k: p.value for k, p in run.parameters.items()}


def test_map_python_and_shell_steps_run_in_containers_like_a_local_run(podman, write, workdir):
    image = podman["STEPLINE_TEST_IMAGE"]
    write("steps.py", STEPS)
    write("pipeline.yaml", PIPELINE)
    write("local.yaml", "executor: {type: local}\n")
    write("container.yaml", config(image, environment="{EXPECT_CONTAINER: '1'}"))
    started = time.monotonic()
    run = execute("pipeline.yaml", "container.yaml", run_id="boxed", quiet=True)
    elapsed = time.monotonic() - started
    assert run.status == Status.SUCCESS, run.message
    steps, parameters = summary(run)
    assert parameters == {"items": [1, 2, 3], "sq": [1, 4, 9]}
    assert set(steps) == {"make", "fan", "fan.0.square", "fan.1.square", "fan.2.square", "shell",
                          "fan.0.success", "fan.1.success", "fan.2.success", "success"}
    assert steps["fan.2.square"] == (Status.SUCCESS, {"sq": 9})
    assert (workdir / "shell-boxed.txt").read_text().startswith("sq=[1, 4, 9]")
    shell = run.steps["shell"]
    identity = shell.code_identities[-1]
    assert identity.code_identifier_type == "container-image" and identity.code_identifier.startswith("sha256:")
    assert identity.code_identifier_url == image
    print(f"container run: {elapsed:.1f} s for 5 task steps (max_workers 2)")

    # a local run of the same pipeline matches step for step
    local = execute("pipeline.yaml", "local.yaml", run_id="local", quiet=True)
    assert local.status == Status.SUCCESS
    assert summary(local) == (steps, parameters)


def test_a_missing_image_fails_the_step_with_a_clear_message(podman, write, workdir):
    write("steps.py", STEPS)
    write("pipeline.yaml", PIPELINE)
    write("config.yaml", config(podman["STEPLINE_TEST_IMAGE"]))
    write("pipeline.yaml", PIPELINE.replace(
        "command: steps.make,", "command: steps.make, overrides: {local-container: {docker_image: 'localhost/nope:1'}},"))
    run = execute("pipeline.yaml", "config.yaml", run_id="missing", quiet=True)
    assert run.status == Status.FAIL
    step = run.steps["make"]
    assert step.status == Status.FAIL
    assert step.message == ("step 'make': image 'localhost/nope:1' is not available to podman; "
                            "build or pull it first (podman pull localhost/nope:1)")
    assert step.attempts[-1].status == Status.FAIL


def test_a_container_that_cannot_start_fails_the_step(podman, write, workdir):
    write("steps.py", STEPS)
    write("pipeline.yaml", PIPELINE)
    write("config.yaml", config(podman["STEPLINE_TEST_IMAGE"], mounts="['/no/such/folder-xyz:/data']"))
    run = execute("pipeline.yaml", "config.yaml", run_id="nostart", quiet=True)
    step = run.steps["make"]
    assert run.status == Status.FAIL and step.status == Status.FAIL
    assert step.message.startswith("the container of step 'make' (image localhost/stepline-py:bookworm) "
                                   "could not start: Error: ")
    assert "/no/such/folder-xyz" in step.message and "\n" not in step.message


def test_a_killed_container_fails_the_step(podman, write, workdir):
    write("steps.py", STEPS)
    write("pipeline.yaml", """
        dag:
          start_at: slow
          steps:
            slow: {type: task, command: steps.slow, next: success}
            success: {type: success}
            fail: {type: fail}
    """)
    write("config.yaml", config(podman["STEPLINE_TEST_IMAGE"]))
    killed = []

    def kill_when_running():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            names = subprocess.run(check=False, args=["podman", "ps", "--format", "{{.Names}}", "--filter", "name=stepline-killme-slow"],
                                   capture_output=True, text=True).stdout.split()
            if names and (workdir / ".stepline").exists():
                time.sleep(1.5)  # let the step start and write its log
                subprocess.run(check=False, args=["podman", "kill", names[0]], capture_output=True)
                killed.append(names[0])
            time.sleep(0.3)

    killer = threading.Thread(target=kill_when_running)
    killer.start()
    run = execute("pipeline.yaml", "config.yaml", run_id="killme", quiet=True)
    killer.join()
    assert killed
    step = run.steps["slow"]
    assert run.status == Status.FAIL and step.status == Status.FAIL
    assert "the container of step 'slow' was killed (SIGKILL, exit 137)" in step.message


def test_sigterm_of_the_run_removes_its_running_container(podman, write, workdir):
    import os
    import signal
    import sys
    from pathlib import Path

    write("steps.py", STEPS)
    write("pipeline.yaml", """
        dag:
          start_at: slow
          steps:
            slow: {type: task, command: steps.slow, next: success}
            success: {type: success}
            fail: {type: fail}
    """)
    write("config.yaml", config(podman["STEPLINE_TEST_IMAGE"]))
    stepline = str(Path(sys.executable).parent / "stepline")
    process = subprocess.Popen([stepline, "execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "term"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def containers():
        return subprocess.run(check=False, args=["podman", "ps", "-a", "--format", "{{.Names}}", "--filter", "name=stepline-term-slow"],
                              capture_output=True, text=True).stdout.split()

    deadline = time.monotonic() + 60
    while not containers() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert containers(), "the step's container never started"
    time.sleep(1)
    os.kill(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, out + err
    assert containers() == []  # removed, not left running after the run stopped


class TestContainerExecutorContract(ExecutorContract):
    """The executor kit: the standard pipelines, every task step in a podman container, give the run
    log of a local run."""

    @pytest.fixture
    def executor_config(self, podman):
        return {"type": "local-container", "config": {"docker_image": podman["STEPLINE_TEST_IMAGE"], "max_workers": 2}}

    @pytest.fixture
    def kit_env(self, podman):
        return {**clean_env(), "CONTAINERS_CONF": podman["CONTAINERS_CONF"]}
