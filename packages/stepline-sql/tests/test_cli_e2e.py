"""examples/20-sql-run-log through the ``stepline`` CLI, with the run log on a real PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from stepline.testing.cli import clean_env, copy_example, run_log_json, stepline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "20-sql-run-log"
WORDS = b"the run log of this pipeline lives in a database\n"


@pytest.fixture
def folder(tmp_path):
    return copy_example(EXAMPLE, tmp_path)


@pytest.fixture
def env(pg_schema_url):
    # trust auth accepts any password: put one in the URL to check it is never written down
    url = pg_schema_url.replace("postgres@", "postgres:pg-pa55word@")
    clean = clean_env()
    return {**clean, "SQL_RUN_LOG_URL": url}


def test_example_runs_with_the_run_log_on_postgres(folder, env):
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "sql-e2e", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "counted 10 words" in done.stdout

    log = run_log_json("sql-e2e", "config.yaml", cwd=folder, env=env)
    assert log["status"] == "SUCCESS"
    assert list(log["steps"]) == ["write words", "count words", "report", "success"]
    assert all(step["status"] == "SUCCESS" for step in log["steps"].values())
    count = log["steps"]["count words"]
    assert count["attempts"][-1]["output_parameters"]["word_count"]["value"] == 10
    assert [(i["name"], i["data_hash"]) for i in count["data_catalog"] if i["stage"] == "get"] == [
        ("data/words.txt", hashlib.sha256(WORDS).hexdigest())]
    put = log["steps"]["write words"]["data_catalog"]
    assert [(i["name"], i["data_hash"]) for i in put if i["name"] == "data/words.txt"] == [
        ("data/words.txt", hashlib.sha256(WORDS).hexdigest())]
    assert log["run_config"]["run_log_store"]["type"] == "sql"
    assert "postgres:***@" in log["run_config"]["run_log_store"]["config"]["url"]

    # the records are rows in PostgreSQL (not a local file), and the password is nowhere
    assert not (folder / ".stepline" / "runs").exists()
    import sqlalchemy

    engine = sqlalchemy.create_engine(env["SQL_RUN_LOG_URL"], poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, record FROM stepline_records WHERE run_id = 'sql-e2e'").all()
        run_record = conn.exec_driver_sql("SELECT record FROM stepline_runs WHERE run_id = 'sql-e2e'").scalar()
    assert sorted(k for k, _ in rows) == ["params", "step/count words", "step/report", "step/success", "step/write words"]
    for text in [run_record, *(r for _, r in rows), done.stdout, done.stderr, json.dumps(log)]:
        assert "pg-pa55word" not in text

    listed = stepline("runs", "list", "-c", "config.yaml", cwd=folder, env=env)
    assert listed.returncode == 0 and "sql-e2e" in listed.stdout


def test_a_reused_run_id_is_refused_by_the_database(folder, env):
    first = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "twice", cwd=folder, env=env)
    assert first.returncode == 0, first.stderr
    second = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "twice", cwd=folder, env=env)
    assert second.returncode == 2 and "'twice' is already used" in second.stderr
    assert "Traceback" not in second.stderr


def test_example_under_the_emulator_each_step_a_process_writing_to_postgres(folder, env):
    (folder / "emulator.yaml").write_text((folder / "config.yaml").read_text() + "executor:\n  type: emulator\n")
    done = stepline("execute", "pipeline.yaml", "-c", "emulator.yaml", "--run-id", "emu", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    log = run_log_json("emu", "emulator.yaml", cwd=folder, env=env)
    assert log["status"] == "SUCCESS" and log["run_config"]["executor"]["type"] == "emulator"
    assert log["steps"]["count words"]["attempts"][-1]["output_parameters"]["word_count"]["value"] == 10


def test_in_memory_sqlite_is_refused_when_steps_run_in_other_processes(folder, env):
    (folder / "emulator.yaml").write_text("run_log_store:\n  type: sql\n  config:\n    url: 'sqlite://'\n"
                                          "executor:\n  type: emulator\n")
    done = stepline("execute", "pipeline.yaml", "-c", "emulator.yaml", cwd=folder, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "sql" in done.stderr and "Traceback" not in done.stderr
