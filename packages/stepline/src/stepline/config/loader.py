"""Load a configuration file into the executor and services a run uses.

Up to five sections, each ``type:`` + ``config:``, merged from a stack of files
(:mod:`stepline.config.stacks`). Missing sections take the defaults (local executor, chunked run
log and file-system catalog under ``.stepline/``, secrets from the environment, no tracker).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stepline.config.stacks import ALIASES
from stepline.errors import ConfigError
from stepline.run.services import Services

__all__ = ["ALIASES", "CONFIG_ENV_VARS", "DEFAULTS", "Services", "build_services", "config_files", "load_services",
           "read_config"]

if TYPE_CHECKING:
    from stepline.config.stacks import Stack

DEFAULTS: dict[str, str] = {
    "executor": "local",
    "run_log_store": "chunked-fs",
    "catalog": "file-system",
    "secrets": "env",
    "experiment_tracker": "do-nothing",
}
#: runnable's names for components Stepline has under another name, by section.
TYPE_ALIASES: dict[str, dict[str, str]] = {
    "secrets": {"env-secrets": "env", "env-secrets-manager": "env"},
}
#: runnable's components that Stepline offers differently: the error names the equivalent.
EQUIVALENTS: dict[tuple[str, str], str] = {
    ("catalog", "s3"): "use catalog type 'fsspec' (stepline-fsspec) with url: s3://BUCKET/PREFIX",
    ("catalog", "minio"): "use catalog type 'fsspec' (stepline-fsspec) with an s3:// url and the endpoint in "
                          "storage_options",
    ("run_log_store", "minio"): "use run log store type 'chunked-fsspec' (stepline-fsspec) with an s3:// url",
    ("run_log_store", "chunked-minio"): "use run log store type 'chunked-fsspec' (stepline-fsspec) with an "
                                        "s3:// url",
}
#: each may hold a reference, like ``-c``: ``stack:platform,team.yaml``
CONFIG_ENV_VARS = ("STEPLINE_CONFIGURATION_FILE", "RUNNABLE_CONFIGURATION_FILE")


def configuration_reference(reference: str | None) -> str | None:
    """The reference a run uses: the one given (``-c``), else the first environment variable set."""
    if reference:
        return reference
    return next((os.environ[v] for v in CONFIG_ENV_VARS if os.environ.get(v)), None)


def read_config(reference: str | None) -> Stack:
    """The merged sections of a reference (files and ``stack:NAME``, comma-separated, see
    :mod:`stepline.config.stacks`), or of ``$STEPLINE_CONFIGURATION_FILE``; none without either."""
    from stepline.config.stacks import Stack, read_stack

    reference = configuration_reference(reference)
    return read_stack(reference) if reference else Stack(reference="default configuration")


def config_files(reference: str | None) -> list[Path]:
    """Every file a reference reads, ``extends:`` included: what an executor that runs steps in
    another file system (a container) must make visible there."""
    return read_config(reference).files


def load_services(path: str | None = None) -> Services:
    """Build the executor and services a configuration names (defaults for missing sections)."""
    return build_services(read_config(path))


def build_services(stack: Stack) -> Services:
    """The executor and services of a merged configuration (defaults for missing sections)."""
    built: dict[str, Any] = {}
    for section, default_type in DEFAULTS.items():
        chosen = stack.sections.get(section, {"type": default_type, "config": {}})
        source = stack.source(section)
        cls = _component_class(section, chosen["type"], source)
        built[section] = cls.from_config(chosen["config"], source=source)
    executors = {}
    for name, entry in stack.sections.get("executors", {}).items():
        source = stack.source(f"executors.{name}")
        cls = _component_class("executor", entry["type"], source)
        executors[name] = cls.from_config(entry["config"], source=f"{source} (executors.{name})")
    return Services(**built, executors=executors)


def _component_class(section: str, name: str, source: str) -> type:
    """The class a section's ``type:`` names, accepting runnable's names for the same component."""
    from stepline.plugins.manager import component_class, get_registry

    name = TYPE_ALIASES.get(section, {}).get(name, name)
    if (section, name) in EQUIVALENTS and name not in get_registry().names(section):
        raise ConfigError(f"{section.replace('_', ' ')} type '{name}' is runnable's; Stepline has no component "
                          "of that name", file=source, hint=EQUIVALENTS[section, name])
    return component_class(section, name, source=source)


def config_dir(path: str | None) -> Path:
    return Path(path).resolve().parent if path else Path.cwd()
