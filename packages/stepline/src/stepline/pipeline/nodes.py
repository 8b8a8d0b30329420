"""Pydantic models of the steps of a pipeline, one class per ``type:``.

Classes are looked up by ``type`` in the plugin registry (kind ``node``), so a plugin can add node
types; the built-ins are registered through the same hook.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stepline.pipeline.defaults import empty_list
from stepline.pipeline.uv_spec import UvSpec

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph


class Node(BaseModel):
    """Fields every step has."""

    # Built on first use: every node type is imported when the plugins load, a pipeline uses a few.
    model_config = ConfigDict(extra="forbid", defer_build=True)
    kind: ClassVar[str] = "node"
    #: Terminal nodes end a graph; they take no ``next``.
    terminal: ClassVar[bool] = False
    #: Composite nodes hold branches and are run by the executor's composite logic.
    composite: ClassVar[bool] = False

    type: str
    description: str = ""
    next: str | None = None
    on_failure: str | None = None

    def branch_graphs(self) -> dict[str, Graph]:
        """Sub-graphs of a composite step, keyed by branch name (empty for leaves)."""
        return {}

    def branch_graph(self, key: str) -> Graph | None:
        """The sub-graph that runs for branch ``key`` (a map runs one graph for every key)."""
        return self.branch_graphs().get(key)


class ReturnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str
    kind: Literal["json", "object", "metric"] = "json"


class CatalogSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    get: list[str] = Field(default_factory=empty_list)
    put: list[str] = Field(default_factory=empty_list)
    store_copy: bool = True

    @field_validator("get", "put")
    @classmethod
    def _inside_folder(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            path = PurePosixPath(pattern)
            if path.is_absolute() or ".." in path.parts:
                raise ValueError(f"catalog pattern '{pattern}' must stay inside the data folder "
                                 "(no absolute paths, no '..')")
        return patterns


MAX_ATTEMPTS = 1000
MAX_DELAY_SECONDS = 86_400  # a day between two attempts
MAX_TIMEOUT_SECONDS = 30 * 86_400


class RetryBackoff(BaseModel):
    """How the delay between attempts grows: attempt ``n + 1`` starts
    ``min(retry_delay_seconds * factor ** (n - 1), max_seconds)`` after attempt ``n`` failed; with
    ``jitter``, a uniformly random part of that (AWS's "full jitter")."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    factor: float = Field(2.0, ge=1.0, le=10.0, allow_inf_nan=False)
    max_seconds: float | None = Field(None, gt=0, le=MAX_DELAY_SECONDS, allow_inf_nan=False)
    jitter: bool = False


class TaskNode(Node):
    """A step that runs the user's work: a python function or a shell command."""

    name: ClassVar[str] = "task"
    type: Literal["task"] = "task"
    command_type: str = "python"
    command: str
    returns: list[ReturnSpec] = Field(default_factory=empty_list)
    catalog: CatalogSpec | None = None
    secrets: list[str] = Field(default_factory=empty_list)
    max_attempts: int = Field(1, ge=1, le=MAX_ATTEMPTS)
    retry_delay_seconds: float = Field(0, ge=0, le=MAX_DELAY_SECONDS, allow_inf_nan=False)
    retry_backoff: RetryBackoff | None = None
    timeout_seconds: float | None = Field(None, gt=0, le=MAX_TIMEOUT_SECONDS, allow_inf_nan=False)
    overrides: dict[str, Any] = Field(default_factory=dict)
    executor: str | None = None  # a named entry of the config's `executors:`; None: the main executor
    uv: UvSpec | None = None  # run the attempts in an environment uv builds (see stepline.envs)

    @field_validator("returns", mode="before")
    @classmethod
    def _names_to_specs(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("command is empty")
        return value

    def retry_delay(self, failed_attempt: int, random: Any = None) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (1, 2, ...) failed, before the next one.
        ``random`` is a function returning a float in [0, 1) (``random.random``), used for jitter."""
        delay = float(self.retry_delay_seconds)
        backoff = self.retry_backoff
        if backoff is None or not delay:
            return delay
        delay *= backoff.factor ** min(failed_attempt - 1, 64)  # the exponent bound keeps it finite
        delay = min(delay, backoff.max_seconds or MAX_DELAY_SECONDS)
        if backoff.jitter:
            import random as _random

            delay *= (random or _random.random)()
        return delay

    @model_validator(mode="after")
    def _unique_returns(self) -> TaskNode:
        names = [r.name for r in self.returns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"returns name {dupes[0]!r} more than once")
        return self


class StubNode(Node):
    """A placeholder that always succeeds; it accepts (and ignores) any other keys."""

    model_config = ConfigDict(extra="allow")
    name: ClassVar[str] = "stub"
    type: Literal["stub"] = "stub"


class SuccessNode(Node):
    terminal: ClassVar[bool] = True
    name: ClassVar[str] = "success"
    type: Literal["success"] = "success"


class FailNode(Node):
    terminal: ClassVar[bool] = True
    name: ClassVar[str] = "fail"
    type: Literal["fail"] = "fail"

