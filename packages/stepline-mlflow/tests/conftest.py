"""A migrated mlflow sqlite database, made once per session and copied per test (migrating takes ~6 s)."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()  # creates and migrates the schema
    return path


@pytest.fixture
def tracking_uri(template_db, tmp_path):
    path = tmp_path / "mlflow" / "mlflow.db"
    path.parent.mkdir()
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def reader(tracking_uri):
    """mlflow's own client, to read back what the tracker logged."""
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)
