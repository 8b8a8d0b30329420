"""The demo-renderer's script: quoting, determinism, routing, on odd step names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stepline.run.execute import render

STEPLINE_DIR = str(Path(sys.executable).parent)

PIPELINE = """
dag:
  start_at: "it's $HOME `x`"
  steps:
    "it's $HOME `x`":
      type: task
      command_type: shell
      command: 'exit 1'
      on_failure: "pick; rm -rf /"
    "pick; rm -rf /":
      type: parallel
      branches:
        "a b":
          start_at: "\\"q\\""
          steps:
            "\\"q\\"": {type: stub}
        "c*":
          start_at: s
          steps:
            s: {type: stub}
"""


def test_odd_names_are_quoted_and_routed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "my config.yaml").write_text("executor:\n  type: demo-renderer\n  config:\n    output_file: out/run.sh\n")
    written = render("pipeline.yaml", "my config.yaml")
    assert written == "out/run.sh"
    text = Path(written).read_text()
    assert render("pipeline.yaml", "my config.yaml") and Path(written).read_text() == text
    assert "FILES=(-f pipeline.yaml -c 'my config.yaml')" in text
    assert subprocess.run(["bash", "-n", written]).returncode == 0
    env = {**os.environ, "PATH": STEPLINE_DIR + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(["bash", written, "odd-1"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    from stepline.config.loader import load_services

    log = load_services("my config.yaml").run_log_store.get_run_log("odd-1")
    assert log.status.value == "SUCCESS"
    assert log.steps["it's $HOME `x`"].status.value == "FAIL"
    fork = log.steps["pick; rm -rf /"]
    assert fork.status.value == "SUCCESS"
    assert fork.branches['pick; rm -rf /.a b'].steps['pick; rm -rf /.a b."q"'].status.value == "SUCCESS"
    assert set(fork.branches) == {"pick; rm -rf /.a b", "pick; rm -rf /.c*"}


def test_a_retry_of_a_rendered_run_starts_with_its_initial_parameters(tmp_path):
    from stepline.testing.cli import clean_env, stepline
    from stepline.testing.rerun import assert_retry_sees_initial_parameters, write_project

    folder = write_project(tmp_path / "p", **{"demo.yaml": "executor:\n  type: demo-renderer\n"})
    rendered = stepline("execute", "pipeline.yaml", "-c", "demo.yaml", "-p", "params.yaml", cwd=folder, env=clean_env())
    assert rendered.returncode == 0, rendered.stderr
    env = {**clean_env(), "PATH": STEPLINE_DIR + os.pathsep + os.environ["PATH"]}
    ran = subprocess.run(["bash", "run.sh", "demo-1"], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 1 and "x=41" in ran.stdout + ran.stderr, ran.stderr
    assert_retry_sees_initial_parameters(folder, "demo-1")
