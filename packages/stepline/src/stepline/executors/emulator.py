"""The emulator executor: traverses here, and runs every leaf step as a separate
``stepline execute-single-node`` process — the exact code path containers, Slurm, Argo and
Step Functions use — so the remote path can be tested on one machine."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from stepline.component import Locality
from stepline.executors.local import LocalExecutor, LocalSettings
from stepline.runlog.models import Status


class EmulatorSettings(LocalSettings):
    pass


def single_node_command(run, internal_name: str) -> list[str]:
    """The ``stepline execute-single-node`` call that runs one step of ``run``."""
    command = ["stepline", "execute-single-node", run.run_id, internal_name, "-f", run.pipeline_file]
    if run.config_file:
        command += ["-c", run.config_file]
    return command


class EmulatorExecutor(LocalExecutor):
    name: ClassVar[str] = "emulator"
    runs_steps_in: ClassVar[Locality] = Locality.MACHINE
    Settings: ClassVar[type] = EmulatorSettings

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        from stepline.executors.step_context import execute_step

        if node.type != "task":
            return execute_step(run, node, internal_name, branch=branch).status
        command = single_node_command(run, internal_name)
        executable = str(Path(sys.executable).with_name("stepline"))
        from functools import partial

        from stepline.executors.local import die_with_parent

        done = subprocess.run([executable, *command[1:]], stdin=subprocess.DEVNULL,
                              env={**os.environ, "STEPLINE_RUN_ID": run.run_id},
                              preexec_fn=partial(die_with_parent, os.getpid()))  # no orphan writing after a crash
        step = run.store.get_step_log(run.run_id, internal_name)
        if step is None or step.status == Status.PROCESSING:
            from stepline.executors.step_context import record_lost

            why = f"`{shlex.join(command)}` exited {done.returncode} without recording the step"
            return record_lost(run, node, internal_name, why).status
        return step.status
