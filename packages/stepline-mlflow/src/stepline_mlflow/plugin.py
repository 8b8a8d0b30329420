"""Hook implementations of stepline-mlflow."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    return []
