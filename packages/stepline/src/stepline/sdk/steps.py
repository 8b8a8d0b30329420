"""SDK steps. Each builds the pydantic node model the YAML loader builds (TaskNode, MapNode, ...);
the enclosing :class:`~stepline.sdk.pipeline.Pipeline` fills in ``next`` and ``on_failure``."""

from __future__ import annotations

import abc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from stepline.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from stepline.pipeline.nodes import Node
    from stepline.sdk.pipeline import Pipeline


class Branch(abc.ABC):
    """What a step accepts as a branch or an ``on_failure`` path: a :class:`~stepline.sdk.pipeline.Pipeline`.
    Steps check for this base, not for Pipeline, because Pipeline is built from steps."""

    steps: list[Step]
    #: Makes the branch of a list of steps: :class:`~stepline.sdk.pipeline.Pipeline`, which sets it
    #: when it is defined (``stepline.sdk`` imports it before any step), so steps need not import it.
    of_steps: ClassVar[Callable[[list[Step]], Branch]]

    @abc.abstractmethod
    def graph(self, prefix: str = "") -> Any:
        """The completed, checked graph of the branch; ``prefix`` is its dotted path (for errors)."""


class Step(abc.ABC):
    """Fields every step has: its ``name``, and how its path ends.

    ``on_failure`` is a step or a Pipeline to go to when this step fails (its steps are added to the
    pipeline). ``terminate_with_success`` / ``terminate_with_failure`` end the path here, in the
    pipeline's ``success`` or ``fail`` step, instead of going on to the next step of the list.
    """

    def __init__(self, name: str, *, description: str = "", on_failure: Step | Pipeline | None = None,
                 terminate_with_success: bool = False, terminate_with_failure: bool = False) -> None:
        if not isinstance(name, str) or not name.strip():
            raise PipelineDefinitionError(f"{type(self).__name__}: name must be a non-empty string, not {name!r}")
        from stepline.pipeline.graph import ILLEGAL_NAME_CHARS

        if any(c in name for c in ILLEGAL_NAME_CHARS):
            raise PipelineDefinitionError(f"illegal step name {name!r}: names may not contain '.' or '%'", step=name,
                                          hint="rename the step (or the job)")
        self.name = name
        self.description = description
        if terminate_with_success and terminate_with_failure:
            raise PipelineDefinitionError("terminate_with_success and terminate_with_failure both set", step=name,
                                          hint="choose one")
        self.terminate_with_success = terminate_with_success
        self.terminate_with_failure = terminate_with_failure
        if on_failure is not None and not isinstance(on_failure, (Step, Branch)):
            raise PipelineDefinitionError(f"on_failure must be a step or a Pipeline, not {type(on_failure).__name__}",
                                          step=name)
        self.on_failure = on_failure

    @property
    def terminal(self) -> bool:
        return False

    def as_pipeline(self) -> Pipeline:
        """A one-step Pipeline of this step: ``PythonTask(...).as_pipeline().execute()``."""
        return Branch.of_steps([self])

    def as_conditional_pipeline(self, evaluate: str = "", **_: Any) -> Pipeline:
        """runnable's branch chosen by an expression: not supported (a ``Conditional`` picks the branch
        named by a parameter's value)."""
        from stepline.errors import NotSupportedError

        raise NotSupportedError(f"as_conditional_pipeline(evaluate={evaluate!r}) is not supported", step=self.name,
                                hint="return the value from a task and use Conditional(parameter=NAME, "
                                     "branches={VALUE: step.as_pipeline(), ...})")

    @abc.abstractmethod
    def _fields(self) -> dict[str, Any]:
        """The node's own fields (without next/on_failure)."""

    @abc.abstractmethod
    def _node_class(self) -> type:
        """The pipeline node model this step becomes."""

    def node(self, path: str) -> Node:
        """A fresh node model; ``path`` is the step's dotted name (for errors)."""
        from pydantic import ValidationError

        from stepline.pipeline.loader import node_error

        cls = self._node_class()
        fields = self._fields()
        if self.description:
            fields["description"] = self.description
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise node_error(exc, cls, file=None, path=path) from None
        except PipelineDefinitionError as exc:
            raise exc.with_context(step=path) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _Task(Step):
    command_type = ""

    def __init__(self, name: str, *, returns: list | None = None, catalog: Any = None,
                 secrets: list[str] | None = None, max_attempts: int = 1, retry_delay_seconds: float = 0,
                 retry_backoff: Any = None, timeout_seconds: float | None = None,
                 overrides: dict[str, Any] | None = None, uv: dict[str, Any] | None = None,
                 **common: Any) -> None:
        from stepline.pipeline.nodes import CatalogSpec
        from stepline.sdk.returns import return_specs

        super().__init__(name, **common)
        self.returns = return_specs(returns, name)
        if catalog is not None and not isinstance(catalog, CatalogSpec):
            raise PipelineDefinitionError(f"catalog must be Catalog(get=[...], put=[...]), not {type(catalog).__name__}",
                                          step=name)
        self.catalog = catalog
        self.secrets = list(secrets or [])
        self.max_attempts = max_attempts
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_backoff = retry_backoff  # a RetryBackoff or a dict {factor, max_seconds, jitter}
        self.timeout_seconds = timeout_seconds
        self.overrides = dict(overrides or {})
        self.uv = uv

    def _node_class(self) -> type:
        from stepline.pipeline.nodes import TaskNode

        return TaskNode

    @abc.abstractmethod
    def command(self) -> str:
        """The node's ``command`` field."""

    def _fields(self) -> dict[str, Any]:
        return {"command_type": self.command_type, "command": self.command(), "returns": list(self.returns),
                "catalog": self.catalog, "secrets": list(self.secrets), "max_attempts": self.max_attempts,
                "retry_delay_seconds": self.retry_delay_seconds, "retry_backoff": self.retry_backoff,
                "timeout_seconds": self.timeout_seconds, "overrides": dict(self.overrides), "uv": self.uv}


class PythonTask(_Task):
    """Calls ``function`` with the parameters it names; its return value is zipped with ``returns``.

    ``function`` is a module-level function (or a dotted path ``"pkg.module.function"``). Other
    processes import it by its module and name, so it cannot be a lambda or a nested function.
    """

    command_type = "python"

    def __init__(self, name: str | None = None, *, function: Callable | str, **options: Any) -> None:
        defaults = dict(getattr(function, "__stepline_task__", None) or {})
        label = name or defaults.pop("name", None) or getattr(function, "__name__", None) or "task"
        defaults.pop("name", None)
        self._command = function_reference(function, label)
        super().__init__(label, **{**defaults, **options})
        self.function = function

    def command(self) -> str:
        return self._command


class ShellTask(_Task):
    """Runs ``command`` in bash; parameters and secrets are environment variables, returns are the
    variables it exports (or ``name=value`` lines written to ``$STEPLINE_RETURNS``)."""

    command_type = "shell"

    def __init__(self, name: str, *, command: str, **options: Any) -> None:
        if not isinstance(command, str) or not command.strip():
            raise PipelineDefinitionError("ShellTask needs a non-empty command string", step=name)
        super().__init__(name, **options)
        self._command = command

    def command(self) -> str:
        return self._command


class NotebookTask(_Task):
    """Executes a Jupyter notebook (``notebook``: path to the .ipynb, relative to the working folder)
    with the parameters injected; returns are read from the notebook's variables. The executed
    notebook is saved in the run's catalog. Needs ``pip install "stepline[notebook]"``."""

    command_type = "notebook"

    def __init__(self, name: str, *, notebook: str | Path, optional_ploomber_args: dict | None = None,
                 **options: Any) -> None:
        notebook = str(notebook)
        if not notebook.endswith(".ipynb"):
            raise PipelineDefinitionError(f"notebook '{notebook}' is not a .ipynb file", step=name)
        if optional_ploomber_args:
            from stepline.errors import NotSupportedError

            raise NotSupportedError("optional_ploomber_args is not supported: Stepline executes notebooks with "
                                    "papermill, not ploomber-engine", step=name,
                                    hint="remove optional_ploomber_args (parameters and returns work as before)")
        super().__init__(name, **options)
        self.notebook = notebook

    def command(self) -> str:
        return self.notebook


class Stub(Step):
    """A placeholder that always succeeds; extra keyword arguments are kept on the step."""

    def __init__(self, name: str, *, description: str = "", on_failure: Any = None,
                 terminate_with_success: bool = False, terminate_with_failure: bool = False, **extra: Any) -> None:
        super().__init__(name, description=description, on_failure=on_failure,
                         terminate_with_success=terminate_with_success, terminate_with_failure=terminate_with_failure)
        self.extra = extra

    def _node_class(self) -> type:
        from stepline.pipeline.nodes import StubNode

        return StubNode

    def _fields(self) -> dict[str, Any]:
        return dict(self.extra)


class Success(Step):
    """Ends the pipeline successfully (added automatically when left out)."""

    def __init__(self, name: str = "success", *, description: str = "") -> None:
        super().__init__(name, description=description)

    @property
    def terminal(self) -> bool:
        return True

    def _node_class(self) -> type:
        from stepline.pipeline.nodes import SuccessNode

        return SuccessNode

    def _fields(self) -> dict[str, Any]:
        return {}


class Fail(Success):
    """Ends the pipeline as failed (added automatically when left out)."""

    def __init__(self, name: str = "fail", *, description: str = "") -> None:
        super().__init__(name, description=description)

    def _node_class(self) -> type:
        from stepline.pipeline.nodes import FailNode

        return FailNode


def _branch(value: Any, owner: str, key: str, path: str):
    from stepline.pipeline.graph import join

    if not isinstance(value, Branch):
        raise PipelineDefinitionError(f"branch '{key}' must be a Pipeline, not {type(value).__name__}", step=owner,
                                      hint="wrap the steps: Pipeline(steps=[...])")
    return value.graph(prefix=join(path, key))


class Parallel(Step):
    """Runs every branch (a Pipeline each), concurrently where the executor allows."""

    def __init__(self, name: str, *, branches: dict[str, Pipeline], **common: Any) -> None:
        super().__init__(name, **common)
        if not isinstance(branches, dict) or not branches:
            raise PipelineDefinitionError("branches must be a non-empty dict of name to Pipeline", step=name)
        self.branches = branches

    def _node_class(self) -> type:
        from stepline.pipeline.composites import ParallelNode

        return ParallelNode

    def node(self, path: str) -> Node:
        self._path = path
        return super().node(path)

    def _fields(self) -> dict[str, Any]:
        return {"branches": {str(k): _branch(v, self.name, str(k), self._path) for k, v in self.branches.items()}}


class Map(Step):
    """Runs ``branch`` once for every item of the list parameter ``iterate_on``, the item as
    ``iterate_as``; ``reducer`` (a lambda or a dotted path) combines what the branches return."""

    def __init__(self, name: str, *, branch: Pipeline, iterate_on: str, iterate_as: str, reducer: str | None = None,
                 **common: Any) -> None:
        super().__init__(name, **common)
        self.branch, self.iterate_on, self.iterate_as, self.reducer = branch, iterate_on, iterate_as, reducer

    def _node_class(self) -> type:
        from stepline.pipeline.composites import MapNode

        return MapNode

    def node(self, path: str) -> Node:
        self._path = path
        return super().node(path)

    def _fields(self) -> dict[str, Any]:
        return {"branch": _branch(self.branch, self.name, "*", self._path), "iterate_on": self.iterate_on,
                "iterate_as": self.iterate_as, "reducer": self.reducer}


class Conditional(Step):
    """Runs the branch whose name equals the value of ``parameter`` (else ``default``, if given)."""

    def __init__(self, name: str, *, parameter: str, branches: dict[str, Pipeline], default: Pipeline | None = None,
                 **common: Any) -> None:
        super().__init__(name, **common)
        if not isinstance(branches, dict) or not branches:
            raise PipelineDefinitionError("branches must be a non-empty dict of value to Pipeline", step=name)
        self.parameter, self.branches, self.default = parameter, branches, default

    def _node_class(self) -> type:
        from stepline.pipeline.composites import ConditionalNode

        return ConditionalNode

    def node(self, path: str) -> Node:
        self._path = path
        return super().node(path)

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"parameter": self.parameter,
                                  "branches": {str(k): _branch(v, self.name, str(k), self._path)
                                               for k, v in self.branches.items()}}
        if self.default is not None:
            fields["default"] = _branch(self.default, self.name, "default", self._path)
        return fields


class Loop(Step):
    """Runs ``branch`` again until it returns ``break_on`` true, at most ``max_iterations`` times.

    Each iteration sees its number (0, 1, ...) as the parameter and the environment variable
    ``index_as``. Reaching ``max_iterations`` ends the loop with the last iteration's status (as in
    runnable); ``fail_on_max_iterations=True`` fails the step instead."""

    def __init__(self, name: str, *, branch: Pipeline, max_iterations: int, break_on: str,
                 index_as: str = "loop_index", fail_on_max_iterations: bool = False, **common: Any) -> None:
        super().__init__(name, **common)
        self.branch, self.max_iterations, self.break_on, self.index_as = branch, max_iterations, break_on, index_as
        self.fail_on_max_iterations = fail_on_max_iterations

    def _node_class(self) -> type:
        from stepline.pipeline.composites import LoopNode

        return LoopNode

    def node(self, path: str) -> Node:
        self._path = path
        return super().node(path)

    def _fields(self) -> dict[str, Any]:
        return {"branch": _branch(self.branch, self.name, "*", self._path), "max_iterations": self.max_iterations,
                "break_on": self.break_on, "index_as": self.index_as,
                "fail_on_max_iterations": self.fail_on_max_iterations}


def function_reference(function: Callable | str, step: str) -> str:
    """The dotted path other processes import ``function`` by, checked now (at build time)."""
    if isinstance(function, str):
        from stepline.pipeline.functions import split_reference
        from stepline.tasks.base import TaskDefinitionError

        try:
            split_reference(function)
        except TaskDefinitionError as exc:
            raise exc.with_context(step=step) from None
        return function.strip()
    if not callable(function):
        raise PipelineDefinitionError(f"function must be a function or a dotted path, not {type(function).__name__} "
                                      f"{function!r:.40}", step=step, hint="pass the function itself, e.g. function=train")
    target = getattr(function, "__wrapped__", function)
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", "")
    if not module or not qualname or "<" in qualname or "." in qualname:
        raise PipelineDefinitionError(f"function {qualname or function!r} is not a module-level function "
                                      "(lambdas, nested functions and methods cannot be imported by another process)",
                                      step=step, hint="define it at the top level of a module")
    if module == "__main__":
        module = main_module_name(step)
    return f"{module}.{qualname}"


def main_module_name(step: str) -> str:
    """The importable name of the script being run (``python pipeline.py`` or ``python -m pkg.mod``).

    The script's module is registered under that name too, so this process does not import the
    file a second time when the step runs."""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and spec.name != "__main__":
        name = spec.name
    else:
        file = getattr(main, "__file__", None)
        if not file or not file.endswith(".py"):
            raise PipelineDefinitionError("a function defined interactively cannot be imported by a step",
                                          step=step, hint="define it in a module (a .py file)")
        name = Path(file).name[: -len(".py")]
    sys.modules.setdefault(name, main)
    return name
