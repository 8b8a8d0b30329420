"""The task type contract and what a task run receives and returns."""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stepline.component import Component
from stepline.errors import StepLineError, TaskDefinitionError  # noqa: F401 - TaskDefinitionError: imported from here

if TYPE_CHECKING:
    from stepline.pipeline.nodes import TaskNode
    from stepline.tasks.output import OutputSink


class TaskFailed(Exception):
    """The user's work failed (non-zero exit, an exception, a timeout). The step may retry."""


@dataclass
class Invocation:
    """Everything one attempt of a task needs."""

    node: TaskNode
    step: str  # dotted internal name
    parameters: dict[str, Any]  # python values (objects already unpickled)
    secrets: dict[str, str]
    output: OutputSink
    timeout: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # filled by stepline.track()
    attempt: int = 1
    #: Files the attempt produced besides its returns (an executed notebook), by catalog name; the
    #: step context stores them in the run's catalog and lists them in the step log.
    files: dict[str, bytes] = field(default_factory=dict)
    #: Environment variables of the task's process besides its parameters: the ``index_as`` name of
    #: every loop around the step, set to the iteration number.
    environment: dict[str, str] = field(default_factory=dict)


class Pickled(bytes):
    """An object parameter or return still in its pickled form: a task type that runs the attempt in
    another interpreter (a step's environment) unpickles and pickles objects there, not here."""


class TaskType(Component, abc.ABC):
    kind: ClassVar[str] = "task"
    #: True when :meth:`run` takes object parameters as :class:`Pickled` bytes (and may return them so).
    takes_pickled: ClassVar[bool] = False

    def check(self, node: TaskNode) -> None:
        """Static checks before any step runs (e.g. the function imports). Raise StepLineError."""

    def inputs(self, node: TaskNode, available: list[str]) -> list[str]:
        """The parameters this task receives (recorded as the attempt's input parameters)."""
        return available

    @abc.abstractmethod
    def run(self, invocation: Invocation) -> dict[str, Any]:
        """Run one attempt; return the values of ``node.returns`` by name. Raise TaskFailed."""


def zip_returns(node: TaskNode, result: Any) -> dict[str, Any]:
    """Pair a python function's return value with the names in ``returns``."""
    names = [r.name for r in node.returns]
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: result}
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = len(result) if isinstance(result, (tuple, list)) else 1
        raise TaskFailed(f"'returns' names {len(names)} values but the function returned {got}")
    return dict(zip(names, result))


def as_json_value(name: str, value: Any) -> Any:
    """A JSON-able form of a returned value, or TaskFailed saying to use kind: object."""
    from pydantic import BaseModel

    from stepline.params import MAX_VALUE_DEPTH, value_depth

    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if value_depth(value) > MAX_VALUE_DEPTH:
        raise TaskFailed(f"return '{name}' nests lists or mappings more than {MAX_VALUE_DEPTH} levels deep; "
                         f"declare it {{name: {name}, kind: object}} to pickle it into the catalog")
    try:
        json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        raise TaskFailed(f"return '{name}' ({type(value).__name__}) is not JSON; declare it "
                         f"{{name: {name}, kind: object}} to pickle it into the catalog") from None
    return value


