"""The run log, as written down by every store (the documented runnable/magnus shape)."""

from __future__ import annotations

import datetime as dt
import time
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stepline.pipeline.defaults import empty_list
from stepline.pipeline.parameters import Parameter


class Status(str, Enum):
    CREATED = "CREATED"
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    TRIGGERED = "TRIGGERED"


def utc_now() -> str:
    """An ISO-8601 UTC timestamp with microseconds (``2026-12-01T16:33:11.399185+00:00``, as
    ``datetime.isoformat`` writes it). Every attempt takes two: the part up to the second is formatted
    once per second."""
    global _SECOND
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _SECOND
    if cached[0] != second:
        cached = _SECOND = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{micro:06d}+00:00"


_SECOND: tuple[int, str] = (-1, "")  # (the second, formatted): one tuple, so threads never mix two


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataCatalogItem(_Model):
    name: str
    data_hash: str = ""
    catalog_relative_path: str = ""
    catalog_handler_location: str = ""
    stage: Literal["get", "put"] = "put"
    stored: bool = True


class CodeIdentity(_Model):
    code_identifier: str | None = None
    code_identifier_type: str = "git"
    code_identifier_dependable: bool = False
    code_identifier_url: str | None = None
    code_identifier_message: str | None = None


class Attempt(_Model):
    attempt_number: int = 1
    start_time: str = Field(default_factory=utc_now)
    end_time: str | None = None
    status: Status = Status.PROCESSING
    message: str = ""
    input_parameters: dict[str, Parameter] = Field(default_factory=dict)
    output_parameters: dict[str, Parameter] = Field(default_factory=dict)
    user_defined_metrics: dict[str, Any] = Field(default_factory=dict)

    @property
    def duration_seconds(self) -> float | None:
        if not self.end_time:
            return None
        return (dt.datetime.fromisoformat(self.end_time) - dt.datetime.fromisoformat(self.start_time)).total_seconds()


class StepEnvironment(_Model):
    """The environment a step's attempts ran in (a step with ``uv:`` or inline script metadata):
    enough to build it again elsewhere."""

    manager: str = "uv"
    key: str  # the hash naming it on the machine that built it
    source: str = "uv:"  # where the step asked for it: uv:, inline script metadata, or both
    spec: dict[str, Any] = Field(default_factory=dict)
    python: str = ""  # the interpreter's version
    interpreter: str = ""  # the interpreter the environment was made from
    packages: dict[str, str] = Field(default_factory=dict)  # the resolved versions, by name
    files: dict[str, str] = Field(default_factory=dict)  # digests of the requirements file, pyproject, uv.lock
    path: str = ""
    uv: str = ""  # uv's version
    build_seconds: float = 0.0


class StepLog(_Model):
    name: str
    internal_name: str
    status: Status = Status.CREATED
    step_type: str = "task"
    message: str = ""
    mock: bool = False
    attempts: list[Attempt] = Field(default_factory=empty_list)
    branches: dict[str, BranchLog] = Field(default_factory=dict)
    data_catalog: list[DataCatalogItem] = Field(default_factory=empty_list)
    code_identities: list[CodeIdentity] = Field(default_factory=empty_list)
    environment: StepEnvironment | None = None


class BranchLog(_Model):
    internal_name: str
    status: Status = Status.CREATED
    message: str = ""
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    steps: dict[str, StepLog] = Field(default_factory=dict)


class RunLog(_Model):
    run_id: str
    status: Status = Status.CREATED
    tag: str = ""
    dag_hash: str = ""
    original_run_id: str = ""
    pipeline_file: str = ""
    start_time: str = Field(default_factory=utc_now)
    end_time: str | None = None
    message: str = ""
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    #: The parameters the run started with (``parameters`` holds the current ones); re-runs start from them.
    initial_parameters: dict[str, Parameter] = Field(default_factory=dict)
    run_config: dict[str, Any] = Field(default_factory=dict)
    steps: dict[str, StepLog] = Field(default_factory=dict)

    def find_step(self, internal_name: str) -> StepLog | None:
        """The step log at a dotted internal name, searching through branches."""
        steps, found = self.steps, None
        for scope in _scopes(internal_name):
            found = steps.get(scope)
            if found is None:
                return None
            steps = found.steps if isinstance(found, BranchLog) else found.branches
        return found if isinstance(found, StepLog) else None


def _scopes(internal_name: str) -> list[str]:
    """'a.b.c' -> ['a', 'a.b', 'a.b.c']: the keys a step log is nested under."""
    parts = internal_name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


StepLog.model_rebuild()
