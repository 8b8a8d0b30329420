"""The plugin manager: pluggy's, wrapped in typed calls, loaded once per process.

Environment:
- ``STEPLINE_DISABLE_PLUGINS=a,b`` blocks plugins (entry-point names) from loading.
- ``STEPLINE_LOAD_PLUGINS=a,b`` loads only these third-party plugins (built-ins always load).
- ``STEPLINE_TRACE_HOOKS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from stepline.errors import IntegrationError, PluginError
from stepline.plugins import PROJECT, hookspec
from stepline.plugins.registry import Registry

if TYPE_CHECKING:
    from stepline.component import Component

#: The built-in features, each an ordinary module of hook implementations.
DEFAULT_PLUGINS = (
    "stepline.pipeline.plugin",
    "stepline.runlog.plugin",
    "stepline.catalog.plugin",
    "stepline.secrets.plugin",
    "stepline.tracking.plugin",
    "stepline.tasks.plugin",
    "stepline.executors.plugin",
    "stepline.plugins.integrations",
)


def _env_list(name: str) -> set[str]:
    return {part.strip() for part in os.environ.get(name, "").split(",") if part.strip()}


class PluginManager:
    """Typed access to the hooks; the only place pluggy is called."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspec)
        self.origins: dict[str, tuple[str, str]] = {}  # plugin name -> (package, version)
        if os.environ.get("STEPLINE_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"[stepline hooks] {msg}"))
            self.pm.enable_tracing()

    def load(self) -> None:
        blocked = _env_list("STEPLINE_DISABLE_PLUGINS")
        only = _env_list("STEPLINE_LOAD_PLUGINS")
        version = _version("stepline")
        for module_name in DEFAULT_PLUGINS:
            self.pm.register(importlib.import_module(module_name), name=module_name)
            self.origins[module_name] = ("stepline", version)
        for ep in metadata.entry_points(group=PROJECT):
            if ep.name in blocked or (only and ep.name not in only) or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party install must not hide behind a traceback
                raise PluginError(f"plugin '{ep.name}' ({ep.value}) failed to import: {exc}",
                                  hint=f"reinstall it, or set STEPLINE_DISABLE_PLUGINS={ep.name}") from exc
            self.pm.register(plugin, name=ep.name)
            dist = ep.dist
            self.origins[ep.name] = (dist.name, dist.version) if dist else ("?", "?")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"a plugin implements a hook Stepline does not have: {exc}") from None

    def registry(self) -> Registry:
        registry = Registry()
        for impl in self.pm.hook.stepline_components.get_hookimpls():
            package, version = self.origins.get(impl.plugin_name, ("?", "?"))
            for cls in impl.function() or []:
                registry.add(cls, impl.plugin_name, package, version)
        return registry

    def stacks(self) -> dict[str, RegisteredStack]:
        found: dict[str, RegisteredStack] = {}
        for impl in self.pm.hook.stepline_stacks.get_hookimpls():
            package, version = self.origins.get(impl.plugin_name, ("?", "?"))
            for name, source in (impl.function() or {}).items():
                if name in found:
                    raise PluginError(f"stack '{name}' is offered by both '{found[name].plugin}' and "
                                      f"'{impl.plugin_name}'",
                                      hint="uninstall one, or block it with STEPLINE_DISABLE_PLUGINS")
                if not isinstance(source, (str, os.PathLike, dict)):
                    raise PluginError(f"plugin '{impl.plugin_name}' offers stack '{name}' as {source!r}",
                                      hint="return a path to a YAML file or a mapping")
                found[str(name)] = RegisteredStack(str(name), source if isinstance(source, dict) else str(source),
                                                   impl.plugin_name, package, version)
        return found

    def check_integration(self, executor: Component, services: list[Component]) -> list[str]:
        """Raise IntegrationError on the first problem; return warnings."""
        warnings = []
        for service in services:
            for problems in self.pm.hook.stepline_check_integration(executor=executor, service=service):
                for problem in problems or []:
                    if problem.startswith("warning: "):
                        warnings.append(problem[len("warning: "):])
                    else:
                        raise IntegrationError(problem)
        return warnings

    def configure_integration(self, executor: Component, services: list[Component], phase: str) -> None:
        for service in services:
            self.pm.hook.stepline_configure_integration(executor=executor, service=service, phase=phase)


@dataclass(frozen=True)
class RegisteredStack:
    """A configuration stack a plugin ships (``stack:NAME``)."""

    name: str
    source: str | dict[str, Any]  # a YAML file's path, or the configuration itself
    plugin: str
    package: str
    version: str


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "0+unknown"


@lru_cache(maxsize=1)
def get_plugin_manager() -> PluginManager:
    manager = PluginManager()
    manager.load()
    return manager


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    return get_plugin_manager().registry()


@lru_cache(maxsize=1)
def get_stacks() -> dict[str, RegisteredStack]:
    return get_plugin_manager().stacks()


def component_class(kind: str, name: str, *, source: str = "config") -> type[Any]:
    return get_registry().get(kind, name, source=source)
