"""Group commit on the real database: shared transactions, isolated failures, statuses that
only move forward."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from parley.bootstrap import Parley
from parley.domain.ids import new_id
from parley.domain.messages import Message, MessageStatus
from parley.services.ports import CarrierError, DeliveryReport, SubmitOutcome
from parley.store import tables as t
from parley.store.group_commit import Delete, GroupCommitter, Insert, Update
from tests.orgs import Tenant, random_customer
from tests.services.probes import append_leased, stored_message, wait_for_status


@pytest.fixture
async def committer(parley: Parley) -> AsyncIterator[GroupCommitter]:
    """A committer of its own, so its counters see only this test's commits."""
    c = GroupCommitter(parley.db)
    c.start()
    try:
        yield c
    finally:
        await c.stop()


def org_row(name: str) -> dict[str, Any]:
    return {"id": new_id(), "name": name, "is_demo": False, "created_ms": 1}


async def org_names(parley: Parley, ids: Sequence[str]) -> dict[str, str]:
    async with parley.db.reader.connect() as conn:
        rows = (await conn.execute(select(t.organizations.c.id, t.organizations.c.name)
                                   .where(t.organizations.c.id.in_(ids)))).all()
    return {r.id: r.name for r in rows}


async def test_concurrent_commits_share_batches(parley: Parley,
                                                committer: GroupCommitter) -> None:
    rows = [org_row(f"batched {i}") for i in range(40)]
    await asyncio.gather(*(committer.commit([Insert(t.organizations, [r])]) for r in rows))
    assert committer.committed == 40
    assert 1 <= committer.batches < committer.committed
    names = await org_names(parley, [r["id"] for r in rows])
    assert names == {r["id"]: r["name"] for r in rows}


async def test_a_failing_caller_fails_alone(parley: Parley, committer: GroupCommitter,
                                            caplog: pytest.LogCaptureFixture) -> None:
    existing = org_row("already here")
    await committer.commit([Insert(t.organizations, [existing])])
    good = [org_row(f"good {i}") for i in range(6)]
    fresh_in_bad = org_row("fresh, but in the failing request")
    duplicate = dict(existing, name="duplicate of an existing id")

    with caplog.at_level(logging.WARNING, logger="parley.store.group_commit"):
        results = await asyncio.gather(
            *(committer.commit([Insert(t.organizations, [g])]) for g in good[:3]),
            committer.commit([Insert(t.organizations, [fresh_in_bad, duplicate])]),
            *(committer.commit([Insert(t.organizations, [g])]) for g in good[3:]),
            return_exceptions=True)

    assert isinstance(results[3], IntegrityError)
    assert results[:3] + results[4:] == [None] * 6
    assert "retrying each alone" in caplog.text, "the failing request shared a batch"
    ids = [existing["id"], fresh_in_bad["id"], *(g["id"] for g in good)]
    names = await org_names(parley, ids)
    assert names == {existing["id"]: "already here", **{g["id"]: g["name"] for g in good}}, \
        "the good rows are durable; the failing request left nothing, not even its fresh row"

    # The committer carries on after a failure.
    after = org_row("after the failure")
    await committer.commit([Insert(t.organizations, [after])])
    assert await org_names(parley, [after["id"]]) == {after["id"]: "after the failure"}


async def test_a_lone_failing_commit_raises_to_its_caller(committer: GroupCommitter) -> None:
    row = org_row("twice")
    await committer.commit([Insert(t.organizations, [row])])
    with pytest.raises(IntegrityError):
        await committer.commit([Insert(t.organizations, [row])])


def user_row(org_id: str) -> dict[str, Any]:
    return {"id": new_id(), "org_id": org_id, "name": "Child", "role": "agent",
            "email": f"{new_id()}@test.parley", "password_hash": "x", "state": "active",
            "version": 1, "created_ms": 1}


async def test_writes_run_parent_first(parley: Parley, committer: GroupCommitter) -> None:
    org = org_row("parent")
    user = user_row(org["id"])
    # Child listed before its parent, in one request ...
    await committer.commit([Insert(t.users, [user]), Insert(t.organizations, [org])])
    # ... and a child and its parent from two requests sharing a batch.
    org2 = org_row("parent of another request's child")
    user2 = user_row(org2["id"])
    await asyncio.gather(committer.commit([Insert(t.users, [user2])]),
                         committer.commit([Insert(t.organizations, [org2])]))
    async with parley.db.reader.connect() as conn:
        rows = (await conn.execute(select(t.users.c.id, t.users.c.org_id)
                                   .where(t.users.c.id.in_([user["id"], user2["id"]])))).all()
    assert sorted(rows) == sorted([(user["id"], org["id"]), (user2["id"], org2["id"])])


async def test_update_and_delete_writes(parley: Parley, committer: GroupCommitter) -> None:
    a, b, c = org_row("a"), org_row("b"), org_row("c")
    await committer.commit([Insert(t.organizations, [a, b, c])])
    await committer.commit([
        Update(t.organizations, "id", [{"_id": a["id"], "name": "a renamed"},
                                       {"_id": b["id"], "name": "b renamed"}]),
        Delete(t.organizations, "id", [c["id"]])])
    assert await org_names(parley, [a["id"], b["id"], c["id"]]) == {
        a["id"]: "a renamed", b["id"]: "b renamed"}


# -- statuses guarded by rank ---------------------------------------------------------------


async def delivered_message(parley: Parley, org: Tenant) -> Message:
    message = await parley.conversations.send_agentless(
        org.principal(), from_address=org.number, to_address=random_customer(),
        messenger_type="sms", text="Delivered")
    stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert stored.provider_message_id is not None
    return stored


LATE_REPORTS = [
    pytest.param("sent", id="late-sent-outcome"),
    pytest.param("failed", id="late-permanent-failure"),
    pytest.param("delivery-failed", id="late-delivery-failed-receipt"),
    pytest.param("duplicate-receipt", id="duplicate-delivery-success-receipt"),
]


@pytest.mark.parametrize("late", LATE_REPORTS)
async def test_a_delivered_message_never_moves_back(parley: Parley, org: Tenant,
                                                   late: str) -> None:
    delivered = await delivered_message(parley, org)
    assert delivered.provider_message_id is not None
    at = delivered.status_ms + 60_000
    store = parley.message_store
    if late == "sent":
        await store.record_outcomes([SubmitOutcome(
            delivered.id, at, "sim", provider_message_id="sim-a-late-duplicate", attempts=1)])
    elif late == "failed":
        await store.record_outcomes([SubmitOutcome(
            delivered.id, at, "sim", error=CarrierError("late", permanent=True), attempts=1)])
    elif late == "delivery-failed":
        await store.record_deliveries([DeliveryReport(
            delivered.provider_message_id, MessageStatus.DELIVERY_FAILED, at, "sim",
            error_code="late", error_message="late")])
    else:
        await store.record_deliveries([DeliveryReport(
            delivered.provider_message_id, MessageStatus.DELIVERY_SUCCESS, at, "sim")])

    after = await stored_message(parley, delivered)
    assert after.status is MessageStatus.DELIVERY_SUCCESS
    assert after.status_ms == delivered.status_ms
    assert after.provider_message_id == delivered.provider_message_id
    assert (after.error_code, after.error_message) == (None, None)


async def test_a_sent_message_moves_forward_on_its_receipt(parley: Parley,
                                                           org: Tenant) -> None:
    now = parley.clock.now_ms()
    # Leased far ahead, so no sender touches it: this test plays the sender.
    message = await append_leased(parley, org, "By hand", now_ms=now,
                                  lease_until_ms=now + 3_600_000)
    provider_id = f"sim-{new_id()}"
    await parley.message_store.record_outcomes([SubmitOutcome(
        message.id, now + 1, "sim", provider_message_id=provider_id, attempts=1)])
    sent = await stored_message(parley, message)
    assert (sent.status, sent.provider_message_id) == (MessageStatus.SENT, provider_id)

    await parley.message_store.record_deliveries([DeliveryReport(
        provider_id, MessageStatus.DELIVERY_FAILED, now + 2, "sim", error_code="UNDELIV",
        error_message="handset unreachable")])
    failed = await stored_message(parley, message)
    assert failed.status is MessageStatus.DELIVERY_FAILED
    assert (failed.error_code, failed.error_message) == ("UNDELIV", "handset unreachable")
    assert failed.status_ms == now + 2


async def test_a_receipt_that_beats_the_submit_outcome_is_not_lost(parley: Parley,
                                                                   org: Tenant) -> None:
    now = parley.clock.now_ms()
    message = await append_leased(parley, org, "Receipt first", now_ms=now,
                                  lease_until_ms=now + 3_600_000)
    provider_id = f"sim-{new_id()}"
    await parley.message_store.record_deliveries([DeliveryReport(
        provider_id, MessageStatus.DELIVERY_SUCCESS, now + 1, "sim")])
    await parley.message_store.record_outcomes([SubmitOutcome(
        message.id, now + 2, "sim", provider_message_id=provider_id, attempts=1)])
    stored = await stored_message(parley, message)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS


async def test_receipts_match_the_carrier_too(parley: Parley, org: Tenant) -> None:
    """Two carriers may hand out the same message id: a receipt changes only the text
    of the carrier that sent it, whether it comes before or after the submit outcome."""
    now = parley.clock.now_ms()
    ours = await append_leased(parley, org, "Via the simulator", now_ms=now,
                               lease_until_ms=now + 3_600_000)
    theirs = await append_leased(parley, org, "Via another link", now_ms=now,
                                 lease_until_ms=now + 3_600_000, carrier="smpp-b")
    shared_id = f"0000{new_id()[-6:]}"
    store = parley.message_store
    await store.record_deliveries([DeliveryReport(
        shared_id, MessageStatus.DELIVERY_FAILED, now + 1, "smpp-b", error_code="UNDELIV")])
    await store.record_outcomes([
        SubmitOutcome(ours.id, now + 2, "sim", provider_message_id=shared_id, attempts=1),
        SubmitOutcome(theirs.id, now + 2, "smpp-b", provider_message_id=shared_id,
                      attempts=1)])
    assert (await stored_message(parley, ours)).status is MessageStatus.SENT
    assert (await stored_message(parley, theirs)).status is MessageStatus.DELIVERY_FAILED

    await store.record_deliveries([DeliveryReport(
        shared_id, MessageStatus.DELIVERY_SUCCESS, now + 3, "sim")])
    assert (await stored_message(parley, ours)).status is MessageStatus.DELIVERY_SUCCESS
    assert (await stored_message(parley, theirs)).status is MessageStatus.DELIVERY_FAILED
