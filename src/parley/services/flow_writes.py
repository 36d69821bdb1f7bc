"""The two ways a flow's effects on a conversation are written (services/flow_events.py's
handlers say what the effects are).

- `HeldWrites`: a conversation that the text just started and that is not stored yet, whose
  run needs no waiting and no data action. Everything is decided in memory - replies
  composed, participant data set, the queue found and the ACD's offer decided - and stored
  with the conversation and its first text in one group-committed write; then the replies go
  to the carrier and the conversation is published. This is the inbound hot path
  (docs/architecture.md, "Receiving a text", step 5).
- `StoredWrites`: every other run. The conversation is stored; each effect is written through
  its own unit of work as it happens, because a run that waits for the customer or calls out
  spans several transactions anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

from parley.domain.conversations import Conversation
from parley.domain.errors import NotFound
from parley.domain.flows import FlowRun
from parley.domain.messages import Message
from parley.services.acd import AcdService, Routing
from parley.services.conversations import ConversationService
from parley.services.events import ConversationEvents, publish_conversation
from parley.services.numbers import NumberOwner
from parley.services.ports import Clock, EventBus, MessageStore, OutboxEntry, UnitOfWorkFactory
from parley.services.views import view_in_memory

log = logging.getLogger(__name__)


class HeldText(Protocol):
    """A text that starts a conversation, both still only in memory (services/inbound.py)."""

    conversation: Conversation
    message: Message
    stored: bool


class HeldWrites:
    """Effects gathered in memory and stored in one write when the run is carried out.

    Use it as `async with`: leaving the block without an error makes the write; either way,
    the ACD learns whether what it decided was stored.
    """

    def __init__(self, clock: Clock, bus: EventBus, store: MessageStore, acd: AcdService,
                 conversations: ConversationService, owner: NumberOwner,
                 held: HeldText) -> None:
        self._clock = clock
        self._bus = bus
        self._store = store
        self._acd = acd
        self._conversations = conversations
        self._owner = owner
        self._held = held
        self._replies: list[Message] = []
        self._outbox: list[OutboxEntry] = []
        self._routing: Routing | None = None

    async def __aenter__(self) -> HeldWrites:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        conv, stored = self._held.conversation, False
        try:
            if exc is None:
                conv.leave_flow(self._clock.now_ms())
                routing = self._routing
                await self._store.save_conversations(
                    [conv], messages=[self._held.message, *self._replies], outbox=self._outbox,
                    acd=[routing.record] if routing is not None and routing.record else [])
                stored = self._held.stored = True
        finally:
            if self._routing is not None:
                await self._acd.settled(self._owner.org_id, self._routing, stored=stored)
        if stored:
            self._conversations.hand_over(self._replies)
            publish_conversation(self._bus, view_in_memory(
                conv, [self._held.message, *self._replies]))

    async def reply(self, text: str) -> None:
        reply, entry = await self._conversations.automatic_reply(self._held.conversation, text)
        self._replies.append(reply)
        self._outbox.append(entry)

    async def change(self, apply: Callable[[Conversation], None], *,
                     publish: bool = False) -> None:
        apply(self._held.conversation)  # published with everything else after the write

    async def enqueue(self, queue_id: str, *, priority: int, skills: Sequence[str],
                      preferred_agent: str | None) -> None:
        self._routing = await self._acd.route(self._owner.org_id, self._held.conversation,
                                              queue_id, priority=priority, skills=skills,
                                              preferred_agent=preferred_agent)

    async def to_default_queue(self) -> None:
        conv = self._held.conversation
        queue = await self._acd.queue_for_number(self._owner.org_id, self._owner.number_id)
        if queue is None:
            log.warning("no queue texts from %s; conversation %s waits unrouted",
                        conv.org_address, conv.id)
            return
        await self.enqueue(queue.id, priority=0, skills=(), preferred_agent=None)

    async def wait(self, run: FlowRun, until_ms: int) -> None:
        raise RuntimeError("a run that waits is not carried out in memory (flow_events.can_hold)")

    async def end_run(self) -> None:
        """Nothing to do: a held run was never stored."""


class StoredWrites:
    """Effects written as they happen, each through its own unit of work."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, events: ConversationEvents,
                 acd: AcdService, conversations: ConversationService, org_id: str,
                 conversation_id: str, owner: NumberOwner | None, flow_id: str,
                 version: int) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events
        self._acd = acd
        self._conversations = conversations
        self._org_id = org_id
        self._conversation_id = conversation_id
        self._owner = owner
        self._flow = flow_id, version

    async def reply(self, text: str) -> None:
        await self._conversations.send_automatic(self._org_id, self._conversation_id, text)

    async def change(self, apply: Callable[[Conversation], None], *,
                     publish: bool = False) -> None:
        async with self._uow() as uow:
            conv = await uow.conversations.get(self._org_id, self._conversation_id)
            if conv is None:
                raise NotFound(f"conversation {self._conversation_id} not found")
            apply(conv)
            await uow.conversations.save(conv)
            await uow.commit()
        if publish:
            await self._events.publish(self._org_id, self._conversation_id)

    async def enqueue(self, queue_id: str, *, priority: int, skills: Sequence[str],
                      preferred_agent: str | None) -> None:
        await self._acd.enqueue(self._org_id, self._conversation_id, queue_id,
                                priority=priority, skills=skills,
                                preferred_agent=preferred_agent)

    async def to_default_queue(self) -> None:
        await to_default_queue(self._uow, self._acd, self._events, self._org_id,
                               self._conversation_id, self._owner)

    async def wait(self, run: FlowRun, until_ms: int) -> None:
        flow_id, version = self._flow
        async with self._uow() as uow:
            await uow.flows.put_run(self._conversation_id, self._org_id, flow_id, version,
                                    run.to_dict(), until_ms, self._clock.now_ms())
            await uow.commit()

    async def end_run(self) -> None:
        await end_run(self._uow, self._conversation_id)


async def end_run(uow: UnitOfWorkFactory, conversation_id: str) -> None:
    """The conversation's stored run is over (if it had one)."""
    async with uow() as unit:
        await unit.flows.end_run(conversation_id)
        await unit.commit()


async def to_default_queue(uow: UnitOfWorkFactory, acd: AcdService, events: ConversationEvents,
                           org_id: str, conversation_id: str,
                           owner: NumberOwner | None) -> None:
    """A stored conversation no flow routes (none, or a broken one): the queue whose Outbound
    SMS Number was texted; if none, it waits unrouted and its watchers hear of it."""
    async with uow(read_only=True) as unit:
        conv = await unit.conversations.get(org_id, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    if acd.is_routing(org_id, conversation_id):
        return
    chosen = None if owner is None else await acd.queue_for_number(org_id, owner.number_id)
    if chosen is None:
        log.warning("no flow and no queue for texts to %s; conversation %s waits "
                    "unrouted", conv.org_address, conversation_id)
        await events.publish(org_id, conversation_id)
        return
    await acd.enqueue(org_id, conversation_id, chosen.id)
