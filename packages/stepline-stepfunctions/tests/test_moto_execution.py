"""The rendered control flow, executed by moto's Step Functions (execute_state_machine mode) with
every Task swapped for a Pass stand-in that evaluates the real command (``stand_in_tasks``)."""

from __future__ import annotations

import pytest
from sfn_helpers import ALL_EXAMPLES, EXAMPLES, commands, entered, render

PIPE = ["-f", "pipeline.yaml", "-c", "config.yaml"]


def leaf(run_id: str, step: str) -> list[str]:
    return ["stepline", "execute-single-node", run_id, step, *PIPE]


def fan(run_id: str, step: str, direction: str) -> list[str]:
    return ["stepline", "fan", run_id, step, direction, *PIPE]


def relayed(run_id: str, step: str, direction: str) -> list[str]:
    url = f"s3://stepline-bucket/exchange/{run_id}/{step}.{direction}.json"
    return ["python", "-m", "stepline_stepfunctions.relay", url, "--", *fan(run_id, step, direction)]


def steps_run(events, definition) -> list[str]:
    """The task and stub steps the machine ran (not the success/fail nodes it recorded), in order."""
    return [c[3] for c in commands(events, definition)
            if c[1] == "execute-single-node" and c[3].rsplit(".", 1)[-1] not in ("success", "fail", "failed")]


def stand_in(**extra):
    return {"stand_in_tasks": True, **extra}


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_every_example_runs_to_success(example, moto, tmp_path):
    definition = render(EXAMPLES / example / "pipeline.yaml", tmp_path, stand_in())
    status, events = moto.run(definition, "run-ok")
    assert status == "SUCCEEDED", [e for e in events if "Failed" in e["type"]]
    names = entered(events)
    assert names[0] == "start run" and names[-2:] == ["finish run", "run succeeded"]
    cmds = commands(events, definition)
    assert cmds[0] == ["stepline", "start-run", "run-ok", *PIPE]
    assert cmds[-1] == ["stepline", "finish-run", "run-ok", *PIPE]


def test_success_path_runs_steps_in_order_with_the_execution_name_as_run_id(moto, tmp_path):
    definition = render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path, stand_in())
    status, events = moto.run(definition, "run-0001")
    assert status == "SUCCEEDED"
    assert entered(events) == ["start run", "hello", "echo greeting", "done", "success", "finish run",
                               "run succeeded"]
    assert commands(events, definition)[1:5] == [leaf("run-0001", "hello"), leaf("run-0001", "echo greeting"),
                                                 leaf("run-0001", "done"), leaf("run-0001", "success")]


def test_catch_routes_a_failed_step_to_on_failure(moto, tmp_path):
    definition = render(EXAMPLES / "03-on-failure" / "pipeline.yaml", tmp_path,
                        stand_in(stand_in_failures=["extract"]))
    status, events = moto.run(definition, "run-fail")
    assert status == "FAILED"
    names = entered(events)
    assert names == ["start run", "extract", "extract (stand-in failure)", "clean up", "failed",
                     "finish run (failed)", "run failed"]
    assert "transform" not in names
    assert commands(events, definition)[-2:] == [leaf("run-fail", "failed"), ["stepline", "finish-run", "run-fail", *PIPE]]
    failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert failed["error"] == "Stepline.RunFailed"


def test_a_failed_step_without_on_failure_ends_in_fail(moto, tmp_path):
    definition = render(EXAMPLES / "01-hello-shell" / "pipeline.yaml", tmp_path,
                        stand_in(stand_in_failures=["echo greeting"]))
    status, events = moto.run(definition)
    assert status == "FAILED"
    assert entered(events)[-4:] == ["echo greeting (stand-in failure)", "fail", "finish run (failed)", "run failed"]
    assert "done" not in entered(events)


def test_map_iterates_the_fan_out_list(moto, tmp_path):
    definition = render(EXAMPLES / "11-map" / "pipeline.yaml", tmp_path,
                        stand_in(stand_in_results={"process": [0, 1, 2], "largest": [0, 1]}))
    status, events = moto.run(definition, "run-map")
    assert status == "SUCCEEDED"
    cmds = commands(events, definition)
    assert cmds[1:3] == [leaf("run-map", "chunks"), relayed("run-map", "process", "out")]
    # map iterations may run in any order; each records its branch's success node
    assert sorted(cmds[3:9]) == sorted(leaf("run-map", f"process.{i}.{s}") for i in range(3) for s in ("count", "success"))
    assert cmds[9:11] == [fan("run-map", "process", "in"), relayed("run-map", "largest", "out")]
    assert sorted(cmds[11:15]) == sorted(leaf("run-map", f"largest.{i}.{s}") for i in range(2) for s in ("size", "success"))
    assert cmds[15:] == [fan("run-map", "largest", "in"), leaf("run-map", "report"), leaf("run-map", "success"),
                         ["stepline", "finish-run", "run-map", *PIPE]]
    # the reader reads the key the relay wrote
    reads = [e["stateExitedEventDetails"] for e in events
             if e.get("stateExitedEventDetails", {}).get("name") == "process (read branches)"]
    assert '"key":"exchange/run-map/process.out.json"' in reads[0]["output"].replace(" ", "")


def test_a_failing_map_branch_goes_through_fan_in_to_fail(moto, tmp_path):
    definition = render(EXAMPLES / "11-map" / "pipeline.yaml", tmp_path,
                        stand_in(stand_in_results={"process": [0, 1]},
                                 # a failed branch fails the Map; its fan in then records the failure
                                 stand_in_failures=["process.*.count", "process:in"]))
    status, events = moto.run(definition)
    assert status == "FAILED"
    names = entered(events)
    assert "process.*.fail" in names and "process.*.fail (end)" in names
    assert names.index("process (fan in)") > names.index("process (map)")
    assert names[-3:] == ["fail", "finish run (failed)", "run failed"] and "report" not in names


def test_choice_picks_the_branch(moto, tmp_path):
    for taken, step in [("tails", "route.tails.commiserate"), ("heads", "route.heads.celebrate"),
                        ("default", "route.default.shrug")]:
        definition = render(EXAMPLES / "12-conditional" / "pipeline.yaml", tmp_path,
                            stand_in(stand_in_results={"route": taken}))
        status, events = moto.run(definition, f"run-{taken}")
        assert status == "SUCCEEDED"
        assert steps_run(events, definition) == ["toss", step]
        assert f"route ({taken})" in entered(events)


def test_loop_counter_stops_at_max_iterations(moto, tmp_path):
    definition = render(EXAMPLES / "13-loop" / "pipeline.yaml", tmp_path, stand_in())
    status, events = moto.run(definition, "run-loop")
    assert status == "SUCCEEDED"
    assert steps_run(events, definition) == [f"improve.{i}.step" for i in range(5)]  # max_iterations: 5
    assert entered(events).count("improve (fan out)") == 5
    outs = [c for c in commands(events, definition) if c[1] == "fan" and c[4] == "out"]
    assert [c[-1] for c in outs] == ["0", "1", "2", "3", "4"] and outs[0][-2] == "--iteration"
    ins = [c for c in commands(events, definition) if c[0] == "python"]
    assert ins[2][3] == "s3://stepline-bucket/exchange/run-loop/improve.in.2.json"
    assert ins[2][5:] == [*fan("run-loop", "improve", "in"), "--iteration", "2"]


def test_loop_stops_when_the_fan_in_says_done(moto, tmp_path):
    definition = render(EXAMPLES / "13-loop" / "pipeline.yaml", tmp_path, stand_in(stand_in_results={"improve": 1}))
    status, events = moto.run(definition, "run-loop2")
    assert status == "SUCCEEDED"
    assert steps_run(events, definition) == ["improve.0.step", "improve.1.step"]


def test_parallel_runs_every_branch_then_fans_in(moto, tmp_path):
    definition = render(EXAMPLES / "10-parallel" / "pipeline.yaml", tmp_path, stand_in())
    status, events = moto.run(definition, "run-par")
    assert status == "SUCCEEDED"
    cmds = commands(events, definition)
    assert cmds[1] == fan("run-par", "train both", "out")
    assert sorted(c[3] for c in cmds[2:6]) == ["train both.forest.fit", "train both.forest.success",
                                               "train both.linear.fit", "train both.linear.success"]
    assert cmds[6:8] == [fan("run-par", "train both", "in"), leaf("run-par", "compare")]


def test_nested_maps_and_odd_step_names_give_the_internal_names(moto, tmp_path):
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
    definition = render(pipeline, tmp_path, stand_in(stand_in_results={"outer": [0, 1], "outer.*.inner": [0, 1]}))
    status, events = moto.run(definition, "run-nest")
    assert status == "SUCCEEDED"
    assert sorted(steps_run(events, definition)) == [f"outer.{i}.inner.{j}.it's {{odd}}"
                                                     for i in range(2) for j in range(2)]
    relays = sorted(c[3] for c in commands(events, definition) if c[0] == "python")
    assert relays == ["s3://stepline-bucket/exchange/run-nest/outer.0.inner.out.json",
                      "s3://stepline-bucket/exchange/run-nest/outer.1.inner.out.json",
                      "s3://stepline-bucket/exchange/run-nest/outer.out.json"]
