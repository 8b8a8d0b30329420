"""`stepline new-backend` for every kind: the package it writes, installed beside the core (from
this checkout, with the `testing` extra) in a fresh uv venv, passes its own contract tests, is
listed by `stepline plugins`, and its example pipeline runs with it — with no change to the core.
One venv holds every kind's package (one install, ~7 s with uv's cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.scaffold import TEMPLATES

CORE = Path(__file__).resolve().parents[1]
STEPLINE = str(Path(sys.executable).with_name("stepline"))


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed (make setup installs it)"
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, {kind: package folder}) with every kind's package installed."""
    root = tmp_path_factory.mktemp("new-backend")
    packages = {}
    for kind in TEMPLATES:
        folder = root / kind
        done = subprocess.run([STEPLINE, "new-backend", kind, f"kit-{kind}", str(folder)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        packages[kind] = folder
    uv, venv = _uv(), root / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"{CORE}[testing]",
               *(str(p) for p in packages.values())]
    # offline from uv's cache when it holds everything; otherwise from the index
    if subprocess.run([*install, "--offline"], capture_output=True, check=False).returncode != 0:
        subprocess.run(install, check=True)
    return venv / "bin", packages


def _env(bin_folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPLINE_", "VIRTUAL_ENV", "PYTHONPATH"))}
    return {**env, "PATH": f"{bin_folder}{os.pathsep}{env.get('PATH', '')}"}


def test_every_package_passes_its_contract_tests(installed):
    bin_folder, packages = installed
    done = subprocess.run([str(bin_folder / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--import-mode=importlib", *(str(p / "tests") for p in packages.values())],
                          capture_output=True, text=True, env=_env(bin_folder), timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


def test_stepline_plugins_lists_every_package(installed):
    bin_folder, _ = installed
    done = subprocess.run([str(bin_folder / "stepline"), "plugins"], capture_output=True, text=True,
                          env=_env(bin_folder), check=False)
    assert done.returncode == 0, done.stderr
    for kind, spec in TEMPLATES.items():
        line = next(line for line in done.stdout.splitlines() if f" kit-{kind} " in line)
        assert line.split()[:4] == [spec.section, f"kit-{kind}", f"stepline-kit-{kind}", "0.1.0"]


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_the_example_pipeline_runs_with_the_new_backend(installed, kind):
    bin_folder, packages = installed
    example, stepline = packages[kind] / "example", str(bin_folder / "stepline")
    done = subprocess.run([stepline, "execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "ex"],
                          cwd=example, capture_output=True, text=True, env=_env(bin_folder), timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run([stepline, "runs", "show", "ex", "--json", "-c", "config.yaml"], cwd=example,
                           capture_output=True, text=True, env=_env(bin_folder), check=True)
    log = json.loads(shown.stdout)
    assert log["status"] == "SUCCESS"
    assert log["run_config"][TEMPLATES[kind].section]["type"] == f"kit-{kind}"


def test_bad_input_is_one_line(tmp_path):
    done = subprocess.run([STEPLINE, "new-backend", "catalogue", "x", str(tmp_path / "x")],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (2, "error: unknown backend kind 'catalogue' (did you mean 'catalog'?)\n")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("")
    done = subprocess.run([STEPLINE, "new-backend", "catalog", "x", str(tmp_path / "taken")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "exists and is not an empty folder" in done.stderr
