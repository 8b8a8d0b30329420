"""examples/21-s3-catalog through the ``stepline`` CLI: run log and catalog on a real moto S3 server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from stepline.testing.cli import clean_env, copy_example, run_log_json, stepline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "21-s3-catalog"
WORDS = b"the run log of this pipeline lives in an S3 bucket\n"


@pytest.fixture
def folder(tmp_path):
    return copy_example(EXAMPLE, tmp_path)


@pytest.fixture
def env(s3_env, s3_bucket):
    clean = clean_env("AWS_")
    # the endpoint reaches stepline only through the config's ${S3_ENDPOINT_URL} placeholder
    credentials = {k: v for k, v in s3_env.items() if k != "AWS_ENDPOINT_URL"}
    return {**clean, **credentials, "S3_BUCKET": s3_bucket, "S3_ENDPOINT_URL": s3_env["AWS_ENDPOINT_URL"]}


def test_example_runs_with_run_log_and_catalog_on_s3(folder, env, s3_bucket):
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "s3-e2e", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "counted 11 words" in done.stdout

    log = run_log_json("s3-e2e", "config.yaml", cwd=folder, env=env)
    assert log["status"] == "SUCCESS"
    assert list(log["steps"]) == ["write words", "count words", "report", "success"]
    count = log["steps"]["count words"]
    assert count["attempts"][-1]["output_parameters"]["word_count"]["value"] == 11
    digest = hashlib.sha256(WORDS).hexdigest()
    got = [i for i in count["data_catalog"] if i["stage"] == "get"]
    assert [(i["name"], i["data_hash"], i["catalog_handler_location"]) for i in got] == [
        ("data/words.txt", digest, f"s3://{s3_bucket}/catalog")]
    assert log["run_config"]["catalog"]["type"] == "fsspec"
    assert log["run_config"]["run_log_store"]["type"] == "chunked-fsspec"
    for secret in (env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"]):
        assert f'"{secret}"' not in json.dumps(log)

    # everything is in the bucket, one object per record; nothing in a local .stepline folder
    import fsspec

    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    records = sorted(p.rpartition("/")[2] for p in fs.find(f"{s3_bucket}/runs/s3-e2e"))
    assert records == ["params.json", "run.json", "step%2Fcount%20words.json", "step%2Freport.json",
                       "step%2Fsuccess.json", "step%2Fwrite%20words.json"]
    assert fs.cat_file(f"{s3_bucket}/catalog/s3-e2e/data/words.txt") == WORDS
    assert not (folder / ".stepline" / "runs").exists()
    assert not (folder / ".stepline" / "catalog").exists()

    listed = stepline("runs", "list", "-c", "config.yaml", cwd=folder, env=env)
    assert listed.returncode == 0 and "s3-e2e" in listed.stdout, listed.stderr


def test_example_under_the_emulator_each_step_a_process_on_s3(folder, env):
    (folder / "emulator.yaml").write_text((folder / "config.yaml").read_text() + "executor:\n  type: emulator\n")
    done = stepline("execute", "pipeline.yaml", "-c", "emulator.yaml", "--run-id", "emu", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    log = run_log_json("emu", "emulator.yaml", cwd=folder, env=env)
    assert log["status"] == "SUCCESS" and log["run_config"]["executor"]["type"] == "emulator"
    assert log["steps"]["count words"]["attempts"][-1]["output_parameters"]["word_count"]["value"] == 11


def test_memory_locations_are_refused_when_steps_run_in_other_processes(folder, env):
    (folder / "emulator.yaml").write_text("catalog:\n  type: fsspec\n  config:\n    location: memory://cat\n"
                                          "executor:\n  type: emulator\n")
    done = stepline("execute", "pipeline.yaml", "-c", "emulator.yaml", cwd=folder, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "fsspec" in done.stderr and "Traceback" not in done.stderr
