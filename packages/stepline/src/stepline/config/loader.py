"""Load a configuration file into the executor and services a run uses.

One YAML file with up to five sections, each ``type:`` + ``config:``. Missing sections take the
defaults (local executor, chunked run log and file-system catalog under ``.stepline/``, secrets
from the environment, no tracker). ``${VAR}`` and ``${VAR:-default}`` resolve from the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stepline.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from stepline.catalog.base import Catalog
    from stepline.executors.base import Executor
    from stepline.runlog.base import RunLogStore
    from stepline.secrets.base import Secrets
    from stepline.tracking.base import ExperimentTracker

DEFAULTS: dict[str, str] = {
    "executor": "local",
    "run_log_store": "chunked-fs",
    "catalog": "file-system",
    "secrets": "env",
    "experiment_tracker": "do-nothing",
}
ALIASES = {
    "pipeline-executor": "executor",
    "pipeline_executor": "executor",
    "run-log-store": "run_log_store",
    "experiment-tracker": "experiment_tracker",
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
CONFIG_ENV_VARS = ("STEPLINE_CONFIGURATION_FILE", "RUNNABLE_CONFIGURATION_FILE")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
#: runnable's ``$name`` variables, set as RUNNABLE_VAR_name (or STEPLINE_VAR_name) in the environment.
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
VARIABLE_PREFIXES = ("STEPLINE_VAR_", "RUNNABLE_VAR_")


@dataclass
class Services:
    """The executor and services of one run."""

    executor: Executor
    run_log_store: RunLogStore
    catalog: Catalog
    secrets: Secrets
    experiment_tracker: ExperimentTracker
    #: Named executors of the optional ``executors:`` section, for steps that say ``executor: NAME``.
    executors: dict[str, Executor] = field(default_factory=dict)

    def services(self) -> list[Any]:
        return [self.run_log_store, self.catalog, self.secrets, self.experiment_tracker]

    def describe(self) -> dict[str, Any]:
        """The full effective configuration, as recorded in the run log's ``run_config``."""
        described = {section: getattr(self, section).describe() for section in DEFAULTS}
        if self.executors:
            described["executors"] = {name: ex.describe() for name, ex in self.executors.items()}
        return described


def resolve_placeholders(value: Any, *, source: str) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of a loaded YAML document, and
    runnable's ``$name`` where ``STEPLINE_VAR_name`` or ``RUNNABLE_VAR_name`` is set (any other
    ``$word``, such as a shell variable in a command, is left as it is)."""
    if isinstance(value, dict):
        return {k: resolve_placeholders(v, source=source) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(v, source=source) for v in value]
    if isinstance(value, str) and "$" in value:
        value = _VARIABLE.sub(_variable, value)
    if isinstance(value, str) and "${" in value:
        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(f"placeholder '${{{name}}}' is not set in the environment", file=source,
                              hint=f"export {name}=... or write ${{{name}:-default}}")
        return _PLACEHOLDER.sub(substitute, value)
    return value


def _variable(match: re.Match[str]) -> str:
    name = match.group(1)
    return next((os.environ[p + name] for p in VARIABLE_PREFIXES if p + name in os.environ), match.group(0))


def read_config(path: str | None) -> tuple[dict[str, dict[str, Any]], str]:
    """The raw sections of a config file (or of $STEPLINE_CONFIGURATION_FILE), and its name."""
    if path is None:
        path = next((os.environ[v] for v in CONFIG_ENV_VARS if os.environ.get(v)), None)
    if path is None:
        return {}, "default configuration"
    from stepline.pipeline.yaml_io import load_yaml_file

    raw = load_yaml_file(path, what="configuration")
    if raw is None:
        return {}, path
    if not isinstance(raw, dict):
        raise ConfigError("a configuration file must be a mapping of sections", file=path)
    from stepline.pipeline.anchor_holders import drop_anchor_holders

    raw = drop_anchor_holders(raw, file=path, known=[*DEFAULTS, *ALIASES, "executors"])
    sections: dict[str, dict[str, Any]] = {}
    for key, body in raw.items():
        section = ALIASES.get(key, key)
        if section == "executors":  # named executors for steps that say `executor: NAME`
            sections["executors"] = _named_executors(body, path)
            continue
        if section not in DEFAULTS:
            raise ConfigError(f"unknown section '{key}'", file=path,
                              hint=did_you_mean(key, list(DEFAULTS) + list(ALIASES))
                              or f"sections: {', '.join(DEFAULTS)}")
        if not isinstance(body, dict) or "type" not in body:
            raise ConfigError(f"section '{key}' needs 'type:' (and optionally 'config:')", file=path)
        extra = set(body) - {"type", "config"}
        if extra:
            bad = sorted(extra)[0]
            raise ConfigError(f"section '{key}': unknown key '{bad}'", file=path,
                              hint=did_you_mean(bad, ["type", "config"]) or "only 'type' and 'config' are allowed")
        config = body.get("config") or {}
        if not isinstance(config, dict):
            raise ConfigError(f"section '{key}': 'config' must be a mapping", file=path)
        sections[section] = {"type": str(body["type"]), "config": resolve_placeholders(config, source=path)}
    return sections, path


def _named_executors(body: Any, path: str) -> dict[str, dict[str, Any]]:
    """``executors: {NAME: {type: ..., config: {...}}, ...}``."""
    if not isinstance(body, dict):
        raise ConfigError("section 'executors' must map names to {type, config}", file=path,
                          hint="executors: {gpu: {type: local-container, config: {docker_image: ...}}}")
    named: dict[str, dict[str, Any]] = {}
    for name, entry in body.items():
        if not isinstance(entry, dict) or "type" not in entry or set(entry) - {"type", "config"}:
            raise ConfigError(f"executors.{name} needs 'type:' and optionally 'config:' (nothing else)", file=path)
        config = entry.get("config") or {}
        if not isinstance(config, dict):
            raise ConfigError(f"executors.{name}: 'config' must be a mapping", file=path)
        named[str(name)] = {"type": str(entry["type"]), "config": resolve_placeholders(config, source=path)}
    return named


def load_services(path: str | None = None) -> Services:
    """Build the executor and services a config file names (defaults for missing sections)."""
    sections, source = read_config(path)
    built: dict[str, Any] = {}
    for section, default_type in DEFAULTS.items():
        chosen = sections.get(section, {"type": default_type, "config": {}})
        cls = _component_class(section, chosen["type"], source)
        built[section] = cls.from_config(chosen["config"], source=source)
    executors = {}
    for name, entry in sections.get("executors", {}).items():
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
