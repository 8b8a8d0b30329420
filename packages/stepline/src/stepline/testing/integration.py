"""Testing a backend's integration checks (``stepline_check_integration``, ``stepline_check_executor``):
the :class:`IntegrationCheckContract` kit, and a stand-in executor per place steps run in.

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

import pytest

from stepline.component import Locality
from stepline.errors import IntegrationError, NotSupportedError
from stepline.executors.base import Executor
from stepline.plugins import Problem


def executor_running_steps_in(where: Locality) -> Executor:
    """An executor that runs steps in ``where`` (this process, this machine or over the network) and
    refuses to run a pipeline: only what an integration check reads."""

    class StandIn(Executor):
        name = f"stand-in-{where.name.lower()}"
        runs_steps_in = where

        def execute(self, run):
            raise NotSupportedError(f"running a pipeline with {self.name}, a stand-in for integration checks")

    return StandIn()


def _executors() -> list[Executor]:
    return [executor_running_steps_in(where) for where in Locality]


class IntegrationCheckContract:
    """The contract of a plugin's integration checks, as a pytest suite its package subclasses::

        from stepline.testing.integration import IntegrationCheckContract

        class TestMyChecks(IntegrationCheckContract):
            @pytest.fixture
            def plugin(self):
                from my_backend import plugin
                return plugin

            @pytest.fixture
            def services(self, tmp_path):
                return [MyStore.from_config({"path": str(tmp_path / "runs.db")}),
                        MyStore.from_config({"url": "https://runs.example.com"})]

    ``services`` are instances of the plugin's own components, in the configurations that matter to
    its checks; ``executors`` (override it to add the plugin's own) defaults to one executor per
    place steps run in. Checked, for every executor and service, through the plugin module's
    ``stepline_check_integration`` and ``stepline_check_executor`` and through the plugin manager:

    - a check returns a list (or None) of :class:`~stepline.plugins.Problem`, never strings;
    - each message is one line, and it names the service or the executor it is about;
    - a check leaves the service and the executor as they were (``describe()`` unchanged), and
      gives the same answer when asked again;
    - a check says nothing about a built-in service (``file-system`` catalog, ``env`` secrets)
      that its plugin does not provide;
    - through the plugin manager, the plugin's errors stop the run with an
      :class:`~stepline.errors.IntegrationError`, and when nothing stops it the plugin's warnings come
      back as their messages.
    """

    @pytest.fixture
    def plugin(self):
        pytest.fail("an IntegrationCheckContract subclass must provide the 'plugin' fixture", pytrace=False)

    @pytest.fixture
    def services(self) -> list:
        pytest.fail("an IntegrationCheckContract subclass must provide the 'services' fixture", pytrace=False)

    @pytest.fixture
    def executors(self) -> list[Executor]:
        return _executors()

    @staticmethod
    def checks(plugin, executor, service) -> list:
        found = []
        if hasattr(plugin, "stepline_check_executor"):
            found += plugin.stepline_check_executor(executor=executor) or []
        if hasattr(plugin, "stepline_check_integration"):
            found += plugin.stepline_check_integration(executor=executor, service=service) or []
        return found

    def test_problems_are_problem_objects_with_one_line_messages_naming_a_part(self, plugin, services, executors):
        for executor in executors:
            for service in services:
                for problem in self.checks(plugin, executor, service):
                    assert isinstance(problem, Problem), f"{problem!r} is not a stepline.plugins.Problem"
                    assert problem.message.strip() and "\n" not in problem.message, repr(problem.message)
                    assert service.name in problem.message or executor.name in problem.message, problem.message

    def test_a_check_changes_nothing_and_answers_the_same_again(self, plugin, services, executors):
        for executor in executors:
            for service in services:
                described = (service.describe(), executor.describe())
                first = self.checks(plugin, executor, service)
                assert self.checks(plugin, executor, service) == first
                assert (service.describe(), executor.describe()) == described

    def test_built_in_services_of_other_plugins_are_left_alone(self, plugin):
        from stepline.catalog.file_system import FileSystemCatalog
        from stepline.secrets.builtin import EnvSecrets

        for executor in _executors():  # stand-ins: an executor of the plugin may refuse local files
            for service in (FileSystemCatalog(), EnvSecrets()):
                found = plugin.stepline_check_integration(executor=executor, service=service) \
                    if hasattr(plugin, "stepline_check_integration") else []
                assert not found, f"{found} about the built-in {service.name} {service.kind}"

    def test_the_plugin_manager_stops_on_errors_and_returns_warnings(self, plugin, services, executors):
        from stepline.plugins.manager import get_plugin_manager

        manager = get_plugin_manager()
        for executor in executors:
            for service in services:
                problems = self.checks(plugin, executor, service)
                errors = [p.message for p in problems if p.is_error]
                try:
                    warnings = manager.check_integration(executor, [service])
                except IntegrationError:
                    continue  # an error: this plugin's, or another rule's (the built-in locality rule)
                assert not errors, f"the plugin manager let {errors} through"
                assert {p.message for p in problems} <= set(warnings)
