"""examples/70-mixed-executors: local, container (podman) and emulator steps in one run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
STEPLINE = str(Path(sys.executable).parent / "stepline")


def test_mixed_executors_example(podman, tmp_path):
    folder = tmp_path / "70"
    shutil.copytree(ROOT / "examples" / "70-mixed-executors", folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STEPLINE_", "RUNNABLE_"))}
    env.update(CONTAINERS_CONF=podman["CONTAINERS_CONF"], STEPLINE_IMAGE=podman["STEPLINE_TEST_IMAGE"])
    done = subprocess.run(check=False, args=[STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "mixed"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = subprocess.run(check=False, args=[STEPLINE, "runs", "show", "mixed", "--json", "-c", "config.yaml"], cwd=folder,
                           env=env, capture_output=True, text=True, timeout=60)
    log = json.loads(shown.stdout)
    params = {k: p["value"] for k, p in log["parameters"].items()}
    assert params["total"] == 385
    assert params["home"].startswith("process ")
    assert params["heavy_ran_in"].startswith("container ")  # podman's environment, its own hostname
    assert params["isolated_ran_in"].startswith("process ") and params["isolated_ran_in"] != params["home"]
    heavy = log["steps"]["heavy"]["code_identities"][-1]
    assert heavy["code_identifier_type"] == "container-image" and heavy["code_identifier_url"] == podman["STEPLINE_TEST_IMAGE"]
    assert all(i["code_identifier_type"] != "container-image" for i in log["steps"]["isolated"]["code_identities"])
    assert log["run_config"]["executors"]["container"]["type"] == "local-container"
    assert f"total=385 heavy={params['heavy_ran_in']}" in done.stdout
