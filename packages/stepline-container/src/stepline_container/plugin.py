"""Hook implementations of stepline-container. Importing this module imports no engine client."""

from __future__ import annotations

import importlib.util
import os
import shutil

from stepline.api import LazyComponent, Problem, hookimpl, loaded_instance

EXECUTOR = "stepline_container.executor:LocalContainerExecutor"


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "local-container", EXECUTOR),
    ]


@hookimpl
def stepline_check_executor(executor):
    """The container engine must be there before the first step, not found missing at each step."""
    # STEPLINE_RUN_ID is set in a step's own process (inside the container), which needs no engine
    if not loaded_instance(executor, EXECUTOR) or os.environ.get("STEPLINE_RUN_ID"):
        return []
    settings = executor.settings
    if settings.engine == "podman" and shutil.which(settings.podman) is None:
        return [Problem.error(f"the {executor.name} executor runs steps with '{settings.podman}', which is not "
                              "on PATH; install podman, set config.podman to its path, or use engine: docker")]
    if settings.engine == "docker" and importlib.util.find_spec("docker") is None:
        return [Problem.error(f"the {executor.name} executor's engine: docker needs the docker SDK, which is not "
                              'installed; pip install "stepline-container[docker]"')]
    return []


@hookimpl
def stepline_configure_integration(executor, service, phase):
    """Before traversal, collect the folders and files every service keeps on this machine: the
    container executor mounts them at the same paths, so the step inside reads and writes the same
    run log, catalog and .env file."""
    if phase != "traversal" or not loaded_instance(executor, EXECUTOR):
        return
    executor.add_mounts(service.local_paths())
    if service.kind == "secrets" and service.name == "env":  # the environment backend: pass the names through
        executor.secret_env_names = (service.settings.prefix, service.settings.suffix)
