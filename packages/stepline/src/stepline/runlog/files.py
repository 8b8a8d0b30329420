"""Small helpers for writing files safely: atomic replace, record names on disk."""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote


def write_aside(path: str | Path, fill: Callable[[str], Any], publish: Callable[[str, str], None] = os.replace) -> None:
    """Fill a temporary file next to local ``path`` (``fill(tmp)``), then ``publish(tmp, path)``:
    ``os.replace`` (the default) replaces atomically, ``os.link`` creates only when ``path`` does not
    exist. A reader sees the old content or the new one, never a half-written file, and the
    temporary file (unique per writer) never stays behind."""
    folder = os.path.dirname(os.fspath(path)) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    os.close(fd)
    try:
        fill(tmp)
        publish(tmp, os.fspath(path))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: Numbers temporary files; with the process id, a name no other writer uses (forked children and
#: threads included: ``next`` on a count is atomic).
_TMP_NUMBERS = itertools.count()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, as :func:`write_aside` does, in fewer system calls
    (it runs for every record a run log store writes): one exclusive create of a name unique to this
    writer, one write, one rename."""
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_TMP_NUMBERS)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:  # left by a killed process that had this process id
        write_aside(target, lambda other: Path(other).write_text(text, encoding="utf-8"))
        return
    try:
        with open(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


_RECORD_NAME_MAX = 200  # file systems allow 255 bytes in a name


def record_filename(key: str) -> str:
    """A record key ('step/fan.3.square') as a safe file name: escaped and reversible, or for a key
    too long for a file name, an escaped prefix, ``~`` and a hash of the whole key."""
    escaped = quote(key, safe="").replace("~", "%7E")
    if len(escaped) <= _RECORD_NAME_MAX:
        return escaped + ".json"
    return f"{escaped[:100]}~{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}.json"


def key_from_filename(filename: str) -> str | None:
    """Inverse of :func:`record_filename`; None for files that are not records. For a hashed name, the
    key's start and the hash (enough to tell a step record from a branch record: the full name is
    in the record)."""
    if filename.startswith(".") or not filename.endswith(".json"):
        return None
    stem = filename[: -len(".json")]
    readable, hashed, digest = stem.rpartition("~")
    return unquote(readable) + "~" + digest if hashed else unquote(stem)


class SummaryCache:
    """Run summaries parsed from files, kept while each file stays the same.

    A store's file is only ever replaced (atomic rename: a new inode), so (inode, mtime, size)
    says whether the summary parsed last time still holds; a long-lived reader (``stepline ui``)
    then pays one ``stat`` per run for a listing instead of a read and a parse.
    """

    def __init__(self) -> None:
        # no lock: one dict assignment is atomic, and the cache must stay picklable with its store
        self._found: dict[str, tuple[tuple[int, int, int], object]] = {}

    def get(self, path: str, parse):
        """The summary of ``path`` (``parse(path)`` when it changed); None when the file is absent."""
        try:
            stat = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._found.get(path)
        if cached and cached[0] == version:
            return cached[1]
        summary = parse(path)
        if summary is not None:
            self._found[path] = (version, summary)
        return summary
