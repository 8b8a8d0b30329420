"""The executor contract, as a pytest suite an executor package subclasses.

Usage, in an executor package's tests::

    from stepline.testing.executor import ExecutorContract

    class TestMyExecutor(ExecutorContract):
        @pytest.fixture
        def executor_config(self):
            return {"type": "my-executor", "config": {"queue": "test"}}

The contract: each standard pipeline of :mod:`stepline.testing.standard` (every node type, a
failing step routed by ``on_failure``, retries, map and parallel, parameters of each kind, catalog
get and put, secrets) run with ``stepline execute`` under the executor ends with the same exit code
and the same run log as under the ``local`` executor, compared step by step (branches included):
statuses, messages, attempts and their output parameters, catalog items and their sha256. What may
differ is what depends on where a step ran: timings, pids, code identities, catalog paths. The run
log records the executor, and no secret value reaches it. An executor that runs steps in another
process (``runs_steps_in`` wider than this process) records a step whose process is killed as
failed, with a reason, and the run goes on along ``on_failure``: never a step left ``PROCESSING``.

Override ``services_config`` to add configuration sections the executor needs (a run log store its
steps can reach), and ``kit_env`` for the environment the ``stepline`` command runs in (e.g. a
container engine's settings). ``timeout`` bounds each run, in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepline.testing import standard
from stepline.testing.cli import clean_env, run_log_json, stepline


def outcome(log: dict[str, Any]) -> dict[str, Any]:
    """What of a run log (as ``stepline runs show --json`` prints it) must not depend on the
    executor: timings, pids, code identities and catalog paths may."""
    def value(p):
        return (p["kind"], p["value"].replace(log["run_id"], "RUN") if p["kind"] == "object" else p["value"])

    def params(found: dict) -> dict:
        return {name: value(p) for name, p in found.items()}

    def steps(found: dict) -> dict:
        return {name: {"status": s["status"], "type": s["step_type"], "message": s["message"],
                       "attempts": [(a["status"], params(a["output_parameters"])) for a in s["attempts"]],
                       "catalog": sorted((c["name"], c["stage"], c["data_hash"]) for c in s.get("data_catalog", [])),
                       "branches": {k: (b["status"], params(b["parameters"]), steps(b["steps"]))
                                    for k, b in s["branches"].items()}}
                for name, s in found.items()}

    return {"status": log["status"], "message": log["message"], "parameters": params(log["parameters"]),
            "steps": steps(log["steps"])}


def write_config(folder: Path, sections: dict[str, Any]) -> str:
    """Write ``config.yaml`` with ``sections`` into ``folder``; return its name."""
    import yaml

    (folder / "config.yaml").write_text(yaml.safe_dump(sections, sort_keys=False))
    return "config.yaml"


#: Local runs' (exit code, run log) by pipeline and services, shared by the executors of a session.
_LOCAL_RUNS: dict[str, tuple[int, dict[str, Any]]] = {}


class KitFixtures:
    """The fixtures the executor and renderer kits share; a subclass provides ``executor_config``."""

    @pytest.fixture
    def executor_config(self) -> dict[str, Any]:
        pytest.fail(f"{type(self).__name__} must provide the 'executor_config' fixture", pytrace=False)

    @pytest.fixture
    def services_config(self) -> dict[str, Any]:
        """Configuration sections besides ``executor`` and ``secrets`` (the kit's dotenv)."""
        return {}

    @pytest.fixture
    def kit_env(self) -> dict[str, str]:
        """The environment of the ``stepline`` command: this one, without Stepline's variables."""
        return clean_env()


class ExecutorContract(KitFixtures):
    """Behaviour every executor that runs pipelines must have. Override ``executor_config``."""

    timeout: float = 300

    def run(self, name: str, folder: Path, sections: dict[str, Any], env: dict[str, str], run_id: str):
        standard.write_pipeline(name, folder)
        config = write_config(folder, {**standard.SERVICES, **sections})
        done = stepline("execute", "pipeline.yaml", "-c", config, "-p", "params.yaml", "--run-id", run_id,
                        cwd=folder, env=env, timeout=self.timeout)
        return done, run_log_json(run_id, config, cwd=folder, env=env)

    def local_run(self, name: str, folder: Path, sections: dict[str, Any], env: dict[str, str]):
        """The exit code and run log of ``name`` under the local executor (once per session)."""
        key = json.dumps([name, sections], sort_keys=True)
        if key not in _LOCAL_RUNS:
            done, log = self.run(name, folder, {**sections, "executor": {"type": "local"}}, env, "kit-local")
            _LOCAL_RUNS[key] = done.returncode, log
        return _LOCAL_RUNS[key]

    @pytest.mark.parametrize("pipeline", standard.PIPELINES)
    def test_a_standard_pipeline_gives_the_run_log_of_a_local_run(self, pipeline, executor_config,
                                                                   services_config, kit_env, tmp_path):
        local_code, local = self.local_run(pipeline, tmp_path / "local", services_config, kit_env)
        done, log = self.run(pipeline, tmp_path / "under-test", {**services_config, "executor": executor_config},
                             kit_env, "kit-run")
        assert done.returncode == local_code, done.stderr
        assert done.returncode in (0, 1), done.stderr  # a pipeline's outcome, not a usage error
        assert log["run_config"]["executor"]["type"] == executor_config["type"]
        expected, got = outcome(local), outcome(log)
        for step in expected["steps"]:
            assert got["steps"].get(step) == expected["steps"][step], f"step '{step}' differs"
        assert got == expected
        assert standard.SECRET_VALUE not in json.dumps(log)

    def test_a_step_whose_process_is_killed_fails_with_a_reason(self, executor_config, services_config,
                                                                 kit_env, tmp_path):
        from stepline.api import Locality
        from stepline.plugins.manager import component_class

        if component_class("executor", executor_config["type"]).runs_steps_in <= Locality.PROCESS:
            pytest.skip("steps run in this process: killing one kills the run")
        folder = standard.write_pipeline("data", tmp_path / "killed")
        (folder / "pipeline.yaml").write_text(standard.KILLED)
        config = write_config(folder, {**standard.SERVICES, **services_config, "executor": executor_config})
        done = stepline("execute", "pipeline.yaml", "-c", config, "--run-id", "kit-killed", cwd=folder,
                        env=kit_env, timeout=self.timeout)
        assert done.returncode == 1, done.stderr
        log = run_log_json("kit-killed", config, cwd=folder, env=kit_env)
        killed = log["steps"]["killed"]
        assert killed["status"] == "FAIL" and killed["message"].strip(), killed
        assert log["steps"]["after"]["status"] == "SUCCESS"
        assert log["status"] == "FAIL"
