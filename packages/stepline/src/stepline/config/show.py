"""``stepline config show``: the effective configuration as YAML, secrets masked, each section
headed by the layers it came from."""

from __future__ import annotations

import re
from typing import Any

from stepline.config.loader import DEFAULTS, build_services, read_config

MASK = "********"
#: settings whose values are masked even when a component's describe() shows them
_SECRET_KEY = re.compile(r"pass(word|wd)?|token|secret|api[_-]?key|access[_-]?key|credential|private", re.IGNORECASE)


def effective_yaml(reference: str | None) -> str:
    """The configuration a run with ``reference`` would use, defaults included, as YAML."""
    import yaml

    stack = read_config(reference)
    services = build_services(stack)
    described = services.describe()
    lines = [f"# effective configuration of {stack.reference}"]
    for section in DEFAULTS:
        lines.append(f"# {section}: {_origin(stack, section)}")
        lines.append(_dump({section: mask(described[section])}, yaml))
    for name, body in described.get("executors", {}).items():
        lines.append(f"# executors.{name}: {_origin(stack, f'executors.{name}')}")
        lines.append(_dump({"executors": {name: mask(body)}}, yaml))
    return "\n".join(lines) + "\n"


def _origin(stack, section: str) -> str:
    layers = stack.origins.get(section)
    return "from " + ", then ".join(layers) if layers else "default"


def _dump(value: dict[str, Any], yaml) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True).rstrip("\n")


def mask(value: Any, key: str = "") -> Any:
    """``value`` with every setting named like a secret (password, token, ...) masked."""
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if key and _SECRET_KEY.search(key) and value not in (None, "", MASK):
        return MASK
    return value
