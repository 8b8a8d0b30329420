"""Hook implementations of stepline-aws."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    return []
