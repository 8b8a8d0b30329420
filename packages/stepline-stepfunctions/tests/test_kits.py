"""stepline-stepfunctions passes the renderer kit (state machines checked by asl-validator) and the
integration check kit."""

from __future__ import annotations

import pytest
from sfn_helpers import BASE, validate
from stepline.component import Locality
from stepline.testing.integration import IntegrationCheckContract, executor_running_steps_in
from stepline.testing.renderer import RendererContract
from stepline_stepfunctions import plugin
from stepline_stepfunctions.executor import StepFunctionsExecutor

SERVICES = {**{k: v for k, v in BASE.items() if k != "executor"}, "secrets": {"type": "env"}}


class TestStepFunctionsRenderer(RendererContract):
    @pytest.fixture(autouse=True)
    def _validator(self, asl_validator):
        self.asl_validator = asl_validator

    @pytest.fixture
    def executor_config(self):
        return BASE["executor"]

    @pytest.fixture
    def services_config(self):
        return SERVICES

    def check_rendered(self, text, folder):
        path = folder / "rendered-state-machine.json"
        path.write_text(text)
        done = validate(self.asl_validator, path)
        assert done.returncode == 0, done.stdout + done.stderr


class TestStepFunctionsChecks(IntegrationCheckContract):
    @pytest.fixture
    def plugin(self):
        return plugin

    @pytest.fixture
    def services(self, tmp_path):
        from stepline.catalog.file_system import FileSystemCatalog
        from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore

        return [FileSystemCatalog(), ChunkedFileSystemRunLogStore()]

    @pytest.fixture
    def executors(self):
        return [*(executor_running_steps_in(where) for where in Locality),
                StepFunctionsExecutor.from_config(BASE["executor"]["config"])]
