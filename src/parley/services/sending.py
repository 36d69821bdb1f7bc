"""The outbox sender: drains accepted texts to their carriers, retries, and records receipts.

A text is in the outbox (same transaction as the message) before the API answers. The node
that accepted it holds a lease on the row and submits it from memory straight away, so the hot
path reads nothing back. Rows whose lease runs out - a retry that is due, or a node that died -
are claimed by whichever node polls first. Outcomes (sent, retry, failed) and delivery receipts
are written in batches through the group commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence

from parley.domain.messages import Message
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


def backoff_ms(attempts: int) -> int:
    """1 s, 2 s, 4 s ... capped at 5 minutes."""
    return int(min(1000 * 2 ** max(attempts - 1, 0), 300_000))


class OutboxSender:
    def __init__(self, store: MessageStore, carriers: Mapping[str, Carrier], clock: Clock, *,
                 lease_ms: int = 30_000, validity_ms: int = 10 * 3600 * 1000,
                 batch_size: int = 256, workers: int = 4, poll_interval_s: float = 1.0) -> None:
        self._store = store
        self._carriers = carriers
        self._clock = clock
        self.lease_ms = lease_ms
        self._validity_ms = validity_ms
        self._batch_size = batch_size
        self._workers = workers
        self._poll_interval_s = poll_interval_s
        self._queue: deque[OutboundSms] = deque()
        self._busy = 0
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self.submitted = 0
        self.failed = 0
        self.retried = 0

    def enqueue(self, message: Message, attempts: int = 0) -> None:
        self._queue.append(OutboundSms(
            message_id=message.id, org_id=message.org_id, from_address=message.from_address,
            to_address=message.to_address, text=message.text,
            segment_count=message.segment_count, created_ms=message.created_ms,
            carrier=message.carrier, attempts=attempts))
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Texts accepted by this node and not yet recorded as handed over (or retried)."""
        return len(self._queue) + self._in_flight

    async def start(self) -> None:
        self._running = True
        self._tasks = [asyncio.create_task(self._work(), name=f"outbox-{i}")
                       for i in range(self._workers)]
        self._tasks.append(asyncio.create_task(self._poll(), name="outbox-poll"))

    async def stop(self) -> None:
        self._running = False
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until nothing accepted by this node is waiting (tests, orderly shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (self._queue or self._busy) and \
                asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def _work(self) -> None:
        while self._running:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue.popleft()
                     for _ in range(min(self._batch_size, len(self._queue)))]
            self._busy += 1
            self._in_flight += len(batch)
            try:
                outcomes = await asyncio.gather(*(self._submit(s) for s in batch))
                await self._store.record_outcomes(outcomes)
            except Exception:
                # The rows stay leased in the outbox; the poller takes them again when the
                # lease runs out. Nothing is lost, at worst it is sent late.
                log.exception("recording %d send outcomes failed", len(batch))
            finally:
                self._busy -= 1
                self._in_flight -= len(batch)

    async def _submit(self, sms: OutboundSms) -> SubmitOutcome:
        attempts = sms.attempts + 1
        carrier_name = sms.carrier
        carrier = self._carriers.get(carrier_name)
        try:
            if carrier is None:
                raise CarrierError(f"carrier '{carrier_name}' is not configured on this server")
            provider_id = await carrier.submit(sms)
        except CarrierError as e:
            now = self._clock.now_ms()
            retry_at = now + backoff_ms(attempts)
            if e.permanent or retry_at - sms.created_ms > self._validity_ms:
                self.failed += 1
                log.warning("message %s failed for good: %s", sms.message_id, e.reason)
                return SubmitOutcome(sms.message_id, now, error=e, attempts=attempts)
            self.retried += 1
            log.info("message %s: carrier failed (%s), retry %d at +%d ms", sms.message_id,
                     e.reason, attempts, retry_at - now)
            return SubmitOutcome(sms.message_id, now, error=e, retry_at_ms=retry_at,
                                 attempts=attempts)
        except Exception as e:  # a carrier adapter bug must not lose the message
            log.exception("carrier %s raised on message %s", carrier_name, sms.message_id)
            now = self._clock.now_ms()
            return SubmitOutcome(sms.message_id, now, error=CarrierError(repr(e)),
                                 retry_at_ms=now + backoff_ms(attempts), attempts=attempts)
        self.submitted += 1
        return SubmitOutcome(sms.message_id, self._clock.now_ms(),
                             provider_message_id=provider_id, attempts=attempts)

    async def _poll(self) -> None:
        while self._running:
            try:
                await self.claim_due()
            except Exception:
                log.exception("claiming due outbox rows failed; will try again")
            await asyncio.sleep(self._poll_interval_s)

    async def claim_due(self) -> int:
        claimed = await self._store.claim_due(self._clock.now_ms(), self.lease_ms, 1000)
        self._queue.extend(claimed)
        if claimed:
            self._wake.set()
        return len(claimed)


class DeliveryReceipts:
    """Carriers report delivery here; statuses only ever move forward (see domain.messages)."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store
        self.recorded = 0

    async def __call__(self, reports: Sequence[DeliveryReport]) -> None:
        await self._store.record_deliveries(reports)
        self.recorded += len(reports)
