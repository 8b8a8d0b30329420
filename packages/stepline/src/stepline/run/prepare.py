"""Before a run: load the graph and the configuration; check integrations, steps and tasks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stepline.errors import PipelineDefinitionError, StepLineError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.run.services import Services

#: What the run log records as ``pipeline_file`` for a Python-built run started without a reference.
NO_REFERENCE = "<python: no reference>"


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


def prepare_graph(graph: Graph, reference: str | None, config_file: str | None,
                  find_reference: Callable[[str], str] | None = None) -> tuple[str, Prepared]:
    """:func:`prepare` for a graph built in Python (a Pipeline or a job); returns the reference the run
    log records, and the prepared run. Executors that run steps in other processes rebuild the graph
    from ``reference``, so they need one, and it must name this very graph; when none is given,
    ``find_reference(executor_name)`` is asked for it (and without that, it is an error)."""
    from stepline.component import Locality

    prepared = prepare(reference or NO_REFERENCE, config_file, graph=graph)
    executor = prepared.services.executor
    if reference is None and (executor.renders or executor.runs_steps_in != Locality.PROCESS):
        if find_reference is None:
            raise PipelineDefinitionError(
                f"the {executor.name} executor runs steps in other processes, which rebuild the pipeline "
                "from a reference, and none was given",
                hint="pass execute(..., reference='module:attribute') or 'path/to/file.py:attribute'")
        reference = find_reference(executor.name)
    elif reference is not None and not same_graph(reference, graph):
        raise PipelineDefinitionError("the reference names a different pipeline than the one executed",
                                      file=reference, hint="point it at the variable that holds this pipeline")
    return reference or NO_REFERENCE, prepared


def same_graph(reference: str, graph: Graph) -> bool:
    """Whether ``reference`` loads ``graph`` (what another process will rebuild)."""
    import warnings

    from stepline.pipeline.reference import load_graph

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_graph(reference) == graph


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
