"""Configuration: the shared-filesystem stance in the integration check, per-step overrides."""

from __future__ import annotations

import pytest
from stepline.errors import StepLineError


def check(tmp_path, executor_config: str, store: str):
    from stepline.runtime import prepare

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
