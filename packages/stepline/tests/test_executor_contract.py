"""The emulator executor passes the executor kit (stepline.testing.executor)."""

from __future__ import annotations

import pytest
from stepline.testing.executor import ExecutorContract
from stepline.testing.renderer import RendererContract


class TestEmulatorExecutor(ExecutorContract):
    """Every leaf step in its own ``stepline execute-single-node`` process."""

    @pytest.fixture
    def executor_config(self):
        return {"type": "emulator", "config": {"max_workers": 2}}



class TestDemoRenderer(RendererContract):
    """The built-in renderer (a bash script of callbacks)."""

    @pytest.fixture
    def executor_config(self):
        return {"type": "demo-renderer"}

    def check_rendered(self, text, folder):
        import subprocess

        assert text.startswith("#!"), "a script"
        subprocess.run(["bash", "-n", "-c", text], check=True)  # bash parses it
