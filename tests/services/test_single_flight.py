"""Concurrent cache misses for one key share one load; its failure reaches every waiter."""

from __future__ import annotations

import asyncio
import functools

import pytest

from parley.services.single_flight import SingleFlight


async def test_one_load_per_key_at_a_time() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls: list[str] = []
    gate = asyncio.Event()

    async def load(key: str) -> int:
        calls.append(key)
        await gate.wait()
        return len(calls)

    waiters = [asyncio.create_task(flight.load(k, functools.partial(load, k)))
               for k in ("a", "a", "a", "b")]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiters)
    assert sorted(calls) == ["a", "b"]
    assert results[0] == results[1] == results[2]
    again = await flight.load("a", lambda: load("a"))
    assert again == 3, "a later miss loads again"


async def test_a_failed_load_fails_every_waiter_and_is_not_kept() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    gate = asyncio.Event()

    async def broken() -> int:
        await gate.wait()
        raise OSError("database down")

    waiters = [asyncio.create_task(flight.load("k", broken)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    for w in waiters:
        with pytest.raises(OSError, match="database down"):
            await w

    async def fine() -> int:
        return 7

    assert await flight.load("k", fine) == 7
