"""Python tasks of the runnable-compatibility pipelines."""

import threading


class Counter:
    """Holds a lock, so it cannot be pickled: it only reaches the next step in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0


def make_counter() -> Counter:
    counter = Counter()
    counter.count = 41
    return counter


def bump(counter: Counter) -> int:
    with counter.lock:
        counter.count += 1
    return counter.count


def make_total() -> int:
    return 6 * 7


def note_run_id() -> str:
    import os

    return os.environ["RUNNABLE_RUN_ID"]
