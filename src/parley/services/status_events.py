"""Delivery status changes, pushed as conversation events: the ticks on an agent's screen.

The sender and the receipt handler report which messages changed once the change is stored.
Changes are gathered for a moment and each touched conversation is published once, in the
shape of every other conversation event (its messages carry `messageStatus`). Nothing is read
when nobody listens: at thousands of texts a second the lookups would cost more than the
sending, so this checks first whether any notification channel subscribes to anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from parley.concurrency import stop_task
from parley.services.events import publish_conversation
from parley.services.ports import EventBus, UnitOfWorkFactory
from parley.services.views import build_view

log = logging.getLogger(__name__)

MAX_CONVERSATIONS_PER_FLUSH = 500


class StatusEvents:
    def __init__(self, uow: UnitOfWorkFactory, bus: EventBus,
                 listening: Callable[[], bool], *, interval_s: float = 0.2) -> None:
        self._uow = uow
        self._bus = bus
        self._listening = listening
        self._interval_s = interval_s
        self._message_ids: set[str] = set()
        self._provider_ids: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def changed(self, message_ids: Sequence[str], provider_ids: Sequence[str]) -> None:
        """Messages whose status was just stored (by our id, or by the carrier's)."""
        if not self._listening():
            return
        self._message_ids.update(message_ids)
        self._provider_ids.update(provider_ids)
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="status-events")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._interval_s)  # one event for a burst of changes
            try:
                await self.flush()
            except Exception:
                log.exception("publishing delivery status changes failed")

    async def flush(self) -> int:
        ids, self._message_ids = list(self._message_ids), set()
        providers, self._provider_ids = list(self._provider_ids), set()
        if not ids and not providers:
            return 0
        async with self._uow(read_only=True) as uow:
            touched = await uow.messages.conversations_of(ids, providers)
            published = 0
            for org_id, conversation_id in touched[:MAX_CONVERSATIONS_PER_FLUSH]:
                conv = await uow.conversations.get(org_id, conversation_id)
                if conv is None:
                    continue
                if publish_conversation(self._bus, await build_view(uow, org_id, conv)):
                    published += 1
        return published
