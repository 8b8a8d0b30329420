"""Initial parameters: a YAML file, overridden by STEPLINE_PRM_<name> (or RUNNABLE_PRM_<name>)."""

from __future__ import annotations

import json
import os
from typing import Any

from stepline.errors import ParameterError
from stepline.runlog.models import Parameter

ENV_PREFIXES = ("RUNNABLE_PRM_", "STEPLINE_PRM_")  # later wins


def decode(text: str) -> Any:
    """JSON-decode when possible, else keep the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def initial_parameters(params_file: str | None) -> dict[str, Parameter]:
    values: dict[str, Any] = {}
    if params_file:
        from stepline.pipeline.yaml_io import load_yaml_file

        loaded = load_yaml_file(params_file, what="parameters")
        if loaded is not None and not isinstance(loaded, dict):
            raise ParameterError("a parameters file must be a mapping of name: value", file=params_file)
        values.update(loaded or {})
    for prefix in ENV_PREFIXES:
        for key, text in os.environ.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                values[key[len(prefix):]] = decode(text)
    out = {}
    for name, value in values.items():
        try:
            json.dumps(value)
        except TypeError:
            value = json.loads(json.dumps(value, default=str))
        out[str(name)] = Parameter(kind="json", value=value)
    return out
