"""Built-in experiment tracker (none)."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.tracking.base import ExperimentTracker

    return [ExperimentTracker]
