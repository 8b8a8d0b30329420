"""The catalog in a local folder: ``catalog_location/RUN_ID/...``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import ClassVar

from stepline.catalog.base import Catalog, CatalogError
from stepline.component import Settings
from stepline.paths import PathEscapeError, inside


def _stays_in(path: Path, base: Path) -> bool:
    return path.resolve().is_relative_to(base)


class FileSystemCatalogSettings(Settings):
    catalog_location: str = ".stepline/catalog"
    compute_data_folder: str = "."
    store_copy: bool = True
    """``false``: a put records each file's hash in the run log without copying it (runnable's setting;
    a step's ``catalog: {store_copy: false}`` does the same for one step)."""


class FileSystemCatalog(Catalog):
    name: ClassVar[str] = "file-system"
    Settings: ClassVar[type[Settings]] = FileSystemCatalogSettings

    def local_paths(self) -> list[str]:
        return [self.settings.catalog_location, self.settings.compute_data_folder]

    @property
    def root(self) -> Path:
        return Path(self.settings.catalog_location)

    @property
    def location(self) -> str:
        return str(self.root)

    def _at(self, remote: str) -> Path:
        """``root/remote``, refused when a symlink in the catalog leads out of it."""
        try:
            return inside(self.root, remote, what="catalog path")
        except PathEscapeError as exc:
            raise CatalogError(exc.message, hint=exc.hint) from None

    def _upload(self, local, remote):
        target = self._at(remote)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        shutil.copyfile(local, tmp)
        os.replace(tmp, target)

    def _download(self, remote, local):
        shutil.copyfile(self._at(remote), local)

    def _glob(self, run_id, pattern):
        base = self._at(run_id)
        found = list(base.glob(pattern))
        files = [p for p in found if p.is_file()] + [f for p in found if p.is_dir() for f in p.rglob("*") if f.is_file()]
        return sorted({f.relative_to(base).as_posix() for f in files
                       if not f.name.startswith(".tmp-") and _stays_in(f, base)})

    def _write_bytes(self, remote, data):
        target = self._at(remote)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def _read_bytes(self, remote):
        return self._at(remote).read_bytes()

    def _copy_run(self, from_run_id, to_run_id):
        source = self._at(from_run_id)
        if source.is_dir():  # symlinks are copied as links, never followed out of the catalog
            shutil.copytree(source, self._at(to_run_id), symlinks=True, dirs_exist_ok=True)
