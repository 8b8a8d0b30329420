"""examples/30-vault-secrets run through the ``stepline`` CLI with secrets from a real OpenBao server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from stepline.testing.cli import clean_env, copy_example, stepline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "30-vault-secrets"
VALUES = {"API_TOKEN": "vault-e2e-T0ken/+=xyz", "DB_PASSWORD": "vault-e2e-pa55word"}


@pytest.fixture
def folder(tmp_path):
    return copy_example(EXAMPLE, tmp_path)


@pytest.fixture
def env(bao, unique_path):
    clean = clean_env("VAULT_")
    return {**clean, "VAULT_ADDR": bao["VAULT_ADDR"], "VAULT_TOKEN": bao["VAULT_TOKEN"],
            "VAULT_SECRET_PATH": unique_path}


def files_containing(root: Path, text: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_vault_secrets_reach_the_task_and_nowhere_else(admin, folder, env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret=VALUES)
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "vault-e2e", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = stepline("runs", "show", "vault-e2e", "--json", "-c", "config.yaml", cwd=folder, env=env)
    assert json.loads(shown.stdout)["status"] == "SUCCESS"
    fingerprint = hashlib.sha256(VALUES["API_TOKEN"].encode()).hexdigest()[:16]
    assert fingerprint in shown.stdout  # the task got exactly the stored token
    for value in VALUES.values():
        assert value not in done.stdout + done.stderr
        assert value not in shown.stdout
        assert files_containing(folder, value) == []  # run log, execution logs, catalog
    assert '"vault"' in shown.stdout  # the run log records which backend served the secrets


def test_a_missing_vault_key_fails_the_step_naming_it(admin, folder, env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret={"API_TOKEN": VALUES["API_TOKEN"]})
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "vault-miss", cwd=folder, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "DB_PASSWORD" in output and VALUES["API_TOKEN"] not in output


def test_a_token_in_the_config_file_is_refused(folder, env):
    config = folder / "config.yaml"
    config.write_text(config.read_text() + "    token: hvs.do-not-do-this\n")
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", cwd=folder, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "VAULT_TOKEN" in output and "hvs.do-not-do-this" not in output and "Traceback" not in output
