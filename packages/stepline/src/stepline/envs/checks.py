"""What can be known about a step's environment before the run (``validate``, ``execute``): the spec
parses, its files exist, its interpreter is on the machine, and uv is where the step will run.
What only resolving can tell (no such version, conflicting pins) fails the step's attempt instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stepline.errors import StepLineError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.run.services import Services


def has_environment(node) -> bool:
    """True for a task step whose attempts run in an environment of their own."""
    from stepline.pipeline.uv_spec import effective_spec

    return node.type == "task" and effective_spec(node)[0] is not None


def check_environments(graph: Graph, services: Services, pipeline_file: str) -> list[str]:
    """Raise a one-line :class:`~stepline.errors.StepLineError` naming the step for a spec that cannot
    work here; return warnings (an executor that cannot check for uv where its steps run)."""
    from stepline.pipeline.graph import walk
    from stepline.pipeline.uv_spec import effective_spec

    warnings: list[str] = []
    for path, node in walk(graph):
        if node.type != "task":
            continue
        try:
            spec, _ = effective_spec(node)
            if spec is None:
                continue
            runs_on = services.executors.get(getattr(node, "executor", None) or "", services.executor)
            problem = runs_on.check_uv()
            if problem and problem.startswith("warning: "):
                warnings.append(f"step '{path}': {problem.removeprefix('warning: ')}")
            elif problem:
                from stepline.errors import IntegrationError

                raise IntegrationError(problem)
            if runs_on.renders:
                continue  # the engine's image builds it; this machine may differ
            from stepline.envs.uv import interpreter, source_files  # only for a step with an environment

            source_files(spec)
            interpreter(spec.python)
        except StepLineError as exc:
            raise exc.with_context(file=pipeline_file, step=path) from None
    return warnings
