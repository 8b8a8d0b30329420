"""A step with ``uv:`` under local-container: uv must be in the image, which is not checked before the
run, so validate warns instead of failing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STEPLINE = str(Path(sys.executable).with_name("stepline"))


def test_validate_warns_that_the_image_needs_uv(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("""
dag:
  start_at: one
  steps:
    one: {type: task, command_type: shell, command: 'true', uv: {dependencies: [six]}, next: success}
    success: {type: success}
""")
    (tmp_path / "config.yaml").write_text("executor:\n  type: local-container\n  config: {docker_image: my-image}\n")
    done = subprocess.run([STEPLINE, "validate", "pipeline.yaml", "-c", "config.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "warning: step 'one': a step with uv: builds its environment in the container: the image " \
           "'my-image' must have uv" in done.stderr
