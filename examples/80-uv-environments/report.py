# /// script
# requires-python = ">=3.11"
# dependencies = ["humanize==4.10.0"]
# ///
"""A module with PEP 723 inline script metadata: its step runs with humanize, without a `uv:` key."""

import humanize


def size_of(rows: list[list[int]]) -> str:
    return humanize.naturalsize(sum(x * y for x, y in rows) * 1000)
