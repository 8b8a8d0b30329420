"""Hook implementations of stepline-fsspec."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    return []
