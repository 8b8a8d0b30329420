"""Built-in catalogs."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.catalog.do_nothing import DoNothingCatalog
    from stepline.catalog.file_system import FileSystemCatalog

    return [DoNothingCatalog, FileSystemCatalog]
