"""Built-in catalogs."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("catalog", "do-nothing", "stepline.catalog.do_nothing:DoNothingCatalog"),
        LazyComponent("catalog", "file-system", "stepline.catalog.file_system:FileSystemCatalog"),
    ]
