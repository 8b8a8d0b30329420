"""The argo executor renders every example into a manifest Argo's own models accept, deterministically."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from stepline.errors import StepLineError
from stepline.run.execute import render
from stepline.run.prepare import prepare
from stepline.testing.renderer import RendererContract

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
STEPLINE = str(Path(sys.executable).with_name("stepline"))
NAMES = sorted(p.name for p in EXAMPLES.iterdir()
               if p.is_dir() and p.name[:2] in {"01", "02", "03", "04", "06", "10", "11", "12", "13", "14",
                                                 "60", "61", "62", "63", "64"})
CONFIG = {
    "executor": {"type": "argo", "config": {
        "image": "registry.example/pipeline:1", "service_account_name": "default-editor",
        "persistent_volumes": [{"name": "stepline-volume", "mount_path": "/mnt"}]}},
    "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/run_log_store"}},
    "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}},
}

NO_VOLUME = {"type": "argo", "config": {"image": "registry.example/pipeline:1"}}


def render_example(tmp_path: Path, name: str, config: dict | None = None) -> tuple[Path, str]:
    folder = tmp_path / name
    shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns(".stepline", "*.out"))
    (folder / "argo.yaml").write_text(yaml.safe_dump(config or CONFIG))
    params = "params.yaml" if (folder / "params.yaml").exists() else None
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        written = render("pipeline.yaml", "argo.yaml", params)
    finally:
        os.chdir(cwd)
    return folder, (folder / written).read_text()


def hera_round_trip(manifest: dict) -> None:
    """Parse into hera's models (generated from Argo's OpenAPI spec); dumping must give back the input
    exactly, which catches keys the models do not know (they are silently dropped)."""
    from hera.workflows.models import CronWorkflow, Workflow

    model = (CronWorkflow if manifest["kind"] == "CronWorkflow" else Workflow).model_validate(manifest)
    assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == manifest


def semantic_check(manifest: dict) -> None:
    """Every template and task reference resolves; depends name tasks of the same DAG; inputs match."""
    import re

    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    templates = {t["name"]: t for t in spec["templates"]}
    assert len(templates) == len(spec["templates"]), "template names are unique"
    assert spec["entrypoint"] in templates and spec["onExit"] in templates
    for name in templates:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63, name
    for template in templates.values():
        tasks = (template.get("dag") or {}).get("tasks", [])
        names = [t["name"] for t in tasks]
        assert len(set(names)) == len(names)
        for task in tasks:
            target = templates[task["template"]]
            wanted = {p["name"] for p in (target.get("inputs") or {}).get("parameters", [])}
            given = {p["name"] for p in (task.get("arguments") or {}).get("parameters", [])}
            assert wanted == given, (task["name"], wanted, given)
            for ref in re.findall(r"([a-z0-9-]+)\.(?:Succeeded|Failed|Errored|Skipped)", task.get("depends", "")):
                assert ref in names and ref != task["name"], (task["name"], ref)
            for ref in re.findall(r"tasks\.([a-z0-9-]+)\.outputs", str(task)):
                assert ref in names
        for text in re.findall(r"\{\{inputs\.parameters\.([a-z_]+)\}\}", str(template)):
            assert text in {p["name"] for p in (template.get("inputs") or {}).get("parameters", [])}


@pytest.mark.parametrize("name", NAMES)
def test_every_example_renders_a_valid_deterministic_manifest(tmp_path, name):
    folder, text = render_example(tmp_path, name)
    manifest = yaml.safe_load(text)
    hera_round_trip(manifest)
    semantic_check(manifest)
    _, again = render_example(tmp_path / "again", name)
    assert again == text  # same bytes every time
    assert not (folder / ".stepline" / "runs").exists()


@pytest.mark.parametrize("name", ["60-map-reduce", "62-conditional", "63-loop", "64-nested"])
def test_golden_manifests(tmp_path, name):
    """Regenerate with STEPLINE_UPDATE_GOLDEN=1 after an intended change, and review the diff."""
    _, text = render_example(tmp_path, name)
    golden = GOLDEN / f"{name}.yaml"
    if os.environ.get("STEPLINE_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def test_every_setting_reaches_the_manifest_and_secrets_stay_references(tmp_path):
    config = yaml.safe_load(yaml.safe_dump(CONFIG))
    config["executor"]["config"].update({
        "namespace": "ml", "image_pull_policy": "IfNotPresent", "parallelism": 4,
        "active_deadline_seconds": 3600, "node_selector": {"pool": "cpu"},
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
        "secrets_from_k8s": [{"environment_variable": "API_TOKEN", "secret_name": "api", "secret_key": "token"}],
        "cron_schedule": "0 3 * * *"})
    _, text = render_example(tmp_path, "02-python-parameters", config)
    manifest = yaml.safe_load(text)
    hera_round_trip(manifest)
    semantic_check(manifest)
    assert manifest["kind"] == "CronWorkflow" and manifest["spec"]["schedules"] == ["0 3 * * *"]
    spec = manifest["spec"]["workflowSpec"]
    assert (spec["parallelism"], spec["activeDeadlineSeconds"]) == (4, 3600)
    params = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
    assert params["run_id"] == "{{workflow.uid}}"
    leaf = next(t for t in spec["templates"] if "execute-single-node" in t.get("container", {}).get("command", []))
    assert leaf["nodeSelector"] == {"pool": "cpu"} and leaf["tolerations"][0]["key"] == "gpu"
    assert leaf["container"]["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    assert {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}} \
        in leaf["container"]["env"]
    start = next(t for t in spec["templates"] if t["name"] == "start-run")
    scalar = [e for e in start["container"]["env"] if e["name"].startswith("STEPLINE_PRM_")]
    assert scalar and all(e["value"] == "{{workflow.parameters.%s}}" % e["name"][13:] for e in scalar)
    assert all(e["name"][13:] in params for e in scalar)


def test_per_step_overrides_and_retries(tmp_path, monkeypatch):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pipeline.yaml").write_text("""
dag:
  start_at: big
  steps:
    big:
      type: task
      command_type: shell
      command: echo hi
      max_attempts: 3
      retry_delay_seconds: 5
      overrides:
        argo:
          image: registry.example/gpu:2
          resources: {limits: {nvidia.com/gpu: "1"}}
""")
    (folder / "argo.yaml").write_text(yaml.safe_dump(CONFIG))
    monkeypatch.chdir(folder)
    manifest = yaml.safe_load((folder / render("pipeline.yaml", "argo.yaml")).read_text())
    hera_round_trip(manifest)
    big = next(t for t in manifest["spec"]["templates"] if t["name"] == "big")
    assert big["container"]["image"] == "registry.example/gpu:2"
    assert big["container"]["resources"] == {"limits": {"nvidia.com/gpu": "1"}}
    assert big["retryStrategy"] == {"limit": 2, "retryPolicy": "OnError", "backoff": {"duration": "5s"}}
    (folder / "pipeline.yaml").write_text((folder / "pipeline.yaml").read_text().replace("image:", "imagee:"))
    with pytest.raises(StepLineError, match="argo override 'imagee'"):
        render("pipeline.yaml", "argo.yaml")


@pytest.mark.parametrize("example, services, expected", [
    ("01-hello-shell", {"run_log_store": {"type": "buffered"}},
     "buffered run log store is reachable from this process only"),
    # without a shared volume: with one, the pods keep local stores on it (see the runnable-compat tests)
    ("01-hello-shell", {"executor": NO_VOLUME,
                        "run_log_store": {"type": "chunked-fs", "config": {"log_folder": ".stepline/runs"}}},
     "use chunked-fs on a shared volume"),
    ("05-secrets-dotenv", {"secrets": {"type": "dotenv", "config": {"location": ".env"}}},
     "use env, vault or aws-secrets-manager"),
])
def test_services_pods_cannot_reach_are_rejected_before_rendering(tmp_path, example, services, expected):
    """(A catalog or secrets backend the pipeline never uses is only a warning: see
    tests-integration/test_runnable_compat_yaml.py.)"""
    config = {**CONFIG, **services}
    folder = tmp_path / "p"
    shutil.copytree(EXAMPLES / example, folder, ignore=shutil.ignore_patterns(".stepline"))
    (folder / "argo.yaml").write_text(yaml.safe_dump(config))
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-c", "argo.yaml"], cwd=folder,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (folder / "argo-workflow.yaml").exists()


def test_render_through_the_cli_exits_zero_and_says_where(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(EXAMPLES / "61-parallel", folder)
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-c", "argo-config.yaml"], cwd=folder,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "to argo-workflow.yaml" in done.stderr
    manifest = yaml.safe_load((folder / "argo-workflow.yaml").read_text())
    hera_round_trip(manifest)
    assert not (folder / ".stepline" / "runs").exists()


def test_the_round_trip_catches_unknown_keys_and_the_semantic_check_dangling_references(tmp_path):
    _, text = render_example(tmp_path, "60-map-reduce")
    manifest = yaml.safe_load(text)
    typo = yaml.safe_load(text)
    typo["spec"]["templates"][1]["container"]["imagePullPolicyy"] = "Always"
    with pytest.raises(AssertionError):
        hera_round_trip(typo)
    dangling = yaml.safe_load(text)
    dag = next(t for t in dangling["spec"]["templates"] if t["name"] == "pipeline")
    dag["dag"]["tasks"][-1]["depends"] = "nowhere.Succeeded"
    with pytest.raises(AssertionError):
        semantic_check(dangling)
    semantic_check(manifest)


def test_names_are_dns_safe_unique_and_stable():
    from stepline.orchestration.render import NameBook

    book = NameBook()
    names = [book.name(k) for k in ["Fan.*.Square", "fan-square", "a" * 80, "echo greeting", "fan.*.square"]]
    assert names[0] == "fan-square" and names[1].startswith("fan-square-") and len(names[1]) == 19
    assert len(names[2]) == 63 and names[3] == "echo-greeting" and len(set(names)) == 5
    again = NameBook()
    assert [again.name(k) for k in ["Fan.*.Square", "fan-square", "a" * 80, "echo greeting", "fan.*.square"]] == names


def test_a_node_type_argo_cannot_express_is_a_clear_error(tmp_path, monkeypatch):
    from stepline.orchestration.render import RenderJob
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.nodes import FailNode, Node, SuccessNode
    from stepline_argo.executor import ArgoExecutor

    class Odd(Node):
        type: str = "odd"

    graph = Graph(start_at="x", steps={"x": Odd(next="success"), "success": SuccessNode(), "fail": FailNode()})
    executor = ArgoExecutor.from_config(CONFIG["executor"]["config"])
    services = type("S", (), {})()
    with pytest.raises(StepLineError, match="cannot render 'odd' steps"):
        executor.render_text(RenderJob(graph=graph, services=services, pipeline_file="p.yaml"))


def test_the_yaml_writer_round_trips_tricky_values():
    from stepline_argo.executor import to_yaml

    tricky = ["true", "No", "1", "1.5", "", "a: b", "- x", "#c", "{x}", "null", "~", " lead", "multi\nline",
              "é ü", "@at", "*star", "&amp", "!tag", "%p", "'q'", '"d"', "x:y", "0o17", "1e3", ".inf", "yes"]
    data = {"spec": {"list": tricky, "nested": [{"a": 1, "b": [True, None, 2.5]}, [1, [2]], {}, []],
                     "empty": {}, "none": [], "keys": {k or "k": k for k in tricky}}}
    assert yaml.safe_load(to_yaml(data)) == data


def test_a_retry_of_a_run_the_workflow_started_has_its_initial_parameters(tmp_path):
    """The rendered templates' commands, run in the order Argo runs them for a run whose second step fails."""
    from stepline.testing.rerun import assert_retry_sees_initial_parameters, write_project

    store = {"run_log_store": {"type": "chunked-fs", "config": {"log_folder": str(tmp_path / "mnt/runs")}},
             "catalog": {"type": "file-system", "config": {"catalog_location": str(tmp_path / "mnt/catalog")}}}
    argo = {**store, "executor": {"type": "argo", "config": {
        "image": "img:1", "persistent_volumes": [{"name": "v", "mount_path": str(tmp_path / "mnt")}]}}}
    folder = write_project(tmp_path / "p", **{"argo.yaml": yaml.safe_dump(argo), "local.yaml": yaml.safe_dump(store)})
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        written = render("pipeline.yaml", "argo.yaml", "params.yaml")
    finally:
        os.chdir(cwd)
    spec = yaml.safe_load((folder / written).read_text())["spec"]
    values = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]} | {"run_id": "argo-1"}
    templates = {t["name"]: t for t in spec["templates"]}

    def run_template(name: str, path: str = "") -> int:
        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace("{{workflow.parameters.%s}}" % key, value)
            return text.replace("{{inputs.parameters.path}}", path)

        container = templates[name]["container"]
        env = {**os.environ, **{e["name"]: fill(e["value"]) for e in container.get("env", []) if "value" in e}}
        command = [fill(part) for part in container["command"] + container.get("args", [])]
        return subprocess.run([STEPLINE, *command[1:]], cwd=folder, env=env, timeout=120).returncode

    assert run_template("start-run") == 0
    assert run_template("first", "first") == 0
    assert run_template("second", "second") == 1
    assert run_template("fail", "fail") == 1  # the fail node records FAIL
    assert run_template("finish-run") == 1
    assert_retry_sees_initial_parameters(folder, "argo-1", "local.yaml")


def test_retry_backoff_renders_as_argo_backoff(tmp_path, monkeypatch):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pipeline.yaml").write_text("""
dag:
  start_at: flaky
  steps:
    flaky:
      type: task
      command_type: shell
      command: echo hi
      max_attempts: 4
      retry_delay_seconds: 5
      retry_backoff: {factor: 1.5, max_seconds: 60, jitter: true}
""")
    (folder / "argo.yaml").write_text(yaml.safe_dump(CONFIG))
    monkeypatch.chdir(folder)
    manifest = yaml.safe_load((folder / render("pipeline.yaml", "argo.yaml")).read_text())
    hera_round_trip(manifest)
    flaky = next(t for t in manifest["spec"]["templates"] if t["name"] == "flaky")
    assert flaky["retryStrategy"] == {"limit": 3, "retryPolicy": "OnError",
                                      "backoff": {"duration": "5s", "factor": "1.5", "cap": "60s"}}


class TestArgoRendererContract(RendererContract):
    """The renderer kit: manifests parsed by hera's models, round-tripped and semantically checked."""

    @pytest.fixture
    def executor_config(self):
        return CONFIG["executor"]

    @pytest.fixture
    def services_config(self):
        return {"run_log_store": CONFIG["run_log_store"], "catalog": CONFIG["catalog"], "secrets": {"type": "env"}}

    def check_rendered(self, text, folder):
        manifest = yaml.safe_load(text)
        hera_round_trip(manifest)
        semantic_check(manifest)


def test_a_chain_longer_than_the_recursion_limit_renders(tmp_path):
    """Ordering the DAG's tasks once recursed a level per step: 1,000 steps in a row raised RecursionError."""
    steps = sys.getrecursionlimit() + 200
    chain = {f"s{i}": {"type": "task", "command_type": "shell", "command": "true",
                       **({"next": f"s{i + 1}"} if i + 1 < steps else {})} for i in range(steps)}
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump({"dag": {"start_at": "s0", "steps": chain}}))
    (tmp_path / "argo.yaml").write_text(yaml.safe_dump(CONFIG))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        manifest = yaml.safe_load((tmp_path / render("pipeline.yaml", "argo.yaml")).read_text())
    finally:
        os.chdir(cwd)
    semantic_check(manifest)
    pipeline = next(t for t in manifest["spec"]["templates"] if t["name"] == "pipeline")
    tasks = [t["name"] for t in pipeline["dag"]["tasks"]]
    assert tasks[:3] == ["start-run", "s0", "s1"] and len(tasks) == steps + 3  # and the success and fail nodes
