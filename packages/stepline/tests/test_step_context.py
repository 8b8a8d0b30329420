"""The shared step context, through the local executor, on real files."""

import json
import os

import pytest
from stepline.run.execute import execute
from stepline.runlog.models import Status


def run(write, pipeline, *, config=None, params=None, **kwargs):
    write("pipeline.yaml", pipeline)
    if config:
        write("config.yaml", config)
    if params:
        write("params.yaml", params)
    return execute("pipeline.yaml", "config.yaml" if config else None, "params.yaml" if params else None,
                   quiet=True, **kwargs)


#: The user modules this file writes and imports: forgotten after each test (see conftest.py).
USER_MODULES = "steps_"


def test_python_arguments_are_cast_and_returns_recorded_by_kind(write):
    write("steps_a.py", """
        from pydantic import BaseModel

        class Cfg(BaseModel):
            rate: float
            name: str

        def first(n: int, cfg: Cfg):
            return n * 2, cfg.rate, {"deep": [1, 2]}

        def second(doubled: int, rate: float, blob):
            assert isinstance(doubled, int) and blob == {"deep": [1, 2]}
            return doubled + rate
    """)
    log = run(write, """
        dag:
          start_at: one
          steps:
            one:
              type: task
              command: steps_a.first
              returns: [doubled, {name: rate, kind: metric}, {name: blob, kind: object}]
              next: two
            two: {type: task, command: steps_a.second, returns: [total]}
    """, params="n: '21'\ncfg: {rate: 0.5, name: x}\n")
    assert log.status == Status.SUCCESS
    assert log.parameters["doubled"].value == 42
    assert log.parameters["rate"].kind == "metric"
    assert log.parameters["blob"].kind == "object"
    assert log.parameters["blob"].value.endswith("objects/one/blob.pickle")
    assert log.parameters["total"].value == 42.5
    one = log.steps["one"].attempts[0]
    assert one.input_parameters["n"].value == "21"
    assert one.user_defined_metrics == {"rate": 0.5}


def test_env_parameters_override_the_file_and_are_json_decoded(write, monkeypatch):
    write("steps_b.py", "def f(x: list, y: str):\n    return len(x), y\n")
    monkeypatch.setenv("STEPLINE_PRM_x", "[1, 2, 3]")
    monkeypatch.setenv("RUNNABLE_PRM_y", "from-runnable")
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_b.f, returns: [n, y2]}}}",
              params="x: [1]\ny: file\n")
    assert log.parameters["n"].value == 3
    assert log.parameters["y2"].value == "from-runnable"


def test_cast_failure_fails_the_step_with_a_clear_message(write):
    write("steps_c.py", "def f(n: int):\n    return n\n")
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_c.f, max_attempts: 3}}}",
              params="n: not-a-number\n")
    step = log.steps["a"]
    assert step.status == Status.FAIL
    assert "parameter 'n' = 'not-a-number' cannot be cast to int" in step.message
    assert len(step.attempts) == 1  # retrying a bad parameter cannot help


def test_missing_argument_is_a_clear_failure(write):
    write("steps_d.py", "def f(needed):\n    return 1\n")
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_d.f}}}")
    assert "needs parameter 'needed'" in log.steps["a"].message


def test_returns_count_mismatch(write):
    write("steps_e.py", "def f():\n    return 1, 2, 3\n")
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_e.f, returns: [a, b]}}}")
    assert "'returns' names 2 values but the function returned 3" in log.steps["a"].message


def test_retries_record_one_attempt_each_and_honour_the_delay(write, workdir):
    write("steps_f.py", """
        from pathlib import Path

        def flaky():
            counter = Path("count")
            n = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(n))
            if n < 3:
                raise RuntimeError(f"attempt {n} fails")
            return n
    """)
    log = run(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command: steps_f.flaky, max_attempts: 4, retry_delay_seconds: 0.2, returns: [n]}
    """)
    attempts = log.steps["a"].attempts
    assert [a.status for a in attempts] == [Status.FAIL, Status.FAIL, Status.SUCCESS]
    assert [a.attempt_number for a in attempts] == [1, 2, 3]
    assert attempts[0].message == "RuntimeError: attempt 1 fails"
    assert attempts[1].duration_seconds is not None
    from datetime import datetime
    gap = datetime.fromisoformat(attempts[1].start_time) - datetime.fromisoformat(attempts[0].end_time)
    assert gap.total_seconds() >= 0.2
    assert log.parameters["n"].value == 3


def test_exhausted_retries_fail_the_run_and_route_on_failure(write):
    log = run(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: "exit 3", max_attempts: 2, on_failure: cleanup}
            cleanup: {type: task, command_type: shell, command: "echo cleaning", next: fail}
    """)
    assert log.steps["a"].status == Status.FAIL
    assert log.steps["a"].message == "command exited with code 3"
    assert len(log.steps["a"].attempts) == 2
    assert log.steps["cleanup"].status == Status.SUCCESS
    assert log.steps["fail"].status == Status.FAIL
    assert log.status == Status.FAIL


def test_python_timeout_kills_the_task(write):
    write("steps_g.py", "import time\n\ndef slow():\n    print('started', flush=True)\n    time.sleep(30)\n")
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_g.slow, timeout_seconds: 0.5}}}")
    step = log.steps["a"]
    assert step.status == Status.FAIL
    assert "timed out after 0.5 s" in step.message
    assert step.attempts[0].duration_seconds < 5


def test_python_with_timeout_returns_values_and_metrics_from_the_child(write):
    write("steps_h.py", """
        import os
        import stepline

        def fast(x: int):
            stepline.track("loss", 0.25, step=1)
            print("child", os.getpid())
            return x + 1
    """)
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command: steps_h.fast, timeout_seconds: 10, returns: [y]}}}",
              params="x: 1\n")
    assert log.parameters["y"].value == 2
    assert log.steps["a"].attempts[0].user_defined_metrics == {"loss": [{"step": 1, "value": 0.25}]}


def test_shell_timeout_kills_the_process_group(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'sleep 30 & sleep 30', timeout_seconds: 0.5}}}")
    assert "timed out" in log.steps["a"].message


def test_shell_returns_from_exports_and_returns_file_without_printing_env(write, capfd):
    log = run(write, """
        dag:
          start_at: a
          steps:
            a:
              type: task
              command_type: shell
              command: |
                export count=3
                export SECRET_LOOKING=dont-keep-me
                export config='{"k": [1, 2]}'
                echo "word=hello world" >> "$STEPLINE_RETURNS"
              returns: [count, config, word]
              next: b
            b:
              type: task
              command_type: shell
              command: 'test "$count" = 3 && test "$word" = "hello world" && echo "$config"'
    """)
    assert log.status == Status.SUCCESS
    assert log.parameters["count"].value == 3
    assert log.parameters["config"].value == {"k": [1, 2]}
    assert log.parameters["word"].value == "hello world"
    assert "SECRET_LOOKING" not in json.dumps(log.model_dump(mode="json"))


def test_shell_missing_return_fails(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true', returns: [x]}}}")
    assert "'returns' names 'x'" in log.steps["a"].message


def test_shell_inherits_path_and_user_output_is_verbatim(write, workdir):
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    (bin_dir / "mytool").write_text("#!/bin/sh\necho tool-ran\n")
    (bin_dir / "mytool").chmod(0o755)
    os.environ["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
    try:
        log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'mytool; echo \"[/usr/bin] [bold]x[/bold]\"'}}}")
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(":", 1)[1]
    assert log.status == Status.SUCCESS
    from stepline.config.loader import load_services

    catalog = load_services(None).catalog
    text = catalog.get_bytes(f"{log.run_id}/logs/a.attempt-1.log").decode()
    assert "tool-ran" in text and "[/usr/bin] [bold]x[/bold]" in text


def test_secrets_reach_tasks_and_are_masked_everywhere(write, workdir, monkeypatch, capfd):
    monkeypatch.setenv("API_TOKEN", "s3cr3t-value-123")
    write("steps_i.py", """
        import os
        import stepline

        def use():
            assert stepline.get_secret("API_TOKEN") == os.environ["API_TOKEN"] == "s3cr3t-value-123"
            print("token is", stepline.get_secret("API_TOKEN"))
    """)
    log = execute_with_echo(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command: steps_i.use, secrets: [API_TOKEN], next: b}
            b: {type: task, command_type: shell, command: 'echo "shell sees $API_TOKEN"', secrets: [API_TOKEN]}
    """)
    assert log.status == Status.SUCCESS
    out = capfd.readouterr().out
    assert "token is ********" in out and "shell sees ********" in out
    assert "s3cr3t" not in out
    for path in (workdir / ".stepline").rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes(), path
    monkeypatch.delenv("API_TOKEN")
    assert "API_TOKEN" not in os.environ  # restored after the task


def execute_with_echo(write, pipeline):
    write("pipeline.yaml", pipeline)
    return execute("pipeline.yaml")


def test_missing_secret_fails_the_step_naming_it(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true', secrets: [NOPE_NOT_SET]}}}")
    assert "secret 'NOPE_NOT_SET' is not in the env secrets backend" in log.steps["a"].message


def test_catalog_put_get_hash_and_no_copy(write, workdir):
    log = run(write, """
        dag:
          start_at: make
          steps:
            make:
              type: task
              command_type: shell
              command: mkdir -p data && echo 1 > data/a.csv && echo 2 > data/b.csv && echo big > big.bin
              catalog: {put: ["data/*.csv"]}
              next: hashonly
            hashonly:
              type: task
              command_type: shell
              command: "true"
              catalog: {put: [big.bin], store_copy: false}
              next: use
            use:
              type: task
              command_type: shell
              command: rm -rf data && test ! -e data
              next: fetch
            fetch:
              type: task
              command_type: shell
              command: cat data/a.csv data/b.csv
              catalog: {get: ["data/*.csv"]}
    """)
    assert log.status == Status.SUCCESS
    import hashlib

    items = {i.name: i for i in log.steps["make"].data_catalog}
    assert items["data/a.csv"].data_hash == hashlib.sha256(b"1\n").hexdigest()
    assert (workdir / ".stepline/catalog" / log.run_id / "data/b.csv").read_text() == "2\n"
    big = next(i for i in log.steps["hashonly"].data_catalog if i.name == "big.bin")
    assert big.stored is False and not (workdir / ".stepline/catalog" / log.run_id / "big.bin").exists()
    assert {i.name for i in log.steps["fetch"].data_catalog if i.stage == "get"} == {"data/a.csv", "data/b.csv"}


def test_put_matching_nothing_fails_a_successful_step(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true', catalog: {put: [missing.txt]}}}}")
    assert log.steps["a"].status == Status.FAIL
    assert "catalog put 'missing.txt' matched no file" in log.steps["a"].message


def test_a_failed_step_puts_the_files_it_wrote_and_skips_the_rest(write, workdir):
    log = run(write, """
        dag:
          start_at: a
          steps:
            a:
              type: task
              command_type: shell
              command: echo partial > out.csv; exit 3
              catalog: {put: [out.csv, never/written.txt, "*.log"]}
              on_failure: look
            look: {type: stub, next: success}
    """)
    a = log.steps["a"]
    assert a.status == Status.FAIL and a.message == "command exited with code 3"  # the task's reason stays
    assert [i.name for i in a.data_catalog if i.stage == "put"] == ["out.csv"]
    assert (workdir / ".stepline/catalog" / log.run_id / "out.csv").read_text() == "partial\n"


def test_a_wildcard_put_takes_files_not_folders_nor_steplines_own_state(write, workdir):
    write(".env", "API_TOKEN=hunter2\n")
    write("old/inner.txt", "from before")
    first = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true'}}}")
    assert (workdir / ".stepline/runs" / first.run_id).is_dir()

    def putting(command: str, puts: str):
        return run(write, f"dag: {{start_at: a, steps: {{a: {{type: task, command_type: shell, command: '{command}', "
                          f"catalog: {{put: {puts}}}}}}}}}", config="secrets: {type: dotenv, config: {location: .env}}\n")

    log = putting("echo r > result.txt && mkdir -p model && echo w > model/weights.bin",
                  '["*", result.txt, model, "deep/**"]')
    assert log.status == Status.FAIL  # 'deep/**' matched nothing: a successful step's put must match
    log = putting("echo r > result.txt && mkdir -p net/sub && echo w > net/sub/weights.bin",
                  '["*", result.txt, "net/**"]')
    assert log.status == Status.SUCCESS, log.steps["a"].message
    names = [i.name for i in log.steps["a"].data_catalog if i.stage == "put"]
    # '*' is the top folder's files (not .env, which the secrets backend keeps; not old/ or .stepline/);
    # result.txt, matched twice, is recorded once; a trailing '**' is everything below
    assert sorted(names) == ["config.yaml", "net/sub/weights.bin", "pipeline.yaml", "result.txt"]
    stored = workdir / ".stepline/catalog" / log.run_id
    assert not (stored / ".stepline").exists() and not (stored / ".env").exists()


def test_a_put_of_only_steplines_own_files_says_so(write):
    log = run(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: "true", catalog: {put: [".stepline/runs/**/*"]}}
    """)
    assert log.steps["a"].status == Status.FAIL
    assert "matches only files Stepline keeps its own state in" in log.steps["a"].message


def test_code_identity_is_recorded_in_a_git_repo(write, workdir):
    import subprocess

    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
                   check=True)
    log = run(write, "dag: {start_at: a, steps: {a: {type: stub}}}")
    identity = log.steps["a"].code_identities[0]
    assert len(identity.code_identifier) == 40


def test_code_identity_says_whether_tracked_files_changed_and_where_the_remote_is(write, workdir):
    import subprocess

    from stepline.run.run_context import git_identity

    subprocess.run(["git", "init", "-q"], check=True)
    assert git_identity() is None  # a repository with no commit yet
    (workdir / "tracked.txt").write_text("one")
    subprocess.run(["git", "add", "tracked.txt"], check=True)
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (workdir / "untracked.txt").write_text("not part of the identity")
    clean = git_identity()
    assert (clean.code_identifier, clean.code_identifier_dependable, clean.code_identifier_url) == (head, True, None)
    (workdir / "tracked.txt").write_text("two")
    subprocess.run(["git", "remote", "add", "origin", "https://example.com/team/repo.git"], check=True)
    dirty = git_identity()
    assert (dirty.code_identifier, dirty.code_identifier_dependable) == (head, False)
    assert dirty.code_identifier_url == "https://example.com/team/repo.git"
    assert dirty.code_identifier_message == "changes not committed"


def test_code_identity_is_quietly_absent_outside_a_repo(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: stub}}}")
    assert log.steps["a"].code_identities == []


def test_no_git_process_starts_where_there_is_no_repository(workdir, monkeypatch):
    import subprocess

    from stepline.run.run_context import git_identity

    if any((folder / ".git").exists() for folder in (workdir, *workdir.parents)):
        pytest.skip("the test folder is inside a git repository")
    monkeypatch.delenv("GIT_DIR", raising=False)
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: started.append(args))
    assert git_identity() is None and started == []


def test_run_config_records_every_service(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: stub}}}",
              config="run_log_store: {type: file-system, config: {log_folder: logs}}\n")
    assert log.run_config["run_log_store"] == {"type": "file-system", "config": {"log_folder": "logs"}}
    assert set(log.run_config) == {"executor", "run_log_store", "catalog", "secrets", "experiment_tracker"}


def test_run_ids_are_unique_and_time_ordered():
    from stepline.run.run_context import new_run_id

    ids = [new_run_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids[0][:15] <= ids[-1][:15]


def test_a_return_carrying_a_secret_fails_the_step_instead_of_storing_it(write, workdir, monkeypatch):
    monkeypatch.setenv("TOK", "supersecretvalue123")
    log = run(write, """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: 'export leaked="x-$TOK"', returns: [leaked], secrets: [TOK]}
    """)
    step = log.steps["a"]
    assert step.status == Status.FAIL
    assert step.message.startswith("return 'leaked' contains the value of secret 'TOK'")
    for path in (workdir / ".stepline").rglob("*"):
        if path.is_file():
            assert b"supersecretvalue123" not in path.read_bytes(), path


@pytest.mark.parametrize("timeout", ["", ", timeout_seconds: 10"])
def test_sys_exit_in_a_task_fails_the_step_not_stepline(write, timeout):
    write("steps_j.py", "import sys\n\ndef bye():\n    sys.exit(3)\n\ndef fine():\n    sys.exit(0)\n")
    log = run(write, f"""
        dag:
          start_at: a
          steps:
            a: {{type: task, command: steps_j.bye, max_attempts: 2, on_failure: b{timeout}}}
            b: {{type: task, command: steps_j.fine{timeout}}}
    """)
    assert log.steps["a"].status == Status.FAIL
    assert log.steps["a"].message == "the function called sys.exit(3)"
    assert len(log.steps["a"].attempts) == 2
    assert log.steps["b"].status == Status.SUCCESS


def test_execution_logs_are_hashed_in_the_catalog_items(write):
    import hashlib

    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'echo hi'}}}")
    item = next(i for i in log.steps["a"].data_catalog if i.name == "logs/a.attempt-1.log")
    assert item.data_hash == hashlib.sha256(b"hi\n").hexdigest()


def test_a_step_that_cannot_start_has_a_well_ordered_attempt(write):
    log = run(write, "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true', secrets: [NOPE_X]}}}")
    attempt = log.steps["a"].attempts[0]
    assert attempt.start_time <= attempt.end_time and attempt.status == Status.FAIL


def test_retry_backoff_grows_the_delay_up_to_its_cap(write):
    from datetime import datetime

    log = run(write, """
        dag:
          start_at: flaky
          steps:
            flaky:
              type: task
              command_type: shell
              command: exit 1
              max_attempts: 4
              retry_delay_seconds: 0.1
              retry_backoff: {factor: 3, max_seconds: 0.4}
    """)
    attempts = log.steps["flaky"].attempts
    assert [a.status for a in attempts] == [Status.FAIL] * 4
    gaps = [(datetime.fromisoformat(b.start_time) - datetime.fromisoformat(a.end_time)).total_seconds()
            for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.3 and gaps[2] >= 0.4  # 0.1, 0.3, then 0.9 capped at 0.4


def test_retry_delay_follows_factor_cap_and_full_jitter():
    from stepline.pipeline.nodes import TaskNode

    node = TaskNode(command="x", retry_delay_seconds=2, retry_backoff={"factor": 2, "max_seconds": 10, "jitter": False})
    assert [node.retry_delay(n) for n in (1, 2, 3, 4, 999)] == [2, 4, 8, 10, 10]
    jittered = node.model_copy(update={"retry_backoff": node.retry_backoff.model_copy(update={"jitter": True})})
    assert jittered.retry_delay(3, random=lambda: 0.25) == 2.0
    assert TaskNode(command="x", retry_delay_seconds=3).retry_delay(5) == 3
