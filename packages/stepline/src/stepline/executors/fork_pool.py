"""A small pool of forked worker processes that runs items ``0 .. count-1`` and returns their outcomes
in order.

``multiprocessing.Pool`` costs a map of a hundred quick items more than the items themselves: its
import, three handler threads, queues with locks and a pickled task per chunk (about 40-60 ms on a
2-core machine). Here the parent forks the workers, hands each a chunk of item numbers over its own
pipe, and reads each item's pickled outcome back from another pipe as soon as it is done. A worker
inherits what it runs (the function and its data) through the fork, so nothing else is pickled.
While much work is queued, each worker holds :data:`_AHEAD` chunks: the next one is in its pipe
before it ends the one it runs, so it does not wait for the parent to be scheduled (on a busy
machine, a slice of up to 10 ms) between chunks.

What a worker does, and what it must not do:

- it gets SIGTERM when the parent dies, even by SIGKILL (as with ``PR_SET_PDEATHSIG``, see
  :func:`_die_with_parent`), so no orphan writes to a run a re-run may already be continuing;
- it ignores SIGINT (Ctrl-C reaches the whole process group: the parent handles it and stops the
  workers); SIGTERM raises :class:`~stepline.errors.Interrupted` through the running item, so its
  task is stopped and recorded as interrupted, and then the worker exits;
- a worker killed while running an item (SIGKILL, a segfault, ``os._exit`` in a task) is noticed at
  once: that item gets the outcome ``lost(item, reason)`` gives, the rest of its chunk goes back to
  the queue, and another worker is forked in its place while work remains.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import mmap
import os
import pickle
import select
import signal
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

_CHUNK = struct.Struct("<ii")  # parent -> worker: first item, how many
_FRAME = struct.Struct("<I")  # worker -> parent: length of the pickled (item, outcome) that follows
_SLOT = struct.Struct("<q")  # per worker, in shared memory: 1 + the item it started last (0: none)
_AHEAD = 2  # chunks sent to a worker and not yet done: the one it runs and the next

#: True in a forked worker (branches it runs do not fork again: they run one after another there).
IN_WORKER = False
#: Workers told to end that may not have exited yet, with their lifeline; reaped later (:func:`_reap`).
_ENDING: list[tuple[int, int]] = []


class WorkerError(Exception):
    """An unexpected error in a worker that could not be sent back as itself (its traceback)."""


def run_forked(count: int, workers: int, run_one: Callable[[int], Any],
               lost: Callable[[int, str], Any]) -> list[Any]:
    """Run ``run_one(i)`` for every ``i < count`` in at most ``workers`` forked processes; their
    outcomes (which must pickle) in order. ``lost(i, reason)`` is called in this process for an item
    whose worker died while running it, and gives its outcome. An exception ``run_one`` raises is
    raised here, once the workers are stopped."""
    _reap()
    return _Pool(count, workers, run_one, lost).run() if count else []


def _reap(wait: bool = False) -> None:
    """Collect the exit status of workers that were told to end. Nobody waits for them when their
    map ends: every record and output of theirs was written before they sent their last outcome,
    and their exit (unmapping the memory they had) would only delay the run."""
    for pid, lifeline in list(_ENDING):
        try:
            if os.waitpid(pid, 0 if wait else os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:
            pass
        _close(lifeline)
        _ENDING.remove((pid, lifeline))


atexit.register(_reap, True)


class _Worker:
    __slots__ = ("buffer", "chunk", "ends", "lifeline", "pid", "pidfd", "results", "slot", "tasks")

    def __init__(self, pid: int, tasks: int, results: int, lifeline: int, slot: int) -> None:
        self.pid, self.tasks, self.results, self.lifeline, self.slot = pid, tasks, results, lifeline, slot
        self.pidfd = _pidfd(pid)
        self.buffer = bytearray()
        self.chunk: deque[int] = deque()  # items sent to it, not yet reported, in order
        self.ends: deque[int] = deque()  # the last item of each chunk sent to it and not done

    def fds(self) -> list[int]:
        return [fd for fd in (self.tasks, self.results, self.lifeline, self.pidfd) if fd is not None and fd >= 0]


class _Pool:
    def __init__(self, count: int, workers: int, run_one, lost) -> None:
        self.run_one, self.lost = run_one, lost
        self.size = max(1, min(workers, count))
        self.outcomes: list[Any] = [None] * count
        self.missing = count
        self.queue: deque[tuple[int, int]] = deque(_chunks(count, self.size))
        self.workers: dict[int, _Worker] = {}  # by each fd poll may report for it
        self.slots = mmap.mmap(-1, _SLOT.size * self.size)  # MAP_SHARED: the workers write, we read
        self.free_slots = list(range(self.size))
        self.poll = select.poll()
        self.parent = os.getpid()
        self.changed = False  # workers came or went since the last poll: its other events may be stale
        self.barren = 0  # workers that died in a row before starting an item

    def run(self) -> list[Any]:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            for _ in range(self.size):
                self._fork()
            while self.missing:
                if not self.workers:  # every loss forks a worker while work is left: a bug if not
                    raise WorkerError(f"no worker is left and {self.missing} items are not done")
                self.changed = False
                for fd, _event in self.poll.poll():
                    worker = self.workers.get(fd)
                    if worker is not None:
                        self._read(worker, fd)
                    if self.changed:  # a closed fd's number may be a new worker's now
                        break
        except BaseException:
            self._stop(signal.SIGTERM)
            raise
        finally:
            self.slots.close()
        self._stop(None)
        return self.outcomes

    # ---- starting, feeding and stopping workers ---------------------------------------------------
    def _fork(self) -> None:
        slot = self.free_slots.pop()
        _SLOT.pack_into(self.slots, slot * _SLOT.size, 0)
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        life_r, life_w = os.pipe()
        inherited = [fd for w in self.workers.values() for fd in w.fds()] + [fd for _, fd in _ENDING]
        try:
            pid = os.fork()
        except OSError:
            for fd in (task_r, task_w, result_r, result_w, life_r, life_w):
                os.close(fd)
            raise
        if pid == 0:  # the worker: never returns into the code that called the pool
            try:
                gc.freeze()  # its collections skip what it inherits: they would copy every page of it
                for fd in (task_w, result_r, life_w, *inherited):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                _work(self.parent, life_r, task_r, result_w, self.slots, slot * _SLOT.size, self.run_one)
            finally:
                os._exit(70)
        self.changed = True
        for fd in (task_r, result_w, life_r):
            os.close(fd)
        worker = _Worker(pid, task_w, result_r, life_w, slot)
        for fd in (worker.results, worker.pidfd):
            if fd is not None:
                self.workers[fd] = worker
                self.poll.register(fd, select.POLLIN)
        self._top_up(worker)

    def _top_up(self, worker: _Worker) -> None:
        """Give ``worker`` a chunk when it has none, and one ahead while more chunks are queued than
        there are workers (a chunk in one worker's pipe must not wait there while another is idle)."""
        while worker.tasks >= 0 and (not worker.ends or (len(worker.ends) < _AHEAD and len(self.queue) > self.size)):
            self._feed(worker)

    def _feed(self, worker: _Worker) -> None:
        """Give ``worker`` the next chunk, or let it end when there is none."""
        if self.queue:
            start, size = self.queue.popleft()
            worker.chunk.extend(range(start, start + size))
            worker.ends.append(start + size - 1)
            with contextlib.suppress(BrokenPipeError):  # it died: its end is read next, and the chunk requeued
                os.write(worker.tasks, _CHUNK.pack(start, size))
        else:  # the end of its task pipe ends it; its lifeline stays open until it has ended
            worker.tasks = _close(worker.tasks)

    def _forget(self, worker: _Worker) -> None:
        """Close what is left of ``worker`` here (it has ended, or will: see :func:`_reap`)."""
        for fd in (worker.results, worker.pidfd):
            if fd is not None and fd >= 0:
                self.poll.unregister(fd)
                self.workers.pop(fd, None)
        for fd in worker.fds():
            _close(fd)
        worker.tasks = worker.results = worker.lifeline = -1
        worker.pidfd = None
        self.changed = True
        self.free_slots.append(worker.slot)

    def _stop(self, signum: int | None) -> None:
        """End every worker still here. With ``signum`` (a stop): signal each and wait for it to end
        (it records its item as interrupted). Without (every item is done): they are ending already,
        and are reaped later."""
        live = list({id(w): w for w in self.workers.values()}.values())
        for worker in live:
            if signum is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signum)
        for worker in live:
            if signum is not None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(worker.pid, 0)
            else:
                _ENDING.append((worker.pid, worker.lifeline))
                worker.lifeline = -1
            self._forget(worker)

    # ---- results --------------------------------------------------------------------------------
    def _read(self, worker: _Worker, fd: int) -> None:
        if fd == worker.results:
            data = os.read(fd, 1 << 16)
            if data:
                worker.buffer += data
                self._take_frames(worker)
                return
        # the end of its result pipe, or its pidfd says it exited: read what is left, see how it ended
        os.set_blocking(worker.results, False)
        with contextlib.suppress(BlockingIOError):
            while data := os.read(worker.results, 1 << 16):
                worker.buffer += data
        self._take_frames(worker)
        _, status = os.waitpid(worker.pid, 0)
        running = _SLOT.unpack_from(self.slots, worker.slot * _SLOT.size)[0] - 1
        self._forget(worker)
        if worker.chunk:
            self._lose(worker, running, _ended(status))

    def _take_frames(self, worker: _Worker) -> None:
        buffer, at = worker.buffer, 0
        while len(buffer) - at >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buffer, at)
            if len(buffer) - at - _FRAME.size < size:
                break
            item, outcome = pickle.loads(buffer[at + _FRAME.size:at + _FRAME.size + size])
            at += _FRAME.size + size
            if item < 0:  # the worker's run_one raised: stop everything and raise it here
                raise outcome
            self.outcomes[item] = outcome
            self.missing -= 1
            worker.chunk.popleft()
            if item == worker.ends[0]:  # a chunk is done
                worker.ends.popleft()
                self._top_up(worker)
        del buffer[:at]

    def _lose(self, worker: _Worker, running: int, how: str) -> None:
        """``worker`` ended with items of its chunks unreported: the one it was running is lost, the
        others go back to the queue, and another worker takes its place."""
        rest = list(worker.chunk)
        if rest[0] == running:
            self.barren = 0
            self._give_up(rest.pop(0), f"its worker process {worker.pid} {how} while running it")
        else:
            self.barren += 1
        self.queue.extendleft(reversed(_runs(rest)))  # first in the queue, in item order
        if self.barren >= 3:  # workers die before they start anything: more would die the same way
            for start, size in self.queue:
                for item in range(start, start + size):
                    self._give_up(item, f"no worker could start it (the last, process {worker.pid}, {how})")
            self.queue.clear()
        elif self.queue and sum(w.tasks >= 0 for w in set(self.workers.values())) < self.size:
            self._fork()

    def _give_up(self, item: int, reason: str) -> None:
        self.outcomes[item] = self.lost(item, reason)
        self.missing -= 1


def _work(parent: int, lifeline: int, tasks: int, results: int, slots: mmap.mmap, slot: int, run_one) -> None:
    """A worker's life: run the chunks it is sent until its task pipe ends, then exit."""
    global IN_WORKER
    IN_WORKER = True
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _raise_interrupted)
        _die_with_parent(parent, lifeline)
        while data := _read_exact(tasks, _CHUNK.size):
            start, size = _CHUNK.unpack(data)
            for item in range(start, start + size):
                _SLOT.pack_into(slots, slot, item + 1)
                frame = pickle.dumps((item, run_one(item)), pickle.HIGHEST_PROTOCOL)
                sys.stdout.flush()  # its output is out before the parent hears the item is done
                sys.stderr.flush()
                _write_all(results, _FRAME.pack(len(frame)) + frame)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # its work is done: nothing to interrupt now
    except BaseException as exc:  # noqa: BLE001 - whatever ends a worker is sent back or is its exit code
        from stepline.errors import Interrupted

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if isinstance(exc, Interrupted):  # the items' logs say "interrupted"; leave without a traceback
            code = 128 + exc.signum
        else:
            code = 1
            with contextlib.suppress(BaseException):
                _write_all(results, _error_frame(exc))
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _die_with_parent(parent: int, lifeline: int) -> None:
    """SIGTERM when the parent dies, even by SIGKILL: the parent holds the only write end of
    ``lifeline``, and the kernel signals the reader (this worker) when the last write end closes.
    The same as ``PR_SET_PDEATHSIG`` (:func:`stepline.executors.local.die_with_parent`) without
    loading ctypes, which costs a map's first fork about 4 ms."""
    if not hasattr(fcntl, "F_SETSIG"):  # not Linux: no such signal (nor PR_SET_PDEATHSIG) there
        return
    fcntl.fcntl(lifeline, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(lifeline, fcntl.F_SETSIG, signal.SIGTERM)
    fcntl.fcntl(lifeline, fcntl.F_SETFL, fcntl.fcntl(lifeline, fcntl.F_GETFL) | os.O_ASYNC)
    if os.getppid() != parent:  # the parent died before that took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _close(fd: int | None) -> int:
    if fd is not None and fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    return -1


def _raise_interrupted(signum, frame):
    from stepline.errors import Interrupted

    raise Interrupted(signum)  # unwinds through the task, which kills its child processes


def _error_frame(exc: BaseException) -> bytes:
    try:
        frame = pickle.dumps((-1, exc), pickle.HIGHEST_PROTOCOL)
        pickle.loads(frame)
    except Exception:  # noqa: BLE001 - an exception that does not pickle travels as its traceback
        import traceback

        text = "".join(traceback.format_exception(exc)).strip()
        frame = pickle.dumps((-1, WorkerError(text)), pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(frame)) + frame


def _chunks(count: int, workers: int) -> list[tuple[int, int]]:
    """(first item, size) per chunk, from large to small (guided): few round trips while much is
    left, an even finish (the last chunks are single items)."""
    chunks, start = [], 0
    while start < count:
        size = max(1, min(64, (count - start) // (workers * 4)))
        chunks.append((start, size))
        start += size
    return chunks


def _runs(items: list[int]) -> list[tuple[int, int]]:
    """Ascending ``items`` as (first item, how many) runs of consecutive items: the chunks a worker
    held need not be next to each other."""
    runs: list[tuple[int, int]] = []
    for item in items:
        if runs and runs[-1][0] + runs[-1][1] == item:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((item, 1))
    return runs


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(number).name}"
        return f"was killed by signal {number}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3: the end of its result pipe says it ended
        return None


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            return b""
        data += more
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
