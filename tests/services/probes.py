"""What the service tests look at: rows in the real store, a clock they move, a second node.

Polls are bounded by an iteration count and the callers assert on what they find, never on how
long it took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from parley.bootstrap import Parley, bootstrap
from parley.domain.conversations import start_outbound
from parley.domain.ids import new_id
from parley.domain.messages import Message, MessageStatus, outbound_message
from parley.domain.sms_text import analyse
from parley.services.ports import OutboxEntry
from parley.store import tables as t
from tests.conftest import settings_for
from tests.orgs import Tenant, random_customer

POLLS = 500
POLL_S = 0.02


class ManualClock:
    """The Clock port, moved only by `advance` (it starts at `now_ms`, or the time now)."""

    def __init__(self, now_ms: int | None = None) -> None:
        self.now = time.time_ns() // 1_000_000 if now_ms is None else now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


async def stored_message(parley: Parley, message: Message) -> Message:
    async with parley.uow(read_only=True) as uow:
        found = await uow.messages.get(message.org_id, message.conversation_id, message.id)
    assert found is not None, f"message {message.id} is not in the store"
    return found


async def wait_for_status(parley: Parley, message: Message,
                          *statuses: MessageStatus) -> Message:
    """The stored message once it reaches one of `statuses` (or as it is after the polls)."""
    found = await stored_message(parley, message)
    for _ in range(POLLS):
        if found.status in statuses:
            break
        await asyncio.sleep(POLL_S)
        found = await stored_message(parley, message)
    return found


async def outbox_row(parley: Parley, message_id: str) -> Any:
    async with parley.db.reader.connect() as conn:
        return (await conn.execute(
            select(t.outbox).where(t.outbox.c.message_id == message_id))).first()


async def settle_outbox(parley: Parley, within_ms: int = 300_000) -> None:
    """Wait until `parley` has nothing in flight and no outbox row it would take up soon.

    A test that arms the shared simulator's `fail_next` calls this first, so a retry left by
    an earlier test cannot take the failure meant for this test's message.
    """
    for _ in range(POLLS):
        await parley.sender.drain(timeout_s=1)
        horizon = parley.clock.now_ms() + within_ms
        async with parley.db.reader.connect() as conn:
            busy = (await conn.execute(select(t.outbox.c.message_id).where(
                t.outbox.c.lease_until_ms <= horizon).limit(1))).first()
        if busy is None and not parley.sender.backlog:
            return
        await asyncio.sleep(POLL_S)


async def wait_for_outbox_attempts(parley: Parley, message_id: str, attempts: int) -> Any:
    row = await outbox_row(parley, message_id)
    for _ in range(POLLS):
        if row is not None and row.attempts >= attempts:
            break
        await asyncio.sleep(POLL_S)
        row = await outbox_row(parley, message_id)
    return row


async def append_leased(parley: Parley, org: Tenant, text: str, *, now_ms: int,
                        lease_until_ms: int, carrier: str = "sim",
                        from_address: str | None = None) -> Message:
    """What a node that accepted `text` and then died leaves behind: rows, no memory."""
    customer = random_customer()
    sender = from_address or org.number
    conv = start_outbound(org_id=org.id, org_address=sender, customer_address=customer,
                          now_ms=now_ms, client_id=org.script_client_id)
    conv.end(now_ms)
    api = conv.participants[-1]
    message = outbound_message(
        id=new_id(), org_id=org.id, conversation_id=conv.id, participant_id=api.id,
        from_address=sender, to_address=customer, text=text, info=analyse(text),
        now_ms=now_ms, carrier=carrier, user_id=None)
    await parley.message_store.append(
        conversation=conv, participants=[], messages=[message],
        outbox=[OutboxEntry(message_id=message.id, org_id=org.id, next_attempt_ms=now_ms,
                            lease_until_ms=lease_until_ms, created_ms=now_ms)])
    return message


@asynccontextmanager
async def second_node(database_url: str, data_dir: Path, clock: ManualClock
                      ) -> AsyncIterator[Parley]:
    """Another Parley on the same database, with its own simulator and a clock the test moves.

    Only its group commit runs. Its outbox sender is left to the test (start it, or call
    `claim_due` by hand); once started, its poller runs once and then waits an hour, so outbox
    rows are claimed only when the test asks. Its simulator takes submits but is not started,
    so it sends no receipts: what this node sends ends `sent`.
    """
    settings = settings_for(database_url, data_dir, outbox_poll_interval_s=3600)
    node = bootstrap(settings, clock=clock)
    node.committer.start()
    try:
        yield node
    finally:
        await node.sender.drain(timeout_s=5)
        await node.sender.stop()
        await node.committer.stop()
        node.side_reads.close()
        await node.db.dispose()
