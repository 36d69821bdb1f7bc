"""Each aiosmpplib 0.7.4 fault that carriers/smpp_session.py works around, shown fixed.

The faults that show on the wire (rejected bind, unknown status, throttling, receipts) are
covered against the SMSC in test_smpp.py; these are the ones a well-behaved SMSC never
triggers: 16-bit concatenation references, odd receipt texts, the send window, and TLS.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
import trustme
from aiosmpplib import (
    DeliverSm,
    OptionalParam,
    PduHeader,
    PhoneNumber,
    SmppCommand,
    SmppCommandStatus,
    SubmitSm,
)
from aiosmpplib.state import MESSAGE_STATE, RECEIPTED_MESSAGE_ID

from parley.bootstrap import Parley
from parley.carriers.smpp import _receipt_fields
from parley.carriers.smpp_session import _WindowBroker, concatenation_of, is_receipt
from parley.domain.carriers import LinkState
from parley.domain.messages import MessageStatus
from tests.carriers.conftest import connect, disable, free_number, send
from tests.carriers.smsc import Smsc
from tests.orgs import Tenant, random_customer
from tests.services.probes import wait_for_status


def deliver_sm_pdu(body: bytes, *, esm_class: int = 0x40, coding: str | None = None,
                   params: list[OptionalParam] | None = None, text: str = "x",
                   service_type: str = "") -> bytes:
    out = DeliverSm(short_message=text, source=PhoneNumber("4915112345678"),
                    destination=PhoneNumber("13125550100"), esm_class=esm_class,
                    encoding=coding, optional_params=params or [], service_type=service_type)
    if body:
        out.set_encoded_message(body)
    return bytes(out.pdu())


def deliver_sm(body: bytes, *, esm_class: int = 0x40, coding: str | None = None,
               params: list[OptionalParam] | None = None, text: str = "x") -> DeliverSm:
    """A deliver_sm as it arrives: encoded by the library, then decoded by it."""
    pdu = deliver_sm_pdu(body, esm_class=esm_class, coding=coding, params=params, text=text)
    header = PduHeader(pdu_length=len(pdu), smpp_command=SmppCommand.DELIVER_SM,
                       command_status=SmppCommandStatus.ESME_ROK, sequence_num=7)
    decoded = DeliverSm.from_pdu(pdu, header, "gsm0338")
    assert isinstance(decoded, DeliverSm)
    return decoded


@pytest.mark.parametrize(("udh", "expected"), [
    pytest.param(bytes([5, 0, 3, 0xA7, 3, 2]), (0xA7, 2, 3), id="8-bit-reference"),
    pytest.param(bytes([6, 8, 4, 0x12, 0x34, 3, 2]), (0x1234, 2, 3), id="16-bit-reference"),
    pytest.param(bytes([6, 8, 4, 0x00, 0x00, 2, 1]), (0, 1, 2), id="16-bit-reference-zero"),
])
def test_concatenation_references_of_both_sizes(udh: bytes, expected: tuple[int, int, int]
                                                ) -> None:
    message = deliver_sm(udh + b"hello")
    assert message.short_message == "hello"
    assert concatenation_of(message) == expected


@pytest.mark.parametrize(("esm_class", "service_type", "receipt"), [
    pytest.param(0x04, "", True, id="receipt"),
    pytest.param(0x04, "CMT", True, id="receipt-with-service-type"),
    pytest.param(0x00, "", False, id="mobile-originated"),
    pytest.param(0x40, "", False, id="mobile-originated-with-udh"),
    pytest.param(0x08, "", False, id="intermediate-notification"),
])
def test_receipts_are_told_apart_from_the_raw_pdu(esm_class: int, service_type: str,
                                                  receipt: bool) -> None:
    pdu = deliver_sm_pdu(b"", esm_class=esm_class, text="id:1 stat:DELIVRD",
                         service_type=service_type)
    assert is_receipt(pdu) is receipt
    assert is_receipt(pdu[:20]) is False, "a truncated PDU is not read past its end"


def test_a_whole_text_has_no_concatenation() -> None:
    assert concatenation_of(deliver_sm(b"", esm_class=0, text="whole")) is None


@pytest.mark.parametrize(("text", "params", "expected"), [
    pytest.param("id:abc123 sub:001 dlvrd:001 submit date:2612021200 done date:2612021201 "
                 "stat:DELIVRD err:000 text:hello", [], ("abc123", "DELIVRD", "000"),
                 id="standard-text"),
    pytest.param("id:abc123 sub:001 dlvrd:000 submit date:261202120059 done date:"
                 "261202120101 stat:UNDELIV err:042 text:dates with seconds", [],
                 ("abc123", "UNDELIV", "042"), id="dates-the-library-cannot-parse"),
    pytest.param("id:7F3A,stat:DELIVRD,err:000", [], ("7F3A", "DELIVRD", "000"),
                 id="comma-separated"),
    pytest.param("receipt", [OptionalParam(RECEIPTED_MESSAGE_ID, "tlv-id"),
                             OptionalParam(MESSAGE_STATE, 5)], ("tlv-id", "UNDELIV", "000"),
                 id="only-tlvs"),
    pytest.param("id:text-id stat:DELIVRD err:000",
                 [OptionalParam(RECEIPTED_MESSAGE_ID, "tlv-id")],
                 ("tlv-id", "DELIVRD", "000"), id="the-tlv-id-wins"),
])
def test_receipt_fields(text: str, params: list[OptionalParam],
                        expected: tuple[str, str, str]) -> None:
    receipt = deliver_sm(b"", esm_class=0x04, text=text, params=params)
    assert _receipt_fields(receipt) == expected


async def test_the_window_holds_back_requests_until_answered() -> None:
    broker = _WindowBroker(window=2)
    pdus = [SubmitSm(short_message=f"m{i}", log_id=str(i)) for i in range(4)]
    for pdu in pdus:
        await broker.enqueue(pdu)
    assert [await broker.dequeue(), await broker.dequeue()] == pdus[:2]
    third = asyncio.create_task(broker.dequeue())
    await asyncio.sleep(0.01)
    assert not third.done(), "two unanswered: the third waits"
    broker.answered()
    assert await asyncio.wait_for(third, 1) is pdus[2]
    assert broker.in_flight == 2
    assert broker.discard("3") is True, "a request not sent yet is taken back"
    assert broker.discard("3") is False
    await broker.enqueue(pdus[3])
    assert broker.clear() == [pdus[3]]
    assert broker.in_flight == 0


@pytest.fixture
async def tls_front(smsc: Smsc) -> AsyncIterator[tuple[int, trustme.CA]]:
    """A TLS terminator in front of the SMSC, as carriers that require TLS put there."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", smsc.port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, ca
    finally:
        server.close()


async def test_tls(parley: Parley, org: Tenant, smsc: Smsc,
                   tls_front: tuple[int, trustme.CA]) -> None:
    port, _ = tls_front
    link = await connect(parley, org, smsc, port=port, tls=True, tlsVerify=False)
    try:
        assert (await link.wait_for(LinkState.BOUND)).state is LinkState.BOUND
        message = await send(link, "Over TLS")
        stored = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
        assert stored.status is MessageStatus.DELIVERY_SUCCESS
    finally:
        await disable(link)


async def test_tls_checks_the_certificate_unless_told_not_to(
        parley: Parley, org: Tenant, smsc: Smsc, tls_front: tuple[int, trustme.CA]) -> None:
    port, _ = tls_front
    link = await connect(parley, org, smsc, port=port, tls=True, register=False)
    try:
        status = await link.wait_for(LinkState.FAILED)
        assert status.state is LinkState.FAILED
        assert "TLS failed" in (status.reason or ""), status.reason
    finally:
        await disable(link)


@dataclass
class SilentSmsc:
    port: int
    submits: list[SubmitSm] = field(default_factory=list)
    """every submit_sm it received, decoded by the library"""


@pytest.fixture
async def silent_smsc() -> AsyncIterator[SilentSmsc]:
    """An SMSC that accepts the bind and then never answers a submit_sm: the stuck link
    gateways are known for (peers.md §8). Built on the library's own PDU codec."""
    from struct import unpack

    from aiosmpplib import BindTransceiverResp, EnquireLinkResp

    smsc = SilentSmsc(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(16)
                length, command, _, seq = unpack("!IIII", head)
                body = await reader.readexactly(length - 16)
                if command == 0x09:  # bind_transceiver
                    writer.write(BindTransceiverResp(seq, system_id="SILENT").pdu())
                elif command == 0x15:  # enquire_link: the link itself looks alive
                    writer.write(EnquireLinkResp(seq).pdu())
                elif command == 0x04:  # submit_sm: kept, never answered
                    header = PduHeader(pdu_length=length, smpp_command=SmppCommand.SUBMIT_SM,
                                       command_status=SmppCommandStatus.ESME_ROK,
                                       sequence_num=seq)
                    pdu = SubmitSm.from_pdu(head + body, header, "gsm0338")
                    assert isinstance(pdu, SubmitSm)
                    smsc.submits.append(pdu)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    smsc.port = server.sockets[0].getsockname()[1]
    try:
        yield smsc
    finally:
        server.close()


async def test_a_submit_nobody_answers_times_out_and_frees_its_window_slot(
        silent_smsc: SilentSmsc) -> None:
    from parley.carriers.smpp import SmppCarrier
    from parley.domain.carriers import CarrierConnection, CarrierKind, check_settings
    from parley.services.ports import CarrierError, OutboundSms, SystemClock
    from parley.store.inbound_parts import SqlInboundParts

    settings = check_settings(CarrierKind.SMPP, {
        "host": "127.0.0.1", "port": silent_smsc.port, "systemId": "x", "window": 1,
        "responseTimeoutSeconds": 1})
    conn = CarrierConnection(id="silent", org_id="o", name="Silent", kind=CarrierKind.SMPP,
                             settings=settings, secrets={"password": "x"})
    # No group committer: this carrier only sends, so it never stores an inbound part.
    carrier = SmppCarrier(conn, SystemClock(), SqlInboundParts(None), hold_s=2)  # type: ignore[arg-type]

    async def ignore(*_: object) -> None:
        return None

    await carrier.start(ignore, ignore)
    try:
        for _ in range(200):
            if carrier.status().state is LinkState.BOUND:
                break
            await asyncio.sleep(0.02)
        sms = OutboundSms(message_id="m1", org_id="o", from_address="+13125550100",
                          to_address="+13125550101", text="anyone?", segment_count=1,
                          created_ms=0, carrier="silent")
        with pytest.raises(CarrierError, match="did not take the text in time") as failed:
            await carrier.submit(sms)
        assert not failed.value.permanent, "the outbox retries it later"
        assert carrier.counters["timeouts"] >= 1
        assert carrier.status().binds[0].in_flight == 0, "the window slot is free again"

        # The validity the sender gives a text goes with its submit_sm, relative to now.
        two_hours = SystemClock().now_ms() + 2 * 3600 * 1000
        with pytest.raises(CarrierError):
            await carrier.submit(replace(sms, message_id="m2", valid_until_ms=two_hours))
        assert [s.validity_period for s in silent_smsc.submits[:1]] == [None]
        given = silent_smsc.submits[-1].validity_period
        assert isinstance(given, timedelta)
        assert timedelta(hours=2) - timedelta(minutes=1) <= given <= timedelta(hours=2)
    finally:
        await carrier.stop()


async def test_the_outbox_gives_each_submit_what_is_left_of_the_texts_validity(
        parley: Parley, org: Tenant, silent_smsc: SilentSmsc) -> None:
    """Through the real sender: a text accepted now carries about 10 h (the outbox's validity
    period) in its submit_sm."""
    number = await free_number(parley)
    view = await parley.carrier_admin.create(
        org.principal(), name=f"Silent {silent_smsc.port}", kind="smpp",
        settings={"host": "127.0.0.1", "port": silent_smsc.port, "systemId": "x",
                  "responseTimeoutSeconds": 1},
        secrets={"password": "x"}, numbers=[{"phoneNumber": number, "phoneNumberType": "local"}])
    try:
        await parley.numbers.provision(org.principal(), phone_number=number,
                                       phone_number_type="local", country_code="US",
                                       integration_id=view.connection.id)
        await parley.conversations.send_agentless(
            org.principal(), from_address=number, to_address=random_customer(),
            messenger_type="sms", text="valid for a while")
        for _ in range(500):
            if silent_smsc.submits:
                break
            await asyncio.sleep(0.02)
        [first, *_] = silent_smsc.submits
        assert first.short_message == "valid for a while"
        assert isinstance(first.validity_period, timedelta)
        assert timedelta(hours=10) - timedelta(minutes=1) <= first.validity_period \
            <= timedelta(hours=10)
    finally:
        await parley.carrier_admin.change(org.principal(), view.connection.id,
                                          changes={"enabled": False})
