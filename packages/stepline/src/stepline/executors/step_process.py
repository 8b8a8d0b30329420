"""The base of executors that run each task step in a process of its own (emulator, containers,
batch schedulers): traverse here, spawn ``stepline execute-single-node`` for a step, wait for it,
and read back what it recorded; a step whose process ends without recording it is recorded lost."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import ClassVar

from stepline.component import Locality
from stepline.executors.local import LocalExecutor, die_with_parent
from stepline.orchestration.render import single_node_command
from stepline.runlog.models import Status


def step_command(run, internal_name: str) -> list[str]:
    """The ``stepline execute-single-node`` call that runs step ``internal_name`` of ``run``."""
    return single_node_command(run.run_id, internal_name, run.pipeline_file, run.config_file)


class StepProcessExecutor(LocalExecutor):
    """Runs every task step as ``stepline execute-single-node`` in a process of its own; stubs and
    composites stay in the traversing process.

    A subclass changes where the step's process runs with one method, :meth:`wrap_command`: prefix
    the command (``nice -n 10``, ``srun --ntasks 1``) or replace it (``podman run IMAGE ...``). The
    rest is shared: spawning the process (it dies with this one), waiting for it, and reading the
    step's outcome from the run log; a step the process did not record is recorded as lost, with
    the command and its exit code, so a killed step is never left PROCESSING.
    """

    runs_steps_in: ClassVar[Locality] = Locality.MACHINE

    def wrap_command(self, run, node, internal_name: str, command: list[str]) -> list[str]:
        """The argv that runs ``command`` (a ``stepline execute-single-node`` call, its first item
        the ``stepline`` executable of this environment) where the step should run. The default
        runs it as it is, on this machine."""
        return command

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        from stepline.executors.step_context import execute_step, record_lost

        if node.type != "task":
            return execute_step(run, node, internal_name, branch=branch).status
        command = step_command(run, internal_name)
        command[0] = str(Path(sys.executable).with_name("stepline"))
        argv = self.wrap_command(run, node, internal_name, command)
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, env={**os.environ, "STEPLINE_RUN_ID": run.run_id},
                              preexec_fn=partial(die_with_parent, os.getpid()), check=False)  # no orphan after a crash
        step = run.store.get_step_log(run.run_id, internal_name)
        if step is None or step.status == Status.PROCESSING:
            shown = shlex.join(["stepline", *command[1:]] if argv == command else argv)
            why = f"`{shown}` exited {done.returncode} without recording the step"
            return record_lost(run, node, internal_name, why).status
        return step.status
