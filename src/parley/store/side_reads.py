"""Hot-path reads beside the group commit, not in its queue.

An inbound text is looked up (is it a retry? which conversation does it continue?) before
anything is decided, and its deliver_sm_resp waits on that. Run through the group commit,
the lookup waited for the write batch in flight and then for a batch of its own: two write
batches before the text could even be routed. Here it runs at once on a connection of its
own: on SQLite a dedicated thread with a plain sqlite3 connection, which WAL lets read while
the writer writes; on PostgreSQL a pooled connection.

What it sees is every committed write. That is enough: the caller holds the lock of the
(number, customer) pair from its lookup until its own write is durable, so no write of this
node that matters to a lookup is ever in flight while that lookup runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection

from parley.store.database import Database, SqliteThread

T = TypeVar("T")


class SideReader:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._thread: SqliteThread | None = None

    async def read(self, step: Callable[[Connection], T]) -> T:
        """`step` on a connection in a read transaction of its own."""
        if not self._db.is_sqlite:
            async with self._db.reader.connect() as conn:
                return await conn.run_sync(step)
        if self._thread is None:
            self._thread = SqliteThread(self._db.url, name="sqlite-reader", immediate=False)
        return await self._thread.run(step)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None
