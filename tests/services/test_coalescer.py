"""Items handed in at one moment are passed on together; each caller waits for its batch."""

from __future__ import annotations

import asyncio

import pytest

from parley.services.coalescer import Coalescer


async def test_concurrent_items_go_in_one_batch_and_callers_wait_for_it() -> None:
    batches: list[list[int]] = []
    stored = asyncio.Event()

    async def flush(items: list[int]) -> None:
        await stored.wait()
        batches.append(items)

    c: Coalescer[int] = Coalescer(flush, max_batch=3)
    callers = [asyncio.create_task(c.add(i)) for i in range(5)]
    await asyncio.sleep(0.01)
    assert not any(t.done() for t in callers), "nobody returns before the batch is stored"
    stored.set()
    await asyncio.gather(*callers)
    assert batches == [[0, 1, 2], [3, 4]]
    await c.add(9)
    assert batches[-1] == [9], "a later item starts a new batch"


async def test_a_failed_batch_fails_each_of_its_callers() -> None:
    async def flush(items: list[str]) -> None:
        raise OSError("store down")

    c: Coalescer[str] = Coalescer(flush)
    callers = [asyncio.create_task(c.add(x)) for x in "abc"]
    for t in callers:
        with pytest.raises(OSError, match="store down"):
            await t
