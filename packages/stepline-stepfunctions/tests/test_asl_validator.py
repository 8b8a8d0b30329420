"""Every example renders into a state machine asl-validator accepts (schema, dangling Next,
unreachable states), under each compute, map mode and output format. (Stand-in machines are for
moto only: their Pass states cannot carry the Catch that makes on_failure targets reachable.)"""

from __future__ import annotations

import json

import pytest
from sfn_helpers import ALL_EXAMPLES, COMPOSITE_EXAMPLES, CORE_EXAMPLES, EXAMPLES, render, validate

ECS = {"compute": "ecs", "cluster": "stepline", "task_definition": "stepline-task:2", "container_name": "main",
       "subnets": ["subnet-1"], "security_groups": ["sg-1"]}
VARIANTS = {
    "batch": {},
    "ecs-distributed": {**ECS, "map_mode": "distributed", "max_concurrency": 8},
}


def test_the_examples_are_all_there():
    assert len(CORE_EXAMPLES) >= 6 and len(COMPOSITE_EXAMPLES) >= 5


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_example_is_a_valid_state_machine(variant, asl_validator, tmp_path):
    paths = []
    for example in ALL_EXAMPLES:
        document = render(EXAMPLES / example / "pipeline.yaml", tmp_path, VARIANTS[variant])
        path = tmp_path / f"{example}.json"
        path.write_text(json.dumps(document))
        paths.append(path)
    done = validate(asl_validator, *paths)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(" is valid") == len(ALL_EXAMPLES)


def test_cloudformation_definition_is_a_valid_state_machine(asl_validator, tmp_path):
    document = render(EXAMPLES / "11-map" / "pipeline.yaml", tmp_path,
                      {"output_format": "cloudformation", "role_arn": "arn:aws:iam::123456789012:role/sfn",
                       "state_machine_name": "stepline-map"})
    props = document["Resources"]["StateMachine"]["Properties"]
    assert document["Resources"]["StateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert props["RoleArn"] == "arn:aws:iam::123456789012:role/sfn"
    assert props["StateMachineName"] == "stepline-map"
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(props["Definition"]))
    assert validate(asl_validator, path).returncode == 0


def test_the_validator_rejects_a_broken_machine(asl_validator, tmp_path):
    """The check above can fail: a dangling Next is caught."""
    document = render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path)
    document["States"]["hello"]["Next"] = "no such state"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path)))
    done = validate(asl_validator, good, path)
    assert done.returncode == 1 and "good.json\" is valid" in done.stdout
    assert "broken.json\" is invalid" in done.stderr and "target: no such state" in done.stderr
