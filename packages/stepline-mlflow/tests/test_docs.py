"""The docs page and README show every setting, its default, and the config block."""

from pathlib import Path

from stepline_mlflow.tracker import MlflowTracker

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_and_default_is_in_the_docs_table():
    page = (ROOT / "docs" / "backends" / "mlflow.md").read_text()
    for field, info in MlflowTracker.Settings.model_fields.items():
        assert f"| `{field}` | `{info.default}` |" in page, field


def test_readme_shows_the_config_block():
    assert "type: mlflow" in (ROOT / "packages" / "stepline-mlflow" / "README.md").read_text()
