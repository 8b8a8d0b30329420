"""A real OpenBao dev server (tools/openbao.sh) and an admin hvac client to seed it."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def bao(services):
    """{"VAULT_ADDR": ..., "VAULT_TOKEN": "root"} of the running dev server."""
    return services.start("openbao")


@pytest.fixture(scope="session")
def admin(bao):
    import hvac

    client = hvac.Client(url=bao["VAULT_ADDR"], token=bao["VAULT_TOKEN"])
    assert client.is_authenticated()
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    if "kv1/" not in mounts:
        client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    return client


@pytest.fixture
def vault_env(bao, monkeypatch):
    """The standard Vault environment of a user who exported VAULT_ADDR and VAULT_TOKEN."""
    monkeypatch.setenv("VAULT_ADDR", bao["VAULT_ADDR"])
    monkeypatch.setenv("VAULT_TOKEN", bao["VAULT_TOKEN"])
    return bao


@pytest.fixture
def unique_path():
    return f"stepline-tests/{uuid.uuid4().hex[:12]}"
