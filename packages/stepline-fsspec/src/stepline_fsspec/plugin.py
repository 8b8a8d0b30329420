"""Hook implementations of stepline-fsspec. Importing this module imports no fsspec backend."""

from stepline.api import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("catalog", "fsspec", "stepline_fsspec.catalog:FsspecCatalog"),
        LazyComponent("run_log_store", "chunked-fsspec", "stepline_fsspec.runlog:ChunkedFsspecRunLogStore"),
    ]
