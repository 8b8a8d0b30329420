"""End-to-end test helpers: run the ``stepline`` command as a user does, in a copy of an example.

A backend package checks its example this way, against its real server::

    from stepline.testing.cli import clean_env, copy_example, run_log_json, stepline

    def test_example_on_my_backend(tmp_path):
        folder = copy_example(EXAMPLES / "40-my-backend", tmp_path)
        env = {**clean_env("MYBACKEND_"), "MYBACKEND_URL": server_url}
        done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "e2e",
                        cwd=folder, env=env)
        assert done.returncode == 0, done.stderr
        assert run_log_json("e2e", "config.yaml", cwd=folder, env=env)["status"] == "SUCCESS"
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The ``stepline`` command of the running interpreter's environment.
STEPLINE = str(Path(sys.executable).with_name("stepline"))


def copy_example(example: Path, into: Path) -> Path:
    """A copy of the ``example`` folder under ``into`` (without earlier runs' state), to run in."""
    target = into / example.name
    shutil.copytree(example, target, ignore=shutil.ignore_patterns(".stepline", "__pycache__", "data"))
    return target


def clean_env(*prefixes: str) -> dict[str, str]:
    """This process's environment without Stepline's variables (``STEPLINE_*``, ``RUNNABLE_*``) and
    without those starting with ``prefixes`` (a backend's own settings), so a test sets exactly
    what it means to."""
    dropped = ("STEPLINE_", "RUNNABLE_", *prefixes)
    return {k: v for k, v in os.environ.items() if not k.startswith(dropped)}


def stepline(*args: str, cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``stepline ARGS`` in ``cwd``; its exit code, stdout and stderr (never raises on failure)."""
    return subprocess.run([STEPLINE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_log_json(run_id: str, config: str | None, *, cwd: Path,
                 env: dict[str, str] | None = None) -> dict[str, Any]:
    """The run log of ``run_id`` as ``stepline runs show --json`` prints it."""
    args = ["runs", "show", run_id, "--json", *(["-c", config] if config else [])]
    shown = stepline(*args, cwd=cwd, env=env)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)
