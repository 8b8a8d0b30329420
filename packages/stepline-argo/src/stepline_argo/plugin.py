"""Registers the argo executor, the stacks its pods use to keep local stores on the shared volume,
and the warning that says so (the integration rule itself is the core's: every service must reach
the pods)."""

from stepline.api import LazyComponent, Problem, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "argo", "stepline_argo.executor:ArgoExecutor"),
    ]


@hookimpl
def stepline_stacks():
    from stepline_argo.executor import volume_stacks

    return volume_stacks()


@hookimpl
def stepline_check_integration(executor, service):
    if getattr(executor, "name", None) != "argo" or not hasattr(executor, "moved_to"):
        return []
    folder = executor.moved_to(service)
    if folder is None:
        return []
    return [Problem.warning(f"the {service.name} {service.kind.replace('_', ' ')} is not on a mounted volume: "
                            f"the pods keep it on the shared volume at {folder}, as runnable does")]
