"""A run log kept in memory: fast, gone when the process ends."""

from __future__ import annotations

import threading
from typing import ClassVar

from stepline.component import Locality
from stepline.runlog.base import RunLogStore


class BufferedRunLogStore(RunLogStore):
    """Keeps every run in this process's memory. For tests and throwaway runs."""

    name: ClassVar[str] = "buffered"

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._runs: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def locality(self) -> Locality:
        return Locality.PROCESS

    def _create(self, run_id, records):
        with self._lock:
            if run_id in self._runs:
                raise FileExistsError(run_id)
            self._runs[run_id] = dict(records)

    def _write(self, run_id, key, text):
        with self._lock:
            self._runs.setdefault(run_id, {})[key] = text

    def _read(self, run_id, key):
        return self._runs.get(run_id, {}).get(key)

    def _read_all(self, run_id):
        with self._lock:
            found = self._runs.get(run_id)
            return dict(found) if found is not None else None

    def _run_ids(self):
        return list(self._runs)
