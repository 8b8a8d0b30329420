"""Re-runs (``stepline retry``): a new run that skips what succeeded, on real stores and catalogs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.errors import StepLineError
from stepline.run.execute import execute
from stepline.run.rerun import PipelineChangedError, rerun
from stepline.runlog.flatten import flat_steps
from stepline.runlog.models import Status

STEPLINE = str(Path(sys.executable).with_name("stepline"))


@pytest.fixture(autouse=True)
def _fresh_modules():
    yield
    for name in [m for m in sys.modules if m.startswith("rmods")]:
        del sys.modules[name]
    from stepline.tasks.python import import_callable

    import_callable.cache_clear()


MODULE = """
import os
from pathlib import Path

def count(name):
    with open("calls.log", "a") as f:
        f.write(name + "\\n")

def start(base: int):
    count("start")
    return base * 10, {"deep": [base]}

def square(x: int, offset: int):
    count(f"square {x}")
    if x == 2 and not Path("fixed").exists():
        raise ValueError("two is broken until fixed")
    return x * x + offset

def left(offset: int):
    count("left")
    return offset + 1

def right(offset: int):
    count("right")
    if not Path("fixed").exists():
        raise RuntimeError("right is broken until fixed")
    return offset + 2

def finish(offset: int, blob: dict, squares: list, l: int, r: int):
    count("finish")
    Path("out.txt").write_text(f"{offset} {blob} {squares} {l} {r}")
    return offset + sum(squares) + l + r
"""

PIPELINE = """
dag:
  start_at: start
  steps:
    start:
      type: task
      command: rmods.start
      returns: [offset, {name: blob, kind: object}]
      next: fan
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: square
        steps:
          square: {type: task, command: rmods.square, returns: [squares], next: note}
          note: {type: stub}
      next: fork
    fork:
      type: parallel
      branches:
        a: {start_at: l1, steps: {l1: {type: task, command: rmods.left, returns: [l]}}}
        b: {start_at: r1, steps: {r1: {type: task, command: rmods.right, returns: [r]}}}
      next: finish
    finish:
      type: task
      command: rmods.finish
      returns: [total]
"""


def setup(write, pipeline=PIPELINE):
    write("rmods.py", MODULE)
    write("pipeline.yaml", pipeline)
    write("params.yaml", "base: 3\nxs: [1, 2, 3]\n")


def calls(workdir):
    path = workdir / "calls.log"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return sorted(lines)


def dump(workdir, run_id):
    done = subprocess.run([STEPLINE, "runs", "show", run_id, "--json"], cwd=workdir, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_retry_skips_what_succeeded_inside_maps_and_parallels_and_reapplies_returns(write, workdir, monkeypatch):
    setup(write)
    first = execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)
    assert first.status == Status.FAIL
    assert calls(workdir) == ["square 1", "square 2", "square 3", "start"]
    before = dump(workdir, "one")

    (workdir / "fixed").touch()
    (workdir / "params.yaml").write_text("base: 1000\nxs: [7]\n")  # the re-run keeps the original's
    monkeypatch.setenv("STEPLINE_PRM_base", "99")
    again = rerun("one", run_id="two", quiet=True)

    assert again.status == Status.SUCCESS
    assert again.original_run_id == "one"
    assert calls(workdir) == ["finish", "left", "right", "square 2"]  # only what had not succeeded
    assert dump(workdir, "one") == before, "the original run log was modified"
    assert (workdir / "out.txt").read_text() == "30 {'deep': [3]} [31, 34, 39] 31 32"
    assert again.parameters["total"].value == 30 + 31 + 34 + 39 + 31 + 32
    assert {k: p.value for k, p in again.initial_parameters.items()} == {"base": 3, "xs": [1, 2, 3]}

    steps = flat_steps(again)
    skipped = {n for n, s in steps.items() if s.message == "skipped: succeeded in run one"}
    assert skipped == {"start", "fan.0.square", "fan.0.note", "fan.2.square", "fan.2.note"}
    original = flat_steps(first)
    assert steps["start"].attempts == original["start"].attempts
    assert steps["fan.1.square"].message == "" and steps["fan.1.square"].attempts[0].output_parameters["squares"].value == 34
    assert all(s.status == Status.SUCCESS for s in steps.values() if s.step_type != "fail")
    # the branch overlays hold the skipped steps' returns again
    assert again.steps["fan"].branches["fan.0"].parameters["squares"].value == 31


def test_retry_of_a_retry_names_the_run_the_step_really_ran_in(write, workdir):
    setup(write)
    execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)
    second = rerun("one", run_id="two", quiet=True)  # still broken
    assert second.status == Status.FAIL
    calls(workdir)
    (workdir / "fixed").touch()
    third = rerun("two", run_id="three", quiet=True)
    assert third.status == Status.SUCCESS
    assert calls(workdir) == ["finish", "left", "right", "square 2"]  # the map failed before the fork
    steps = flat_steps(third)
    assert steps["start"].message == "skipped: succeeded in run one"
    assert steps["fan.2.square"].message == "skipped: succeeded in run one"
    assert steps["fan.1.square"].message == ""


def test_retry_copies_the_catalog(write, workdir):
    write("pipeline.yaml", """
        dag:
          start_at: make
          steps:
            make:
              type: task
              command_type: shell
              command: echo made-once >> made.txt; mkdir -p data; date +%N > data/x.txt
              catalog: {put: [data/x.txt]}
              next: use
            use:
              type: task
              command_type: shell
              command: test -f fixed && cat data/x.txt > used.txt
              catalog: {get: [data/x.txt]}
    """)
    assert execute("pipeline.yaml", run_id="one", quiet=True).status == Status.FAIL
    produced = (workdir / "data" / "x.txt").read_text()
    (workdir / "data" / "x.txt").unlink()
    (workdir / "fixed").touch()
    assert rerun("one", run_id="two", quiet=True).status == Status.SUCCESS
    assert (workdir / "used.txt").read_text() == produced
    assert (workdir / "made.txt").read_text() == "made-once\n"


def test_a_changed_pipeline_is_refused_unless_forced(write, workdir):
    setup(write)
    execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)
    write("pipeline.yaml", PIPELINE.replace("rmods.left", "rmods.right"))
    with pytest.raises(PipelineChangedError, match="changed since run 'one'.*--force"):
        rerun("one", run_id="two", quiet=True)
    (workdir / "fixed").touch()
    forced = rerun("one", run_id="two", force=True, quiet=True)
    assert forced.status == Status.SUCCESS
    assert flat_steps(forced)["fan.0.square"].message.startswith("skipped")  # matched by name


def test_cli_retry_exit_codes_and_one_line_errors(write, workdir):
    setup(write)
    execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)

    def cli(*args):
        return subprocess.run([STEPLINE, *args], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)

    still = cli("retry", "one", "--run-id", "two")
    assert still.returncode == 1, still.stderr
    assert "re-run of one" in still.stderr
    missing = cli("retry", "nope")
    assert missing.returncode == 2 and missing.stderr.startswith("error: no run 'nope'")
    assert len(missing.stderr.strip().splitlines()) == 1
    write("pipeline.yaml", PIPELINE.replace("rmods.left", "rmods.right"))
    changed = cli("retry", "one")
    assert changed.returncode == 2 and "--force" in changed.stderr and "Traceback" not in changed.stderr
    write("pipeline.yaml", PIPELINE)
    (workdir / "fixed").touch()
    fixed = cli("retry", "two", "--run-id", "three")
    assert fixed.returncode == 0, fixed.stderr
    assert dump(workdir, "three")["original_run_id"] == "two"


def test_retry_with_a_rendering_executor_is_refused(write, workdir):
    setup(write)
    execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)
    from stepline.run.prepare import prepare

    prepared = prepare("pipeline.yaml", None)
    prepared.services.executor.renders = True
    with pytest.raises(StepLineError, match="retry is not supported with the local executor, which renders"):
        rerun("one", prepared=prepared)


def test_retry_of_an_sdk_pipeline_through_its_reference(write, workdir):
    write("rmods.py", MODULE)
    write("flow.py", """
        from stepline import Map, Pipeline, PythonTask
        import rmods

        start = PythonTask("start", function=rmods.start, returns=["offset", "blob"])
        fan = Map("fan", iterate_on="xs", iterate_as="x",
                  branch=Pipeline(steps=[PythonTask("square", function=rmods.square, returns=["squares"])]))
        pipeline = Pipeline(steps=[start, fan])
    """)
    write("params.yaml", "base: 3\nxs: [1, 2, 3]\n")

    def cli(*args):
        return subprocess.run([STEPLINE, *args], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)

    first = cli("execute", "flow:pipeline", "-p", "params.yaml", "--run-id", "one")
    assert first.returncode == 1, first.stderr
    assert dump(workdir, "one")["pipeline_file"] == "flow:pipeline"
    calls(workdir)
    (workdir / "fixed").touch()
    again = cli("retry", "one", "--run-id", "two")
    assert again.returncode == 0, again.stderr
    assert calls(workdir) == ["square 2"]
    assert dump(workdir, "two")["parameters"]["squares"]["value"] == [31, 34, 39]


def test_retry_under_the_emulator_skips_before_starting_step_processes(write, workdir):
    setup(write)
    write("config.yaml", "executor: {type: emulator}\n")
    assert execute("pipeline.yaml", "config.yaml", "params.yaml", run_id="one", quiet=True).status == Status.FAIL
    calls(workdir)
    (workdir / "fixed").touch()
    again = rerun("one", "config.yaml", run_id="two", quiet=True)
    assert again.status == Status.SUCCESS
    assert calls(workdir) == ["finish", "left", "right", "square 2"]
    assert again.run_config["executor"]["type"] == "emulator"


def test_retry_inside_loops_conditionals_and_nested_dags(write, workdir):
    write("rmods.py", MODULE + '''
def body(i: int, total: int = 0):
    count(f"body {i}")
    if i == 1 and not Path("fixed").exists():
        raise ValueError("iteration 1 is broken until fixed")
    return i >= 2, total + i

def pick():
    count("pick")
    return "b"

def leaf(name: str = "?"):
    count("leaf")
''')
    write("pipeline.yaml", """
        dag:
          start_at: loop
          steps:
            loop:
              type: loop
              branch: {start_at: b, steps: {b: {type: task, command: rmods.body, returns: [stop, total]}}}
              break_on: stop
              index_as: i
              max_iterations: 5
              next: choose
            choose:
              type: task
              command: rmods.pick
              returns: [which]
              next: switch
            switch:
              type: conditional
              parameter: which
              branches:
                b:
                  start_at: inner
                  steps:
                    inner:
                      type: dag
                      dag_definition: inner.yaml
    """)
    write("inner.yaml", """
        dag: {start_at: x, steps: {x: {type: task, command: rmods.leaf, next: y}, y: {type: task, command: rmods.square, returns: [squares]}}}
    """)
    write("params.yaml", "x: 2\noffset: 0\nbase: 1\n")
    first = execute("pipeline.yaml", None, "params.yaml", run_id="one", quiet=True)
    assert first.status == Status.FAIL
    assert calls(workdir) == ["body 0", "body 1"]
    (workdir / "fixed").touch()
    second = rerun("one", run_id="two", quiet=True)
    assert second.status == Status.SUCCESS, second.message
    assert calls(workdir) == ["body 1", "body 2", "leaf", "pick", "square 2"]
    assert flat_steps(second)["loop.0.b"].message == "skipped: succeeded in run one"
    assert second.parameters["total"].value == 3
    assert flat_steps(second)["switch.b.inner.dag.y"].status == Status.SUCCESS
