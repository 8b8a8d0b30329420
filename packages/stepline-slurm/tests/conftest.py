"""Helpers: run a pipeline with the `stepline` CLI of this venv in a temporary folder and read its
run log back; the real single-node Slurm cluster of tools/slurm.sh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
STEPLINE = str(Path(sys.executable).with_name("stepline"))


@pytest.fixture(scope="session")
def slurm(services):
    """{"SLURM_CONF": ...} of the running single-node cluster."""
    return services.start("slurm")


def run_cli(folder: Path, pipeline: str, config: str | None, run_id: str, env: dict | None = None,
            timeout: float = 120):
    command = [STEPLINE, "execute", "-f", pipeline, "--run-id", run_id, "--no-progress"]
    if config:
        command += ["-c", config]
    return subprocess.run(command, check=False, cwd=folder, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def run_log(folder: Path, config: str | None, run_id: str):
    from stepline.config.loader import load_services

    here = os.getcwd()
    os.chdir(folder)
    try:
        return load_services(config).run_log_store.get_run_log(run_id)
    finally:
        os.chdir(here)


def shape(steps) -> dict:
    """Statuses of every step and branch, nested (what must match between executors)."""
    return {name: (step.status.value, {key: shape(branch.steps) for key, branch in step.branches.items()})
            for name, step in steps.items()}


def values(log) -> dict:
    return {name: p.value for name, p in log.parameters.items()}


class Helpers:
    REPO = REPO
    STEPLINE = STEPLINE
    run_cli = staticmethod(run_cli)
    run_log = staticmethod(run_log)
    shape = staticmethod(shape)
    values = staticmethod(values)


@pytest.fixture
def h():
    """The helpers above (test modules cannot import conftest under importlib import mode)."""
    return Helpers
