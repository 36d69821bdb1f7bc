"""Hand-offs made at the same moment, done as one: each caller waits for its own batch.

A carrier sends receipts one PDU at a time, thousands a second; storing each alone would cost
one write set (and its bookkeeping) per receipt. Items handed in during one turn of the event
loop are passed on together, and every caller returns once its batch is done - or raises what
the batch raised - so nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[None]], *,
                 max_batch: int = 1000) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._items: list[T] = []
        self._done: asyncio.Future[None] | None = None

    async def add(self, item: T) -> None:
        self._items.append(item)
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().create_task(self._run(self._done))
        done = self._done
        await asyncio.shield(done)

    async def _run(self, done: asyncio.Future[None]) -> None:
        await asyncio.sleep(0)  # let everything already on its way join this batch
        items, self._items, self._done = self._items, [], None
        try:
            for start in range(0, len(items), self._max_batch):
                await self._flush(items[start:start + self._max_batch])
        except BaseException as e:
            done.set_exception(e)
            done.exception()  # retrieved: the waiters re-raise it
            if not isinstance(e, Exception):
                raise
            return
        done.set_result(None)
