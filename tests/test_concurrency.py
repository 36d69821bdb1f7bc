"""The generic async helpers: stopping a loop, batching hand-offs, sharing loads, keyed locks."""

from __future__ import annotations

import asyncio

import pytest

from parley.concurrency import Coalescer, KeyedLocks, SingleFlight, stop_task

# -- stop_task ----------------------------------------------------------------------------


async def test_stop_task_returns_once_the_loop_has_really_stopped() -> None:
    cleaned_up = asyncio.Event()

    async def loop_forever() -> None:
        try:
            await asyncio.Event().wait()  # a loop that would wait for ever
        finally:
            await asyncio.sleep(0)  # the loop's own clean-up takes a turn of the event loop
            cleaned_up.set()

    task = asyncio.create_task(loop_forever())
    await asyncio.sleep(0)
    await stop_task(task)
    assert task.cancelled()
    assert cleaned_up.is_set(), "stop_task waits for the loop's clean-up, not just cancels"
    await stop_task(task)  # stopping it again is harmless
    await stop_task(None)  # so is stopping a loop that never started


# -- Coalescer ----------------------------------------------------------------------------


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


# -- SingleFlight -------------------------------------------------------------------------


async def test_one_load_per_key_at_a_time() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls: list[str] = []
    gate = asyncio.Event()

    async def load(key: str) -> int:
        calls.append(key)
        await gate.wait()
        return len(calls)

    waiters = [asyncio.create_task(flight.load(k, lambda k=k: load(k)))  # type: ignore[misc]
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


# -- KeyedLocks ---------------------------------------------------------------------------


async def test_holders_of_one_key_take_turns_while_other_keys_go_on() -> None:
    locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
    order: list[str] = []
    release_first = asyncio.Event()

    async def hold(key: tuple[str, str], name: str, until: asyncio.Event | None) -> None:
        async with locks.get(key):
            order.append(f"{name} in")
            if until is not None:
                await until.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold(("+1", "+2"), "first", release_first))
    second = asyncio.create_task(hold(("+1", "+2"), "second", None))
    other = asyncio.create_task(hold(("+1", "+3"), "other", None))
    await asyncio.sleep(0.01)
    assert order == ["first in", "other in", "other out"], "another key does not wait"
    release_first.set()
    await asyncio.gather(first, second, other)
    assert order[3:] == ["first out", "second in", "second out"]


async def test_past_the_limit_idle_locks_are_forgotten_and_held_ones_kept() -> None:
    locks: KeyedLocks[str] = KeyedLocks(keep=2)
    a = locks.get("a")
    assert locks.get("a") is a, "one lock per key"
    locks.get("b")
    locks.get("c")
    assert locks.get("a") is not a, "the oldest idle lock was dropped past the limit"

    held: KeyedLocks[str] = KeyedLocks(keep=1)
    x = held.get("x")
    async with x:
        held.get("y")
        held.get("z")
        assert held.get("x") is x, "a held lock is never dropped"
