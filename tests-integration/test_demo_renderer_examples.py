"""End to end through the orchestration callbacks: render every example with the demo-renderer,
run the bash script, and compare its run log with a local run of the same example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

STEPLINE = str(Path(sys.executable).parent / "stepline")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPLINE_", "RUNNABLE_"))}
    env.update(extra)
    return env


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The core examples and the composite ones (10-14 join once they exist; 60-64 are the orchestration set).
NAMES = sorted(p.name for p in EXAMPLES.iterdir()
               if p.is_dir() and p.name[:2] in {"01", "02", "03", "04", "05", "06", "10", "11", "12", "13", "14",
                                                 "60", "61", "62", "63", "64"})


def outline(log: dict) -> dict:
    """What must match between runs: every step's and branch's status, by dotted path."""
    found: dict[str, str] = {}

    def steps(records: dict) -> None:
        for name, step in records.items():
            found[name] = step["status"]
            for branch_name, branch in (step.get("branches") or {}).items():
                found[branch_name] = branch["status"]
                steps(branch["steps"])

    steps(log["steps"])
    return found


def prepare(tmp_path: Path, name: str, kind: str) -> tuple[Path, list[str]]:
    folder = tmp_path / kind / name
    shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns(".stepline", "run.sh", "*.yaml.out"))
    config = yaml.safe_load((folder / "config.yaml").read_text()) if (folder / "config.yaml").exists() else {}
    config = config or {}
    config["executor"] = {"type": "demo-renderer"} if kind == "demo" else {"type": "local"}
    (folder / "test-config.yaml").write_text(yaml.safe_dump(config))
    args = ["-c", "test-config.yaml"] + (["-p", "params.yaml"] if (folder / "params.yaml").exists() else [])
    return folder, args


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([STEPLINE, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120)


def read_log(folder: Path, run_id: str, why: str = "") -> dict:
    import json

    shown = run_cli("runs", "show", run_id, "--json", "-c", "test-config.yaml", cwd=folder)
    assert shown.returncode == 0, shown.stderr + why
    return json.loads(shown.stdout)


@pytest.mark.parametrize("name", NAMES)
def test_rendered_script_records_what_a_local_run_records(tmp_path, name):
    local, args = prepare(tmp_path, name, "local")
    ran = run_cli("execute", "pipeline.yaml", *args, "--run-id", "run-1", "--no-progress", cwd=local)
    expected = read_log(local, "run-1", ran.stdout + ran.stderr)

    demo, args = prepare(tmp_path, name, "demo")
    rendered = run_cli("execute", "pipeline.yaml", *args, cwd=demo)
    assert rendered.returncode == 0, rendered.stderr
    assert "to run.sh" in rendered.stderr
    assert not (demo / ".stepline" / "runs").exists()  # rendering creates no run log
    env = clean_env(PATH=f"{Path(STEPLINE).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    script = subprocess.run(["bash", "run.sh", "run-1"], cwd=demo, env=env, capture_output=True, text=True,
                            timeout=300)
    got = read_log(demo, "run-1", script.stdout + script.stderr)

    assert script.returncode == ran.returncode, script.stderr
    assert got["status"] == expected["status"]
    assert outline(got) == outline(expected), script.stderr
    assert got["parameters"] == expected["parameters"]
    assert got["run_config"]["executor"]["type"] == "demo-renderer"


def test_script_makes_a_run_id_and_every_value_is_quoted(tmp_path):
    folder, args = prepare(tmp_path, "61-parallel", "demo")
    assert run_cli("execute", "pipeline.yaml", *args, cwd=folder).returncode == 0
    text = (folder / "run.sh").read_text()
    assert "FILES=(-f pipeline.yaml -c test-config.yaml)" in text
    # the same pipeline renders to the same bytes
    assert run_cli("execute", "pipeline.yaml", *args, cwd=folder).returncode == 0
    assert (folder / "run.sh").read_text() == text
    env = clean_env(PATH=f"{Path(STEPLINE).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    script = subprocess.run(["bash", "run.sh"], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert script.returncode == 0, script.stderr
    run_id = next(line.split(": ")[1] for line in script.stderr.splitlines() if line.startswith("run id: "))
    assert read_log(folder, run_id)["status"] == "SUCCESS"
