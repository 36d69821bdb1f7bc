"""Group commit: many concurrent requests, one transaction, one fsync.

Each caller hands in its writes and awaits a future; a single flusher task takes everything
pending (up to `max_batch` callers), runs one executemany per statement inside one
transaction, commits, and resolves every future. A caller therefore answers only once its
rows are durable, yet the database sees one commit per batch instead of one per request.

Writes are grouped per statement and run in schema order (parents before children), so
batching never breaks a foreign key. If a batch fails, each caller's writes are retried
alone, so one bad request cannot sink the others.

A whole batch is one trip to the database: on SQLite it runs on a dedicated writer thread with
a plain (sync) connection - one hand-off per batch, not one per statement through a busy event
loop; on PostgreSQL it runs as one greenlet-driven `run_sync` on an asyncpg connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, and_, bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Update as UpdateStatement

from parley.store.database import Database, SqliteThread
from parley.store.tables import metadata

log = logging.getLogger(__name__)

_TABLE_RANK = {t.name: i for i, t in enumerate(metadata.sorted_tables)}
_NAMED_SQLITE = sqlite.dialect(paramstyle="named")


@dataclass(frozen=True, slots=True)
class Insert:
    table: Table
    rows: Sequence[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Update:
    """UPDATE table SET <values> WHERE <key> = :_key, for each row (executemany); every other
    `_`-prefixed value of a row is matched too (`_carrier`: AND carrier = :_carrier)."""

    table: Table
    key: str
    rows: Sequence[dict[str, Any]]
    only_if_lower: str | None = None
    """A column that must be lower than the new value for the row to change (status ranks)."""


@dataclass(frozen=True, slots=True)
class Upsert:
    """INSERT, or UPDATE every given column of the row with the same primary key: the full
    state of an object, so that of two upserts of one row in a batch the later one wins."""

    table: Table
    rows: Sequence[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Delete:
    """DELETE FROM table WHERE key IN (...)."""

    table: Table
    key: str
    keys: Sequence[Any]

    @property
    def rows(self) -> Sequence[Any]:
        return self.keys


@dataclass(frozen=True, slots=True)
class Then:
    """A step that must see the batch's other writes: it runs after them, in submission order,
    in the same transaction (for read-then-write logic that must not race other batches)."""

    step: Callable[[Connection], None]

    @property
    def rows(self) -> Sequence[Any]:
        return (self.step,)


Write = Insert | Upsert | Update | Delete | Then


def _rank(w: Insert | Upsert | Update | Delete) -> tuple[int, int, str]:
    """Inserts and upserts parent-first, then updates, then deletes child-first; one group
    per shape (so rows of one shape keep the order they were handed in)."""
    rank = _TABLE_RANK[w.table.name]
    if isinstance(w, Insert):
        return (0, rank, "")
    if isinstance(w, Upsert):
        return (0, rank, f"upsert{sorted(w.rows[0])}")
    if isinstance(w, Update):
        return (1, rank, f"{sorted(w.rows[0])}{w.key}{w.only_if_lower}")
    return (2, -rank, w.key)


_update_cache: dict[tuple[object, ...], UpdateStatement] = {}


def update_statement(w: Update) -> UpdateStatement:
    """UPDATE ... SET col = :col ... WHERE key = :_key [AND other = :_other ...]
    [AND guard < :guard], cached by shape: a row's `_`-prefixed values are the ones matched."""
    cols = tuple(sorted(c for c in w.rows[0] if not c.startswith("_")))
    matched = sorted({w.key, *(c[1:] for c in w.rows[0] if c.startswith("_"))})
    cache_key = (w.table.name, w.key, w.only_if_lower, cols, tuple(matched))
    stmt = _update_cache.get(cache_key)
    if stmt is None:
        where = and_(*(w.table.c[k] == bindparam(f"_{k}") for k in matched))
        if w.only_if_lower is not None:
            where = where & (w.table.c[w.only_if_lower] < bindparam(w.only_if_lower))
        stmt = update(w.table).where(where).values({c: bindparam(c) for c in cols})
        _update_cache[cache_key] = stmt
    return stmt


_sqlite_plans: dict[tuple[object, ...], tuple[str, tuple[str, ...]]] = {}


def _conflict_target(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _upsert_statement(w: Upsert, cols: tuple[str, ...]) -> Any:
    """PostgreSQL's INSERT ... ON CONFLICT (pk) DO UPDATE, for executemany."""
    stmt = postgresql.insert(w.table)
    keys = set(_conflict_target(w.table))
    return stmt.on_conflict_do_update(
        index_elements=_conflict_target(w.table),
        set_={c: stmt.excluded[c] for c in cols if c not in keys})


def _sqlite_plan(w: Insert | Upsert | Update,
                 rows: list[dict[str, Any]]) -> tuple[str, tuple[str, ...]]:
    """SQL text and JSON columns of an insert or update, built once per shape.

    On SQLite the batch goes to the driver's executemany as plain SQL: SQLAlchemy's
    per-execution compiling and parameter processing cost more than SQLite's own work.
    """
    cols = tuple(rows[0])
    key: tuple[object, ...] = (type(w).__name__, w.table.name, cols,
                               (w.key, w.only_if_lower) if isinstance(w, Update) else None)
    plan = _sqlite_plans.get(key)
    if plan is None:
        if isinstance(w, Insert | Upsert):
            sql = (f"INSERT INTO {w.table.name} ({', '.join(cols)}) "
                   f"VALUES ({', '.join(':' + c for c in cols)})")
            if isinstance(w, Upsert):
                pk = _conflict_target(w.table)
                sql += (f" ON CONFLICT ({', '.join(pk)}) DO UPDATE SET "
                        + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in pk))
        else:
            sql = str(update_statement(w).compile(dialect=_NAMED_SQLITE))
        json_cols = tuple(c for c in cols if c in w.table.c and
                          isinstance(w.table.c[c].type, JSON))
        plan = _sqlite_plans[key] = (sql, json_cols)
    return plan


def _execute_sqlite(cursor: Any, w: Insert | Upsert | Update,
                    rows: list[dict[str, Any]]) -> None:
    sql, json_cols = _sqlite_plan(w, rows)
    if json_cols:
        # (rows whose JSON values are all None - most participants - need no copy)
        rows = [r if all(r[c] is None for c in json_cols) else
                {**r, **{c: None if r[c] is None else json.dumps(r[c]) for c in json_cols}}
                for r in rows]
    _executemany(cursor, sql, rows)


def _executemany(cursor: Any, sql: str, rows: Sequence[Any]) -> None:
    """The driver's executemany, its errors raised as SQLAlchemy's (IntegrityError...), as
    every other statement's are, and like theirs without the values (they may be secrets)."""
    try:
        cursor.executemany(sql, rows)
    except sqlite3.Error as e:
        raise DBAPIError.instance(sql, list(rows[:1]), e, sqlite3.Error,
                                  hide_parameters=True) from e


def apply_writes(conn: Connection, writes: Sequence[Write]) -> None:
    """Run writes grouped by statement, in schema order, on an open transaction."""
    groups: dict[tuple[int, int, str], tuple[Write, list[Any]]] = {}
    then: list[Then] = []
    for w in writes:
        if isinstance(w, Then):
            then.append(w)
            continue
        if not w.rows:
            continue
        key = _rank(w)
        if key in groups:
            groups[key][1].extend(w.rows)
        else:
            groups[key] = (w, list(w.rows))
    # On SQLite the driver's own cursor runs each group, inside the transaction the
    # connection began: SQLAlchemy's per-statement bookkeeping cost about as much as SQLite's
    # executemany itself, on the thread that shares the GIL with the event loop.
    driver = conn.connection.driver_connection
    cursor = driver.cursor() if conn.dialect.name == "sqlite" and driver is not None else None
    for key in sorted(groups):
        w, rows = groups[key]
        if cursor is not None and isinstance(w, Insert | Upsert | Update):
            _execute_sqlite(cursor, w, rows)
        elif cursor is not None and isinstance(w, Delete):
            _executemany(cursor, f"DELETE FROM {w.table.name} WHERE {w.key} = ?",
                         [(k,) for k in rows])
        elif isinstance(w, Insert):
            conn.execute(w.table.insert(), rows)
        elif isinstance(w, Upsert):
            conn.execute(_upsert_statement(w, tuple(rows[0])), rows)
        elif isinstance(w, Update):
            conn.execute(update_statement(w), rows)
        elif isinstance(w, Delete):
            conn.execute(delete(w.table).where(w.table.c[w.key].in_(rows)))
    if cursor is not None:
        cursor.close()
    for t in then:
        t.step(conn)


@dataclass(slots=True)
class _Pending:
    writes: Sequence[Write]
    future: asyncio.Future[None]


class GroupCommitter:
    def __init__(self, db: Database, *, max_batch: int = 512) -> None:
        self._db = db
        self._max_batch = max_batch
        self._thread = SqliteThread(db.url, name="sqlite-writer", immediate=True) \
            if db.is_sqlite else None
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.committed = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._thread is not None:
            self._thread.close()
            self._thread = None

    async def commit(self, writes: Sequence[Write]) -> None:
        """Return once `writes` are durable; raise what the database raised for them."""
        if self._closing:
            raise RuntimeError("the store is shutting down")
        if self._task is None:
            self.start()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(writes, fut))
        self._wakeup.set()
        await fut

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            # One loop turn lets every request that is already parsed join this batch.
            await asyncio.sleep(0)
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._flush(batch)
            if self._closing:
                return

    async def _flush(self, batch: list[_Pending]) -> None:
        writes = [w for p in batch for w in p.writes]
        try:
            if self._thread is not None:
                await self._thread.run(lambda conn: apply_writes(conn, writes))
            else:
                async with self._db.writer.begin() as conn:
                    await conn.run_sync(apply_writes, writes)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            log.warning("group commit of %d requests failed; retrying each alone", len(batch))
            for p in batch:
                await self._flush([p])
            return
        self.batches += 1
        self.committed += len(batch)
        for p in batch:
            if not p.future.done():
                p.future.set_result(None)
