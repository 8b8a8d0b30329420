"""Per-step environments built by uv, offline: two wheels of one tiny package (1.0 and 2.0) are written
by the test and resolved with ``--find-links`` (``UV_FIND_LINKS``, ``UV_NO_INDEX``), so no index is asked.
uv's own cache is kept per checkout (``.ci-state/uv-cache``), environments per test."""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from stepline.envs.uv import find_uv

ROOT = Path(__file__).resolve().parents[3]
STEPLINE = str(Path(sys.executable).with_name("stepline"))
UV = find_uv() or shutil.which("uv", path=str(Path.home() / ".local" / "bin"))


@pytest.fixture(autouse=True)
def _uv_is_installed():
    # `make setup` installs uv: a machine without it must fail here, not skip what this file proves
    if UV is None:
        pytest.fail("uv is not installed (run `make setup`)", pytrace=False)

PACKAGE = '''VERSION = {version!r}


class Box:
    """A type only an environment with tinypkg can unpickle."""

    def __init__(self, value):
        self.value = value
'''

STEPS = '''
import os
import time

import stepline


def which(label: str):
    import tinypkg

    print(f"{label} sees tinypkg {tinypkg.VERSION}")
    return tinypkg.VERSION, tinypkg.Box(tinypkg.VERSION)


def unbox(box, count: int):
    import tinypkg

    print(f"box from {box.value}, here tinypkg {tinypkg.VERSION}, count+1={count + 1}")
    return tinypkg.VERSION, box.value


def in_process():
    try:
        import tinypkg
    except ImportError:
        return "none"
    return tinypkg.VERSION


def item(x: int):
    import tinypkg

    return f"{x}:{tinypkg.VERSION}"


def secretive():
    token = stepline.get_secret("API_TOKEN")
    print(f"the token is {token}")
    stepline.track("score", 0.5)
    return len(token)


def flaky():
    marker = "flaky.marker"
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return "second attempt"


def slow():
    time.sleep(30)
'''


def make_wheel(folder: Path, name: str, version: str, body: str) -> Path:
    """A minimal pure-python wheel (no build backend needed, so nothing is downloaded)."""
    dist = f"{name}-{version}"
    files = {f"{name}/__init__.py": body,
             f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: stepline-tests\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n"}
    path = folder / f"{name}-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            data = text.encode()
            archive.writestr(member, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{member},sha256={digest},{len(data)}")
        record.append(f"{dist}.dist-info/RECORD,,")
        archive.writestr(f"{dist}.dist-info/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    for version in ("1.0", "2.0"):
        make_wheel(folder, "tinypkg", version, PACKAGE.format(version=version))
    return folder


@pytest.fixture
def uv_log(tmp_path) -> Path:
    return tmp_path / "uv-calls.log"


@pytest.fixture
def offline(workdir, wheels, monkeypatch, uv_log):
    """uv on PATH through a shim that logs each call; wheels only from the local folder."""
    shim = workdir / "bin" / "uv"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho "$*" >> {uv_log}\nexec {UV} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("UV_CACHE_DIR", str(ROOT / ".ci-state" / "uv-cache"))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    monkeypatch.setenv("STEPLINE_ENVS_DIR", str(workdir / "envs"))
    (workdir / "steps.py").write_text(STEPS)
    return workdir


def task(name: str, command: str, nxt: str, **extra: str) -> str:
    lines = [f"    {name}:", "      type: task", f"      command: {command}"]
    lines += [f"      {k}: {v}" for k, v in extra.items()]
    return "\n".join([*lines, f"      next: {nxt}"])


def pipeline(*steps: str) -> str:
    first = steps[0].split(":")[0].strip()
    return "dag:\n  start_at: " + first + "\n  steps:\n" + "\n".join(steps) + "\n    success: {type: success}\n"


def execute(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([STEPLINE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, check=False)


def run_log(run_id: str | None = None):
    from stepline.config.loader import load_services

    store = load_services(None).run_log_store
    return store.get_run_log(run_id or store.list_runs()[-1].run_id)


def uv_calls(log: Path, verb: str) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith(verb)) if log.exists() else 0


# ---- two versions in one pipeline --------------------------------------------------------------------
def test_two_steps_see_their_own_versions_and_the_in_process_step_neither(offline, write):
    write("pipeline.yaml", pipeline(
        task("one", "steps.which", "two", returns='[v1, {name: box, kind: object}]',
             uv='{dependencies: ["tinypkg==1.0"]}'),
        task("two", "steps.unbox", "three", returns="[v2, boxed]", uv='{dependencies: ["tinypkg==2.0"]}'),
        task("three", "steps.in_process", "success", returns="[seen]")))
    write("params.yaml", "label: hello\ncount: '41'\n")
    done = execute("execute", "pipeline.yaml", "-p", "params.yaml")
    assert done.returncode == 0, done.stderr
    assert "hello sees tinypkg 1.0" in done.stdout  # output streamed to the console
    assert "box from 1.0, here tinypkg 2.0, count+1=42" in done.stdout  # '41' cast to int in the environment

    log = run_log()
    params = {k: p.value for k, p in log.parameters.items()}
    assert (params["v1"], params["v2"], params["boxed"], params["seen"]) == ("1.0", "2.0", "1.0", "none")
    one, two, three = log.steps["one"], log.steps["two"], log.steps["three"]
    assert one.environment.packages == {"tinypkg": "1.0"} and two.environment.packages == {"tinypkg": "2.0"}
    assert one.environment.spec == {"dependencies": ["tinypkg==1.0"]} and one.environment.source == "uv:"
    assert one.environment.python == ".".join(map(str, sys.version_info[:3]))
    assert one.environment.key != two.environment.key and three.environment is None
    # the object was pickled in the environment: this process cannot even import its type
    from stepline.config.loader import load_services

    data = load_services(None).catalog.get_bytes(log.parameters["box"].value)
    with pytest.raises(ModuleNotFoundError, match="tinypkg"):
        pickle.loads(data)

    shown = execute("runs", "show", log.run_id)
    assert f"environment: uv {one.environment.key[:12]} (uv:), python" in shown.stdout
    assert "tinypkg==2.0" in shown.stdout


def test_a_warm_environment_is_not_built_again(offline, write, uv_log):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", returns="[seen]",
                                         uv='{dependencies: ["tinypkg==2.0"]}')))
    for _ in range(2):
        done = execute("execute", "pipeline.yaml")
        assert done.returncode == 0, done.stderr
        assert run_log().parameters["seen"].value == "2.0"
    assert uv_calls(uv_log, "venv") == 1 and uv_calls(uv_log, "pip install") == 1


# ---- maps: one environment for all items -------------------------------------------------------------
def test_a_map_builds_one_environment_for_all_its_items(offline, write, uv_log):
    write("pipeline.yaml", """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: xs
              iterate_as: x
              branch:
                start_at: work
                steps:
                  work:
                    type: task
                    command: steps.item
                    returns: [out]
                    uv: {dependencies: ["tinypkg==1.0"]}
                    next: success
                  success: {type: success}
              next: success
            success: {type: success}
        """)
    write("params.yaml", f"xs: {list(range(20))}\n")
    write("config.yaml", "executor:\n  type: local\n  config:\n    max_workers: 4\n")
    done = execute("execute", "pipeline.yaml", "-p", "params.yaml", "-c", "config.yaml")
    assert done.returncode == 0, done.stderr
    log = run_log()
    fan = log.steps["fan"]
    outs = sorted(b.steps[f"{name}.work"].attempts[-1].output_parameters["out"].value
                  for name, b in fan.branches.items())
    assert outs == sorted(f"{x}:1.0" for x in range(20))
    assert uv_calls(uv_log, "venv") == 1  # concurrent workers waited for the one build
    assert len([p for p in (offline / "envs").iterdir() if p.is_dir()]) == 1


# ---- the same step context as everywhere ------------------------------------------------------------
def test_secrets_metrics_retries_and_timeouts_in_an_environment(offline, write):
    write("pipeline.yaml", pipeline(
        task("secret", "steps.secretive", "retry", returns="[length]", secrets="[API_TOKEN]",
             uv='{dependencies: ["tinypkg==1.0"]}'),
        task("retry", "steps.flaky", "slow", returns="[said]", max_attempts="2", uv='{dependencies: ["tinypkg==1.0"]}'),
        task("slow", "steps.slow", "success", timeout_seconds="1", uv='{dependencies: ["tinypkg==1.0"]}')))
    done = execute("execute", "pipeline.yaml", env={"API_TOKEN": "s3cr3t-value"})
    assert done.returncode == 1
    assert "s3cr3t-value" not in done.stdout + done.stderr
    log = run_log()
    secret = log.steps["secret"]
    assert secret.attempts[-1].output_parameters["length"].value == len("s3cr3t-value")
    assert secret.attempts[-1].user_defined_metrics == {"score": 0.5}
    from stepline.config.loader import load_services

    text = load_services(None).catalog.get_bytes(f"{log.run_id}/logs/secret.attempt-1.log").decode()
    assert "the token is ********" in text
    retry = log.steps["retry"]
    assert [a.status.value for a in retry.attempts] == ["FAIL", "SUCCESS"]
    assert "RuntimeError: first attempt fails" in retry.attempts[0].message
    slow = log.steps["slow"]
    assert slow.status.value == "FAIL" and "timed out after 1 s" in slow.message


def test_a_shell_task_runs_with_the_environment_python(offline, write):
    write("pipeline.yaml", pipeline(task(
        "shell", "'V=$(python -c \"import tinypkg; print(tinypkg.VERSION)\"); export V'", "success",
        command_type="shell", returns="[V]", uv='{dependencies: ["tinypkg==2.0"]}')))
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    assert run_log().parameters["V"].value == 2.0  # decoded as JSON, as any shell return


def test_inline_script_metadata_gives_a_python_task_its_environment(offline, write):
    write("inline.py", '''
        # /// script
        # requires-python = ">=3.11"
        # dependencies = ["tinypkg==2.0"]
        # ///
        import tinypkg


        def version():
            return tinypkg.VERSION
        ''')
    write("pipeline.yaml", pipeline(task("inline", "inline.version", "success", returns="[v]")))
    assert execute("validate", "pipeline.yaml").returncode == 0  # not imported here: tinypkg is missing
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    step = run_log().steps["inline"]
    assert step.attempts[-1].output_parameters["v"].value == "2.0"
    assert step.environment.source == "inline script metadata"
    assert step.environment.spec == {"dependencies": ["tinypkg==2.0"], "python": ">=3.11"}


def test_requirements_file_and_uv_project(offline, write):
    write("req.txt", "tinypkg==1.0\n")
    write("proj/pyproject.toml", '''
        [project]
        name = "proj"
        version = "0"
        requires-python = ">=3.11"
        dependencies = ["tinypkg==2.0"]

        [tool.uv]
        package = false
        ''')
    locked = subprocess.run([UV, "lock", "--project", "proj", "-q"], capture_output=True, text=True, check=False)
    assert locked.returncode == 0, locked.stderr
    write("pipeline.yaml", pipeline(
        task("req", "steps.in_process", "proj", returns="[a]", uv="{requirements: req.txt}"),
        task("proj", "steps.in_process", "success", returns="[b]", uv="{project: proj}")))
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    log = run_log()
    assert (log.parameters["a"].value, log.parameters["b"].value) == ("1.0", "2.0")
    assert set(log.steps["proj"].environment.files) == {"pyproject.toml", "uv.lock"}
    assert log.steps["req"].environment.files["requirements"].startswith("sha256:")


def test_sdk_python_task_with_uv(offline, write):
    write("sdk_pipeline.py", '''
        from stepline import Pipeline, PythonTask

        pipeline = Pipeline(steps=[
            PythonTask("old", function="steps.in_process", returns=["old"], uv={"dependencies": ["tinypkg==1.0"]}),
            PythonTask("here", function="steps.in_process", returns=["here"]),
        ])

        if __name__ == "__main__":
            log = pipeline.execute(quiet=True)
            print(log.status.value, log.parameters["old"].value, log.parameters["here"].value)
        ''')
    assert "uv:" in subprocess.run([sys.executable, "-c", "import sdk_pipeline; print(sdk_pipeline.pipeline.to_yaml())"],
                                   capture_output=True, text=True, check=False).stdout
    done = subprocess.run([sys.executable, "sdk_pipeline.py"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["SUCCESS", "1.0", "none"]


# ---- other executors ----------------------------------------------------------------------------------
def test_emulator_and_mocked_executors(offline, write, uv_log):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", returns="[seen]",
                                         uv='{dependencies: ["tinypkg==1.0"]}')))
    write("mocked.yaml", "executor: {type: mocked}\n")
    done = execute("execute", "pipeline.yaml", "-c", "mocked.yaml")
    assert done.returncode == 0, done.stderr
    assert run_log().steps["one"].mock and uv_calls(uv_log, "venv") == 0  # a mocked step builds nothing
    write("emulator.yaml", "executor: {type: emulator}\n")
    done = execute("execute", "pipeline.yaml", "-c", "emulator.yaml")
    assert done.returncode == 0, done.stderr
    assert run_log().parameters["seen"].value == "1.0"


def test_a_rendered_workflow_runs_the_step_in_its_environment(offline, write):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", returns="[seen]",
                                         uv='{dependencies: ["tinypkg==2.0"]}')))
    write("render.yaml", "executor:\n  type: demo-renderer\n  config:\n    output_file: run.sh\n")
    assert execute("execute", "pipeline.yaml", "-c", "render.yaml").returncode == 0
    env = {**os.environ, "PATH": str(Path(STEPLINE).parent) + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(["bash", "run.sh", "rendered-1"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    log = run_log("rendered-1")
    assert log.parameters["seen"].value == "2.0" and log.steps["one"].environment.packages == {"tinypkg": "2.0"}


# ---- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "reason"), [
    ('{dependencies: ["tinypkg==3.0"]}', "tinypkg==3.0"),
    ('{dependencies: ["tinypkg==1.0", "tinypkg==2.0"]}', "tinypkg"),
])
def test_an_unresolvable_spec_fails_the_attempt_quoting_uv(offline, write, spec, reason):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", uv=spec)))
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    step = run_log().steps["one"]
    assert step.status.value == "FAIL" and len(step.attempts) == 1
    assert step.message.startswith("uv pip install failed: ") and reason in step.message
    assert "\n" not in step.message and "unsatisfiable" in step.message
    assert not [p for p in (offline / "envs").iterdir() if p.is_dir()]  # no half-built environment left


@pytest.mark.parametrize(("spec", "message"), [
    ("{requirements: missing.txt}", "requirements file 'missing.txt' not found"),
    ("{project: nowhere}", "project 'nowhere' has no pyproject.toml"),
    ("{python: '3.99'}", "python: '3.99': no such interpreter on this machine"),
    ('{dependencies: ["not a requirement!"]}', "is not a PEP 508 requirement"),
    ("{}", "needs at least one of"),
])
def test_validate_refuses_what_it_can_know(offline, write, spec, message):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", uv=spec)))
    done = execute("validate", "pipeline.yaml")
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "'one'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_uv_not_installed_is_a_clear_error(offline, write):
    write("pipeline.yaml", pipeline(task("one", "steps.in_process", "success", uv='{dependencies: ["tinypkg"]}')))
    bare = {"PATH": "/usr/bin:/bin"}
    done = execute("validate", "pipeline.yaml", env=bare)
    assert done.returncode == 2
    assert "uv is not installed on this machine, where the local executor runs steps" in done.stderr
    assert execute("validate", "pipeline.yaml").returncode == 0


def test_a_notebook_runs_in_a_kernel_of_the_environment(offline, write):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import sys, tinypkg\nversion = tinypkg.VERSION\nkernel = sys.executable")]
    nbformat.write(notebook, str(offline / "nb.ipynb"))
    write("pipeline.yaml", pipeline(task("nb", "nb.ipynb", "success", command_type="notebook",
                                         returns="[version, kernel]", uv='{dependencies: ["tinypkg==1.0"]}')))
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    log = run_log()
    assert log.parameters["version"].value == "1.0"
    assert log.parameters["kernel"].value.startswith(str(offline / "envs"))


def other_minor_python() -> str | None:
    """An interpreter of another minor version than this one, if the machine has one."""
    for minor in (12, 13, 10):
        if minor == sys.version_info[1]:
            continue
        candidates = [shutil.which(f"python3.{minor}"),
                      *(str(p) for p in (Path.home() / ".pyenv" / "versions").glob(f"3.{minor}.*/bin/python3.{minor}"))]
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "pass"], capture_output=True, check=False).returncode == 0:
                return found
    return None


def test_a_step_on_another_python_minor_version(offline, write, monkeypatch):
    """Stepline's task runtime is installed for that interpreter (pydantic from the real index, at
    Stepline's version); the object it returns is unpickled by a step on Stepline's own version."""
    other = other_minor_python()
    # this machine kind ships pyenv's 3.10, 3.12 and 3.13 beside 3.11
    assert other is not None, "no Python interpreter of another minor version on this machine"
    monkeypatch.delenv("UV_NO_INDEX")  # tinypkg still from the local folder, pydantic from PyPI
    write("pipeline.yaml", pipeline(
        task("one", "steps.which", "two", returns='[v1, {name: box, kind: object}]',
             uv=f'{{dependencies: ["tinypkg==1.0"], python: "{other}"}}'),
        task("two", "steps.unbox", "success", returns="[v2, boxed]", uv='{dependencies: ["tinypkg==2.0"]}')))
    write("params.yaml", "label: other\ncount: 1\n")
    done = execute("execute", "pipeline.yaml", "-p", "params.yaml")
    assert done.returncode == 0, done.stderr
    log = run_log()
    one = log.steps["one"].environment
    assert one.python.rpartition(".")[0] != ".".join(map(str, sys.version_info[:2])) and one.interpreter == other
    assert one.packages["tinypkg"] == "1.0" and "pydantic" in one.packages
    assert (log.parameters["v2"].value, log.parameters["boxed"].value) == ("2.0", "1.0")


def test_a_loop_index_reaches_a_step_in_an_environment(offline, write):
    write("pipeline.yaml", """
        dag:
          start_at: again
          steps:
            again:
              type: loop
              max_iterations: 5
              break_on: done
              index_as: i
              branch:
                start_at: body
                steps:
                  body:
                    type: task
                    command_type: shell
                    command: 'python -c "import os, tinypkg; print(os.environ[\\"i\\"], tinypkg.VERSION)"; [ "$i" = 2 ] && done=true || done=false; export done'
                    returns: [done]
                    uv: {dependencies: ["tinypkg==1.0"]}
                    next: success
                  success: {type: success}
              next: success
            success: {type: success}
        """)
    done = execute("execute", "pipeline.yaml")
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.endswith(" 1.0")] == ["0 1.0", "1 1.0", "2 1.0"]
