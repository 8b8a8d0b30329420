"""The plugin manager: pluggy's, wrapped in typed calls, loaded once per process.

Environment:
- ``STEPLINE_DISABLE_PLUGINS=a,b`` blocks plugins by name: entry-point names, or the module name
  of a built-in (``stepline.catalog.plugin``); ``stepline plugins`` shows each plugin's name.
- ``STEPLINE_LOAD_PLUGINS=a,b`` loads only these third-party plugins (built-ins always load).
- ``STEPLINE_TRACE_HOOKS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pluggy

from stepline.errors import IntegrationError, PluginError
from stepline.plugins import PROJECT, hookspec
from stepline.plugins.entry_points import cached_scan, stepline_entry_points
from stepline.plugins.problem import Problem
from stepline.plugins.registry import Registry

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from stepline.executors.base import Executor
    from stepline.plugins.hookspec import Phase, Service

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
        self._origins: dict[str, tuple[str, str]] = {}
        if os.environ.get("STEPLINE_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"[stepline hooks] {msg}"))
            self.pm.enable_tracing()

    # ---- loading --------------------------------------------------------------------------------
    def load(self) -> None:
        """Register the built-ins, then every entry point of group ``stepline`` not blocked."""
        for name in _env_list("STEPLINE_DISABLE_PLUGINS"):
            self.pm.set_blocked(name)
        only = _env_list("STEPLINE_LOAD_PLUGINS")
        for module_name in DEFAULT_PLUGINS:
            if not self.pm.is_blocked(module_name):
                self.pm.register(importlib.import_module(module_name), name=module_name)
        for ep in stepline_entry_points():
            if only and ep.name not in only:
                self.pm.set_blocked(ep.name)
            if self.pm.has_plugin(ep.name) or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party install must not hide behind a traceback
                raise PluginError(f"plugin '{ep.name}' ({ep.value}) failed to import: {exc}",
                                  hint=f"reinstall it, or set STEPLINE_DISABLE_PLUGINS={ep.name}") from exc
            self.pm.register(plugin, name=ep.name)
            self._origins[ep.name] = (ep.distribution, ep.version)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"a plugin implements a hook Stepline does not have: {exc}") from None

    def origins(self) -> dict[str, tuple[str, str]]:
        """Plugin name -> (distribution, version): the built-ins come with ``stepline``."""
        return {**dict.fromkeys(DEFAULT_PLUGINS, (PROJECT, cached_scan().stepline_version)), **self._origins}

    # ---- registration ---------------------------------------------------------------------------
    def each_plugin(self, hook: str) -> Iterator[tuple[str, Any]]:
        """(plugin name, result) of every implementation of ``hook``: one call per plugin, each
        through pluggy (a subset caller), so the result is known by its plugin and tracing sees it."""
        plugins = self.pm.get_plugins()
        for impl in getattr(self.pm.hook, hook).get_hookimpls():  # in registration order
            others = [p for p in plugins if p is not impl.plugin]
            for result in self.pm.subset_hook_caller(hook, remove_plugins=others)():
                yield impl.plugin_name, result

    def registry(self) -> Registry:
        """Every component class the plugins offer, with the plugin and package each came from."""
        origins = self.origins()
        registry = Registry()
        for plugin, classes in self.each_plugin("stepline_components"):
            package, version = origins.get(plugin, ("?", "?"))
            for cls in classes or []:
                registry.add(cls, plugin, package, version)
        return registry

    def stacks(self) -> dict[str, RegisteredStack]:
        """Every configuration stack the plugins ship, by name (``stack:NAME``)."""
        origins = self.origins()
        found: dict[str, RegisteredStack] = {}
        for plugin, stacks in self.each_plugin("stepline_stacks"):
            package, version = origins.get(plugin, ("?", "?"))
            for name, source in (stacks or {}).items():
                if name in found:
                    raise PluginError(f"stack '{name}' is offered by both '{found[name].plugin}' and "
                                      f"'{plugin}'",
                                      hint="uninstall one, or block it with STEPLINE_DISABLE_PLUGINS")
                if not isinstance(source, (str, os.PathLike, dict)):
                    raise PluginError(f"plugin '{plugin}' offers stack '{name}' as {source!r}",
                                      hint="return a path to a YAML file or a mapping")
                found[str(name)] = RegisteredStack(str(name), source if isinstance(source, dict) else str(source),
                                                   plugin, package, version)
        return found

    # ---- before a run ---------------------------------------------------------------------------
    def check_integration(self, executor: Executor, services: Iterable[Service],
                          unused: Iterable[Service] = ()) -> list[str]:
        """Check ``executor`` alone, then with each service: raise IntegrationError on the first
        error, return the warnings' messages. Errors about a service in ``unused`` (one the pipeline
        never calls on, see :func:`stepline.plugins.integrations.unused_services`) are warnings."""
        from stepline.plugins.problem import Problem

        unused = list(unused)
        found = _problems(self.pm.hook.stepline_check_executor(executor=executor), "stepline_check_executor")
        for service in services:
            problems = _problems(self.pm.hook.stepline_check_integration(executor=executor, service=service),
                                 "stepline_check_integration")
            if any(service is u for u in unused):
                problems = [Problem.warning(f"{p.message} (the pipeline does not use it: only a warning)")
                            if p.is_error else p for p in problems]
            found += problems
        for problem in found:
            if problem.is_error:
                raise IntegrationError(problem.message)
        return [problem.message for problem in found]

    def configure_integration(self, executor: Executor, services: Iterable[Service], phase: Phase) -> None:
        """Let every plugin adjust each service for ``executor`` in ``phase``."""
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


def _problems(results: list[list[Problem] | None], hook: str) -> list[Problem]:
    found = []
    for problems in results:
        for problem in problems or []:
            if not isinstance(problem, Problem):
                raise PluginError(f"a {hook} implementation returned {problem!r}, not a Problem",
                                  hint="return stepline.plugins.Problem.error(...) or Problem.warning(...)")
            found.append(problem)
    return found


@lru_cache(maxsize=1)
def get_plugin_manager() -> PluginManager:
    """The process's plugin manager, loaded on first use."""
    manager = PluginManager()
    manager.load()
    return manager


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The process's registry of component types."""
    return get_plugin_manager().registry()


@lru_cache(maxsize=1)
def get_stacks() -> dict[str, RegisteredStack]:
    return get_plugin_manager().stacks()


def component_class(kind: str, name: str, *, source: str = "config") -> type[Any]:
    """The class registered for ``type: name`` in section ``kind`` (see :meth:`Registry.get`)."""
    return get_registry().get(kind, name, source=source)
