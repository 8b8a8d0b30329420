"""The batch executors' check before a run: a step with ``uv:`` needs uv where the jobs run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STEPLINE = str(Path(sys.executable).with_name("stepline"))
PIPELINE = """
dag:
  start_at: one
  steps:
    one: {type: task, command_type: shell, command: 'true', uv: {dependencies: [six]}, next: success}
    success: {type: success}
"""


@pytest.mark.parametrize("executor", ["slurm", "pbs", "pjsub"])
def test_validate_says_when_uv_is_missing(tmp_path, executor):
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "config.yaml").write_text(f"executor: {{type: {executor}}}\n")
    done = subprocess.run([STEPLINE, "validate", "pipeline.yaml", "-c", "config.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 2
    assert f"step 'one': uv is not installed on this machine, where the {executor} executor runs steps" in done.stderr
