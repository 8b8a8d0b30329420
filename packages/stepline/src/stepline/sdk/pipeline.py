"""``Pipeline``: a list of steps chained in order, built into the same Graph the YAML loader builds."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stepline.errors import PipelineDefinitionError
from stepline.pipeline.reference import SDK_FILE
from stepline.sdk.steps import Branch, Fail, PythonTask, Step, Success

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.runlog.models import RunLog


def as_step(item: Any) -> Step:
    """A step, or a function decorated with :func:`stepline.task` (a PythonTask)."""
    if isinstance(item, Step):
        return item
    if callable(item) and hasattr(item, "__stepline_task__"):
        return PythonTask(function=item)
    raise PipelineDefinitionError(f"steps must be stepline steps, not {type(item).__name__} {item!r:.40}",
                                  hint="use PythonTask(...), ShellTask(...), ... or a function decorated with @task")


class Pipeline(Branch):
    """Steps in a list, chained in order: each goes on to the next; the last ends in success.

    A step with ``terminate_with_success``/``terminate_with_failure`` ends its path; ``on_failure``
    (a step or a Pipeline) adds a path taken when the step fails.
    """

    def __init__(self, steps: list[Any], *, description: str = "", name: str = "",
                 add_terminal_nodes: bool = True) -> None:
        # add_terminal_nodes is runnable's; Stepline adds success and fail whenever the steps lack them
        if not isinstance(steps, (list, tuple)) or not steps:
            raise PipelineDefinitionError("Pipeline(steps=[...]) needs a non-empty list of steps")
        self.steps = [as_step(s) for s in steps if not isinstance(s, (list, tuple))]
        if not self.steps:
            raise PipelineDefinitionError("Pipeline(steps=[...]) needs at least one step outside a nested list")
        #: runnable's older form of a path taken on failure: a list inside ``steps``, reached by a
        #: step's ``on_failure`` naming its first step
        self.side_paths = [[as_step(x) for x in s] for s in steps if isinstance(s, (list, tuple)) and s]
        self.description = description
        self.name = name
        from stepline.sdk.execution import Origin

        self._origin = Origin.of_caller()

    # ---- the graph -----------------------------------------------------------------------------
    def graph(self, prefix: str = "") -> Graph:
        """The completed, checked :class:`~stepline.pipeline.graph.Graph` (warnings are issued with
        :func:`warnings.warn`)."""
        from stepline.pipeline.graph import Graph, _free_name, check, complete, join

        chains = collect_chains(self)
        everything = [step for chain in chains for step in chain]
        seen: dict[str, Step] = {}
        for step in everything:
            other = seen.setdefault(step.name, step)
            if other is not step:
                raise PipelineDefinitionError(f"two different steps are named '{step.name}'",
                                              step=join(prefix, step.name), hint="give each step its own name")
        success = next((s.name for s in everything if type(s) is Success), None) or _free_name(seen, "success")
        fail = next((s.name for s in everything if type(s) is Fail), None) or _free_name(seen, "fail")

        nodes: dict[str, Any] = {}
        for chain in chains:
            for i, step in enumerate(chain):
                if step.name in nodes:
                    continue
                node = step.node(join(prefix, step.name))
                if not step.terminal:
                    if step.terminate_with_success:
                        node.next = success
                    elif step.terminate_with_failure:
                        node.next = fail
                    elif i + 1 < len(chain):
                        node.next = chain[i + 1].name
                    if step.on_failure is not None:
                        target = step.on_failure
                        node.on_failure = (target if isinstance(target, str) else target.name
                                           if isinstance(target, Step) else as_step(target.steps[0]).name)
                nodes[step.name] = node
        from stepline.pipeline.nodes import FailNode, SuccessNode

        nodes.setdefault(success, SuccessNode())
        nodes.setdefault(fail, FailNode())
        graph = complete(Graph(description=self.description, start_at=self.steps[0].name, steps=nodes))
        for message in check(graph, file=SDK_FILE, prefix=prefix):
            warnings.warn(message, UserWarning, stacklevel=2)
        return graph

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The runnable/magnus YAML of this pipeline; written to ``path`` when given."""
        from stepline.pipeline.yaml_dump import to_yaml

        text = to_yaml(self.graph())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ---- running -------------------------------------------------------------------------------
    def execute(self, configuration_file: str | None = None, run_id: str | None = None, tag: str = "",
                parameters_file: str | None = None, log_level: str | int | None = None, *,
                reference: str | None = None, quiet: bool = False) -> RunLog | None:
        """Run the pipeline with the configured executor and return its run log (None when the
        executor renders it for an orchestrator). A run that ends in FAIL raises
        :class:`~stepline.ExecutionFailedError` (its ``run_log`` attribute holds the record).

        The arguments are runnable's, in its order. ``$STEPLINE_CONFIGURATION_FILE`` /
        ``$RUNNABLE_CONFIGURATION_FILE`` and ``$..._PARAMETERS_FILE`` override the files given here;
        ``$..._RUN_ID`` is the run id when none is given; ``$..._RETRY_RUN_ID`` makes this a re-run
        of that run (see docs/sdk.md). ``log_level`` sets the level of the ``stepline`` logger.

        ``reference`` (``"module:attribute"`` or ``"path/to/file.py:attribute"``) names where this
        pipeline can be imported from; executors that run steps in other processes or containers
        rebuild it from there. Left out, it is found: the module-level function that called
        ``execute()`` and returns the pipeline (``def main(): ...; pipeline.execute(); return
        pipeline``), or the module-level variable that holds it. It is recorded as the run log's
        ``pipeline_file``. While a reference is being loaded, ``execute()`` returns None at once.
        """
        from stepline.sdk.execution import execute_sdk

        return execute_sdk(self, sys._getframe(1), configuration_file=configuration_file, run_id=run_id, tag=tag,
                           parameters_file=parameters_file, log_level=log_level, reference=reference, quiet=quiet)


Branch.of_steps = Pipeline


def collect_chains(pipeline: Pipeline) -> list[list[Step]]:
    """The pipeline's list of steps, then every on_failure path (a step or a Pipeline), depth first."""
    chains: list[list[Step]] = []
    seen_ids: set[int] = set()

    def visit(steps: list[Step]) -> None:
        if id(steps) in seen_ids:
            return
        seen_ids.add(id(steps))
        chains.append(steps)
        for step in steps:
            target = step.on_failure
            if target is None:
                continue
            if isinstance(target, str):
                named.append((step, target))
            elif isinstance(target, Step):
                if all(target is not s for chain in chains for s in chain):
                    visit([target])
            elif isinstance(getattr(target, "steps", None), list):
                visit(target.steps)
            else:
                raise PipelineDefinitionError(f"on_failure must be a step, a Pipeline or a step's name, not "
                                              f"{type(target).__name__}", step=step.name)

    named: list[tuple[Step, str]] = []  # on_failure given as a step's name (runnable's older form)
    visit(pipeline.steps)
    for path in getattr(pipeline, "side_paths", []):
        visit(path)
    names = {s.name for chain in chains for s in chain}
    for step, target in named:
        if target not in names:
            raise PipelineDefinitionError(f"on_failure '{target}' names no step of the pipeline", step=step.name,
                                          hint="give on_failure a step or a Pipeline: "
                                               f"on_failure=Stub(name={target!r}).as_pipeline()")
    return chains
