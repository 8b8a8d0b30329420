"""Fixtures: a fresh SQLite file, and a fresh schema on a real PostgreSQL server per test."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def pg_url(services) -> str:
    return services.start("postgres")["PG_URL"]


@pytest.fixture
def pg_schema_url(pg_url):
    """A URL whose connections use a new, empty schema (cheaper than a database per test)."""
    import sqlalchemy

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(pg_url, poolclass=sqlalchemy.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{pg_url}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()
