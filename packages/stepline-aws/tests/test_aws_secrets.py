"""stepline-aws against a real moto server (tools/moto.sh): Secrets Manager and SSM Parameter Store."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from stepline.component import Locality
from stepline.errors import SecretNotFoundError, StepLineError
from stepline.plugins import Severity
from stepline.testing.integration import IntegrationCheckContract, executor_running_steps_in
from stepline.testing.secrets import KNOWN_SECRETS, SecretsContract
from stepline_aws import plugin
from stepline_aws.secrets import ParameterStoreSecrets, SecretsManagerSecrets


@pytest.fixture(scope="session")
def moto(services):
    return services.start("moto")


@pytest.fixture
def aws_env(moto, monkeypatch):
    """The standard AWS environment pointing at the moto server."""
    for key in ("AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto.items():
        monkeypatch.setenv(key, value)
    return moto


@pytest.fixture
def boto(aws_env):
    import boto3

    return boto3.session.Session()


def uid() -> str:
    return uuid.uuid4().hex[:12]


class TestSecretsManagerJsonSecret(SecretsContract):
    @pytest.fixture
    def make_secrets(self, boto):
        def make(values):
            secret_id = f"stepline/tests/{uid()}"
            boto.client("secretsmanager").create_secret(Name=secret_id, SecretString=json.dumps(values))
            return SecretsManagerSecrets.from_config({"secret_id": secret_id})

        return make


class TestSecretsManagerOneSecretPerName(SecretsContract):
    """Each name its own secret; explicit region and endpoint instead of the environment."""

    @pytest.fixture
    def make_secrets(self, boto, aws_env, monkeypatch):
        client = boto.client("secretsmanager")
        endpoint = aws_env["AWS_ENDPOINT_URL"]

        def make(values):
            for name, value in values.items():
                try:
                    client.create_secret(Name=name, SecretString=value)
                except client.exceptions.ResourceExistsException:
                    client.put_secret_value(SecretId=name, SecretString=value)
            monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
            monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
            return SecretsManagerSecrets.from_config({"region": "us-east-1", "endpoint_url": endpoint})

        return make


class TestParameterStoreSecureString(SecretsContract):
    @pytest.fixture
    def make_secrets(self, boto):
        def make(values):
            prefix = f"/stepline/tests/{uid()}"
            client = boto.client("ssm")
            for name, value in values.items():
                client.put_parameter(Name=f"{prefix}/{name}", Value=value, Type="SecureString")
            return ParameterStoreSecrets.from_config({"path_prefix": prefix + "/"})

        return make


# ---- Secrets Manager details --------------------------------------------------------------------------
def test_json_secret_that_does_not_exist_names_secret_and_id(aws_env):
    backend = SecretsManagerSecrets.from_config({"secret_id": "stepline/tests/never-created"})
    with pytest.raises(SecretNotFoundError) as info:
        backend.get("API_KEY")
    assert "'API_KEY'" in str(info.value) and "stepline/tests/never-created" in str(info.value)


def test_a_secret_that_is_not_json_is_refused_without_showing_it(boto):
    secret_id = f"stepline/tests/{uid()}"
    boto.client("secretsmanager").create_secret(Name=secret_id, SecretString="plain-text-value")
    with pytest.raises(SecretNotFoundError) as info:
        SecretsManagerSecrets.from_config({"secret_id": secret_id}).get("API_KEY")
    assert "not a JSON object" in str(info.value) and "plain-text-value" not in str(info.value)


def test_missing_key_lists_key_names_not_values(boto):
    secret_id = f"stepline/tests/{uid()}"
    boto.client("secretsmanager").create_secret(Name=secret_id, SecretString=json.dumps(KNOWN_SECRETS))
    with pytest.raises(SecretNotFoundError) as info:
        SecretsManagerSecrets.from_config({"secret_id": secret_id}).get("OTHER")
    message = str(info.value)
    assert "API_KEY" in message and not any(v in message for v in KNOWN_SECRETS.values())


def test_json_secret_is_read_once_per_instance(boto):
    secret_id = f"stepline/tests/{uid()}"
    client = boto.client("secretsmanager")
    client.create_secret(Name=secret_id, SecretString=json.dumps({"K": "first", "N": 3}))
    backend = SecretsManagerSecrets.from_config({"secret_id": secret_id})
    assert backend.get("K") == "first"
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"K": "second"}))
    assert backend.get("K") == "first" and backend.get("N") == "3"
    assert SecretsManagerSecrets.from_config({"secret_id": secret_id}).get("K") == "second"


def test_plain_secret_per_name_missing(aws_env):
    with pytest.raises(SecretNotFoundError, match="'NEVER_CREATED_SECRET_9'"):
        SecretsManagerSecrets.from_config({}).get("NEVER_CREATED_SECRET_9")


def test_binary_secret_per_name(boto):
    name = f"bin-{uid()}"
    boto.client("secretsmanager").create_secret(Name=name, SecretBinary=b"bytes-value")
    assert SecretsManagerSecrets.from_config({}).get(name) == "bytes-value"


def test_an_unreachable_endpoint_is_a_clear_error(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    backend = SecretsManagerSecrets.from_config({"endpoint_url": "http://127.0.0.1:9", "secret_id": "x"})
    with pytest.raises(StepLineError, match="cannot reach AWS secretsmanager"):
        backend.get("API_KEY")


def test_an_unknown_profile_is_a_clear_error(aws_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(StepLineError, match="profile 'nobody' is not configured"):
        SecretsManagerSecrets.from_config({"profile": "nobody"}).get("API_KEY")


# ---- Parameter Store details --------------------------------------------------------------------------
def test_parameter_store_plain_string_and_no_prefix(boto):
    name = f"stepline-{uid()}"
    boto.client("ssm").put_parameter(Name=name, Value="plain", Type="String")
    assert ParameterStoreSecrets.from_config({}).get(name) == "plain"


def test_parameter_store_missing_names_the_full_parameter(aws_env):
    backend = ParameterStoreSecrets.from_config({"path_prefix": "/stepline/none"})
    with pytest.raises(SecretNotFoundError) as info:
        backend.get("API_KEY")
    assert "'API_KEY'" in str(info.value) and "/stepline/none/API_KEY" in str(info.value)


def test_parameter_store_securestring_is_stored_encrypted(boto):
    prefix = f"/stepline/tests/{uid()}"
    client = boto.client("ssm")
    client.put_parameter(Name=f"{prefix}/TOKEN", Value="clear-value", Type="SecureString")
    raw = client.get_parameter(Name=f"{prefix}/TOKEN", WithDecryption=False)["Parameter"]["Value"]
    assert raw != "clear-value"  # so the backend really has to ask for decryption
    assert ParameterStoreSecrets.from_config({"path_prefix": prefix}).get("TOKEN") == "clear-value"


# ---- plugin -------------------------------------------------------------------------------------------
def test_importing_the_plugin_does_not_import_boto3():
    code = ("import sys, stepline_aws.plugin as p; p.stepline_components(); "
            "print('boto3' in sys.modules, 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_both_types_are_registered_through_the_entry_point():
    from stepline.plugins.manager import get_registry

    registry = get_registry()
    assert registry.get("secrets", "aws-secrets-manager") is SecretsManagerSecrets
    assert registry.get("secrets", "aws-ssm-parameter-store") is ParameterStoreSecrets


def test_settings_hold_no_credentials():
    fields = set(SecretsManagerSecrets.Settings.model_fields) | set(ParameterStoreSecrets.Settings.model_fields)
    assert not {"access_key", "aws_access_key_id", "secret_key", "aws_secret_access_key"} & fields


def test_a_loopback_endpoint_under_a_network_executor_warns():
    service = SecretsManagerSecrets.from_config({"endpoint_url": "http://127.0.0.1:15000"})
    problems = plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), service)
    assert len(problems) == 1 and problems[0].severity == Severity.WARNING and "127.0.0.1" in problems[0].message
    assert plugin.stepline_check_integration(executor_running_steps_in(Locality.MACHINE), service) == []
    remote = ParameterStoreSecrets.from_config({"endpoint_url": "https://ssm.eu-west-1.amazonaws.com"})
    assert plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), remote) == []


def test_no_region_anywhere_is_a_clear_error(aws_env, tmp_path, monkeypatch):
    for key in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(StepLineError, match="no AWS region"):
        ParameterStoreSecrets.from_config({}).get("API_KEY")


class TestAwsChecks(IntegrationCheckContract):
    """The aws plugin's checks pass the integration check kit."""

    @pytest.fixture
    def plugin(self):
        return plugin

    @pytest.fixture
    def services(self):
        return [SecretsManagerSecrets.from_config({"endpoint_url": "http://127.0.0.1:15000"}),
                ParameterStoreSecrets.from_config({"endpoint_url": "https://ssm.eu-west-1.amazonaws.com"})]
