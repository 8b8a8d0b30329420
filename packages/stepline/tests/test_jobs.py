"""Jobs: one task with the catalog, secrets and run log, but no pipeline to write."""

from __future__ import annotations

import sys

import pytest
from stepline import Catalog, PythonJob, ShellJob, metric
from stepline.errors import StepLineError
from stepline.runlog.models import Status
from typer.testing import CliRunner


@pytest.fixture
def jobs_module(workdir, write):
    write("jobfns.py", """
        import stepline

        def train(rate: float, data_file: str = "data/in.txt"):
            token = stepline.get_secret("JOB_TOKEN")
            with open(data_file) as f:
                rows = f.read().split()
            with open("model.txt", "w") as f:
                f.write(f"{rate}:{len(rows)}")
            print("trained on", len(rows), "rows with a token of", len(token), "characters:", token)
            return len(rows), rate * 2
    """)
    write("jobs_def.py", """
        import jobfns
        from stepline import Catalog, PythonJob, ShellJob, metric

        job = PythonJob(function=jobfns.train, returns=["rows", metric("score")], secrets=["JOB_TOKEN"],
                        catalog=Catalog(put=["model.txt"]))
        shell = ShellJob(command="echo hi; export said=hi", returns=["said"], name="greet")
    """)
    write("data/in.txt", "a b c\n")
    sys.path.insert(0, str(workdir))
    yield
    sys.path.remove(str(workdir))
    for name in ("jobfns", "jobs_def"):
        sys.modules.pop(name, None)


def test_python_job_runs_one_step_with_catalog_secrets_and_run_log(workdir, jobs_module, monkeypatch):
    monkeypatch.setenv("JOB_TOKEN", "secret-value-1")
    params = workdir / "params.yaml"
    params.write_text("rate: 0.25\n")
    import jobfns

    job = PythonJob(function=jobfns.train, returns=["rows", metric("score")], secrets=["JOB_TOKEN"],
                    catalog=Catalog(put=["model.txt"]))
    log = job.execute(parameters_file=str(params), run_id="job-1", quiet=True)
    assert log.status == Status.SUCCESS
    assert [s for s, step in log.steps.items() if step.step_type == "task"] == ["train"]  # named like the job
    assert log.parameters["rows"].value == 3 and log.parameters["score"].kind == "metric"
    assert (workdir / ".stepline/catalog/job-1/model.txt").read_text() == "0.25:3"
    text = (workdir / ".stepline/catalog/job-1/logs/train.attempt-1.log").read_text()
    assert "characters: ********" in text and "secret-value-1" not in text


def test_shell_job_and_its_name():
    job = ShellJob(command="echo hi")
    assert job.name == "shell" and next(iter(job.graph().steps)) == "shell"
    assert "command: echo hi" in job.to_yaml()


def test_execute_job_cli_by_reference_and_by_yaml(workdir, jobs_module, monkeypatch, write):
    from stepline.cli.app import app

    monkeypatch.setenv("JOB_TOKEN", "secret-value-2")
    runner = CliRunner()
    done = runner.invoke(app, ["execute-job", "jobs_def:shell", "--run-id", "cli-1"])
    assert done.exit_code == 0, done.output
    from stepline.config.loader import load_services

    store = load_services(None).run_log_store
    log = store.get_run_log("cli-1")
    assert list(log.steps) == ["greet", "success"] and log.parameters["said"].value == "hi"
    assert log.pipeline_file == "jobs_def:shell"

    write("job.yaml", """
        job:
          name: train
          command: jobfns.train
          returns: [rows, score]
          secrets: [JOB_TOKEN]
    """)
    write("params.yaml", "rate: 1.5\n")
    done = runner.invoke(app, ["execute-job", "job.yaml", "-p", "params.yaml", "--run-id", "cli-2"])
    assert done.exit_code == 0, done.output
    log = store.get_run_log("cli-2")
    assert list(log.steps) == ["train", "success"] and log.parameters["rows"].value == 3


def test_execute_job_refuses_a_pipeline(workdir, write):
    from stepline.pipeline.job_file import check_job
    from stepline.run.prepare import prepare

    write("p.yaml", """
        dag:
          start_at: a
          steps:
            a: {type: stub, next: b}
            b: {type: stub}
    """)
    with pytest.raises(StepLineError, match="p.yaml: is a pipeline of 2 steps, not a job"):
        check_job(prepare("p.yaml", None).graph, "p.yaml")


@pytest.mark.parametrize("text, needle", [
    ("job:\n  command: x.y\n  next: z\n", "step 'job': a job has no 'next'"),
    ("job:\n  command: x.y\nother: 1\n", "unknown top-level key 'other' in a job file"),
    ("job:\n  command: x.y\n  bogus: 1\n", "step 'job': unknown key 'bogus'"),
])
def test_bad_job_files_are_one_line_errors(workdir, write, text, needle):
    from stepline.pipeline.reference import load_graph

    write("job.yaml", text)
    with pytest.raises(StepLineError) as caught:
        load_graph("job.yaml")
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_job_named_with_a_dot_is_an_error_naming_its_file(tmp_path):
    from stepline.errors import PipelineDefinitionError
    from stepline.pipeline.reference import load_graph

    (tmp_path / "job.yaml").write_text("job:\n  name: a.b\n  command_type: shell\n  command: 'true'\n")
    with pytest.raises(PipelineDefinitionError, match=r"job.yaml: illegal job name 'a.b'"):
        load_graph(str(tmp_path / "job.yaml"))
    (tmp_path / "jobs_dot.py").write_text("from stepline import ShellJob\njob = ShellJob(name='a.b', command='true')\n")
    with pytest.raises(PipelineDefinitionError, match=r"jobs_dot.py: step 'a.b': illegal step name 'a.b'"):
        load_graph(str(tmp_path / "jobs_dot.py") + ":job")


def test_sys_exit_while_importing_is_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    shown = subprocess.run([sys.executable, "-m", "stepline", "validate", "exits.py:pipeline"], cwd=tmp_path,
                           capture_output=True, check=False, text=True, timeout=60)
    assert shown.returncode == 2
    assert shown.stderr.strip() == ('error: exits.py: importing it called sys.exit(3) '
                                    '(keep sys.exit() under `if __name__ == "__main__":`)')


def test_an_exception_while_importing_is_one_line_naming_where_it_was_raised(tmp_path):
    import subprocess
    import sys

    (tmp_path / "pipe.py").write_text("import helper\n")
    (tmp_path / "helper.py").write_text("x = 1\nraise ValueError('bad value\\nsee the docs')\n")

    def validate(*debug):
        return subprocess.run([sys.executable, "-m", "stepline", *debug, "validate", "pipe.py:pipeline"], cwd=tmp_path,
                              capture_output=True, check=False, text=True, timeout=60)

    shown = validate()
    assert shown.returncode == 2
    assert shown.stderr == ("error: pipe.py: importing it raised ValueError: bad value see the docs "
                            "(raised at helper.py, line 2; stepline --debug shows the traceback)\n")
    debugged = validate("--debug").stderr
    assert 'File "' + str(tmp_path / "helper.py") + '", line 2' in debugged  # the user's own frames
