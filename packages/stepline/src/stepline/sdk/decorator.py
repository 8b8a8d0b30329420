"""``@task``: mark a function as a pipeline step; it stays a plain function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def task(function: Callable | None = None, *, name: str | None = None, returns: list | None = None,
         **options: Any) -> Any:
    """Mark ``function`` as a step: ``Pipeline(steps=[train, evaluate])`` builds a PythonTask from it.

    ``@task`` or ``@task(returns=["x", metric("loss")], catalog=Catalog(put=[...]), ...)`` take the
    options of :class:`~stepline.PythonTask`; the step is named after the function unless ``name``
    is given. The function is returned unchanged (callable as before, importable by its name), with
    the options stored on it, so it builds the same TaskNode as ``PythonTask(function=...)``.
    """
    from stepline.errors import PipelineDefinitionError
    from stepline.sdk.returns import return_specs

    allowed = {"catalog", "secrets", "max_attempts", "retry_delay_seconds", "retry_backoff", "timeout_seconds", "overrides",
               "description", "on_failure", "terminate_with_success", "terminate_with_failure"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise PipelineDefinitionError(f"@task got an unknown option '{unknown[0]}'",
                                      hint="options: name, returns, " + ", ".join(sorted(allowed)))

    def mark(func: Callable) -> Callable:
        if not callable(func):
            raise PipelineDefinitionError(f"@task decorates functions, not {type(func).__name__}")
        label = name or getattr(func, "__name__", "task")
        settings: dict[str, Any] = dict(options)
        if name:
            settings["name"] = name
        if returns is not None:
            settings["returns"] = return_specs(returns, label)
        func.__stepline_task__ = settings
        return func

    return mark(function) if function is not None else mark
