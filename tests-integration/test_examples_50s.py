"""Examples 50 (a failed run and its re-run) and 51 (a mocked run with patches), run as documented."""

from __future__ import annotations


def test_50_retry_runs_only_what_failed(example, cli):
    folder = example("50-retry")
    first = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "first", cwd=folder)
    assert first.code == 1, first.output
    assert "apac sales server is down" in first.stdout and "Traceback" not in first.output
    (folder / "params.yaml").write_text("regions: [mars]\n")  # the re-run keeps the first run's parameters
    second = cli.run("retry", "first", "--run-id", "second", cwd=folder, env=cli.env(APAC_UP="1"))
    assert second.code == 0, second.output
    assert second.stdout.endswith("total revenue: 400\n")
    assert "re-run of first: 3 steps skipped" in second.stderr
    calls = (folder / "calls.log").read_text().splitlines()
    assert sorted(calls) == ["fetch apac", "fetch apac", "fetch eu", "fetch us", "plan", "total"]
    log = cli.run_log("second", folder)
    assert log["original_run_id"] == "first" and log["parameters"]["revenue"] == {"kind": "metric", "value": 400.0}
    branches = log["steps"]["download"]["branches"]
    messages = {b["parameters"]["region"]["value"]: s["message"] for b in branches.values() for s in b["steps"].values()
                if s["step_type"] == "task"}
    assert messages == {"apac": "", "eu": "skipped: succeeded in run first", "us": "skipped: succeeded in run first"}
    diff = cli.run("runs", "diff", "first", "second", cwd=folder)
    assert "download.0.fetch  FAIL  ->  SUCCESS" in diff.stdout
    again = cli.run("retry", "second", cwd=folder)  # nothing left to run
    assert again.code == 0 and "re-run of second: 5 steps skipped" in again.stderr


def test_51_mocked_shape_and_failure_route(example, cli):
    folder = example("51-mocked")
    shape = cli.run("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "shape", cwd=folder, timeout=30)
    assert shape.code == 0, shape.output
    log = cli.run_log("shape", folder)
    assert log["steps"]["train"]["branches"]["train.2"]["steps"]["train.2.fit"]["mock"] is True
    assert log["steps"]["publish"]["mock"] and not log["steps"]["folds"]["mock"]
    failing = cli.run("execute", "pipeline.yaml", "-c", "failing.yaml", "--run-id", "route", cwd=folder, timeout=30)
    assert failing.code == 1 and "fold 2: out of memory" in failing.stdout
    log = cli.run_log("route", folder)
    assert [n for n in log["steps"]] == ["folds", "train", "alert", "failed"]
    assert log["steps"]["alert"]["mock"] and log["steps"]["train"]["status"] == "FAIL"
    graph = cli.run("graph", "pipeline.yaml", "--run", "route", cwd=folder)
    assert "publish  task: shell  -> success  [NOT RUN]" in graph.stdout
    assert "[FAIL, 2/3 succeeded]" in graph.stdout
