"""The executor contract.

An executor has two jobs: traverse the graph (follow ``next``/``on_failure``, run branches) and
decide where each step runs. Interactive executors do both; orchestration executors render the
graph for an engine that traverses it. Every step, wherever it runs, goes through the one step
context in :mod:`stepline.executors.step_context`.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

from stepline.component import Component, Locality

if TYPE_CHECKING:
    from stepline.run.run_context import RunContext
    from stepline.runlog.models import Status


class Executor(Component, abc.ABC):
    kind: ClassVar[str] = "executor"
    #: Where steps run relative to the traversing process. Every service must be reachable from
    #: there: a service whose ``locality`` is narrower fails the integration check.
    runs_steps_in: ClassVar[Locality] = Locality.PROCESS
    #: True for executors that render a workflow for another engine instead of running it.
    renders: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, *, source: str = "config") -> Component:
        """As :meth:`Component.from_config`; runnable's ``object_serialisation`` is refused with its
        reason where steps run in other processes (``true``, its default, means what they do anyway)."""
        config = dict(config or {})
        if config.get("object_serialisation") is False and cls.runs_steps_in > Locality.PROCESS:
            from stepline.errors import ConfigError

            raise ConfigError(f"executor '{cls.name}': 'object_serialisation: false' keeps returned objects in "
                              "one process's memory, but this executor runs steps in other processes",
                              file=source, hint="remove it (objects are pickled into the catalog), or use "
                                                "the local executor")
        if config.get("object_serialisation") is True and "object_serialisation" not in cls.Settings.model_fields:
            del config["object_serialisation"]
        return super().from_config(config, source=source)

    def locality_of(self, service: Component) -> Locality:
        """How far ``service``'s data reaches for steps of this executor. An executor that mounts a
        shared volume where a service keeps its files (Argo PVCs) widens it; the default is the
        service's own ``locality``."""
        return service.locality

    @abc.abstractmethod
    def execute(self, run: RunContext) -> Status:
        """Run (or render) the whole pipeline of ``run``; return the run's final status."""

    def render(self, job: Any) -> str:
        """Orchestration executors (``renders = True``): write the workflow for ``job`` (a
        :class:`stepline.orchestration.render.RenderJob`) and return the path written."""
        from stepline.errors import NotSupportedError

        raise NotSupportedError(f"the {self.name} executor runs pipelines; it does not render them")

    def check_step(self, node: Any, path: str) -> None:
        """Before the run, refuse what this executor cannot use in a step it will run (a bad
        ``overrides:`` entry) with a one-line :class:`~stepline.errors.StepLineError`. ``path`` is
        the step's dotted name. The default has nothing to check."""

    def check_uv(self) -> str | None:
        """Before a run with a step that has an environment (``uv:``): a problem with uv where this
        executor runs steps (``"warning: ..."`` only warns), or None. The default looks on this machine;
        renderers leave it to the engine's image."""
        if self.renders:
            return None
        from stepline.envs.uv import INSTALL_UV, find_uv

        if find_uv() is None:
            return f"uv is not installed on this machine, where the {self.name} executor runs steps ({INSTALL_UV})"
        return None

    def step_overrides(self, node: Any) -> dict[str, Any]:
        """The per-step ``overrides:`` that apply to this executor (by its name)."""
        overrides = getattr(node, "overrides", None) or {}
        value = overrides.get(self.name)
        return value if isinstance(value, dict) else {}
