"""The sql run log store against the run log contract kit: SQLite file, SQLite memory, PostgreSQL."""

from __future__ import annotations

import pytest
from stepline.testing.runlog import RunLogStoreContract
from stepline_sql.store import SqlRunLogStore


class TestOnSqliteFile(RunLogStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return SqlRunLogStore.from_config({"url": f"sqlite:///{tmp_path}/runs.db"})


class TestOnSqliteMemory(RunLogStoreContract):
    @pytest.fixture
    def store(self):
        return SqlRunLogStore.from_config({"url": "sqlite://"})


class TestOnPostgres(RunLogStoreContract):
    @pytest.fixture
    def store(self, pg_schema_url):
        return SqlRunLogStore.from_config({"url": pg_schema_url})
