"""Records written once, appended as lines to a file of their writer's own: the chunked-fs store keeps
sealed branches' logs this way (see :meth:`stepline.runlog.base.RunLogStore._write_once`).

Creating a file is the costly part of a record on a local disk: 20-400 µs on ext4, and creations in
one folder wait for each other, so two map workers write no faster than one. Opening a file that
exists and appending a line costs a few µs. Each process appends to its own journal (its name holds
the pid and a random part, so processes on other machines sharing the folder never meet), with one
``write`` per record: a reader sees each line whole or not at all, and a line without its newline
(a write cut short, or one still going on) is skipped, as a temporary file not yet renamed is.

A line is the record's key as a JSON string, a space, and the record's text (JSON: it has no raw
newline).
"""

from __future__ import annotations

import json
import os

from stepline.runlog.files import read_bytes

PREFIX, SUFFIX = "branches-", ".jsonl"
_APPEND = os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
_DECODER = json.JSONDecoder()


def is_journal(filename: str) -> bool:
    return filename.startswith(PREFIX) and filename.endswith(SUFFIX)


def new_name() -> str:
    """A journal's file name, unique to this process (and, by its random part, across machines)."""
    return f"{PREFIX}{os.getpid()}-{os.urandom(4).hex()}{SUFFIX}"


def append(path: str, key: str, text: str, *, create: bool) -> bool:
    """Append one record as one line; ``create``: the journal is new (it must not exist). False when
    the line could not be written whole: the caller records it another way, and starts a new journal
    (a cut line stays at this one's end, where readers skip it)."""
    line = f"{json.dumps(key)} {text}\n".encode()
    try:
        fd = os.open(path, _APPEND | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
    except OSError:
        return False
    try:
        return os.write(fd, line) == len(line)
    except OSError:
        return False
    finally:
        os.close(fd)


def read(paths: list[str]) -> dict[str, str]:
    """The records of the journals at ``paths``: key -> text, a later line over an earlier one."""
    records: dict[str, str] = {}
    for path in sorted(paths):
        try:
            data = read_bytes(path)
        except FileNotFoundError:
            continue
        for line in data.split(b"\n")[:-1]:  # the last piece is empty, or a line not written whole
            key, text = _parse(line)
            if key is not None:
                records[key] = text
    return records


def _parse(line: bytes) -> tuple[str | None, str]:
    try:
        text = line.decode("utf-8")
        key, end = _DECODER.raw_decode(text)
    except ValueError:  # UnicodeDecodeError included: a damaged line is skipped
        return None, ""
    if not isinstance(key, str) or text[end:end + 1] != " ":
        return None, ""
    return key, text[end + 1:]
