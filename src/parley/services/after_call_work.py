"""After-call work: an agent who has left a conversation but still owes its wrap-up.

On a queue whose wrap-up prompt is mandatory, an agent who disconnects without a code is in
after-call work (`wrapupRequired`): the conversation keeps counting against their capacity
until they send the code. A timed prompt ends it by itself once the queue's timeout passes,
with the code Genesys gives it (ININ-WRAP-UP-TIMEOUT). This module holds those deadlines (a
heap, re-armed from the store at start-up), the task that ends them, and the release of the
agent's capacity once they are done with a conversation.

It is not wrap-up code administration (services/wrapup.py, configuration an admin edits): it
is a timer on live conversations that hands capacity back to the ACD.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging

from parley.concurrency import stop_task
from parley.domain.conversations import Purpose, Wrapup
from parley.services.events import ConversationEvents
from parley.services.ports import Clock, EventBus, Router, UnitOfWorkFactory

log = logging.getLogger(__name__)

ACW_TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"
"""The wrap-up Genesys records when after-call work times out."""


class AfterCallWork:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, router: Router,
                 bus: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._router = router
        self._events = ConversationEvents(uow, bus)
        self._due: list[tuple[int, str, str, str]] = []
        """(deadline, org, conversation, participant) of after-call work that times out"""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def time_out_at(self, org_id: str, conversation_id: str, participant_id: str,
                    deadline_ms: int) -> None:
        """This participant's after-call work ends at `deadline_ms` unless they wrap up."""
        heapq.heappush(self._due, (deadline_ms, org_id, conversation_id, participant_id))
        self._wake.set()

    async def start(self) -> None:
        """Re-arm the timeouts that were running when the server stopped."""
        async with self._uow(read_only=True) as uow:
            pending = await uow.conversations.in_after_call_work()
            for org_id, conversation_id, participant_id, queue_id, end_ms in pending:
                queue = await uow.queues.get(org_id, queue_id) if queue_id else None
                timeout_ms = None if queue is None else queue.acw_timeout_ms()
                if timeout_ms is not None:
                    self.time_out_at(org_id, conversation_id, participant_id,
                                     end_ms + timeout_ms)
        self._task = asyncio.create_task(self._forever(), name="acw-timeouts")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _forever(self) -> None:
        while True:
            self._wake.clear()
            wait_s = 60.0
            if self._due:
                wait_s = max(0.0, (self._due[0][0] - self._clock.now_ms()) / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait_s, 60.0))
            try:
                await self.end_due()
            except Exception:
                log.exception("ending timed-out after-call work failed; will try again")

    async def end_due(self) -> int:
        """Wrap up, as Genesys does (ININ-WRAP-UP-TIMEOUT), whoever's time ran out."""
        ended = 0
        while self._due and self._due[0][0] <= self._clock.now_ms():
            _, org_id, conversation_id, participant_id = heapq.heappop(self._due)
            now = self._clock.now_ms()
            async with self._uow() as uow:
                conv = await uow.conversations.get(org_id, conversation_id)
                p = None if conv is None else conv.participant(participant_id)
                if conv is None or p is None or not p.wrapup_required:
                    continue
                p.wrapup = Wrapup(code=ACW_TIMEOUT_CODE, name=ACW_TIMEOUT_CODE, end_ms=now)
                p.wrapup_required = False
                await uow.conversations.save(conv)
                await uow.commit()
            await self.release(org_id, conversation_id, p.queue_id)
            await self._events.publish(org_id, conversation_id)
            ended += 1
        return ended

    async def release(self, org_id: str, conversation_id: str, queue_id: str | None) -> None:
        """The agent is done with it: free their capacity (and serve a text that came in
        during after-call work)."""
        if self._router.is_routing(org_id, conversation_id):
            await self._router.finish(org_id, conversation_id)
            await self._requeue_unattended(org_id, conversation_id, queue_id)

    async def _requeue_unattended(self, org_id: str, conversation_id: str,
                                  queue_id: str | None) -> None:
        """The customer texted again while the agent was in after-call work: the text
        reopened the conversation but found nobody, so it waits in the queue again."""
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(org_id, conversation_id)
        if queue_id is not None and conv is not None and conv.is_active and not any(
                q.is_active for q in conv.participants if q.purpose is not Purpose.CUSTOMER):
            await self._router.transfer(org_id, conversation_id, queue_id)
