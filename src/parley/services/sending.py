"""The outbox sender: paces accepted texts to their carriers, retries, and records receipts.

A text is in the outbox (same transaction as the message) before the API answers. The node
that accepted it holds a lease on the row and sends it from memory, so the hot path reads
nothing back. Rows whose lease runs out - a retry that is due, or a node that died - are
claimed by whichever node polls first; leases of texts this node still holds (waiting for
their number's pace, or in flight) are renewed, so nobody else takes them.

Texts go out at the carrier's pace, counted in segments, per number and per connection
(`domain.pacing`). A number that must wait queues its texts in order without holding up any
other number. Each outcome is recorded as soon as it is known (batched by the group commit),
not when a whole batch is done, so a slow or throttled text delays nobody's status.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from parley.concurrency import stop_task
from parley.domain.messages import Message
from parley.domain.pacing import Pace
from parley.services.numbers import NumberDirectory
from parley.services.ports import (
    Carrier,
    CarrierError,
    Clock,
    DeliveryReport,
    MessageStore,
    OutboundSms,
    SubmitOutcome,
)

log = logging.getLogger(__name__)

StatusListener = Callable[[Sequence[str], Sequence[str]], None]
"""Told (message ids, provider message ids) whose status changed, after they are stored."""

EXPIRED = "the validity period ended before the carrier took the text"


def backoff_ms(attempts: int) -> int:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return int(min(1000 * 2 ** max(attempts - 1, 0), 300_000))


class OutboxSender:
    def __init__(self, store: MessageStore, carriers: Mapping[str, Carrier], clock: Clock,
                 numbers: NumberDirectory, *, lease_ms: int = 30_000,
                 validity_ms: int = 10 * 3600 * 1000, max_in_flight: int = 4096,
                 poll_interval_s: float = 1.0) -> None:
        self._store = store
        self._carriers = carriers
        self._clock = clock
        self._numbers = numbers
        self.lease_ms = lease_ms
        self._validity_ms = validity_ms
        self._poll_interval_s = poll_interval_s
        self._incoming: deque[OutboundSms] = deque()
        self._held: dict[str, int] = {}
        """message id -> lease end, for every text this node holds until its outcome is in"""
        self._waiting: dict[str, deque[OutboundSms]] = {}
        """per sending number: texts that wait for its pace, in order"""
        self._timers: list[tuple[float, int, str]] = []
        self._timer_seq = itertools.count()
        self._paces: dict[tuple[str, str], Pace] = {}
        self._link_paces: dict[str, Pace] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight = 0
        self._outcomes: list[SubmitOutcome] = []
        self._wake = asyncio.Event()
        self._outcome_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self._listeners: list[StatusListener] = []
        self.submitted = 0
        self.failed = 0
        self.retried = 0

    def on_status(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def enqueue(self, message: Message, attempts: int = 0) -> None:
        """A text just accepted (and leased to this node by the same transaction)."""
        self._take(OutboundSms(
            message_id=message.id, org_id=message.org_id, from_address=message.from_address,
            to_address=message.to_address, text=message.text,
            segment_count=message.segment_count, created_ms=message.created_ms,
            carrier=message.carrier, attempts=attempts),
            message.created_ms + self.lease_ms)

    def _take(self, sms: OutboundSms, lease_until_ms: int) -> bool:
        if sms.message_id in self._held:
            return False
        self._held[sms.message_id] = lease_until_ms
        self._incoming.append(sms)
        self._wake.set()
        return True

    def poke(self) -> None:
        """Look at the paced texts again now (a test that moved its clock; a pace that
        changed)."""
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Texts this node holds whose outcome is not recorded yet (paced, in flight...)."""
        return len(self._held)

    async def start(self) -> None:
        self._running = True
        self._tasks = [asyncio.create_task(self._dispatch(), name="outbox-dispatch"),
                       asyncio.create_task(self._record(), name="outbox-record"),
                       asyncio.create_task(self._poll(), name="outbox-poll")]

    async def stop(self) -> None:
        self._running = False
        self._wake.set()
        for task in self._tasks:
            await stop_task(task)
        self._tasks = []

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until nothing this node holds waits for an outcome (tests, orderly shutdown).

        Texts held back by their pace for longer than the timeout stay in the outbox.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._held and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    # -- pacing and dispatch ----------------------------------------------------------------

    async def _dispatch(self) -> None:
        while self._running:
            now = self._clock.now_ms()
            while self._timers and self._timers[0][0] <= now:
                _, _, number = heapq.heappop(self._timers)
                await self._release(number, now)
            if self._incoming:
                sms = self._incoming.popleft()
                await self._route(sms, self._clock.now_ms())
                continue
            self._wake.clear()
            wait_s = None
            if self._timers:
                wait_s = max(0.0, (self._timers[0][0] - self._clock.now_ms()) / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait_s)

    async def _route(self, sms: OutboundSms, now: int) -> None:
        queued = self._waiting.get(sms.from_address)
        if queued:  # keep each number's texts in order
            queued.append(sms)
            return
        carrier = self._carriers.get(sms.carrier)
        if carrier is None or carrier.limits.unlimited:
            await self._launch(sms, carrier)
            return
        paces = await self._paces_of(sms, carrier)
        ready = max((p.ready_at(now) for p in paces), default=now)
        if ready <= now:
            for p in paces:
                p.take(sms.segment_count, now)
            await self._launch(sms, carrier)
            return
        self._waiting[sms.from_address] = deque([sms])
        heapq.heappush(self._timers, (ready, next(self._timer_seq), sms.from_address))

    async def _release(self, number: str, now: int) -> None:
        """A number's pace allows its next text(s): send them, or wait again."""
        queued = self._waiting.get(number)
        while queued:
            sms = queued[0]
            carrier = self._carriers.get(sms.carrier)
            paces = () if carrier is None else await self._paces_of(sms, carrier)
            ready = max((p.ready_at(now) for p in paces), default=now)
            if ready > now:
                heapq.heappush(self._timers, (ready, next(self._timer_seq), number))
                return
            queued.popleft()
            for p in paces:
                p.take(sms.segment_count, now)
            await self._launch(sms, carrier)
        self._waiting.pop(number, None)

    async def _paces_of(self, sms: OutboundSms, carrier: Carrier) -> tuple[Pace, ...]:
        limits = carrier.limits
        out: list[Pace] = []
        if limits.per_connection > 0:
            link = self._link_paces.get(carrier.name)
            if link is None or link.rate != limits.per_connection:
                link = self._link_paces[carrier.name] = Pace(limits.per_connection)
            out.append(link)
        owner = await self._numbers.owner(sms.from_address)
        rate = limits.for_number(owner.phone_number_type if owner else None)
        if rate > 0:
            key = (carrier.name, sms.from_address)
            pace = self._paces.get(key)
            if pace is None or pace.rate != rate:
                pace = self._paces[key] = Pace(rate)
            out.append(pace)
        return tuple(out)

    async def _launch(self, sms: OutboundSms, carrier: Carrier | None) -> None:
        await self._slots.acquire()
        self._in_flight += 1
        task = asyncio.create_task(self._submit(sms, carrier))
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[SubmitOutcome]) -> None:
        self._slots.release()
        self._in_flight -= 1
        if not task.cancelled() and task.exception() is None:
            self._outcomes.append(task.result())
            self._outcome_ready.set()

    async def _submit(self, sms: OutboundSms, carrier: Carrier | None) -> SubmitOutcome:
        attempts = sms.attempts + 1
        now = self._clock.now_ms()
        if now - sms.created_ms > self._validity_ms:
            self.failed += 1
            return SubmitOutcome(sms.message_id, now, sms.carrier, attempts=sms.attempts,
                                 error=CarrierError(EXPIRED, code="validity.expired"))
        try:
            if carrier is None:
                raise CarrierError(f"carrier connection '{sms.carrier}' is not running on "
                                   "this server")
            ids = await carrier.submit(
                replace(sms, valid_until_ms=sms.created_ms + self._validity_ms))
        except CarrierError as e:
            now = self._clock.now_ms()
            retry_at = now + backoff_ms(attempts)
            if e.permanent or retry_at - sms.created_ms > self._validity_ms:
                self.failed += 1
                log.warning("message %s failed for good: %s", sms.message_id, e.reason)
                return SubmitOutcome(sms.message_id, now, sms.carrier, error=e,
                                     attempts=attempts)
            self.retried += 1
            log.info("message %s: carrier failed (%s), retry %d at +%d ms", sms.message_id,
                     e.reason, attempts, retry_at - now)
            return SubmitOutcome(sms.message_id, now, sms.carrier, error=e,
                                 retry_at_ms=retry_at, attempts=attempts)
        except Exception as e:  # a carrier adapter bug must not lose the message
            log.exception("carrier %s raised on message %s", sms.carrier, sms.message_id)
            now = self._clock.now_ms()
            return SubmitOutcome(sms.message_id, now, sms.carrier, error=CarrierError(repr(e)),
                                 retry_at_ms=now + backoff_ms(attempts), attempts=attempts)
        self.submitted += 1
        return SubmitOutcome(sms.message_id, self._clock.now_ms(), sms.carrier,
                             provider_message_id=ids[0],
                             part_ids=tuple(ids) if len(ids) > 1 else (), attempts=attempts)

    # -- outcomes ---------------------------------------------------------------------------

    async def _record(self) -> None:
        while self._running or self._outcomes:
            if not self._outcomes:
                self._outcome_ready.clear()
                await self._outcome_ready.wait()
                continue
            batch, self._outcomes = self._outcomes, []
            for attempt in itertools.count(1):
                try:
                    await self._store.record_outcomes(batch)
                    break
                except Exception:
                    # Nothing is lost: the rows stay leased (and renewed) while we hold them.
                    log.exception("recording %d send outcomes failed (attempt %d); will retry",
                                  len(batch), attempt)
                    await asyncio.sleep(min(attempt, 5))
            for o in batch:
                self._held.pop(o.message_id, None)
            changed = [o.message_id for o in batch if o.retry_at_ms is None]
            if changed:
                for listener in self._listeners:
                    listener(changed, ())

    # -- the outbox: retries, other nodes' leftovers, leases ---------------------------------

    async def _poll(self) -> None:
        while self._running:
            try:
                await self.claim_due()
                await self.renew_leases()
            except Exception:
                log.exception("claiming due outbox rows failed; will try again")
            await asyncio.sleep(self._poll_interval_s)

    async def claim_due(self) -> int:
        now = self._clock.now_ms()
        claimed = await self._store.claim_due(now, self.lease_ms, 1000)
        return sum(self._take(sms, now + self.lease_ms) for sms in claimed)

    async def renew_leases(self) -> int:
        """Extend the leases of held texts that are past half their lease."""
        now = self._clock.now_ms()
        due = [mid for mid, until in self._held.items() if until - now < self.lease_ms // 2]
        if not due:
            return 0
        until = now + self.lease_ms
        await self._store.renew_leases(due, until)
        for mid in due:
            if mid in self._held:
                self._held[mid] = until
        return len(due)


class DeliveryReceipts:
    """Carriers report delivery here; statuses only ever move forward (see domain.messages)."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store
        self._listeners: list[StatusListener] = []
        self.recorded = 0

    def on_status(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    async def __call__(self, reports: Sequence[DeliveryReport]) -> None:
        await self._store.record_deliveries(reports)
        self.recorded += len(reports)
        if self._listeners:
            ids = [r.provider_message_id for r in reports]
            for listener in self._listeners:
                listener((), ids)
