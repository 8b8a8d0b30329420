"""Helpers for tests that run the ``stepline`` CLI as a subprocess, the way a user does."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from stepline.testing import cli as testing_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without Stepline settings that would change a run, plus ``extra``."""
    return {**testing_cli.clean_env(), **extra}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def stepline(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    done = testing_cli.stepline(*args, cwd=cwd, env=env or clean_env(), timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


def run_log(run_id: str, cwd: Path, *config: str) -> dict:
    """The whole run log, as ``stepline runs show RUN_ID --json`` prints it."""
    shown = stepline("runs", "show", run_id, "--json", *config, cwd=cwd)
    assert shown.code == 0, shown.stderr
    return json.loads(shown.stdout)


class Cli:
    """What a test needs to drive the CLI: ``cli.run(...)``, ``cli.run_log(...)``, ``cli.env(...)``."""

    env = staticmethod(clean_env)
    run = staticmethod(stepline)
    run_log = staticmethod(run_log)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def example(tmp_path):
    """Copy an example folder into tmp_path (so nothing is written into the repository)."""

    def _copy(name: str) -> Path:
        source = EXAMPLES / name
        assert source.is_dir(), f"no example {name}"
        target = tmp_path / name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".stepline", "__pycache__"))
        return target

    return _copy
