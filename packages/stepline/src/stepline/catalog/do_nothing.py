"""A catalog that stores no files: gets and puts are recorded with their hashes only.

Objects (pickled returns) are kept in this process's memory, so they work within one process.
"""

from __future__ import annotations

from typing import ClassVar

from stepline.catalog.base import Catalog, CatalogError
from stepline.component import Locality, Settings


class DoNothingSettings(Settings):
    compute_data_folder: str = "."


class DoNothingCatalog(Catalog):
    name: ClassVar[str] = "do-nothing"
    Settings: ClassVar[type[Settings]] = DoNothingSettings

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._objects: dict[str, bytes] = {}

    @property
    def locality(self) -> Locality:
        return Locality.PROCESS

    def get(self, run_id, patterns):
        return []

    def put(self, run_id, patterns, store_copy=True, **options):
        return super().put(run_id, patterns, store_copy=False, **options)

    def _upload(self, local, remote):
        pass

    def _download(self, remote, local):
        raise CatalogError("the do-nothing catalog stores no files", hint="use the file-system catalog")

    def _glob(self, run_id, pattern):
        return []

    def _write_bytes(self, remote, data):
        self._objects[remote] = data

    def _read_bytes(self, remote):
        try:
            return self._objects[remote]
        except KeyError:
            raise FileNotFoundError(remote) from None

    def _copy_run(self, from_run_id, to_run_id):
        pass
