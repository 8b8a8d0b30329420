"""Run inspection through the CLI: runs list, runs show (tree and --json), runs diff, progress lines."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

STEPLINE = str(Path(sys.executable).with_name("stepline"))

PIPELINE = """
dag:
  start_at: prepare
  steps:
    prepare:
      type: task
      command_type: shell
      command: |
        echo "weird [/usr/bin] [bold]output[/bold]"
        mkdir -p data && echo hi > data/a.txt
        echo "size=$(( base * 2 ))" >> "$STEPLINE_RETURNS"
      returns: [size]
      catalog: {put: [data/a.txt]}
      next: fan
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: flaky
        steps:
          flaky:
            type: task
            command_type: shell
            command: 'echo "accuracy=0.$x" >> "$STEPLINE_RETURNS"; test "$x" != 2 || test -f fixed'
            returns: [{name: accuracy, kind: metric}]
            max_attempts: 2
      next: done
    done: {type: stub}
"""


def cli(workdir, *args, check=None):
    done = subprocess.run([STEPLINE, *args], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    if check is not None:
        assert done.returncode == check, done.stderr
    return done


@pytest.fixture
def runs(write, workdir):
    write("pipeline.yaml", PIPELINE)
    write("params.yaml", "base: 21\nxs: [1, 2, 3]\n")
    first = cli(workdir, "execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "one", "--tag", "nightly", check=1)
    (workdir / "fixed").touch()
    second = cli(workdir, "retry", "one", "--run-id", "two", check=0)
    return first, second


def test_progress_lines_are_plain_when_not_a_tty_and_output_is_untouched(runs):
    first, second = runs
    assert "weird [/usr/bin] [bold]output[/bold]" in first.stdout  # never through a markup renderer
    lines = [line for line in first.stderr.splitlines() if line[:2].isdigit()]
    assert any(line.endswith("ms") and " FAIL    fan.1.flaky " in line for line in lines), lines
    assert any(" FAIL    fan [map] " in line for line in lines)
    assert "\x1b[" not in first.stderr
    assert any(" SKIPPED prepare " in line for line in second.stderr.splitlines())


def test_runs_list_filters_and_marks_re_runs(runs, workdir):
    listed = cli(workdir, "runs", "list", check=0).stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [["one", "FAIL"], ["two", "SUCCESS"]]
    assert listed[0].endswith("nightly") and listed[1].endswith("nightly  (re-run of one)")
    assert cli(workdir, "runs", "list", "--status", "fail", check=0).stdout.split()[0] == "one"
    assert cli(workdir, "runs", "list", "--tag", "other", check=0).stdout == ""


def test_runs_show_tree_has_branches_attempts_parameters_and_catalog(runs, workdir):
    shown = cli(workdir, "runs", "show", "one", check=0).stdout
    assert shown.startswith("run one: FAIL in ")
    for expected in ["  tag: nightly", "parameters at start:\n  base = 21\n  xs = [1, 2, 3]",
                     "  size = 42", "  fan [map]  FAIL  ", "    [1] FAIL  x=2", "      flaky  FAIL  ",
                     "2 attempts", "        attempt 1: FAIL", "        attempt 2: FAIL",
                     "  put  data/a.txt  (prepare)  sha256 ", "returned: size=42", "run log: .stepline/runs"]:
        assert expected in shown, expected
    again = cli(workdir, "runs", "show", "two", check=0).stdout
    assert "  re-run of: one" in again and "prepare  SUCCESS" in again
    assert "skipped: succeeded in run one" in again


def test_runs_show_json_is_the_raw_run_log(runs, workdir):
    log = json.loads(cli(workdir, "runs", "show", "one", "--json", check=0).stdout)
    assert log["run_id"] == "one" and log["status"] == "FAIL"
    assert log["initial_parameters"] == {"base": {"kind": "json", "value": 21},
                                         "xs": {"kind": "json", "value": [1, 2, 3]}}
    assert log["steps"]["fan"]["branches"]["fan.1"]["steps"]["fan.1.flaky"]["status"] == "FAIL"
    from stepline.config.loader import load_services

    assert cli(workdir, "runs", "show", "one", "--json").stdout == \
        load_services(None).run_log_store.get_run_log("one").model_dump_json(indent=2) + "\n"


def test_runs_diff_shows_parameters_metrics_and_statuses(runs, workdir):
    text = cli(workdir, "runs", "diff", "one", "two", check=0).stdout
    assert text.splitlines()[0] == "runs one -> two"
    assert "  status  FAIL  ->  SUCCESS" in text
    assert "parameters at start: same" in text
    assert "  fan.1.flaky  FAIL  ->  SUCCESS" in text
    metrics = text.split("\nmetrics:")[1].split("step statuses")[0]
    assert metrics.strip() == "fan.1.flaky: accuracy  -  ->  0.2"  # skipped steps keep their metrics
    same = cli(workdir, "runs", "diff", "two", "two", check=0).stdout
    assert "step statuses: same" in same and "metrics: same" in same
    missing = cli(workdir, "runs", "diff", "one", "nope")
    assert missing.returncode == 2 and missing.stderr.startswith("error: no run 'nope'")


def test_runs_diff_reports_changed_metrics(write, workdir):
    from stepline.cli.inspect import run_diff
    from stepline.runlog.models import Attempt, Parameter, RunLog, Status, StepLog

    def run(run_id, accuracy, size):
        step = StepLog(name="train", internal_name="train", status=Status.SUCCESS,
                       attempts=[Attempt(status=Status.SUCCESS, user_defined_metrics={"accuracy": accuracy})])
        return RunLog(run_id=run_id, parameters={"size": Parameter(value=size)}, steps={"train": step})

    text, changes = run_diff(run("a", 0.5, 1), run("b", 0.75, 1))
    assert changes == 1 and "  train: accuracy  0.5  ->  0.75" in text and "parameters at end: same" in text
    text, changes = run_diff(run("a", 0.5, 1), run("b", 0.5, [1, 2]))
    assert changes == 1 and "  size  1  ->  [1, 2]" in text


def test_progress_in_a_terminal_is_coloured_and_never_parses_markup():
    import io
    import types

    from stepline.cli.progress import StepProgress
    from stepline.runlog.models import Status

    stream = io.StringIO()
    progress = StepProgress(stream, colour=True)
    run = types.SimpleNamespace(original_steps={"fan.0.[bold]x[/bold]": object()},
                                executor=types.SimpleNamespace(name="local"))
    node = types.SimpleNamespace(composite=False, type="task")
    progress(run, "fan.0.[bold]x[/bold]", node, Status.SUCCESS, 0.01)
    progress(run, "fan.1.[/usr/lib]", node, Status.FAIL, 2.5)
    out = stream.getvalue()
    assert "fan.0.[bold]x[/bold]  10 ms" in out and "fan.1.[/usr/lib]  2.50 s" in out
    assert "\x1b[" in out and "SKIPPED" in out
    plain = io.StringIO()
    StepProgress(plain, colour=False)(run, "fan.1.[/usr/lib]", node, Status.FAIL, 2.5)
    assert plain.getvalue().endswith(" FAIL    fan.1.[/usr/lib]  2.50 s\n") and "\x1b[" not in plain.getvalue()


# ---- runs timeline ----------------------------------------------------------------------------------
def test_runs_timeline_draws_steps_branches_attempts_with_bars(runs, workdir):
    shown = cli(workdir, "runs", "timeline", "one", check=0).stdout
    lines = shown.splitlines()
    assert lines[0].startswith("run one") and lines[0].split()[2] == "FAIL"
    fan = next(line for line in lines if line.lstrip().startswith("fan (map)"))
    assert "FAIL" in fan and "2/3 succeeded, 1 failed" in fan
    attempts = [line for line in lines if line.lstrip().startswith("attempt ")]
    assert len(attempts) == 2 and all("FAIL" in a and "command exited with code 1" in a for a in attempts)
    bars = [line[line.index("│") + 1:line.rindex("│")] for line in lines if "│" in line]
    assert len({len(b) for b in bars}) == 1 and all("█" in b for b in bars)  # aligned, one axis
    assert bars[0].strip() == "█" * len(bars[0])  # the run spans the whole axis
    assert "\x1b[" not in shown  # no colour into a pipe
    again = cli(workdir, "runs", "timeline", "two", check=0).stdout
    assert "skipped: succeeded in run one" in again


def test_runs_timeline_shows_user_text_as_it_is(workdir):
    from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
    from stepline.runlog.models import Attempt, RunLog, Status, StepLog

    store = ChunkedFileSystemRunLogStore.from_config({})
    store.create_run_log(RunLog(run_id="odd", status=Status.FAIL, end_time="2999-01-01T00:00:00+00:00"))
    store.put_step_log("odd", StepLog(name="s", internal_name="s", status=Status.FAIL, message="[/usr/lib] [bold]x",
                                      attempts=[Attempt(status=Status.FAIL, message="[/usr/lib] [bold]x")]))
    done = cli(workdir, "runs", "timeline", "odd", "--html", "odd.html", check=0)
    assert "[/usr/lib] [bold]x" in done.stdout
    page = (workdir / "odd.html").read_text()
    assert "[/usr/lib] [bold]x" in page and "<script src" not in page and "<link" not in page


def test_runs_timeline_html_is_self_contained(runs, workdir):
    done = cli(workdir, "runs", "timeline", "one", "--html", "t.html", check=0)
    assert "timeline written to t.html" in done.stderr
    page = (workdir / "t.html").read_text()
    assert "SteplineTimeline" in page and '"fan.1.flaky"' in page
    assert "<script src" not in page and "<link" not in page and "https://" not in page
    assert "<script>alert" not in page  # user text cannot end the data element


def test_runs_timeline_bad_input_is_one_line(runs, workdir):
    missing = cli(workdir, "runs", "timeline", "nope", check=2)
    assert "no run 'nope'" in missing.stderr and "Traceback" not in missing.stderr
    assert "--open needs --html" in cli(workdir, "runs", "timeline", "one", "--open", check=2).stderr
    assert "cannot write the timeline" in cli(workdir, "runs", "timeline", "one", "--html", "no/such/dir/t.html",
                                              check=2).stderr


@pytest.mark.parametrize("steps, counted", [(1, "(1 step)"), (2, "(2 steps)")])
def test_the_summary_counts_steps_in_words(write, workdir, steps, counted):
    body = "".join(f"    s{i}: {{type: stub, next: {f's{i + 1}' if i + 1 < steps else 'success'}}}\n"
                   for i in range(steps))
    write("pipeline.yaml", f"dag:\n  start_at: s0\n  steps:\n{body}")
    first_line = next(line for line in cli(workdir, "execute", "pipeline.yaml", check=0).stderr.splitlines()
                      if line.startswith("run "))
    assert first_line.startswith("run ") and first_line.endswith(counted)
