"""End to end: run each core example with the CLI, then check its run log.

Each test copies ``examples/NN-*`` into tmp_path, runs ``stepline execute`` there with a known
``--run-id`` and reads the run back with ``stepline runs show RUN_ID --json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest



def steps_of(log: dict) -> dict:
    return log["steps"]


def statuses(log: dict) -> dict[str, str]:
    return {name: step["status"] for name, step in log["steps"].items()}


def catalog_file(folder: Path, run_id: str, name: str) -> Path:
    return folder / ".stepline" / "catalog" / run_id / name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seconds_between(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


# ---- 01 hello shell --------------------------------------------------------------------------------
def test_01_hello_shell(example, cli):
    folder = example("01-hello-shell")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "hello-1", "--tag", "demo", cwd=folder)
    assert done.code == 0, done.output
    assert "hello from 01-hello-shell" in done.stdout
    assert "the previous step said hello world (3 times)" in done.stdout
    assert "run hello-1: SUCCESS" in done.stderr

    log = cli.run_log("hello-1", folder)
    assert log["status"] == "SUCCESS" and log["tag"] == "demo"
    assert statuses(log) == {"hello": "SUCCESS", "echo greeting": "SUCCESS", "done": "SUCCESS",
                             "success": "SUCCESS"}
    assert [s["step_type"] for s in steps_of(log).values()] == ["task", "task", "stub", "success"]
    # the exported variable listed in `returns` became a parameter, and reached the next step
    assert log["parameters"] == {"greeting": {"kind": "json", "value": "hello world"},
                                 "count": {"kind": "json", "value": 3}}  # JSON-decoded from $STEPLINE_RETURNS
    second = steps_of(log)["echo greeting"]["attempts"][0]
    assert second["input_parameters"]["greeting"]["value"] == "hello world"
    # the default services: a persistent run log and a catalog under .stepline/ in the folder
    assert log["run_config"]["run_log_store"] == {"type": "chunked-fs", "config": {"log_folder": ".stepline/runs"}}
    assert (folder / ".stepline" / "runs" / "hello-1").is_dir()
    assert catalog_file(folder, "hello-1", "logs/hello.attempt-1.log").read_text() == "hello from 01-hello-shell\n"

    listed = cli.run("runs", "list", cwd=folder)
    assert listed.code == 0 and "hello-1" in listed.stdout and "SUCCESS" in listed.stdout
    shown = cli.run("runs", "show", "hello-1", cwd=folder)
    assert shown.code == 0 and "echo greeting" in shown.stdout


def test_01_execute_single_node_reruns_one_step(example, cli):
    folder = example("01-hello-shell")
    assert cli.run("execute", "pipeline.yaml", "--run-id", "one", cwd=folder).code == 0
    before = cli.run_log("one", folder)["steps"]["echo greeting"]["attempts"][0]
    again = cli.run("execute-single-node", "one", "echo greeting", "-f", "pipeline.yaml", cwd=folder)
    assert again.code == 0, again.output
    assert again.stdout == "the previous step said hello world (3 times)\n"  # parameters read from the run log
    after = cli.run_log("one", folder)["steps"]["echo greeting"]
    assert after["status"] == "SUCCESS" and after["attempts"][0]["start_time"] > before["start_time"]


def test_01_runs_get_distinct_ids(example, cli):
    folder = example("01-hello-shell")
    assert cli.run("execute", "pipeline.yaml", cwd=folder).code == 0
    assert cli.run("execute", "-f", "pipeline.yaml", cwd=folder).code == 0
    ids = sorted(p.name for p in (folder / ".stepline" / "runs").iterdir())
    assert len(ids) == 2 and ids[0] != ids[1]


# ---- 02 python functions and parameters --------------------------------------------------------------
def test_02_python_parameters(example, cli):
    folder = example("02-python-parameters")
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "py-1", cwd=folder)
    assert done.code == 0, done.output
    # epochs: "3" was cast to int by the annotation; model became a pydantic ModelConfig
    assert "training linear with layers [4, 2] for 3 epochs at lr=0.1" in done.stdout
    # the pickled object came back through the catalog into evaluate()
    assert "evaluating linear (3 epochs): weights [0.4, 0.2]" in done.stdout

    log = cli.run_log("py-1", folder)
    params = log["parameters"]
    assert params["learning_rate"] == {"kind": "json", "value": 0.1}
    assert params["epochs"] == {"kind": "json", "value": "3"}  # stored as given
    assert params["summary"] == {"kind": "json", "value": {"model": "linear", "epochs": 3}}
    assert params["final_loss"] == {"kind": "metric", "value": 0.729}
    assert params["accuracy"] == {"kind": "metric", "value": 0.6355}
    trained = params["trained"]
    assert trained["kind"] == "object" and trained["value"] == "py-1/objects/train/trained.pickle"
    assert (folder / ".stepline" / "catalog" / trained["value"]).is_file()

    train = steps_of(log)["train"]["attempts"][0]
    assert set(train["input_parameters"]) == {"learning_rate", "epochs", "model"}
    assert train["output_parameters"]["final_loss"]["kind"] == "metric"
    # stepline.track() series and the metric return, both in the attempt's metrics
    assert train["user_defined_metrics"] == {
        "loss": [{"step": 0, "value": 0.9}, {"step": 1, "value": 0.81}, {"step": 2, "value": 0.729}],
        "final_loss": 0.729}
    assert steps_of(log)["evaluate"]["attempts"][0]["user_defined_metrics"] == {"accuracy": 0.6355}


def test_02_env_overrides_parameters_file(example, cli):
    folder = example("02-python-parameters")
    env = cli.env(STEPLINE_PRM_learning_rate="0.5", RUNNABLE_PRM_learning_rate="0.9",
                    RUNNABLE_PRM_extra='{"a": [1, 2]}')
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "py-env", cwd=folder, env=env)
    assert done.code == 0, done.output
    log = cli.run_log("py-env", folder)
    # STEPLINE_PRM_ wins over RUNNABLE_PRM_ and over the file; values are JSON-decoded
    assert log["parameters"]["learning_rate"] == {"kind": "json", "value": 0.5}
    assert log["parameters"]["extra"] == {"kind": "json", "value": {"a": [1, 2]}}
    assert log["parameters"]["final_loss"]["value"] == 0.125
    assert "weights [2.0, 1.0]" in done.stdout


# ---- 03 on_failure -----------------------------------------------------------------------------------
def test_03_on_failure_route(example, cli):
    folder = example("03-on-failure")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "fail-1", cwd=folder)
    assert done.code == 1, done.output
    assert "cleaning up after the failed extract" in done.stdout
    assert "never runs" not in done.stdout
    assert "Traceback" not in done.output

    log = cli.run_log("fail-1", folder)
    assert log["status"] == "FAIL"
    # on_failure was taken: extract -> clean up -> failed; transform never ran
    assert list(steps_of(log)) == ["extract", "clean up", "failed"]
    assert statuses(log) == {"extract": "FAIL", "clean up": "SUCCESS", "failed": "FAIL"}
    extract = steps_of(log)["extract"]
    assert extract["message"] == "command exited with code 3"
    assert [a["status"] for a in extract["attempts"]] == ["FAIL"]
    assert steps_of(log)["failed"]["step_type"] == "fail"
    # stdout and stderr of the failed command are both kept in its execution log
    assert catalog_file(folder, "fail-1", "logs/extract.attempt-1.log").read_text() == \
        "extracting...\nthe source is unreachable\n"


# ---- 04 catalog --------------------------------------------------------------------------------------
def test_04_catalog_put_and_get(example, cli):
    folder = example("04-catalog")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "cat-1", cwd=folder)
    assert done.code == 0, done.output
    assert "sum of 2 values: 42" in done.stdout

    log = cli.run_log("cat-1", folder)
    assert log["parameters"]["total"] == {"kind": "json", "value": 42}
    csv_hash = sha256(b"id,value\n1,10\n2,32\n")

    put = [i for i in steps_of(log)["write data"]["data_catalog"] if i["name"] == "data/numbers.csv"]
    assert put == [{"name": "data/numbers.csv", "data_hash": csv_hash, "catalog_relative_path": "cat-1/data/numbers.csv",
                    "catalog_handler_location": ".stepline/catalog", "stage": "put", "stored": True}]
    stored = catalog_file(folder, "cat-1", "data/numbers.csv")
    assert sha256(stored.read_bytes()) == csv_hash

    notes = [i for i in steps_of(log)["record notes"]["data_catalog"] if i["name"] == "notes.txt"]
    assert len(notes) == 1
    assert notes[0]["stored"] is False and notes[0]["data_hash"] == sha256(b"scratch notes\n")
    assert not catalog_file(folder, "cat-1", "notes.txt").exists()  # store_copy: false

    got = [i for i in steps_of(log)["sum"]["data_catalog"] if i["stage"] == "get"]
    assert [(i["name"], i["data_hash"]) for i in got] == [("data/numbers.csv", csv_hash)]
    assert (folder / "data" / "numbers.csv").read_bytes() == stored.read_bytes()  # got back after `rm`


# ---- 05 secrets from .env -------------------------------------------------------------------------------
SECRET = "s3cr3t-demo-token-7f9c"


def test_05_secrets_never_leak(example, cli):
    folder = example("05-secrets-dotenv")
    assert SECRET in (folder / ".env").read_text()
    done = cli.run("execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", "sec-1",
                    cwd=folder)
    assert done.code == 0, done.output
    # the task printed the secret on purpose: masked on the console
    assert "a careless print of the token: ********" in done.stdout
    assert "the shell sees a token of 22 characters: ********" in done.stdout
    assert SECRET not in done.output

    shown = cli.run("runs", "show", "sec-1", "--json", "-c", "config.yaml", cwd=folder)
    assert shown.code == 0 and SECRET not in shown.stdout
    log = cli.run_log("sec-1", folder, "-c", "config.yaml")
    assert statuses(log) == {"call api": "SUCCESS", "shell with secret": "SUCCESS", "success": "SUCCESS"}
    assert log["parameters"]["token_length"] == {"kind": "json", "value": 22}  # the task got the real value
    assert log["run_config"]["secrets"] == {"type": "dotenv", "config": {"location": ".env"}}

    files = [p for p in (folder / ".stepline").rglob("*") if p.is_file()]
    logs = [p for p in files if p.name.endswith(".log")]
    assert {p.name for p in logs} == {"call api.attempt-1.log", "shell with secret.attempt-1.log"}
    assert all("********" in p.read_text() for p in logs)
    for path in files:  # run log records, execution logs, catalog: nowhere
        assert SECRET.encode() not in path.read_bytes(), path


# ---- 06 retries and timeouts ----------------------------------------------------------------------------
def test_06_retries_and_timeout(example, cli):
    folder = example("06-retries")
    done = cli.run("execute", "pipeline.yaml", "--run-id", "retry-1", cwd=folder)
    assert done.code == 0, done.output
    assert "never printed" not in done.stdout

    log = cli.run_log("retry-1", folder)
    assert log["status"] == "SUCCESS"
    assert statuses(log) == {"flaky": "SUCCESS", "slow": "FAIL", "report timeout": "SUCCESS", "success": "SUCCESS"}

    flaky = steps_of(log)["flaky"]["attempts"]
    assert [(a["attempt_number"], a["status"]) for a in flaky] == [(1, "FAIL"), (2, "FAIL"), (3, "SUCCESS")]
    assert flaky[0]["message"] == "command exited with code 1"
    for before, after in zip(flaky, flaky[1:]):  # retry_delay_seconds: 0.2 between attempts
        assert seconds_between(before["end_time"], after["start_time"]) >= 0.2
    assert log["parameters"]["attempts_needed"] == {"kind": "json", "value": 3}
    for n in (1, 2, 3):
        text = catalog_file(folder, "retry-1", f"logs/flaky.attempt-{n}.log").read_text()
        assert text.startswith(f"attempt {n}:")
    assert "3 attempts" in done.stderr  # the console summary

    slow = steps_of(log)["slow"]
    assert slow["message"] == "timed out after 0.5 s (timeout_seconds) and was killed"
    assert len(slow["attempts"]) == 1
    assert 0.5 <= seconds_between(slow["attempts"][0]["start_time"], slow["attempts"][0]["end_time"]) < 5


# ---- every core example: documented, valid, and run by a test above ------------------------------------
CORE_EXAMPLES = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "examples").glob("0[1-9]-*"))


def test_every_core_example_is_run_by_a_test_and_listed_in_the_docs():
    assert CORE_EXAMPLES[:6] == ["01-hello-shell", "02-python-parameters", "03-on-failure", "04-catalog",
                                 "05-secrets-dotenv", "06-retries"]
    tests = {name for name in globals() if name.startswith("test_")}
    listed = (Path(__file__).resolve().parent.parent / "docs" / "examples.md").read_text()
    for name in CORE_EXAMPLES:
        number = name[:2]
        assert any(t.startswith(f"test_{number}_") for t in tests), f"no test runs examples/{name}"
        assert f"`{name}`" in listed, f"docs/examples.md does not list {name}"


@pytest.mark.parametrize("name", CORE_EXAMPLES)
def test_example_has_readme_and_validates(example, cli, name):
    folder = example(name)
    assert (folder / "README.md").read_text().startswith("# ")
    config = ["-c", "config.yaml"] if (folder / "config.yaml").exists() else []
    done = cli.run("validate", "pipeline.yaml", *config, cwd=folder)
    assert done.code == 0 and done.stdout.startswith("ok: "), done.output
    assert done.stderr == ""  # no warnings (every step reachable)


# ---- the same run under the emulator executor (every task a separate execute-single-node process) ------
def outcome(log: dict) -> dict:
    """What must not depend on the executor: statuses, attempts, parameters, catalog hashes."""
    run_id = log["run_id"]

    def value(p):
        v = p["value"]
        return (p["kind"], v.replace(run_id, "RUN") if p["kind"] == "object" else v)

    return {
        "status": log["status"],
        "parameters": {name: value(p) for name, p in log["parameters"].items()},
        "steps": {name: (s["status"], s["message"], [a["status"] for a in s["attempts"]],
                         sorted((i["name"], i["stage"], i["data_hash"], i["stored"]) for i in s["data_catalog"]
                                if not i["name"].startswith("logs/")))
                  for name, s in log["steps"].items()},
    }


#: the examples whose data crosses process boundaries: pickled objects, catalog files, secrets
CROSS_PROCESS = ["02-python-parameters", "04-catalog", "05-secrets-dotenv"]


@pytest.mark.parametrize("name", CROSS_PROCESS)
def test_example_behaves_the_same_under_the_emulator(example, cli, name):
    folder = example(name)
    args = ["-p", "params.yaml"] if (folder / "params.yaml").exists() else []
    base = (folder / "config.yaml").read_text() if (folder / "config.yaml").exists() else ""
    (folder / "local.yaml").write_text(base)
    (folder / "emulator.yaml").write_text(base + "executor:\n  type: emulator\n")
    local = cli.run("execute", "pipeline.yaml", "-c", "local.yaml", *args, "--run-id", "loc", cwd=folder)
    emulated = cli.run("execute", "pipeline.yaml", "-c", "emulator.yaml", *args, "--run-id", "emu", cwd=folder)
    assert local.code == emulated.code, emulated.output
    log_local, log_emulated = cli.run_log("loc", folder), cli.run_log("emu", folder)
    assert log_emulated["run_config"]["executor"]["type"] == "emulator"
    assert outcome(log_emulated) == outcome(log_local)
    assert "s3cr3t-demo-token-7f9c" not in emulated.output


# ---- the first pipeline of docs/getting-started.md runs as written -------------------------------------
def test_getting_started_pipeline_runs_as_written(tmp_path, cli):
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "getting-started.md").read_text()
    blocks = re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', page, flags=re.S)
    files = dict(blocks)  # the last block of each file name wins: the page builds the pipeline up
    assert set(files) == {"pipeline.yaml", "params.yaml", "steps.py"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "first", cwd=tmp_path)
    assert done.code == 0, done.output
    assert done.stdout == "HELLO WORLD\n"
    log = cli.run_log("first", tmp_path)
    assert log["parameters"]["greeting"] == {"kind": "json", "value": "hello world"}
    assert log["parameters"]["length"] == {"kind": "metric", "value": 11}
    assert (tmp_path / ".stepline" / "catalog" / "first" / "logs" / "shout.attempt-1.log").is_file()


def test_plugins_lists_every_builtin_with_its_package(tmp_path, cli):
    import re

    done = cli.run("plugins", cwd=tmp_path)
    assert done.code == 0, done.output
    rows = {tuple(line.split()[:3]) for line in done.stdout.splitlines()}
    for kind, name in [("executor", "local"), ("executor", "emulator"), ("run_log_store", "chunked-fs"),
                       ("run_log_store", "file-system"), ("run_log_store", "buffered"), ("catalog", "file-system"),
                       ("catalog", "do-nothing"), ("secrets", "env"), ("secrets", "dotenv"), ("secrets", "do-nothing"),
                       ("experiment_tracker", "do-nothing"), ("task", "python"), ("task", "shell"),
                       ("node", "task"), ("node", "stub"), ("node", "success"), ("node", "fail")]:
        assert (kind, name, "stepline") in rows, f"{kind} {name} missing from `stepline plugins`"
    lines = done.stdout.splitlines()  # each ends with the registering plugin (a stack's: and its source)
    assert all(re.search(r"\(\S+\)$", line) for line in lines if not line.startswith("stack "))
    assert all(re.search(r"\(\S+: \S+\)$", line) for line in lines if line.startswith("stack "))
