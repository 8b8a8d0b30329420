"""The run log as one JSON file per run, replaced atomically under a file lock."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from stepline.component import Settings
from stepline.runlog.base import RUN_KEY, RunLogStore
from stepline.runlog.files import SummaryCache, atomic_write_text

if TYPE_CHECKING:
    from stepline.runlog.listing import RunSummary

#: A run's file starts with its run record (written first, and a replaced key keeps its place).
_RUN_PREFIX = '{"run":'
_HEAD_BYTES = 16384


class FileSystemSettings(Settings):
    log_folder: str = ".stepline/runs"


class FileSystemRunLogStore(RunLogStore):
    """``log_folder/RUN_ID.json`` holds the whole run. Each update rewrites the file under an
    exclusive lock, so concurrent writers are safe but serialised, and every update costs time in
    proportion to the run's size: use ``chunked-fs`` (the default) for big runs."""

    name: ClassVar[str] = "file-system"
    #: Writers from several processes are safe (one lock, atomic replace) but gain nothing: each
    #: must re-read what the others wrote. The local executor runs branches one at a time with it.
    supports_concurrent_writes: ClassVar[bool] = False
    Settings: ClassVar[type[Settings]] = FileSystemSettings

    def local_paths(self) -> list[str]:
        return [self.settings.log_folder]

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._cache: dict[str, tuple[tuple[int, int, int], dict[str, str]]] = {}
        self._summaries = SummaryCache()

    @property
    def folder(self) -> Path:
        return Path(self.settings.log_folder)

    def _path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    @contextmanager
    def _locked(self, run_id: str):
        self.folder.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        with FileLock(self.folder / f".{run_id}.lock"):
            yield

    def _load(self, run_id: str) -> dict[str, str] | None:
        """The run's records as JSON texts; the file is parsed again only when it was replaced
        since this process last read or wrote it (atomic replace gives a new inode)."""
        path = self._path(run_id)
        try:
            stat = os.stat(path)
            version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(run_id)
            if cached and cached[0] == version:
                return cached[1]
            whole = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        records = {key: json.dumps(value, separators=(",", ":")) for key, value in whole.items()}
        self._cache[run_id] = (version, records)
        return records

    def _dump(self, run_id: str, records: dict[str, str]) -> None:
        """Write the document by joining the records' texts: no record is encoded again."""
        path = self._path(run_id)
        atomic_write_text(path, "{" + ",".join(f"{json.dumps(k)}:{t}" for k, t in records.items()) + "}")
        stat = os.stat(path)
        self._cache[run_id] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), records)

    def _create(self, run_id, records):
        with self._locked(run_id):
            if self._path(run_id).exists():
                raise FileExistsError(run_id)
            self._dump(run_id, dict(records))

    def _write(self, run_id, key, text):
        with self._locked(run_id):
            records = dict(self._load(run_id) or {})
            records[key] = text
            self._dump(run_id, records)

    def _read(self, run_id, key):
        records = self._load(run_id)
        return records.get(key) if records else None

    def _read_all(self, run_id):
        records = self._load(run_id)
        return None if records is None else dict(records)

    def _run_ids(self):
        if not self.folder.is_dir():
            return []
        return [p.stem for p in self.folder.glob("*.json") if not p.name.startswith(".")]

    def run_summaries(self):
        """Each run's record from the head of its file, without reading (or parsing) its step logs."""
        found = []
        for run_id in self._run_ids():
            summary = self._summaries.get(str(self._path(run_id)), partial(self._head_summary, run_id))
            if summary is not None:
                found.append(summary)
        return found

    def _head_summary(self, run_id: str, _path: str) -> RunSummary | None:
        from stepline.runlog.listing import RunSummary

        text = self._head_record(run_id)
        return None if text is None else RunSummary.model_validate_json(text)

    def _head_record(self, run_id: str) -> str | None:
        decoder = json.JSONDecoder()
        try:
            with open(self._path(run_id), encoding="utf-8") as handle:
                head = handle.read(_HEAD_BYTES)
                while head.startswith(_RUN_PREFIX):
                    try:
                        _, end = decoder.raw_decode(head, len(_RUN_PREFIX))
                        return head[len(_RUN_PREFIX):end]
                    except json.JSONDecodeError:
                        more = handle.read(_HEAD_BYTES * 4)
                        if not more:
                            break
                        head += more
        except FileNotFoundError:
            return None
        return self._read(run_id, RUN_KEY)  # a file written in another order: read it whole
