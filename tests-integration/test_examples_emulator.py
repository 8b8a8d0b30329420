"""Every core example (01-06) and composite example (10-14) under the emulator executor — each leaf
step a separate ``stepline execute-single-node`` process, the path containers, Slurm, Argo and Step
Functions use — gives the same run log as under the local executor: run and step statuses
(branches included), attempts, messages and parameters."""

from __future__ import annotations

import pytest
from stepline.testing.executor import outcome

#: 02, 04 and 05 are compared, catalog hashes included, by test_examples_core.py
EXAMPLES = ["01-hello-shell", "03-on-failure", "06-retries", "10-parallel", "11-map", "12-conditional",
            "13-loop", "14-nested-dag"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_the_same_under_the_emulator(example, cli, name):
    folder = example(name)
    args = ["-p", "params.yaml"] if (folder / "params.yaml").exists() else []
    base = (folder / "config.yaml").read_text() if (folder / "config.yaml").exists() else ""
    (folder / "local.yaml").write_text(base)
    (folder / "emulator.yaml").write_text(base + "executor:\n  type: emulator\n")
    local = cli.run("execute", "pipeline.yaml", "-c", "local.yaml", *args, "--run-id", "loc", cwd=folder)
    emulated = cli.run("execute", "pipeline.yaml", "-c", "emulator.yaml", *args, "--run-id", "emu", cwd=folder,
                       timeout=180)
    assert local.code == emulated.code, emulated.output
    assert sorted(local.stdout.splitlines()) == sorted(emulated.stdout.splitlines())  # same task output
    log_local, log_emulated = cli.run_log("loc", folder), cli.run_log("emu", folder)
    assert log_emulated["run_config"]["executor"]["type"] == "emulator"
    assert outcome(log_emulated) == outcome(log_local)
