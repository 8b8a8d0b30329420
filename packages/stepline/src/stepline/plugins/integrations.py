"""Built-in integration rules between executors and services."""

from __future__ import annotations

from stepline.component import Locality
from stepline.plugins import hookimpl

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
    have = getattr(service, "locality", Locality.NETWORK)
    if have >= needed:
        return []
    instead = _INSTEAD.get(service.kind, {}).get(needed, "another backend")
    return [f"the {executor.name} executor runs steps {_WHERE[needed]}, but the {service.name} "
            f"{service.kind.replace('_', ' ')} is reachable from {_REACH[have]}; use {instead}"]
