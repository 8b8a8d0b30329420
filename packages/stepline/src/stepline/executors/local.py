"""The local executor: traverses the graph and runs every step in this process."""

from __future__ import annotations

from typing import ClassVar

from stepline.component import Locality, Settings
from stepline.executors.base import Executor
from stepline.runlog.models import Status


class LocalSettings(Settings):
    pass


class LocalExecutor(Executor):
    name: ClassVar[str] = "local"
    runs_steps_in: ClassVar[Locality] = Locality.PROCESS
    Settings: ClassVar[type[Settings]] = LocalSettings

    def execute(self, run) -> Status:
        from stepline.executors.traversal import traverse

        return traverse(run, run.graph, self.run_node)

    def run_node(self, run, node, internal_name: str, branch: str) -> Status:
        """Run one step: leaves through the shared step context."""
        from stepline.errors import NotSupportedError
        from stepline.executors.step_context import execute_step

        if node.composite:
            raise NotSupportedError(f"step type '{node.type}' cannot run on the {self.name} executor",
                                    step=internal_name)
        return execute_step(run, node, internal_name, branch=branch).status
