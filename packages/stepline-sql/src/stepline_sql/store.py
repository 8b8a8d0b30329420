"""The run log in a SQL database (SQLAlchemy 2): SQLite embedded, PostgreSQL on a server.

Each record of a run is one row — the run itself in ``stepline_runs`` (indexed by start time for
``runs list``), parameters, step logs and branch logs in ``stepline_records`` keyed by
``(run_id, key)`` — so recording a step is one upsert, whatever the size of the run, and writers
in many processes never lose each other's updates.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field
from stepline.api import (
    RUN_KEY,
    ConfigError,
    Locality,
    RunLog,
    RunLogStore,
    RunPage,
    RunQuery,
    RunSummary,
    Settings,
    StepLineError,
    mask_url,
    page_of,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

#: The layout this version writes. Bump it with a migration in ``_migrate``.
SCHEMA_VERSION = 1
#: Any constant; serialises schema creation between processes on PostgreSQL.
_PG_SCHEMA_LOCK = 0x5E71_0001


class SqlStoreError(StepLineError):
    """The database cannot be reached or holds a schema this version cannot use."""


class SqlSettings(Settings):
    url: str = Field(default="sqlite:///.stepline/runs.db",
                     description="SQLAlchemy URL, e.g. sqlite:///.stepline/runs.db or postgresql+psycopg://...")


@lru_cache(maxsize=1)
def _tables():
    from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

    metadata = MetaData()
    runs = Table("stepline_runs", metadata,
                 Column("run_id", String(255), primary_key=True),
                 Column("start_time", String(64), nullable=False),
                 Column("record", Text, nullable=False),
                 Index("ix_stepline_runs_start_time", "start_time", "run_id"))
    records = Table("stepline_records", metadata,
                    Column("run_id", String(255), primary_key=True),
                    Column("key", String(1024), primary_key=True),
                    Column("record", Text, nullable=False))
    version = Table("stepline_schema_version", metadata,
                    Column("version", Integer, primary_key=True))
    return metadata, runs, records, version


def _is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory")


class SqlRunLogStore(RunLogStore):
    """Run log store ``sql``: one row per run and per record, on any SQLAlchemy database."""

    name: ClassVar[str] = "sql"
    Settings: ClassVar[type[Settings]] = SqlSettings

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._engine: Engine | None = None
        self._engine_pid: int | None = None
        self._setup_lock = threading.Lock()
        # one shared connection for in-memory SQLite: its threads must take turns
        self._memory_lock: threading.RLock | None = None

    # ---- what the run log and the integration checks see ---------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"type": self.name, "config": {"url": mask_url(self.settings.url)}}

    @property
    def locality(self) -> Locality:
        url = self._url()
        if _is_memory_sqlite(url):
            return Locality.PROCESS
        if url.get_backend_name() == "sqlite":
            return Locality.MACHINE
        return Locality.NETWORK

    def __getstate__(self) -> dict[str, Any]:
        # engines hold sockets and locks: a pickled store reconnects on first use
        state = dict(self.__dict__)
        state.update(_engine=None, _engine_pid=None, _setup_lock=None, _memory_lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup_lock = threading.Lock()

    # ---- connection and schema ------------------------------------------------------------------
    def _url(self) -> URL:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.settings.url)
        except ArgumentError as exc:
            raise ConfigError(f"run log store 'sql': setting 'url': {exc}",
                              hint="e.g. sqlite:///.stepline/runs.db or postgresql+psycopg://user@host/db") from None

    @property
    def engine(self) -> Engine:
        if self._engine is not None and self._engine_pid == os.getpid():
            return self._engine
        with self._setup_lock:
            if self._engine is not None and self._engine_pid != os.getpid():
                # a forked child must not share the parent's pooled connections
                self._engine.dispose(close=False)
                self._engine = None
            if self._engine is None:
                engine = self._create_engine()
                self._ensure_schema(engine)
                self._engine, self._engine_pid = engine, os.getpid()
        return self._engine

    def _create_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import NoSuchModuleError
        from sqlalchemy.pool import StaticPool

        url = self._url()
        options: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            if _is_memory_sqlite(url):
                options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
                self._memory_lock = threading.RLock()
            else:
                if url.database:
                    folder = os.path.dirname(os.path.abspath(url.database))
                    os.makedirs(folder, exist_ok=True)
                options.update(connect_args={"timeout": 60})
        else:
            options.update(pool_pre_ping=True)
        try:
            engine = create_engine(url, **options)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise ConfigError(f"run log store 'sql': no database driver for '{mask_url(self.settings.url)}': {exc}",
                              hint="install its driver; for postgresql+psycopg://: pip install \"stepline[postgres]\"") from None
        if url.get_backend_name() == "sqlite" and not _is_memory_sqlite(url):
            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                # WAL: readers never block the writer; busy_timeout: writers wait for each other
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=60000")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
        return engine

    def _ensure_schema(self, engine: Engine) -> None:
        from sqlalchemy.exc import DBAPIError

        for attempt in range(3):
            try:
                return self._create_schema(engine)
            except DBAPIError as exc:
                # SQLite: another process created the tables between our check and our CREATE
                if "already exists" in str(exc.orig) and attempt < 2:
                    continue
                first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
                raise SqlStoreError(f"cannot use the run log database '{mask_url(self.settings.url)}': {first}",
                                    hint="is the server running and the url right?") from None

    def _create_schema(self, engine: Engine) -> None:
        from sqlalchemy import func, insert, select
        from sqlalchemy.schema import CreateIndex, CreateTable

        metadata, _, _, version = _tables()
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_SCHEMA_LOCK})")
            for table in metadata.sorted_tables:
                conn.execute(CreateTable(table, if_not_exists=True))
                for index in table.indexes:
                    conn.execute(CreateIndex(index, if_not_exists=True))
            found = conn.execute(select(func.max(version.c.version))).scalar()
            if found is None:
                # SQLite runs DDL outside a transaction, so two first users may both get here
                if conn.dialect.name == "sqlite":
                    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                    conn.execute(sqlite_insert(version).values(version=SCHEMA_VERSION).on_conflict_do_nothing())
                else:
                    conn.execute(insert(version).values(version=SCHEMA_VERSION))
            elif found > SCHEMA_VERSION:
                raise SqlStoreError(
                    f"the run log database '{mask_url(self.settings.url)}' has schema version {found}, "
                    f"newer than this stepline-sql understands ({SCHEMA_VERSION})", hint="upgrade stepline-sql")

    @contextmanager
    def _begin(self):
        engine = self.engine
        with self._memory_lock or nullcontext(), engine.begin() as conn:
            yield conn

    def _upsert(self, conn, table, values: dict[str, Any], keys: list[str], update: list[str]):
        name = conn.dialect.name
        if name in ("postgresql", "sqlite"):
            if name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(table).values(**values)
            conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                                    set_={c: stmt.excluded[c] for c in update}))
            return
        from sqlalchemy import and_, insert
        from sqlalchemy import update as sql_update

        where = and_(*(table.c[k] == values[k] for k in keys))
        if conn.execute(sql_update(table).where(where).values({c: values[c] for c in update})).rowcount == 0:
            conn.execute(insert(table).values(**values))

    # ---- the five primitives ------------------------------------------------------------------
    def _create(self, run_id, records):
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        _, runs, table, _ = _tables()
        run_text = records[RUN_KEY]
        start_time = RunLog.model_validate_json(run_text).start_time
        try:
            with self._begin() as conn:
                conn.execute(insert(runs).values(run_id=run_id, start_time=start_time, record=run_text))
                rows = [{"run_id": run_id, "key": k, "record": t} for k, t in records.items() if k != RUN_KEY]
                if rows:
                    conn.execute(insert(table), rows)
        except IntegrityError:
            raise FileExistsError(run_id) from None

    def _write(self, run_id, key, text):
        _, runs, table, _ = _tables()
        with self._begin() as conn:
            if key == RUN_KEY:
                start_time = RunLog.model_validate_json(text).start_time
                self._upsert(conn, runs, {"run_id": run_id, "start_time": start_time, "record": text},
                             ["run_id"], ["start_time", "record"])
            else:
                self._upsert(conn, table, {"run_id": run_id, "key": key, "record": text},
                             ["run_id", "key"], ["record"])

    def _read(self, run_id, key):
        from sqlalchemy import select

        _, runs, table, _ = _tables()
        if key == RUN_KEY:
            query = select(runs.c.record).where(runs.c.run_id == run_id)
        else:
            query = select(table.c.record).where(table.c.run_id == run_id, table.c.key == key)
        with self._begin() as conn:
            return conn.execute(query).scalar()

    def _read_all(self, run_id):
        from sqlalchemy import select

        _, runs, table, _ = _tables()
        with self._begin() as conn:
            run_text = conn.execute(select(runs.c.record).where(runs.c.run_id == run_id)).scalar()
            if run_text is None:
                return None
            rows = conn.execute(select(table.c.key, table.c.record).where(table.c.run_id == run_id)).all()
        found = {key: text for key, text in rows}
        found[RUN_KEY] = run_text
        return found

    def _run_ids(self):
        from sqlalchemy import select

        _, runs, _, _ = _tables()
        with self._begin() as conn:
            return list(conn.execute(select(runs.c.run_id)).scalars())

    # ---- faster paths than the base's -------------------------------------------------------------
    def list_runs(self) -> list[RunLog]:
        """Every run's own fields, oldest first: one query on the start-time index."""
        from sqlalchemy import select

        _, runs, _, _ = _tables()
        with self._begin() as conn:
            texts = conn.execute(select(runs.c.record).order_by(runs.c.start_time, runs.c.run_id)).scalars().all()
        found = [RunLog.model_validate_json(t) for t in texts]
        return sorted(found, key=lambda r: (r.start_time, r.run_id))  # collation-independent order

    def run_summaries(self) -> list[RunSummary]:
        """Every run's summary in one query (the run records only)."""
        from sqlalchemy import select

        _, runs, _, _ = _tables()
        with self._begin() as conn:
            texts = conn.execute(select(runs.c.record)).scalars().all()
        return [RunSummary.model_validate_json(t) for t in texts]

    def query_runs(self, query: RunQuery | None = None) -> RunPage:
        """The start-time bounds go to the database (its start-time index); without a status or
        tag filter the page and the count do too, so the first page of 10,000 runs reads 50 rows."""
        from sqlalchemy import func, select

        query = query or RunQuery()
        _, runs, _, _ = _tables()
        where = []
        # start times are stored as written (any UTC offset): widen the bounds by a day in SQL and
        # let page_of apply the exact ones, so a run is never lost to a string comparison
        if query.since:
            where.append(runs.c.start_time >= _shift(query.since, -1))
        if query.until:
            where.append(runs.c.start_time < _shift(query.until, 1))
        if query.statuses or query.tag is not None or query.since or query.until:
            with self._begin() as conn:
                texts = conn.execute(select(runs.c.record).where(*where)).scalars().all()
            return page_of((RunSummary.model_validate_json(t) for t in texts), query)
        order = [runs.c.start_time.desc(), runs.c.run_id.desc()] if query.newest_first else \
            [runs.c.start_time, runs.c.run_id]
        with self._begin() as conn:
            total = conn.execute(select(func.count()).select_from(runs)).scalar()
            statement = select(runs.c.record).order_by(*order).offset(query.offset)
            if query.limit is not None:
                statement = statement.limit(query.limit)
            texts = conn.execute(statement).scalars().all()
        return RunPage(runs=[RunSummary.model_validate_json(t) for t in texts], total=total, query=query)


def _shift(iso: str, days: int) -> str:
    import datetime as dt

    return (dt.datetime.fromisoformat(iso) + dt.timedelta(days=days)).isoformat()
