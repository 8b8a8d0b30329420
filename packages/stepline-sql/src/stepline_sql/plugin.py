"""Hook implementations of stepline-sql."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    return []
