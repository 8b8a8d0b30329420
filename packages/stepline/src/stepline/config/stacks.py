"""Configuration stacks: files that ``extends:`` other files or packaged stacks, given one or
several at a time, merged into the one configuration a run uses.

A *reference* is what ``-c`` and ``STEPLINE_CONFIGURATION_FILE`` take: one entry, or several
separated by commas (``stack:platform,team.yaml``). An entry is a file path or ``stack:NAME``, a
stack an installed package offers through the ``stepline_stacks`` hook. Entries, and the files
they extend, are read parents first; later layers merge over earlier ones (:mod:`.merge`).
Placeholders are resolved after merging, so a setting a later layer replaces never needs its
variable; ``type:`` and ``extends:`` are resolved as they are read, because merging depends on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepline.config.merge import merge_section
from stepline.config.placeholders import runnable_variables, substitute
from stepline.errors import ConfigError, did_you_mean

SEPARATOR = ","
STACK_PREFIX = "stack:"
SECTIONS = ("executor", "run_log_store", "catalog", "secrets", "experiment_tracker")
ALIASES = {
    "pipeline-executor": "executor",
    "pipeline_executor": "executor",
    # runnable's jobs read their executor from a section of its own; Stepline runs a job with the executor
    "job-executor": "executor",
    "job_executor": "executor",
    "run-log-store": "run_log_store",
    "experiment-tracker": "experiment_tracker",
}
NAMED_EXECUTORS = "executors"


@dataclass(frozen=True)
class Pending:
    """A string with placeholders, kept as written until the layers are merged."""

    text: str
    file: str


@dataclass
class Layer:
    """The sections of one file or stack, as written there (placeholders pending)."""

    origin: str
    path: Path | None
    sections: dict[str, Any]


@dataclass
class Stack:
    """The merged configuration of a reference: its sections and where each came from."""

    reference: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: section (or ``executors.NAME``) -> the layers that set it, earliest first
    origins: dict[str, list[str]] = field(default_factory=dict)
    #: every file read, extends included (executors that run steps elsewhere mount them)
    files: list[Path] = field(default_factory=list)

    def source(self, section: str) -> str:
        """The name error messages give for ``section``: its layers, or the reference."""
        return " + ".join(self.origins.get(section) or [self.reference])


def split_reference(reference: str) -> list[str]:
    return [part.strip() for part in reference.split(SEPARATOR) if part.strip()]


def read_stack(reference: str) -> Stack:
    """Read every layer of ``reference``, merge them, resolve placeholders."""
    layers: list[Layer] = []
    for entry in split_reference(reference):
        layers += _read_entry(entry, relative_to=None, chain=())
    stack = Stack(reference=reference, files=[layer.path for layer in layers if layer.path])
    for layer in layers:
        for section, body in layer.sections.items():
            if section == NAMED_EXECUTORS:
                named = stack.sections.setdefault(NAMED_EXECUTORS, {})
                for name, entry in body.items():
                    named[name] = merge_section(named.get(name), entry)
                    _note(stack.origins, f"{NAMED_EXECUTORS}.{name}", layer.origin)
            else:
                stack.sections[section] = merge_section(stack.sections.get(section), body)
                _note(stack.origins, section, layer.origin)
    for section, body in stack.sections.items():
        entries = body.items() if section == NAMED_EXECUTORS else [(None, body)]
        for name, entry in entries:
            where = f"{NAMED_EXECUTORS}.{name}" if name else section
            if entry["type"] is None:
                raise ConfigError(f"section '{where}' has no 'type:', neither here nor in a file it extends",
                                  file=stack.source(where), hint="add 'type:' to the section")
            entry["config"] = _resolve(entry["config"], f"{where}.config")
    return stack


def _note(origins: dict[str, list[str]], section: str, origin: str) -> None:
    """``origin`` set ``section`` last (a layer read twice is listed once, where it last applied)."""
    layers = origins.setdefault(section, [])
    if origin in layers:
        layers.remove(origin)
    layers.append(origin)


def _read_entry(entry: str, *, relative_to: Layer | None, chain: tuple[tuple[str, str], ...]) -> list[Layer]:
    """The layers of one entry: what it extends (recursively), then itself."""
    if entry.startswith(STACK_PREFIX):
        name = entry[len(STACK_PREFIX):].strip()
        origin, identity, document, path = _packaged(name, relative_to)
    else:
        origin, path = entry, Path(entry)
        if relative_to is not None:
            if not path.is_absolute():
                if relative_to.path is None:
                    raise ConfigError(f"extends '{entry}': a stack given as a mapping can only extend "
                                      "other stacks or absolute paths", file=relative_to.origin)
                path = relative_to.path.parent / path
            origin = _display(path)
            if not path.is_file():
                raise ConfigError(f"extends '{entry}': no such file {origin}", file=relative_to.origin,
                                  hint="a relative path is relative to the file that extends it")
        from stepline.pipeline.yaml_io import load_yaml_file

        document = load_yaml_file(origin, what="configuration")
        path = path.resolve()
        identity = str(path)
    identities = [known for known, _ in chain]
    if identity in identities:
        loop = " -> ".join([name for _, name in chain[identities.index(identity):]] + [origin])
        raise ConfigError(f"'extends' makes a cycle: {loop}", file=relative_to.origin if relative_to else origin,
                          hint="remove one of the extends")
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError("a configuration file must be a mapping of sections", file=origin)
    if path is not None:  # anchor holders and x- keys (`x-defaults: &defaults`) are not sections
        from stepline.pipeline.anchor_holders import drop_anchor_holders

        document = drop_anchor_holders(document, file=path, known=[*SECTIONS, *ALIASES, NAMED_EXECUTORS, "extends"])
    layer = Layer(origin=origin, path=path, sections={})
    parents = _extends(document.get("extends"), origin)
    layers = [lay for parent in parents for lay in _read_entry(parent, relative_to=layer, chain=(*chain, (identity, origin)))]
    layer.sections = _sections({k: v for k, v in document.items() if k != "extends"}, origin)
    return [*layers, layer]


def _display(path: Path) -> str:
    """``path`` as messages show it: relative to the working folder when it is inside it."""
    relative = os.path.relpath(path.resolve())
    return str(path.resolve()) if relative.startswith("..") else relative


def _packaged(name: str, relative_to: Layer | None) -> tuple[str, str, Any, Path | None]:
    """(origin, identity, document, path) of the packaged stack ``name``."""
    from stepline.plugins.manager import get_stacks

    stacks = get_stacks()
    found = stacks.get(name)
    if found is None:
        raise ConfigError(f"no installed package offers the stack '{name}'",
                          file=relative_to.origin if relative_to else None,
                          hint=did_you_mean(name, stacks) or f"installed stacks: {', '.join(sorted(stacks)) or 'none'}")
    origin = f"{STACK_PREFIX}{name}"
    if isinstance(found.source, dict):
        return origin, origin, found.source, None
    from stepline.pipeline.yaml_io import load_yaml_file

    path = Path(found.source).resolve()
    return origin, str(path), load_yaml_file(path, what="configuration"), path


def _extends(value: Any, origin: str) -> list[str]:
    if value is None:
        return []
    parents = value if isinstance(value, list) else [value]
    if not parents or not all(isinstance(p, str) and p.strip() for p in parents):
        raise ConfigError("'extends' must be a file path, stack:NAME, or a list of them", file=origin,
                          hint="extends: ../base.yaml")
    return [substitute(p, file=origin, key="extends") for p in parents]


def _sections(document: dict[str, Any], origin: str) -> dict[str, Any]:
    """Check the shape of a layer's sections; ``type`` is optional in a layer (it may tweak the
    section of a file it extends) but checked once all layers are merged."""
    sections: dict[str, Any] = {}
    for key, body in document.items():
        section = ALIASES.get(key, key)
        if section == NAMED_EXECUTORS:
            if not isinstance(body, dict):
                raise ConfigError("section 'executors' must map names to {type, config}", file=origin,
                                  hint="executors: {gpu: {type: local-container, config: {docker_image: ...}}}")
            sections[section] = {str(name): _section(f"executors.{name}", entry, origin)
                                 for name, entry in body.items()}
            continue
        if section not in SECTIONS:
            raise ConfigError(f"unknown section '{key}'", file=origin,
                              hint=did_you_mean(str(key), [*SECTIONS, *ALIASES, NAMED_EXECUTORS, "extends"])
                              or f"sections: {', '.join(SECTIONS)}")
        if section in sections:
            first = next(k for k in document if ALIASES.get(k, k) == section)
            raise ConfigError(f"'{first}' and '{key}' both set the '{section}' section", file=origin,
                              hint="keep one: a pipeline and a job run with the same executor")
        sections[section] = _section(str(key), body, origin)
    return sections


def _section(key: str, body: Any, origin: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not body:
        raise ConfigError(f"section '{key}' needs 'type:' (and optionally 'config:')", file=origin)
    extra = set(body) - {"type", "config"}
    if extra:
        bad = str(min(extra, key=str))
        raise ConfigError(f"section '{key}': unknown key '{bad}'", file=origin,
                          hint=did_you_mean(bad, ["type", "config"]) or "only 'type' and 'config' are allowed")
    config = body.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"section '{key}': 'config' must be a mapping", file=origin)
    kind = body.get("type")
    if kind is not None:
        kind = substitute(str(kind), file=origin, key=f"{key}.type")
    return {"type": kind, "config": _pending(config, origin)}


def _pending(value: Any, origin: str) -> Any:
    if isinstance(value, dict):
        return {k: _pending(v, origin) for k, v in value.items()}
    if isinstance(value, list):
        return [_pending(v, origin) for v in value]
    if isinstance(value, str) and "$" in value:
        return Pending(value, origin)
    return value


def _resolve(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Pending):
        return substitute(runnable_variables(value.text), file=value.file, key=key)
    return value
