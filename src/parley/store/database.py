"""Engines for the two supported databases, tuned for durability and for concurrent use.

SQLite runs in WAL mode with synchronous=FULL (durable across power loss) and foreign keys on.
Writers begin with BEGIN IMMEDIATE so two transactions never deadlock upgrading a read lock;
readers keep plain deferred transactions and are never blocked by writers under WAL. That is
why there are two engines: `reader` and `writer`. On PostgreSQL they are the same engine.

Every engine hides statement parameters in its errors (`hide_parameters`): a failed write's
message would otherwise carry its values into the log, a carrier's auth token among them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

T = TypeVar("T")


@dataclass(frozen=True)
class Database:
    url: str
    reader: AsyncEngine
    writer: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    _tune_sqlite(engine.sync_engine, immediate=immediate)
    return engine


class SqliteThread:
    """One thread with one plain sqlite3 connection, for the hot paths' batches: one hand-off
    per batch instead of one per statement through the async driver. The group commit's
    writer is one (`immediate`: BEGIN IMMEDIATE), the side reads another."""

    def __init__(self, url: str, *, name: str, immediate: bool) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self._engine = create_engine(sync_url, poolclass=SingletonThreadPool,
                                     connect_args={"timeout": 30, "check_same_thread": False},
                                     hide_parameters=True)
        _tune_sqlite(self._engine, immediate=immediate)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def run(self, step: Callable[[Connection], T]) -> T:
        """`step` in a transaction of its own on the thread's connection, committed if it
        returns."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, step)

    def _run(self, step: Callable[[Connection], T]) -> T:
        with self._engine.begin() as conn:
            return step(conn)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()


def _tune_sqlite(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_database(url: str) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return Database(url=url, reader=_sqlite_engine(url, immediate=False),
                        writer=_sqlite_engine(url, immediate=True))
    if parsed.get_backend_name() == "postgresql":
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                                     hide_parameters=True)
        return Database(url=url, reader=engine, writer=engine)
    raise ValueError(f"unsupported database URL '{url}': use sqlite+aiosqlite:///path or "
                     "postgresql+asyncpg://user@host/db")
