"""The chunked run log on any fsspec URL: one object per record, each written in one PUT."""

from __future__ import annotations

import posixpath
from typing import Any, ClassVar

from pydantic import Field
from stepline.api import RUN_KEY, RunLog, RunLogStore, Settings, key_from_filename, record_filename

from stepline_fsspec.location import OnLocation


class ChunkedFsspecSettings(Settings):
    location: str = Field(description="fsspec URL of the folder holding the runs, e.g. s3://bucket/runs")
    storage_options: dict[str, Any] = Field(default_factory=dict,
                                            description="passed to fsspec; secret-looking values never shown")


class ChunkedFsspecRunLogStore(OnLocation, RunLogStore):
    """``location/RUN_ID/`` holds one object per run, parameter, step and branch record.

    Recording a step writes only that step's object, so the cost does not grow with the run and
    writers on any number of machines never overwrite each other's records. Creating a run is a
    conditional write (``If-None-Match: *`` on S3), so two runs cannot take the same id.
    """

    name: ClassVar[str] = "chunked-fsspec"
    Settings: ClassVar[type[Settings]] = ChunkedFsspecSettings

    def describe(self) -> dict[str, Any]:
        return {"type": self.name, "config": self.location_config()}

    @staticmethod
    def _rel(run_id: str, key: str) -> str:
        return f"{run_id}/{record_filename(key)}"

    def _create(self, run_id, records):
        # the run record is the claim on the id: written first, and only if absent
        self.where.create_bytes(self._rel(run_id, RUN_KEY), records[RUN_KEY].encode())
        for key, text in records.items():
            if key != RUN_KEY:
                self.where.write_bytes(self._rel(run_id, key), text.encode())

    def _write(self, run_id, key, text):
        self.where.write_bytes(self._rel(run_id, key), text.encode())

    def _read(self, run_id, key):
        try:
            return self.where.read_bytes(self._rel(run_id, key)).decode()
        except FileNotFoundError:
            return None

    def _read_all(self, run_id):
        paths = {}
        for path in self.where.find(run_id):
            key = key_from_filename(posixpath.basename(path))
            if key is not None and posixpath.dirname(path) == self.where.path(run_id):
                paths[path] = key
        if not paths:
            return None
        found = self.where.read_many(list(paths))
        return {paths[p]: data.decode() for p, data in found.items()}

    def _run_ids(self):
        where = self.where
        where.fresh()
        try:
            entries = where.fs.ls(where.root, detail=True)
        except FileNotFoundError:
            return []
        return [posixpath.basename(e["name"].rstrip("/")) for e in entries if e["type"] == "directory"]

    def list_runs(self) -> list[RunLog]:
        """Every run's own fields, oldest first: one listing, then the run records read concurrently."""
        where = self.where
        paths = [where.path(self._rel(run_id, RUN_KEY)) for run_id in self._run_ids()]
        runs = [RunLog.model_validate_json(data) for data in where.read_many(paths).values()]
        return sorted(runs, key=lambda r: (r.start_time, r.run_id))
