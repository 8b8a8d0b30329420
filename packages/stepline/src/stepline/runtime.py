"""Entry points that run pipelines: used by the CLI, the SDK and orchestrators' callbacks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import contextlib
import signal
import threading

from stepline.errors import Interrupted, PipelineDefinitionError, StepLineError
from stepline.runlog.models import RunLog, Status, utc_now

if TYPE_CHECKING:
    from stepline.config.loader import Services
    from stepline.executors.context import RunContext
    from stepline.pipeline.graph import Graph


@dataclass
class Prepared:
    graph: Graph
    services: Services
    warnings: list[str] = field(default_factory=list)


def prepare(pipeline_file: str, config_file: str | None, *, import_code: bool = True,
            graph: Graph | None = None) -> Prepared:
    """Load and check everything before a run: pipeline, config, integrations, task definitions.

    ``pipeline_file`` is a reference (a YAML file, ``module:attribute`` or ``file.py:attribute``, see
    :mod:`stepline.pipeline.reference`); ``graph`` is an already built graph (the SDK's)."""
    import warnings as _warnings

    from stepline.config.loader import load_services
    from stepline.pipeline.reference import load_graph
    from stepline.plugins.integrations import unused_services
    from stepline.plugins.manager import get_plugin_manager

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        graph = graph if graph is not None else load_graph(pipeline_file)
    services = load_services(config_file)
    manager = get_plugin_manager()
    found = [str(w.message) for w in caught]
    try:
        unused = unused_services(graph, services)
        for executor in executors_used(graph, services, pipeline_file, config_file):
            found += manager.check_integration(executor, services.services(), unused)
    except StepLineError as exc:
        raise exc.with_context(file=config_file or "default configuration") from None
    check_steps(graph, services, pipeline_file)
    check_tasks(graph, pipeline_file, import_code=import_code and not services.executor.renders)
    from stepline.envs.checks import check_environments

    found += check_environments(graph, services, pipeline_file)
    return Prepared(graph, services, found)


def executors_used(graph: Graph, services: Services, pipeline_file: str = "pipeline",
                   config_file: str | None = None) -> list[Any]:
    """The main executor and every named executor a step asks for (``executor: NAME``); a name the
    config's ``executors:`` does not define is a one-line error naming the step."""
    from stepline.errors import ConfigError, did_you_mean
    from stepline.pipeline.graph import walk

    used = [services.executor]
    for path, node in walk(graph):
        name = getattr(node, "executor", None)
        if not name:
            continue
        executor = services.executors.get(name)
        if executor is None:
            known = ", ".join(sorted(services.executors)) or "none"
            raise ConfigError(f"step '{path}' names executor '{name}', which the configuration's "
                              f"'executors:' does not define (defined: {known})", file=pipeline_file,
                              hint=did_you_mean(name, list(services.executors)) or
                              f"add executors: {{{name}: {{type: ..., config: ...}}}} to "
                                   f"{config_file or 'the configuration'} or remove 'executor:' from the step")
        if services.executor.renders or executor.renders or not hasattr(executor, "run_leaf"):
            from stepline.errors import NotSupportedError

            raise NotSupportedError(f"step '{path}' names executor '{name}' ({executor.name}), but "
                                    f"per-step executors need a main executor that traverses here and a "
                                    f"named executor that runs single steps (not {services.executor.name} "
                                    f"/ {executor.name})", file=pipeline_file)
        if executor not in used:
            used.append(executor)
    return used


def check_steps(graph: Graph, services: Services, pipeline_file: str) -> None:
    """Each task step's own settings (``overrides:``), checked by the executor that will run it, so a
    bad one stops the run before its first step rather than in the middle."""
    from stepline.pipeline.graph import walk

    for path, node in walk(graph):
        if node.type != "task":
            continue
        runs_on = services.executors.get(getattr(node, "executor", None) or "", services.executor)
        try:
            runs_on.check_step(node, path)
        except StepLineError as exc:
            raise exc.with_context(file=pipeline_file, step=path) from None


def check_tasks(graph: Graph, file: str, *, import_code: bool) -> None:
    """Every task's command type is installed, and (when asked) every python function imports (that of
    a step with an environment of its own imports only there, when it runs)."""
    from stepline.envs.checks import has_environment
    from stepline.pipeline.graph import walk
    from stepline.plugins.manager import component_class

    for path, node in walk(graph):
        if node.type != "task":
            continue
        try:
            task_type = component_class("task", node.command_type, source=file)
            if import_code and not (node.command_type == "python" and has_environment(node)):
                task_type().check(node)
        except StepLineError as exc:
            raise exc.with_context(file=file, step=path) from None


def start_run(prepared: Prepared, *, pipeline_file: str, config_file: str | None, params_file: str | None,
              run_id: str | None, tag: str, quiet: bool = False, parameters: dict | None = None,
              original: RunLog | None = None, observers: list | None = None) -> RunContext:
    """Create the run log and return the context a run executes in. ``original``: the run a re-run
    continues (its succeeded steps are skipped); ``parameters`` then replace the params file."""
    from stepline.executors.context import RunContext, new_run_id
    from stepline.params import initial_parameters
    from stepline.plugins.manager import get_plugin_manager

    parameters = initial_parameters(params_file) if parameters is None else parameters
    services = prepared.services
    for executor in executors_used(prepared.graph, services, pipeline_file, config_file):
        get_plugin_manager().configure_integration(executor, services.services(), "traversal")
    run = RunContext(run_id=run_id or new_run_id(), graph=prepared.graph, services=services,
                     pipeline_file=pipeline_file, config_file=config_file, tag=tag, quiet=quiet,
                     step_observers=list(observers or []))
    if original is not None:
        from stepline.retry import succeeded_steps

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


def finish_run(run: RunContext, status: Status, message: str = "") -> RunLog:
    run.store.update_run(run.run_id, status=status, end_time=utc_now(), message=message)
    run.services.experiment_tracker.end_run(run.run_id, status.value)
    return run.store.get_run_log(run.run_id)


@contextlib.contextmanager
def _sigterm_raises():
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


def execute(pipeline_file: str, config_file: str | None = None, params_file: str | None = None,
            run_id: str | None = None, tag: str = "", quiet: bool = False,
            prepared: Prepared | None = None, observers: list | None = None) -> RunLog:
    """Run (or, with an orchestration executor, render) a pipeline; return its run log (None when
    the executor renders: see :func:`render`)."""
    prepared = prepared or prepare(pipeline_file, config_file)
    if prepared.services.executor.renders:
        render(pipeline_file, config_file, params_file, prepared=prepared)
        return None
    retry_of = getattr(prepared.services.executor, "retry_of", None)
    if retry_of:  # runnable's `executor: {type: retry, config: {run_id: ...}}`
        from stepline.retry import retry

        return retry(retry_of, config_file, run_id=run_id, quiet=quiet, prepared=prepared, observers=observers)
    run = start_run(prepared, pipeline_file=pipeline_file, config_file=config_file, params_file=params_file,
                    run_id=run_id, tag=tag, quiet=quiet, observers=observers)
    return run_to_end(run)


def render(pipeline_file: str, config_file: str | None = None, params_file: str | None = None,
           prepared: Prepared | None = None) -> str:
    """Render the pipeline with an orchestration executor (no run log is created); return the path written."""
    from stepline.orchestration.render import RenderJob

    prepared = prepared or prepare(pipeline_file, config_file)
    job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline_file,
                    config_file=config_file, params_file=params_file)
    return prepared.services.executor.render(job)


def run_to_end(run: RunContext) -> RunLog:
    """Traverse a started run with its executor and record how it ended."""
    try:
        with _sigterm_raises():
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
    return finish_run(run, status)


class RunStopped(StepLineError):
    """A run ended FAIL on an error that is not the input's fault (a bug, a full disk)."""

    exit_code = 1


def execute_single_node(run_id: str, step: str, pipeline_file: str, config_file: str | None = None,
                        map_variable: str | None = None) -> Status:
    """Run one leaf step of an existing run in the shared step context (orchestrators' callback)."""
    from stepline.executors.context import RunContext
    from stepline.executors.step_context import execute_step
    from stepline.pipeline.graph import find_node
    from stepline.plugins.manager import get_plugin_manager

    prepared = prepare(pipeline_file, config_file)
    services = prepared.services
    node = find_node(prepared.graph, step)
    runs_on = services.executors.get(getattr(node, "executor", None) or "", services.executor)
    get_plugin_manager().configure_integration(runs_on, services.services(), "execution")
    if node is not None and node.terminal:  # engines record the success/fail node a branch ends in
        from stepline.executors.step_context import record_terminal

        run = RunContext(run_id=run_id, graph=prepared.graph, services=services, pipeline_file=pipeline_file,
                         config_file=config_file)
        run.store.get_run(run_id)
        return record_terminal(run, node, step)
    if node is None or node.composite:
        raise PipelineDefinitionError(f"no leaf step '{step}' in the pipeline", file=pipeline_file,
                                      hint="name a task or stub by its dotted path, e.g. fan.3.square")
    variables: dict[str, Any] = {}
    if map_variable:
        try:
            variables = json.loads(map_variable)
        except ValueError:
            raise StepLineError(f"--map-variable is not JSON: {map_variable!r}", hint='e.g. \'{"chunk": 3}\'') from None
    run = RunContext(run_id=run_id, graph=prepared.graph, services=services, pipeline_file=pipeline_file,
                     config_file=config_file)
    run.store.get_run(run_id)  # a clear error when the run does not exist
    branch = step.rpartition(".")[0]
    with _sigterm_raises():  # a scheduler's or engine's SIGTERM fails the step as "interrupted"
        return execute_step(run, node, step, branch=branch, map_variable=variables).status
