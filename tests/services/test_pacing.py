"""The sender keeps each number to its carrier's pace, counted in segments, without holding up
other numbers; a text that waits past its validity fails for good."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.bootstrap import Parley
from parley.carriers.sim import SimulatorCarrier
from parley.domain.carriers import SendLimits
from parley.domain.messages import Message, MessageStatus
from parley.domain.numbers import PhoneNumberType
from parley.services.numbers import NumberDirectory
from parley.services.sending import OutboxSender
from tests.orgs import Tenant, register_free_number
from tests.services.probes import (
    POLL_S,
    POLLS,
    ManualClock,
    append_leased,
    second_node,
    wait_for_status,
)

HOUR_MS = 3_600_000


def went(sim: SimulatorCarrier, org: Tenant, messages: list[Message]) -> list[str]:
    """Which of these texts the carrier took (only these: other tests' rows may be about)."""
    return [m.text for m in messages
            if any(r.text == m.text for r in sim.messages_for(org.id, m.to_address))]


async def accepted(sim: SimulatorCarrier, org: Tenant, messages: list[Message],
                   count: int) -> int:
    for _ in range(POLLS):
        if len(went(sim, org, messages)) >= count:
            break
        await asyncio.sleep(POLL_S)
    return len(went(sim, org, messages))


async def still(sim: SimulatorCarrier, org: Tenant, messages: list[Message],
                count: int) -> bool:
    """Nothing more goes while the clock stands still (a few loop turns to be sure)."""
    for _ in range(10):
        await asyncio.sleep(POLL_S)
    return len(went(sim, org, messages)) == count


async def queue_texts(node: Parley, org: Tenant, clock: ManualClock, sender: OutboxSender,
                      texts: list[str], number: str | None = None) -> list[Message]:
    out = []
    for text in texts:
        m = await append_leased(node, org, text, now_ms=clock.now, lease_until_ms=clock.now,
                                carrier="paced", from_address=number)
        sender.enqueue(m)
        out.append(m)
    return out


async def test_a_long_code_sends_one_segment_a_second_and_others_do_not_wait(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(parley.clock.now_ms() + 48 * HOUR_MS)
    async with second_node(database_url, tmp_path, clock) as node:
        sim = SimulatorCarrier(clock, name="paced", limits=SendLimits(per_number={
            PhoneNumberType.LOCAL: 1.0}))
        sender = OutboxSender(node.message_store, {"paced": sim}, clock,
                              NumberDirectory(node.uow, clock), poll_interval_s=3600)
        await sender.start()
        try:
            other = await register_free_number(parley, org.principal())
            ours = await queue_texts(node, org, clock, sender, [
                "one", "Three parts long. " * 25, "after the three", "last"])
            assert await accepted(sim, org, ours, 1) == 1
            assert await still(sim, org, ours, 1), "the next waits for the number's pace"
            theirs = await queue_texts(node, org, clock, sender, ["another number"],
                                       number=other.phone_number)
            assert await accepted(sim, org, theirs, 1) == 1, "another number is not held up"
            assert went(sim, org, ours) == ["one"]

            clock.advance(1000)
            sender.poke()
            assert await accepted(sim, org, ours, 2) == 2, "a second later: the 3-part text"
            clock.advance(1000)
            sender.poke()
            assert await still(sim, org, ours, 2), "it counts three: two more seconds"
            clock.advance(2000)
            sender.poke()
            assert await accepted(sim, org, ours, 3) == 3
            clock.advance(1000)
            sender.poke()
            assert await accepted(sim, org, ours, 4) == 4
            assert went(sim, org, ours) == [m.text for m in ours], "in order"
        finally:
            await sender.drain(timeout_s=1)
            await sender.stop()


async def test_a_text_that_waits_past_its_validity_fails(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(parley.clock.now_ms() + 72 * HOUR_MS)
    async with second_node(database_url, tmp_path, clock) as node:
        sim = SimulatorCarrier(clock, name="paced", limits=SendLimits(per_number={
            PhoneNumberType.LOCAL: 1 / 3600}))  # one segment an hour
        sender = OutboxSender(node.message_store, {"paced": sim}, clock,
                              NumberDirectory(node.uow, clock), poll_interval_s=3600,
                              validity_ms=2 * HOUR_MS)
        await sender.start()
        try:
            first, late = await queue_texts(node, org, clock, sender, ["now", "too late"])
            assert await accepted(sim, org, [first, late], 1) == 1
            clock.advance(HOUR_MS // 2)
            await sender.renew_leases()  # held this long: nobody else may take it
            clock.advance(3 * HOUR_MS)
            sender.poke()
            stored = await wait_for_status(parley, late, MessageStatus.FAILED)
            assert stored.status is MessageStatus.FAILED
            assert stored.error_code == "validity.expired"
            assert went(sim, org, [first, late]) == ["now"]
            assert (await wait_for_status(parley, first, MessageStatus.SENT)).status is \
                MessageStatus.SENT
        finally:
            await sender.drain(timeout_s=1)
            await sender.stop()
