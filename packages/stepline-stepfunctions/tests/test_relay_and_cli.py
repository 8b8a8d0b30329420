"""The relay (fan results to S3, against moto) and the CLI render path, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import yaml
from sfn_helpers import EXAMPLES

STEPLINE = str(Path(sys.executable).with_name("stepline"))


def relay(moto, url: str, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **moto.env}
    return subprocess.run([sys.executable, "-m", "stepline_stepfunctions.relay", url, "--", *command],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def test_relay_stores_the_last_json_line_and_passes_output_through(moto):
    bucket = f"relay-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=bucket)
    done = relay(moto, f"s3://{bucket}/ex/run-1/process.out.json", sys.executable, "-c",
                 "import json; print('creating 3 branch logs'); print(json.dumps(['0', '1', '2']))")
    assert done.returncode == 0, done.stderr
    assert "creating 3 branch logs" in done.stdout
    body = moto.s3.get_object(Bucket=bucket, Key="ex/run-1/process.out.json")["Body"].read()
    assert json.loads(body) == ["0", "1", "2"]


def test_relay_stores_a_plain_word_as_a_json_string(moto):
    bucket = f"relay-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=bucket)
    done = relay(moto, f"s3://{bucket}/loop.in.0.json", sys.executable, "-c", "print('[1, 2]'); print('continue')")
    assert done.returncode == 0, done.stderr
    assert moto.s3.get_object(Bucket=bucket, Key="loop.in.0.json")["Body"].read() == b'"continue"'


def test_relay_keeps_the_exit_code_and_stores_nothing_on_failure(moto):
    bucket = f"relay-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=bucket)
    done = relay(moto, f"s3://{bucket}/k.json", sys.executable, "-c", "print('[1]'); raise SystemExit(3)")
    assert done.returncode == 3
    assert moto.s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    nothing = relay(moto, f"s3://{bucket}/k.json", sys.executable, "-c", "print('')")
    assert nothing.returncode == 1 and "printed nothing" in nothing.stderr
    missing = relay(moto, f"s3://no-such-bucket-{uuid.uuid4().hex[:6]}/k.json", sys.executable, "-c", "print(1)")
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot store the result")
    assert len(missing.stderr.strip().splitlines()) == 1


def cli_config(tmp_path: Path, moto, executor: dict, bucket: str) -> Path:
    options = {"endpoint_url": moto.env["AWS_ENDPOINT_URL"]}
    config = {
        "executor": {"type": "step-functions", "config": executor},
        "run_log_store": {"type": "chunked-fsspec",
                          "config": {"location": f"s3://{bucket}/runs", "storage_options": options}},
        "catalog": {"type": "fsspec", "config": {"location": f"s3://{bucket}/catalog", "storage_options": options}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_stepline_execute_renders_the_state_machine(moto, tmp_path):
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=bucket)
    config = cli_config(tmp_path, moto, {"job_queue": "q", "job_definition": "d:1",
                                         "exchange_location": f"s3://{bucket}/exchange",
                                         "output_file": "out/machine.json"}, bucket)
    env = {**os.environ, **moto.env}
    done = subprocess.run([STEPLINE, "execute", str(EXAMPLES / "11-map" / "pipeline.yaml"), "-c", str(config)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    machine = json.loads((tmp_path / "out" / "machine.json").read_text())
    assert machine["StartAt"] == "start run" and "process (map)" in machine["States"]
    first = (tmp_path / "out" / "machine.json").read_bytes()
    again = subprocess.run([STEPLINE, "execute", str(EXAMPLES / "11-map" / "pipeline.yaml"), "-c", str(config)],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert again.returncode == 0 and (tmp_path / "out" / "machine.json").read_bytes() == first


def test_stepline_execute_rejects_a_local_run_log_in_one_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "executor": {"type": "step-functions", "config": {"job_queue": "q", "job_definition": "d"}},
        "run_log_store": {"type": "chunked-fs"}}))
    done = subprocess.run([STEPLINE, "execute", str(EXAMPLES / "01-hello-shell" / "pipeline.yaml"), "-c", str(config)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "use chunked-fsspec on S3 or sql on PostgreSQL" in lines[0]
    assert not (tmp_path / "state-machine.json").exists()
