"""Batch executors: traverse the graph here and run every leaf task step as a batch job.

For each step: render a script from the job spec (executor ``config:`` + the step's
``overrides:``), submit it (``sbatch`` / ``qsub`` / ``pjsub``), follow the job with the
scheduler's status command (``scontrol show job -o`` / ``qstat -f -x`` / ``pjstat``) every
``poll_interval`` seconds, then read the step log the job wrote. A job that vanished, was killed
by its time limit, cancelled, failed or ran out of memory before Stepline recorded the step is a
failed attempt with that reason; every wait is bounded (``max_wait_seconds``,
``lost_after_seconds``). Scheduler-level failures are resubmitted while the step has
``max_attempts`` left (task failures retry inside the job, as everywhere else).

Map items and parallel branches run in the core's worker pool (``max_workers``), so they are
submitted as concurrent jobs.
"""

from __future__ import annotations

import abc
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

from pydantic import Field, ValidationError
from stepline.api import (
    ConfigError,
    LocalExecutor,
    Locality,
    LocalSettings,
    NotSupportedError,
    Status,
    StepLineError,
    did_you_mean,
)

from stepline_slurm.jobspec import JobSpec, check_env_names, job_name, render_script
from stepline_slurm.schedulers import PJM_WHY, SLURM_WHY, JobState, parse_pjstat, parse_qstat, parse_scontrol


def _default_stepline() -> str:
    return os.path.abspath(str(Path(sys.executable).with_name("stepline")))


class BatchSettings(LocalSettings, JobSpec):
    max_workers: int = Field(16, ge=1, description="jobs in flight at once (map items, parallel branches)")
    poll_interval: float = Field(2.0, gt=0, description="seconds between two status reads of a job")
    max_wait_seconds: float = Field(7 * 86400, gt=0, description="cancel and fail a job not finished by then")
    lost_after_seconds: float = Field(60, gt=0,
                                      description="a job the scheduler does not know for this long has vanished")
    command_timeout: float = Field(60, gt=0, description="timeout of each sbatch/scontrol/... call")
    job_folder: str = Field(".stepline/jobs", description="where job scripts and their output go (shared)")
    stepline_executable: str = Field(default_factory=_default_stepline,
                                     description="absolute path of `stepline` on the compute nodes")
    shared_filesystem: bool = Field(True, description="the compute nodes see this machine's files at the same "
                                                      "paths (run log, catalog, job folder, pipeline)")


class BatchExecutor(LocalExecutor):
    """Common submit/poll/collect loop; subclasses say how to talk to their scheduler."""

    #: Steps run on compute nodes: services must reach them (see ``locality_of``).
    runs_steps_in: ClassVar[Locality] = Locality.NETWORK
    Settings: ClassVar[type] = BatchSettings
    dialect: ClassVar[str] = "slurm"

    # ---- scheduler dialect ----------------------------------------------------------------------
    @abc.abstractmethod
    def submit_command(self, script: str) -> list[str]:
        """Implemented by each scheduler dialect."""

    @abc.abstractmethod
    def parse_job_id(self, output: str) -> str:
        """Implemented by each scheduler dialect."""

    @abc.abstractmethod
    def status_command(self, job_id: str) -> list[str]:
        """Implemented by each scheduler dialect."""

    @abc.abstractmethod
    def parse_status(self, output: str) -> JobState | None:
        """Implemented by each scheduler dialect."""

    @abc.abstractmethod
    def cancel_command(self, job_id: str) -> list[str]:
        """Implemented by each scheduler dialect."""

    def why(self, state: JobState) -> str:
        return state.describe()

    # ---- integration ----------------------------------------------------------------------------
    def locality_of(self, service):
        """With ``shared_filesystem: true`` (the default) files on this machine are where the compute
        nodes find them too (NFS/Lustre/GPFS home or project space): widen them to the network."""
        have = service.locality
        if self.settings.shared_filesystem and have == Locality.MACHINE:
            return Locality.NETWORK
        return have

    # ---- the job spec of one step -------------------------------------------------------------
    def job_spec(self, node, internal_name: str) -> JobSpec:
        base = {k: getattr(self.settings, k) for k in JobSpec.model_fields}
        override = self.step_overrides(node)
        try:
            spec = JobSpec.model_validate({**base, **override})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            allowed = list(JobSpec.model_fields)
            hint = did_you_mean(where, allowed) if err["type"] == "extra_forbidden" else None
            raise ConfigError(f"overrides.{self.name}.{where}: {err['msg']}", step=internal_name,
                              hint=hint or f"settings a step may override: {', '.join(allowed)}") from None
        problem = check_env_names(spec)
        if problem:
            raise ConfigError(f"executor {self.name}: {problem}", step=internal_name)
        if spec.gres and self.dialect != "slurm":
            raise NotSupportedError(f"gres with the {self.name} executor", step=internal_name,
                                    hint="ask for accelerators with extra_directives in the scheduler's own "
                                         "syntax, e.g. '-l select=1:ngpus=1' for PBS")
        return spec

    def check_step(self, node, path: str) -> None:
        self.job_spec(node, path)

    def script_for(self, run, node, internal_name: str, attempt: int) -> tuple[str, Path, Path]:
        from stepline.api import single_node_command

        spec = self.job_spec(node, internal_name)
        folder = Path(self.settings.job_folder).absolute() / run.run_id
        folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", internal_name)
        script_path = folder / f"{stem}.attempt-{attempt}.sh"
        output = folder / f"{stem}.attempt-{attempt}.out"
        command = [self.settings.stepline_executable, *single_node_command(run.run_id, internal_name, run.pipeline_file, run.config_file)[1:]]
        text = render_script(spec, self.dialect, name=job_name(f"sl-{internal_name}", self.dialect),
                             output=str(output), workdir=os.getcwd(), command=command,
                             env={"STEPLINE_RUN_ID": run.run_id})
        script_path.write_text(text)
        return text, script_path, output

    # ---- running a step -----------------------------------------------------------------------
    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        from stepline.api import execute_step, record_lost

        if node.type != "task":
            return execute_step(run, node, internal_name, branch=branch).status
        lost: list = []  # attempts the scheduler lost, kept when the step is resubmitted
        attempt = 1
        while True:
            _, script, output = self.script_for(run, node, internal_name, attempt)
            try:
                reason, killed = self.run_job(script, output, internal_name)
            except StepLineError as exc:  # the scheduler refused the job (bad partition, no sbatch...)
                return record_lost(run, node, internal_name, str(exc)).status
            step = run.store.get_step_log(run.run_id, internal_name)
            if step is not None and (step.status == Status.SUCCESS or
                                     (step.status != Status.PROCESSING and not killed)):
                break  # Stepline recorded the outcome (a task failure exits non-zero: that is it)
            step = record_lost(run, node, internal_name, reason or "the job ended without recording the step")
            if len(lost) + len(step.attempts) >= node.max_attempts:
                break
            lost += step.attempts
            attempt += 1
            print(f"warning: step {internal_name}: {reason}; resubmitting (attempt {attempt} of "
                  f"{node.max_attempts})", file=sys.stderr)
            delay = node.retry_delay(attempt - 1)
            if delay:
                time.sleep(delay)
        if lost:
            for number, item in enumerate([*lost, *step.attempts], start=1):
                item.attempt_number = number
            step.attempts = [*lost, *step.attempts]
            run.store.put_step_log(run.run_id, step)
        return step.status

    def killed(self, state: JobState) -> bool:
        """The scheduler ended the job (time limit, cancel, memory, node failure), as opposed to the
        job's own process exiting (with any code)."""
        return bool(state.signal)

    def run_job(self, script: Path, output: Path, internal_name: str) -> tuple[str | None, bool]:
        """Submit ``script`` and follow it to its end: (None, False) when the job completed normally,
        else (why, whether the scheduler killed it or lost it)."""
        done = self._call(self.submit_command(str(script)), f"submit step '{internal_name}'")
        job_id = self.parse_job_id(done.stdout)
        try:
            return self._follow(job_id, output)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): do not leave the job running
            self._cancel(job_id)
            raise

    def _cancel(self, job_id: str) -> None:
        try:
            subprocess.run(self.cancel_command(job_id), capture_output=True, check=False,
                           timeout=self.settings.command_timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def _follow(self, job_id: str, output: Path) -> tuple[str | None, bool]:
        started = time.monotonic()
        unknown_since: float | None = None
        last_error = ""
        while True:
            time.sleep(self.settings.poll_interval)
            state = None
            try:
                read = subprocess.run(self.status_command(job_id), capture_output=True, text=True, check=False,
                                      timeout=self.settings.command_timeout, stdin=subprocess.DEVNULL)
                state = self.parse_status(read.stdout)
                last_error = (read.stderr or "").strip().splitlines()[-1] if read.stderr.strip() else ""
            except (OSError, subprocess.TimeoutExpired) as exc:
                last_error = str(exc)
            now = time.monotonic()
            if state is not None and state.finished:
                if state.ok:
                    return None, False
                return f"job {job_id} {self.why(state)}{_tail(output)}", self.killed(state)
            if state is None:
                unknown_since = unknown_since or now
                if now - unknown_since >= self.settings.lost_after_seconds:
                    why = (f"job {job_id} vanished: the scheduler has not known it for "
                           f"{self.settings.lost_after_seconds:g} s ({last_error or 'no status'}){_tail(output)}")
                    return why, True
            else:
                unknown_since = None
            if now - started >= self.settings.max_wait_seconds:
                self._cancel(job_id)
                why = f"job {job_id} did not finish within max_wait_seconds={self.settings.max_wait_seconds:g}; cancelled it"
                return why, True

    def _call(self, command: list[str], what: str) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
                                  timeout=self.settings.command_timeout)
        except FileNotFoundError:
            raise StepLineError(f"cannot {what}: `{command[0]}` is not on PATH",
                                hint=f"run on a login node of the {self.name} cluster") from None
        except subprocess.TimeoutExpired:
            raise StepLineError(f"cannot {what}: `{shlex.join(command)}` did not answer within "
                                f"{self.settings.command_timeout:g} s") from None
        if done.returncode != 0:
            raise StepLineError(f"cannot {what}: `{shlex.join(command)}` exited {done.returncode}: "
                                f"{(done.stderr or done.stdout).strip()[-300:]}")
        return done


def _tail(output: Path, lines: int = 5) -> str:
    try:
        text = output.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return f"; no job output at {output}"
    return f"; job output {output} ends: " + " | ".join(text) if text else f"; job output {output} is empty"


class SlurmExecutor(BatchExecutor):
    """Every leaf step is an ``sbatch`` job, followed with ``scontrol show job -o``."""

    name: ClassVar[str] = "slurm"
    dialect: ClassVar[str] = "slurm"

    def submit_command(self, script: str) -> list[str]:
        return ["sbatch", "--parsable", script]

    def parse_job_id(self, output: str) -> str:
        job_id = output.strip().split(";")[0]
        if not job_id.isdigit():
            raise StepLineError(f"sbatch printed no job id: {output.strip()[:200]!r}")
        return job_id

    def status_command(self, job_id: str) -> list[str]:
        return ["scontrol", "show", "job", "-o", job_id]

    def parse_status(self, output: str) -> JobState | None:
        return parse_scontrol(output)

    def cancel_command(self, job_id: str) -> list[str]:
        return ["scancel", job_id]

    def killed(self, state: JobState) -> bool:
        return state.state not in ("COMPLETED", "FAILED") or bool(state.signal)

    def why(self, state: JobState) -> str:
        words = SLURM_WHY.get(state.state)
        return f"{words}: {state.describe()}" if words else state.describe()


class PBSExecutor(BatchExecutor):
    """Every leaf step is a ``qsub`` job, followed with ``qstat -f -x`` (PBS Pro / OpenPBS)."""

    name: ClassVar[str] = "pbs"
    dialect: ClassVar[str] = "pbs"

    def submit_command(self, script: str) -> list[str]:
        return ["qsub", script]

    def parse_job_id(self, output: str) -> str:
        job_id = output.strip().splitlines()[-1].strip() if output.strip() else ""
        if not re.fullmatch(r"\d+(\[\])?(\.[\w.-]+)?", job_id):
            raise StepLineError(f"qsub printed no job id: {output.strip()[:200]!r}")
        return job_id

    def status_command(self, job_id: str) -> list[str]:
        return ["qstat", "-f", "-x", job_id]

    def parse_status(self, output: str) -> JobState | None:
        return parse_qstat(output)

    def cancel_command(self, job_id: str) -> list[str]:
        return ["qdel", job_id]

    def killed(self, state: JobState) -> bool:
        return bool(state.signal) or (state.exit_code is not None and state.exit_code < 0)

    def why(self, state: JobState) -> str:
        if state.signal:
            return f"was killed by signal {state.signal} (walltime, qdel or memory): {state.describe()}"
        return state.describe()


class PJSubExecutor(BatchExecutor):
    """Every leaf step is a ``pjsub`` job (Fujitsu PJM), followed with ``pjstat -H --data``."""

    name: ClassVar[str] = "pjsub"
    dialect: ClassVar[str] = "pjm"

    def submit_command(self, script: str) -> list[str]:
        return ["pjsub", script]

    def parse_job_id(self, output: str) -> str:
        match = re.search(r"Job (\d+) submitted", output)
        if not match:
            raise StepLineError(f"pjsub printed no job id: {output.strip()[:200]!r}")
        return match.group(1)

    def status_command(self, job_id: str) -> list[str]:
        return ["pjstat", "-H", "--data", "--choose", "jid,st,ec,pc,rsn", job_id]

    def parse_status(self, output: str) -> JobState | None:
        return parse_pjstat(output)

    def cancel_command(self, job_id: str) -> list[str]:
        return ["pjdel", job_id]

    def killed(self, state: JobState) -> bool:
        return state.state != "EXT" or bool(state.signal)

    def why(self, state: JobState) -> str:
        words = PJM_WHY.get(state.state)
        return f"{words}: {state.describe()}" if words else state.describe()
