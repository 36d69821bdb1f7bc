"""The outbox sender on the real store and the real simulator carrier.

Anything accepted for sending is retried until the carrier takes it or it fails for good, with
the failure on the message; a node that dies holding messages leaves them for another node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.bootstrap import Parley
from parley.domain.access import Principal
from parley.domain.conversations import Conversation, Purpose
from parley.domain.messages import MessageStatus
from parley.services.sending import backoff_ms
from tests.orgs import Tenant, random_customer
from tests.services.probes import (
    ManualClock,
    append_leased,
    outbox_row,
    second_node,
    settle_outbox,
    stored_message,
    wait_for_outbox_attempts,
    wait_for_status,
)

HOUR_MS = 3_600_000


@pytest.mark.parametrize(("attempts", "delay_ms"), [
    pytest.param(0, 1_000, id="before-any-attempt"),
    pytest.param(1, 1_000, id="after-1"),
    pytest.param(2, 2_000, id="after-2"),
    pytest.param(3, 4_000, id="after-3"),
    pytest.param(9, 256_000, id="after-9"),
    pytest.param(10, 300_000, id="after-10-capped"),
    pytest.param(50, 300_000, id="after-50-capped"),
])
def test_backoff_doubles_up_to_five_minutes(attempts: int, delay_ms: int) -> None:
    assert backoff_ms(attempts) == delay_ms


async def agent_conversation(parley: Parley, org: Tenant) -> tuple[Principal, Conversation, str]:
    """An agent of `org` (authenticated with their real token) on a new conversation."""
    agent = await parley.auth.authenticate(org.agents[0].token)
    conv = await parley.conversations.start_outbound(
        agent, queue_id=org.queue_id, to_address=random_customer(), messenger_type="sms")
    [party] = [p for p in conv.participants if p.purpose is Purpose.AGENT]
    return agent, conv, party.communication_id


async def test_agent_send_is_delivered(parley: Parley, org: Tenant) -> None:
    assert parley.sim is not None
    agent, conv, communication_id = await agent_conversation(parley, org)
    message = await parley.conversations.send(agent, conv.id, communication_id, "Hi there")
    assert message.status is MessageStatus.QUEUED

    stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert stored.provider_message_id is not None
    assert await outbox_row(parley, message.id) is None
    [received] = parley.sim.messages_for(org.id, conv.customer_address)
    assert (received.id, received.text) == (stored.provider_message_id, "Hi there")
    assert received.from_address == org.number


async def test_transient_carrier_failure_is_retried_until_delivered(
        parley: Parley, org: Tenant) -> None:
    assert parley.sim is not None
    agent, conv, communication_id = await agent_conversation(parley, org)
    await settle_outbox(parley)
    retried = parley.sender.retried
    parley.sim.fail_next(1)
    message = await parley.conversations.send(agent, conv.id, communication_id, "Try again")

    stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS,
                                   MessageStatus.FAILED)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert stored.error_message is None
    assert parley.sender.retried == retried + 1
    assert await outbox_row(parley, message.id) is None
    assert [m.text for m in parley.sim.messages_for(org.id, conv.customer_address)] == [
        "Try again"]


async def test_permanent_carrier_failure_fails_the_message(parley: Parley, org: Tenant) -> None:
    assert parley.sim is not None
    agent, conv, communication_id = await agent_conversation(parley, org)
    await settle_outbox(parley)
    parley.sim.fail_next(1, permanent=True, reason="destination barred by the carrier")
    message = await parley.conversations.send(agent, conv.id, communication_id, "Blocked")

    stored = await wait_for_status(parley, message, MessageStatus.FAILED,
                                   MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.FAILED
    assert stored.error_message == "destination barred by the carrier"
    assert stored.error_code == "sim.rejected"
    assert stored.provider_message_id is None
    assert await outbox_row(parley, message.id) is None
    assert parley.sim.messages_for(org.id, conv.customer_address) == []

    # The failure was the carrier's answer to that one message, not to the conversation.
    again = await parley.conversations.send(agent, conv.id, communication_id, "Second try")
    stored = await wait_for_status(parley, again, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS


async def test_agentless_send_is_delivered(parley: Parley, org: Tenant) -> None:
    assert parley.sim is not None
    customer = random_customer()
    message = await parley.conversations.send_agentless(
        org.principal(), from_address=org.number, to_address=customer, messenger_type="sms",
        text="Your code is 1234")
    stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert await outbox_row(parley, message.id) is None
    assert [m.text for m in parley.sim.messages_for(org.id, customer)] == ["Your code is 1234"]


async def test_another_node_sends_what_a_dead_node_left_in_the_outbox(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path) -> None:
    assert parley.sim is not None
    now = parley.clock.now_ms()
    lease_until = now + 10 * 60_000  # the dead node's lease
    message = await append_leased(parley, org, "Picked up after a crash", now_ms=now,
                                  lease_until_ms=lease_until)
    clock = ManualClock(lease_until - 1)
    async with second_node(database_url, tmp_path, clock) as node:
        assert node.sim is not None
        await node.sender.claim_due()
        row = await outbox_row(parley, message.id)
        assert row.lease_until_ms == lease_until, "a lease still held is not taken over"

        clock.now = lease_until
        assert await node.sender.claim_due() >= 1
        row = await outbox_row(parley, message.id)
        assert row.lease_until_ms == lease_until + node.sender.lease_ms
        await node.sender.start()

        stored = await wait_for_status(parley, message, MessageStatus.SENT)
        assert stored.status is MessageStatus.SENT
        assert await outbox_row(parley, message.id) is None
        [received] = node.sim.messages_for(org.id, message.to_address)
        assert received.text == "Picked up after a crash"
        assert received.id == stored.provider_message_id
    assert parley.sim.messages_for(org.id, message.to_address) == []


async def test_retry_waits_for_its_backoff(parley: Parley, org: Tenant, database_url: str,
                                           tmp_path: Path) -> None:
    clock = ManualClock(parley.clock.now_ms() + 24 * HOUR_MS)
    async with second_node(database_url, tmp_path, clock) as node:
        assert node.sim is not None
        await node.sender.start()
        node.sim.fail_next(2, reason="link down")
        message = await node.conversations.send_agentless(
            org.principal(), from_address=org.number, to_address=random_customer(),
            messenger_type="sms", text="Eventually")
        failed_at = clock.now

        row = await wait_for_outbox_attempts(parley, message.id, 1)
        assert (row.attempts, row.last_error) == (1, "link down")
        assert row.next_attempt_ms == row.lease_until_ms == failed_at + 1_000
        assert (await stored_message(parley, message)).status is MessageStatus.QUEUED

        clock.advance(999)
        await node.sender.claim_due()
        assert (await outbox_row(parley, message.id)).attempts == 1, "not due yet"

        clock.advance(1)
        assert await node.sender.claim_due() >= 1
        row = await wait_for_outbox_attempts(parley, message.id, 2)
        assert (row.attempts, row.next_attempt_ms) == (2, clock.now + 2_000)

        clock.advance(2_000)
        assert await node.sender.claim_due() >= 1
        stored = await wait_for_status(parley, message, MessageStatus.SENT)
        assert stored.status is MessageStatus.SENT
        assert stored.status_ms == clock.now
        assert await outbox_row(parley, message.id) is None
        assert node.sender.retried == 2


async def test_transient_failures_past_the_validity_period_fail_for_good(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(parley.clock.now_ms() + 24 * HOUR_MS)
    async with second_node(database_url, tmp_path, clock) as node:
        assert node.sim is not None
        await node.sender.start()
        node.sim.fail_next(2, reason="link down")
        message = await node.conversations.send_agentless(
            org.principal(), from_address=org.number, to_address=random_customer(),
            messenger_type="sms", text="Too late")
        assert (await wait_for_outbox_attempts(parley, message.id, 1)).attempts == 1

        clock.advance(10 * HOUR_MS)  # the default validity period
        assert await node.sender.claim_due() >= 1
        stored = await wait_for_status(parley, message, MessageStatus.FAILED)
        assert stored.status is MessageStatus.FAILED
        assert stored.error_message == "link down"
        assert stored.error_code == "carrier.rejected"
        assert await outbox_row(parley, message.id) is None
        assert node.sim.messages_for(org.id, message.to_address) == []
