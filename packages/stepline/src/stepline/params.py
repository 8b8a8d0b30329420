"""Initial parameters: a YAML file, overridden by STEPLINE_PRM_<name> (or RUNNABLE_PRM_<name>)."""

from __future__ import annotations

import json
import os
from typing import Any

from stepline.errors import ParameterError
from stepline.runlog.models import Parameter

ENV_PREFIXES = ("RUNNABLE_PRM_", "STEPLINE_PRM_")  # later wins
MAX_VALUE_DEPTH = 64  # lists and mappings inside each other, as for YAML files


def decode(text: str) -> Any:
    """JSON-decode when possible (and not nested deeper than MAX_VALUE_DEPTH), else keep the string."""
    if text.count("[") + text.count("{") > MAX_VALUE_DEPTH and too_deep_text(text):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def too_deep_text(text: str) -> bool:
    """Whether JSON text nests brackets deeper than MAX_VALUE_DEPTH (strings are not skipped: a
    bracket inside a string only makes the check stricter)."""
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_VALUE_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def value_depth(value: Any) -> int:
    """How deep lists and mappings nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, (list, tuple)) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_VALUE_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


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
