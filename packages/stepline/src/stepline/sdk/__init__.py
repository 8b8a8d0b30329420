"""The Python SDK: build the same pipeline models as the YAML, from Python.

    from stepline import Pipeline, PythonTask, ShellTask, Catalog, metric

    train = PythonTask(name="train", function=steps.train, returns=["summary", metric("loss")])
    report = ShellTask(name="report", command="echo done")
    pipeline = Pipeline(steps=[train, report])

Steps in a list are chained in order; the last one ends in ``success``. See docs/sdk.md.
"""

from typing import Any

from stepline.errors import ExecutionFailedError
from stepline.sdk.decorator import task
from stepline.sdk.execution import one_line_if_uncaught
from stepline.sdk.jobs import Job, NotebookJob, PythonJob, ShellJob
from stepline.sdk.pipeline import Pipeline
from stepline.sdk.returns import Catalog, json, metric, pickled
from stepline.sdk.steps import (
    Conditional,
    Fail,
    Loop,
    Map,
    NotebookTask,
    Parallel,
    PythonTask,
    ShellTask,
    Step,
    Stub,
    Success,
)

# a mistake in how a script builds its pipeline (raised before execute()) also ends the script with
# one line, not a traceback
one_line_if_uncaught()

__all__ = ["Catalog", "Conditional", "ExecutionFailedError", "Fail", "Job", "Loop", "Map", "NotebookJob", "NotebookTask",
           "Parallel", "Pipeline", "PythonJob", "PythonTask", "ShellJob", "ShellTask", "Step", "Stub", "Success", "json",
           "metric", "pickled", "task"]


def __getattr__(name: str) -> Any:
    import stepline

    if name in stepline.NOT_SUPPORTED:
        return getattr(stepline, name)  # raises NotSupportedError, naming what it is
    raise AttributeError(f"module 'stepline.sdk' has no attribute {name!r}")
