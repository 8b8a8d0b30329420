"""Built-in run log stores."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("run_log_store", "buffered", "stepline.runlog.buffered:BufferedRunLogStore"),
        LazyComponent("run_log_store", "file-system", "stepline.runlog.file_system:FileSystemRunLogStore"),
        LazyComponent("run_log_store", "chunked-fs", "stepline.runlog.chunked_fs:ChunkedFileSystemRunLogStore"),
    ]
