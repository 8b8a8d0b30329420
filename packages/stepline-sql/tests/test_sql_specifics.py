"""What the contract kit does not cover: schema and versions, masking, locality, errors, plugin wiring."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from stepline.component import Locality
from stepline.errors import ConfigError
from stepline.plugins.manager import component_class
from stepline.runlog.models import RunLog, StepLog
from stepline_sql.store import SqlRunLogStore, SqlStoreError


def _count(store: SqlRunLogStore, sql: str) -> int:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


@pytest.mark.parametrize(("url", "locality"), [
    ("sqlite://", Locality.PROCESS), ("sqlite:///:memory:", Locality.PROCESS),
    ("sqlite:///.stepline/runs.db", Locality.MACHINE), ("postgresql+psycopg://u@db.example/runs", Locality.NETWORK),
])
def test_locality_follows_the_url(url, locality):
    assert SqlRunLogStore.from_config({"url": url}).locality == locality


def test_describe_masks_the_password():
    store = SqlRunLogStore.from_config({"url": "postgresql+psycopg://app:hunter2@db.example:5432/runs?sslpassword=x9"})
    text = json.dumps(store.describe())
    assert "hunter2" not in text and "x9" not in text
    assert "postgresql+psycopg://app:***@db.example:5432/runs" in text


def test_plugin_registers_sql_without_importing_sqlalchemy():
    assert component_class("run_log_store", "sql") is SqlRunLogStore
    code = ("import sys, stepline_sql.plugin as p; p.stepline_components(); "
            "print([m for m in ('sqlalchemy', 'psycopg') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sqlite_file_and_its_folder_are_created_and_reopened(tmp_path):
    url = f"sqlite:///{tmp_path}/deep/er/runs.db"
    SqlRunLogStore.from_config({"url": url}).create_run_log(RunLog(run_id="r1", tag="kept"))
    assert (tmp_path / "deep/er/runs.db").is_file()
    assert SqlRunLogStore.from_config({"url": url}).get_run("r1").tag == "kept"


def test_sqlite_uses_wal(tmp_path):
    store = SqlRunLogStore.from_config({"url": f"sqlite:///{tmp_path}/runs.db"})
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_schema_version_is_recorded(tmp_path):
    store = SqlRunLogStore.from_config({"url": f"sqlite:///{tmp_path}/runs.db"})
    assert _count(store, "SELECT version FROM stepline_schema_version") == 1


def test_a_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/runs.db"
    store = SqlRunLogStore.from_config({"url": url})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE stepline_schema_version SET version = 99")
    with pytest.raises(SqlStoreError, match="schema version 99.*upgrade stepline-sql"):
        SqlRunLogStore.from_config({"url": url}).list_runs()


def test_one_row_per_record_and_updates_replace_it(pg_schema_url):
    store = SqlRunLogStore.from_config({"url": pg_schema_url})
    store.create_run_log(RunLog(run_id="r1"))
    for status in ("PROCESSING", "SUCCESS"):
        store.put_step_log("r1", StepLog(name="a", internal_name="a", status=status))
        store.put_step_log("r1", StepLog(name="b", internal_name="b", status=status))
    assert _count(store, "SELECT count(*) FROM stepline_runs") == 1
    assert _count(store, "SELECT count(*) FROM stepline_records") == 3  # params, a, b
    assert store.get_step_log("r1", "a").status == "SUCCESS"


def test_runs_list_has_an_index(pg_schema_url):
    import sqlalchemy

    store = SqlRunLogStore.from_config({"url": pg_schema_url})
    store.list_runs()
    indexes = sqlalchemy.inspect(store.engine).get_indexes("stepline_runs")
    assert [i["column_names"] for i in indexes] == [["start_time", "run_id"]]


def test_unreachable_server_is_a_one_line_error_without_the_password():
    store = SqlRunLogStore.from_config({"url": "postgresql+psycopg://app:hunter2@127.0.0.1:1/runs"})
    with pytest.raises(SqlStoreError) as caught:
        store.list_runs()
    message = str(caught.value)
    assert "hunter2" not in message and "\n" not in message
    assert "app:***@127.0.0.1:1/runs" in message


def test_bad_url_and_missing_driver_are_config_errors():
    with pytest.raises(ConfigError, match="url"):
        SqlRunLogStore.from_config({"url": "not a url"}).list_runs()
    with pytest.raises(ConfigError, match="driver"):
        SqlRunLogStore.from_config({"url": "nosuchdb://host/x"}).list_runs()


FIRST_USE = """
import sys
from stepline.runlog.models import RunLog, StepLog
from stepline_sql.store import SqlRunLogStore
store = SqlRunLogStore.from_config({"url": sys.argv[1]})
store.create_run_log(RunLog(run_id=sys.argv[2]))
store.put_step_log(sys.argv[2], StepLog(name="s", internal_name="s"))
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_many_processes_creating_the_schema_at_once(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path}/fresh.db" if backend == "sqlite" else request.getfixturevalue("pg_schema_url")
    children = [subprocess.Popen([sys.executable, "-c", FIRST_USE, url, f"r{i}"], stderr=subprocess.PIPE, text=True)
                for i in range(4)]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], errors
    store = SqlRunLogStore.from_config({"url": url})
    assert sorted(r.run_id for r in store.list_runs()) == ["r0", "r1", "r2", "r3"]
    assert all(store.get_step_log(f"r{i}", "s") for i in range(4))
    assert _count(store, "SELECT count(*) FROM stepline_schema_version") == 1


def test_a_forked_child_can_keep_using_the_store(pg_schema_url):
    import multiprocessing

    store = SqlRunLogStore.from_config({"url": pg_schema_url})
    store.create_run_log(RunLog(run_id="r1"))  # the parent's pool now holds a connection

    def child():
        store.put_step_log("r1", StepLog(name="from-child", internal_name="from-child"))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 0
    assert store.get_step_log("r1", "from-child") is not None
    store.put_step_log("r1", StepLog(name="from-parent", internal_name="from-parent"))  # parent's pool intact
    assert len(store.get_run_log("r1").steps) == 2
