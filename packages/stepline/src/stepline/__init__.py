"""Stepline: define a pipeline once; run it locally, in containers, on Slurm, or render it for
Argo Workflows and AWS Step Functions.

Importing ``stepline`` does no work: names are loaded on first use.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "get_secret": "stepline.active_step",
    "track": "stepline.active_step",
    "StepLineError": "stepline.errors",
    "ExecutionFailedError": "stepline.errors",
    "execute": "stepline.run.execute",
    **{name: "stepline.sdk" for name in ("Pipeline", "PythonTask", "ShellTask", "NotebookTask", "Stub", "Parallel",
                                         "Map", "Conditional", "Loop", "Success", "Fail", "Catalog", "json",
                                         "pickled", "metric", "task")},
    **{name: "stepline.sdk.jobs" for name in ("Job", "PythonJob", "ShellJob", "NotebookJob")},
}

#: runnable names with no Stepline meaning: importing one says so instead of "cannot import name".
NOT_SUPPORTED = {
    "AsyncPipeline": "runnable's async, streaming pipelines",
    "AsyncPythonTask": "runnable's async python tasks (streamed results)",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source: the installed metadata (VERSION at the repository root)
        from importlib.metadata import version

        return version("stepline")
    module = _EXPORTS.get(name)
    if module is None:
        if name in NOT_SUPPORTED:
            from stepline.errors import NotSupportedError

            raise NotSupportedError(f"{name} ({NOT_SUPPORTED[name]}) is not supported by Stepline",
                                    hint="use Pipeline and PythonTask with plain functions")
        raise AttributeError(f"module 'stepline' has no attribute {name!r}")
    import importlib

    if module.startswith("stepline.sdk"):
        from stepline.plugins.entry_points import settle_pydantic_plugins

        settle_pydantic_plugins()  # before the SDK builds its models: see that function
    return getattr(importlib.import_module(module), name)
