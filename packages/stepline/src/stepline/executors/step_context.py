"""The step context: how one leaf step runs, the same for every executor.

read parameters -> get catalog items -> run the task (with retries) -> store returned parameters
and metrics -> put catalog items -> write the step log.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stepline.envs.task import EnvironmentTask, environment_for
from stepline.errors import Interrupted, StepLineError
from stepline.executors.attempt_watch import watcher
from stepline.paths import safe_file_name
from stepline.pipeline.graph import loop_indices, walk
from stepline.plugins.manager import component_class
from stepline.runlog.models import (
    Attempt,
    DataCatalogItem,
    Parameter,
    Status,
    StepEnvironment,
    StepLog,
    utc_now,
)
from stepline.tasks.base import Invocation, Pickled, TaskFailed, as_json_value
from stepline.tasks.output import Masker, OutputSink

if TYPE_CHECKING:
    from stepline.pipeline.nodes import Node, TaskNode
    from stepline.run.run_context import RunContext


def instant_attempt(status: Status, message: str = "") -> Attempt:
    """An attempt that did no work (stubs, success and fail nodes, a step that could not start)."""
    now = utc_now()
    return Attempt(status=status, message=message, start_time=now, end_time=now)


def step_name(internal_name: str) -> str:
    return internal_name.rpartition(".")[2]


def new_step_log(run: RunContext, node: Node, internal_name: str) -> StepLog:
    identity = run.code_identity
    return StepLog(name=step_name(internal_name), internal_name=internal_name, step_type=node.type,
                   status=Status.PROCESSING, code_identities=[identity] if identity else [])


def terminal_step_log(run: RunContext, node: Node, internal_name: str) -> StepLog:
    """The step log of a success or fail node."""
    status = Status.SUCCESS if node.type == "success" else Status.FAIL
    step = new_step_log(run, node, internal_name)
    step.status = status
    step.attempts = [instant_attempt(status)]
    return step


def record_terminal(run: RunContext, node: Node, internal_name: str) -> Status:
    """Write the step log of a success or fail node; return its status."""
    step = terminal_step_log(run, node, internal_name)
    run.store.put_step_log(run.run_id, step)
    return step.status


def execute_step(run: RunContext, node: Node, internal_name: str, *, branch: str = "",
                 map_variable: dict[str, Any] | None = None) -> StepLog:
    """Run one leaf step (task or stub) and record it. ``branch`` scopes its parameters."""
    take = _TAKER.get()
    token = _TAKER.set(None)  # a run the task starts itself records its own steps
    try:
        step, has_record = _execute_step(run, node, internal_name, branch, map_variable)
    finally:
        _TAKER.reset(token)
    if has_record or take is None or not take(step):  # a start record is replaced by the step's own
        run.store.put_step_log(run.run_id, step)
    return step


def _execute_step(run: RunContext, node: Node, internal_name: str, branch: str,
                  map_variable: dict[str, Any] | None) -> tuple[StepLog, bool]:
    """Run the leaf: its final step log, to be recorded (an interrupted one is recorded here), and
    whether a record of its own exists already (an attempt that ran on)."""
    step = new_step_log(run, node, internal_name)
    if node.type != "task":  # stubs and other no-op leaves succeed at once
        step.status = Status.SUCCESS
        step.attempts = [instant_attempt(Status.SUCCESS)]
        return step, False
    has_record = False
    try:  # an attempt that runs on is recorded when it starts too (see _run_task)
        has_record = _run_task(run, node, step, branch, map_variable or {})
    except StepLineError as exc:  # catalog, secrets, parameters: the step fails with the one-line reason
        fail_step(step, str(exc))
    except BaseException as exc:  # interrupted (Ctrl-C, SIGTERM) or a bug: the step must not stay PROCESSING
        fail_step(step, "interrupted" if isinstance(exc, (KeyboardInterrupt, Interrupted))
                  else f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        run.store.put_step_log(run.run_id, step)
        raise
    return step, has_record


#: Who takes a leaf's final step log instead of the store, while one runs (see :func:`held_by`).
_TAKER: contextvars.ContextVar[Callable[[StepLog], bool] | None] = contextvars.ContextVar("stepline_taker",
                                                                                        default=None)


@contextlib.contextmanager
def held_by(take: Callable[[StepLog], bool]):
    """For the leaf run in the block (in this process), its final step log goes to ``take``, which
    returns False to leave it to the store: a branch whose next node is its end writes the step with
    its own record, one write instead of two. A step that is interrupted is written at once."""
    token = _TAKER.set(take)
    try:
        yield
    finally:
        _TAKER.reset(token)


def fail_step(step: StepLog, message: str) -> None:
    """Mark a step failed with ``message``; close its running attempt, or add one."""
    step.status, step.message = Status.FAIL, message
    last = step.attempts[-1] if step.attempts else None
    if last is not None and (last.end_time is None or last.status == Status.PROCESSING):
        last.status, last.message, last.end_time = Status.FAIL, message, last.end_time or utc_now()
    elif last is None:
        step.attempts.append(instant_attempt(Status.FAIL, message))


def record_lost(run: RunContext, node: Node, internal_name: str, message: str) -> StepLog:
    """Fail a step whose process died, was killed or never started before it recorded an outcome
    (a container, a batch job, an ``execute-single-node`` call), with ``message`` as the reason.
    What the process did record is kept: its attempts, the start of the attempt it was in, and the
    failure it wrote as it was stopped ("interrupted"), which the message then quotes."""
    step = run.store.get_step_log(run.run_id, internal_name) or new_step_log(run, node, internal_name)
    last = step.attempts[-1] if step.attempts else None
    if step.status == Status.FAIL and step.message and last is not None and last.status == Status.FAIL:
        message = f"{message} (the step recorded: {step.message})"
        last.status, last.message = Status.FAIL, message
    fail_step(step, message)
    run.store.put_step_log(run.run_id, step)
    return step


def _run_task(run: RunContext, node: TaskNode, step: StepLog, branch: str, map_variable: dict[str, Any]) -> bool:
    """Run the task's attempts into ``step``; returns whether an attempt's start was recorded."""
    store, catalog = run.store, run.catalog
    parameters = run.parameters(branch)
    parameters.update({k: Parameter(kind="json", value=v) for k, v in map_variable.items()})
    if node.catalog and node.catalog.get:
        step.data_catalog.extend(catalog.get(run.run_id, node.catalog.get))
    secrets = {name: run.secret(name) for name in node.secrets}
    task_type = component_class("task", node.command_type, source=run.pipeline_file)()
    task_type = _in_environment(node, step, task_type)
    received = {name: parameters[name] for name in task_type.inputs(node, list(parameters))}
    values = {name: _python_value(run, p, task_type.takes_pickled) for name, p in received.items()}

    give_up, recorded = False, False
    for number in range(1, node.max_attempts + 1):
        sink = OutputSink(list(secrets.values()), echo=not run.quiet)
        attempt = Attempt(attempt_number=number, input_parameters=received)
        step.attempts.append(attempt)
        invocation = Invocation(node=node, step=step.internal_name, parameters=values, secrets=secrets,
                                output=sink, timeout=node.timeout_seconds, attempt=number,
                                environment=loop_indices(run.graph, step.internal_name))
        # an attempt that runs on has its start recorded, so a killed process leaves the attempt it
        # was in; one that ends first is recorded once, at its end (see attempt_watch)
        started = watcher().watch(functools.partial(store.put_step_log, run.run_id, step))
        try:
            hidden = _hide_unlisted_secrets(run, node)
            try:
                returned = task_type.run(invocation)
            finally:
                if hidden:
                    os.environ.update(hidden)
                recorded = watcher().done(started) or recorded
            outputs = _to_parameters(run, node, step.internal_name, returned)
            _refuse_secrets(outputs, secrets)
            attempt.output_parameters = outputs
            attempt.status = Status.SUCCESS
        except TaskFailed as exc:
            attempt.status, attempt.message = Status.FAIL, sink.mask(str(exc))
        except StepLineError as exc:
            attempt.status, attempt.message = Status.FAIL, sink.mask(str(exc))
            give_up = True  # a definition or parameter error will not pass on retry
        finally:
            attempt.end_time = utc_now()
            attempt.user_defined_metrics = dict(invocation.metrics)
            _save_execution_log(run, step, number, sink.text())
            _save_files(run, step, invocation.files, sink)
        if attempt.status == Status.SUCCESS or give_up or number >= node.max_attempts:
            break
        delay = node.retry_delay(number)
        if delay:
            time.sleep(delay)

    last = step.attempts[-1]
    if last.status != Status.SUCCESS:
        step.status, step.message = Status.FAIL, last.message
        try:  # as runnable does: the files a failed task did write are kept; a put that fails here warns
            _put_files(run, node, step, missing_ok=True)
        except StepLineError as exc:
            print(f"warning: step '{step.internal_name}' failed, and its catalog put did too: {exc}", file=sys.stderr)
        return recorded
    _put_files(run, node, step)
    metrics = {n: p.value for n, p in last.output_parameters.items() if p.kind == "metric"}
    last.user_defined_metrics.update(metrics)
    _track(run, step.internal_name, last.user_defined_metrics)
    store.update_parameters(run.run_id, last.output_parameters, branch)
    step.status = Status.SUCCESS
    return recorded


def _put_files(run: RunContext, node: TaskNode, step: StepLog, *, missing_ok: bool = False) -> None:
    """The step's catalog puts, leaving out what the run's services keep; ``missing_ok`` after a
    failed task (a pattern that matches nothing is skipped)."""
    if node.catalog and node.catalog.put:
        step.data_catalog.extend(run.catalog.put(run.run_id, node.catalog.put, node.catalog.store_copy,
                                                 missing_ok=missing_ok, exclude=run.state_paths))


def _refuse_secrets(parameters: dict[str, Parameter], secrets: dict[str, str]) -> None:
    """A returned value that contains a secret would put it in the run log: fail instead."""
    for name, parameter in parameters.items():
        if parameter.kind == "object":
            continue
        text = json.dumps(parameter.value, default=str)
        for secret_name, value in secrets.items():
            if value and Masker([value]).reveals(text):
                raise TaskFailed(f"return '{name}' contains the value of secret '{secret_name}' (or an encoding "
                                 "of it); secrets are never stored in the run log (return something derived, "
                                 "like a hash)")


def _hide_unlisted_secrets(run: RunContext, node: TaskNode) -> dict[str, str]:
    """Remove from this process's environment, for an attempt, the variables that hold secrets other
    steps list (with the env secrets backend), so a step sees only its own; returns what was removed,
    to put back when the attempt ends."""
    names = _secret_env_names(run)
    if not names:
        return {}
    hidden = [key for key in names - set(_env_names(run, node.secrets)) if key in os.environ]
    return {key: os.environ.pop(key) for key in hidden}


#: (graph, secrets backend, names) of the last run asked: walking the whole graph for every step made
#: a step's cost grow with the pipeline's size.
_SECRET_ENV_NAMES: list[tuple[Any, Any, frozenset[str]]] = []


def _secret_env_names(run: RunContext) -> frozenset[str]:
    if _SECRET_ENV_NAMES and _SECRET_ENV_NAMES[0][0] is run.graph \
            and _SECRET_ENV_NAMES[0][1] is run.services.secrets:
        return _SECRET_ENV_NAMES[0][2]
    names = {name for _, node in walk(run.graph) for name in getattr(node, "secrets", None) or []}
    found = frozenset(_env_names(run, names))
    _SECRET_ENV_NAMES[:] = [(run.graph, run.services.secrets, found)]
    return found


def _env_names(run: RunContext, names) -> list[str]:
    secrets = run.services.secrets
    return [key for name in names for key in secrets.environment_names(name)]


def _in_environment(node: TaskNode, step: StepLog, task_type: Any) -> Any:
    """The task type that runs ``node``'s attempts: its own, or one running them in the step's
    environment (``uv:``, inline script metadata), which is built first if this machine lacks it."""
    environment = environment_for(node)
    if environment is None:
        return task_type
    step.environment = StepEnvironment.model_validate(environment.record)
    return EnvironmentTask(task_type, environment)


IN_MEMORY = "in-memory:"


def _python_value(run: RunContext, parameter: Parameter, pickled: bool = False) -> Any:
    """The value a task receives; ``pickled``: objects as :class:`~stepline.tasks.base.Pickled` bytes,
    for a task type that unpickles them in another interpreter."""
    if parameter.kind != "object":
        return parameter.value
    if str(parameter.value).startswith(IN_MEMORY):  # object_serialisation: false
        kept = getattr(run.executor, "kept_objects", {})
        if parameter.value not in kept:
            from stepline.errors import ParameterError

            raise ParameterError(f"object {parameter.value[len(IN_MEMORY):]} was kept in the memory of the "
                                 "process that returned it (object_serialisation: false) and is gone",
                                 hint="re-run the whole pipeline, or leave object_serialisation on to pickle "
                                      "objects into the catalog")
        return Pickled(pickle.dumps(kept[parameter.value])) if pickled else kept[parameter.value]
    data = run.catalog.get_bytes(parameter.value)
    return Pickled(data) if pickled else pickle.loads(data)


def _to_parameters(run: RunContext, node: TaskNode, internal_name: str, returned: dict[str, Any]) -> dict[str, Parameter]:
    kinds = {r.name: r.kind for r in node.returns}
    out = {}
    for name, value in returned.items():
        kind = kinds.get(name, "json")
        if kind == "object" and getattr(run.executor, "keeps_objects", False) and not isinstance(value, Pickled):
            reference = f"{IN_MEMORY}objects/{internal_name}/{name}"
            run.executor.kept_objects[reference] = value
            out[name] = Parameter(kind="object", value=reference)
        elif kind == "object":  # pickled already when a step's environment returned it
            try:
                data = bytes(value) if isinstance(value, Pickled) else pickle.dumps(value)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise TaskFailed(f"return '{name}' (kind: object) cannot be pickled: {exc}; with the local "
                                 "executor, object_serialisation: false keeps it in memory instead") from None
            path = run.catalog.put_bytes(run.run_id, f"objects/{safe_file_name(internal_name)}/"
                                                     f"{safe_file_name(name)}.pickle", data)
            out[name] = Parameter(kind="object", value=path)
        elif kind == "metric":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TaskFailed(f"return '{name}' is declared kind: metric but is {type(value).__name__}, not a number")
            out[name] = Parameter(kind="metric", value=value)
        else:
            out[name] = Parameter(kind="json", value=as_json_value(name, value))
    return out


def _save_execution_log(run: RunContext, step: StepLog, attempt: int, text: str) -> None:
    if not text:
        return
    import hashlib

    name = f"logs/{safe_file_name(step.internal_name)}.attempt-{attempt}.log"
    data = text.encode("utf-8")
    path = run.catalog.put_bytes(run.run_id, name, data)
    step.data_catalog.append(DataCatalogItem(name=name, catalog_relative_path=path, stage="put",
                                             data_hash=hashlib.sha256(data).hexdigest(),
                                             catalog_handler_location=run.catalog.location))


def _save_files(run: RunContext, step: StepLog, files: dict[str, bytes], sink: Any) -> None:
    import hashlib

    for name, data in files.items():
        if sink.secrets:  # an executed notebook holds the cells' output: masked like the console
            try:
                data = sink.mask(data.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                pass
        path = run.catalog.put_bytes(run.run_id, name, data)
        step.data_catalog.append(DataCatalogItem(name=name, catalog_relative_path=path, stage="put",
                                                 data_hash=hashlib.sha256(data).hexdigest(),
                                                 catalog_handler_location=run.catalog.location))


def _track(run: RunContext, internal_name: str, metrics: dict[str, Any]) -> None:
    tracker = run.services.experiment_tracker
    for name, value in metrics.items():
        series = value if isinstance(value, list) else [{"step": None, "value": value}]
        for point in series:
            tracker.log_metric(run.run_id, name, point["value"], step=point["step"], step_name=internal_name)
