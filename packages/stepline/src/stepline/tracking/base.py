"""The experiment tracker contract, and the default that tracks nothing."""

from __future__ import annotations

from typing import Any, ClassVar

from stepline.component import Component, Locality


class ExperimentTracker(Component):
    """Receives a run's parameters and metrics. The base class tracks nothing (``do-nothing``)."""

    kind: ClassVar[str] = "experiment_tracker"
    name: ClassVar[str] = "do-nothing"

    @property
    def locality(self) -> Locality:
        return Locality.NETWORK

    def start_run(self, run_id: str, parameters: dict[str, Any], tags: dict[str, str]) -> None:
        """Called once when a run starts (and again, harmlessly, by each step process)."""

    def log_metric(self, run_id: str, name: str, value: float, *, step: int | None = None,
                   step_name: str = "") -> None:
        """One metric value from ``stepline.track`` or a ``metric`` return."""

    def end_run(self, run_id: str, status: str) -> None:
        """Called once when the run ends."""
