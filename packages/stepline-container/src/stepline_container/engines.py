"""Container engines: the podman CLI and the Docker API (docker SDK, imported only when used). The
podman engine renders a :class:`ContainerSpec` to ``podman run`` argv (the executor runs it as the
step's process); the Docker engine runs the spec through the daemon and returns an :class:`Outcome`.
Both raise :class:`ContainerError` for an engine or image that is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any


class ContainerError(Exception):
    """A container could not be created or its image is missing (one line)."""


@dataclass
class Mount:
    host: str
    target: str
    read_only: bool = False


@dataclass
class ContainerSpec:
    """Everything an engine needs to run one step; rendered to ``podman run`` argv or Docker API
    keyword arguments."""

    name: str
    image: str
    command: list[str]
    workdir: str
    network: str
    mounts: list[Mount] = field(default_factory=list)
    #: NAME -> value; None passes NAME through from this process's environment (secrets).
    env: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Outcome:
    exit_code: int
    error: str = ""  # the engine's last error line, if any


class PodmanEngine:
    """The podman CLI: image digests, and the ``podman run`` argv of a step."""

    def __init__(self, podman: str = "podman") -> None:
        self.podman = podman

    def image_digest(self, image: str) -> str:
        try:
            done = subprocess.run([self.podman, "image", "inspect", "--format", "{{.Digest}} {{.Id}}", image],
                                  capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
        except FileNotFoundError:
            raise ContainerError(f"'{self.podman}' is not installed; install podman or set engine: docker") from None
        if done.returncode != 0:
            raise ContainerError(f"image '{image}' is not available to podman; build or pull it first "
                                 f"(podman pull {image})")
        digest, _, image_id = done.stdout.strip().partition(" ")
        return digest if digest.startswith("sha256:") else f"sha256:{image_id}"

    def argv(self, spec: ContainerSpec) -> list[str]:
        """The ``podman run`` command line (secret values are passed by name, never in argv)."""
        argv = [self.podman, "run", "--rm", "--name", spec.name, "--pull=never", f"--network={spec.network}",
                "--workdir", spec.workdir]
        for mount in spec.mounts:
            argv += ["--volume", f"{mount.host}:{mount.target}" + (":ro" if mount.read_only else "")]
        for key, value in spec.env.items():
            argv += ["--env", key if value is None else f"{key}={value}"]
        return argv + [spec.image, *spec.command]


class DockerEngine:
    """The Docker API through the docker SDK (``pip install 'stepline-container[docker]'``)."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self):
        if self._client is None:
            try:
                import docker
            except ImportError:
                raise ContainerError("engine: docker needs the docker SDK: "
                                     "pip install 'stepline-container[docker]'") from None
            try:
                self._client = docker.from_env()
            except Exception as exc:  # noqa: BLE001 - docker.errors.DockerException: no daemon
                raise ContainerError(f"cannot reach the Docker engine: {_one_line(exc)}") from None
        return self._client

    def image_digest(self, image: str) -> str:
        try:
            found = self.client.images.get(image)
        except ContainerError:
            raise
        except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound / APIError
            raise ContainerError(f"image '{image}' is not available to docker; build or pull it first "
                                 f"(docker pull {image})") from None
        digests = found.attrs.get("RepoDigests") or []
        return digests[0].rpartition("@")[2] if digests else found.id

    def run_kwargs(self, spec: ContainerSpec) -> dict[str, Any]:
        """Keyword arguments of ``client.containers.run``."""
        return {
            "image": spec.image,
            "command": list(spec.command),
            "name": spec.name,
            "working_dir": spec.workdir,
            "network_mode": spec.network,
            "volumes": {m.host: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts},
            "environment": {k: (os.environ.get(k, "") if v is None else v) for k, v in spec.env.items()},
            "detach": True,
        }

    def run(self, spec: ContainerSpec) -> Outcome:
        try:
            container = self.client.containers.run(**self.run_kwargs(spec))
        except ContainerError:
            raise
        except Exception as exc:  # noqa: BLE001 - docker.errors.APIError / ImageNotFound: it never started
            return Outcome(125, _one_line(exc))
        try:
            for chunk in container.logs(stream=True, follow=True):
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            result = container.wait()
            return Outcome(int(result.get("StatusCode", 1)), _one_line(result.get("Error") or ""))
        finally:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001, S110 - already gone
                pass


def _one_line(exc: Any) -> str:
    text = str(exc.get("Message", "")) if isinstance(exc, dict) else str(exc)
    return " ".join(text.split())
