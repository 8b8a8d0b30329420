"""The console entry point's fast path of ``execute`` and ``execute-single-node``: it reads exactly
what typer's commands read, hands everything else to the typer app, ends a run the same way, and
imports neither typer nor any backend's heavy dependency."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from stepline.cli.entry import COMMANDS, parse_fast
from stepline.testing.cli import STEPLINE, clean_env

TYPER_PATH = "from stepline.cli.app import main; main()"


@pytest.mark.parametrize("args, expected", [
    (["execute", "p.yaml"], {"pipeline": "p.yaml"}),
    (["execute", "-f", "p.yaml", "-c", "a.yaml", "--config", "b.yaml", "--config=c.yaml"],
     {"file": "p.yaml", "config": ["a.yaml", "b.yaml", "c.yaml"]}),
    (["execute", "--no-progress", "p.yaml", "--tag", "nightly", "--run-id=r1", "-p", "params.yaml"],
     {"pipeline": "p.yaml", "progress": False, "tag": "nightly", "run_id": "r1", "parameters": "params.yaml"}),
])
def test_reads_executes_options(args, expected):
    execute = COMMANDS["execute"]
    assert parse_fast(args) == (False, execute, {**execute.defaults, **expected})


def test_reads_the_global_debug_flag():
    execute = COMMANDS["execute"]
    assert parse_fast(["--debug", "execute", "p.yaml"]) == (True, execute, {**execute.defaults, "pipeline": "p.yaml"})


def test_reads_execute_single_nodes_arguments():
    assert parse_fast(["execute-single-node", "r1", "fan.3.sq", "-f", "p.yaml", "-c", "a.yaml",
                       "--map-variable", '{"x": 3}']) == (False, COMMANDS["execute-single-node"], {
        "run_id": "r1", "step": "fan.3.sq", "file": "p.yaml", "config": ["a.yaml"], "map_variable": '{"x": 3}'})


def test_reads_an_engines_callbacks():
    fan = COMMANDS["fan"]
    assert parse_fast(["fan", "r1", "outer.0.loop", "out", "-f", "p.yaml", "--iteration", "2",
                       "--output-file=k.json"]) == (False, fan, {**fan.defaults, "run_id": "r1", "step": "outer.0.loop",
                                                                  "direction": "out", "file": "p.yaml", "iteration": 2,
                                                                  "output_file": "k.json"})
    start = COMMANDS["start-run"]
    assert parse_fast(["start-run", "r1", "-f", "p.yaml", "-p", "params.yaml", "-c", "a.yaml", "-c", "b.yaml"]) == (
        False, start, {**start.defaults, "run_id": "r1", "file": "p.yaml", "parameters": "params.yaml",
                       "config": ["a.yaml", "b.yaml"]})
    finish = COMMANDS["finish-run"]
    assert parse_fast(["finish-run", "r1", "--file", "p.yaml"]) == (
        False, finish, {**finish.defaults, "run_id": "r1", "file": "p.yaml"})


@pytest.mark.parametrize("args", [
    [], ["--help"], ["validate", "p.yaml"], ["execute", "p.yaml", "--help"], ["execute", "--tga", "x", "p.yaml"],
    ["execute", "p.yaml", "--tag"], ["execute", "--tag", "--progress", "p.yaml"], ["execute", "--tag=", "p.yaml"],
    ["execute", "a.yaml", "r1", "extra"], ["execute", "--", "p.yaml"], ["execute", "-"], ["execute", ""],
    ["execute", "-fp.yaml"], ["execute", "--progress=yes", "p.yaml"], ["execute", "--tag", "a", "--tag", "b", "p"],
    ["execute", "--debug", "p.yaml"], ["--debug", "--debug", "execute", "p.yaml"], ["runs", "execute"],
    ["execute-single-node", "r1", "a"], ["execute-single-node", "r1", "-f", "p.yaml"],
    ["execute-single-node", "r1", "a", "b", "-f", "p.yaml"], ["execute-single-node", "r1", "a", "-f", "p", "--tag", "x"],
    ["fan", "r1", "f", "out", "-f", "p.yaml", "--iteration", "two"], ["fan", "r1", "f", "-f", "p.yaml"],
    ["start-run", "r1"], ["finish-run", "r1", "-f", "p.yaml", "--tag", "x"],
])
def test_leaves_everything_else_to_typer(args):
    assert parse_fast(args) is None


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_knows_every_option_of_the_typer_command(name):
    """A new option of the command must be added to the fast path (or it would go to typer, slowly)."""
    import typer
    from stepline.cli.app import app

    fast = COMMANDS[name]
    command = typer.main.get_command(app).commands[name]
    spellings, defaults, arguments, required = set(), {}, [], set()
    for param in command.params:
        if param.param_type_name == "option":
            spellings.update(param.opts + param.secondary_opts)
            required.update([param.name] if param.required else [])
        else:
            arguments.append(param.name)
        if not param.required:
            defaults[param.name] = param.default
    assert spellings == set(fast.value_options) | set(fast.flags)
    assert tuple(arguments) == fast.arguments
    assert sum(1 for p in command.params if p.param_type_name == "argument" and p.required) == fast.required_arguments
    assert required == fast.required_options
    assert defaults == fast.defaults


PIPELINES = {
    "ok.yaml": "dag: {start_at: a, steps: {a: {type: stub}}}\n",
    "fails.yaml": "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'exit 3'}}}\n",
    "bad.yaml": "dag: {start_at: a, steps: {a: {type: stb}}}\n",
    "c1.yaml": "run_log_store: {type: file-system, config: {log_folder: runs1}}\n",
    "c2.yaml": "catalog: {type: do-nothing}\n",
    "par.yaml": "dag: {start_at: p, steps: {p: {type: parallel, next: success, branches: {"
                "x: {start_at: a, steps: {a: {type: stub}}}, y: {start_at: a, steps: {a: {type: stub}}}}}}}\n",
}
CASES = [
    ["execute", "ok.yaml", "--run-id", "r1", "--tag", "t"],
    ["execute", "-f", "fails.yaml", "--no-progress", "--run-id", "r2"],
    ["execute", "bad.yaml"],
    ["execute", "-c", "c1.yaml", "-c", "c2.yaml", "ok.yaml", "--run-id", "r3"],
    ["execute", "ok.yaml", "-f", "fails.yaml"],
    ["--debug", "execute", "-c", "missing.yaml", "ok.yaml"],
]


def _same_for_both(text: str) -> str:
    """Output with what differs from one run to the next (times, traceback frames) masked, and the
    program name click prints in a usage error (``-c`` for the typer path run by ``python -c``)."""
    text = re.sub(r" *(\d+ ms|\d+\.\d+ s|\d\d:\d\d:\d\d)", " T", text)
    text = re.sub(r"(Usage: |Try ')-c ", r"\1stepline ", text)
    return text[text.find("error:"):] if text.startswith("Traceback") else text


#: (what runs first, through the fast path, then the command both paths run)
CASES = [([], case) for case in CASES] + [
    (["execute", "fails.yaml", "--run-id", "r9"], ["execute-single-node", "r9", "a", "-f", "fails.yaml"]),
    (["execute", "ok.yaml", "--run-id", "r9"], ["execute-single-node", "r9", "a", "--file=ok.yaml", "-c", "c2.yaml"]),
    (["execute", "ok.yaml", "--run-id", "r9"], ["execute-single-node", "r9", "nope", "-f", "ok.yaml"]),
    ([], ["execute-single-node", "r8", "a", "-f", "ok.yaml"]),
    # the other callbacks of a rendered run
    ([], ["start-run", "e1", "-f", "ok.yaml", "--tag", "t"]),
    (["start-run", "e1", "-f", "ok.yaml"], ["start-run", "e1", "--file=ok.yaml", "-c", "c2.yaml"]),
    (["start-run", "e2", "-f", "par.yaml"], ["fan", "e2", "p", "out", "-f", "par.yaml", "--output-file", "k.json"]),
    (["start-run", "e2", "-f", "par.yaml"], ["fan", "e2", "p", "sideways", "-f", "par.yaml"]),
    (["start-run", "e2", "-f", "par.yaml"], ["fan", "e2", "p", "in", "-f", "par.yaml", "--iteration", "0"]),
    (["start-run", "e2", "-f", "par.yaml"], ["fan", "e2", "p", "out", "-f", "par.yaml", "--iteration", "x"]),
    (["start-run", "e3", "-f", "ok.yaml"], ["finish-run", "e3", "-f", "ok.yaml"]),
    (["execute", "ok.yaml", "--run-id", "e4"], ["finish-run", "e4", "-f", "ok.yaml"]),
    ([], ["finish-run", "nope", "-f", "ok.yaml"]),
]


@pytest.mark.parametrize("before, args", CASES, ids=[" ".join(c[1]) for c in CASES])
def test_fast_path_ends_like_the_typer_app(tmp_path, before, args):
    ends = []
    for name, command in (("fast", [STEPLINE]), ("typer", [sys.executable, "-c", TYPER_PATH])):
        folder = tmp_path / name
        folder.mkdir()
        for file, text in PIPELINES.items():
            (folder / file).write_text(text)
        if before:
            subprocess.run([STEPLINE, *before], cwd=folder, env=clean_env(), capture_output=True, check=False,
                           timeout=60)
        done = subprocess.run([*command, *args], cwd=folder, env=clean_env(), capture_output=True, text=True,
                              check=False, timeout=60)
        runs = sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name not in PIPELINES)
        ends.append((done.returncode, done.stdout, _same_for_both(done.stderr), runs))
    assert ends[0] == ends[1]


def _modules_after(code: str, cwd: Path, *argv: str) -> set[str]:
    """Top-level packages imported by ``code`` run with ``sys.argv[1:] = argv``, listed as it exits."""
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})),"
             " file=sys.stderr))\n"
             f"sys.argv = ['stepline', *{list(argv)!r}]\n{code}")
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False,
                          timeout=60)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


HEAVY = {"rich", "starlette", "uvicorn", "jinja2", "fsspec", "sqlalchemy", "boto3", "botocore", "hvac", "mlflow",
         "papermill", "nbformat"}


def test_execute_imports_no_typer_nor_heavy_backends(tmp_path):
    (tmp_path / "ok.yaml").write_text(PIPELINES["ok.yaml"])
    loaded = _modules_after("from stepline.cli.entry import main; main()", tmp_path, "execute", "ok.yaml")
    assert "stepline" in loaded
    assert not loaded & (HEAVY | {"typer", "click"})


def test_a_python_step_outside_a_git_repository_does_not_import_subprocess(tmp_path):
    """The code identity asks git only where git could find a repository, and a step's own uv
    environment is the only other python-step path that starts a process: neither needs the module
    (and what it imports: locale, selectors) on a plain run's path."""
    (tmp_path / "steps.py").write_text("def noop():\n    return None\n")
    (tmp_path / "py.yaml").write_text("dag: {start_at: a, steps: {a: {type: task, command: steps.noop}}}\n")
    loaded = _modules_after("from stepline.cli.entry import main; main()", tmp_path, "execute", "py.yaml")
    assert "stepline" in loaded and (tmp_path / ".stepline" / "runs").is_dir()
    assert not any((folder / ".git").exists() for folder in (tmp_path, *tmp_path.parents))  # the premise
    assert "subprocess" not in loaded


def test_an_engines_callbacks_import_no_typer(tmp_path):
    (tmp_path / "ok.yaml").write_text(PIPELINES["ok.yaml"])
    for argv in (["start-run", "r1", "-f", "ok.yaml"], ["finish-run", "r1", "-f", "ok.yaml"]):
        loaded = _modules_after("from stepline.cli.entry import main; main()", tmp_path, *argv)
        assert "stepline" in loaded and not loaded & (HEAVY | {"typer", "click"}), argv


def test_the_cli_module_imports_only_typer(tmp_path):
    loaded = _modules_after("import stepline.cli.app", tmp_path)
    assert "typer" in loaded
    assert not loaded & (HEAVY | {"pydantic", "yaml", "pluggy"})
