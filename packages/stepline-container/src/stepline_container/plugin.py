"""Hook implementations of stepline-container. Importing this module imports no engine client."""

from __future__ import annotations

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline_container.executor import LocalContainerExecutor

    return [LocalContainerExecutor]


@hookimpl
def stepline_configure_integration(executor, service, phase):
    """Before traversal, collect the folders and files every service keeps on this machine: the
    container executor mounts them at the same paths, so the step inside reads and writes the same
    run log, catalog and .env file."""
    from stepline_container.executor import LocalContainerExecutor

    if phase != "traversal" or not isinstance(executor, LocalContainerExecutor):
        return
    executor.add_mounts(service.local_paths())
    if service.kind == "secrets" and service.name == "env":  # the environment backend: pass the names through
        executor.secret_env_names = (service.settings.prefix, service.settings.suffix)
