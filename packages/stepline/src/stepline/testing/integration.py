"""Testing a backend's integration check (``stepline_check_integration``) on its own.

The check sees the executor a pipeline uses only through where it runs steps, so a test builds one
for each place and asserts what the check says about the backend there::

    from stepline.component import Locality
    from stepline.testing.integration import executor_running_steps_in

    def test_a_local_file_is_refused_when_steps_run_elsewhere():
        store = MyStore.from_config({"path": "runs.db"})
        assert plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), store)
        assert plugin.stepline_check_integration(executor_running_steps_in(Locality.MACHINE), store) == []
"""

from __future__ import annotations

from stepline.component import Locality
from stepline.errors import NotSupportedError
from stepline.executors.base import Executor


def executor_running_steps_in(where: Locality) -> Executor:
    """An executor that runs steps in ``where`` (this process, this machine or over the network) and
    refuses to run a pipeline: only what an integration check reads."""

    class StandIn(Executor):
        name = f"stand-in-{where.name.lower()}"
        runs_steps_in = where

        def execute(self, run):
            raise NotSupportedError(f"running a pipeline with {self.name}, a stand-in for integration checks")

    return StandIn()
