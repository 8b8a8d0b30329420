"""Notebook tasks run a real notebook with papermill (the ``stepline[notebook]`` extra)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from stepline import Catalog, NotebookTask, Pipeline, PythonTask, ShellTask, metric, pickled
from stepline.errors import ExecutionFailedError, StepLineError
from stepline.runlog.models import Status


def write_notebook(path: Path, *cells: str, parameters: str | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def objects_module(workdir, write):
    write("nbobjects.py", """
        class Box:
            def __init__(self, items):
                self.items = items

        def make_box():
            return Box([3, 4])
    """)
    sys.path.insert(0, str(workdir))
    yield
    sys.path.remove(str(workdir))
    sys.modules.pop("nbobjects", None)


def test_notebook_gets_parameters_returns_variables_and_is_saved(workdir, objects_module, monkeypatch):
    monkeypatch.setenv("NB_TOKEN", "tok-123456")
    write_notebook(workdir / "work.ipynb",
                   "import os\ntotal = sum(box.items) * factor\nprint('total is', total)\n"
                   "token_seen = len(os.environ['NB_TOKEN'])\nprint('token', os.environ['NB_TOKEN'])",
                   "os.makedirs('out', exist_ok=True)\nopen('out/result.txt', 'w').write(str(total))",
                   parameters="factor = 1\nlabel = 'default'")
    import nbobjects

    pipeline = Pipeline(steps=[
        PythonTask(function=nbobjects.make_box, returns=[pickled("box")]),
        NotebookTask("work", notebook="work.ipynb", returns=["total", metric("token_seen")], secrets=["NB_TOKEN"],
                     catalog=Catalog(put=["out/result.txt"]), timeout_seconds=120),  # timeout: runs in a child
    ])
    params = workdir / "params.yaml"
    params.write_text("factor: 10\nlabel: from-the-run\n")
    log = pipeline.execute(parameters_file=str(params), run_id="nb-1", quiet=True)
    step = log.steps["work"]
    assert log.status == Status.SUCCESS, step.message
    assert log.parameters["total"].value == 70  # box came in pickled, factor from the parameters
    assert log.parameters["token_seen"].kind == "metric" and log.parameters["token_seen"].value == 10
    assert set(step.attempts[0].input_parameters) == {"factor", "label", "box"}

    saved = {item.name: item for item in step.data_catalog}
    assert {"notebooks/work.attempt-1.ipynb", "out/result.txt", "logs/work.attempt-1.log"} <= set(saved)
    executed = nbformat.reads((workdir / ".stepline/catalog/nb-1/notebooks/work.attempt-1.ipynb").read_text(),
                              as_version=4)
    sources = [c.source for c in executed.cells]
    assert any("factor = 10" in s and "label = \"from-the-run\"" in s for s in sources)  # the injected cell
    assert not any("stepline-returns" in c.metadata.get("tags", []) for c in executed.cells)
    outputs = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "total is 70" in outputs
    log_text = (workdir / ".stepline/catalog/nb-1/logs/work.attempt-1.log").read_text()
    assert "total is 70" in log_text and "tok-123456" not in log_text and "token ********" in log_text


def test_a_failing_cell_is_named_by_its_place_in_the_notebook_not_by_its_execution_count(workdir):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a title"), nbformat.v4.new_code_cell("factor = 1"),
                nbformat.v4.new_markdown_cell("then"), nbformat.v4.new_code_cell("x = factor * 2"),
                nbformat.v4.new_code_cell("raise KeyError('k')")]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(workdir / "counted.ipynb"))
    (workdir / "params.yaml").write_text("factor: 3\n")
    with pytest.raises(ExecutionFailedError) as failed:  # papermill adds a cell: the kernel counts it
        Pipeline(steps=[NotebookTask("counted", notebook="counted.ipynb")]).execute(
            run_id="nb-count", quiet=True, parameters_file="params.yaml")
    assert failed.value.run_log.steps["counted"].message == "notebook counted.ipynb failed at cell 5: KeyError: 'k'"


def test_failing_cell_fails_the_step_and_keeps_the_executed_notebook(workdir):
    write_notebook(workdir / "broken.ipynb", "print('before')", "raise ValueError('bad data')", "print('after')")
    with pytest.raises(ExecutionFailedError) as failed:
        Pipeline(steps=[NotebookTask("broken", notebook="broken.ipynb")]).execute(run_id="nb-2", quiet=True)
    log = failed.value.run_log
    step = log.steps["broken"]
    assert log.status == Status.FAIL
    assert step.message == "notebook broken.ipynb failed at cell 2: ValueError: bad data"
    saved = workdir / ".stepline/catalog/nb-2/notebooks/broken.attempt-1.ipynb"
    outputs = json.dumps([c.get("outputs", []) for c in nbformat.reads(saved.read_text(), as_version=4).cells])
    assert "before" in outputs and "bad data" in outputs and "after" not in outputs


def step_log(workdir, run_id: str, step: str) -> str:
    return (workdir / f".stepline/catalog/{run_id}/logs/{step}.attempt-1.log").read_text()


def test_fd_level_output_of_a_cell_reaches_the_step_log_through_the_kernel_process(workdir, capfd):
    # ipykernel echoes what a cell writes on fd 1 and 2 on the kernel process's own streams: a private
    # file, printed into the task's output after the cells' output (the sleep lets its echo thread run)
    write_notebook(workdir / "fd.ipynb", "import os\nos.write(2, b'written on fd two\\n')\nos.write(1, b'and fd one\\n')",
                   "import time\ntime.sleep(0.5)\nprint('printed')")
    Pipeline(steps=[NotebookTask("fd", notebook="fd.ipynb")]).execute(run_id="nb-fd", quiet=True)
    text = step_log(workdir, "nb-fd", "fd")
    assert text.count("written on fd two") == 1 and text.count("and fd one") == 1 and "printed" in text, text
    assert "written on fd two" not in capfd.readouterr().err  # not straight to the console, bypassing the step


def test_what_a_kernel_writes_while_it_shuts_down_is_shown_only_when_the_notebook_failed(workdir):
    # a kernel whose own shutdown writes on its stderr (as libzmq does when it aborts in a busy shutdown)
    at_exit = ("import atexit, os\n"  # fd 2 is ipykernel's pipe here: find the kernel process's own stream
               "_real = [int(f) for f in os.listdir('/proc/self/fd') if os.path.realpath(f'/proc/self/fd/{f}')"
               ".endswith('kernel-output.txt')]\n"
               "atexit.register(lambda: os.write(_real[0], b'kernel trouble at shutdown\\n'))")
    write_notebook(workdir / "ok.ipynb", at_exit, "x = 1")
    write_notebook(workdir / "bad.ipynb", at_exit, "raise ValueError('bad data')")
    Pipeline(steps=[NotebookTask("ok", notebook="ok.ipynb")]).execute(run_id="nb-ok", quiet=True)
    ok_log = workdir / ".stepline/catalog/nb-ok/logs/ok.attempt-1.log"
    assert not ok_log.exists() or "kernel trouble" not in ok_log.read_text()
    with pytest.raises(ExecutionFailedError):
        Pipeline(steps=[NotebookTask("bad", notebook="bad.ipynb")]).execute(run_id="nb-bad", quiet=True)
    text = step_log(workdir, "nb-bad", "bad")
    assert "kernel trouble at shutdown" in text.split("the kernel process's own output while it shut down:", 1)[1], text


def test_a_kernel_that_dies_shows_what_it_wrote(workdir):
    write_notebook(workdir / "dies.ipynb", "import os\nos.write(2, b'last words\\n')\nimport time\ntime.sleep(0.5)",
                   "os._exit(3)")
    with pytest.raises(ExecutionFailedError) as failed:
        Pipeline(steps=[NotebookTask("dies", notebook="dies.ipynb")]).execute(run_id="nb-dies", quiet=True)
    step = failed.value.run_log.steps["dies"]
    assert step.message.startswith("notebook dies.ipynb failed at ") and "\n" not in step.message
    assert "last words" in step_log(workdir, "nb-dies", "dies")


def test_a_return_the_notebook_does_not_define_fails_the_step(workdir):
    write_notebook(workdir / "nb.ipynb", "x = 1")
    with pytest.raises(ExecutionFailedError) as failed:
        Pipeline(steps=[NotebookTask("nb", notebook="nb.ipynb", returns=["x", "y"])]).execute(quiet=True)
    log = failed.value.run_log
    assert log.steps["nb"].message == "'returns' names 'y' but the notebook defines no variable 'y'"


def test_a_missing_notebook_is_a_one_line_error_before_the_run(workdir):
    with pytest.raises(StepLineError) as caught:
        Pipeline(steps=[ShellTask("a", command="true"), NotebookTask("nb", notebook="nope.ipynb")]).execute(quiet=True)
    assert "step 'nb': notebook 'nope.ipynb' not found" in str(caught.value) and "\n" not in str(caught.value)


def test_without_the_extra_a_notebook_step_says_what_to_install(workdir, write, monkeypatch):
    write_notebook(workdir / "nb.ipynb", "x = 1")
    write("p.yaml", """
        dag:
          start_at: nb
          steps:
            nb: {type: task, command_type: notebook, command: nb.ipynb}
    """)
    monkeypatch.setitem(sys.modules, "papermill", None)  # as if stepline[notebook] were not installed
    from stepline.run.prepare import prepare

    with pytest.raises(StepLineError) as caught:
        prepare("p.yaml", None)
    assert str(caught.value) == ("p.yaml: step 'nb': notebook tasks need papermill, which is not installed "
                                 "(papermill is missing) (install the notebook extra: pip install \"stepline[notebook]\")")
