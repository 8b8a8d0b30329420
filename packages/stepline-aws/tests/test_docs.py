"""The docs page and README show every setting and both config blocks."""

from pathlib import Path

from stepline_aws.secrets import ParameterStoreSecrets, SecretsManagerSecrets

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_in_the_docs_table():
    page = (ROOT / "docs" / "backends" / "aws.md").read_text()
    for cls in (SecretsManagerSecrets, ParameterStoreSecrets):
        for field in cls.Settings.model_fields:
            assert f"| `{field}` |" in page, field


def test_readme_shows_both_config_blocks():
    readme = (ROOT / "packages" / "stepline-aws" / "README.md").read_text()
    assert "type: aws-secrets-manager" in readme and "type: aws-ssm-parameter-store" in readme
