"""The run log store contract, as a pytest suite a backend subclasses.

Usage, in a backend's tests::

    from stepline.testing.runlog import RunLogStoreContract

    class TestMyStore(RunLogStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore.from_config({"location": str(tmp_path)})

The fixture must return a fresh, empty store for every test. For the many-process tests the kit
rebuilds the store in child processes as ``type(store)(store.settings)`` (spawned, so they see
``os.environ`` as it is when the test runs); a store built from its settings must therefore reach
the same data. Stores whose ``locality`` is ``PROCESS`` are instead checked to be invisible from
another process, which is what that locality promises.

The contract: a run is created once (a second create of its id, even racing from another process,
fails); a run log comes back as written (run fields, parameters with their JSON types, step logs in
execution order, branch logs nested under their step at any depth, branch parameters overlaying the
run's, steps written with their branch's log nested as if written alone, the steps of a branch not
recorded yet under it as PROCESSING); writing a step or branch again replaces it; an unknown run is a RunNotFoundError; runs do not
share records; runs are listed oldest first and queried newest first, paged and filtered; many
threads and processes write steps of one run at once without losing any; a reader never sees a
half-written record.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from stepline.component import Locality
from stepline.errors import RunNotFoundError, StepLineError
from stepline.runlog.base import RunLogStore
from stepline.runlog.listing import RunQuery
from stepline.runlog.models import Attempt, BranchLog, DataCatalogItem, Parameter, RunLog, Status, StepLog

#: Sizes of the concurrency tests; small enough for CI on 2 cores, big enough to catch races.
THREADS = 8
PROCESSES = 3
STEPS_PER_WRITER = 15


def make_step(internal_name: str, *, status: Status = Status.SUCCESS, payload: str = "") -> StepLog:
    """A realistic step log: one attempt with parameters and metrics, one catalog item."""
    name = internal_name.rpartition(".")[2]
    attempt = Attempt(status=status, end_time="2026-01-01T00:00:01+00:00", message=payload,
                      input_parameters={"x": Parameter(value=1)},
                      output_parameters={"y": Parameter(value={"nested": [1, 2, payload]})},
                      user_defined_metrics={"loss": 0.5})
    return StepLog(name=name, internal_name=internal_name, status=status, attempts=[attempt],
                   data_catalog=[DataCatalogItem(name="data/x.csv", data_hash="0" * 64)])


def _rebuild(recipe: tuple[type[RunLogStore], Any]) -> RunLogStore:
    cls, settings = recipe
    return cls(settings)


def _write_steps_in_child(recipe, run_id: str, prefix: str, count: int) -> None:
    store = _rebuild(recipe)
    for i in range(count):
        store.put_step_log(run_id, make_step(f"{prefix}{i}"))


def _child_sees_run(recipe, run_id: str) -> bool:
    return _rebuild(recipe).run_exists(run_id)


class RunLogStoreContract:
    """Behaviour every run log store must have. Override the ``store`` fixture."""

    @pytest.fixture
    def store(self, tmp_path) -> RunLogStore:
        raise NotImplementedError("a RunLogStoreContract subclass must provide the 'store' fixture")

    # ---- helpers --------------------------------------------------------------------------------
    @staticmethod
    def new_run(store: RunLogStore, run_id: str = "run-1", **fields: Any) -> RunLog:
        run = RunLog(run_id=run_id, **fields)
        store.create_run_log(run)
        return run

    # ---- create / get / update ------------------------------------------------------------------
    def test_create_then_get_run(self, store):
        self.new_run(store, tag="nightly", pipeline_file="pipeline.yaml", run_config={"executor": {"type": "local"}})
        run = store.get_run("run-1")
        assert (run.run_id, run.tag, run.pipeline_file, run.status) == ("run-1", "nightly", "pipeline.yaml",
                                                                          Status.CREATED)
        assert run.run_config == {"executor": {"type": "local"}}
        assert store.run_exists("run-1")

    def test_whole_run_log_of_a_new_run_has_no_steps(self, store):
        self.new_run(store)
        whole = store.get_run_log("run-1")
        assert whole.run_id == "run-1" and whole.steps == {}

    def test_unknown_run_raises_run_not_found(self, store):
        assert not store.run_exists("nope")
        with pytest.raises(RunNotFoundError, match="nope"):
            store.get_run("nope")
        with pytest.raises(RunNotFoundError, match="nope"):
            store.get_run_log("nope")

    def test_duplicate_run_id_is_rejected(self, store):
        self.new_run(store, tag="first")
        store.set_parameters("run-1", {"a": Parameter(value=1)})
        with pytest.raises(StepLineError, match="run-1"):
            self.new_run(store, tag="second")
        # the first run is untouched, parameters included
        assert store.get_run("run-1").tag == "first"
        assert store.get_parameters("run-1") == {"a": Parameter(value=1)}

    def test_racing_creators_of_one_run_id_get_exactly_one_win(self, store):
        barrier = threading.Barrier(THREADS)
        outcomes: list[str] = []

        def creator(t: int) -> None:
            barrier.wait(timeout=30)
            try:
                store.create_run_log(RunLog(run_id="raced", tag=f"creator-{t}"))
                outcomes.append(f"creator-{t}")
            except StepLineError:
                outcomes.append("refused")

        threads = [threading.Thread(target=creator, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = [o for o in outcomes if o != "refused"]
        assert len(outcomes) == THREADS and len(winners) == 1, outcomes
        assert store.get_run("raced").tag == winners[0]

    def test_update_run_changes_fields_and_keeps_the_rest(self, store):
        self.new_run(store, tag="t")
        store.put_step_log("run-1", make_step("one"))
        updated = store.update_run("run-1", status=Status.SUCCESS, end_time="2026-01-01T00:00:02+00:00",
                                   message="done")
        assert updated.status == Status.SUCCESS
        run = store.get_run("run-1")
        assert (run.status, run.end_time, run.message, run.tag) == (Status.SUCCESS, "2026-01-01T00:00:02+00:00",
                                                                    "done", "t")
        assert "one" in store.get_run_log("run-1").steps  # updating the run keeps its step logs

    # ---- step logs ------------------------------------------------------------------------------
    def test_step_log_round_trip(self, store):
        self.new_run(store)
        step = make_step("hello")
        store.put_step_log("run-1", step)
        assert store.get_step_log("run-1", "hello") == step
        assert store.get_run_log("run-1").steps["hello"] == step

    def test_missing_step_log_is_none(self, store):
        self.new_run(store)
        assert store.get_step_log("run-1", "absent") is None

    def test_put_step_log_again_replaces_it(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("s", status=Status.PROCESSING))
        store.put_step_log("run-1", make_step("s", status=Status.FAIL, payload="second"))
        found = store.get_step_log("run-1", "s")
        assert found.status == Status.FAIL and found.attempts[0].message == "second"
        assert list(store.get_run_log("run-1").steps) == ["s"]

    def test_step_names_with_spaces_slashes_and_unicode(self, store):
        self.new_run(store)
        names = ["with space", "a/b", "süß-λ", "percent%20sign"]
        for name in names:
            store.put_step_log("run-1", make_step(name))
        assert sorted(store.get_run_log("run-1").steps) == sorted(names)
        assert all(store.get_step_log("run-1", n).internal_name == n for n in names)

    def test_top_level_steps_keep_execution_order(self, store):
        self.new_run(store)
        for i, name in enumerate(["zeta", "alpha", "mid"]):
            step = make_step(name)
            step.attempts[0].start_time = f"2026-01-01T00:00:0{i}+00:00"
            store.put_step_log("run-1", step)
        assert list(store.get_run_log("run-1").steps) == ["zeta", "alpha", "mid"]

    def test_runs_do_not_share_step_logs(self, store):
        self.new_run(store, "run-a")
        self.new_run(store, "run-b")
        store.put_step_log("run-a", make_step("only-in-a"))
        assert store.get_step_log("run-b", "only-in-a") is None
        assert store.get_run_log("run-b").steps == {}

    # ---- branch logs and nesting ----------------------------------------------------------------
    def test_map_iteration_nests_under_its_step(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("fan"))
        store.put_branch_log("run-1", BranchLog(internal_name="fan.3", status=Status.SUCCESS))
        store.put_step_log("run-1", make_step("fan.3.square"))
        whole = store.get_run_log("run-1")
        assert list(whole.steps) == ["fan"]
        branch = whole.steps["fan"].branches["fan.3"]
        assert branch.status == Status.SUCCESS
        assert list(branch.steps) == ["fan.3.square"]
        assert whole.find_step("fan.3.square").name == "square"

    def test_deeply_nested_branches(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("outer"))
        store.put_branch_log("run-1", BranchLog(internal_name="outer.a"))
        store.put_step_log("run-1", make_step("outer.a.inner"))
        store.put_branch_log("run-1", BranchLog(internal_name="outer.a.inner.7"))
        store.put_step_log("run-1", make_step("outer.a.inner.7.leaf"))
        whole = store.get_run_log("run-1")
        leaf = whole.steps["outer"].branches["outer.a"].steps["outer.a.inner"].branches[
            "outer.a.inner.7"].steps["outer.a.inner.7.leaf"]
        assert leaf.name == "leaf"
        assert whole.find_step("outer.a.inner.7.leaf") == leaf

    def test_map_branches_in_natural_order(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("fan"))
        for i in (10, 2, 1):
            store.put_branch_log("run-1", BranchLog(internal_name=f"fan.{i}"))
        assert list(store.get_run_log("run-1").steps["fan"].branches) == ["fan.1", "fan.2", "fan.10"]

    def test_steps_written_with_their_branch_log_nest_in_execution_order(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("fan"))
        square = make_step("fan.3.square")
        square.attempts[0].start_time = "2026-01-01T00:00:00+00:00"
        end = make_step("fan.3.success")
        end.attempts[0].start_time = "2026-01-01T00:00:02+00:00"
        store.put_step_log("run-1", square)
        store.put_branch_log("run-1", BranchLog(internal_name="fan.3", status=Status.SUCCESS), with_steps=[end])
        branch = store.get_run_log("run-1").steps["fan"].branches["fan.3"]
        assert list(branch.steps) == ["fan.3.square", "fan.3.success"]
        assert branch.steps["fan.3.success"] == end
        assert store.get_branch_log("run-1", "fan.3").steps == {}  # a branch log is read without its steps

    def test_a_step_written_with_its_branch_log_overrides_its_own_start_record(self, store):
        # a leaf that ran on wrote its start (PROCESSING); its end went out with the branch's record
        self.new_run(store)
        store.put_step_log("run-1", make_step("fan"))
        store.put_step_log("run-1", make_step("fan.1.work", status=Status.PROCESSING))
        done = make_step("fan.1.work")
        store.put_branch_log("run-1", BranchLog(internal_name="fan.1", status=Status.SUCCESS),
                             with_steps=[done, make_step("fan.1.success")])
        branch = store.get_run_log("run-1").steps["fan"].branches["fan.1"]
        assert branch.steps["fan.1.work"] == done
        assert branch.status == Status.SUCCESS

    def test_steps_of_a_branch_not_recorded_yet_show_under_it_as_processing(self, store):
        # a branch whose log nothing reads before it ends writes it only then; a crash before that
        # must not hide the steps it recorded (a re-run skips those that succeeded)
        self.new_run(store)
        store.put_step_log("run-1", make_step("fan"))
        store.put_step_log("run-1", make_step("fan.4.fork"))
        store.put_step_log("run-1", make_step("fan.4.fork.left.leaf"))
        fan = store.get_run_log("run-1").steps["fan"]
        assert fan.branches["fan.4"].status == Status.PROCESSING
        fork = fan.branches["fan.4"].steps["fan.4.fork"]
        assert fork.branches["fan.4.fork.left"].status == Status.PROCESSING
        assert list(fork.branches["fan.4.fork.left"].steps) == ["fan.4.fork.left.leaf"]

    def test_top_level_run_log_has_the_pipeline_steps_without_branches(self, store):
        long = "x" * 300  # a name too long for a file name is stored under a hash
        self.new_run(store, parameters={"n": Parameter(value=1)})
        for name in ("first", "fan", long, f"fan.0.{long}", "fan.1.work", f"{long}.a.leaf"):
            store.put_step_log("run-1", make_step(name))
        store.put_branch_log("run-1", BranchLog(internal_name="fan.0"), with_steps=[make_step("fan.0.success")])
        top = store.get_run_log("run-1", top_level=True)
        assert list(top.steps) == ["first", "fan", long]
        assert all(step.branches == {} for step in top.steps.values())
        assert top.parameters == {"n": Parameter(value=1)}
        assert top.steps["fan"] == store.get_run_log("run-1").steps["fan"].model_copy(update={"branches": {}})

    def test_branch_logs_written_once_read_back_and_a_later_write_wins(self, store):
        # a sealed branch's only record (put once, when it ends) may be kept apart by the store: every
        # read still sees it, and the record of a branch whose worker died after writing it wins
        self.new_run(store, parameters={"n": Parameter(value=0)})
        store.put_step_log("run-1", make_step("fan"))
        work = [make_step(f"fan.{i}.work") for i in range(3)]
        for i in range(3):
            store.put_branch_log("run-1", BranchLog(internal_name=f"fan.{i}", status=Status.SUCCESS,
                                                    parameters={"x": Parameter(value=i)}),
                                 with_steps=[work[i]], once=True)
        branches = store.get_run_log("run-1").steps["fan"].branches
        assert list(branches) == ["fan.0", "fan.1", "fan.2"]
        assert branches["fan.2"].steps == {"fan.2.work": work[2]}
        assert store.get_branch_log("run-1", "fan.1").parameters == {"x": Parameter(value=1)}
        assert store.get_parameters("run-1", "fan.2") == {"n": Parameter(value=0), "x": Parameter(value=2)}
        assert store.get_run_log("run-1", top_level=True).steps["fan"].branches == {}
        store.put_branch_log("run-1", BranchLog(internal_name="fan.1", status=Status.FAIL, message="lost"))
        assert store.get_branch_log("run-1", "fan.1").status == Status.FAIL
        assert store.get_run_log("run-1").steps["fan"].branches["fan.1"].status == Status.FAIL

    def test_branch_log_round_trip_and_replace(self, store):
        self.new_run(store)
        store.put_branch_log("run-1", BranchLog(internal_name="par.left", status=Status.PROCESSING))
        store.put_branch_log("run-1", BranchLog(internal_name="par.left", status=Status.FAIL, message="boom"))
        found = store.get_branch_log("run-1", "par.left")
        assert (found.status, found.message) == (Status.FAIL, "boom")
        assert store.get_branch_log("run-1", "par.right") is None

    # ---- parameters -----------------------------------------------------------------------------
    def test_run_parameters_given_at_creation(self, store):
        self.new_run(store, parameters={"n": Parameter(value=3), "m": Parameter(kind="metric", value=0.1)})
        assert store.get_parameters("run-1") == {"n": Parameter(value=3), "m": Parameter(kind="metric", value=0.1)}
        assert store.get_run("run-1").parameters["n"].value == 3
        assert store.get_run_log("run-1").parameters["m"].kind == "metric"

    def test_set_run_parameters_replaces_them(self, store):
        self.new_run(store, parameters={"n": Parameter(value=3)})
        store.set_parameters("run-1", {"n": Parameter(value=4), "obj": Parameter(kind="object", value="run-1/obj")})
        assert store.get_parameters("run-1") == {"n": Parameter(value=4),
                                                 "obj": Parameter(kind="object", value="run-1/obj")}

    def test_parameter_values_keep_their_json_types(self, store):
        values = {"s": "text \"quoted\" ü", "i": 1, "f": 1.5, "b": True, "none": None, "l": [1, "a"],
                  "d": {"k": {"deep": [1.25]}}}
        self.new_run(store, parameters={k: Parameter(value=v) for k, v in values.items()})
        assert {k: p.value for k, p in store.get_parameters("run-1").items()} == values

    def test_branch_parameters_overlay_the_run(self, store):
        self.new_run(store, parameters={"n": Parameter(value=1)})
        store.put_step_log("run-1", make_step("fan"))
        store.set_parameters("run-1", {"item": Parameter(value=3)}, branch="fan.3")
        store.set_parameters("run-1", {"item": Parameter(value=4)}, branch="fan.4")
        assert store.get_parameters("run-1", branch="fan.3") == {"n": Parameter(value=1), "item": Parameter(value=3)}
        assert store.get_parameters("run-1", branch="fan.4") == {"n": Parameter(value=1), "item": Parameter(value=4)}
        assert store.get_parameters("run-1") == {"n": Parameter(value=1)}
        assert store.get_parameters("run-1", branch="fan.9") == {"n": Parameter(value=1)}
        whole = store.get_run_log("run-1")
        assert whole.steps["fan"].branches["fan.3"].parameters == {"item": Parameter(value=3)}

    def test_nested_branches_see_every_enclosing_overlay(self, store):
        self.new_run(store, parameters={"n": Parameter(value=1), "m": Parameter(value=1)})
        store.set_parameters("run-1", {"item": Parameter(value=2), "m": Parameter(value=2)}, branch="fan.2")
        store.set_parameters("run-1", {"side": Parameter(value="l")}, branch="fan.2.fork.left")
        store.update_parameters("run-1", {"m": Parameter(value=3)}, branch="fan.2.fork.left")
        assert {k: p.value for k, p in store.get_parameters("run-1", branch="fan.2.fork.left").items()} == \
            {"n": 1, "m": 3, "item": 2, "side": "l"}
        assert store.get_parameters("run-1", branch="fan.2")["m"].value == 2

    def test_branch_parameters_keep_the_branch_status(self, store):
        self.new_run(store)
        store.put_branch_log("run-1", BranchLog(internal_name="fan.0", status=Status.PROCESSING))
        store.set_parameters("run-1", {"item": Parameter(value=0)}, branch="fan.0")
        assert store.get_branch_log("run-1", "fan.0").status == Status.PROCESSING

    # ---- listing --------------------------------------------------------------------------------
    def test_list_runs_of_an_empty_store(self, store):
        assert store.list_runs() == []

    def test_list_runs_oldest_first_without_step_logs(self, store):
        for run_id, start in [("b", "2026-01-02T00:00:00+00:00"), ("a", "2026-01-03T00:00:00+00:00"),
                              ("c", "2026-01-01T00:00:00+00:00")]:
            self.new_run(store, run_id, start_time=start)
            store.put_step_log(run_id, make_step("s"))
        store.update_run("a", status=Status.SUCCESS)
        runs = store.list_runs()
        assert [r.run_id for r in runs] == ["c", "b", "a"]
        assert runs[2].status == Status.SUCCESS
        assert all(r.steps == {} for r in runs)

    # ---- listing (query_runs) -------------------------------------------------------------------
    def _listing_runs(self, store: RunLogStore) -> None:
        """Six runs over three days: statuses, tags, a re-run, one with many step logs."""
        rows = [("r1", "2026-01-01T08:00:00+00:00", Status.SUCCESS, "nightly", ""),
                ("r2", "2026-01-01T20:00:00+00:00", Status.FAIL, "nightly", ""),
                ("r3", "2026-01-02T09:30:00+00:00", Status.SUCCESS, "", "r2"),
                ("r4", "2026-01-02T23:59:59+00:00", Status.PROCESSING, "adhoc", ""),
                ("r5", "2026-01-03T00:00:00+00:00", Status.FAIL, "", ""),
                ("r6", "2026-01-03T12:00:00+01:00", Status.SUCCESS, "nightly", "")]
        for run_id, start, status, tag, original in rows:
            self.new_run(store, run_id, start_time=start, tag=tag, original_run_id=original,
                         parameters={"x": Parameter(value=run_id)})
            store.update_run(run_id, status=status, end_time=start.replace("00+", "01+", 1)
                             if start.endswith(":00+00:00") else None)
        for i in range(30):
            store.put_step_log("r3", make_step(f"s{i}", payload="p" * 200))

    def test_query_runs_of_an_empty_store(self, store):
        page = store.query_runs(RunQuery(limit=10))
        assert page.runs == [] and page.total == 0

    def test_query_runs_newest_first_with_summaries(self, store):
        self._listing_runs(store)
        page = store.query_runs()
        assert [r.run_id for r in page.runs] == ["r6", "r5", "r4", "r3", "r2", "r1"] and page.total == 6
        r3 = next(r for r in page.runs if r.run_id == "r3")
        assert (r3.status, r3.original_run_id, r3.tag) == (Status.SUCCESS, "r2", "")
        assert next(r for r in page.runs if r.run_id == "r4").status == Status.PROCESSING

    def test_query_runs_sees_changes_since_the_last_listing(self, store):
        self.new_run(store, "a", start_time="2026-01-01T00:00:00+00:00")
        assert [r.status for r in store.query_runs().runs] == [Status.CREATED]
        store.update_run("a", status=Status.SUCCESS, tag="later")
        self.new_run(store, "b", start_time="2026-01-02T00:00:00+00:00")
        listed = store.query_runs().runs
        assert [(r.run_id, r.status, r.tag) for r in listed] == [("b", Status.CREATED, ""), ("a", Status.SUCCESS, "later")]

    def test_query_runs_pages_and_counts(self, store):
        self._listing_runs(store)
        first = store.query_runs(RunQuery(limit=4))
        second = store.query_runs(RunQuery(limit=4, offset=4))
        assert [r.run_id for r in first.runs] == ["r6", "r5", "r4", "r3"] and first.total == 6
        assert [r.run_id for r in second.runs] == ["r2", "r1"] and second.total == 6
        oldest = store.query_runs(RunQuery(limit=2, newest_first=False))
        assert [r.run_id for r in oldest.runs] == ["r1", "r2"]

    def test_query_runs_filters_by_status_tag_and_start_day(self, store):
        self._listing_runs(store)

        def ids(**fields):
            page = store.query_runs(RunQuery(**fields))
            assert page.total == len(page.runs)
            return sorted(r.run_id for r in page.runs)

        assert ids(statuses=frozenset({Status.FAIL})) == ["r2", "r5"]
        assert ids(statuses=frozenset({Status.FAIL, Status.PROCESSING})) == ["r2", "r4", "r5"]
        assert ids(tag="nightly") == ["r1", "r2", "r6"]
        assert ids(tag="nightly", statuses=frozenset({Status.SUCCESS})) == ["r1", "r6"]
        # r6 started 12:00+01:00, i.e. 11:00 UTC on the 3rd; a bare date is midnight UTC
        assert ids(since="2026-01-02", until="2026-01-03") == ["r3", "r4"]
        assert ids(since="2026-01-03T11:00:00+00:00") == ["r6"]
        assert ids(until="2026-01-01T20:00:00+00:00") == ["r1"]

    # ---- concurrency and atomicity --------------------------------------------------------------
    def test_many_threads_write_step_logs_of_one_run(self, store):
        self.new_run(store)
        errors: list[BaseException] = []

        def writer(t: int) -> None:
            try:
                for i in range(STEPS_PER_WRITER):
                    store.put_step_log("run-1", make_step(f"fan.{t}.s{i}"))
                store.put_branch_log("run-1", BranchLog(internal_name=f"fan.{t}", status=Status.SUCCESS))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        store.put_step_log("run-1", make_step("fan"))
        threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[0]
        branches = store.get_run_log("run-1").steps["fan"].branches
        assert sorted(branches) == sorted(f"fan.{t}" for t in range(THREADS))
        for t in range(THREADS):
            assert len(branches[f"fan.{t}"].steps) == STEPS_PER_WRITER

    def test_many_processes_write_step_logs_of_one_run(self, store):
        self.new_run(store)
        recipe = (type(store), store.settings)
        ctx = multiprocessing.get_context("spawn")
        if store.locality == Locality.PROCESS:
            # what PROCESS locality promises: another process does not see this process's runs
            with ctx.Pool(1) as pool:
                assert pool.apply(_child_sees_run, (recipe, "run-1")) is False
            return
        with ctx.Pool(PROCESSES) as pool:
            jobs = [pool.apply_async(_write_steps_in_child, (recipe, "run-1", f"p{p}-", STEPS_PER_WRITER))
                    for p in range(PROCESSES)]
            # this process writes at the same time
            for i in range(STEPS_PER_WRITER):
                store.put_step_log("run-1", make_step(f"parent-{i}"))
            for job in jobs:
                job.get(timeout=180)
        steps = store.get_run_log("run-1").steps
        expected = {f"p{p}-{i}" for p in range(PROCESSES) for i in range(STEPS_PER_WRITER)}
        expected |= {f"parent-{i}" for i in range(STEPS_PER_WRITER)}
        assert set(steps) == expected

    def test_readers_never_see_a_half_written_record(self, store):
        self.new_run(store)
        store.put_step_log("run-1", make_step("big", payload="x" * 50_000))
        stop = threading.Event()
        problems: list[BaseException] = []
        reads = 0

        def writer(w: int) -> None:
            i = 0
            while not stop.is_set():
                try:
                    store.put_step_log("run-1", make_step("big", payload=str(w) * (50_000 + i % 7)))
                    store.put_step_log("run-1", make_step(f"w{w}-{i % 5}"))
                    store.set_parameters("run-1", {"i": Parameter(value=i), "blob": Parameter(value="y" * 10_000)})
                except BaseException as exc:  # noqa: BLE001
                    problems.append(exc)
                    return
                i += 1

        writers = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + 1.0
        try:
            while time.monotonic() < deadline or reads < 10:
                whole = store.get_run_log("run-1")
                step = store.get_step_log("run-1", "big")
                assert step is not None and len(step.attempts[0].message) >= 50_000
                assert whole.steps["big"].attempts[0].message[0] in "012x"
                store.get_parameters("run-1")
                reads += 1
                if time.monotonic() > deadline + 30:
                    break
        except (ValidationError, json.JSONDecodeError, ValueError) as exc:
            pytest.fail(f"a reader saw a half-written record: {exc}")
        finally:
            stop.set()
            for thread in writers:
                thread.join(timeout=60)
        assert not problems, problems[0]
        assert reads >= 10
