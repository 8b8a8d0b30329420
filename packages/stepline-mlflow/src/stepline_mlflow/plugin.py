"""Hook implementations of stepline-mlflow. Importing this module does not import mlflow."""

from __future__ import annotations

from stepline.api import LazyComponent, Locality, Problem, hookimpl, loaded_instance

TRACKER = "stepline_mlflow.tracker:MlflowTracker"


@hookimpl
def stepline_components():
    return [LazyComponent("experiment_tracker", "mlflow", TRACKER)]


@hookimpl
def stepline_check_integration(executor, service):
    if not loaded_instance(service, TRACKER) or not service.is_local:
        return []
    if getattr(executor, "runs_steps_in", Locality.PROCESS) >= Locality.NETWORK:
        return [Problem.error(f"the mlflow experiment tracker's tracking_uri '{service.settings.tracking_uri}' is a file on "
                f"this machine, but the {executor.name} executor runs each step on another machine (a pod "
                "or node) with its own disk, so each step would log into its own copy that is lost with it; "
                "use an mlflow tracking server (tracking_uri: http://...) that the steps can reach")]
    return []
