"""The docs page and the README show every setting and the config block."""

from pathlib import Path

from stepline_sql.store import SqlRunLogStore

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_in_the_docs_table():
    page = (ROOT / "docs" / "backends" / "sql.md").read_text()
    for field in SqlRunLogStore.Settings.model_fields:
        assert f"| `{field}` |" in page, field
    assert "type: sql" in page


def test_readme_shows_the_config_block():
    assert "type: sql" in (ROOT / "packages" / "stepline-sql" / "README.md").read_text()
