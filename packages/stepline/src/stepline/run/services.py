"""The executor and services one run uses, as built from a configuration file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stepline.catalog.base import Catalog
    from stepline.executors.base import Executor
    from stepline.runlog.base import RunLogStore
    from stepline.secrets.base import Secrets
    from stepline.tracking.base import ExperimentTracker

#: The sections of a configuration file that name one component each, in the order they are written.
SECTIONS = ("executor", "run_log_store", "catalog", "secrets", "experiment_tracker")


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
        described = {section: getattr(self, section).describe() for section in SECTIONS}
        if self.executors:
            described["executors"] = {name: ex.describe() for name, ex in self.executors.items()}
        return described
