"""The mlflow tracker against real mlflow (sqlite), read back with mlflow's MlflowClient."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from stepline.component import Locality
from stepline.errors import IntegrationError, StepLineError
from stepline.plugins import Severity
from stepline.testing.integration import IntegrationCheckContract, executor_running_steps_in
from stepline_mlflow import plugin
from stepline_mlflow.tracker import MlflowTracker, local_path


def runs_of(reader, run_id, experiment="stepline"):
    experiment_id = reader.get_experiment_by_name(experiment).experiment_id
    return reader.search_runs([experiment_id], filter_string=f"tags.`stepline.run_id` = '{run_id}'")


def the_run(reader, run_id, level="pipeline"):
    found = [r for r in runs_of(reader, run_id) if r.data.tags["stepline.level"] == level]
    assert len(found) == 1, found
    return found[0]


def history(reader, mlflow_run_id, name):
    return [(m.step, m.value) for m in sorted(reader.get_metric_history(mlflow_run_id, name),
                                              key=lambda m: (m.step, m.timestamp))]


def test_one_run_with_parameters_tags_and_metrics(tracking_uri, reader):
    tracker = MlflowTracker.from_config({"tracking_uri": tracking_uri, "experiment_name": "exp-a"})
    tracker.start_run("run-1", {"lr": 0.1, "layers": [1, 2], "opt": {"name": "adam", "beta": 0.9}},
                      {"team": "ml"})
    tracker.log_metric("run-1", "loss", 0.5, step=1, step_name="train")
    tracker.log_metric("run-1", "loss", 0.25, step=2, step_name="train")
    tracker.log_metric("run-1", "accuracy", 0.9, step_name="evaluate")
    tracker.end_run("run-1", "SUCCESS")

    run = [r for r in runs_of(reader, "run-1", "exp-a")]
    assert len(run) == 1
    run = run[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "run-1"
    assert run.data.params == {"lr": "0.1", "layers": "[1, 2]", "opt.name": "adam", "opt.beta": "0.9"}
    assert run.data.tags["team"] == "ml" and run.data.tags["stepline.run_id"] == "run-1"
    assert history(reader, run.info.run_id, "loss") == [(1, 0.5), (2, 0.25)]
    assert history(reader, run.info.run_id, "accuracy") == [(0, 0.9)]


def test_start_run_again_from_another_process_reuses_the_run_and_logs_parameters_once(tracking_uri, reader):
    first = MlflowTracker.from_config({"tracking_uri": tracking_uri})
    first.start_run("run-2", {"x": 1}, {})
    first.log_metric("run-2", "m", 1.0, step=0, step_name="a")
    second = MlflowTracker.from_config({"tracking_uri": tracking_uri})  # a new process: no memory
    second.start_run("run-2", {"x": 2}, {})
    second.log_metric("run-2", "m", 2.0, step=1, step_name="b")
    run = the_run(reader, "run-2")
    assert run.data.params == {"x": "1"}
    assert history(reader, run.info.run_id, "m") == [(0, 1.0), (1, 2.0)]


def test_log_metric_without_start_run_finds_or_creates_the_run(tracking_uri, reader):
    MlflowTracker.from_config({"tracking_uri": tracking_uri}).log_metric("run-3", "m", 3.0, step_name="s")
    MlflowTracker.from_config({"tracking_uri": tracking_uri}).log_metric("run-3", "m", 4.0, step=1,
                                                                         step_name="t")
    assert history(reader, the_run(reader, "run-3").info.run_id, "m") == [(0, 3.0), (1, 4.0)]


def test_map_iterations_and_branches_get_nested_child_runs(tracking_uri, reader):
    tracker = MlflowTracker.from_config({"tracking_uri": tracking_uri})
    tracker.start_run("run-4", {}, {})
    for i in range(3):
        tracker.log_metric("run-4", "square", float(i * i), step_name=f"fan.{i}.square")
    tracker.log_metric("run-4", "extra", 7.0, step=5, step_name="fan.1.check")  # same branch, other step
    tracker.log_metric("run-4", "acc", 0.8, step_name="par.left.train")
    tracker.log_metric("run-4", "total", 5.0, step_name="collect")
    tracker.end_run("run-4", "FAIL")

    parent = the_run(reader, "run-4")
    children = {r.data.tags["stepline.branch"]: r for r in runs_of(reader, "run-4")
                if r.data.tags["stepline.level"] == "branch"}
    assert sorted(children) == ["fan.0", "fan.1", "fan.2", "par.left"]
    for branch, child in children.items():
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.tags["stepline.run_id"] == "run-4"
        assert child.data.tags["stepline.step"] == branch.split(".")[0]
        assert child.info.status == "FAILED"
    assert [history(reader, children[f"fan.{i}"].info.run_id, "square") for i in range(3)] == \
        [[(0, 0.0)], [(0, 1.0)], [(0, 4.0)]]
    assert history(reader, children["fan.1"].info.run_id, "extra") == [(5, 7.0)]
    assert history(reader, children["par.left"].info.run_id, "acc") == [(0, 0.8)]
    assert parent.info.status == "FAILED"
    assert set(parent.data.metrics) == {"total"}


def test_processes_starting_the_same_run_at_once_share_one_mlflow_run(tracking_uri, reader, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from stepline_mlflow.tracker import MlflowTracker
        tracker = MlflowTracker.from_config({{"tracking_uri": {tracking_uri!r}}})
        tracker.start_run("run-5", {{"p": 1}}, {{}})
        tracker.log_metric("run-5", "worker", float(sys.argv[1]), step=int(sys.argv[1]), step_name="s")
        tracker.log_metric("run-5", "it", 1.0, step=int(sys.argv[1]), step_name="fan.0.s")
    """))
    workers = [subprocess.Popen([sys.executable, str(script), str(i)]) for i in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    parent = the_run(reader, "run-5")
    assert parent.data.params == {"p": "1"}
    assert sorted(history(reader, parent.info.run_id, "worker")) == [(i, float(i)) for i in range(3)]
    child = the_run(reader, "run-5", level="branch")
    assert len(history(reader, child.info.run_id, "it")) == 3


def test_default_tracking_uri_is_a_sqlite_file_under_dot_stepline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tracker = MlflowTracker.from_config({})
    assert tracker.settings.tracking_uri == "sqlite:///.stepline/mlflow.db"
    assert tracker.settings.experiment_name == "stepline"
    tracker.start_run("run-6", {"a": 1}, {})
    tracker.log_metric("run-6", "m", 1.5, step_name="s")
    tracker.end_run("run-6", "SUCCESS")
    assert (tmp_path / ".stepline" / "mlflow.db").is_file()
    from mlflow.tracking import MlflowClient

    run = the_run(MlflowClient(tracking_uri="sqlite:///.stepline/mlflow.db"), "run-6")
    assert run.data.metrics == {"m": 1.5} and run.info.status == "FINISHED"


def test_a_file_store_folder_works(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "x")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # absent, and restored afterwards
    uri = str(tmp_path / "mlruns")
    tracker = MlflowTracker.from_config({"tracking_uri": uri})
    tracker.start_run("run-7", {}, {})
    tracker.log_metric("run-7", "m", 2.0, step=3, step_name="s")
    from mlflow.tracking import MlflowClient

    reader = MlflowClient(tracking_uri=uri)
    assert history(reader, the_run(reader, "run-7").info.run_id, "m") == [(3, 2.0)]


def test_an_unusable_tracking_uri_is_a_one_line_error(tmp_path):
    tracker = MlflowTracker.from_config({"tracking_uri": "nosuchscheme://x"})
    with pytest.raises(StepLineError) as info:
        tracker.start_run("r", {}, {})
    assert "experiment tracker 'mlflow'" in str(info.value) and "\n" not in str(info.value)


# ---- what the core sees -------------------------------------------------------------------------------
def test_importing_the_plugin_and_configuring_the_tracker_does_not_import_mlflow():
    code = ("import sys, stepline_mlflow.plugin as p\n"
            "cls = p.stepline_components()[0].load()\n"
            "t = cls.from_config({'tracking_uri': 'sqlite:///x.db'}); t.describe(); t.locality\n"
            "from stepline.plugins.manager import get_registry; get_registry()\n"
            "print('mlflow' in sys.modules, 'sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.getcwd()).stdout
    assert out.split() == ["False", "False"]


def test_registered_through_the_entry_point():
    from stepline.plugins.manager import get_registry

    assert get_registry().get("experiment_tracker", "mlflow") is MlflowTracker


def test_describe_hides_a_password_in_the_uri():
    tracker = MlflowTracker.from_config({"tracking_uri": "https://bob:s3cret@mlflow.example.com:5000"})
    assert "s3cret" not in repr(tracker.describe())
    assert tracker.describe()["config"]["tracking_uri"] == "https://bob:***@mlflow.example.com:5000"


@pytest.mark.parametrize("uri, local", [
    ("sqlite:///.stepline/mlflow.db", True), ("sqlite:////abs/m.db", True), ("file:///tmp/mlruns", True),
    ("./mlruns", True), ("http://mlflow:5000", False), ("https://x.example.com", False),
    ("databricks", True), ("databricks://profile", False)])
def test_locality_follows_the_uri(uri, local):
    tracker = MlflowTracker.from_config({"tracking_uri": uri})
    assert (local_path(uri) is not None) is local
    assert tracker.locality == (Locality.MACHINE if local else Locality.NETWORK)


def test_a_local_store_under_a_network_executor_is_an_error_that_explains_why():
    tracker = MlflowTracker.from_config({"tracking_uri": "sqlite:///.stepline/mlflow.db"})
    problems = plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), tracker)
    assert len(problems) == 1 and problems[0].severity == Severity.ERROR
    assert "own disk" in problems[0].message and "tracking server" in problems[0].message
    from stepline.plugins.manager import get_plugin_manager

    with pytest.raises(IntegrationError, match="own disk"):
        get_plugin_manager().check_integration(executor_running_steps_in(Locality.NETWORK), [tracker])


def test_a_local_store_on_this_machine_or_a_server_anywhere_is_fine():
    local = MlflowTracker.from_config({"tracking_uri": "sqlite:///m.db"})
    server = MlflowTracker.from_config({"tracking_uri": "http://mlflow.internal:5000"})
    assert plugin.stepline_check_integration(executor_running_steps_in(Locality.MACHINE), local) == []
    assert plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), server) == []
    from stepline.plugins.manager import get_plugin_manager

    assert get_plugin_manager().check_integration(executor_running_steps_in(Locality.MACHINE), [local]) == []


def test_a_forked_child_logs_through_its_own_connections(tracking_uri, reader):
    tracker = MlflowTracker.from_config({"tracking_uri": tracking_uri})
    tracker.start_run("run-8", {}, {})  # the parent holds pooled connections now
    pids = []
    for i in range(2):
        pid = os.fork()
        if pid == 0:  # a branch worker, as the local executor forks them
            code = 0
            try:
                tracker.log_metric("run-8", "child", float(i), step=i, step_name=f"fan.{i}.s")
                tracker.log_metric("run-8", "top", float(i), step=i, step_name="s")
            except BaseException:  # noqa: BLE001 - a forked child must always _exit
                code = 1
            os._exit(code)
        pids.append(pid)
    assert [os.waitpid(pid, 0)[1] for pid in pids] == [0, 0]
    tracker.log_metric("run-8", "top", 9.0, step=9, step_name="s")  # the parent still works
    tracker.end_run("run-8", "SUCCESS")
    parent = the_run(reader, "run-8")
    assert sorted(history(reader, parent.info.run_id, "top")) == [(0, 0.0), (1, 1.0), (9, 9.0)]
    assert len([r for r in runs_of(reader, "run-8") if r.data.tags["stepline.level"] == "branch"]) == 2


def test_a_run_created_meanwhile_elsewhere_wins_and_ours_is_deleted(tracking_uri, reader):
    """The race a file lock cannot close against a server: another machine creates the run between
    our search and our create. Simulated by hiding the first search's result."""
    other = MlflowTracker.from_config({"tracking_uri": tracking_uri})
    other.start_run("run-9", {"p": "theirs"}, {})
    theirs = the_run(reader, "run-9").info.run_id

    ours = MlflowTracker.from_config({"tracking_uri": tracking_uri})
    real_search, calls = ours._search, []

    def search_that_misses_once(run_id, branch):
        calls.append(branch)
        return [] if len(calls) == 1 else real_search(run_id, branch)

    ours._search = search_that_misses_once
    ours.start_run("run-9", {"p": "ours"}, {})
    ours.log_metric("run-9", "m", 1.0, step_name="s")
    run = the_run(reader, "run-9")  # exactly one active pipeline run remains
    assert run.info.run_id == theirs and run.data.params == {"p": "theirs"} and run.data.metrics == {"m": 1.0}
    deleted = [r for r in reader.search_runs([run.info.experiment_id], run_view_type=2) if r.info.run_id != theirs]
    assert len(deleted) == 1 and deleted[0].data.tags["stepline.run_id"] == "run-9"


class TestMlflowChecks(IntegrationCheckContract):
    """The mlflow plugin's check passes the integration check kit."""

    @pytest.fixture
    def plugin(self):
        return plugin

    @pytest.fixture
    def services(self, tmp_path):
        return [MlflowTracker.from_config({"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"}),
                MlflowTracker.from_config({"tracking_uri": "http://mlflow.example:5000"})]
