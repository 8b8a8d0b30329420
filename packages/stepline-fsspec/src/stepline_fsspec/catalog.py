"""The catalog on any fsspec URL: ``location/RUN_ID/...`` on S3, GCS, a local folder, memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field
from stepline.api import Catalog, Settings, mask_url

from stepline_fsspec.location import OnLocation


class FsspecCatalogSettings(Settings):
    location: str = Field(description="fsspec URL of the catalog's root, e.g. s3://bucket/catalog")
    storage_options: dict[str, Any] = Field(default_factory=dict,
                                            description="passed to fsspec; secret-looking values never shown")
    compute_data_folder: str = "."
    store_copy: bool = Field(True, description="false: a put records each file's hash without copying it")


class FsspecCatalog(OnLocation, Catalog):
    """Files a step puts land at ``location/RUN_ID/<path relative to compute_data_folder>``."""

    name: ClassVar[str] = "fsspec"
    Settings: ClassVar[type[Settings]] = FsspecCatalogSettings

    @property
    def location(self) -> str:
        return mask_url(self.settings.location)

    def describe(self) -> dict[str, Any]:
        config = {**self.location_config(), "compute_data_folder": self.settings.compute_data_folder}
        return {"type": self.name, "config": config}

    def _upload(self, local: Path, remote: str) -> None:
        self.where.upload_file(local, remote)

    def _download(self, remote: str, local: Path) -> None:
        self.where.fs.get_file(self.where.path(remote), str(local))

    def _glob(self, run_id: str, pattern: str) -> list[str]:
        where = self.where
        base = where.path(run_id)
        where.fresh(run_id)
        try:
            found = where.fs.glob(f"{base}/{pattern}", detail=True)
        except FileNotFoundError:
            return []
        files: set[str] = set()
        for path, info in found.items():
            if info.get("type") == "directory":
                files.update(where.find(where.rel(path, "")))
            else:
                files.add(path)
        return sorted(rel for rel in (where.rel(p, run_id) for p in files)
                      if not rel.rpartition("/")[2].startswith(".tmp-"))

    def _write_bytes(self, remote: str, data: bytes) -> None:
        self.where.write_bytes(remote, data)

    def _read_bytes(self, remote: str) -> bytes:
        return self.where.read_bytes(remote)

    def _copy_run(self, from_run_id: str, to_run_id: str) -> None:
        where = self.where
        for path in where.find(from_run_id):
            rel = where.rel(path, from_run_id)
            if where.is_local:
                where.write_bytes(f"{to_run_id}/{rel}", where.fs.cat_file(path))
            else:
                where.fs.copy(path, where.path(f"{to_run_id}/{rel}"))
