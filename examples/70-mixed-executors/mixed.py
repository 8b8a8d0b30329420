"""Steps that report where they ran."""

import os
import socket


def where() -> str:
    """podman sets `container=podman` in the environment of its containers."""
    if os.environ.get("container"):
        return f"container {socket.gethostname()}"
    return f"process {os.getpid()}"


def prepare():
    return list(range(1, 11)), where()


def heavy(numbers: list[int]):
    return sum(n * n for n in numbers), where()


def isolated(total: int):
    return where()
