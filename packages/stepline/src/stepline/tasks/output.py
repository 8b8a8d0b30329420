"""Where a task's output goes: verbatim to the console and into the step's execution log,
with secret values masked in both."""

from __future__ import annotations

import io
import sys
import threading

MASK = "********"


class OutputSink:
    """Collects a task's output, masks secrets, echoes it live to the console."""

    def __init__(self, secrets: list[str] | None = None, echo: bool = True) -> None:
        self.secrets = sorted({s for s in (secrets or []) if s}, key=len, reverse=True)
        self.echo = echo
        self._log = io.StringIO()
        self._partial = ""
        self._lock = threading.Lock()

    def add_secret(self, value: str) -> None:
        if value and value not in self.secrets:
            self.secrets = sorted([*self.secrets, value], key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, MASK)
        return text

    def write(self, text: str) -> None:
        """Accept any chunk; complete lines are masked and emitted (a secret never splits)."""
        with self._lock:
            text = self._partial + text
            head, sep, self._partial = text.rpartition("\n")
            if sep:
                self._emit(self.mask(head + sep))

    def flush(self) -> None:
        with self._lock:
            if self._partial:
                self._emit(self.mask(self._partial))
                self._partial = ""

    def _emit(self, text: str) -> None:
        self._log.write(text)
        if self.echo:
            stream = sys.__stdout__ or sys.stdout
            stream.write(text)
            stream.flush()

    def text(self) -> str:
        self.flush()
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
