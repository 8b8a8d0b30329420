"""The pbs and pjsub executors end to end against fake `qsub`/`qstat` and `pjsub`/`pjstat` (tests/fakebin:
they run each job script in the background here and report it in the real commands' formats)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FAKEBIN = Path(__file__).parent / "fakebin"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "75-slurm" / "pipeline.yaml"
CONFIG = """executor:
  type: {type}
  config:
    partition: workq
    time: "00:05:00"
    poll_interval: 0.2
    lost_after_seconds: 1
run_log_store:
  type: chunked-fs
catalog:
  type: file-system
"""


def fake_env(tmp_path):
    return {"PATH": f"{FAKEBIN}{os.pathsep}{os.environ['PATH']}", "FAKE_SCHED_DIR": str(tmp_path / "sched")}


def test_map_and_parallel_as_jobs_match_a_local_run(tmp_path, h):
    kind = "pbs"
    shutil.copy(EXAMPLE, tmp_path / "pipeline.yaml")
    (tmp_path / "config.yaml").write_text(CONFIG.format(type=kind))
    (tmp_path / "local.yaml").write_text("run_log_store:\n  type: chunked-fs\n")
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "batch-1", fake_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert h.run_cli(tmp_path, "pipeline.yaml", "local.yaml", "local-1").returncode == 0
    batch, local = h.run_log(tmp_path, "config.yaml", "batch-1"), h.run_log(tmp_path, "local.yaml", "local-1")
    assert h.shape(batch.steps) == h.shape(local.steps)
    assert h.values(batch) == h.values(local) == {"chunks": [1, 2, 3], "squared": 14, "left_value": 15,
                                              "right_value": 2}
    scripts = sorted((tmp_path / "sched").glob("*.sh"))
    assert len(scripts) == 7  # one job per task step: chunks, 3 map items, 2 branches, report
    assert all("#PBS -q workq" in s.read_text() for s in scripts)


def test_pjsub_job_then_a_failing_job(tmp_path, h):
    (tmp_path / "pipeline.yaml").write_text("""dag:
  start_at: ok
  steps:
    ok: {type: task, command_type: shell, command: 'export n=5', returns: [n], next: boom}
    boom: {type: task, command_type: shell, command: 'echo "disk full" >&2; exit 7'}
""")
    (tmp_path / "config.yaml").write_text(CONFIG.format(type="pjsub"))
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "fail-1", fake_env(tmp_path))
    assert done.returncode == 1
    log = h.run_log(tmp_path, "config.yaml", "fail-1")
    assert log.steps["ok"].status.value == "SUCCESS" and h.values(log) == {"n": 5}
    step = log.steps["boom"]
    assert step.status.value == "FAIL" and "7" in step.message
    assert len(list((tmp_path / "sched").glob("*.sh"))) == 2  # a task failure is not resubmitted
    assert "#PJM -L rscgrp=workq" in (tmp_path / "sched" / "102.sh").read_text()


def test_vanished_job_fails_the_attempt_and_is_resubmitted(tmp_path, h):
    (tmp_path / "pipeline.yaml").write_text("""dag:
  start_at: lost
  steps:
    lost: {type: task, command_type: shell, command: 'true', max_attempts: 2}
""")
    (tmp_path / "config.yaml").write_text(CONFIG.format(type="pbs"))
    env = {**fake_env(tmp_path), "FAKE_SCHED_FORGET": "1"}
    done = h.run_cli(tmp_path, "pipeline.yaml", "config.yaml", "lost-1", env, timeout=60)
    assert done.returncode == 1
    assert "resubmitting (attempt 2 of 2)" in done.stderr
    step = h.run_log(tmp_path, "config.yaml", "lost-1").steps["lost"]
    assert step.status.value == "FAIL"
    assert [a.attempt_number for a in step.attempts] == [1, 2]
    assert all("vanished" in a.message for a in step.attempts)
    assert "job 102.fakeserver vanished" in step.message
