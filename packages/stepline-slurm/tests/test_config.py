"""Configuration: the shared-filesystem stance in the integration check, per-step overrides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stepline.errors import StepLineError

STEPLINE = str(Path(sys.executable).with_name("stepline"))


def check(tmp_path, executor_config: str, store: str):
    from stepline.run.prepare import prepare

    (tmp_path / "pipeline.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a: {type: stub}\n")
    (tmp_path / "config.yaml").write_text(f"executor:\n  type: slurm\n  config: {executor_config}\n"
                                          f"run_log_store:\n  type: {store}\n")
    return prepare(str(tmp_path / "pipeline.yaml"), str(tmp_path / "config.yaml"))


def test_shared_filesystem_decides_whether_local_files_reach_the_nodes(tmp_path):
    assert check(tmp_path, "{}", "chunked-fs")  # default: files are shared with the compute nodes
    with pytest.raises(StepLineError, match="runs steps on other machines.*chunked-fs.*reachable from this machine"):
        check(tmp_path, "{shared_filesystem: false}", "chunked-fs")
    with pytest.raises(StepLineError, match="reachable from this process"):
        check(tmp_path, "{}", "buffered")


def test_step_overrides_are_validated_and_merged():
    from stepline.pipeline.nodes import TaskNode
    from stepline_slurm.executor import PBSExecutor, SlurmExecutor

    executor = SlurmExecutor.from_config({"partition": "cpu", "time": "00:10:00"})
    node = TaskNode.model_validate({"type": "task", "command": "true", "command_type": "shell",
                                    "overrides": {"slurm": {"partition": "gpu", "gres": "gpu:1"}}})
    spec = executor.job_spec(node, "train")
    assert (spec.partition, spec.time, spec.gres) == ("gpu", "00:10:00", "gpu:1")
    node.overrides = {"slurm": {"partiton": "gpu"}}
    with pytest.raises(StepLineError, match="step 'train': overrides.slurm.partiton"):
        executor.job_spec(node, "train")
    node.overrides = {"pbs": {"gres": "gpu:1"}}
    with pytest.raises(StepLineError, match="gres with the pbs executor"):
        PBSExecutor.from_config({}).job_spec(node, "train")


def test_a_bad_step_override_stops_the_run_before_its_first_step(tmp_path):
    # the step with the typo is inside a map, after a step that would otherwise have run first
    (tmp_path / "pipeline.yaml").write_text("""dag:
  start_at: first
  steps:
    first: {type: task, command_type: shell, command: 'touch ran', next: fan}
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: train
        steps:
          train: {type: task, command_type: shell, command: 'true', overrides: {slurm: {partiton: gpu}}}
""")
    (tmp_path / "config.yaml").write_text("executor: {type: slurm}\n")
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: pipeline.yaml: step 'fan.") and "train': overrides.slurm.partiton" in line
    assert line.endswith("(did you mean 'partition'?)")
    assert not (tmp_path / "ran").exists() and not (tmp_path / ".stepline" / "runs").exists()
