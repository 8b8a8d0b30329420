"""Hook implementations of stepline-vault."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    return []
