"""The experiment tracker contract, as a pytest suite a tracker package subclasses.

Usage, in a tracker package's tests::

    from stepline.testing.tracker import ExperimentTrackerContract, Recorded

    class TestMyTracker(ExperimentTrackerContract):
        @pytest.fixture
        def tracker(self, tmp_path):
            return MyTracker.from_config({"folder": str(tmp_path / "tracking")})

        @pytest.fixture
        def recorded(self, tracker):
            def read(run_id):
                ...  # read the backend's own records back, with its own client
                return Recorded(parameters=..., metrics=..., status=...)
            return read

The ``tracker`` fixture returns a tracker with nothing recorded; ``recorded(run_id)`` returns what
the backend holds for a pipeline run, as a :class:`Recorded`: the run's parameters (names as the
backend stores them, values as text), every metric of the run (branch steps' included) as
``(step, value)`` pairs in logging order, and its final status (``SUCCESS``/``FAIL``, or None while
running).

The contract: parameters given to ``start_run`` are recorded once, by the first ``start_run`` of a
run (steps running elsewhere call it again, harmlessly); every ``log_metric`` is recorded with its
step (0 when none is given), whether or not ``start_run`` was called first, from any process and
from branch steps (``step_name="fan.0.square"``); ``end_run`` records the status; two runs do not
mix; a tracker rebuilt as ``type(tracker)(tracker.settings)`` in another process logs into the same
run; ``describe()`` is JSON and names the type.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from stepline.tracking.base import ExperimentTracker


@dataclass
class Recorded:
    """What a tracker holds for one pipeline run."""

    parameters: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    status: str | None = None


def _log_in_child(recipe, run_id: str, value: float) -> None:
    cls, settings = recipe
    tracker = cls(settings)
    tracker.start_run(run_id, {"lr": 0.1}, {})
    tracker.log_metric(run_id, "child", value, step=1, step_name="train")


class ExperimentTrackerContract:
    """Behaviour every experiment tracker must have. Override ``tracker`` and ``recorded``."""

    @pytest.fixture
    def tracker(self) -> ExperimentTracker:
        pytest.fail("an ExperimentTrackerContract subclass must provide the 'tracker' fixture", pytrace=False)

    @pytest.fixture
    def recorded(self) -> Callable[[str], Recorded]:
        pytest.fail("an ExperimentTrackerContract subclass must provide the 'recorded' fixture", pytrace=False)

    def test_parameters_metrics_and_status_of_a_run(self, tracker, recorded):
        tracker.start_run("run-1", {"lr": 0.1, "epochs": 3}, {"team": "ml"})
        tracker.log_metric("run-1", "loss", 0.5, step=1, step_name="train")
        tracker.log_metric("run-1", "loss", 0.25, step=2, step_name="train")
        tracker.log_metric("run-1", "accuracy", 0.9, step_name="evaluate")
        tracker.end_run("run-1", "SUCCESS")
        found = recorded("run-1")
        assert {"lr", "epochs"} <= set(found.parameters)
        assert found.metrics["loss"] == [(1, 0.5), (2, 0.25)]
        assert found.metrics["accuracy"] == [(0, 0.9)]
        assert found.status == "SUCCESS"

    def test_a_failed_run_is_recorded_failed(self, tracker, recorded):
        tracker.start_run("run-f", {}, {})
        tracker.end_run("run-f", "FAIL")
        assert recorded("run-f").status == "FAIL"

    def test_start_run_again_keeps_the_first_parameters_and_every_metric(self, tracker, recorded):
        tracker.start_run("run-2", {"x": 1}, {})
        tracker.log_metric("run-2", "m", 1.0, step=0, step_name="a")
        again = type(tracker)(tracker.settings)  # another step's process: no memory of the first
        again.start_run("run-2", {"x": 2}, {})
        again.log_metric("run-2", "m", 2.0, step=1, step_name="b")
        found = recorded("run-2")
        assert found.parameters["x"] == "1"
        assert found.metrics["m"] == [(0, 1.0), (1, 2.0)]

    def test_a_metric_without_start_run_is_recorded(self, tracker, recorded):
        tracker.log_metric("run-3", "m", 3.0, step_name="s")
        assert recorded("run-3").metrics["m"] == [(0, 3.0)]

    def test_metrics_of_branch_steps_are_recorded(self, tracker, recorded):
        tracker.start_run("run-4", {}, {})
        for i in range(3):
            tracker.log_metric("run-4", "square", float(i * i), step=i, step_name=f"fan.{i}.square")
        tracker.end_run("run-4", "SUCCESS")
        assert sorted(recorded("run-4").metrics["square"]) == [(0, 0.0), (1, 1.0), (2, 4.0)]

    def test_two_runs_do_not_mix(self, tracker, recorded):
        tracker.start_run("run-a", {"which": "a"}, {})
        tracker.start_run("run-b", {"which": "b"}, {})
        tracker.log_metric("run-a", "m", 1.0, step_name="s")
        tracker.log_metric("run-b", "m", 2.0, step_name="s")
        assert recorded("run-a").metrics["m"] == [(0, 1.0)] and recorded("run-a").parameters["which"] == "a"
        assert recorded("run-b").metrics["m"] == [(0, 2.0)] and recorded("run-b").parameters["which"] == "b"

    def test_a_tracker_rebuilt_in_another_process_logs_into_the_same_run(self, tracker, recorded):
        tracker.start_run("run-5", {"lr": 0.1}, {})
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=_log_in_child, args=((type(tracker), tracker.settings), "run-5", 7.0))
        child.start()
        child.join(timeout=120)
        assert child.exitcode == 0
        tracker.log_metric("run-5", "parent", 1.0, step_name="s")
        found = recorded("run-5")
        assert found.metrics["child"] == [(1, 7.0)] and found.metrics["parent"] == [(0, 1.0)]

    def test_describe_is_json_and_names_the_type(self, tracker):
        described = tracker.describe()
        assert described["type"] == tracker.name
        json.dumps(described)
