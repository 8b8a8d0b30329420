"""A run the state machine starts records its initial parameters, so ``stepline retry`` of it has them."""

from __future__ import annotations

import json
import os
import re
import subprocess

from sfn_helpers import render_prepared, write_config
from stepline.testing.cli import STEPLINE, clean_env
from stepline.testing.rerun import assert_retry_sees_initial_parameters, write_project

_ARGUMENT = re.compile(r"'((?:[^'\\]|\\.)*)'|(\$\$\.Execution\.Name)")


def command_of(state: dict, execution: str) -> list[str]:
    """The argv of a Task state's ``States.Array(...)`` command, for the execution named ``execution``."""
    expression = state["Parameters"]["ContainerOverrides"]["Command.$"]
    assert expression.startswith("States.Array(") and "States.Format" not in expression, expression
    return [execution if name else text.replace("\\'", "'") for text, name in _ARGUMENT.findall(expression)]


def test_a_retry_of_a_run_the_state_machine_started_has_its_initial_parameters(tmp_path):
    """Walk the rendered machine as Step Functions does (Next on success, Catch on failure), running each
    Task state's command for real; the callbacks read ``config.yaml``, here a run log on local files."""
    from stepline.run.prepare import prepare

    folder = write_project(tmp_path / "p", **{"config.yaml": "{}\n"})
    prepared = prepare(str(folder / "pipeline.yaml"), str(write_config(tmp_path)))
    machine = json.loads(render_prepared(prepared, params_file="params.yaml"))
    env = {**clean_env(), "STEPLINE_RUN_ID": "sfn-1"}
    visited, current = [], machine["StartAt"]
    while machine["States"][current]["Type"] == "Task":
        state = machine["States"][current]
        command = command_of(state, "sfn-1")
        done = subprocess.run([STEPLINE, *command[1:]], cwd=folder, env=env, timeout=120)
        visited.append(current)
        current = state["Next"] if done.returncode == 0 else state["Catch"][0]["Next"]
    assert visited == ["start run", "first", "second", "fail", "finish run (failed)"]
    assert machine["States"][current]["Type"] == "Fail"
    assert_retry_sees_initial_parameters(folder, "sfn-1")
