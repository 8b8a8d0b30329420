"""Hook implementations of stepline-fsspec. Importing this module imports no fsspec backend."""

from stepline.api import hookimpl


@hookimpl
def stepline_components():
    from stepline_fsspec.catalog import FsspecCatalog
    from stepline_fsspec.runlog import ChunkedFsspecRunLogStore

    return [FsspecCatalog, ChunkedFsspecRunLogStore]
