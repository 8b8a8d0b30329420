"""Stepline: define a pipeline once; run it locally, in containers, on Slurm, or render it for
Argo Workflows and AWS Step Functions.

Importing ``stepline`` does no work: names are loaded on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "get_secret": "stepline.active_step",
    "track": "stepline.active_step",
    "StepLineError": "stepline.errors",
    "execute": "stepline.run.execute",
    **{name: "stepline.sdk" for name in ("Pipeline", "PythonTask", "ShellTask", "NotebookTask", "Stub", "Parallel",
                                         "Map", "Conditional", "Loop", "Success", "Fail", "Catalog", "json",
                                         "pickled", "metric", "task")},
    **{name: "stepline.sdk.jobs" for name in ("PythonJob", "ShellJob", "NotebookJob")},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stepline' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
