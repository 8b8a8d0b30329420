"""Where a task's output goes: verbatim to the console and into the step's execution log, with
secret values masked in both.

Masking works on the stream, not per line: a secret split across writes or lines (a PEM key) is
masked as a whole, and so are its common encoded forms (see :func:`secret_forms`). The sink holds
back at most the length of the longest form, so nothing unmasked leaves before it is checked.

:func:`capture_fds` sends the process's own file descriptors 1 and 2 into a sink for the length of a
task, so output that bypasses ``sys.stdout`` (``os.write(1, ...)``, a subprocess, a logging handler
made at import time) is masked and logged too. Any task type that runs code in this process can
use it; code in a child process is captured by reading the child's pipes into the sink.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import sys
import threading
import time
from urllib.parse import quote

from stepline.executors.attempt_watch import watcher

MASK = "********"
_MIN_FORM = 4  # encoded forms and lines of a secret shorter than this are not masked on their own


def secret_forms(value: str) -> set[str]:
    """The texts that reveal ``value``: itself, its repr/JSON/URL escapings, base64 of it (also of
    ``value + newline``, as ``echo $SECRET | base64`` prints it, and wrapped at 76 columns), CRLF line
    ends, and each line of a multi-line value."""
    if not value:
        return set()
    escaped = value.encode("unicode_escape").decode("ascii")
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1],
             escaped, escaped.replace("'", "\\'"), escaped.replace('"', '\\"'), quote(value, safe=""),
             value.replace("\n", "\r\n")}
    for data in (value.encode(), (value + "\n").encode()):
        for encoded in (base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()):
            forms |= {encoded, encoded.rstrip("=")}
            if len(encoded) > 76:
                forms.add("\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)))
    if "\n" in value:
        forms |= {line.strip() for line in value.splitlines()}
    return {form for form in forms if form == value or len(form) >= _MIN_FORM}


class Masker:
    """Replaces every form of a set of secrets by :data:`MASK`."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.forms: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.longest = 0
        for value in secrets or []:
            self.add(value)

    def add(self, value: str) -> None:
        new = secret_forms(value) - self.forms
        if not new:
            return
        self.forms |= new
        ordered = sorted(self.forms, key=len, reverse=True)  # the longest form wins where they overlap
        self.pattern = re.compile("|".join(re.escape(form) for form in ordered))
        self.longest = len(ordered[0])

    def mask(self, text: str) -> str:
        return self.pattern.sub(MASK, text) if self.pattern else text

    def reveals(self, text: str) -> bool:
        return bool(self.pattern and self.pattern.search(text))

    def split(self, text: str) -> tuple[str, str]:
        """``text`` as (masked text safe to emit now, raw tail to keep until more text comes): the tail
        is what could still be the start of a secret."""
        if self.pattern is None:
            return text, ""
        safe = max(0, len(text) - (self.longest - 1))
        out, done = [], 0
        for match in self.pattern.finditer(text):
            if match.start() >= safe:
                break
            out.append(text[done:match.start()])
            out.append(MASK)
            done = match.end()
        cut = max(safe, done)
        out.append(text[done:cut])
        return "".join(out), text[cut:]


class OutputSink:
    """Collects a task's output, masks secrets, echoes it live to the console."""

    def __init__(self, secrets: list[str] | None = None, echo: bool = True) -> None:
        self.masker = Masker([s for s in (secrets or []) if s])
        self.echo = echo
        self.console = None  # where echo goes; None: the process's stdout (see capture_fds)
        self._log = io.StringIO()
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def secrets(self) -> set[str]:
        return self.masker.forms

    def add_secret(self, value: str) -> None:
        if value:
            with self._lock:
                self.masker.add(value)

    def mask(self, text: str) -> str:
        return self.masker.mask(text)

    def write(self, text: str) -> None:
        """Accept any chunk; what cannot be part of a secret any more is masked and emitted."""
        with self._lock:
            ready, self._pending = self.masker.split(self._pending + text)
            if ready:
                self._emit(ready)

    def flush(self) -> None:
        """Nothing to do: text that could still be the start of a secret waits for :meth:`close`."""

    def close(self) -> None:
        """The task's output has ended: mask and emit what was held back."""
        with self._lock:
            if self._pending:
                self._emit(self.masker.mask(self._pending))
                self._pending = ""

    def _emit(self, text: str) -> None:
        self._log.write(text)
        if self.echo:
            stream = self.console or sys.__stdout__ or sys.stdout
            stream.write(text)
            stream.flush()

    def text(self) -> str:
        self.close()
        return self._log.getvalue()


class SinkWriter(io.TextIOBase):
    """A file-like object (for sys.stdout/sys.stderr) that writes into a sink."""

    def __init__(self, sink: OutputSink) -> None:
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.sink.write(text)
        return len(text)

    def flush(self) -> None:
        pass


_CAPTURING = threading.Lock()


@contextlib.contextmanager
def capture_fds(sink: OutputSink):
    """For the block, file descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``, as one
    line-buffered stream on them) write into ``sink``; the sink echoes to the real stdout.

    File descriptors belong to the whole process: when another thread is capturing already, the block
    runs with ``sys.stdout``/``sys.stderr`` redirected only (tasks in one process run one at a time in
    Stepline's executors, so this happens only when user code starts runs from several threads)."""
    if not _CAPTURING.acquire(blocking=False):
        with _python_streams(SinkWriter(sink)):
            yield
        return
    saved_out = saved_err = None
    try:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - a closed or odd stream: nothing of it to keep apart
                pass
        try:
            saved_out, saved_err = os.dup(1), os.dup(2)
        except OSError:  # no stdout/stderr to redirect (a daemon with them closed)
            with _python_streams(SinkWriter(sink)):
                yield
            return
        read_end, write_end = os.pipe()
        pump, late, writer = _Pump(read_end, sink), None, None
        previous_console, sink.console = sink.console, _Console(saved_out)
        try:  # from the first redirect on: an interrupt anywhere must still restore the descriptors
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            os.close(write_end)
            write_end = -1
            late = watcher().watch(pump.start)  # a task that runs on has its output echoed live
            writer = _fd1_stream()
            with _python_streams(writer):
                yield
        finally:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.flush()
            os.dup2(saved_out, 1)  # the pipe's last write end closes: the pump reads to the end
            os.dup2(saved_err, 2)
            if write_end >= 0:
                with contextlib.suppress(OSError):
                    os.close(write_end)
            if late is not None and watcher().done(late):
                pump.thread.join(timeout=5)
            else:
                pump.drain(timeout=5)
            with sink._lock:  # a reader still running (a process the task left) echoes elsewhere now
                sink.console = previous_console
    finally:
        for fd in (saved_out, saved_err):
            if fd is not None:
                os.close(fd)
        _CAPTURING.release()


class _Console:
    """The real stdout while fds 1 and 2 go into the capture pipe: the descriptor it was saved as,
    written to directly (no stream to open and close for every attempt)."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, text: str) -> None:
        view = memoryview(text.encode("utf-8", "replace"))
        while view:
            view = view[os.write(self.fd, view):]

    def flush(self) -> None:
        """Nothing is buffered."""


_FD1_STREAM: io.TextIOWrapper | None = None


def _fd1_stream() -> io.TextIOWrapper:
    """The line-buffered text stream on fd 1 that ``sys.stdout``/``sys.stderr`` are while a task's
    output is captured. Whatever fd 1 is at the moment (the capture pipe) receives its writes, so one
    stream serves every attempt (flushed at the end of each); a task that closed it gets a new one."""
    global _FD1_STREAM
    if _FD1_STREAM is None or _FD1_STREAM.closed:
        _FD1_STREAM = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8", errors="replace",  # noqa: SIM115
                                       line_buffering=True, write_through=True)
    return _FD1_STREAM


class _Pump:
    """Reads a capture pipe into a sink: in a thread of its own once the task runs on
    (:meth:`start`), or in the caller's thread when the task has ended first (:meth:`drain`)."""

    def __init__(self, read_end: int, sink: OutputSink) -> None:
        self.read_end, self.sink = read_end, sink
        self.decoder = None  # made for the first chunk: most quick tasks print nothing
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._read_all, daemon=True, name="stepline-capture")
        self.thread.start()

    def _read_all(self) -> None:
        try:
            while chunk := os.read(self.read_end, 65536):
                self._write(chunk)
            self._end()
        finally:
            os.close(self.read_end)

    def drain(self, timeout: float) -> None:
        """Read to the end here; a process the task left running that still holds the pipe after
        ``timeout`` seconds is read on by a thread."""
        import select

        deadline = time.monotonic() + timeout
        while select.select([self.read_end], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = os.read(self.read_end, 65536)
            if not chunk:
                self._end()
                os.close(self.read_end)
                return
            self._write(chunk)
        self.start()

    def _write(self, chunk: bytes) -> None:
        if self.decoder is None:
            self.decoder = _decoder()
        self.sink.write(self.decoder.decode(chunk))

    def _end(self) -> None:
        if self.decoder is not None:  # an incomplete UTF-8 sequence at the end becomes a replacement
            self.sink.write(self.decoder.decode(b"", final=True))


class _python_streams:  # used as a function; a class is cheaper than a generator on the step path
    """For the block, ``sys.stdout`` and ``sys.stderr`` are ``stream``."""

    __slots__ = ("saved", "stream")

    def __init__(self, stream) -> None:
        self.stream = stream

    def __enter__(self) -> None:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.stream

    def __exit__(self, *exc) -> None:
        sys.stdout, sys.stderr = self.saved


def _decoder():
    import codecs

    return codecs.getincrementaldecoder("utf-8")(errors="replace")
