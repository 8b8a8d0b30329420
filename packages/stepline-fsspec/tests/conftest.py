"""Fixtures: fresh roots on memory://, file:// and a real moto S3 server."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def s3_env(services, monkeypatch):
    """The moto server's settings, exported so fsspec/boto (here and in child processes) use them."""
    env = services.start("moto")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_bucket(s3_env):
    """A new, empty bucket on the moto server (unique per test: the server is shared)."""
    import fsspec

    fs = fsspec.filesystem("s3")
    name = f"stepline-{uuid.uuid4().hex[:16]}"
    fs.mkdir(name)
    return name


@pytest.fixture
def memory_root():
    """A fresh folder on the process-wide memory:// filesystem."""
    return f"memory://stepline-tests/{uuid.uuid4().hex}"
