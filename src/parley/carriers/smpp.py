"""The SMPP 3.4 carrier (ESME side): one connection, one or more binds to the carrier's SMSC.

Texts are cut into parts by the domain's text rules (GSM-7 septets, UCS-2 code units; an
escape pair or a surrogate pair never straddles two parts) and sent with a concatenation
UDH, SAR TLVs or whole in message_payload, as the connection says; data_coding 0 (GSM-7) or
8 (UCS-2) follows the same rules. Each part waits for its submit_sm_resp; a throttled one
(ESME_RTHROTTLED) waits out the bind's pause and goes again, a queue-full one
(ESME_RMSGQFUL) backs off, a dropped bind resends what had no answer once a bind is back.
Parts the SMSC took are never resent by these retries. A permanent error fails the text
with the SMSC's status as the reason. Only when no bind takes the text for `hold_s` does the
submit fail back to the outbox, which retries it later.

deliver_sm brings mobile-originated texts (multipart ones are kept part by part in the store,
acknowledged once durable, and handed on whole) and delivery receipts, matched by the store
through the message id each part got in its submit_sm_resp.

The session-level workarounds for the library are in `smpp_session.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Self

import phonenumbers
from aiosmpplib import NPI, TON, BindMode, DeliverSm, OptionalParam, PhoneNumber, SubmitSm
from aiosmpplib.codec import GSM7BitCodec, UCS2Codec
from aiosmpplib.state import (
    MESSAGE_STATE,
    RECEIPTED_MESSAGE_ID,
    SAR_MSG_REF_NUM,
    SAR_SEGMENT_SEQNUM,
    SAR_TOTAL_SEGMENTS,
)

from parley.carriers.host import CarrierHost
from parley.carriers.smpp_session import (
    ESME_RMSGQFUL,
    ESME_ROK,
    ESME_RTHROTTLED,
    LinkDown,
    Session,
    concatenation_of,
    status_name,
)
from parley.concurrency import Coalescer, stop_task
from parley.domain.carriers import CarrierConnection, Concatenation, LinkState
from parley.domain.errors import DomainError, NotFound
from parley.domain.ids import new_id
from parley.domain.messages import MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType
from parley.domain.phone import region_of
from parley.domain.sms_text import Encoding, encoding_of, split
from parley.services.ports.carriers import (
    CarrierError,
    DeliveryReport,
    DeliverySink,
    InboundParts,
    InboundSink,
    InboundSms,
    LinkStatus,
    OutboundSms,
)
from parley.services.ports.clock import Clock

log = logging.getLogger("parley.carriers.smpp")

TEMPORARY = frozenset({0x04, 0x08, ESME_RMSGQFUL, ESME_RTHROTTLED, 0x64})
"""Statuses worth another try: bind state, system error, queue full, throttled, and the
SMSC's own temporary application error. Everything else fails the text for good."""

ESME_RINVDSTADR = 0x0B
ESME_RX_P_APPN = 0x65

_STAT = {"DELIVRD": MessageStatus.DELIVERY_SUCCESS, "EXPIRED": MessageStatus.DELIVERY_FAILED,
         "DELETED": MessageStatus.DELIVERY_FAILED, "UNDELIV": MessageStatus.DELIVERY_FAILED,
         "REJECTD": MessageStatus.DELIVERY_FAILED, "UNKNOWN": MessageStatus.DELIVERY_FAILED}
"""Final receipt states; ACCEPTD and ENROUTE are on the way and change nothing."""
_STATE_NAMES = {2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
                7: "UNKNOWN", 8: "REJECTD", 1: "ENROUTE"}
_RECEIPT_FIELD = re.compile(r"\b(id|stat|err):\s*([^\s,]+)", re.IGNORECASE)

_GSM = GSM7BitCodec()
_UCS2 = UCS2Codec()

PART_TIMEOUT_MS = 3_600_000
"""A multipart text still missing a part after an hour is passed on with the gap marked."""


class SmppCarrier:
    @classmethod
    def for_connection(cls, conn: CarrierConnection, host: CarrierHost) -> Self:
        return cls(conn, host.clock, host.inbound_parts)

    def __init__(self, conn: CarrierConnection, clock: Clock, parts: InboundParts, *,
                 hold_s: float = 30.0) -> None:
        self.name = conn.id
        self.limits = conn.limits
        self._label = conn.name
        self._clock = clock
        self._parts = parts
        self._hold_ms = int(hold_s * 1000)
        s = conn.settings
        self._settings = s
        self._inventory = conn.inventory
        self._concat = Concatenation(s["concatenation"])
        self._timeout_s = float(s["responseTimeoutSeconds"])
        self._registered = 1 if s["registeredDelivery"] else 0
        self._source_plan = (TON(s["sourceTon"]), NPI(s["sourceNpi"]))
        self._destination_plan = (TON(s["destinationTon"]), NPI(s["destinationNpi"]))
        self._refs = itertools.count(random.randrange(1 << 16))
        self._bound = asyncio.Event()
        self._on_reports: DeliverySink | None = None
        self._receipts: Coalescer[DeliveryReport] = Coalescer(self._store_receipts)
        self._on_inbound: InboundSink | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._rr = itertools.count()
        self.counters = {"submitted": 0, "accepted": 0, "throttled": 0, "queueFull": 0,
                         "rejected": 0, "timeouts": 0, "resent": 0, "received": 0,
                         "receipts": 0}
        modes = ([BindMode.TRANSCEIVER] if s["bindMode"] == "transceiver"
                 else [BindMode.TRANSMITTER, BindMode.RECEIVER])
        self._sessions = [
            Session(name=f"{mode.name.lower()} {i + 1}", label=conn.name, clock=clock,
                    host=s["host"],
                    port=s["port"], system_id=s["systemId"],
                    password=conn.secrets.get("password", ""), system_type=s["systemType"],
                    mode=mode, tls=s["tls"], tls_verify=s["tlsVerify"],
                    enquire_link_s=s["enquireLinkSeconds"],
                    response_timeout_s=self._timeout_s,
                    reconnect_max_s=s["reconnectMaxSeconds"], window=s["window"],
                    on_deliver=self._on_deliver, on_state=self._state_changed)
            for i in range(s["binds"]) for mode in modes]

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self, on_reports: DeliverySink, on_inbound: InboundSink) -> None:
        self._on_reports, self._on_inbound = on_reports, on_inbound
        for session in self._sessions:
            session.run()
        self._housekeeping = asyncio.create_task(self._finish_parts_forever(),
                                                 name=f"smpp-parts-{self.name}")

    async def stop(self) -> None:
        await stop_task(self._housekeeping)
        await asyncio.gather(*(s.close() for s in self._sessions))

    def _state_changed(self, _: Session) -> None:
        if any(s.can_send for s in self._sessions):
            self._bound.set()
        else:
            self._bound.clear()

    def status(self) -> LinkStatus:
        binds = tuple(s.status() for s in self._sessions)
        up = [b for b in binds if b.state is LinkState.BOUND]
        since = max(b.since_ms for b in binds)
        if len(up) == len(binds):
            return LinkStatus(LinkState.BOUND, since, None, binds, dict(self.counters))
        down = [b for b in binds if b.state is not LinkState.BOUND]
        reason = "; ".join(f"{b.name}: {b.reason or b.state.value}" for b in down)
        if up:
            return LinkStatus(LinkState.BOUND, since, f"{len(up)} of {len(binds)} binds up; "
                              + reason, binds, dict(self.counters))
        state = LinkState.FAILED if any(b.state is LinkState.FAILED for b in binds) \
            else down[0].state
        return LinkStatus(state, since, reason, binds, dict(self.counters))

    # -- numbers ------------------------------------------------------------------------------

    async def available_numbers(self, *, country_code: str, number_type: PhoneNumberType,
                                area_code: str | None, pattern: str | None,
                                limit: int) -> list[AvailableNumber]:
        matcher = None if not pattern else re.compile(re.escape(pattern).replace(r"\*", r"\d"))
        found = []
        for n in self._inventory:
            if n.country_code != country_code or n.phone_number_type is not number_type:
                continue
            national = n.phone_number[1 + len(str(phonenumbers.country_code_for_region(
                n.country_code))):]
            if area_code and not national.startswith(area_code):
                continue
            if matcher is not None and not matcher.search(n.phone_number):
                continue
            found.append(AvailableNumber(n.phone_number, n.phone_number_type, n.country_code))
            if len(found) >= limit:
                break
        return found

    async def check_number(self, phone_number: str) -> None:
        if self._inventory and all(n.phone_number != phone_number for n in self._inventory):
            raise CarrierError(f"{phone_number} is not among the numbers of connection "
                               f"'{self._label}'; add it to the connection's numbers first")

    # -- sending --------------------------------------------------------------------------------

    async def submit(self, sms: OutboundSms) -> list[str]:
        deadline = self._clock.now_ms() + self._hold_ms
        ids = []
        for i, make in enumerate(self._parts_of(sms)):
            ids.append(await self._send_part(make, f"{sms.message_id}/{i}", deadline))
        return ids

    def _parts_of(self, sms: OutboundSms) -> list[Callable[[str], SubmitSm]]:
        ucs2 = encoding_of(sms.text) is Encoding.UCS2
        coding = "ucs2" if ucs2 else "gsm0338"
        source = PhoneNumber(sms.from_address.lstrip("+"), *self._source_plan)
        dest = PhoneNumber(sms.to_address.lstrip("+"), *self._destination_plan)

        validity = None if sms.valid_until_ms is None else timedelta(seconds=max(
            60, (sms.valid_until_ms - self._clock.now_ms()) // 1000))

        def submit_sm(log_id: str, **kw: object) -> SubmitSm:
            # validity_period, relative: the SMSC stops trying when Parley would (absolute
            # times would need the SMSC's clock and time zone to agree with ours).
            pdu: SubmitSm = SubmitSm(log_id=log_id, source=source, destination=dest,
                                     encoding=coding, registered_delivery=self._registered,
                                     validity_period=validity, **kw)
            return pdu

        if sms.segment_count <= 1:  # measured when the text was accepted
            return [lambda log_id: submit_sm(log_id, short_message=sms.text)]
        if self._concat is Concatenation.PAYLOAD:
            return [lambda log_id: submit_sm(log_id, message_payload=sms.text)]
        parts = split(sms.text)
        ref = next(self._refs)
        total = len(parts)
        makers: list[Callable[[str], SubmitSm]] = []
        for seq, text in enumerate(parts, start=1):
            if self._concat is Concatenation.SAR:
                params = [OptionalParam(SAR_MSG_REF_NUM, ref & 0xFFFF),
                          OptionalParam(SAR_TOTAL_SEGMENTS, total),
                          OptionalParam(SAR_SEGMENT_SEQNUM, seq)]
                makers.append(lambda log_id, t=text, p=params: submit_sm(  # type: ignore[misc]
                    log_id, short_message=t, optional_params=list(p)))
            else:
                body = bytes((5, 0, 3, ref & 0xFF, total, seq)) + \
                    (_UCS2 if ucs2 else _GSM).encode(text)[0]
                makers.append(lambda log_id, t=text, b=body: _with_udh(  # type: ignore[misc]
                    submit_sm(log_id, short_message=t, esm_class=0x40), b))
        return makers

    async def _session_for_send(self, deadline_ms: int) -> Session:
        while True:
            ready = [s for s in self._sessions if s.can_send]
            if ready:
                return min(ready, key=lambda s: (s.queued, next(self._rr)))
            wait_ms = deadline_ms - self._clock.now_ms()
            if wait_ms <= 0:
                reasons = "; ".join(f"{s.name}: {s.reason or s.state.value}"
                                    for s in self._sessions)
                raise CarrierError(f"no SMPP bind of '{self._label}' is up ({reasons})")
            self._bound.clear()
            try:
                await asyncio.wait_for(self._bound.wait(), timeout=wait_ms / 1000)
            except TimeoutError:
                continue

    async def _send_part(self, make: Callable[[str], SubmitSm], key: str,
                         deadline_ms: int) -> str:
        backoff_s = 0.5
        last = "no attempt"
        for attempt in itertools.count(1):
            if attempt > 1 and self._clock.now_ms() >= deadline_ms:
                raise CarrierError(f"the SMSC did not take the text in time ({last})")
            session = await self._session_for_send(deadline_ms)
            pdu = make(f"{key}/{attempt}")
            fut = await session.submit(pdu)
            self.counters["submitted"] += 1
            if attempt > 1:
                self.counters["resent"] += 1
            try:
                status, message_id = await fut
            except TimeoutError as e:
                self.counters["timeouts"] += 1
                last = str(e)
                continue
            except LinkDown as e:
                last = str(e)
                continue
            if status == ESME_ROK:
                self.counters["accepted"] += 1
                return message_id
            last = f"{status_name(status)} on {session.name}"
            if status == ESME_RTHROTTLED:
                self.counters["throttled"] += 1  # the bind pauses; the retry waits for it
                continue
            if status in TEMPORARY:
                if status == ESME_RMSGQFUL:
                    self.counters["queueFull"] += 1
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, 8.0)
                continue
            self.counters["rejected"] += 1
            raise CarrierError(f"the SMSC refused the text: {status_name(status)}",
                               permanent=True, code=f"smpp.0x{status:08X}")
        raise AssertionError("unreachable")

    # -- receiving ------------------------------------------------------------------------------

    async def _on_deliver(self, m: DeliverSm) -> int:
        if m.is_receipt():
            return await self._on_receipt(m)
        self.counters["received"] += 1
        text = m.short_message or m.message_payload
        dst = _e164(m.destination.number, m.destination.ton, None)
        src = _e164(m.source.number, m.source.ton, dst)
        now = self._clock.now_ms()
        concat = concatenation_of(m)
        if concat is None:
            return await self._pass_on(src, dst, text, new_id(), now)
        ref, seq, total = concat
        key = f"{src}|{dst}|{ref}|{total}"
        whole = await self._parts.add(self.name, key, seq, total, text, now)
        if whole is None:
            return ESME_ROK
        status = await self._pass_on(src, dst, whole[0], whole[1], now)
        if status == ESME_ROK:
            await self._parts.forget(self.name, key)
        return status

    async def _pass_on(self, src: str, dst: str, text: str, carrier_id: str, now: int) -> int:
        assert self._on_inbound is not None
        try:
            await self._on_inbound(InboundSms(carrier=self.name, carrier_message_id=carrier_id,
                                              from_address=src, to_address=dst, text=text,
                                              received_ms=now))
        except NotFound as e:
            log.warning("SMPP %s: mobile-originated text refused: %s", self._label, e.message)
            return ESME_RINVDSTADR
        except DomainError as e:
            log.warning("SMPP %s: mobile-originated text refused: %s", self._label, e.message)
            return ESME_RX_P_APPN
        return ESME_ROK

    async def _on_receipt(self, m: DeliverSm) -> int:
        self.counters["receipts"] += 1
        provider_id, stat, err = _receipt_fields(m)
        status = _STAT.get(stat or "")
        if provider_id is None:
            log.warning("SMPP %s: a delivery receipt without a message id: %r", self._label,
                        m.short_message)
            return ESME_ROK
        if status is None:
            return ESME_ROK  # ACCEPTD / ENROUTE: still on its way
        failed = status is MessageStatus.DELIVERY_FAILED
        await self._receipts.add(DeliveryReport(
            provider_message_id=provider_id, status=status, at_ms=self._clock.now_ms(),
            carrier=self.name,
            error_code=f"smpp.{stat}" if failed else None,
            error_message=f"the carrier reported {stat} (err {err})" if failed else None))
        return ESME_ROK

    async def _store_receipts(self, reports: list[DeliveryReport]) -> None:
        assert self._on_reports is not None
        await self._on_reports(reports)

    async def _finish_parts_forever(self) -> None:
        """Texts whose parts are all stored but not passed on (a crash in between), and texts
        a part of which never came, go on; checked at start and every minute."""
        while True:
            try:
                now = self._clock.now_ms()
                for key, text, ikey in await self._parts.pending(
                        self.name, complete_or_older_than_ms=now - PART_TIMEOUT_MS):
                    src, dst = key.split("|")[:2]
                    if await self._pass_on(src, dst, text, ikey, now) in (
                            ESME_ROK, ESME_RINVDSTADR, ESME_RX_P_APPN):
                        await self._parts.forget(self.name, key)
            except Exception:
                log.exception("SMPP %s: passing on stored parts failed; will retry",
                              self._label)
            await asyncio.sleep(60)


def _with_udh(pdu: SubmitSm, body: bytes) -> SubmitSm:
    """The part's octets, UDH first (the library's own splitter is not used: workaround 1)."""
    pdu.set_encoded_message(body)
    return pdu


def _e164(number: str, ton: int, hint: str | None) -> str:
    """An SMPP address as E.164: international as given; a national one (TON 2) in the
    country of the number it was sent to."""
    digits = number.lstrip("+")
    if ton == TON.NATIONAL and hint is not None:
        region = region_of(hint)
        if region:
            try:
                parsed = phonenumbers.parse(digits, region)
                return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            except phonenumbers.NumberParseException:
                pass
    return "+" + digits


def _receipt_fields(m: DeliverSm) -> tuple[str | None, str | None, str]:
    """(message id, final state, error code) from the TLVs, else from the receipt text.

    The TLVs are preferred: carriers format the text differently (hex or decimal ids,
    dates with or without seconds, commas); the library's parser trips on some of those.
    """
    provider_id: str | None = None
    state: str | None = None
    for p in m.optional_params or ():
        if p.tag == RECEIPTED_MESSAGE_ID and p.value:
            provider_id = str(p.value).rstrip("\x00")
        elif p.tag == MESSAGE_STATE and isinstance(p.value, int):
            state = _STATE_NAMES.get(p.value)
    found = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(m.short_message or "")}
    err = found.get("err", "000")
    if provider_id and state:
        return provider_id, state, err
    try:
        parsed = m.parse_receipt()
    except (ValueError, TypeError):
        parsed = {}
    provider_id = provider_id or found.get("id") or _str(parsed.get("id"))
    stat = state or (found.get("stat") or _str(parsed.get("stat")) or "").upper()
    return provider_id, stat or None, err


def _str(v: str | int | datetime | None) -> str | None:
    return None if v is None else str(v)
