"""Built-in run log stores."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.runlog.buffered import BufferedRunLogStore
    from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
    from stepline.runlog.file_system import FileSystemRunLogStore

    return [BufferedRunLogStore, FileSystemRunLogStore, ChunkedFileSystemRunLogStore]
