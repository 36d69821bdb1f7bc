"""What every repository shares: one transaction's connection, and the row helpers.

The repositories themselves live one area per module (`directory_repos`, `number_repos`,
`queue_repos`, `conversation_repos`, `agent_repos`, `flow_repos`, ...): domain objects in,
domain objects out, over the connection of the unit of work that made them. Each `get`
has a `require` beside it that raises NotFound instead of answering None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.domain.errors import NotFound

T = TypeVar("T")

_getters: dict[tuple[str, ...], Callable[[Any], Any]] = {}


def fields_of(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes as a row: one attrgetter per column list (every new text makes
    a handful of rows, so this is on the inbound hot path)."""
    get = _getters.get(names)
    if get is None:
        get = _getters[names] = attrgetter(*names)
    values = get(obj)
    return dict(zip(names, values if len(names) > 1 else (values,), strict=True))


def found(obj: T | None, message: str, **details: str) -> T:
    """`obj`, or NotFound with the message: what every repository's `require` does with the
    answer of its `get`, so the use cases do not each write the same check."""
    if obj is None:
        raise NotFound(message, **details)
    return obj


def name_like(column: Any, pattern: str) -> Any:
    """Genesys name filters: `*` is the only wildcard; `%` and `_` are literal text."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(escaped.replace("*", "%"), escape="\\")


class Repo:
    """A repository over the connection of one unit of work: it never commits (the unit of
    work does), so several repositories' writes land together or not at all."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, stmt: Any) -> RowMapping | None:
        return (await self.conn.execute(stmt)).mappings().first()

    async def _all(self, stmt: Any) -> Sequence[RowMapping]:
        return (await self.conn.execute(stmt)).mappings().all()

    async def _count(self, stmt: Any) -> int:
        return int((await self.conn.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one())
