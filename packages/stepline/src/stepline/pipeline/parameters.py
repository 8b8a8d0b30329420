"""A parameter's value as pipelines pass it between steps (and run logs record it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Parameter(BaseModel):
    """A parameter's value. ``object`` values are references into the catalog."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["json", "metric", "object"] = "json"
    value: Any = None
