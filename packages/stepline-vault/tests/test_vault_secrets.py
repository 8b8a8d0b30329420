"""stepline-vault against a real OpenBao dev server (KV v2 and v1, token and AppRole auth)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from stepline.errors import ConfigError, SecretNotFoundError, StepLineError
from stepline.testing.secrets import KNOWN_SECRETS, SecretsContract
from stepline_vault.secrets import VaultSecrets


class TestVaultKV2Contract(SecretsContract):
    @pytest.fixture
    def make_secrets(self, admin, vault_env, unique_path):
        def make(values):
            admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret=values, mount_point="secret")
            return VaultSecrets.from_config({"path": unique_path})  # url from VAULT_ADDR

        return make


class TestVaultKV1Contract(SecretsContract):
    @pytest.fixture
    def make_secrets(self, admin, vault_env, unique_path):
        def make(values):
            admin.secrets.kv.v1.create_or_update_secret(path=unique_path, secret=values, mount_point="kv1")
            return VaultSecrets.from_config({"url": vault_env["VAULT_ADDR"], "mount_point": "kv1",
                                             "path": unique_path, "kv_version": 1})

        return make


# ---- reading ----------------------------------------------------------------------------------------
def test_per_secret_path_reads_another_secret(admin, vault_env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret={"A": "a"})
    admin.secrets.kv.v2.create_or_update_secret(path=f"{unique_path}-other", secret={"B": "b-value"})
    backend = VaultSecrets.from_config({"path": unique_path})
    assert backend.get("A") == "a"
    assert backend.get(f"{unique_path}-other:B") == "b-value"
    with pytest.raises(SecretNotFoundError, match=f"'{unique_path}-other:A'"):
        backend.get(f"{unique_path}-other:A")


def test_values_are_cached_for_the_life_of_an_instance(admin, vault_env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret={"K": "first"})
    backend = VaultSecrets.from_config({"path": unique_path})
    assert backend.get("K") == "first"
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret={"K": "second"})
    assert backend.get("K") == "first"  # one run sees one value
    assert VaultSecrets.from_config({"path": unique_path}).get("K") == "second"


def test_non_string_values_come_back_as_json_text(admin, vault_env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret={"N": 5, "M": {"a": 1}})
    backend = VaultSecrets.from_config({"path": unique_path})
    assert backend.get("N") == "5"
    assert json.loads(backend.get("M")) == {"a": 1}


def test_a_path_that_does_not_exist_names_secret_and_path(vault_env):
    backend = VaultSecrets.from_config({"path": "stepline-tests/never-written"})
    with pytest.raises(SecretNotFoundError) as info:
        backend.get("API_KEY")
    assert "'API_KEY'" in str(info.value) and "secret/stepline-tests/never-written" in str(info.value)


def test_missing_key_lists_key_names_not_values(admin, vault_env, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret=KNOWN_SECRETS)
    with pytest.raises(SecretNotFoundError) as info:
        VaultSecrets.from_config({"path": unique_path}).get("OTHER")
    message = str(info.value)
    assert "API_KEY" in message and "DB_PASSWORD" in message
    assert not any(value in message for value in KNOWN_SECRETS.values())


def test_an_unreachable_server_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "root")
    backend = VaultSecrets.from_config({"url": "http://127.0.0.1:9", "path": "x", "timeout": 2})
    with pytest.raises(StepLineError, match="cannot reach Vault at http://127.0.0.1:9"):
        backend.get("API_KEY")


# ---- token auth -------------------------------------------------------------------------------------
def test_token_in_config_is_refused_and_points_to_vault_token():
    with pytest.raises(ConfigError) as info:
        VaultSecrets.from_config({"path": "x", "token": "s.very-secret"})
    assert "VAULT_TOKEN" in str(info.value)
    assert "s.very-secret" not in str(info.value)


def test_secret_id_in_config_is_refused():
    with pytest.raises(ConfigError, match="secret_id_env"):
        VaultSecrets.from_config({"path": "x", "auth": "approle", "role_id": "r", "secret_id": "s"})


def test_token_auth_without_vault_token_is_a_clear_error(bao, monkeypatch):
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    backend = VaultSecrets.from_config({"url": bao["VAULT_ADDR"], "path": "x"})
    with pytest.raises(StepLineError, match="VAULT_TOKEN is not set"):
        backend.get("API_KEY")


def test_no_address_anywhere_is_a_config_error(monkeypatch):
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.setenv("VAULT_TOKEN", "root")
    with pytest.raises(ConfigError, match="VAULT_ADDR"):
        VaultSecrets.from_config({"path": "x"}).get("API_KEY")


def test_a_token_denied_the_path_fails_naming_the_secret(admin, bao, monkeypatch, unique_path):
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret=KNOWN_SECRETS)
    admin.sys.create_or_update_policy(name="stepline-nothing", policy='path "secret/data/none" {capabilities=["read"]}')
    token = admin.auth.token.create(policies=["stepline-nothing"], ttl="5m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", token)
    backend = VaultSecrets.from_config({"url": bao["VAULT_ADDR"], "path": unique_path})
    with pytest.raises(SecretNotFoundError) as info:
        backend.get("DB_PASSWORD")
    message = str(info.value)
    assert "'DB_PASSWORD'" in message and "permission denied" in message
    assert KNOWN_SECRETS["DB_PASSWORD"] not in message and token not in message


# ---- AppRole ----------------------------------------------------------------------------------------
@pytest.fixture
def approle(admin, unique_path):
    """An AppRole allowed to read secret/<unique_path> only; returns (role_id, secret_id)."""
    if "approle/" not in admin.sys.list_auth_methods()["data"]:
        admin.sys.enable_auth_method("approle")
    name = f"stepline-{uuid.uuid4().hex[:8]}"
    admin.sys.create_or_update_policy(
        name=name, policy=f'path "secret/data/{unique_path}" {{ capabilities = ["read"] }}')
    admin.auth.approle.create_or_update_approle(role_name=name, token_policies=[name], token_ttl="5m")
    role_id = admin.auth.approle.read_role_id(role_name=name)["data"]["role_id"]
    secret_id = admin.auth.approle.generate_secret_id(role_name=name)["data"]["secret_id"]
    return role_id, secret_id


def test_approle_login_reads_allowed_secrets(admin, bao, approle, monkeypatch, unique_path):
    role_id, secret_id = approle
    admin.secrets.kv.v2.create_or_update_secret(path=unique_path, secret=KNOWN_SECRETS)
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("MY_APPROLE_SECRET", secret_id)
    backend = VaultSecrets.from_config({"url": bao["VAULT_ADDR"], "path": unique_path, "auth": "approle",
                                        "role_id": role_id, "secret_id_env": "MY_APPROLE_SECRET"})
    assert backend.get("API_KEY") == KNOWN_SECRETS["API_KEY"]
    assert role_id not in repr(backend.describe()) and secret_id not in repr(backend.describe())
    # the role's policy does not cover other paths: a denied read, named
    with pytest.raises(SecretNotFoundError, match="'elsewhere:X'.*permission denied"):
        backend.get("elsewhere:X")


def test_approle_with_a_wrong_secret_id_fails_to_log_in(bao, approle, monkeypatch, unique_path):
    role_id, _ = approle
    monkeypatch.setenv("VAULT_SECRET_ID", "00000000-0000-0000-0000-000000000000")
    backend = VaultSecrets.from_config({"url": bao["VAULT_ADDR"], "path": unique_path, "auth": "approle",
                                        "role_id": role_id})
    with pytest.raises(StepLineError, match="approle login .* failed"):
        backend.get("API_KEY")


def test_approle_without_the_secret_id_variable_is_a_clear_error(bao, monkeypatch):
    monkeypatch.delenv("VAULT_SECRET_ID", raising=False)
    backend = VaultSecrets.from_config({"url": bao["VAULT_ADDR"], "path": "x", "auth": "approle",
                                        "role_id": "r"})
    with pytest.raises(StepLineError, match="VAULT_SECRET_ID is not set"):
        backend.get("API_KEY")


def test_approle_needs_a_role_id():
    with pytest.raises(ConfigError, match="role_id"):
        VaultSecrets.from_config({"path": "x", "auth": "approle"})


# ---- plugin -----------------------------------------------------------------------------------------
def test_importing_the_plugin_does_not_import_hvac():
    code = ("import sys, stepline_vault.plugin as p; p.stepline_components(); "
            "print('hvac' in sys.modules, 'requests' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_vault_is_registered_through_the_entry_point():
    from stepline.plugins.manager import get_registry

    assert get_registry().get("secrets", "vault") is VaultSecrets
