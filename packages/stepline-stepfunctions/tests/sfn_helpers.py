"""Helpers for the Step Functions tests (imported by name; conftest puts this folder on sys.path): render a pipeline with a step-functions config, validate
it with asl-validator (tools/asl-validator.sh), run it in moto's executing Step Functions."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
CORE_EXAMPLES = sorted(p.parent.name for p in EXAMPLES.glob("0[0-9]-*/pipeline.yaml"))
COMPOSITE_EXAMPLES = sorted(p.parent.name for p in EXAMPLES.glob("1[0-9]-*/pipeline.yaml"))
OWN_EXAMPLES = sorted(p.parent.name for p in EXAMPLES.glob("6[5-9]-*/pipeline.yaml"))
ALL_EXAMPLES = CORE_EXAMPLES + COMPOSITE_EXAMPLES + OWN_EXAMPLES

BASE = {
    "executor": {"type": "step-functions", "config": {
        "compute": "batch", "job_queue": "stepline-queue", "job_definition": "stepline-job:1",
        "exchange_location": "s3://stepline-bucket/exchange"}},
    "run_log_store": {"type": "chunked-fsspec", "config": {"location": "s3://stepline-bucket/runs"}},
    "catalog": {"type": "fsspec", "config": {"location": "s3://stepline-bucket/catalog"}},
}


def write_config(folder: Path, executor: dict | None = None, **sections) -> Path:
    config = json.loads(json.dumps(BASE))
    config["executor"]["config"].update(executor or {})
    for name, body in sections.items():
        if body is None:
            config.pop(name, None)
        else:
            config[name] = body
    path = folder / f"config-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def render(pipeline: Path | str, folder: Path, executor: dict | None = None, **sections) -> dict:
    """The rendered document of ``pipeline`` under a step-functions config (settings overlaid)."""
    from stepline.run.prepare import prepare

    config = write_config(folder, executor, **sections)
    prepared = prepare(str(pipeline), str(config))
    return json.loads(render_prepared(prepared))


def render_prepared(prepared, params_file: str | None = None) -> str:
    """The text the executor of ``prepared`` renders, with the callbacks given ``pipeline.yaml``
    and ``config.yaml`` (the layout inside the image)."""
    from stepline.orchestration.render import RenderJob

    job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file="pipeline.yaml",
                    config_file="config.yaml", params_file=params_file)
    return prepared.services.executor.render_text(job)


def validate(validator: str, *paths: Path) -> subprocess.CompletedProcess:
    """asl-validator on every file in one process (exit 0 only when all are valid)."""
    args = [validator]
    for path in paths:
        args += ["--json-path", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


class Moto:
    """boto3 clients against the moto server, in its state-machine-executing mode."""

    def __init__(self, env: dict[str, str]) -> None:
        import boto3

        self.env = env
        url = env["AWS_ENDPOINT_URL"]
        request = urllib.request.Request(
            f"{url}/moto-api/config", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
        urllib.request.urlopen(request, timeout=10).read()
        kwargs = {"endpoint_url": url, "region_name": env["AWS_DEFAULT_REGION"],
                  "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
                  "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
        self.sfn = boto3.client("stepfunctions", **kwargs)
        self.s3 = boto3.client("s3", **kwargs)

    def run(self, definition: dict, run_id: str | None = None) -> tuple[str, list[dict]]:
        """Create the machine, start one execution named ``run_id``, wait (bounded); return the
        final status and the execution history's events."""
        arn = self.sfn.create_state_machine(
            name=f"stepline-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/stepline")["stateMachineArn"]
        execution = self.sfn.start_execution(stateMachineArn=arn, name=run_id or f"run-{uuid.uuid4().hex[:8]}")
        deadline = time.monotonic() + 60
        while True:
            status = self.sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            if status != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        events = self.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        return status, events


def entered(events: list[dict]) -> list[str]:
    """The names of the states entered, in order."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def all_states(definition: dict) -> dict[str, dict]:
    """Every state of a machine, nested ones (Parallel branches, Map processors) included."""
    found = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(all_states(branch))
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]))
    return found


def commands(events: list[dict], definition: dict) -> list[list[str]]:
    """The commands the stand-in Pass states evaluated (what the real Task states would run), in order."""
    stand_ins = {name for name, s in all_states(definition).items()
                 if s["Type"] == "Pass" and "command.$" in s.get("Parameters", {})}
    found = []
    for e in events:
        details = e.get("stateExitedEventDetails")
        if details and details["name"] in stand_ins:
            found.append(json.loads(details["output"])["stand_in"]["command"])
    return found


