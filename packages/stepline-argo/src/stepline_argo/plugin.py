"""Registers the argo executor (its integration rule is the core's: every service must reach the pods)."""

from stepline.api import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "argo", "stepline_argo.executor:ArgoExecutor"),
    ]
