"""Jobs: one task, run with the catalog, secrets and run log of a pipeline run, but no graph to write.

    from stepline import PythonJob, Catalog
    job = PythonJob(function=steps.train, returns=["summary"], catalog=Catalog(put=["model.pkl"]))
    job.execute()                              # or: stepline execute-job module:job

Internally a job is a one-step run: its run log has one step, named like the job (the function's
name, ``shell`` or the notebook's name unless ``name=`` is given). A job YAML file holds the
step's keys under ``job:`` (``command_type``, ``command``, ``returns``, ``catalog``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.runlog.models import RunLog
    from stepline.sdk.steps import Step


class Job:
    """One task and nothing around it: ``PythonJob(...)``, or runnable's older
    ``Job(name="report", task=ShellTask(...))`` (the task is run under the job's name)."""

    def __init__(self, step: Step | None = None, *, name: str | None = None, task: Step | None = None) -> None:
        import copy

        from stepline.errors import PipelineDefinitionError
        from stepline.sdk.execution import Origin

        step = step if step is not None else task
        if step is None:
            raise PipelineDefinitionError("Job() needs the task it runs", hint="Job(name='job', task=PythonTask(...))")
        if name and name != step.name:
            step = copy.copy(step)
            step.name = name
        self.step = step
        self._origin = Origin.of_caller()

    @property
    def name(self) -> str:
        return self.step.name

    def graph(self) -> Graph:
        from stepline.sdk.pipeline import Pipeline

        return Pipeline(steps=[self.step]).graph()

    def to_yaml(self) -> str:
        """The job as a ``job:`` YAML file (the task's keys and its name)."""
        import yaml

        from stepline.pipeline.yaml_dump import node_to_dict

        body = node_to_dict(self.step.node(self.name))
        body.pop("type", None)
        body.pop("next", None)
        return yaml.safe_dump({"job": {"name": self.name, **body}}, sort_keys=False)

    def execute(self, configuration_file: str | None = None, job_id: str | None = None, tag: str = "",
                parameters_file: str | None = None, log_level: str | int | None = None, *,
                run_id: str | None = None, reference: str | None = None, quiet: bool = False) -> RunLog | None:
        """Run the job with the configured executor and return its run log; a job that fails raises
        :class:`~stepline.ExecutionFailedError`. The arguments are runnable's, in its order
        (``job_id`` is the run id; ``run_id=`` says the same); the environment variables, the
        ``reference`` and how it is found are those of :meth:`stepline.Pipeline.execute`."""
        import sys

        from stepline.sdk.execution import execute_sdk

        return execute_sdk(self, sys._getframe(1), configuration_file=configuration_file, run_id=job_id or run_id,
                           tag=tag, parameters_file=parameters_file, log_level=log_level, reference=reference,
                           quiet=quiet)


class PythonJob(Job):
    """Calls ``function`` once (options as for :class:`stepline.PythonTask`)."""

    def __init__(self, *, function: Callable | str, name: str | None = None, **options: Any) -> None:
        from stepline.sdk.steps import PythonTask

        super().__init__(PythonTask(name, function=function, **options))


class ShellJob(Job):
    """Runs ``command`` once in bash (options as for :class:`stepline.ShellTask`)."""

    def __init__(self, *, command: str, name: str = "shell", **options: Any) -> None:
        from stepline.sdk.steps import ShellTask

        super().__init__(ShellTask(name, command=command, **options))


class NotebookJob(Job):
    """Executes ``notebook`` once (options as for :class:`stepline.NotebookTask`)."""

    def __init__(self, *, notebook: str | Path, name: str | None = None, **options: Any) -> None:
        from stepline.sdk.steps import NotebookTask

        label = name or Path(str(notebook)).name.removesuffix(".ipynb") or "notebook"
        super().__init__(NotebookTask(label, notebook=notebook, **options))


def job_from_yaml(raw: dict, *, file: str) -> Job:
    """A Job from a parsed ``job:`` file."""
    from stepline.pipeline.job_file import parse_job
    from stepline.sdk.steps import Step

    class NodeStep(Step):
        """A step made from the TaskNode the file describes."""

        def __init__(self, name: str, node: Any) -> None:
            super().__init__(name)
            self._node = node

        def _node_class(self) -> type:
            return type(self._node)

        def _fields(self) -> dict[str, Any]:
            return dict(self._node)

        def node(self, path: str) -> Any:
            # a copy of the parsed node, not one rebuilt from _fields: rebuilding would validate it
            # again without the file's context (file, base_dir) that parse_node gave it
            return self._node.model_copy(deep=True)

    name, node = parse_job(raw, file=file)
    return Job(NodeStep(name, node))
