"""examples/31-aws-secrets run through the ``stepline`` CLI with secrets from a real moto server."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from stepline.testing.cli import clean_env, copy_example, stepline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "31-aws-secrets"
VALUES = {"API_TOKEN": "aws-e2e-T0ken/+=xyz", "DB_PASSWORD": "aws-e2e-pa55word"}


@pytest.fixture
def folder(tmp_path):
    return copy_example(EXAMPLE, tmp_path)


@pytest.fixture
def secret_id():
    return f"stepline/e2e/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def env(services, secret_id):
    clean = clean_env("AWS_")
    return {**clean, **services.start("moto"), "AWS_SECRET_ID": secret_id}


def create_secret(env, secret_id, values):
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_secret(Name=secret_id, SecretString=json.dumps(values))


def test_secrets_manager_secrets_reach_the_task_and_nowhere_else(folder, env, secret_id):
    create_secret(env, secret_id, VALUES)
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "aws-e2e", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = stepline("runs", "show", "aws-e2e", "--json", "-c", "config.yaml", cwd=folder, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "SUCCESS"
    assert hashlib.sha256(VALUES["API_TOKEN"].encode()).hexdigest()[:16] in shown.stdout
    for value in VALUES.values():
        assert value not in done.stdout + done.stderr and value not in shown.stdout
        assert [p for p in folder.rglob("*") if p.is_file() and value.encode() in p.read_bytes()] == []


def test_a_missing_secret_fails_the_run_naming_it(folder, env, secret_id):
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "aws-miss", cwd=folder, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "API_TOKEN" in output and secret_id in output and "Traceback" not in output
