from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working folder (run logs and catalog go under its .stepline/)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(workdir):
    def _write(name: str, text: str) -> Path:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    return _write


@pytest.fixture(autouse=True)
def _no_param_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith(("STEPLINE_PRM_", "RUNNABLE_PRM_", "STEPLINE_CONFIGURATION_FILE", "RUNNABLE_CONFIGURATION_FILE",
                           "STEPLINE_PARAMETERS_FILE", "RUNNABLE_PARAMETERS_FILE", "STEPLINE_RUN_ID", "RUNNABLE_RUN_ID",
                           "STEPLINE_RETRY_RUN_ID", "RUNNABLE_RETRY_RUN_ID")):
            monkeypatch.delenv(key)
