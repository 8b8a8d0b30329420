"""A re-run of a run that a rendered workflow started: the check every renderer's tests share.

A renderer's workflow starts its run with the ``start-run`` callback. That run must record its
initial parameters exactly as ``stepline execute`` does, or ``stepline retry`` starts without them.
The scenario: a two-step shell pipeline whose second step prints ``x=$x`` (``x: 41`` from the
parameters file) and fails the first time it runs. A renderer's test writes the project with
:func:`write_project`, starts and runs the run through its rendered callbacks, then calls
:func:`assert_retry_sees_initial_parameters`.
"""

from __future__ import annotations

from pathlib import Path

from stepline.testing.cli import clean_env, run_log_json, stepline

PIPELINE = """\
dag:
  start_at: first
  steps:
    first:
      type: task
      command_type: shell
      command: 'echo first'
      next: second
    second:
      type: task
      command_type: shell
      command: 'echo "x=$x"; [ -e second-ran-once ] || { touch second-ran-once; exit 1; }'
      next: success
    success: {type: success}
    fail: {type: fail}
"""
PARAMETERS = "x: 41\n"


def write_project(folder: Path, **files: str) -> Path:
    """``pipeline.yaml`` and ``params.yaml`` of the scenario in ``folder``, plus ``files`` (name: text)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(PIPELINE)
    (folder / "params.yaml").write_text(PARAMETERS)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def assert_retry_sees_initial_parameters(folder: Path, run_id: str, config: str | None = None) -> None:
    """The run ``run_id`` (started by a rendered workflow, its second step failed) recorded its initial
    parameters, and ``stepline retry`` of it runs the second step again with ``x=41``. ``config``:
    a configuration whose executor traverses (retry does not render) and that reads the same run log."""
    env = clean_env()
    with_config = ["-c", config] if config else []
    original = run_log_json(run_id, config, cwd=folder, env=env)
    assert original["status"] == "FAIL", original["status"]
    assert original["initial_parameters"] == {"x": {"kind": "json", "value": 41}}
    done = stepline("retry", run_id, *with_config, "--run-id", f"{run_id}-again", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "x=41" in done.stdout + done.stderr
    again = run_log_json(f"{run_id}-again", config, cwd=folder, env=env)
    assert again["status"] == "SUCCESS"
    assert again["steps"]["first"]["message"].startswith("skipped: succeeded in run ")
    assert again["steps"]["second"]["status"] == "SUCCESS"
