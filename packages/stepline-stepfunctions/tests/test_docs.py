"""The docs page names every setting and override of the step-functions executor."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_documented():
    from stepline_stepfunctions.executor import StepFunctionsSettings

    page = (ROOT / "docs" / "step-functions.md").read_text()
    missing = [name for name in StepFunctionsSettings.model_fields if f"| `{name}` |" not in page]
    assert not missing, missing
    for override in ("job_queue", "job_definition", "cluster", "task_definition", "container_name", "environment"):
        assert f"`{override}`" in page
    assert "step-functions.md" in (ROOT / "mkdocs.yml").read_text()


def test_importing_the_plugin_does_not_import_the_renderer():
    import subprocess
    import sys

    code = ("import sys, stepline_stepfunctions.plugin; "
            "print('stepline_stepfunctions.render' in sys.modules, 'stepline_stepfunctions.executor' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    assert out == "False False"
