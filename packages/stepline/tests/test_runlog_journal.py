"""The chunked-fs store's journals: sealed branches' logs appended as lines, one journal per writing
process, read back like their own files, safe against a line cut short."""

import json
import os

import pytest
from stepline.run.execute import execute
from stepline.runlog import journal
from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
from stepline.runlog.models import BranchLog, Parameter, RunLog, Status, StepLog

USER_MODULES = "journal_"

MAP = """
    dag:
      start_at: fan
      steps:
        fan:
          type: map
          iterate_on: items
          iterate_as: x
          branch:
            start_at: work
            steps:
              work: {type: task, command: journal_steps.%s}
"""
STEPS = "def noop(x):\n    return None\n\ndef double(x):\n    return x * 2\n"


def _files(run_dir):
    return sorted(p.name for p in run_dir.iterdir())


@pytest.mark.parametrize("config, journals", [("{max_workers: 2}", {1, 2}), ("{enable_parallel: false}", {1})],
                         ids=["forked workers", "one process"])
def test_a_maps_sealed_branches_are_appended_to_a_journal_per_process(write, config, journals):
    write("journal_steps.py", STEPS)
    write("pipeline.yaml", MAP % "noop")
    write("config.yaml", f"executor: {{type: local, config: {config}}}\n")
    write("params.yaml", f"items: {list(range(40))}\n")
    log = execute("pipeline.yaml", "config.yaml", "params.yaml", quiet=True)
    assert log.status == Status.SUCCESS
    run_dir = ChunkedFileSystemRunLogStore().folder / log.run_id
    files = _files(run_dir)
    assert not [name for name in files if name.startswith("branch%2F")]
    assert len([name for name in files if journal.is_journal(name)]) in journals
    whole = ChunkedFileSystemRunLogStore().get_run_log(log.run_id)
    branches = whole.steps["fan"].branches
    assert list(branches) == [f"fan.{i}" for i in range(40)]
    for i, branch in enumerate(branches.values()):
        assert branch.status == Status.SUCCESS and branch.parameters["x"] == Parameter(value=i)
        assert list(branch.steps) == [f"fan.{i}.work", f"fan.{i}.success"]


def test_branches_whose_steps_return_values_keep_a_file_each(write):
    # not sealed: their logs are written when they start and read back by their steps
    write("journal_steps.py", STEPS)
    write("pipeline.yaml", (MAP % "double").replace("journal_steps.double}",
                                                    "journal_steps.double, returns: [y]}"))
    write("params.yaml", "items: [1, 2, 3]\n")
    log = execute("pipeline.yaml", None, "params.yaml", quiet=True)
    assert log.status == Status.SUCCESS
    files = _files(ChunkedFileSystemRunLogStore().folder / log.run_id)
    assert [name for name in files if name.startswith("branch%2F")] == [f"branch%2Ffan.{i}.json" for i in range(3)]
    assert not [name for name in files if journal.is_journal(name)]
    branches = ChunkedFileSystemRunLogStore().get_run_log(log.run_id).steps["fan"].branches
    assert [b.parameters["y"].value for b in branches.values()] == [2, 4, 6]


@pytest.fixture
def store(tmp_path):
    store = ChunkedFileSystemRunLogStore.from_config({"log_folder": str(tmp_path / "runs")})
    store.create_run_log(RunLog(run_id="r1", status=Status.PROCESSING))
    store.put_step_log("r1", StepLog(name="fan", internal_name="fan", status=Status.PROCESSING))
    return store


def _once(store, name: str, status: Status = Status.SUCCESS) -> None:
    store.put_branch_log("r1", BranchLog(internal_name=name, status=status), once=True)


def _journals(store) -> list:
    return sorted(p for p in (store.folder / "r1").iterdir() if journal.is_journal(p.name))


def test_a_line_cut_short_or_damaged_is_skipped(store):
    _once(store, "fan.0")
    [path] = _journals(store)
    with open(path, "ab") as handle:
        handle.write(b'not json at all\n42 {"internal_name": "fan.5"}\n"fan.x"{}\n')
        handle.write(json.dumps("branch/fan.1").encode() + b' {"internal_name": "fan.1", "sta')  # cut short
    branches = store.get_run_log("r1").steps["fan"].branches
    assert list(branches) == ["fan.0"]
    assert store.get_branch_log("r1", "fan.1") is None
    assert store.get_branch_log("r1", "fan.0").status == Status.SUCCESS


def test_records_go_on_in_a_new_journal_after_a_line_could_not_be_written_whole(store, monkeypatch):
    _once(store, "fan.0")
    original = journal.append
    monkeypatch.setattr(journal, "append", lambda *args, **kwargs: False)
    _once(store, "fan.1")  # recorded in a file of its own instead
    assert (store.folder / "r1" / "branch%2Ffan.1.json").is_file()
    monkeypatch.setattr(journal, "append", original)
    _once(store, "fan.2")
    assert len(_journals(store)) == 2  # not after the line that may have been cut
    assert sorted(store.get_run_log("r1").steps["fan"].branches) == ["fan.0", "fan.1", "fan.2"]


def test_a_forked_child_appends_to_a_journal_of_its_own(store):
    _once(store, "fan.0")
    pid = os.fork()
    if pid == 0:
        try:
            _once(store, "fan.1")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _once(store, "fan.2")
    paths = _journals(store)
    assert len(paths) == 2
    assert sorted(len(p.read_bytes().splitlines()) for p in paths) == [1, 2]
    assert sorted(store.get_run_log("r1").steps["fan"].branches) == ["fan.0", "fan.1", "fan.2"]


def test_a_branchs_own_file_wins_over_its_journal_line(store):
    # a worker that died after appending its branch's line, before reporting it: the parent records
    # the branch as failed, in a file of its own
    _once(store, "fan.0")
    store.put_branch_log("r1", BranchLog(internal_name="fan.0", status=Status.FAIL, message="worker died"))
    assert store.get_run_log("r1").steps["fan"].branches["fan.0"].message == "worker died"
    assert ChunkedFileSystemRunLogStore.from_config(store.settings.model_dump()).get_branch_log(
        "r1", "fan.0").status == Status.FAIL


def test_journals_are_not_read_for_the_top_level(store, monkeypatch):
    _once(store, "fan.0")
    monkeypatch.setattr(journal, "read", lambda paths: pytest.fail(f"read {paths}"))
    assert list(store.get_run_log("r1", top_level=True).steps) == ["fan"]
