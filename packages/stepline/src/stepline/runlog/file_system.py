"""The run log as one JSON file per run, replaced atomically under a file lock."""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from stepline.component import Settings
from stepline.runlog.base import RunLogStore
from stepline.runlog.files import atomic_write_text


class FileSystemSettings(Settings):
    log_folder: str = ".stepline/runs"


class FileSystemRunLogStore(RunLogStore):
    """``log_folder/RUN_ID.json`` holds the whole run. Each update rewrites the file under an
    exclusive lock, so concurrent writers are serialised (safe, but slower than ``chunked-fs``
    for big runs)."""

    name: ClassVar[str] = "file-system"
    Settings: ClassVar[type[Settings]] = FileSystemSettings

    def local_paths(self) -> list[str]:
        return [self.settings.log_folder]

    @property
    def folder(self) -> Path:
        return Path(self.settings.log_folder)

    def _path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    @contextmanager
    def _locked(self, run_id: str):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f".{run_id}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self, run_id: str) -> dict[str, str] | None:
        try:
            stored = json.loads(self._path(run_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return {key: json.dumps(value) for key, value in stored.items()}

    def _dump(self, run_id: str, records: dict[str, str]) -> None:
        whole = {key: json.loads(text) for key, text in records.items()}
        atomic_write_text(self._path(run_id), json.dumps(whole, indent=1))

    def _create(self, run_id, records):
        with self._locked(run_id):
            if self._path(run_id).exists():
                raise FileExistsError(run_id)
            self._dump(run_id, records)

    def _write(self, run_id, key, text):
        with self._locked(run_id):
            records = self._load(run_id) or {}
            records[key] = text
            self._dump(run_id, records)

    def _read(self, run_id, key):
        records = self._load(run_id)
        return records.get(key) if records else None

    def _read_all(self, run_id):
        return self._load(run_id)

    def _run_ids(self):
        if not self.folder.is_dir():
            return []
        return [p.stem for p in self.folder.glob("*.json") if not p.name.startswith(".")]
