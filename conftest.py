"""Test-wide fixtures: real servers started from tools/ and stopped at the end of the session.

Each ``tools/NAME.sh start`` is idempotent, binds 127.0.0.1 only, and prints ``KEY=VALUE``
lines (connection settings) on stdout; ``tools/NAME.sh stop`` stops what ``start`` started.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


class Services:
    def __init__(self) -> None:
        self.started: dict[str, dict[str, str]] = {}

    def start(self, name: str) -> dict[str, str]:
        """Start ``tools/NAME.sh`` (once per session) and return the settings it printed."""
        if name not in self.started:
            script = ROOT / "tools" / f"{name}.sh"
            done = subprocess.run(["bash", str(script), "start"], cwd=ROOT, capture_output=True,
                                  text=True, timeout=900)
            if done.returncode != 0:
                pytest.fail(f"tools/{name}.sh start failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
            env = {}
            for line in done.stdout.splitlines():
                key, sep, value = line.partition("=")
                if sep and key.isupper() and " " not in key:
                    env[key] = value
            self.started[name] = env
        return self.started[name]

    def stop_all(self) -> None:
        if os.environ.get("STEPLINE_KEEP_SERVICES"):
            return
        for name in reversed(list(self.started)):
            subprocess.run(["bash", str(ROOT / "tools" / f"{name}.sh"), "stop"], cwd=ROOT,
                           capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def services():
    """``services.start("postgres")`` -> {"PG_URL": ...}; everything started is stopped at the end."""
    found = Services()
    yield found
    found.stop_all()
