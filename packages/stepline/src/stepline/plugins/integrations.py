"""Built-in integration rules between executors and services."""

from __future__ import annotations

from stepline.component import Locality
from stepline.plugins import Problem, hookimpl

_REACH = {
    Locality.PROCESS: "this process only",
    Locality.MACHINE: "this machine only",
    Locality.NETWORK: "the network",
}
_WHERE = {
    Locality.PROCESS: "in this process",
    Locality.MACHINE: "in other processes on this machine",
    Locality.NETWORK: "on other machines",
}
_INSTEAD = {
    "run_log_store": {Locality.MACHINE: "chunked-fs or file-system",
                      Locality.NETWORK: "chunked-fs on a shared volume, chunked-fsspec on S3, or sql on PostgreSQL"},
    "catalog": {Locality.MACHINE: "file-system",
                Locality.NETWORK: "file-system on a shared volume or fsspec on S3"},
    "secrets": {Locality.MACHINE: "dotenv or env", Locality.NETWORK: "env, vault or aws-secrets-manager"},
    "experiment_tracker": {Locality.MACHINE: "mlflow", Locality.NETWORK: "mlflow with a tracking server"},
}


@hookimpl
def stepline_check_integration(executor, service):
    """Every service must be reachable from where the executor runs steps."""
    needed = executor.runs_steps_in
    have = executor.locality_of(service) if hasattr(service, "locality") else Locality.NETWORK
    if have >= needed:
        return []
    instead = _INSTEAD.get(service.kind, {}).get(needed, "another backend")
    return [Problem.error(f"the {executor.name} executor runs steps {_WHERE[needed]}, but the {service.name} "
                          f"{service.kind.replace('_', ' ')} is reachable from {_REACH[have]}; use {instead}")]


def unused_services(graph, services) -> list:
    """The services a pipeline never calls on: the catalog when no task gets or puts files, returns
    an object or runs a notebook; the secrets backend when no task lists a secret. Where steps run,
    such a service still receives task output logs, but nothing the pipeline needs goes through it."""
    from stepline.pipeline.graph import walk

    tasks = [node for _, node in walk(graph) if node.type == "task"]
    unused = []
    if not any(t.catalog and (t.catalog.get or t.catalog.put) or t.command_type == "notebook"
               or any(r.kind == "object" for r in t.returns) for t in tasks):
        unused.append(services.catalog)
    if not any(t.secrets for t in tasks):
        unused.append(services.secrets)
    return unused
