"""Composite steps on the local executor, on real files."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from stepline.errors import PipelineDefinitionError
from stepline.run.execute import execute
from stepline.runlog.models import Status

STEPLINE = str(Path(sys.executable).with_name("stepline"))


#: The user modules this file writes and imports: forgotten after each test (see conftest.py).
USER_MODULES = "cmods"


MODULE = """
import os
import time

def square(x: int):
    return x * x

def pair(x: int):
    return x, -x

def fail_on_two(x: int):
    if x == 2:
        raise ValueError("two is bad")
    return x

def body(i: int, total: int = 0):
    return i >= 2, total + i

def never(i: int):
    return False

def stamp(name: str = "?"):
    os.environ["STEPLINE_TEST_MARK"] = name
    time.sleep(0.3)
    return os.environ["STEPLINE_TEST_MARK"], os.getpid()

def biggest(*values):
    return max(values)
"""


def run(write, pipeline, params=None, config=None, **kwargs):
    write("cmods.py", MODULE)
    write("pipeline.yaml", pipeline)
    if params:
        write("params.yaml", params)
    if config:
        write("config.yaml", config)
    return execute("pipeline.yaml", "config.yaml" if config else None, "params.yaml" if params else None,
                   quiet=True, **kwargs)


def values(log):
    return {k: p.value for k, p in log.parameters.items()}


def test_parallel_branches_return_parameters_last_branch_wins(write):
    log = run(write, """
        dag:
          start_at: fork
          steps:
            fork:
              type: parallel
              branches:
                left:
                  start_at: l1
                  steps:
                    l1: {type: task, command_type: shell, command: "export a=1 shared=L", returns: [a, shared]}
                right:
                  start_at: r1
                  steps:
                    r1: {type: task, command_type: shell, command: "export b=2 shared=R", returns: [b, shared]}
    """)
    assert log.status == Status.SUCCESS
    assert values(log) == {"a": 1, "b": 2, "shared": "R"}
    fork = log.steps["fork"]
    assert "'shared' from branch 'right'" in fork.message
    assert set(fork.branches) == {"fork.left", "fork.right"}
    assert "fork.left.l1" in fork.branches["fork.left"].steps
    assert fork.branches["fork.left"].parameters["a"].value == 1


def test_map_collects_returns_in_iteration_order(write):
    log = run(write, """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch:
                start_at: sq
                steps:
                  sq: {type: task, command: cmods.pair, returns: [pos, neg]}
    """, params="xs: [3, 1, 2]\n")
    assert values(log)["pos"] == [3, 1, 2]
    assert values(log)["neg"] == [-3, -1, -2]
    fan = log.steps["fan"]
    assert list(fan.branches) == ["fan.0", "fan.1", "fan.2"]
    assert fan.branches["fan.1"].parameters["x"].value == 1
    assert fan.branches["fan.1"].steps["fan.1.sq"].status == Status.SUCCESS
    assert "x" not in log.parameters  # the map variable stays in its branch


@pytest.mark.parametrize("reducer, expected", [("lambda *v: max(v)", 9), ("cmods.biggest", 9),
                                               ("lambda *v: sorted(v)[0]", 1)])
def test_map_reducer(write, reducer, expected):
    log = run(write, f"""
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              reducer: "{reducer}"
              branch:
                start_at: sq
                steps:
                  sq: {{type: task, command: cmods.square, returns: [y]}}
    """, params="xs: [3, 1, 2]\n")
    assert values(log)["y"] == expected


@pytest.mark.parametrize("reducer", ["__import__('os').system('true')", "lambda *v: v.__class__", "max(1, 2)",
                                     "lambda *v: (", "open",
                                     "lambda *v: (g for g in v).gi_frame.f_back.f_globals",
                                     "lambda *v: '{0.gi_frame}'.format(x for x in v)"])
def test_reducers_that_are_not_one_lambda_are_rejected_before_running(write, reducer):
    write("pipeline.yaml", f"""
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              reducer: "{reducer}"
              branch: {{start_at: s, steps: {{s: {{type: stub}}}}}}
    """)
    with pytest.raises(PipelineDefinitionError, match=r"step 'fan': key 'reducer': reducer"):
        execute("pipeline.yaml", quiet=True)


def test_map_over_a_missing_or_non_list_parameter_fails_clearly(write):
    pipeline = """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch: {start_at: s, steps: {s: {type: stub}}}
    """
    log = run(write, pipeline)
    assert "map iterates on 'xs', which is not a parameter" in log.steps["fan"].message
    log = run(write, pipeline, params="xs: 5\n")
    assert "which is int, not a list" in log.steps["fan"].message


def test_failing_iteration_fails_the_map_and_routes_on_failure(write):
    log = run(write, """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              on_failure: handle
              branch:
                start_at: s
                steps:
                  s: {type: task, command: cmods.fail_on_two, returns: [y]}
            handle: {type: stub, next: fail}
    """, params="xs: [1, 2, 3]\n")
    fan = log.steps["fan"]
    assert fan.status == Status.FAIL
    assert fan.message == "1 of 3 branches failed: 1"
    assert fan.branches["fan.1"].status == Status.FAIL
    assert fan.branches["fan.1"].steps["fan.1.s"].message == "ValueError: two is bad"
    assert fan.branches["fan.2"].status == Status.SUCCESS
    assert log.steps["handle"].status == Status.SUCCESS
    assert log.status == Status.FAIL
    assert "y" not in log.parameters


def test_failure_handled_inside_a_branch_does_not_fail_the_composite(write):
    log = run(write, """
        dag:
          start_at: fork
          steps:
            fork:
              type: parallel
              branches:
                risky:
                  start_at: boom
                  steps:
                    boom: {type: task, command_type: shell, command: "exit 1", on_failure: recover}
                    recover: {type: task, command_type: shell, command: "export recovered=yes", returns: [recovered]}
    """)
    assert log.status == Status.SUCCESS
    assert values(log)["recovered"] == "yes"
    branch = log.steps["fork"].branches["fork.risky"]
    assert branch.steps["fork.risky.boom"].status == Status.FAIL
    assert branch.status == Status.SUCCESS


def test_failing_parallel_branch_fails_the_parallel(write):
    log = run(write, """
        dag:
          start_at: fork
          steps:
            fork:
              type: parallel
              branches:
                ok: {start_at: a, steps: {a: {type: stub}}}
                bad: {start_at: b, steps: {b: {type: task, command_type: shell, command: "exit 4"}}}
    """)
    assert log.steps["fork"].status == Status.FAIL
    assert log.steps["fork"].message == "1 of 2 branches failed: bad"
    assert log.status == Status.FAIL


CONDITIONAL = """
    dag:
      start_at: choose
      steps:
        choose:
          type: conditional
          parameter: coin
          branches:
            heads: {start_at: h, steps: {h: {type: task, command_type: shell, command: "export got=heads", returns: [got]}}}
            "3": {start_at: t, steps: {t: {type: task, command_type: shell, command: "export got=three", returns: [got]}}}
          %s
"""


def test_conditional_runs_the_matching_branch(write):
    log = run(write, CONDITIONAL % "", params="coin: heads\n")
    assert values(log)["got"] == "heads"
    assert list(log.steps["choose"].branches) == ["choose.heads"]
    log = run(write, CONDITIONAL % "", params="coin: 3\n")
    assert values(log)["got"] == "three"


def test_conditional_default_and_no_match(write):
    default = 'default: {start_at: d, steps: {d: {type: task, command_type: shell, command: "export got=default", returns: [got]}}}'
    log = run(write, CONDITIONAL % default, params="coin: tails\n")
    assert values(log)["got"] == "default"
    log = run(write, CONDITIONAL % "", params="coin: tails\n")
    assert log.steps["choose"].status == Status.FAIL
    assert "no branch matches coin = 'tails' and there is no default" in log.steps["choose"].message


LOOP = """
    dag:
      start_at: again
      steps:
        again:
          type: loop
          max_iterations: %d
          break_on: stop
          index_as: i
          branch:
            start_at: body
            steps:
              body: {type: task, command: %s, returns: [stop, total]}
"""


def test_loop_carries_parameters_and_stops_on_break(write):
    log = run(write, LOOP % (5, "cmods.body"))
    assert log.status == Status.SUCCESS
    assert values(log) == {"stop": True, "total": 3}
    loop = log.steps["again"]
    assert list(loop.branches) == ["again.0", "again.1", "again.2"]
    assert loop.branches["again.2"].steps["again.2.body"].attempts[0].input_parameters["total"].value == 1
    assert "stopped after 3 iterations" in loop.message


def test_loop_hitting_max_iterations_ends_with_the_last_iteration_status(write):
    """As in runnable: the limit ends the loop, and what the last iteration returned flows on."""
    log = run(write, (LOOP % (3, "cmods.never")).replace("returns: [stop, total]", "returns: [stop]"))
    assert log.status == Status.SUCCESS and log.steps["again"].status == Status.SUCCESS
    assert log.steps["again"].message == "reached max_iterations (3) before 'stop' became true"
    assert len(log.steps["again"].branches) == 3
    assert values(log) == {"stop": False}


def test_loop_hitting_max_iterations_fails_when_asked(write):
    pipeline = (LOOP % (3, "cmods.never")).replace("returns: [stop, total]", "returns: [stop]")
    log = run(write, pipeline.replace("index_as: i", "index_as: i\n          fail_on_max_iterations: true"))
    assert log.steps["again"].status == Status.FAIL
    assert "reached max_iterations (3) before 'stop' became true" in log.steps["again"].message
    assert len(log.steps["again"].branches) == 3


def test_dag_definition_is_relative_to_the_including_file(write):
    write("sub/inner.yaml", """
        dag:
          start_at: inner
          steps:
            inner: {type: task, command_type: shell, command: 'export seen="$outer"', returns: [seen]}
    """)
    write("sub/main.yaml", """
        dag:
          start_at: nested
          steps:
            nested: {type: dag, dag_definition: inner.yaml}
    """)
    write("cmods.py", MODULE)
    write("params.yaml", "outer: hello\n")
    log = execute("sub/main.yaml", None, "params.yaml", quiet=True)
    assert values(log)["seen"] == "hello"
    assert "nested.dag.inner" in log.steps["nested"].branches["nested.dag"].steps


def test_nested_composites_have_dotted_names_and_errors_name_the_path(write):
    log = run(write, """
        dag:
          start_at: outer
          steps:
            outer:
              type: map
              iterate_on: xs
              iterate_as: x
              branch:
                start_at: fork
                steps:
                  fork:
                    type: parallel
                    branches:
                      left:
                        start_at: inner
                        steps:
                          inner:
                            type: map
                            iterate_on: ys
                            iterate_as: y
                            branch:
                              start_at: s
                              steps:
                                s: {type: task, command_type: shell, command: 'export p="$x-$y"', returns: [p]}
    """, params="xs: [a, b]\nys: [1, 2, 3]\n")
    assert log.status == Status.SUCCESS
    found = log.find_step("outer.1.fork.left.inner.2.s")
    assert found is not None and found.attempts[0].output_parameters["p"].value == "b-3"
    assert values(log)["p"] == [["a-1", "a-2", "a-3"], ["b-1", "b-2", "b-3"]]
    write("pipeline.yaml", """
        dag:
          start_at: fork
          steps:
            fork:
              type: parallel
              branches:
                left: {start_at: l1, steps: {l1: {type: task, command: cmods.square, nxt: x}}}
    """)
    with pytest.raises(PipelineDefinitionError, match=r"step 'fork.left.l1': unknown key 'nxt'"):
        execute("pipeline.yaml", quiet=True)


WIDE_PARALLEL = "dag:\n  start_at: fork\n  steps:\n    fork:\n      type: parallel\n      branches:\n" + "".join(
    f"        b{i}: {{start_at: s, steps: {{s: {{type: task, command: cmods.square, returns: [{{name: r{i}, kind: metric}}]}}}}}}\n"
    for i in range(64))


@pytest.mark.parametrize("store", ["chunked-fs", "file-system"])
def test_concurrent_writers_lose_no_step_log(write, store, capfd):
    config = f"executor: {{type: local, config: {{max_workers: 4}}}}\nrun_log_store: {{type: {store}}}\n"
    log = run(write, WIDE_PARALLEL, params="x: 3\n", config=config)
    warned = capfd.readouterr().err.count("the file-system run log store cannot take concurrent writers")
    assert warned == (store == "file-system")  # one JSON file: branches run one at a time, with one warning
    assert log.status == Status.SUCCESS
    branches = log.steps["fork"].branches
    assert len(branches) == 64
    assert all(b.steps[f"{name}.s"].status == Status.SUCCESS for name, b in branches.items())
    assert values(log)["r63"] == 9
    log = run(write, """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch: {start_at: sq, steps: {sq: {type: task, command: cmods.square, returns: [y]}}}
    """, params=f"xs: {list(range(500))}\n", config=config)
    assert log.status == Status.SUCCESS
    assert len(log.steps["fan"].branches) == 500
    assert values(log)["y"] == [i * i for i in range(500)]


SLEEPERS = """
    dag:
      start_at: fork
      steps:
        fork:
          type: parallel
          branches:
            a: {start_at: s, steps: {s: {type: task, command: cmods.stamp, returns: [mark, pid]}}}
            b: {start_at: s, steps: {s: {type: task, command: cmods.stamp, returns: [mark, pid]}}}
            c: {start_at: s, steps: {s: {type: task, command: cmods.stamp, returns: [mark, pid]}}}
"""


def _intervals(log):
    steps = [b.steps[f"{n}.s"].attempts[0] for n, b in log.steps["fork"].branches.items()]
    return [(datetime.fromisoformat(a.start_time), datetime.fromisoformat(a.end_time)) for a in steps]


def test_branches_run_concurrently_in_separate_processes(write):
    log = run(write, SLEEPERS.replace("cmods.stamp,", "cmods.stamp, secrets: [],"), params="name: n\n",
              config="executor: {type: local, config: {max_workers: 3}}\n")
    spans = _intervals(log)
    assert max(s for s, _ in spans) < min(e for _, e in spans)  # all three ran at the same time
    pids = {b.parameters["pid"].value for b in log.steps["fork"].branches.values()}
    assert len(pids) == 3 and os.getpid() not in pids
    assert "STEPLINE_TEST_MARK" not in os.environ


def test_max_workers_one_runs_branches_in_order(write):
    log = run(write, SLEEPERS, config="executor: {type: local, config: {max_workers: 1}}\n")
    spans = _intervals(log)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))


def test_a_process_local_store_falls_back_to_sequential_with_a_warning(write, capfd):
    log = run(write, SLEEPERS, config="executor: {type: local, config: {max_workers: 3}}\nrun_log_store: {type: buffered}\n")
    assert log.status == Status.SUCCESS
    spans = _intervals(log)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    err = capfd.readouterr().err
    assert err.count("parallel and map branches run one at a time") == 1
    assert "buffered" in err


def test_execute_single_node_runs_a_dotted_step_with_a_map_variable(write):
    write("cmods.py", MODULE)
    write("pipeline.yaml", """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch: {start_at: sq, steps: {sq: {type: task, command: cmods.square, returns: [y]}}}
    """)
    from stepline.config.loader import load_services
    from stepline.run.execute import execute_single_node
    from stepline.runlog.models import RunLog

    load_services(None).run_log_store.create_run_log(RunLog(run_id="orch-1"))
    status = execute_single_node("orch-1", "fan.4.sq", "pipeline.yaml", None, '{"x": 7}')
    assert status == Status.SUCCESS
    log = load_services(None).run_log_store.get_run_log("orch-1")
    step = log.find_step("fan.4.sq") or log.steps.get("fan.4.sq")
    stored = load_services(None).run_log_store.get_step_log("orch-1", "fan.4.sq")
    assert stored.attempts[0].output_parameters["y"].value == 49
    assert stored.attempts[0].input_parameters["x"].value == 7
    assert step is None or step.status == Status.SUCCESS


@pytest.mark.parametrize(("signum", "to_group", "code"), [
    (signal.SIGTERM, False, 143),
    (signal.SIGINT, True, 130),  # Ctrl-C: a terminal signals the whole foreground group; workers ignore it
])
def test_a_stop_signal_stops_workers_and_their_tasks_and_marks_the_run_failed(write, workdir, signum, to_group, code):
    write("pipeline.yaml", """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch: {start_at: s, steps: {s: {type: task, command_type: shell, command: 'echo $$ >> pids; sleep 60'}}}
    """)
    write("params.yaml", "xs: [1, 2, 3]\n")
    write("config.yaml", "executor: {type: local, config: {max_workers: 3}}\n")
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml", "-p", "params.yaml", "-c", "config.yaml",
                             "--run-id", "stopped"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=to_group)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len((workdir / "pids").read_text().split() if (workdir / "pids").exists() else []) < 3:
        time.sleep(0.05)
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == code
    assert b"Traceback" not in err
    assert signum == signal.SIGINT or b"interrupted" in err  # Ctrl-C exits quietly, as click does
    alive = [int(p) for p in (workdir / "pids").read_text().split()]
    deadline = time.monotonic() + 10
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    assert alive == [], "task processes survived the interrupted run"
    shown = subprocess.run([STEPLINE, "runs", "show", "stopped", "--json"], cwd=workdir, capture_output=True, text=True,
                           check=True)
    run_log = json.loads(shown.stdout)
    assert (run_log["status"], run_log["message"]) == ("FAIL", "interrupted")
    fan = run_log["steps"]["fan"]
    assert (fan["status"], fan["message"]) == ("FAIL", "interrupted")
    inner = [b["steps"][f"{name}.s"] for name, b in fan["branches"].items() if f"{name}.s" in b["steps"]]
    assert len(inner) == 3 and all((s["status"], s["message"]) == ("FAIL", "interrupted") for s in inner)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_pipeline_loads_only_the_composite_kinds_it_uses(tmp_path):
    """Each kind of composite is its own module, built the first time a pipeline (or a caller of
    ``stepline.pipeline.composites``) asks for it: a map pipeline builds no parallel, conditional,
    loop or dag model, and is not a loop (``is_loop``) without importing the loop's module."""
    (tmp_path / "map.yaml").write_text("""dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: items
      iterate_as: x
      branch: {start_at: s, steps: {s: {type: stub}}}
""")
    probe = """
import sys
from stepline.pipeline import composites
from stepline.pipeline.loader import load_pipeline
graph = load_pipeline("map.yaml")
kinds = ("parallel", "map", "conditional", "loop", "dag")
print(sorted(k for k in kinds if f"stepline.pipeline.composites.{k}" in sys.modules))
print(composites.is_loop(graph.steps["fan"]), "stepline.pipeline.composites.loop" in sys.modules)
print(composites.LoopNode.__module__, composites.is_loop(composites.LoopNode.model_construct()))
"""
    shown = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == ["['map']", "False False", "stepline.pipeline.composites.loop True"]
    with pytest.raises(AttributeError, match="no attribute 'NoSuchNode'"):
        from stepline.pipeline import composites

        composites.NoSuchNode  # noqa: B018 - the attribute lookup is the test
