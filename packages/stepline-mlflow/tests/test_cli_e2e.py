"""examples/32-mlflow-tracking run through the ``stepline`` CLI; metrics read back with MlflowClient."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stepline.testing.cli import clean_env, copy_example, stepline

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "32-mlflow-tracking"


def test_example_32_logs_params_series_metric_returns_and_nested_map_runs(tmp_path, tracking_uri, reader):
    folder = copy_example(EXAMPLE, tmp_path)
    env = {**clean_env("MLFLOW_"), "MLFLOW_TRACKING_URI": tracking_uri}
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", "ml-e2e",
                    cwd=folder, env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    experiment = reader.get_experiment_by_name("stepline-examples")
    runs = reader.search_runs([experiment.experiment_id], filter_string="tags.`stepline.run_id` = 'ml-e2e'")
    parent = [r for r in runs if r.data.tags["stepline.level"] == "pipeline"]
    assert len(parent) == 1
    parent = parent[0]
    assert parent.info.status == "FINISHED" and parent.info.run_name == "ml-e2e"
    assert parent.data.params == {"epochs": "3", "learning_rates": "[0.1, 0.01]"}
    loss = sorted((m.step, m.value) for m in reader.get_metric_history(parent.info.run_id, "loss"))
    assert loss == [(0, 0.5), (1, 0.25), (2, 0.125)]
    assert parent.data.metrics["final_loss"] == 0.125

    children = {r.info.run_name: r for r in runs if r.data.tags["stepline.level"] == "branch"}
    assert sorted(children) == ["sweep.0", "sweep.1"]
    assert {name: c.data.metrics for name, c in children.items()} == \
        {"sweep.0": {"score": 0.9}, "sweep.1": {"score": 0.99}}
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id and c.info.status == "FINISHED"
               for c in children.values())

    # the run log holds the same metrics, and records the tracker
    shown = stepline("runs", "show", "ml-e2e", "--json", "-c", "config.yaml", cwd=folder, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "SUCCESS"
    assert "final_loss" in shown.stdout and '"mlflow"' in shown.stdout


def test_default_config_writes_under_dot_stepline(tmp_path, template_db):
    folder = copy_example(EXAMPLE, tmp_path)
    (folder / ".stepline").mkdir()
    shutil.copy(template_db, folder / ".stepline" / "mlflow.db")  # skip the ~5 s schema migration
    env = clean_env("MLFLOW_")
    done = stepline("execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", "ml-default",
                    cwd=folder, env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    from mlflow.tracking import MlflowClient

    reader = MlflowClient(tracking_uri=f"sqlite:///{folder / '.stepline' / 'mlflow.db'}")
    experiment = reader.get_experiment_by_name("stepline-examples")
    runs = reader.search_runs([experiment.experiment_id], filter_string="tags.`stepline.run_id` = 'ml-default'")
    assert len(runs) == 3  # the pipeline's run and one per map iteration
