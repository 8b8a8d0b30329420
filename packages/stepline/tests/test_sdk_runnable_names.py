"""The SDK under runnable's names and arguments: what ``from runnable import X`` gives a script,
``from stepline import X`` and ``from stepline.sdk import X`` give too, and means the same."""

from __future__ import annotations

import inspect
import os
import sys

import pytest
import stepline
import stepline.sdk
from stepline import (
    ExecutionFailedError,
    Loop,
    NotebookJob,
    NotebookTask,
    Pipeline,
    PythonJob,
    PythonTask,
    ShellJob,
    ShellTask,
    Stub,
)
from stepline.errors import NotSupportedError, StepLineError
from stepline.runlog.models import Status

#: runnable 0.50's ``runnable/__init__.py`` exports that Stepline has a meaning for.
RUNNABLE_NAMES = ["Catalog", "Conditional", "Fail", "Loop", "Map", "NotebookJob", "NotebookTask", "Parallel",
                  "Pipeline", "PythonJob", "PythonTask", "ShellJob", "ShellTask", "Stub", "Success", "json", "metric",
                  "pickled"]


@pytest.fixture
def fns(workdir, write):
    write("rfns.py", """
        import argparse
        import os

        def tune(rate: float, args: argparse.Namespace):
            return f"{rate}/{args.epochs}/{args.label}"

        def body():
            return int(os.environ["round"]), os.environ["round"] == "1"
    """)
    sys.path.insert(0, str(workdir))
    sys.modules.pop("rfns", None)
    import rfns

    yield rfns
    sys.path.remove(str(workdir))
    sys.modules.pop("rfns", None)


@pytest.mark.parametrize("name", RUNNABLE_NAMES + ["ExecutionFailedError"])
def test_runnable_names_import_from_stepline_and_stepline_sdk(name):
    assert getattr(stepline, name) is getattr(stepline.sdk, name)


def test_execute_takes_runnables_arguments_in_runnables_order():
    assert list(inspect.signature(Pipeline.execute).parameters)[1:6] == [
        "configuration_file", "run_id", "tag", "parameters_file", "log_level"]
    assert list(inspect.signature(PythonJob.execute).parameters)[1:6] == [
        "configuration_file", "job_id", "tag", "parameters_file", "log_level"]


@pytest.mark.parametrize("step", [PythonTask(name="p", function="os.getcwd"), ShellTask(name="s", command="true"),
                                  NotebookTask(name="n", notebook="work.ipynb"), Stub(name="t")])
def test_as_pipeline_is_a_one_step_pipeline(step):
    graph = step.as_pipeline().graph()
    assert graph.start_at == step.name
    assert sorted(node.type for node in graph.steps.values()) == sorted([graph.steps[step.name].type, "success",
                                                                          "fail"])
    assert graph.steps[step.name].next == "success"


def test_optional_ploomber_args_is_refused_in_one_line():
    for build in (lambda: NotebookTask(name="n", notebook="a.ipynb", optional_ploomber_args={"log_output": True}),
                  lambda: NotebookJob(notebook="a.ipynb", optional_ploomber_args={"log_output": True})):
        with pytest.raises(NotSupportedError) as caught:
            build()
        assert "optional_ploomber_args is not supported" in str(caught.value) and "\n" not in str(caught.value)
    assert NotebookTask(name="n", notebook="a.ipynb", optional_ploomber_args=None).notebook == "a.ipynb"


def test_async_names_say_they_are_not_supported():
    with pytest.raises(NotSupportedError, match="AsyncPipeline .* is not supported by Stepline"):
        from stepline import AsyncPipeline  # noqa: F401
    with pytest.raises(NotSupportedError, match="AsyncPythonTask"):
        from stepline.sdk import AsyncPythonTask  # noqa: F401
    with pytest.raises(ImportError):
        from stepline import NoSuchThing  # noqa: F401


def test_a_namespace_argument_receives_every_parameter_not_named(fns, write):
    params = write("params.yaml", "rate: 0.5\nepochs: 3\nlabel: x\n")
    log = PythonTask(name="tune", function=fns.tune, returns=["out"]).as_pipeline().execute(
        parameters_file=str(params), quiet=True)
    assert log.parameters["out"].value == "0.5/3/x"
    assert set(log.steps["tune"].attempts[0].input_parameters) == {"rate", "epochs", "label"}


def test_loop_index_is_an_environment_variable_of_the_task_and_only_of_it(fns):
    loop = Loop(name="again", branch=PythonTask(name="body", function=fns.body, returns=["seen", "stop"]).as_pipeline(),
                max_iterations=5, break_on="stop", index_as="round")
    log = Pipeline(steps=[loop]).execute(quiet=True)
    assert log.status == Status.SUCCESS and log.parameters["seen"].value == 1
    assert "round" not in os.environ  # set for the task, restored after it


def test_a_failed_job_raises_with_its_run_log(workdir):
    with pytest.raises(ExecutionFailedError) as caught:
        ShellJob(command="exit 3").execute(job_id="job-x", quiet=True)
    assert isinstance(caught.value, StepLineError) and caught.value.exit_code == 1
    assert caught.value.run_id == "job-x" and caught.value.run_log.status == Status.FAIL
    assert str(caught.value).startswith("run 'job-x' ended in FAIL: step 'shell' failed: command exited with code 3")


def test_environment_settings_override_the_arguments(workdir, write, monkeypatch):
    write("a.yaml", "who: argument\n")
    write("b.yaml", "who: environment\n")
    monkeypatch.setenv("RUNNABLE_PARAMETERS_FILE", "b.yaml")
    monkeypatch.setenv("RUNNABLE_RUN_ID", "from-env")
    log = ShellTask(name="s", command='export got="$who"', returns=["got"]).as_pipeline().execute(
        parameters_file="a.yaml", quiet=True)
    assert log.run_id == "from-env" and log.parameters["got"].value == "environment"
    log = Stub(name="t").as_pipeline().execute(run_id="given", quiet=True)
    assert log.run_id == "given"  # an explicit run id wins over the environment's


def test_execute_returns_at_once_while_a_reference_is_loaded(workdir, write):
    write("twice.py", """
        from stepline import Stub
        calls = []

        def main():
            pipeline = Stub(name="only").as_pipeline()
            calls.append(pipeline.execute())
            return pipeline
    """)
    from stepline.pipeline.reference import load_graph

    sys.path.insert(0, str(workdir))
    try:
        graph = load_graph("twice:main")
        import twice

        assert twice.calls == [None] and graph.start_at == "only"
        assert not (workdir / ".stepline" / "runs").exists()
    finally:
        sys.path.remove(str(workdir))
        sys.modules.pop("twice", None)


def test_loop_index_is_an_environment_variable_of_a_notebook(workdir):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nseen = int(os.environ['round'])\nstop = seen == 1")]
    nbformat.write(nb, str(workdir / "body.ipynb"))
    body = NotebookTask(name="body", notebook="body.ipynb", returns=["seen", "stop"]).as_pipeline()
    log = Loop(name="again", branch=body, max_iterations=3, break_on="stop", index_as="round").as_pipeline().execute(
        quiet=True)
    assert log.status == Status.SUCCESS, log.steps["again"].message
    assert log.parameters["seen"].value == 1 and list(log.steps["again"].branches) == ["again.0", "again.1"]
