"""Listing runs: the summary of a run a list shows, a query over them, and one page of answers.

:meth:`RunLogStore.query_runs` answers a :class:`RunQuery` with a :class:`RunPage`. Its default
reads every run's own record (never a step log) through :meth:`RunLogStore.run_summaries`; stores
override either method where they can do better (an index, a query on a start-time column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stepline.runlog.models import Status


class RunSummary(BaseModel):
    """A run's own fields that a runs list shows (parsed from its run record; the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    run_id: str
    status: Status = Status.CREATED
    tag: str = ""
    original_run_id: str = ""
    pipeline_file: str = ""
    start_time: str = ""
    end_time: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if not self.start_time or not self.end_time:
            return None
        return (dt.datetime.fromisoformat(self.end_time) - dt.datetime.fromisoformat(self.start_time)).total_seconds()


class RunQuery(BaseModel):
    """Which runs to list, in which order, and which page of them."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    statuses: frozenset[Status] = frozenset()
    tag: str | None = None
    #: ISO-8601 bounds on the start time; a bare date means that day in UTC.
    since: str | None = None
    until: str | None = None
    newest_first: bool = True
    offset: int = Field(default=0, ge=0)
    limit: int | None = Field(default=None, ge=1)

    @field_validator("since", "until")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return normalise_time(value) if value else None

    def matches(self, run: RunSummary) -> bool:
        """Whether a run passes the filters (status, tag, start-time bounds)."""
        if self.statuses and run.status not in self.statuses:
            return False
        if self.tag is not None and run.tag != self.tag:
            return False
        if not (self.since or self.until):
            return True
        start = start_key(run)
        if self.since and start < self.since:
            return False
        return not (self.until and start >= self.until)


class RunPage(BaseModel):
    """One page of a listing: the runs on it and how many matched in all."""

    model_config = ConfigDict(defer_build=True)

    runs: list[RunSummary]
    total: int
    query: RunQuery


def normalise_time(value: str) -> str:
    """An ISO-8601 time as a UTC string that sorts as the time does ('2026-01-02' -> midnight UTC).

    Raises ValueError for text that is not a date or time.
    """
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds")


def start_key(run: RunSummary) -> str:
    """A run's start time as a string that sorts as the time does (UTC, microseconds)."""
    start = run.start_time
    if len(start) == 32 and start.endswith("+00:00"):  # what stepline writes: already in that form
        return start
    return normalise_time(start) if start else ""


def page_of(runs: Iterable[RunSummary], query: RunQuery) -> RunPage:
    """Filter, order and cut a page out of run summaries (the default every store may use)."""
    found = [run for run in runs if query.matches(run)]
    found.sort(key=lambda r: (start_key(r), r.run_id), reverse=query.newest_first)
    end = None if query.limit is None else query.offset + query.limit
    return RunPage(runs=found[query.offset:end], total=len(found), query=query)
