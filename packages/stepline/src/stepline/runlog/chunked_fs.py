"""The chunked run log on a local folder: one file per record, written atomically; the records written
once (sealed branches' logs) appended to a journal per writing process (see :mod:`stepline.runlog.journal`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from stepline.component import Settings
from stepline.runlog import journal
from stepline.runlog.base import BRANCH_PREFIX, RUN_KEY, RunLogStore, top_level_key
from stepline.runlog.files import (
    SummaryCache,
    atomic_write_bytes,
    atomic_write_text,
    key_from_filename,
    read_bytes,
    record_filename,
)

if TYPE_CHECKING:
    from stepline.runlog.listing import RunSummary


class ChunkedFsSettings(Settings):
    log_folder: str = ".stepline/runs"


class ChunkedFileSystemRunLogStore(RunLogStore):
    """``log_folder/RUN_ID/`` holds one JSON file per run, parameter, step and branch record, and
    the logs of sealed branches (written once, when they end) in one journal per writing process.

    Recording a step rewrites only that step's file, so cost does not grow with the run and
    concurrent writers (threads or processes) never overwrite each other.
    """

    name: ClassVar[str] = "chunked-fs"
    Settings: ClassVar[type[Settings]] = ChunkedFsSettings

    def local_paths(self) -> list[str]:
        return [self.settings.log_folder]

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._summaries = SummaryCache()
        self._journals: dict[str, str] = {}  # run id -> the journal this process appends to
        self._journals_of = os.getpid()  # a forked child starts journals of its own

    @property
    def folder(self) -> Path:
        return Path(self.settings.log_folder)

    def _run_dir(self, run_id: str) -> Path:
        return self.folder / run_id

    def _path(self, run_id: str, key: str) -> str:
        # plain strings: on the per-step path, building Path objects cost more than the read itself
        return os.path.join(self.settings.log_folder, run_id, record_filename(key))

    def _create(self, run_id, records):
        self.folder.mkdir(parents=True, exist_ok=True)
        run_dir = self._run_dir(run_id)
        run_dir.mkdir()  # raises FileExistsError for a taken run id
        for key, text in records.items():
            atomic_write_text(run_dir / record_filename(key), text)

    def _write(self, run_id, key, text):
        atomic_write_bytes(self._path(run_id, key), text.encode("utf-8"))

    def _write_once(self, run_id, key, text):
        if self._journals_of != os.getpid():
            self._journals, self._journals_of = {}, os.getpid()
        path = self._journals.get(run_id)
        create = path is None
        if create:
            path = self._journals[run_id] = os.path.join(self.settings.log_folder, run_id, journal.new_name())
        if not journal.append(path, key, text, create=create):
            self._journals.pop(run_id, None)
            self._write(run_id, key, text)

    def _read(self, run_id, key):
        try:
            return read_bytes(self._path(run_id, key)).decode("utf-8")
        except (FileNotFoundError, NotADirectoryError):
            if key.startswith(BRANCH_PREFIX):  # a sealed branch's log is in a journal: read only those
                return (self._read_all(run_id, key.__eq__, journal.is_journal) or {}).get(key)
            return None

    def _read_all(self, run_id, wanted=None, may_be_wanted=None):
        run_dir = self._run_dir(run_id)
        if not run_dir.is_dir():
            return None
        records, journals = {}, []
        for entry in os.scandir(run_dir):
            if may_be_wanted is not None and not may_be_wanted(entry.name):
                continue
            key = key_from_filename(entry.name)
            if key is not None and (wanted is None or wanted(key)):
                try:
                    records[key] = read_bytes(entry.path).decode("utf-8")
                except FileNotFoundError:  # replaced while listing; the rename left the new name
                    continue
            elif key is None and journal.is_journal(entry.name):
                journals.append(entry.path)
        if journals:
            for key, text in journal.read(journals).items():
                if key not in records and (wanted is None or wanted(key)):  # a record's own file wins
                    records[key] = text
        return records

    def _read_top_level(self, run_id):
        # a file name keeps its key's dots (a hashed one has a '~'): a dotted name is a nested step's
        # or a branch's record, passed over before it is even unescaped (20,000 of them for a big map)
        return self._read_all(run_id, top_level_key, lambda name: "." not in name[:-5] or "~" in name)

    def _run_ids(self):
        if not self.folder.is_dir():
            return []
        return [entry.name for entry in os.scandir(self.folder) if entry.is_dir()]

    def run_summaries(self):
        """One small file per run (its run record), parsed again only when it was replaced."""
        if not self.folder.is_dir():
            return []
        name, found = record_filename(RUN_KEY), []
        for entry in os.scandir(self.folder):
            summary = self._summaries.get(os.path.join(entry.path, name), _parse_summary)
            if summary is not None:  # None: not a run folder, or one being created
                found.append(summary)
        return found


def _parse_summary(path: str) -> RunSummary | None:
    from stepline.runlog.listing import RunSummary

    try:
        with open(path, "rb") as handle:
            return RunSummary.model_validate_json(handle.read())
    except (FileNotFoundError, NotADirectoryError):
        return None
