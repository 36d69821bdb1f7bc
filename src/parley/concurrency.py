"""Generic async helpers: stopping a loop, batching hand-offs, sharing loads, per-key locks.

None of these is a use case, and none knows about texts, carriers or the store: they are
the asyncio patterns the services and the adapters both lean on (as Starlette keeps its
generic async helpers in `concurrency.py`). Living below `services/`, they let an adapter
use them without importing the service layer.

- `stop_task`: cancel a background loop (timer, poller, flusher) and wait until it stopped.
- `Coalescer`: hand-offs made at the same moment are done as one batch.
- `SingleFlight`: concurrent loads of one key share one load.
- `KeyedLocks`: one lock per key, forgotten when idle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background loop and wait until it has really stopped."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Coalescer(Generic[T]):
    """Hand-offs made at the same moment, done as one: each caller waits for its own batch.

    A carrier sends receipts one PDU at a time, thousands a second; storing each alone would
    cost one write set (and its bookkeeping) per receipt. Items handed in during one turn of
    the event loop are passed on together, and every caller returns once its batch is done -
    or raises what the batch raised - so nothing is acknowledged before it is stored.
    """

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


class SingleFlight(Generic[K, V]):
    """One load per key at a time: concurrent cache misses for the same key share one query.

    When a burst of texts arrives for a number whose routing is not cached yet, each would
    read the store for the same answer; with this the first reads and the others wait for its
    result.
    """

    def __init__(self) -> None:
        self._loading: dict[K, asyncio.Future[V]] = {}

    async def load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            value = await load()
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # retrieved: waiters re-raise it, nobody else need
            raise
        finally:
            self._loading.pop(key, None)
        fut.set_result(value)
        return value


class KeyedLocks(Generic[K]):
    """One lock per key, forgotten when idle so the map stays small.

    Texts from one customer to one number must be handled one at a time, in order, while
    texts of other pairs go on beside them: the inbound service takes the lock of the
    (number, customer) pair. Past `keep` keys the oldest ones (in order of creation) are
    dropped while they are not held; a held lock stops the clearing, so it is never dropped.
    """

    def __init__(self, keep: int = 10_000) -> None:
        self._locks: OrderedDict[K, asyncio.Lock] = OrderedDict()
        self._keep = keep

    def get(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > self._keep:
                oldest, old = next(iter(self._locks.items()))
                if old.locked():
                    break
                del self._locks[oldest]
        return lock
