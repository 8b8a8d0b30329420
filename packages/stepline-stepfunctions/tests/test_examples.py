"""Examples 65-69: rendered through the CLI from their own folders with their own configs,
validated with asl-validator, and run with stand-in tasks in moto's Step Functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sfn_helpers import EXAMPLES, OWN_EXAMPLES, commands, entered, render_prepared, validate

STEPLINE = str(Path(sys.executable).with_name("stepline"))


@pytest.fixture(scope="module")
def bucket(moto):
    name = f"sfn-examples-{uuid.uuid4().hex[:8]}"
    moto.s3.create_bucket(Bucket=name)
    return name


def render_example(example: str, tmp_path: Path, moto, bucket: str, services) -> Path:
    output = tmp_path / f"{example}.json"
    env = {**os.environ, **moto.env, "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto.env["AWS_ENDPOINT_URL"],
           "SFN_OUTPUT": str(output)}
    if "postgres" in example:
        env["PG_URL"] = services.start("postgres")["PG_URL"]
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml"], cwd=EXAMPLES / example,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return output


def test_the_examples_are_there():
    assert OWN_EXAMPLES == ["65-sfn-batch", "66-sfn-ecs-fargate", "67-sfn-distributed-map",
                            "68-sfn-cloudformation", "69-sfn-postgres-secrets-manager"]
    for example in OWN_EXAMPLES:
        assert (EXAMPLES / example / "README.md").is_file()


@pytest.mark.parametrize("example", OWN_EXAMPLES)
def test_example_renders_and_validates(example, tmp_path, moto, bucket, services, asl_validator):
    output = render_example(example, tmp_path, moto, bucket, services)
    document = json.loads(output.read_text())
    if example == "68-sfn-cloudformation":
        props = document["Resources"]["StateMachine"]["Properties"]
        assert props["RoleArn"].endswith(":role/stepline-state-machine")
        document = props["Definition"]
        assert document["TimeoutSeconds"] == 86400
        output.write_text(json.dumps(document))
    done = validate(asl_validator, output)
    assert done.returncode == 0, done.stdout + done.stderr
    text = output.read_text()
    assert "API_TOKEN" not in text
    if example == "65-sfn-batch":
        fit = document["States"]["train (branches)"]["Branches"][1]["States"]["train.forest.fit"]
        assert fit["Parameters"]["JobDefinition"] == "stepline-pipeline-large:1"
        assert "'-f', '/app/pipeline.yaml', '-c', '/app/config.yaml'" in fit["Parameters"]["ContainerOverrides"]["Command.$"]
    if example == "66-sfn-ecs-fargate":
        assert document["States"]["extract"]["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    if example == "67-sfn-distributed-map":
        assert document["States"]["process (map)"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def stand_in_run(example: str, moto, monkeypatch, **settings):
    from stepline.run.prepare import prepare

    monkeypatch.setenv("S3_BUCKET", "stepline-bucket")
    prepared = prepare(str(EXAMPLES / example / "pipeline.yaml"), str(EXAMPLES / example / "config.yaml"))
    executor = prepared.services.executor
    executor.settings = executor.settings.model_copy(update={"stand_in_tasks": True, "output_format": "asl",
                                                             **settings})
    definition = json.loads(render_prepared(prepared))
    return definition, *moto.run(definition, "run-example")


def test_example_65_control_flow(moto, monkeypatch):
    definition, status, events = stand_in_run("65-sfn-batch", moto, monkeypatch,
                                              stand_in_results={"score": [0, 1, 2]})
    assert status == "SUCCEEDED"
    ran = [c[3] for c in commands(events, definition) if c[1] == "execute-single-node"]
    assert ran[0] == "prepare" and ran[-2:] == ["report", "success"]
    assert sorted(ran[1:5]) == ["train.forest.fit", "train.forest.success", "train.linear.fit", "train.linear.success"]
    assert sorted(ran[5:11]) == sorted(f"score.{i}.{s}" for i in range(3) for s in ("count", "success"))


def test_example_66_failure_runs_clean_up(moto, monkeypatch):
    _, status, events = stand_in_run("66-sfn-ecs-fargate", moto, monkeypatch, stand_in_failures=["extract"])
    assert status == "FAILED"
    assert entered(events)[-4:] == ["clean up", "failed", "finish run (failed)", "run failed"]


def test_example_68_conditional_and_loop(moto, monkeypatch):
    definition, status, events = stand_in_run("68-sfn-cloudformation", moto, monkeypatch,
                                              stand_in_results={"strategy": "small", "refine": 1})
    assert status == "SUCCEEDED"
    ran = [c[3] for c in commands(events, definition) if c[1] == "execute-single-node"]
    assert ran == ["inspect", "strategy.small.in memory", "strategy.small.success", "refine.0.round",
                   "refine.0.success", "refine.1.round", "refine.1.success", "success"]
