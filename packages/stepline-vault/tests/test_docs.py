"""The docs page and README show every setting and the config block."""

from pathlib import Path

from stepline_vault.secrets import VaultSecrets

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_in_the_docs_table():
    page = (ROOT / "docs" / "backends" / "vault.md").read_text()
    for field in VaultSecrets.Settings.model_fields:
        assert f"| `{field}` |" in page, field


def test_readme_shows_the_config_block():
    assert "type: vault" in (ROOT / "packages" / "stepline-vault" / "README.md").read_text()
