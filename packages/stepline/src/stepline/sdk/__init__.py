"""The Python SDK: build the same pipeline models as the YAML, from Python.

    from stepline import Pipeline, PythonTask, ShellTask, Catalog, metric

    train = PythonTask(name="train", function=steps.train, returns=["summary", metric("loss")])
    report = ShellTask(name="report", command="echo done")
    pipeline = Pipeline(steps=[train, report])

Steps in a list are chained in order; the last one ends in ``success``. See docs/sdk.md.
"""

from stepline.sdk.decorator import task
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

__all__ = ["Catalog", "Conditional", "Fail", "Loop", "Map", "NotebookTask", "Parallel", "Pipeline", "PythonTask",
           "ShellTask", "Step", "Stub", "Success", "json", "metric", "pickled", "task"]
