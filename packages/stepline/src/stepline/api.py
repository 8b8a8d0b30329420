"""The public API for backend authors: everything a backend package imports from Stepline.

A backend (an executor, run log store, catalog, secrets backend, experiment tracker or renderer,
in this repository or published on its own) imports from ``stepline.api`` only, plus the contract
kits of :mod:`stepline.testing` in its tests. The hooks it implements are documented in
:mod:`stepline.plugins.hookspec`.

Stability: a name in ``__all__`` keeps its meaning and signature in every release of the same
minor version (0.1.x). A minor release (0.2) may change or remove a name; it says so in its
release notes, with the replacement, and a removed name is deprecated for one minor release
first. Anything not in ``__all__`` is internal and may change in any release. Pin
``stepline>=X.Y,<X.(Y+1)`` (``stepline new-backend`` writes that pin).

Names are imported on first use, so ``from stepline.api import hookimpl`` in a plugin module stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: name -> module that defines it. The one place that knows where each public name lives.
_WHERE = {
    # plugins: the hook marker and what integration checks return
    "hookimpl": "stepline.plugins",
    "LazyComponent": "stepline.plugins.lazy",
    "loaded_instance": "stepline.plugins.lazy",
    "Problem": "stepline.plugins.problem",
    "Severity": "stepline.plugins.problem",
    "KINDS": "stepline.component",
    "get_plugin_manager": "stepline.plugins.manager",
    # components: the base of every pluggable part, its settings and its reach
    "Component": "stepline.component",
    "Settings": "stepline.component",
    "Locality": "stepline.component",
    "config_error": "stepline.component",
    # errors
    "StepLineError": "stepline.errors",
    "ConfigError": "stepline.errors",
    "PipelineDefinitionError": "stepline.errors",
    "IntegrationError": "stepline.errors",
    "ParameterError": "stepline.errors",
    "SecretNotFoundError": "stepline.errors",
    "PluginError": "stepline.errors",
    "RunNotFoundError": "stepline.errors",
    "NotSupportedError": "stepline.errors",
    "did_you_mean": "stepline.errors",
    # graphs: where steps lead (renderers lay out only what can run)
    "reachable_from": "stepline.pipeline.graph",
    "run_targets": "stepline.pipeline.graph",
    # showing a URL without its secrets
    "mask_url": "stepline.urls",
    # run log stores
    "RunLogStore": "stepline.runlog.base",
    "RUN_KEY": "stepline.runlog.base",
    "record_filename": "stepline.runlog.files",
    "key_from_filename": "stepline.runlog.files",
    "atomic_write_bytes": "stepline.runlog.files",
    "atomic_write_text": "stepline.runlog.files",
    "write_aside": "stepline.runlog.files",
    # listing runs (RunLogStore.query_runs / run_summaries)
    "RunQuery": "stepline.runlog.listing",
    "RunPage": "stepline.runlog.listing",
    "RunSummary": "stepline.runlog.listing",
    "page_of": "stepline.runlog.listing",
    # run log models
    "RunLog": "stepline.runlog.models",
    "StepLog": "stepline.runlog.models",
    "BranchLog": "stepline.runlog.models",
    "Attempt": "stepline.runlog.models",
    "Parameter": "stepline.runlog.models",
    "DataCatalogItem": "stepline.runlog.models",
    "CodeIdentity": "stepline.runlog.models",
    "Status": "stepline.runlog.models",
    # catalogs, secrets, trackers
    "Catalog": "stepline.catalog.base",
    "CatalogError": "stepline.catalog.base",
    "Secrets": "stepline.secrets.base",
    "ExperimentTracker": "stepline.tracking.base",
    # executors that run pipelines
    "Executor": "stepline.executors.base",
    "LocalExecutor": "stepline.executors.local",
    "LocalSettings": "stepline.executors.local",
    "StepProcessExecutor": "stepline.executors.step_process",
    "step_command": "stepline.executors.step_process",
    "EmulatorExecutor": "stepline.executors.emulator",
    "EmulatorSettings": "stepline.executors.emulator",
    "execute_step": "stepline.executors.step_context",
    "record_lost": "stepline.executors.step_context",
    # renderers (orchestration executors) and the callbacks their workflows call
    "RenderingExecutor": "stepline.orchestration.render",
    "RenderJob": "stepline.orchestration.render",
    "NameBook": "stepline.orchestration.render",
    "STEPLINE": "stepline.orchestration.render",
    "single_node_command": "stepline.orchestration.render",
    "fan_command": "stepline.orchestration.render",
    "start_run_command": "stepline.orchestration.render",
    "finish_run_command": "stepline.orchestration.render",
    "dump_keys": "stepline.orchestration.render",
    # configuration: every file a configuration reference reads (to mount them elsewhere)
    "config_files": "stepline.config.loader",
}

__all__ = [
    "KINDS",
    "RUN_KEY",
    "STEPLINE",
    "Attempt",
    "BranchLog",
    "Catalog",
    "CatalogError",
    "CodeIdentity",
    "Component",
    "ConfigError",
    "DataCatalogItem",
    "EmulatorExecutor",
    "EmulatorSettings",
    "Executor",
    "ExperimentTracker",
    "IntegrationError",
    "LazyComponent",
    "LocalExecutor",
    "LocalSettings",
    "Locality",
    "NameBook",
    "NotSupportedError",
    "Parameter",
    "ParameterError",
    "PipelineDefinitionError",
    "PluginError",
    "Problem",
    "RenderJob",
    "RenderingExecutor",
    "RunLog",
    "RunLogStore",
    "RunNotFoundError",
    "RunPage",
    "RunQuery",
    "RunSummary",
    "SecretNotFoundError",
    "Secrets",
    "Settings",
    "Severity",
    "Status",
    "StepLineError",
    "StepLog",
    "StepProcessExecutor",
    "atomic_write_bytes",
    "atomic_write_text",
    "config_error",
    "config_files",
    "did_you_mean",
    "dump_keys",
    "execute_step",
    "fan_command",
    "finish_run_command",
    "get_plugin_manager",
    "hookimpl",
    "key_from_filename",
    "loaded_instance",
    "mask_url",
    "page_of",
    "reachable_from",
    "record_filename",
    "record_lost",
    "run_targets",
    "single_node_command",
    "start_run_command",
    "step_command",
    "write_aside",
]


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"stepline.api has no '{name}' (see stepline.api.__all__)") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from stepline.catalog.base import Catalog, CatalogError
    from stepline.component import KINDS, Component, Locality, Settings, config_error
    from stepline.config.loader import config_files
    from stepline.errors import (
        ConfigError,
        IntegrationError,
        NotSupportedError,
        ParameterError,
        PipelineDefinitionError,
        PluginError,
        RunNotFoundError,
        SecretNotFoundError,
        StepLineError,
        did_you_mean,
    )
    from stepline.executors.base import Executor
    from stepline.executors.emulator import EmulatorExecutor, EmulatorSettings
    from stepline.executors.local import LocalExecutor, LocalSettings
    from stepline.executors.step_context import execute_step, record_lost
    from stepline.executors.step_process import StepProcessExecutor, step_command
    from stepline.orchestration.render import (
        STEPLINE,
        NameBook,
        RenderingExecutor,
        RenderJob,
        dump_keys,
        fan_command,
        finish_run_command,
        single_node_command,
        start_run_command,
    )
    from stepline.pipeline.graph import reachable_from, run_targets
    from stepline.plugins import hookimpl
    from stepline.plugins.lazy import LazyComponent, loaded_instance
    from stepline.plugins.manager import get_plugin_manager
    from stepline.plugins.problem import Problem, Severity
    from stepline.runlog.base import RUN_KEY, RunLogStore
    from stepline.runlog.files import atomic_write_bytes, atomic_write_text, key_from_filename, record_filename, write_aside
    from stepline.runlog.listing import RunPage, RunQuery, RunSummary, page_of
    from stepline.runlog.models import (
        Attempt,
        BranchLog,
        CodeIdentity,
        DataCatalogItem,
        Parameter,
        RunLog,
        Status,
        StepLog,
    )
    from stepline.secrets.base import Secrets
    from stepline.tracking.base import ExperimentTracker
    from stepline.urls import mask_url
