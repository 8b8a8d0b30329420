"""The registry of component classes, by kind and name, with the package each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stepline.component import KINDS
from stepline.errors import ConfigError, PluginError, did_you_mean
from stepline.plugins.lazy import LazyComponent

#: The component types Stepline's own extras install: an unknown ``type:`` found here is a missing
#: ``pip install``, not a typo. ``(kind, name) -> extra``.
EXTRAS: dict[tuple[str, str], str] = {
    ("run_log_store", "sql"): "sql",
    ("run_log_store", "chunked-fsspec"): "fsspec",
    ("catalog", "fsspec"): "fsspec",
    ("secrets", "vault"): "vault",
    ("secrets", "aws-secrets-manager"): "aws",
    ("secrets", "aws-ssm-parameter-store"): "aws",
    ("experiment_tracker", "mlflow"): "mlflow",
    ("executor", "argo"): "argo",
    ("executor", "step-functions"): "stepfunctions",
    ("executor", "local-container"): "container",
    ("executor", "slurm"): "slurm",
    ("executor", "pbs"): "slurm",
    ("executor", "pjsub"): "slurm",
}


@dataclass(frozen=True)
class Registered:
    """One component type: its class and where it came from (``stepline plugins`` lists these)."""

    kind: str
    name: str
    source: type[Any] | LazyComponent
    plugin: str
    package: str
    version: str

    @cached_property
    def cls(self) -> type[Any]:
        """The class (a :class:`LazyComponent` is imported now, once)."""
        return self.source.load(self.plugin) if isinstance(self.source, LazyComponent) else self.source


@dataclass
class Registry:
    """Every installed component type, by ``(kind, name)``."""

    entries: dict[tuple[str, str], Registered] = field(default_factory=dict)

    def add(self, cls: type[Any] | LazyComponent, plugin: str, package: str, version: str) -> None:
        """Register a class or a :class:`LazyComponent` (whose class is imported on first use)."""
        kind, name = getattr(cls, "kind", None), getattr(cls, "name", None)
        if kind not in KINDS or not isinstance(name, str):
            raise PluginError(f"plugin '{plugin}' offers {cls!r} without a valid 'kind' and 'name'",
                              hint=f"kind is one of {', '.join(KINDS)}")
        key = (kind, name)
        entry = Registered(kind, name, cls, plugin, package, version)
        if key in self.entries and self.entries[key].source != cls and self.entries[key].cls is not entry.cls:
            other = self.entries[key]
            raise PluginError(f"{kind} '{name}' is offered by both '{other.plugin}' and '{plugin}'",
                              hint="uninstall one, or block it with STEPLINE_DISABLE_PLUGINS")
        self.entries[key] = entry

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self.entries if k == kind)

    def get(self, kind: str, name: str, *, source: str = "config") -> type[Any]:
        """The class of ``type: name`` in section ``kind``; an unknown name is a one-line ConfigError
        naming ``source`` and the extra to install or the closest installed name."""
        entry = self.entries.get((kind, name))
        if entry is None:
            what = f"unknown {kind.replace('_', ' ')} type '{name}'"
            if (kind, name) in EXTRAS:
                raise ConfigError(f'{what}: pip install "stepline[{EXTRAS[kind, name]}]"', file=source) from None
            known = self.names(kind)
            hint = did_you_mean(name, known) or f"installed: {', '.join(known) or 'none'}"
            raise ConfigError(what, file=source, hint=hint) from None
        return entry.cls
