"""A run's life: start it (its run log, with the initial parameters), open it again in another process,
traverse it to its end with its executor, finish it. Every path that runs a pipeline (``stepline
execute``, the SDK, ``stepline retry``, an engine's ``start-run``/``finish-run`` callbacks) goes
through these, so a run started by ``start-run`` records exactly what ``stepline execute`` records."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any

from stepline.errors import Interrupted, StepLineError
from stepline.run.prepare import Prepared, executors_used
from stepline.runlog.models import RunLog, Status, utc_now

if TYPE_CHECKING:
    from stepline.run.run_context import RunContext


def start_run(prepared: Prepared, *, pipeline_file: str, config_file: str | None, params_file: str | None,
              run_id: str | None, tag: str = "", quiet: bool = False, parameters: dict | None = None,
              original: RunLog | None = None, observers: list | None = None,
              phase: str = "traversal", exists_ok: bool = False) -> RunContext | None:
    """Create the run log (PROCESSING, initial parameters) and return the context the run executes in.

    ``original``: the run a re-run continues (its succeeded steps are skipped); ``parameters`` then
    replace the params file. ``phase``: how the services are configured, ``traversal`` where the
    executor traverses, ``execution`` in an engine's callback process (see
    ``stepline_configure_integration``). ``exists_ok``: an engine may start the run twice (it retries a
    failed start); when ``run_id`` already exists for the same pipeline, return None, and when it exists
    for another pipeline, raise."""
    from stepline.params import initial_parameters
    from stepline.plugins.manager import get_plugin_manager
    from stepline.run.run_context import RunContext, new_run_id

    parameters = initial_parameters(params_file) if parameters is None else parameters
    services = prepared.services
    configured = executors_used(prepared.graph, services, pipeline_file, config_file) \
        if phase == "traversal" else [services.executor]
    for executor in configured:
        get_plugin_manager().configure_integration(executor, services.services(), phase)
    run = RunContext(run_id=run_id or new_run_id(), graph=prepared.graph, services=services,
                     pipeline_file=pipeline_file, config_file=config_file, tag=tag, quiet=quiet,
                     step_observers=list(observers or []))
    if exists_ok and _already_started(run):
        return None
    if original is not None:
        from stepline.runlog.flatten import succeeded_steps

        run.original_run_id, run.original_steps = original.run_id, succeeded_steps(original)
    run.store.create_run_log(RunLog(run_id=run.run_id, status=Status.PROCESSING, tag=tag,
                                    dag_hash=prepared.graph.dag_hash(), pipeline_file=pipeline_file,
                                    original_run_id=run.original_run_id, parameters=parameters,
                                    initial_parameters=parameters, run_config=services.describe()))
    if original is not None:
        run.catalog.copy_run(original.run_id, run.run_id)
    services.experiment_tracker.start_run(run.run_id, {k: p.value for k, p in parameters.items()},
                                          {"tag": tag} if tag else {})
    return run


def _already_started(run: RunContext) -> bool:
    from stepline.errors import RunNotFoundError

    try:
        existing = run.store.get_run(run.run_id)
    except RunNotFoundError:
        return False
    if existing.dag_hash != run.graph.dag_hash():
        raise StepLineError(f"run id '{run.run_id}' is already used by another pipeline",
                            hint="give the workflow a new run id")
    return True


def open_run(prepared: Prepared, run_id: str, *, pipeline_file: str, config_file: str | None,
             executor: Any = None, must_exist: bool = True) -> RunContext:
    """The context of an existing run, in a process that executes part of it (an engine's callback);
    the services are configured for ``executor`` (default: the main one) in the ``execution`` phase.
    ``must_exist``: a clear error when the run does not exist (a caller that looks for one of its
    records first, and reports its absence itself, passes False)."""
    from stepline.plugins.manager import get_plugin_manager
    from stepline.run.run_context import RunContext

    services = prepared.services
    get_plugin_manager().configure_integration(executor or services.executor, services.services(), "execution")
    run = RunContext(run_id=run_id, graph=prepared.graph, services=services, pipeline_file=pipeline_file,
                     config_file=config_file)
    if must_exist:
        run.store.get_run(run_id)
    return run


def finish_run(run: RunContext, status: Status, message: str = "") -> None:
    """Record how the run ended (status, end time, message) in the run log and the tracker."""
    run.store.update_run(run.run_id, status=status, end_time=utc_now(), message=message)
    run.services.experiment_tracker.end_run(run.run_id, status.value)


@contextlib.contextmanager
def sigterm_raises():
    """Turn SIGTERM into an exception, so running tasks and worker processes are stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: what a task's process finds the run id in (runnable's name, and Stepline's)
RUN_ID_ENV = ("STEPLINE_RUN_ID", "RUNNABLE_RUN_ID")


def run_id_in_environment(run_id: str):
    """The run id in this process's environment while its steps run, so every task (and the processes
    it starts) can read it, as runnable's can; what was there before comes back afterwards."""
    from stepline.process_env import variables_set

    return variables_set(dict.fromkeys(RUN_ID_ENV, run_id))


def run_to_end(run: RunContext, *, top_level: bool = False) -> RunLog:
    """Traverse a started run with its executor, record how it ended and return its run log
    (``top_level``: without the steps of branches, see :meth:`RunLogStore.get_run_log`)."""
    try:
        with sigterm_raises(), run_id_in_environment(run.run_id):
            status = run.executor.execute(run)
    except (KeyboardInterrupt, Interrupted):
        finish_run(run, Status.FAIL, "interrupted")
        raise
    except StepLineError as exc:
        finish_run(run, Status.FAIL, str(exc))
        raise
    except Exception as exc:  # a bug or an I/O failure: the run ends FAIL with the reason, never PROCESSING
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        finish_run(run, Status.FAIL, f"the run stopped on an unexpected error: {reason}")
        raise RunStopped(f"run {run.run_id} failed: {reason}",
                         hint="run with --debug for the traceback, and please report it") from exc
    finish_run(run, status)
    return run.store.get_run_log(run.run_id, top_level=top_level)


class RunStopped(StepLineError):
    """A run ended FAIL on an error that is not the input's fault (a bug, a full disk)."""

    exit_code = 1
