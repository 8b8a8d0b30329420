"""Example 80: per-step environments resolved from the real registry (PyPI), YAML and SDK forms.
uv's cache is kept per checkout (``.ci-state/uv-cache``); environments in the test's folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.envs.uv import find_uv

ROOT = Path(__file__).resolve().parent.parent
UV = find_uv() or str(Path.home() / ".local" / "bin" / "uv")


@pytest.fixture(autouse=True)
def _uv_is_installed():
    # `make setup` installs uv: a machine without it must fail here, not skip the example
    if not Path(UV).is_file():
        pytest.fail(f"uv is not installed at {UV} (run `make setup`)", pytrace=False)


@pytest.fixture
def env(tmp_path, cli):
    return cli.env(PATH=f"{Path(UV).parent}{os.pathsep}{os.environ['PATH']}",
                   UV_CACHE_DIR=str(ROOT / ".ci-state" / "uv-cache"), STEPLINE_ENVS_DIR=str(tmp_path / "envs"))


def test_80_two_versions_from_pypi_a_pep723_module_and_an_in_process_step(example, cli, env, tmp_path):
    folder = example("80-uv-environments")
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "uv-1", cwd=folder, env=env,
                   timeout=600)
    assert done.code == 0, done.output
    summary = "old step: tabulate 0.8.10; new step: tabulate 0.9.0; this step: no tabulate; report: 36.0 kB"
    assert summary in done.stdout
    assert "|   x |   x squared |" in done.stdout  # github format: tabulate 0.9's output, streamed

    log = cli.run_log("uv-1", folder)
    steps = log["steps"]
    assert steps["old"]["environment"]["packages"] == {"tabulate": "0.8.10"}
    assert steps["new"]["environment"]["packages"] == {"tabulate": "0.9.0"}
    assert steps["size"]["environment"]["source"] == "inline script metadata"
    assert steps["size"]["environment"]["packages"] == {"humanize": "4.10.0"}
    assert steps["summary"]["environment"] is None
    shown = cli.run("runs", "show", "uv-1", cwd=folder, env=env)
    assert "python" in shown.stdout and "tabulate==0.8.10" in shown.stdout

    # the SDK form builds the same graph and reuses the three environments
    sdk = subprocess.run([sys.executable, "pipeline.py"], cwd=folder, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert sdk.returncode == 0, sdk.stderr
    assert summary in sdk.stdout
    assert len([p for p in (tmp_path / "envs").iterdir() if p.is_dir()]) == 3
