"""The base of executors that run each task step in a process of its own (emulator, containers,
batch schedulers): traverse here, spawn ``stepline execute-single-node`` for a step, wait for it,
and read back what it recorded; a step whose process ends without recording it is recorded lost."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
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
    the command and its exit code, so a killed step is never left PROCESSING. A subclass whose
    wrapper says more may override :meth:`lost_reason` (set ``keeps_stderr`` to get the last
    ``error`` line the process wrote) and :meth:`stop` (clean up what killing the process leaves).
    """

    runs_steps_in: ClassVar[Locality] = Locality.MACHINE
    #: Pipe the step process's stderr through this one, keeping its last ``error`` line for
    #: :meth:`lost_reason` (the default leaves stderr untouched).
    keeps_stderr: ClassVar[bool] = False

    def wrap_command(self, run, node, internal_name: str, command: list[str]) -> list[str]:
        """The argv that runs ``command`` (a ``stepline execute-single-node`` call, its first item
        the ``stepline`` executable of this environment) where the step should run. The default
        runs it as it is, on this machine."""
        return command

    def lost_reason(self, run, node, internal_name: str, command: list[str], argv: list[str],
                    exit_code: int, error: str) -> str:
        """Why the step's process (``argv``, wrapping ``command``) ended with ``exit_code`` without
        recording the step; ``error`` is its last error line (with ``keeps_stderr``, else "")."""
        shown = shlex.join(["stepline", *command[1:]] if argv == command else argv)
        return f"`{shown}` exited {exit_code} without recording the step"

    def stop(self, run, node, internal_name: str, argv: list[str]) -> None:
        """Called when this run is interrupted while ``argv`` runs, after the process is killed:
        remove what the kill leaves behind (a container). The default has nothing to remove."""

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        from stepline.executors.step_context import execute_step, record_lost

        if node.type != "task":
            return execute_step(run, node, internal_name, branch=branch).status
        command = step_command(run, internal_name)
        command[0] = str(Path(sys.executable).with_name("stepline"))
        argv = self.wrap_command(run, node, internal_name, command)
        exit_code, error = self._spawn(run, node, internal_name, argv)
        step = run.store.get_step_log(run.run_id, internal_name)
        if step is None or step.status == Status.PROCESSING:
            why = self.lost_reason(run, node, internal_name, command, argv, exit_code, error)
            return record_lost(run, node, internal_name, why).status
        return step.status

    def _spawn(self, run, node, internal_name: str, argv: list[str]) -> tuple[int, str]:
        lines: list[str] = []
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env={**os.environ, "STEPLINE_RUN_ID": run.run_id},
                                   stderr=subprocess.PIPE if self.keeps_stderr else None,
                                   preexec_fn=partial(die_with_parent, os.getpid()))  # noqa: PLW1509 - only prctl: no orphan after a crash
        reader = None
        try:  # from the start of the reader on: an interrupt while it starts must still stop the step
            reader = _pump(process.stderr, lines) if self.keeps_stderr else None
            exit_code = process.wait()
        except BaseException:  # interrupted: what runs the step must not outlive the run
            process.kill()
            process.wait()
            self.stop(run, node, internal_name, argv)
            raise
        if reader is not None:
            reader.join(timeout=5)
        return exit_code, next((line for line in reversed(lines) if line.lower().startswith("error")), "")


def _pump(stream, keep: list[str]) -> threading.Thread:
    """Copy a step process's stderr to ours, keeping its last lines."""

    def copy() -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace")
            sys.stderr.write(line)
            sys.stderr.flush()
            if line.strip():
                keep.append(line.strip())
                del keep[:-20]

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread
