"""The mlflow tracker passes the experiment tracker kit (stepline.testing.tracker), on sqlite."""

from __future__ import annotations

import pytest
from stepline.testing.tracker import ExperimentTrackerContract, Recorded
from stepline_mlflow.tracker import MlflowTracker

_STATUS = {"FINISHED": "SUCCESS", "FAILED": "FAIL"}


class TestMlflowTracker(ExperimentTrackerContract):
    @pytest.fixture
    def tracker(self, tracking_uri):
        return MlflowTracker.from_config({"tracking_uri": tracking_uri})

    @pytest.fixture
    def recorded(self, reader):
        def read(run_id: str) -> Recorded:
            experiment = reader.get_experiment_by_name("stepline")
            runs = reader.search_runs([experiment.experiment_id],
                                      filter_string=f"tags.`stepline.run_id` = '{run_id}'")
            parent = next(r for r in runs if r.data.tags["stepline.level"] == "pipeline")
            metrics: dict[str, list[tuple[int, float]]] = {}
            for run in runs:  # the pipeline run and its nested runs per branch
                for name in run.data.metrics:
                    history = sorted(reader.get_metric_history(run.info.run_id, name), key=lambda m: m.timestamp)
                    metrics.setdefault(name, []).extend((m.step, m.value) for m in history)
            return Recorded(parameters=dict(parent.data.params), metrics=metrics,
                            status=_STATUS.get(parent.info.status))
        return read
