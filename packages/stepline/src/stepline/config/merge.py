"""How configuration layers combine: later over earlier, section by section. Pure functions."""

from __future__ import annotations

from typing import Any


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged into ``base``: mappings merge key by key, at any depth; anything else
    (a list, a scalar) in ``over`` replaces what ``base`` had."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return over


def merge_section(base: dict[str, Any] | None, over: dict[str, Any]) -> dict[str, Any]:
    """One section (``{type, config}``) of a later layer over the same section of an earlier one.

    A later layer that names another ``type`` replaces the section: the settings of one backend
    mean nothing to another. A later layer without ``type`` keeps the earlier one and tweaks its
    settings."""
    if base is None or (over.get("type") is not None and over.get("type") != base.get("type")):
        return {"type": over.get("type"), "config": dict(over.get("config") or {})}
    return {"type": base.get("type"), "config": deep_merge(base.get("config") or {}, over.get("config") or {})}
