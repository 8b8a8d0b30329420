"""The slurm executor against a real single-node Slurm cluster (tools/slurm.sh: Debian slurm-wlm +
munge on 127.0.0.1): a map and a parallel, a failing job, a cancelled job, a refused job and a job
killed by its time limit (Slurm's shortest limit is one minute, so that test takes 60-90 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from stepline.testing.cli import clean_env
from stepline.testing.executor import ExecutorContract

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "75-slurm"


def test_example_map_and_parallel_as_slurm_jobs_match_a_local_run(tmp_path, slurm, h):
    for name in ("pipeline.yaml", "config.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    (tmp_path / "local.yaml").write_text("run_log_store:\n  type: chunked-fs\n")
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "slurm-1", slurm)
    assert done.returncode == 0, done.stderr
    assert h.run_cli(tmp_path, "pipeline.yaml", "local.yaml", "local-1").returncode == 0
    batch, local = h.run_log(tmp_path, "config.yaml", "slurm-1"), h.run_log(tmp_path, "local.yaml", "local-1")
    assert h.shape(batch.steps) == h.shape(local.steps)
    assert h.values(batch) == h.values(local) == {"chunks": [1, 2, 3], "squared": 14, "left_value": 15,
                                                  "right_value": 2}
    jobs = tmp_path / ".stepline" / "jobs" / "slurm-1"
    assert "sum of squares: 14, left=15 right=2" in (jobs / "report.attempt-1.out").read_text()
    assert "#SBATCH --time=00:10:00" in (jobs / "fork.right.r1.attempt-1.sh").read_text()  # per-step override


PIPELINE = """dag:
  start_at: fork
  steps:
    fork:
      type: parallel
      branches:
        slow:
          start_at: slow
          steps:
            slow: {type: task, command_type: shell, command: 'sleep 120'}
        broken:
          start_at: broken
          steps:
            broken: {type: task, command_type: shell, command: 'echo "no input" >&2; exit 4'}
"""
CONFIG = """executor:
  type: slurm
  config: {poll_interval: 0.3, time: "00:05:00"}
run_log_store: {type: chunked-fs}
catalog: {type: file-system}
"""


def test_failing_job_and_cancelled_job_fail_their_steps_with_the_reason(tmp_path, slurm, h):
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "config.yaml").write_text(CONFIG)
    env = {**os.environ, **slurm}
    command = [h.STEPLINE, "execute", "-f", "pipeline.yaml", "-c", "config.yaml", "--run-id", "kill-1"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        script = str(tmp_path / ".stepline" / "jobs" / "kill-1" / "fork.slow.slow.attempt-1.sh")
        job = None
        for _ in range(200):  # bounded: 60 s
            listing = subprocess.run(["squeue", "-h", "-o", "%i %T %o"], env=env, capture_output=True, text=True,
                                     check=False).stdout
            running = [line.split()[0] for line in listing.splitlines() if line.endswith(script) and " RUNNING " in line]
            if running:
                job = running[0]
                break
            time.sleep(0.3)
        assert job, f"the slow job never ran: {listing}"
        time.sleep(2)  # let `stepline execute-single-node` start the step
        subprocess.run(["scancel", job], env=env, check=True)
        _, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 1, err
    log = h.run_log(tmp_path, "config.yaml", "kill-1")
    branches = log.steps["fork"].branches
    slow = branches["fork.slow"].steps["fork.slow.slow"]
    assert slow.status.value == "FAIL"
    assert f"job {job} cancelled" in slow.message and slow.attempts[-1].status.value == "FAIL"
    broken = branches["fork.broken"].steps["fork.broken.broken"]
    assert broken.status.value == "FAIL" and "4" in broken.message


def test_a_job_slurm_refuses_fails_its_step_with_sbatch_message(tmp_path, slurm, h):
    (tmp_path / "pipeline.yaml").write_text("""dag:
  start_at: a
  steps:
    a: {type: task, command_type: shell, command: 'true', overrides: {slurm: {partition: nosuch}}}
""")
    (tmp_path / "config.yaml").write_text(CONFIG)
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "refused-1", slurm, timeout=60)
    assert done.returncode == 1, done.stderr
    step = h.run_log(tmp_path, "config.yaml", "refused-1").steps["a"]
    assert step.status.value == "FAIL"
    assert "cannot submit step 'a': `sbatch --parsable" in step.message and "invalid partition" in step.message.lower()


def test_a_job_killed_by_its_time_limit_fails_its_step_with_that_reason(tmp_path, slurm, h):
    (tmp_path / "pipeline.yaml").write_text("""dag:
  start_at: slow
  steps:
    slow:
      type: task
      command_type: shell
      command: 'echo started; sleep 600'
      overrides: {slurm: {time: "00:01:00"}}
""")
    (tmp_path / "config.yaml").write_text(CONFIG)
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "timeout-1", slurm, timeout=240)
    assert done.returncode == 1, done.stderr
    jobs = tmp_path / ".stepline" / "jobs" / "timeout-1"
    assert "#SBATCH --time=00:01:00" in (jobs / "slow.attempt-1.sh").read_text()
    step = h.run_log(tmp_path, "config.yaml", "timeout-1").steps["slow"]
    assert step.status.value == "FAIL", step.message
    assert "killed by its time limit" in step.message and "(the step recorded: interrupted)" in step.message
    [attempt] = step.attempts  # the attempt the job was in, from its start to Slurm's SIGTERM
    assert attempt.status.value == "FAIL" and attempt.message == step.message
    ran = datetime.fromisoformat(attempt.end_time) - datetime.fromisoformat(attempt.start_time)
    assert ran.total_seconds() >= 50


class TestSlurmExecutorContract(ExecutorContract):
    """The executor kit: the standard pipelines, every task step a Slurm job, give the run log of a
    local run."""

    timeout = 600

    @pytest.fixture
    def executor_config(self, slurm):
        return {"type": "slurm", "config": {"poll_interval": 0.3, "time": "00:05:00", "max_workers": 4}}

    @pytest.fixture
    def kit_env(self, slurm):
        return {**clean_env(), **slurm}
