"""Top-level keys that only hold YAML anchors, or are ``x-`` extensions, in pipeline, job and config files.

runnable's files define a branch once under an extra top-level key (``branch: &branch {...}``) and
use it as ``branch: *branch`` under ``dag:``; compose files use ``x-defaults: &defaults`` for
``<<: *defaults``. Such keys are accepted silently. A key that is neither (a typo like ``dga:``)
stays an error for the caller to report. Whether a key "defines an anchor" is only visible below
the loaded data, so the file is parsed again, to YAML events, and only when an unknown key is found.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any


def drop_anchor_holders(raw: dict[Any, Any], *, file: str | Path, known: Collection[str]) -> dict[Any, Any]:
    """``raw`` without its unknown top-level keys that start with ``x-`` or define an anchor; the
    remaining unknown keys are left for the caller's one-line error."""
    unknown = [key for key in raw if key not in known]
    if not unknown:
        return raw
    holders = {key for key in unknown if str(key).startswith("x-")}
    if len(holders) < len(unknown):
        holders |= anchored_top_level_keys(Path(file).read_text(encoding="utf-8"))
    return {key: value for key, value in raw.items() if key in known or key not in holders}


def anchored_top_level_keys(text: str) -> set[str]:
    """The keys of the top-level mapping whose value defines an anchor anywhere inside it."""
    import yaml

    found: set[str] = set()
    depth = 0  # open collections; 1 = inside the top-level mapping
    done = 0  # complete nodes seen at depth 1: keys at even counts, values at odd ones
    key: str | None = None
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            done += depth == 1
            continue
        if not isinstance(event, yaml.NodeEvent):
            if isinstance(event, yaml.DocumentEndEvent):
                break  # only the first document counts
            continue
        if depth == 0 and not isinstance(event, yaml.MappingStartEvent):
            break  # not a mapping: the caller reports it
        if depth == 1 and done % 2 == 0:  # a key (a complex key names nothing)
            key = event.value if isinstance(event, yaml.ScalarEvent) else None
        elif depth >= 1 and key is not None and event.anchor:
            found.add(key)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif depth == 1:
            done += 1
    return found
