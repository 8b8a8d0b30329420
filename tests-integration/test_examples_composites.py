"""End to end: the composite examples (10-14) through the CLI, checked in their run logs."""

from __future__ import annotations


def values(log: dict) -> dict:
    return {name: p["value"] for name, p in log["parameters"].items()}


def find(log: dict, path: str) -> dict:
    """The step log at a dotted internal name, through branches."""
    parts = path.split(".")
    steps, found = log["steps"], None
    for i in range(len(parts)):
        found = steps[".".join(parts[: i + 1])]
        steps = found["steps"] if i % 2 else found["branches"]
    return found


def test_10_parallel(example, cli):
    folder = example("10-parallel")
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "p1", cwd=folder)
    assert done.code == 0, done.output
    assert "best model: forest" in done.stdout
    log = cli.run_log("p1", folder)
    assert values(log) == {"rows": 1000, "linear_score": 0.81, "forest_score": 0.87, "best": "forest"}
    assert log["parameters"]["forest_score"]["kind"] == "metric"
    branches = log["steps"]["train both"]["branches"]
    assert set(branches) == {"train both.linear", "train both.forest"}
    assert find(log, "train both.forest.fit")["attempts"][0]["user_defined_metrics"] == {"forest_score": 0.87}


def test_11_map(example, cli):
    folder = example("11-map")
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "m1", cwd=folder)
    assert done.code == 0, done.output
    assert "rows per chunk: [100, 200, 300, 400]; total 1000; largest chunk size 40" in done.stdout
    log = cli.run_log("m1", folder)
    assert values(log)["rows"] == [100, 200, 300, 400]
    assert values(log)["size"] == 40
    assert list(log["steps"]["process"]["branches"]) == [f"process.{i}" for i in range(4)]
    third = find(log, "process.2.count")
    assert third["attempts"][0]["input_parameters"]["chunk"]["value"] == 3
    assert log["steps"]["process"]["branches"]["process.2"]["parameters"]["chunk"]["value"] == 3


def test_12_conditional(example, cli):
    folder = example("12-conditional")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "c1", cwd=folder)
    assert done.code == 0, done.output
    log = cli.run_log("c1", folder)
    assert values(log)["outcome"] == "won"
    assert list(log["steps"]["route"]["branches"]) == ["route.heads"]
    env = cli.env(STEPLINE_PRM_side="edge")
    (folder / "pipeline.yaml").write_text((folder / "pipeline.yaml").read_text().replace(
        "command: export side=heads", "command: export side=${side:-heads}"))
    done = cli.run("execute", "pipeline.yaml", "--run-id", "c2", cwd=folder, env=env)
    assert done.code == 0, done.output
    log = cli.run_log("c2", folder)
    assert values(log)["outcome"] == "unknown"
    assert list(log["steps"]["route"]["branches"]) == ["route.default"]


def test_13_loop(example, cli):
    folder = example("13-loop")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "l1", cwd=folder)
    assert done.code == 0, done.output
    assert "iteration 2: score 0.9" in done.stdout
    log = cli.run_log("l1", folder)
    assert values(log) == {"score": 0.9, "good_enough": True}
    assert list(log["steps"]["improve"]["branches"]) == ["improve.0", "improve.1", "improve.2"]
    # reaching max_iterations ends the loop with the last iteration's status, as in runnable ...
    text = (folder / "pipeline.yaml").read_text().replace("max_iterations: 5", "max_iterations: 2")
    (folder / "pipeline.yaml").write_text(text)
    done = cli.run("execute", "pipeline.yaml", "--run-id", "l2", cwd=folder)
    assert done.code == 0, done.output
    log = cli.run_log("l2", folder)
    assert log["steps"]["improve"]["message"] == "reached max_iterations (2) before 'good_enough' became true"
    assert values(log)["good_enough"] is False
    # ... unless the loop says that is a failure
    (folder / "pipeline.yaml").write_text(text.replace("max_iterations: 2", "max_iterations: 2\n      "
                                                                            "fail_on_max_iterations: true"))
    done = cli.run("execute", "pipeline.yaml", "--run-id", "l3", cwd=folder)
    assert done.code == 1
    assert "reached max_iterations (2)" in done.stderr


def test_14_nested_dag(example, cli):
    folder = example("14-nested-dag")
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "n1", cwd=folder)
    assert done.code == 0, done.output
    assert "loading data-for-us" in done.stdout
    log = cli.run_log("n1", folder)
    assert values(log)["loaded"] == ["data-for-eu-loaded", "data-for-us-loaded", "data-for-apac-loaded"]
    assert find(log, "per region.1.etl.dag.load")["status"] == "SUCCESS"


def test_composite_examples_validate(example, cli):
    for name in ("10-parallel", "11-map", "12-conditional", "13-loop", "14-nested-dag"):
        done = cli.run("validate", "pipeline.yaml", cwd=example(name))
        assert done.code == 0, done.output
        assert done.stdout.startswith("ok: ")
