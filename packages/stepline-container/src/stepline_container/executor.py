"""The ``local-container`` executor: traverses the graph here and runs every task step as
``stepline execute-single-node`` inside a container (podman CLI or the Docker API), then reads
the step's outcome back from the run log.

The folders every service keeps on this machine (``Component.local_paths()``: run log folder,
catalog, .env file) are collected by this package's ``stepline_configure_integration`` hook and
mounted at the same absolute paths, with the working directory; nothing here knows which service
is which.
"""

from __future__ import annotations

import os
import re
import secrets as _random
import subprocess
import sys
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationError
from stepline.api import (
    CodeIdentity,
    EmulatorSettings,
    Locality,
    Status,
    StepProcessExecutor,
    config_error,
    single_node_command,
)

from stepline_container.engines import (
    ContainerError,
    ContainerSpec,
    DockerEngine,
    Mount,
    Outcome,
    PodmanEngine,
)

#: Exit codes of ``podman run`` / ``docker run`` that mean the container never ran the command.
_ENGINE_FAILED, _NOT_EXECUTABLE, _NOT_FOUND = 125, 126, 127


class ContainerSettings(EmulatorSettings):
    docker_image: str
    engine: Literal["podman", "docker"] = "podman"
    #: ``none`` (no network), ``host``, or a network the engine knows.
    network: str = "none"
    #: Extra environment: NAME: value; a null value passes NAME through from this process.
    environment: dict[str, str | None] = Field(default_factory=dict)
    #: Extra mounts, ``host_path[:container_path][:ro]``.
    mounts: list[str] = Field(default_factory=list)
    #: The podman executable.
    podman: str = "podman"


#: Settings a step may change with ``overrides: {local-container: {...}}``.
STEP_SETTINGS = ("docker_image", "network", "environment", "mounts")


class LocalContainerExecutor(StepProcessExecutor):
    name: ClassVar[str] = "local-container"
    runs_steps_in: ClassVar[Locality] = Locality.MACHINE
    Settings: ClassVar[type] = ContainerSettings

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._mounts: list[str] = []
        self._configured = False
        self._identities: dict[tuple[str, str], CodeIdentity] = {}
        #: (prefix, suffix) when secrets come from the environment: the step's secret names are
        #: passed through as prefix + NAME + suffix (set by the configure hook).
        self.secret_env_names: tuple[str, str] | None = None

    # ---- configuration ------------------------------------------------------------------------------
    def add_mounts(self, paths: list[str]) -> None:
        """Mount ``paths`` (folders or files of a service) at the same absolute paths. A missing
        folder is created so the engine can bind it; a missing file (a .env not written yet) is skipped."""
        self._configured = True
        for raw in paths or []:
            if not raw:
                continue
            path = Path(raw).expanduser().absolute()
            if not path.exists():
                if path.suffix or path.name.startswith(".env"):
                    continue
                path.mkdir(parents=True, exist_ok=True)
            if str(path) not in self._mounts:
                self._mounts.append(str(path))

    def step_settings(self, node) -> ContainerSettings:
        overrides = self.step_overrides(node)
        bad = sorted(set(overrides) - set(STEP_SETTINGS))
        if bad:
            from stepline.api import ConfigError

            raise ConfigError(f"overrides.{self.name}: unknown setting '{bad[0]}'",
                              hint=f"a step may override {', '.join(STEP_SETTINGS)}")
        if not overrides:
            return self.settings
        try:
            return self.Settings.model_validate({**self.settings.model_dump(), **overrides})
        except ValidationError as exc:
            raise config_error(exc, self.Settings, f"overrides.{self.name}", "pipeline") from None

    def check_step(self, node, path: str) -> None:
        self.step_settings(node)

    def check_uv(self) -> str | None:
        return (f"warning: a step with uv: builds its environment in the container: the image "
                f"{self.settings.docker_image!r} must have uv (not checked before the run)")

    def engine(self, settings: ContainerSettings):
        if settings.engine == "docker":
            return DockerEngine()
        return PodmanEngine(settings.podman)

    def container_spec(self, run, node, internal_name: str, settings: ContainerSettings) -> ContainerSpec:
        cwd = os.getcwd()
        from stepline.api import config_files

        folders = [cwd, str(Path(run.pipeline_file).absolute().parent) if _is_file(run.pipeline_file) else None,
                   *(str(path.parent) for path in config_files(run.config_file)), *self._mounts]
        mounts: list[Mount] = []
        for folder in folders:
            if folder and not any(_inside(folder, m.host) for m in mounts):
                mounts = [m for m in mounts if not _inside(m.host, folder)] + [Mount(folder, folder)]
        for extra in settings.mounts:
            mounts.append(_parse_mount(extra))
        env: dict[str, str | None] = {"STEPLINE_RUN_ID": run.run_id, "PYTHONUNBUFFERED": "1"}
        if self.secret_env_names is not None:
            prefix, suffix = self.secret_env_names
            for secret in getattr(node, "secrets", []) or []:
                key = f"{prefix}{secret}{suffix}"
                if key in os.environ:
                    env[key] = None  # passed through by name: the value never appears in argv or logs
        env.update(settings.environment)
        name = re.sub(r"[^a-zA-Z0-9_.-]", "-", f"stepline-{run.run_id}-{internal_name}")[:200]
        return ContainerSpec(name=f"{name}-{_random.token_hex(3)}", image=settings.docker_image,
                             command=single_node_command(run.run_id, internal_name, run.pipeline_file, run.config_file), workdir=cwd,
                             network=settings.network, mounts=mounts, env=env)

    # ---- running ------------------------------------------------------------------------------------
    #: podman's own errors ("Error: image not known") explain a container that never started.
    keeps_stderr: ClassVar[bool] = True

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        if node.type != "task":
            return super().run_leaf(run, node, internal_name, branch)  # stubs record in-process
        if not self._configured:  # e.g. a named per-step executor configured late: same hook
            from stepline.api import get_plugin_manager

            get_plugin_manager().configure_integration(self, run.services.services(), "traversal")
            self._configured = True
        from stepline.api import StepLineError

        try:
            settings = self.step_settings(node)
            engine = self.engine(settings)
            identity = self._image_identity(engine, settings.docker_image)
            if isinstance(engine, DockerEngine):
                status = self._run_with_docker_api(run, node, internal_name, engine, settings)
            else:
                status = super().run_leaf(run, node, internal_name, branch)  # runs wrap_command's argv
        except StepLineError as exc:
            return record_failure(run, node, internal_name, str(exc))
        except ContainerError as exc:
            return record_failure(run, node, internal_name, f"step '{internal_name}': {exc}")
        step = run.store.get_step_log(run.run_id, internal_name)
        step.code_identities.append(identity)
        run.store.put_step_log(run.run_id, step)
        return status

    def wrap_command(self, run, node, internal_name: str, command: list[str]) -> list[str]:
        """The ``podman run`` argv that runs the step's ``stepline execute-single-node`` call (with
        the image's own ``stepline``) in the step's container."""
        settings = self.step_settings(node)
        spec = self.container_spec(run, node, internal_name, settings)
        return PodmanEngine(settings.podman).argv(spec)

    def lost_reason(self, run, node, internal_name: str, command: list[str], argv: list[str],
                    exit_code: int, error: str) -> str:
        """What podman's exit code says about a container that ended without recording the step
        (also said on stderr)."""
        image = self.step_settings(node).docker_image
        message = explain(Outcome(exit_code, error), internal_name, image)
        print(f"error: {message}", file=sys.stderr)
        return message

    def stop(self, run, node, internal_name: str, argv: list[str]) -> None:
        """Remove the step's container: killing ``podman run`` does not stop it."""
        name = argv[argv.index("--name") + 1]
        subprocess.run([argv[0], "rm", "--force", "--time", "0", name], capture_output=True, timeout=60, check=False)

    def _run_with_docker_api(self, run, node, internal_name: str, engine: DockerEngine,
                             settings: ContainerSettings) -> Status:
        """Run the step through the Docker API. This path keeps its own run-and-wait instead of
        :meth:`wrap_command`: the docker SDK asks the daemon to create the container, so there is
        no process here to spawn, wait for or kill; only the lost-step record is shared."""
        spec = self.container_spec(run, node, internal_name, settings)
        outcome = engine.run(spec)
        step = run.store.get_step_log(run.run_id, internal_name)
        if step is None or step.status not in (Status.SUCCESS, Status.FAIL):
            return record_failure(run, node, internal_name, explain(outcome, internal_name, spec.image))
        return step.status

    def _image_identity(self, engine, image: str) -> CodeIdentity:
        key = (type(engine).__name__, image)
        if key not in self._identities:
            digest = engine.image_digest(image)
            self._identities[key] = CodeIdentity(code_identifier=digest, code_identifier_type="container-image",
                                                 code_identifier_dependable=True, code_identifier_url=image)
        return self._identities[key]


def explain(outcome: Outcome, internal_name: str, image: str) -> str:
    """One line: why the container of a step ended without recording the step."""
    code, detail = outcome.exit_code, f": {outcome.error}" if outcome.error else ""
    if code == _ENGINE_FAILED:
        return f"the container of step '{internal_name}' (image {image}) could not start{detail}"
    if code in (_NOT_EXECUTABLE, _NOT_FOUND):
        return (f"the container of step '{internal_name}' could not run `stepline` (exit {code}); "
                f"install stepline in the image {image}{detail}")
    if code in (137, -9):
        return f"the container of step '{internal_name}' was killed (SIGKILL, exit {code}) before the step finished"
    if code in (143, -15):
        return f"the container of step '{internal_name}' was stopped (SIGTERM, exit {code}) before the step finished"
    return f"the container of step '{internal_name}' exited {code} without recording the step{detail}"


def record_failure(run, node, internal_name: str, message: str) -> Status:
    """Fail a step whose container never recorded an outcome, with the reason (what the container
    recorded, if anything, is kept), and say why on stderr."""
    from stepline.api import record_lost

    print(f"error: {message}", file=sys.stderr)
    return record_lost(run, node, internal_name, message).status


def _is_file(reference: str) -> bool:
    return Path(reference).is_file()


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _parse_mount(text: str) -> Mount:
    parts = text.split(":")
    read_only = parts[-1] == "ro" and len(parts) > 1
    if parts[-1] in ("ro", "rw") and len(parts) > 1:
        parts = parts[:-1]
    host = str(Path(parts[0]).expanduser().absolute())
    return Mount(host, parts[1] if len(parts) > 1 else host, read_only)
