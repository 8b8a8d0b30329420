"""What the executor asks the engines for: podman argv and Docker API arguments (no engine needed).
No Docker engine runs on the test machine: the docker path is tested here, against a fake client."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from stepline.config.loader import load_services
from stepline.errors import StepLineError
from stepline.pipeline.nodes import TaskNode
from stepline.plugins.manager import get_plugin_manager
from stepline.run.prepare import prepare
from stepline_container.engines import ContainerError, DockerEngine, Outcome, PodmanEngine
from stepline_container.executor import LocalContainerExecutor, explain
from stepline.testing.integration import IntegrationCheckContract

ROOT = Path(__file__).resolve().parents[3]


def prepared(write, workdir, monkeypatch, extra=""):
    monkeypatch.setenv("APP_TOKEN", "s3cret-value")
    write("config.yaml", f"""
        executor:
          type: local-container
          config: {{docker_image: 'localhost/img:1', environment: {{MODE: fast}}{extra}}}
        run_log_store: {{type: chunked-fs, config: {{log_folder: {workdir}/logs/runs}}}}
        catalog: {{type: file-system, config: {{catalog_location: {workdir}/cat}}}}
        secrets: {{type: env, config: {{prefix: APP_}}}}
    """)
    write("pipeline.yaml", "dag: {start_at: s, steps: {s: {type: task, command: x.y, next: success}, success: {type: success}}}\n")
    services = load_services("config.yaml")
    get_plugin_manager().configure_integration(services.executor, services.services(), "traversal")
    run = SimpleNamespace(run_id="r1", pipeline_file=str(workdir / "pipeline.yaml"),
                          config_file=str(workdir / "config.yaml"), services=services)
    node = TaskNode(command="x.y", secrets=["TOKEN"], overrides={"local-container": {"docker_image": "localhost/big:2"}})
    executor = services.executor
    return run, node, executor, executor.container_spec(run, node, "fan.3.s", executor.step_settings(node))


def test_podman_command_mounts_service_folders_and_passes_secrets_by_name(write, workdir, monkeypatch):
    run, _node, executor, spec = prepared(write, workdir, monkeypatch)
    argv = PodmanEngine().argv(spec)
    text = " ".join(argv)
    assert isinstance(executor, LocalContainerExecutor)
    assert argv[:2] == ["podman", "run"] and "--network=none" in argv and "--pull=never" in argv
    assert argv[argv.index("--workdir") + 1] == str(workdir)
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    # the working folder holds the pipeline, config, run log and catalog folders: one mount
    assert volumes == [f"{workdir}:{workdir}"]
    assert (workdir / "logs" / "runs").is_dir() and (workdir / "cat").is_dir()  # created to be mountable
    assert "--env APP_TOKEN" in text and "s3cret-value" not in text  # the value never in argv
    assert "--env STEPLINE_RUN_ID=r1" in text and "--env MODE=fast" in text
    assert argv[argv.index("localhost/big:2"):] == [
        "localhost/big:2", "stepline", "execute-single-node", "r1", "fan.3.s", "-f", run.pipeline_file,
        "-c", run.config_file]


def test_service_folders_outside_the_working_folder_are_mounted_at_the_same_paths(write, workdir, monkeypatch, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("shared")
    monkeypatch.chdir(workdir)
    write("other.yaml", f"""
        executor: {{type: local-container, config: {{docker_image: i, network: host, mounts: ['/data:ro']}}}}
        run_log_store: {{type: file-system, config: {{log_folder: {elsewhere}/runs}}}}
    """)
    services = load_services("other.yaml")
    get_plugin_manager().configure_integration(services.executor, services.services(), "traversal")
    run = SimpleNamespace(run_id="r", pipeline_file="missing.yaml", config_file="other.yaml", services=services)
    node = TaskNode(command="x.y")
    spec = services.executor.container_spec(run, node, "s", services.executor.step_settings(node))
    argv = PodmanEngine().argv(spec)
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    assert f"{elsewhere}/runs:{elsewhere}/runs" in volumes and "/data:/data:ro" in volumes
    assert "--network=host" in argv


def test_every_file_of_a_configuration_stack_is_mounted(write, workdir, monkeypatch, tmp_path_factory):
    platform = tmp_path_factory.mktemp("platform")
    (platform / "base.yaml").write_text("executor: {type: local-container, config: {docker_image: i}}\n")
    monkeypatch.chdir(workdir)
    write("team.yaml", f"extends: {platform}/base.yaml\n")
    services = load_services("team.yaml")
    run = SimpleNamespace(run_id="r", pipeline_file="missing.yaml", config_file="team.yaml", services=services)
    node = TaskNode(command="x.y")
    spec = services.executor.container_spec(run, node, "s", services.executor.step_settings(node))
    argv = PodmanEngine().argv(spec)
    volumes = [argv[i + 1] for i, a in enumerate(argv) if a == "--volume"]
    assert f"{platform}:{platform}" in volumes and f"{workdir}:{workdir}" in volumes


def test_docker_api_arguments_match_the_podman_command(write, workdir, monkeypatch):
    _run, _node, _executor, spec = prepared(write, workdir, monkeypatch)
    kwargs = DockerEngine(client=object()).run_kwargs(spec)
    assert kwargs["image"] == "localhost/big:2" and kwargs["network_mode"] == "none"
    assert kwargs["volumes"] == {str(workdir): {"bind": str(workdir), "mode": "rw"}}
    assert kwargs["working_dir"] == str(workdir)
    assert kwargs["environment"]["APP_TOKEN"] == "s3cret-value"  # over the API, not a command line
    assert kwargs["command"][:4] == ["stepline", "execute-single-node", "r1", "fan.3.s"]


class FakeDocker:
    """A stand-in for docker.DockerClient: the daemon's answers for a missing image / a refused start."""

    def __init__(self):
        self.images = SimpleNamespace(get=self._missing)
        self.containers = SimpleNamespace(run=self._refuse)

    def _missing(self, name):
        raise RuntimeError(f"404 Client Error: No such image: {name}")

    def _refuse(self, **kwargs):
        raise RuntimeError("500 Server Error: OCI runtime create failed:\n  no such file")


def test_docker_missing_image_and_refused_start_are_one_line_messages(write, workdir, monkeypatch):
    _run, _node, _executor, spec = prepared(write, workdir, monkeypatch)
    engine = DockerEngine(client=FakeDocker())
    with pytest.raises(ContainerError, match=r"image 'localhost/big:2' is not available to docker; build or pull"):
        engine.image_digest("localhost/big:2")
    outcome = engine.run(spec)
    message = explain(outcome, "fan.3.s", spec.image)
    assert message == ("the container of step 'fan.3.s' (image localhost/big:2) could not start: "
                       "500 Server Error: OCI runtime create failed: no such file")


def test_exit_codes_are_explained():
    spec = SimpleNamespace(image="i")
    assert "could not run `stepline` (exit 127)" in explain(Outcome(127), "s", spec.image)
    assert "was stopped (SIGTERM" in explain(Outcome(143), "s", spec.image)
    assert explain(Outcome(3, "Error: boom"), "s", spec.image) == \
        "the container of step 's' exited 3 without recording the step: Error: boom"


def test_an_unknown_per_step_setting_is_refused(write, workdir, monkeypatch):
    _run, _node, executor, _spec = prepared(write, workdir, monkeypatch)
    bad = TaskNode(command="x.y", overrides={"local-container": {"image": "x"}})
    with pytest.raises(StepLineError, match="overrides.local-container: unknown setting 'image'"):
        executor.step_settings(bad)
    # and a pipeline with it is refused before its run, naming the file and the step
    write("pipeline.yaml", "dag: {start_at: s, steps: {s: {type: task, command: x.y, "
                           "overrides: {local-container: {image: x}}}}}\n")
    with pytest.raises(StepLineError) as refused:
        prepare("pipeline.yaml", "config.yaml", import_code=False)
    assert str(refused.value).startswith("pipeline.yaml: step 's': overrides.local-container: unknown setting 'image'")


def test_every_setting_is_in_the_docs_table():
    page = (ROOT / "docs" / "executors" / "local-container.md").read_text()
    for field in LocalContainerExecutor.Settings.model_fields:
        assert f"| `{field}` |" in page, field


def _missing_engine():
    return LocalContainerExecutor.from_config({"docker_image": "i", "podman": "/nonexistent/podman"})


def test_a_missing_engine_stops_the_run_before_any_step(monkeypatch):
    from stepline.errors import IntegrationError

    monkeypatch.delenv("STEPLINE_RUN_ID", raising=False)
    with pytest.raises(IntegrationError, match="^the local-container executor runs steps with '/nonexistent/podman', "
                                               "which is not on PATH; install podman"):
        get_plugin_manager().check_integration(_missing_engine(), [])


def test_inside_a_step_process_the_engine_is_not_checked(monkeypatch):
    monkeypatch.setenv("STEPLINE_RUN_ID", "r1")  # as in the container, where there is no engine
    assert get_plugin_manager().check_integration(_missing_engine(), []) == []


class TestContainerChecks(IntegrationCheckContract):
    """stepline-container's executor check passes the integration check kit."""

    @pytest.fixture(autouse=True)
    def _walking_process(self, monkeypatch):
        monkeypatch.delenv("STEPLINE_RUN_ID", raising=False)

    @pytest.fixture
    def plugin(self):
        from stepline_container import plugin

        return plugin

    @pytest.fixture
    def services(self):
        from stepline.catalog.file_system import FileSystemCatalog

        return [FileSystemCatalog()]

    @pytest.fixture
    def executors(self):
        return [_missing_engine(), LocalContainerExecutor.from_config({"docker_image": "i"})]
