"""Registers the argo executor (its integration rule is the core's: every service must reach the pods)."""

from stepline.api import hookimpl


@hookimpl
def stepline_components():
    from stepline_argo.executor import ArgoExecutor

    return [ArgoExecutor]
