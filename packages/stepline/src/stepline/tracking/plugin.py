"""Built-in experiment tracker (none)."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [LazyComponent("experiment_tracker", "do-nothing", "stepline.tracking.base:ExperimentTracker")]
