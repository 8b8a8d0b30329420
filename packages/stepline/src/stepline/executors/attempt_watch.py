"""Work done only for an attempt that is still running after a short while.

Most steps of a pipeline finish in well under a millisecond of their own time; recording their
start and echoing their output through a thread would cost more than the step. So an attempt
registers what must happen *if it runs on* ("write my start-of-attempt record", "start echoing my
output live"), and one watcher thread per process does it once the attempt has run for
:data:`LATE_AFTER` seconds. An attempt that ends first cancels it: it is recorded once, at its end.

What a crash leaves is the same either way for anything a user can see: a step that ran for longer
than :data:`LATE_AFTER` is in the run log as running (with the attempt it was in); a step killed
sooner is not there yet, and a retry runs it, as it would a step killed just before it started.

The watcher is stopped before the process forks (threads do not survive a fork, and forking a
multi-threaded process can deadlock the child) and started again when work is pending.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import threading
import time
from collections.abc import Callable

#: Seconds an attempt runs before its start is recorded and its output is echoed live.
LATE_AFTER = 0.05
_IDLE_TICKS = 20  # the watcher keeps polling this many ticks after its last work, then sleeps


class Late:
    """One attempt's pending work; :meth:`cancel` it when the attempt ends."""

    __slots__ = ("action", "due", "lock", "state")

    def __init__(self, due: float, action: Callable[[], None]) -> None:
        self.due, self.action, self.lock, self.state = due, action, threading.Lock(), "pending"

    def run(self) -> None:
        with self.lock:
            if self.state != "pending":
                return
            self.state = "done"
            with contextlib.suppress(Exception):  # the attempt's own end records what matters
                self.action()

    def cancel(self) -> bool:
        """Nothing more happens for this attempt (waits while its work is being done); returns
        whether the work was done."""
        with self.lock:
            done = self.state == "done"
            self.state = "cancelled"
        return done


class Watcher:
    """The process's watcher thread and its pending attempts."""

    def __init__(self) -> None:
        self._pending: dict[int, Late] = {}
        self._cond = threading.Condition(threading.Lock())
        self._thread: int | None = None  # the thread's ident while it runs
        self._ended = threading.Lock()  # held by the thread while it runs (what stop waits on)
        self._stopping = False
        self._asleep = False  # waiting without a timeout: a new attempt must wake it

    def watch(self, action: Callable[[], None]) -> Late:
        """Do ``action`` if the attempt is still running :data:`LATE_AFTER` seconds from now."""
        late = Late(time.monotonic() + LATE_AFTER, action)
        with self._cond:
            self._pending[id(late)] = late
            if self._thread is None:
                self._start()
            elif self._asleep:
                self._asleep = False
                self._cond.notify()
        return late

    def done(self, late: Late) -> bool:
        """``late``'s attempt ended: cancel its work; returns whether the work was done."""
        with self._cond:
            self._pending.pop(id(late), None)
        return late.cancel()

    def _start(self) -> None:
        # a bare thread: threading.Thread.start waits until the new thread runs, which on a busy
        # machine is a scheduler slice (up to 10 ms seen) that the first step of a forked worker paid
        self._stopping = False
        self._ended.acquire()
        self._thread = _thread.start_new_thread(self._run, (self._ended,))

    def _run(self, ended: threading.Lock) -> None:
        try:
            self._loop()
        finally:
            ended.release()

    def _loop(self) -> None:
        idle = 0
        while True:
            with self._cond:
                if self._stopping:
                    return
                if not self._pending and idle >= _IDLE_TICKS:
                    self._asleep = True
                    self._cond.wait()
                    self._asleep, idle = False, 0
                    continue
                self._cond.wait(LATE_AFTER / 2)
                if self._stopping:
                    return
                now = time.monotonic()
                due = [late for late in self._pending.values() if late.due <= now]
                for late in due:
                    del self._pending[id(late)]
                idle = 0 if self._pending or due else idle + 1
            for late in due:
                late.run()

    def stop(self) -> None:
        """Stop the thread (before a fork); pending work stays and waits for :meth:`resume`."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if thread != threading.get_ident():
            with self._ended:  # it has ended
                pass
        self._thread = None

    def resume(self) -> None:
        with self._cond:
            if self._thread is None and self._pending:
                self._start()


_WATCHER = Watcher()


def watcher() -> Watcher:
    return _WATCHER


def _new_in_child() -> None:
    global _WATCHER
    _WATCHER = Watcher()  # the parent's attempts are not this process's; its locks may be held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=lambda: _WATCHER.stop(), after_in_parent=lambda: _WATCHER.resume(),
                        after_in_child=_new_in_child)
