"""Hook implementations of stepline-stepfunctions. Importing this module imports no renderer code."""

from __future__ import annotations

from stepline.api import LazyComponent, Locality, Problem, hookimpl

_USE = {
    "run_log_store": "chunked-fsspec on S3 or sql on PostgreSQL",
    "catalog": "fsspec on S3",
    "secrets": "env, aws-secrets-manager or vault",
    "experiment_tracker": "mlflow with a tracking server",
}


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "step-functions", "stepline_stepfunctions.executor:StepFunctionsExecutor"),
    ]


@hookimpl(tryfirst=True)
def stepline_check_integration(executor, service):
    """Steps run in AWS Batch / ECS containers: every service must be reachable over the network."""
    if getattr(executor, "name", None) != "step-functions":
        return []
    have = getattr(service, "locality", Locality.NETWORK)
    if have >= Locality.NETWORK:
        return []
    where = "this process" if have == Locality.PROCESS else "this machine (local files)"
    kind = service.kind.replace("_", " ")
    use = _USE.get(service.kind, "a backend reachable over the network")
    message = (f"the step-functions executor runs every step in its own AWS Batch/ECS container, but the "
               f"{service.name} {kind} is reachable from {where} only; use {use}")
    return [Problem.error(message)]
