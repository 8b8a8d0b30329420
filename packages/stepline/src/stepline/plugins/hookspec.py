"""Every hook of Stepline, grouped by the phase it is called in. This module is the plugin API's manual.

All hooks start with ``stepline_``; implement them with :data:`stepline.plugins.hookimpl` in a module
published as an entry point of group ``stepline`` (see :mod:`stepline.plugins`). A hook
implementation may take any subset of the arguments its spec names, by name.

None of Stepline's hooks is ``firstresult`` (every implementation is called and the results of all
are collected, most recently registered plugin first) and none is ``historic`` (a plugin registered
after a hook was called does not see that call). Hooks are called only through the plugin manager
(``pm.hook``), so ``STEPLINE_TRACE_HOOKS=1`` shows every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pluggy

from stepline.plugins import PROJECT

if TYPE_CHECKING:
    from stepline.catalog.base import Catalog
    from stepline.executors.base import Executor
    from stepline.plugins.lazy import LazyComponent
    from stepline.plugins.problem import Problem
    from stepline.runlog.base import RunLogStore
    from stepline.secrets.base import Secrets
    from stepline.tracking.base import ExperimentTracker

    #: A service an executor works with: the four non-executor sections of a configuration file.
    Service = RunLogStore | Catalog | Secrets | ExperimentTracker

#: Where :func:`stepline_configure_integration` is called: ``"traversal"`` in the process that walks
#: the graph, ``"execution"`` in the process that runs one step (e.g. inside a container).
Phase = Literal["traversal", "execution"]

hookspec = pluggy.HookspecMarker(PROJECT)


# ---- registration: once per process, when the plugin manager loads ------------------------------
@hookspec
def stepline_components() -> list[type | LazyComponent]:
    """Return the component classes this plugin adds.

    :return: a list of classes (or of LazyComponent naming them). Each has a ``kind`` (one of
        :data:`stepline.component.KINDS`: ``executor``, ``run_log_store``, ``catalog``,
        ``secrets``, ``experiment_tracker``, ``task``, ``node``) and a ``name``: the ``type:``
        users write. Return an empty list (or None) to add nothing.

    Called once per process, the first time a component is looked up. Not firstresult: the lists of
    every plugin are merged; two plugins offering the same kind and name is a
    :class:`~stepline.errors.PluginError`. Not historic.

    Import the classes inside the function, not at the top of the plugin module, so that loading
    the plugin stays cheap (every run loads every plugin). Cheaper still, return a
    :class:`~stepline.plugins.LazyComponent` (``kind``, ``name``, ``"module:Class"``) for a class:
    it is imported only when a run looks that component up, so a run pays only for what it uses.
    """


# ---- before a run: ``execute``, ``validate``, renders and re-runs, before any step runs --------
@hookspec
def stepline_check_executor(executor: Executor) -> list[Problem] | None:
    """Return the problems of ``executor`` on its own (a missing engine binary, settings that
    contradict each other); an empty list (or None) when fine.

    :param executor: the configured executor, and each named executor steps ask for
        (``executors:`` in the configuration), one call each.
    :return: a list of :class:`~stepline.plugins.Problem`. A ``Problem.error`` stops the run with an
        :class:`~stepline.errors.IntegrationError` before any step; a ``Problem.warning`` is printed.

    Called once per executor, before :func:`stepline_check_integration`, in the process that walks
    the graph and again in each step's own process (``stepline execute-single-node``, where
    ``STEPLINE_RUN_ID`` is set): a check of what only the walking process needs (the container
    engine) returns ``[]`` there. Not firstresult: the
    problems of every plugin are collected; each implementation checks only the executors it knows
    (``isinstance``) and returns ``[]`` for the others. Not historic.
    """


@hookspec
def stepline_check_integration(executor: Executor, service: Service) -> list[Problem] | None:
    """Return the problems with running ``service`` under ``executor``; an empty list (or None) when
    fine.

    :param executor: as in :func:`stepline_check_executor`.
    :param service: the configured run log store, catalog, secrets backend or experiment tracker,
        one call per service.
    :return: a list of :class:`~stepline.plugins.Problem`, each message one line that names both
        parts and the fix. A ``Problem.error`` stops the run with an
        :class:`~stepline.errors.IntegrationError` before any step; a ``Problem.warning`` is printed.

    Called for every executor/service pair. Not firstresult: the problems of every plugin are
    collected (the built-in rule on ``locality`` included). Not historic.
    """


@hookspec
def stepline_configure_integration(executor: Executor, service: Service, phase: Phase) -> None:
    """Adjust ``service`` (or ``executor``) so that they work together in ``phase``.

    :param executor: as in :func:`stepline_check_executor`.
    :param service: as in :func:`stepline_check_integration`.
    :param phase: ``"traversal"`` in the process that walks the graph, after the checks passed and
        before the first step; ``"execution"`` in the process that runs one step
        (``stepline execute-single-node``, e.g. inside a container, where paths may be mounted
        elsewhere).
    :return: nothing; the return value is ignored.

    Called for every executor/service pair in each phase. Not firstresult: every implementation is
    called. Not historic.
    """


# ---- configuration: when a configuration names ``stack:NAME``, and for ``stepline plugins`` -------
@hookspec
def stepline_stacks() -> dict[str, Any] | None:
    """Return the configuration stacks this plugin ships.

    :return: ``{name: source}``, where ``source`` is the path of a YAML configuration file
        (usually package data; its relative ``extends:`` are relative to it) or the configuration
        as a mapping. Users write ``-c stack:NAME``, ``STEPLINE_CONFIGURATION_FILE=stack:NAME`` or
        ``extends: stack:NAME``. Return an empty mapping (or None) to ship nothing.

    Called once per process, the first time a stack is looked up. Not firstresult: the mappings of
    every plugin are merged; two plugins offering the same name is a
    :class:`~stepline.errors.PluginError`. Not historic.
    """
