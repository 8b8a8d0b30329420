"""The registry of component classes, by kind and name, with the package each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stepline.errors import ConfigError, PluginError, did_you_mean

KINDS = ("executor", "run_log_store", "catalog", "secrets", "experiment_tracker", "task", "node")


@dataclass(frozen=True)
class Registered:
    kind: str
    name: str
    cls: type[Any]
    plugin: str
    package: str
    version: str


@dataclass
class Registry:
    entries: dict[tuple[str, str], Registered] = field(default_factory=dict)

    def add(self, cls: type[Any], plugin: str, package: str, version: str) -> None:
        kind, name = getattr(cls, "kind", None), getattr(cls, "name", None)
        if kind not in KINDS or not isinstance(name, str):
            raise PluginError(f"plugin '{plugin}' offers {cls!r} without a valid 'kind' and 'name'",
                              hint=f"kind is one of {', '.join(KINDS)}")
        key = (kind, name)
        if key in self.entries and self.entries[key].cls is not cls:
            other = self.entries[key]
            raise PluginError(f"{kind} '{name}' is offered by both '{other.plugin}' and '{plugin}'",
                              hint="uninstall one, or block it with STEPLINE_DISABLE_PLUGINS")
        self.entries[key] = Registered(kind, name, cls, plugin, package, version)

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self.entries if k == kind)

    def get(self, kind: str, name: str, *, source: str = "config") -> type[Any]:
        try:
            return self.entries[(kind, name)].cls
        except KeyError:
            known = self.names(kind)
            hint = did_you_mean(name, known) or f"installed: {', '.join(known) or 'none'}"
            raise ConfigError(f"unknown {kind.replace('_', ' ')} type '{name}'", file=source,
                              hint=hint) from None
