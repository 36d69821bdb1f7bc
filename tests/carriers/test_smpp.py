"""The SMPP carrier against an independent SMSC (node-smpp): what the carrier sees on the wire,
what Parley stores, and what happens when the SMSC throttles, refuses, drops or dies."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parley.bootstrap import Parley
from parley.domain.carriers import LinkState
from parley.domain.messages import Direction, Message, MessageStatus
from parley.store import tables as t
from tests.carriers.conftest import Link, connect, disable, send
from tests.carriers.smsc import Smsc
from tests.orgs import Tenant, random_customer
from tests.services.probes import outbox_row, wait_for_status

GSM = "Hi! @£$¥ èéùìò ÄÖÑÜ§ €[]{}~^|\\ 100%"
UCS2 = "Привет, 你好 👋 — ça va?"


async def received(link: Link, text: str, polls: int = 500) -> list[dict[str, Any]]:
    """The SMSC's completed texts equal to `text` (waiting for the first)."""
    for _ in range(polls):
        found = [m for m in await link.smsc.messages() if m["text"] == text]
        if found:
            return found
        await asyncio.sleep(0.02)
    return []


async def inbound(parley: Parley, org: Tenant, customer: str, count: int = 1,
                  polls: int = 500) -> list[Message]:
    found: list[Message] = []
    for _ in range(polls):
        async with parley.uow(read_only=True) as uow:
            found = [m for m in await uow.messages.for_phone(org.id, customer, 50)
                     if m.direction is Direction.INBOUND]
        if len(found) >= count:
            break
        await asyncio.sleep(0.02)
    return found


async def parts_of(parley: Parley, message_id: str) -> list[dict[str, object]]:
    async with parley.db.reader.connect() as conn:
        rows = (await conn.execute(select(t.message_parts).where(
            t.message_parts.c.message_id == message_id)
            .order_by(t.message_parts.c.part))).mappings().all()
    return [dict(r) for r in rows]


# -- outbound ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "coding"), [
    pytest.param(GSM, 0, id="gsm7-with-extension-characters"),
    pytest.param(UCS2, 8, id="ucs2-cyrillic-cjk-emoji"),
])
async def test_a_single_part_text_arrives_exactly_and_is_delivered(
        smpp: Link, text: str, coding: int) -> None:
    message = await send(smpp, text)
    [at_smsc] = await received(smpp, text)
    assert (at_smsc["data_coding"], at_smsc["parts"]) == (coding, 1)
    assert at_smsc["source_addr"] == smpp.number.lstrip("+")
    assert at_smsc["destination_addr"] == message.to_address.lstrip("+")
    stored = await wait_for_status(smpp.parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert stored.provider_message_id == at_smsc["message_ids"][0]
    assert await outbox_row(smpp.parley, message.id) is None


@pytest.mark.parametrize(("text", "coding", "parts"), [
    # 153 septets a part: the extension characters count two and never straddle parts.
    pytest.param("Long text €. " * 30, 0, 3, id="gsm7-3-parts"),
    pytest.param("Юникод 🚀 " * 40, 8, 6, id="ucs2-6-parts"),
])
async def test_a_multipart_text_is_sent_with_a_udh_and_delivered_when_every_part_is(
        smpp: Link, text: str, coding: int, parts: int) -> None:
    message = await send(smpp, text)
    assert message.segment_count == parts
    [at_smsc] = await received(smpp, text)
    assert (at_smsc["data_coding"], at_smsc["parts"], at_smsc["concat"]) == (coding, parts,
                                                                             "udh")
    stored = await wait_for_status(smpp.parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    recorded = await parts_of(smpp.parley, message.id)
    assert [p["provider_message_id"] for p in recorded] == at_smsc["message_ids"]
    assert {p["status"] for p in recorded} == {"delivery-success"}
    assert stored.provider_message_id == recorded[0]["provider_message_id"]


@pytest.mark.parametrize(("mode", "concat", "via", "submits"), [
    pytest.param("sar", "sar", "short_message", 3, id="sar-tlvs"),
    pytest.param("payload", None, "message_payload", 1, id="message-payload"),
])
async def test_other_concatenation_modes(parley: Parley, org: Tenant, smsc: Smsc, mode: str,
                                         concat: str | None, via: str, submits: int) -> None:
    link = await connect(parley, org, smsc, concatenation=mode)
    try:
        await link.wait_for(LinkState.BOUND)
        text = "Part of a long one, in GSM-7: € costs two septets. " * 8
        message = await send(link, text)
        [at_smsc] = await received(link, text)
        assert (at_smsc["via"], at_smsc.get("concat")) == (via, concat)
        assert len(at_smsc["message_ids"]) == submits
        stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
        assert stored.status is MessageStatus.DELIVERY_SUCCESS
    finally:
        await disable(link)


async def test_a_failed_part_fails_the_whole_text(parley: Parley, org: Tenant,
                                                   tmp_path: Path) -> None:
    smsc = Smsc(tmp_path / "undeliv.log", DLR_STAT="UNDELIV")
    await smsc.start()
    link = await connect(parley, org, smsc)
    try:
        await link.wait_for(LinkState.BOUND)
        message = await send(link, "Two parts, neither delivered. " * 7)
        stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_FAILED,
                                       MessageStatus.DELIVERY_SUCCESS)
        assert stored.status is MessageStatus.DELIVERY_FAILED
        assert stored.error_code == "smpp.UNDELIV"
        assert "UNDELIV" in (stored.error_message or "")
        assert {p["status"] for p in await parts_of(parley, message.id)} == {"delivery-failed"}
    finally:
        await disable(link)
        smsc.kill()


async def test_throttling_pauses_and_retries_without_duplicates(smpp: Link) -> None:
    await smpp.smsc.post("/fail", {"count": 3, "command_status": 0x58})
    message = await send(smpp, "Throttled, then through")
    stored = await wait_for_status(smpp.parley, message, MessageStatus.DELIVERY_SUCCESS,
                                   MessageStatus.FAILED)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert len(await received(smpp, "Throttled, then through")) == 1
    counters = smpp.status().counters
    assert counters["throttled"] == 3
    assert counters["accepted"] == 1


async def test_a_full_queue_is_retried_with_backoff(smpp: Link) -> None:
    await smpp.smsc.post("/fail", {"count": 2, "command_status": 0x14})
    message = await send(smpp, "Queue full twice")
    stored = await wait_for_status(smpp.parley, message, MessageStatus.DELIVERY_SUCCESS,
                                   MessageStatus.FAILED)
    assert stored.status is MessageStatus.DELIVERY_SUCCESS
    assert smpp.status().counters["queueFull"] == 2


@pytest.mark.parametrize(("status", "code"), [
    pytest.param(0x0B, "smpp.0x0000000B", id="invalid-destination"),
    pytest.param(0x401, "smpp.0x00000401", id="vendor-specific-status"),
])
async def test_a_permanent_error_fails_the_text_with_the_carriers_reason(
        smpp: Link, status: int, code: str) -> None:
    await smpp.smsc.post("/fail", {"count": 1, "command_status": status})
    message = await send(smpp, "Not to be")
    stored = await wait_for_status(smpp.parley, message, MessageStatus.FAILED,
                                   MessageStatus.DELIVERY_SUCCESS)
    assert stored.status is MessageStatus.FAILED
    assert stored.error_code == code
    assert f"0x{status:08X}" in (stored.error_message or "")
    assert await outbox_row(smpp.parley, message.id) is None
    # The bind survived the status and the next text goes through.
    assert smpp.status().state is LinkState.BOUND
    again = await send(smpp, "Next one")
    assert (await wait_for_status(smpp.parley, again, MessageStatus.DELIVERY_SUCCESS)
            ).status is MessageStatus.DELIVERY_SUCCESS


async def test_a_dropped_connection_reconnects_and_sending_resumes(smpp: Link) -> None:
    await smpp.smsc.post("/disconnect", {})
    for _ in range(500):
        if (await smpp.smsc.get("/stats"))["binds"] == 2:
            break
        await asyncio.sleep(0.02)
    assert (await smpp.wait_for(LinkState.BOUND)).state is LinkState.BOUND
    message = await send(smpp, "After the reconnect")
    assert (await wait_for_status(smpp.parley, message, MessageStatus.DELIVERY_SUCCESS)
            ).status is MessageStatus.DELIVERY_SUCCESS
    stats = await smpp.smsc.get("/stats")
    assert (stats["binds"], stats["open_sessions"]) == (2, 1)  # bound again, once


async def test_smsc_killed_and_restarted_mid_traffic_loses_and_duplicates_nothing(
        smpp: Link) -> None:
    texts = [f"Numbered text {i}" for i in range(300)]
    messages: list[Message] = []
    a_third_sent = asyncio.Event()

    async def produce() -> None:
        for text in texts:
            messages.append(await send(smpp, text, to="+12025550199"))
            if len(messages) == 100:
                a_third_sent.set()
            await asyncio.sleep(0)

    producer = asyncio.create_task(produce())
    await a_third_sent.wait()
    smpp.smsc.kill()
    await asyncio.sleep(0.3)
    await smpp.smsc.start()
    await producer
    final = {MessageStatus.SENT, MessageStatus.DELIVERY_SUCCESS}
    for m in messages:
        stored = await wait_for_status(smpp.parley, m, *final, MessageStatus.FAILED)
        assert stored.status in final, (m.text, stored.status, stored.error_message)
    seen = Counter(e["text"] for e in smpp.smsc.logged("message"))
    assert {t: n for t, n in seen.items() if n > 1} == {}, "nothing is sent twice"
    assert [t for t in texts if seen[t] == 0] == [], "nothing is lost"


async def test_a_rejected_bind_reports_the_smscs_status(parley: Parley, org: Tenant,
                                                         smsc: Smsc) -> None:
    link = await connect(parley, org, smsc, password="wrong", register=False)
    try:
        status = await link.wait_for(LinkState.FAILED)
        assert status.state is LinkState.FAILED
        assert "bind rejected: ESME_RINVPASWD" in (status.reason or "")
        assert "bind rejected: ESME_RINVPASWD" in (status.binds[0].reason or "")
    finally:
        await disable(link)


async def test_an_unreachable_smsc_reports_why(parley: Parley, org: Tenant,
                                                tmp_path: Path) -> None:
    dead = Smsc(tmp_path / "dead.log")  # never started: nothing listens on its port
    link = await connect(parley, org, dead, register=False)
    try:
        status = await link.wait_for(LinkState.FAILED)
        assert status.state is LinkState.FAILED
        assert "refused" in (status.reason or "")
    finally:
        await disable(link)


async def test_transmitter_and_receiver_binds(parley: Parley, org: Tenant,
                                              smsc: Smsc) -> None:
    link = await connect(parley, org, smsc, bindMode="transmitter+receiver", binds=2)
    try:
        status = await link.wait_for(LinkState.BOUND)
        assert sorted(b.name for b in status.binds) == [
            "receiver 1", "receiver 2", "transmitter 1", "transmitter 2"]
        assert all(b.state is LinkState.BOUND for b in status.binds)
        message = await send(link, "Through a transmitter bind")
        stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
        assert stored.status is MessageStatus.DELIVERY_SUCCESS, "receipt came on a receiver"
        customer = random_customer()
        await smsc.mo(customer, link.number, "to a receiver bind")
        assert [m.text for m in await inbound(parley, org, customer)] == ["to a receiver bind"]
    finally:
        await disable(link)


async def test_stopping_unbinds(parley: Parley, org: Tenant, smsc: Smsc) -> None:
    link = await connect(parley, org, smsc, register=False)
    await link.wait_for(LinkState.BOUND)
    await disable(link)
    stats = await smsc.get("/stats")
    assert stats["unbind"] == 1
    view = await parley.carrier_admin.get(org.principal(), link.id)
    assert view.status.state is LinkState.DISABLED


# -- inbound ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    pytest.param("STATUS of my order? @£$ €", id="gsm7"),
    pytest.param(UCS2, id="ucs2"),
    pytest.param("Ein langer Text über drei Teile. " * 13, id="gsm7-multipart"),
    pytest.param("Длинное сообщение из нескольких частей. " * 5, id="ucs2-multipart"),
])
async def test_mobile_originated_texts_are_stored_whole(smpp: Link, text: str) -> None:
    customer = random_customer()
    answer = await smpp.smsc.mo(customer, smpp.number, text)
    assert set(answer["statuses"]) == {0}, answer
    [stored] = await inbound(smpp.parley, smpp.org, customer)
    assert stored.text == text
    assert (stored.from_address, stored.to_address) == (customer, smpp.number)
    assert stored.carrier == smpp.id
    async with smpp.parley.db.reader.connect() as conn:
        left = (await conn.execute(select(t.inbound_parts).where(
            t.inbound_parts.c.carrier == smpp.id))).all()
    assert left == [], "the parts are dropped once the text is stored"


async def test_a_text_to_a_number_the_connection_does_not_serve_is_refused(
        smpp: Link, org: Tenant) -> None:
    answer = await smpp.smsc.mo(random_customer(), org.number, "Wrong door")
    assert answer["statuses"] == [0x0B]  # ESME_RINVDSTADR: org.number is on the simulator


async def test_a_text_too_long_to_accept_is_refused_with_an_application_error(
        smpp: Link) -> None:
    """InboundService refuses it as InvalidInput: the SMSC gets ESME_RX_P_APPN (0x65) for the
    part that completes it, and nothing is stored."""
    customer = random_customer()
    answer = await smpp.smsc.mo(customer, smpp.number, "x" * 10_001)
    assert answer["parts"] == 66
    assert Counter(answer["statuses"]) == {0: 65, 0x65: 1}, answer
    assert await inbound(smpp.parley, smpp.org, customer, polls=1) == []


async def test_pipelined_texts_from_one_customer_keep_their_order(smpp: Link) -> None:
    """The SMSC sends the next deliver_sm before our answer to the last: each is acknowledged
    once stored, and they are stored in the order they came."""
    customer = random_customer()
    texts = [f"in order {i}" for i in range(20)]
    await asyncio.gather(*(smpp.smsc.mo(customer, smpp.number, text) for text in texts))
    stored = await inbound(smpp.parley, smpp.org, customer, count=len(texts))
    sent_order = [e["text"] for e in smpp.smsc.logged("mo_injected")]
    assert sorted(sent_order) == sorted(texts)
    assert [m.text for m in sorted(stored, key=lambda m: m.id)] == sent_order
