from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def podman(services):
    """Podman with the offline test image (tools/podman.sh); CONTAINERS_CONF is set for the session."""
    env = services.start("podman")
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    return env


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("STEPLINE_PRM_", "STEPLINE_CONFIGURATION_FILE")):
            monkeypatch.delenv(key)
    return tmp_path


@pytest.fixture
def write(workdir):
    def _write(name: str, text: str) -> Path:
        path = workdir / name
        path.write_text(textwrap.dedent(text))
        return path

    return _write
