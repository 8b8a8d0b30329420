"""The SDK builds the same models as the YAML loader, runs through the runtime, and fails early."""

from __future__ import annotations

import sys
import textwrap
import warnings

import pytest
from stepline import (
    Catalog,
    Conditional,
    Fail,
    Loop,
    Map,
    Parallel,
    Pipeline,
    PythonTask,
    ShellTask,
    Stub,
    Success,
    json,
    metric,
    pickled,
    task,
)
from stepline.errors import ExecutionFailedError, PipelineDefinitionError, StepLineError
from stepline.pipeline.loader import load_pipeline
from stepline.pipeline.reference import load_graph
from stepline.pipeline.yaml_dump import to_yaml
from stepline.runlog.models import Status


@pytest.fixture
def module(workdir, write):
    """A module ``fns`` in the working folder, importable by name."""
    write("fns.py", """
        def make(n: int = 2):
            return list(range(n))

        def square(x: int):
            return x * x

        def pair():
            return 1, 2

        def one():
            return 1

        def needs_int(n: int):
            return n
    """)
    sys.path.insert(0, str(workdir))
    sys.modules.pop("fns", None)
    import fns

    yield fns
    sys.path.remove(str(workdir))
    sys.modules.pop("fns", None)


def yaml_graph(write, text: str):
    return load_pipeline(write("p.yaml", text))


def roundtrip(graph, write):
    return load_pipeline(write("dumped.yaml", to_yaml(graph)))


# ---- building --------------------------------------------------------------------------------------
def test_steps_in_a_list_are_chained_in_order(module, write):
    pipeline = Pipeline(steps=[PythonTask(function=module.make, returns=["xs"]), ShellTask("show", command="echo $xs"),
                               Stub("end")])
    graph = pipeline.graph()
    assert graph == yaml_graph(write, """
        dag:
          start_at: make
          steps:
            make: {type: task, command: fns.make, returns: [xs], next: show}
            show: {type: task, command_type: shell, command: echo $xs, next: end}
            end: {type: stub}
    """)
    assert graph.steps["end"].next == "success" and set(graph.steps) == {"make", "show", "end", "success", "fail"}


def test_terminate_with_failure_and_on_failure_step_and_pipeline(module, write):
    handler = ShellTask("handler", command="echo handled", terminate_with_failure=True)
    first = ShellTask("first", command="exit 1", on_failure=handler)
    second = ShellTask("second", command="exit 1",
                       on_failure=Pipeline(steps=[ShellTask("tidy", command="echo tidy"), Fail("broken")]))
    done = ShellTask("done", command="echo ok", terminate_with_success=True)
    graph = Pipeline(steps=[first, second, done]).graph()
    assert graph == yaml_graph(write, """
        dag:
          start_at: first
          steps:
            first: {type: task, command_type: shell, command: exit 1, next: second, on_failure: handler}
            second: {type: task, command_type: shell, command: exit 1, next: done, on_failure: tidy}
            done: {type: task, command_type: shell, command: echo ok}
            handler: {type: task, command_type: shell, command: echo handled, next: broken}
            tidy: {type: task, command_type: shell, command: echo tidy, next: broken}
            broken: {type: fail}
    """)
    assert roundtrip(graph, write) == graph


def test_explicit_success_and_fail_steps_are_used():
    graph = Pipeline(steps=[Stub("a"), Success("finished")]).graph()
    assert graph.steps["a"].next == "finished" and graph.success_name == "finished"
    assert graph.fail_name == "fail"


def test_returns_catalog_and_options_build_the_task_node(module, write):
    step = PythonTask("sq", function=module.square, returns=[json("y"), pickled("obj"), metric("m")],
                      catalog=Catalog(get=["in/*.csv"], put=["out"], store_copy=False), secrets=["TOKEN"],
                      max_attempts=3, retry_delay_seconds=0.5, timeout_seconds=10, overrides={"argo": {"cpu": 1}},
                      description="squares")
    graph = Pipeline(steps=[step]).graph()
    assert graph == yaml_graph(write, """
        dag:
          start_at: sq
          steps:
            sq:
              type: task
              description: squares
              command: fns.square
              returns: [y, {name: obj, kind: object}, {name: m, kind: metric}]
              catalog: {get: [in/*.csv], put: [out], store_copy: false}
              secrets: [TOKEN]
              max_attempts: 3
              retry_delay_seconds: 0.5
              timeout_seconds: 10
              overrides: {argo: {cpu: 1}}
    """)
    assert roundtrip(graph, write) == graph


def test_composites_take_pipelines_as_branches(module, write):
    square = Pipeline(steps=[PythonTask(function=module.square, returns=["y"])])
    fan = Map("fan", branch=square, iterate_on="xs", iterate_as="x", reducer="lambda *v: sum(v)")
    fork = Parallel("fork", branches={"left": Pipeline(steps=[Stub("l1")]),
                                      "right": Pipeline(steps=[ShellTask("r1", command="echo r")])})
    choose = Conditional("choose", parameter="y", branches={"14": Pipeline(steps=[Stub("yes")])},
                         default=Pipeline(steps=[Stub("no")]))
    again = Loop("again", branch=Pipeline(steps=[ShellTask("tick", command="export stop=true", returns=["stop"])]),
                 max_iterations=3, break_on="stop")
    graph = Pipeline(steps=[PythonTask(function=module.make, returns=["xs"]), fan, fork, choose, again]).graph()
    assert graph == yaml_graph(write, """
        dag:
          start_at: make
          steps:
            make: {type: task, command: fns.make, returns: [xs], next: fan}
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              reducer: "lambda *v: sum(v)"
              next: fork
              branch:
                start_at: square
                steps:
                  square: {type: task, command: fns.square, returns: [y]}
            fork:
              type: parallel
              next: choose
              branches:
                left: {start_at: l1, steps: {l1: {type: stub}}}
                right: {start_at: r1, steps: {r1: {type: task, command_type: shell, command: echo r}}}
            choose:
              type: conditional
              parameter: y
              next: again
              branches:
                "14": {start_at: "yes", steps: {"yes": {type: stub}}}
              default: {start_at: "no", steps: {"no": {type: stub}}}
            again:
              type: loop
              max_iterations: 3
              break_on: stop
              branch:
                start_at: tick
                steps:
                  tick: {type: task, command_type: shell, command: export stop=true, returns: [stop]}
    """)
    assert roundtrip(graph, write) == graph


def test_task_decorator_builds_the_same_model(workdir, write):
    write("decorated.py", """
        from stepline import task, metric

        @task(returns=["y", metric("m")], max_attempts=2)
        def compute(x: int):
            return x + 1, 0.5

        @task
        def plain():
            return None
    """)
    sys.path.insert(0, str(workdir))
    try:
        import decorated

        assert decorated.compute(1) == (2, 0.5)  # still a plain function
        by_decorator = Pipeline(steps=[decorated.compute, decorated.plain]).graph()
        by_class = Pipeline(steps=[PythonTask("compute", function=decorated.compute, returns=["y", metric("m")],
                                              max_attempts=2), PythonTask("plain", function="decorated.plain")]).graph()
        assert by_decorator == by_class
        assert by_decorator.steps["compute"].command == "decorated.compute"
    finally:
        sys.path.remove(str(workdir))
        sys.modules.pop("decorated", None)


# ---- errors at build time ------------------------------------------------------------------------
@pytest.mark.parametrize("function, needle", [
    (42, "function must be a function or a dotted path, not int"),
    (lambda x: x, "is not a module-level function"),
    ("nodots", "is not a dotted path to a function"),
])
def test_bad_functions_fail_at_build_time_naming_the_step(function, needle):
    with pytest.raises(StepLineError) as caught:
        PythonTask("train", function=function)
    text = str(caught.value)
    assert needle in text and "step 'train'" in text and "\n" not in text


def test_nested_function_is_refused():
    def inner():
        return 1

    with pytest.raises(PipelineDefinitionError, match="step 'inner': function '.*inner' is not a module-level"):
        PythonTask(function=inner)


@pytest.mark.parametrize("build, needle", [
    (lambda: Pipeline(steps=[]), "non-empty list of steps"),
    (lambda: Pipeline(steps=["echo hi"]), "steps must be stepline steps, not str"),
    (lambda: Pipeline(steps=[Stub("a"), Stub("a")]).graph(), "step 'a': two different steps are named 'a'"),
    (lambda: Pipeline(steps=[Stub("a.b")]).graph(), "illegal step name 'a.b'"),
    (lambda: Pipeline(steps=[ShellTask("t", command="x", max_attempts=0)]).graph(),
     "step 't': key 'max_attempts': Input should be greater than or equal to 1"),
    (lambda: Parallel("p", branches={"a": Stub("x")}), None),
    (lambda: Pipeline(steps=[Parallel("p", branches={"a": Stub("x")})]).graph(),
     "step 'p': branch 'a' must be a Pipeline, not Stub"),
    (lambda: ShellTask("t", command=""), "step 't': ShellTask needs a non-empty command string"),
    (lambda: ShellTask("t", command="x", catalog={"put": ["a"]}), "catalog must be Catalog(get=[...], put=[...])"),
    (lambda: ShellTask("t", command="x", returns=[3]), "returns: 3 is neither a name"),
    (lambda: Catalog(put=["../up"]), "must stay inside the data folder"),
    (lambda: Map("m", branch=Pipeline(steps=[Stub("s")]), iterate_on="xs", iterate_as="x",
                 reducer="import os").node("m"), "reducer must be one lambda expression"),
])
def test_bad_definitions_are_one_line_errors(build, needle):
    if needle is None:
        build()  # building the step is fine; the error comes when the graph is built
        return
    with pytest.raises(StepLineError) as caught:
        build()
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_unreachable_steps_warn():
    with pytest.warns(UserWarning, match="step 'after' can never be reached"):
        Pipeline(steps=[Stub("a", terminate_with_success=True), Stub("after")]).graph()


# ---- references ------------------------------------------------------------------------------------
def test_references_load_the_same_graph(module, write, workdir):
    write("defs.py", """
        import fns
        from stepline import Pipeline, PythonTask

        pipeline = Pipeline(steps=[PythonTask(function=fns.make, returns=["xs"])])

        def build():
            return pipeline
    """)
    sys.modules.pop("defs", None)
    by_module = load_graph("defs:pipeline")
    assert load_graph("defs:build") == by_module
    assert load_graph(str(workdir / "defs.py") + ":pipeline") == by_module
    write("p.yaml", to_yaml(by_module))
    assert load_graph("p.yaml") == by_module
    sys.modules.pop("defs", None)


@pytest.mark.parametrize("reference, needle", [
    ("no_such_module:pipeline", "cannot import module 'no_such_module'"),
    ("fns:nothing", "'fns' has no attribute 'nothing'"),
    ("fns:square", "calling it to get the pipeline failed"),
    ("missing.py:pipeline", "Python file not found"),
    ("missing.yaml", "pipeline file not found"),
])
def test_bad_references_are_one_line_errors(module, reference, needle):
    with pytest.raises(StepLineError) as caught:
        load_graph(reference)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_reference_to_something_else_is_refused(module, write):
    write("other.py", "pipeline = 42\n")
    with pytest.raises(PipelineDefinitionError, match="is a int, not a stepline Pipeline"):
        load_graph("other:pipeline")
    sys.modules.pop("other", None)


# ---- running ---------------------------------------------------------------------------------------
def test_execute_runs_locally_and_returns_the_run_log(module, write):
    pipeline = Pipeline(steps=[PythonTask(function=module.make, returns=["xs"]),
                               Map("fan", branch=Pipeline(steps=[PythonTask(function=module.square, returns=["y"])]),
                                   iterate_on="xs", iterate_as="x", reducer="lambda *v: sum(v)")])
    params = write("params.yaml", "n: 4\n")
    log = pipeline.execute(parameters_file=str(params), run_id="sdk-1", tag="t", quiet=True)
    assert log.status == Status.SUCCESS and log.run_id == "sdk-1" and log.tag == "t"
    assert log.parameters["y"].value == 0 + 1 + 4 + 9
    assert log.pipeline_file == "<python: no reference>"
    assert log.dag_hash == pipeline.graph().dag_hash()


def test_execute_with_a_subprocess_executor_needs_a_reference(module, write):
    config = write("emulator.yaml", "executor:\n  type: emulator\n")
    pipeline = Pipeline(steps=[PythonTask(function=module.one, returns=["x"])])
    with pytest.raises(PipelineDefinitionError) as caught:
        pipeline.execute(configuration_file=str(config), quiet=True)
    assert "the emulator executor runs steps in other processes" in str(caught.value)
    assert "where it is built could not be found" in str(caught.value)
    assert "reference='path/to/file.py:attribute'" in str(caught.value)


def test_execute_refuses_a_reference_to_another_pipeline(module, write):
    write("refs.py", textwrap.dedent("""
        from stepline import Pipeline, Stub
        pipeline = Pipeline(steps=[Stub("other")])
    """))
    with pytest.raises(PipelineDefinitionError, match="the reference names a different pipeline"):
        Pipeline(steps=[Stub("mine")]).execute(reference="refs:pipeline", quiet=True)
    sys.modules.pop("refs", None)


def test_execute_with_the_emulator_rebuilds_from_the_reference(module, write):
    write("emu_pipe.py", """
        import fns
        from stepline import Pipeline, PythonTask

        pipeline = Pipeline(steps=[PythonTask(function=fns.make, returns=["xs"]),
                                   PythonTask(function=fns.pair, returns=["a", "b"])])
    """)
    config = write("emulator.yaml", "executor:\n  type: emulator\n")
    import emu_pipe

    log = emu_pipe.pipeline.execute(configuration_file=str(config), run_id="emu-1", reference="emu_pipe:pipeline",
                                    quiet=True)
    assert log.status == Status.SUCCESS, log.steps
    assert log.pipeline_file == "emu_pipe:pipeline"
    assert log.parameters["xs"].value == [0, 1] and log.parameters["b"].value == 2
    sys.modules.pop("emu_pipe", None)


# ---- the errors users meet at run time name the step ----------------------------------------------
def test_returns_count_and_cast_errors_name_the_step(module, write):
    pipeline = Pipeline(steps=[PythonTask("count", function=module.one, returns=["a", "b"])])
    with pytest.raises(ExecutionFailedError) as caught:  # a FAIL run raises, its run log attached
        pipeline.execute(quiet=True)
    log = caught.value.run_log
    assert log.status == Status.FAIL and caught.value.run_id == log.run_id
    assert log.steps["count"].message == "'returns' names 2 values but the function returned 1"
    assert str(caught.value).startswith(f"run '{log.run_id}' ended in FAIL: step 'count' failed: 'returns' names")

    params = write("bad.yaml", "n: abc\n")
    with pytest.raises(ExecutionFailedError) as caught:
        Pipeline(steps=[PythonTask("cast", function=module.needs_int)]).execute(parameters_file=str(params),
                                                                                quiet=True)
    log = caught.value.run_log
    message = log.steps["cast"].message
    assert log.status == Status.FAIL and "\n" not in message
    assert message.startswith("parameter 'n' = 'abc' cannot be cast to int")


def test_a_function_that_does_not_import_fails_before_the_run(module):
    with warnings.catch_warnings():
        pipeline = Pipeline(steps=[PythonTask("load", function="fns.gone")])
    with pytest.raises(StepLineError) as caught:
        pipeline.execute(quiet=True)
    assert str(caught.value) == "<python: no reference>: step 'load': 'fns' has no function 'gone' (check the command)"


def test_task_decorator_refuses_unknown_options():
    with pytest.raises(PipelineDefinitionError, match="@task got an unknown option 'retries'"):
        task(retries=3)
