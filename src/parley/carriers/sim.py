"""The simulator carrier: the embedded default, and the customers' phones for people and tests.

It accepts every submit (unless told to fail the next ones), gives it a provider message id,
and reports `delivery-success` after a short delay, so statuses move queued -> sent ->
delivery-success as at a real carrier. It keeps, per phone, what that phone received, which
`GET /sim/v1/messages?phone=` shows. That record lives in memory (bounded per phone): it is
the phone's screen, not Parley's store, which keeps every message itself.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Self

import phonenumbers

from parley.carriers.host import CarrierHost
from parley.concurrency import stop_task
from parley.domain.carriers import BUILTIN_SIM, CarrierConnection, LinkState, SendLimits
from parley.domain.ids import new_id
from parley.domain.messages import MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType
from parley.domain.sms_text import analyse
from parley.services.ports.carriers import (
    CarrierError,
    DeliveryReport,
    DeliverySink,
    InboundSink,
    InboundSms,
    LinkStatus,
    OutboundSms,
)
from parley.services.ports.clock import Clock

_DEFAULT_AREA = {"US": "312", "CA": "416"}
_TOLLFREE_AREA = "833"


@dataclass(slots=True)
class HandsetMessage:
    id: str
    org_id: str
    phone: str
    direction: str  # "received" (the phone got it) or "sent" (the phone texted it)
    from_address: str
    to_address: str
    text: str
    status: str
    time_ms: int
    segment_count: int


class SimulatorCarrier:
    @classmethod
    def for_connection(cls, conn: CarrierConnection, host: CarrierHost) -> Self:
        """A simulator an organisation configured (the built-in one is made by bootstrap)."""
        return cls(host.clock, name=conn.id, limits=conn.limits,
                   delivery_delay_ms=conn.settings["deliveryDelayMs"])

    def __init__(self, clock: Clock, *, name: str = BUILTIN_SIM, delivery_delay_ms: int = 300,
                 history_per_phone: int = 1000, limits: SendLimits | None = None) -> None:
        self.name = name
        self.limits = limits or SendLimits()
        self._clock = clock
        self._since_ms = clock.now_ms()
        self._delay_ms = delivery_delay_ms
        self._history = history_per_phone
        self._phones: dict[str, deque[HandsetMessage]] = defaultdict(
            lambda: deque(maxlen=self._history))
        self._by_id: dict[str, HandsetMessage] = {}
        self._due: deque[tuple[int, DeliveryReport]] = deque()
        self._failures: deque[CarrierError] = deque()
        self._sink: DeliverySink | None = None
        self._inbound: InboundSink | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.accepted = 0

    async def start(self, on_reports: DeliverySink, on_inbound: InboundSink) -> None:
        self._sink = on_reports
        self._inbound = on_inbound
        self._task = asyncio.create_task(self._deliver(), name="sim-delivery")
        self._since_ms = self._clock.now_ms()

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        self._since_ms = self._clock.now_ms()

    def fail_next(self, count: int = 1, *, permanent: bool = False,
                  reason: str = "simulated carrier outage") -> None:
        """Make the next `count` submits fail, as a carrier link that is down would."""
        for _ in range(count):
            self._failures.append(CarrierError(reason, permanent=permanent,
                                               code="sim.rejected" if permanent else None))

    def status(self) -> LinkStatus:
        state = LinkState.BOUND if self._task is not None else LinkState.STOPPED
        return LinkStatus(state, self._since_ms, counters={"submitted": self.accepted})

    async def submit(self, sms: OutboundSms) -> list[str]:
        if self._failures:
            raise self._failures.popleft()
        now = self._clock.now_ms()
        provider_id = "sim-" + new_id().replace("-", "")
        record = HandsetMessage(
            id=provider_id, org_id=sms.org_id, phone=sms.to_address, direction="received",
            from_address=sms.from_address, to_address=sms.to_address, text=sms.text,
            status=MessageStatus.SENT.value, time_ms=now, segment_count=sms.segment_count)
        self._remember(record)
        self._due.append((now + self._delay_ms,
                          DeliveryReport(provider_id, MessageStatus.DELIVERY_SUCCESS, now,
                                         self.name)))
        self._wake.set()
        self.accepted += 1
        return [provider_id]

    def _remember(self, record: HandsetMessage) -> None:
        log = self._phones[record.phone]
        if len(log) == log.maxlen:
            self._by_id.pop(log[0].id, None)
        log.append(record)
        self._by_id[record.id] = record

    async def _deliver(self) -> None:
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
            wait_ms = self._due[0][0] - self._clock.now_ms()
            if wait_ms > 0:
                await asyncio.sleep(wait_ms / 1000)
            now = self._clock.now_ms()
            batch: list[DeliveryReport] = []
            while self._due and self._due[0][0] <= now and len(batch) < 1000:
                _, report = self._due.popleft()
                batch.append(DeliveryReport(report.provider_message_id, report.status, now,
                                            self.name))
            if batch and self._sink is not None:
                try:
                    await self._sink(batch)
                except Exception:
                    # A receipt that cannot be recorded is offered again, as carriers do.
                    self._due.extendleft(reversed([(now + 1000, r) for r in batch]))
                    await asyncio.sleep(1)
                    continue
                for r in batch:
                    record = self._by_id.get(r.provider_message_id)
                    if record is not None:
                        record.status = r.status.value

    async def inject(self, org_id: str, from_address: str, to_address: str,
                     text: str) -> str:
        """A simulated phone texts one of our numbers; returns the carrier's message id.

        It goes through the same entry point as a real carrier's mobile-originated text.
        """
        if self._inbound is None:
            raise CarrierError("the simulator carrier is not started")
        now = self._clock.now_ms()
        carrier_id = "sim-mo-" + new_id().replace("-", "")
        record = HandsetMessage(
            id=carrier_id, org_id=org_id, phone=from_address, direction="sent",
            from_address=from_address, to_address=to_address, text=text,
            status=MessageStatus.DELIVERY_SUCCESS.value, time_ms=now,
            segment_count=analyse(text).segment_count)
        self._remember(record)  # first, so an auto-reply shows after it on the phone
        try:
            await self._inbound(InboundSms(carrier=self.name, carrier_message_id=carrier_id,
                                           from_address=from_address, to_address=to_address,
                                           text=text, received_ms=now))
        except Exception:
            self._phones[from_address].remove(record)
            self._by_id.pop(carrier_id, None)
            raise
        return carrier_id

    def messages_for(self, org_id: str, phone: str, limit: int = 100) -> list[HandsetMessage]:
        """What this phone received from (or sent to) the organisation's numbers, newest last."""
        mine = [m for m in self._phones.get(phone, ()) if m.org_id == org_id]
        return mine[-limit:]

    async def available_numbers(self, *, country_code: str, number_type: PhoneNumberType,
                                area_code: str | None, pattern: str | None,
                                limit: int) -> list[AvailableNumber]:
        matcher = None if not pattern else re.compile(
            re.escape(pattern).replace(r"\*", r"\d"))
        found = []
        for e164 in _inventory(country_code, number_type, area_code):
            if matcher is not None and not matcher.search(e164):
                continue
            found.append(AvailableNumber(phone_number=e164, phone_number_type=number_type,
                                         country_code=country_code))
            if len(found) >= limit:
                break
        return found

    async def check_number(self, phone_number: str) -> None:
        """The simulator can serve any valid number."""


def _inventory(country: str, kind: PhoneNumberType, area_code: str | None) -> list[str]:
    """Numbers the simulator offers: NANP 555-01XX (reserved for fiction) or, elsewhere,
    variations of the libphonenumber example number for that type."""
    if country in _DEFAULT_AREA:
        area = area_code or (_TOLLFREE_AREA if kind is PhoneNumberType.TOLLFREE
                             else _DEFAULT_AREA[country])
        candidates = [f"+1{area}55501{n:02d}" for n in range(100)]
    else:
        ptype = {PhoneNumberType.MOBILE: phonenumbers.PhoneNumberType.MOBILE,
                 PhoneNumberType.TOLLFREE: phonenumbers.PhoneNumberType.TOLL_FREE}.get(
                     kind, phonenumbers.PhoneNumberType.FIXED_LINE)
        example = phonenumbers.example_number_for_type(country, ptype)
        if example is None:
            return []
        base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        candidates = [base[:-2] + f"{n:02d}" for n in range(100)]
    valid = []
    for e164 in itertools.islice(candidates, 100):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
                valid.append(e164)
        except phonenumbers.NumberParseException:
            continue
    return valid
