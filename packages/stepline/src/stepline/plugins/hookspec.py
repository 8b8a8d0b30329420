"""Every hook of Stepline, grouped by phase. This module is the plugin API's manual.

All hooks start with ``stepline_``. Implement them with :data:`stepline.plugins.hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from stepline.plugins import PROJECT

if TYPE_CHECKING:
    from stepline.component import Component

hookspec = pluggy.HookspecMarker(PROJECT)


# ---- registration ---------------------------------------------------------------------------------
@hookspec
def stepline_components() -> list[type[Any]]:
    """Return the component classes this plugin adds.

    Each class has a ``kind`` (``executor``, ``run_log_store``, ``catalog``, ``secrets``,
    ``experiment_tracker``, ``task`` or ``node``) and a ``name``: the ``type:`` users write.
    Two plugins offering the same kind and name is an error. Called once per process; results
    from all plugins are collected.
    """


# ---- before a run --------------------------------------------------------------------------------
@hookspec
def stepline_check_integration(executor: Component, service: Component) -> list[str] | None:
    """Return problems (one line each) with running ``service`` under ``executor``; empty when fine.

    Called for every executor/service pair before any step runs (``execute``, ``validate`` and
    renders). Results from all plugins are collected; any message stops the run with an
    :class:`~stepline.errors.IntegrationError`. Prefix a message with ``warning: `` to only warn.
    """


@hookspec
def stepline_configure_integration(executor: Component, service: Component, phase: str) -> None:
    """Adjust ``service`` for ``executor`` in ``phase``: ``"traversal"`` (the process that walks
    the graph) or ``"execution"`` (the process that runs one step, e.g. inside a container,
    where paths may be mounted elsewhere). Every implementation is called.
    """


# ---- configuration ---------------------------------------------------------------------------------
@hookspec
def stepline_stacks() -> dict[str, Any] | None:
    """Return the configuration stacks this plugin ships: ``{name: source}``, where ``source`` is
    the path of a YAML configuration file (usually inside the package) or the configuration as a
    mapping.

    Users name a stack ``stack:NAME`` in ``-c``, in ``STEPLINE_CONFIGURATION_FILE`` and in a
    file's ``extends:``. A stack file may itself extend files (relative to it) and other stacks.
    Results from all plugins are collected; two plugins offering the same name is an error.
    """
