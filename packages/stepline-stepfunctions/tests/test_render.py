"""The rendered shape: names, tasks, retries, catches, composites, output formats, errors."""

from __future__ import annotations

import base64
import json
from typing import ClassVar, Literal

import pytest
from sfn_helpers import EXAMPLES, render, render_prepared, write_config
from stepline.errors import IntegrationError, NotSupportedError, StepLineError


def states_of(document):
    return document["States"]


def test_rendering_twice_gives_identical_bytes(tmp_path):
    from stepline.run.prepare import prepare

    config = write_config(tmp_path)
    texts = []
    for _ in range(2):
        prepared = prepare(str(EXAMPLES / "14-nested-dag" / "pipeline.yaml"), str(config))
        texts.append(render_prepared(prepared))
    assert texts[0] == texts[1]
    assert "States.Format" in texts[0]


def test_a_leaf_is_a_batch_task_with_retry_and_catch(tmp_path):
    states = states_of(render(EXAMPLES / "06-retries" / "pipeline.yaml", tmp_path, {"backoff_rate": 1.5}))
    flaky = states["flaky"]
    assert flaky["Type"] == "Task" and flaky["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    params = flaky["Parameters"]
    assert params["JobQueue"] == "stepline-queue" and params["JobDefinition"] == "stepline-job:1"
    assert params["JobName"].startswith("stepline-flaky-")
    assert params["ContainerOverrides"]["Command.$"] == (
        "States.Array('stepline', 'execute-single-node', $$.Execution.Name, 'flaky', "
        "'-f', 'pipeline.yaml', '-c', 'config.yaml')")
    assert {"Name": "STEPLINE_RUN_ID", "Value.$": "$$.Execution.Name"} in params["ContainerOverrides"]["Environment"]
    # max_attempts: 3, retry_delay_seconds: 0.2 -> two more tries after 1 s (the smallest interval)
    assert flaky["Retry"] == [{"ErrorEquals": ["Batch.AWSBatchException", "Batch.ServerException",
                                               "ECS.AmazonECSException", "ECS.ServerException"],
                               "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.5}]
    assert flaky["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "fail"}]
    assert states["slow"]["Catch"][0]["Next"] == "report timeout"
    assert "Retry" not in states["slow"]


def test_ecs_task_with_network_and_per_step_overrides(tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("""
dag:
  start_at: big
  steps:
    big:
      type: task
      command_type: shell
      command: echo big
      overrides:
        step-functions: {task_definition: "big-task:1", environment: {SIZE: large}}
""")
    states = states_of(render(pipeline, tmp_path, {
        "compute": "ecs", "cluster": "c1", "task_definition": "t:1", "container_name": "main",
        "subnets": ["subnet-a"], "security_groups": ["sg-a"], "environment": {"MODE": "prod"}}))
    big = states["big"]
    assert big["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    p = big["Parameters"]
    assert p["Cluster"] == "c1" and p["TaskDefinition"] == "big-task:1" and p["LaunchType"] == "FARGATE"
    assert p["NetworkConfiguration"] == {"AwsvpcConfiguration": {"Subnets": ["subnet-a"], "SecurityGroups": ["sg-a"],
                                                                 "AssignPublicIp": "DISABLED"}}
    container = p["Overrides"]["ContainerOverrides"][0]
    assert container["Name"] == "main"
    assert container["Environment"][1:] == [{"Name": "MODE", "Value": "prod"}, {"Name": "SIZE", "Value": "large"}]


def test_map_fan_out_feeds_the_items_path(tmp_path):
    states = states_of(render(EXAMPLES / "11-map" / "pipeline.yaml", tmp_path, {"map_mode": "distributed",
                                                                               "max_concurrency": 4}))
    assert states["process"]["Next"] == "process (read branches)"
    read = states["process (read branches)"]
    assert read["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert read["Parameters"] == {"Bucket": "stepline-bucket",
                                  "Key.$": "States.Format('exchange/{}/process.out.json', $$.Execution.Name)"}
    assert read["ResultSelector"] == {"items.$": "States.StringToJson($.Body)"} and read["ResultPath"] == "$.fan"
    mapped = states["process (map)"]
    assert mapped["ItemsPath"] == "$.fan.items" and mapped["MaxConcurrency"] == 4
    assert mapped["ItemSelector"] == {"branch.$": "States.Format('process.{}', $$.Map.Item.Value)"}
    assert mapped["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert mapped["Catch"][0]["Next"] == "process (fan in)"


def test_nested_map_builds_step_paths_from_the_branch(tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("""
dag:
  start_at: outer
  steps:
    outer:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: inner
        steps:
          inner:
            type: map
            iterate_on: ys
            iterate_as: y
            branch:
              start_at: "it's {odd}"
              steps:
                "it's {odd}": {type: stub}
""")
    states = states_of(render(pipeline, tmp_path))
    inner = states["outer (map)"]["ItemProcessor"]["States"]["outer.*.inner (map)"]
    assert inner["ItemSelector"] == {"branch.$": "States.Format('{}.inner.{}', $.branch, $$.Map.Item.Value)"}
    leaf = inner["ItemProcessor"]["States"]["outer.*.inner.*.it's {odd}"]
    # quotes and braces travel base64-encoded, never as escaped literals
    encoded = base64.b64encode(b".it's {odd}").decode()
    assert f"States.Format('{{}}{{}}', $.branch, States.Base64Decode('{encoded}'))" in \
        leaf["Parameters"]["ContainerOverrides"]["Command.$"]


def test_cloudformation_needs_a_role(tmp_path):
    with pytest.raises(StepLineError, match="role_arn"):
        render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path, {"output_format": "cloudformation"})


def test_incomplete_compute_settings_are_errors(tmp_path):
    with pytest.raises(StepLineError, match="compute 'ecs' needs cluster, task_definition, container_name, subnets"):
        render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path, {"compute": "ecs"})
    with pytest.raises(StepLineError, match="unknown setting 'job_qeue'"):
        render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path, {"job_qeue": "x"})


def test_map_without_exchange_location_is_an_error(tmp_path):
    config = {"exchange_location": None}
    with pytest.raises(StepLineError, match="step 'process': .*exchange_location is not set"):
        render(EXAMPLES / "11-map" / "pipeline.yaml", tmp_path, config)


def test_unknown_override_is_an_error(tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("""
dag:
  start_at: a
  steps:
    a: {type: task, command_type: shell, command: echo, overrides: {step-functions: {memory: 4096}}}
""")
    with pytest.raises(StepLineError, match="step 'a': unknown step-functions override 'memory'"):
        render(pipeline, tmp_path)


def test_a_node_type_it_cannot_express_is_a_clear_error(tmp_path):
    from stepline.pipeline.graph import Graph, complete
    from stepline.pipeline.nodes import Node
    from stepline_stepfunctions.executor import StepFunctionsExecutor
    from stepline_stepfunctions.render import render_text

    class Wait(Node):
        name: ClassVar[str] = "wait"
        type: Literal["wait"] = "wait"

    graph = complete(Graph(start_at="w", steps={"w": Wait()}))
    executor = StepFunctionsExecutor.from_config({"job_queue": "q", "job_definition": "d"})
    with pytest.raises(NotSupportedError, match="step 'w': the step-functions executor cannot express 'wait' steps"):
        render_text(graph, executor, pipeline_file="p.yaml", config_file=None)


def test_stand_in_names_must_exist(tmp_path):
    with pytest.raises(StepLineError, match="stand-in setting names step 'nope'"):
        render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path,
               {"stand_in_tasks": True, "stand_in_failures": ["nope"]})


def test_long_step_names_are_cut_to_80_characters_uniquely(tmp_path):
    a, b = "x" * 90 + "a", "x" * 90 + "b"
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(f"dag:\n  start_at: {a}\n  steps:\n    {a}: {{type: stub, next: {b}}}\n    {b}: {{type: stub}}\n")
    document = render(pipeline, tmp_path)
    names = [n for n in document["States"] if n.startswith("xxx")]
    assert len(names) == 2 and all(len(n) <= 80 for n in names) and names[0] != names[1]
    assert document["States"][names[0]]["Next"] == names[1]


# A catalog or secrets backend the pipeline never uses is only a warning, so those cases use a
# pipeline that does use the service.
@pytest.mark.parametrize(("section", "body", "use", "example"), [
    ("run_log_store", {"type": "buffered"}, "chunked-fsspec on S3 or sql on PostgreSQL", "01-hello-shell"),
    ("run_log_store", {"type": "chunked-fs"}, "chunked-fsspec on S3 or sql on PostgreSQL", "01-hello-shell"),
    ("run_log_store", {"type": "sql", "config": {"url": "sqlite:///runs.db"}}, "chunked-fsspec on S3",
     "01-hello-shell"),
    ("run_log_store", {"type": "chunked-fsspec", "config": {"location": "file:///tmp/runs"}}, "chunked-fsspec on S3",
     "01-hello-shell"),
    ("catalog", {"type": "file-system"}, "use fsspec on S3", "04-catalog"),
    ("secrets", {"type": "dotenv"}, "use env, aws-secrets-manager or vault", "05-secrets-dotenv"),
])
def test_services_pods_cannot_share_are_rejected_before_rendering(section, body, use, example, tmp_path):
    with pytest.raises(IntegrationError, match=use) as caught:
        render(EXAMPLES / example / "pipeline.yaml", tmp_path, **{section: body})
    assert "step-functions executor" in str(caught.value) and "\n" not in str(caught.value)


def test_secrets_never_reach_the_definition(tmp_path, monkeypatch):
    monkeypatch.setenv("API_TOKEN", "s3cr3t-value-123")
    document = render(EXAMPLES / "05-secrets-dotenv" / "pipeline.yaml", tmp_path, secrets={"type": "env"})
    text = json.dumps(document)
    assert "s3cr3t-value-123" not in text
    assert "API_TOKEN" not in text  # only the step's name travels; the step reads the secret itself


def test_too_large_machines_are_compacted_then_refused(tmp_path):
    from stepline.pipeline.graph import Graph, complete
    from stepline.pipeline.nodes import StubNode
    from stepline_stepfunctions import render as module
    from stepline_stepfunctions.executor import StepFunctionsExecutor

    def graph(n):
        steps = {f"s{i}": StubNode(next=f"s{i + 1}" if i + 1 < n else None) for i in range(n)}
        return complete(Graph(start_at="s0", steps=steps))

    executor = StepFunctionsExecutor.from_config({"job_queue": "q", "job_definition": "d"})
    text = module.render_text(graph(1500), executor, pipeline_file="p.yaml", config_file=None)
    assert len(text.encode()) <= module.MAX_DEFINITION and "\n  " not in text  # compact, still within the limit
    with pytest.raises(NotSupportedError, match="Step Functions accepts at most 1,048,576"):
        module.render_text(graph(4000), executor, pipeline_file="p.yaml", config_file=None)


def test_the_run_starts_with_the_parameters_file(tmp_path):
    states = states_of(render(EXAMPLES / "02-python-parameters" / "pipeline.yaml", tmp_path,
                              {"parameters_file": "/app/params.yaml", "stepline_command": ["python", "-m", "stepline"]}))
    assert states["start run"]["Parameters"]["ContainerOverrides"]["Command.$"] == (
        "States.Array('python', '-m', 'stepline', 'start-run', $$.Execution.Name, '-f', 'pipeline.yaml', "
        "'-c', 'config.yaml', '-p', '/app/params.yaml')")
    assert states["start run"]["Catch"][0]["Next"] == "run failed"
    # the success node is recorded, then finish-run decides how the execution ends
    assert "'execute-single-node', $$.Execution.Name, 'success'" in \
        states["success"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert states["success"]["Next"] == "finish run" and states["fail"]["Next"] == "finish run (failed)"
    assert states["finish run"]["Parameters"]["ContainerOverrides"]["Command.$"] == (
        "States.Array('python', '-m', 'stepline', 'finish-run', $$.Execution.Name, '-f', 'pipeline.yaml', "
        "'-c', 'config.yaml')")
    assert states["finish run"]["Next"] == "run succeeded" and states["finish run"]["Catch"][0]["Next"] == "run failed"
    assert states["finish run (failed)"]["Next"] == "run failed"
    assert states["run succeeded"] == {"Type": "Succeed"} and states["run failed"]["Type"] == "Fail"


def test_the_params_file_given_at_render_goes_to_start_run(tmp_path):
    from stepline.run.prepare import prepare

    prepared = prepare(str(EXAMPLES / "02-python-parameters" / "pipeline.yaml"), str(write_config(tmp_path)))
    states = json.loads(render_prepared(prepared, params_file="params.yaml"))["States"]
    assert states["start run"]["Parameters"]["ContainerOverrides"]["Command.$"].endswith("'-p', 'params.yaml')")


def test_loop_callbacks_carry_the_iteration(tmp_path):
    states = states_of(render(EXAMPLES / "13-loop" / "pipeline.yaml", tmp_path))
    command = states["improve (fan out)"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert command.endswith("'fan', $$.Execution.Name, 'improve', 'out', '-f', 'pipeline.yaml', '-c', 'config.yaml', "
                            "'--iteration', States.Format('{}', $.loop.i))")
    fan_in = states["improve (fan in)"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "stepline_stepfunctions.relay" in fan_in and "'in'" in fan_in
    assert states["improve (read decision)"]["ResultSelector"] == {"answer.$": "States.StringToJson($.Body)"}
    check = states["improve (check)"]
    assert check["Choices"][0]["And"][1] == {"Variable": "$.loop.i", "NumericLessThan": 4, } and check["Default"] == "success"


def test_an_empty_parallel_is_refused_not_rendered():
    """asl-validator accepts a Parallel with no branches; the renderer must not produce one."""
    from stepline.pipeline.composites import ParallelNode
    from stepline.pipeline.graph import Graph, complete
    from stepline_stepfunctions.executor import StepFunctionsExecutor
    from stepline_stepfunctions.render import render_text

    graph = complete(Graph(start_at="p", steps={"p": ParallelNode.model_construct(type="parallel", branches={})}))
    executor = StepFunctionsExecutor.from_config({"job_queue": "q", "job_definition": "d"})
    with pytest.raises(StepLineError, match="step 'p': a parallel step needs at least one branch"):
        render_text(graph, executor, pipeline_file="p.yaml", config_file=None)


def test_retry_backoff_renders_as_backoff_rate_max_delay_and_jitter(tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("""
dag:
  start_at: flaky
  steps:
    flaky:
      type: task
      command_type: shell
      command: exit 1
      max_attempts: 3
      retry_delay_seconds: 2.5
      retry_backoff: {factor: 3, max_seconds: 60, jitter: true}
""")
    retry = states_of(render(pipeline, tmp_path))["flaky"]["Retry"][0]
    assert (retry["IntervalSeconds"], retry["MaxAttempts"], retry["BackoffRate"]) == (3, 2, 3.0)
    assert retry["MaxDelaySeconds"] == 60 and retry["JitterStrategy"] == "FULL"
