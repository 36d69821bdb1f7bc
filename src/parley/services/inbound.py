"""Inbound texts: stored first, threaded into a conversation, then a flow and the ACD.

Every carrier hands its mobile-originated texts to `InboundService.receive`. The text is
stored (once per carrier message id, so a carrier's retry is not a second message) before
anything else happens; only then does the conversation move on:

- a reply to a conversation an agent is on reaches that agent;
- an answer to a flow's askQuestion resumes that flow;
- a new conversation (or one revived within the threading window) runs the number's
  published inbound message flow, which ends in a transfer to a queue (or a disconnect);
  a number with no route goes to the queue that uses it as its Outbound SMS Number.

This module is arrival: storing, threading, the opt-out keywords, and deciding which of those
applies. Running the flow and carrying out what it asks is services/flow_runs.py's.

Texts from one customer to one number are handled one at a time, in order: the askQuestion
timeouts are resumed here, under the same per-customer lock as the texts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from parley.concurrency import KeyedLocks, stop_task
from parley.domain.conversations import Conversation, start_inbound
from parley.domain.errors import DomainError, InvalidInput, NotFound
from parley.domain.flows import FlowRun, NoReply, Reply, RunStatus
from parley.domain.ids import new_id
from parley.domain.messages import Message, inbound_message
from parley.domain.phone import parse_e164
from parley.domain.sms_text import analyse
from parley.services.acd import AcdService
from parley.services.conversations import ConversationService
from parley.services.events import ConversationEvents
from parley.services.flow_runs import FlowRunner
from parley.services.flows import FlowService
from parley.services.numbers import NumberDirectory, NumberOwner
from parley.services.opt_out import OptOutService
from parley.services.ports import (
    AlreadyStored,
    Clock,
    EventBus,
    InboundSms,
    MessageStore,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

MAX_INBOUND_CHARACTERS = 10_000
"""Reassembled multipart texts are longer than one SMS; this only bounds abuse."""


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    conversation_id: str
    duplicate: bool = False


def _text_in(conv: Conversation, sms: InboundSms, key: str, now_ms: int) -> Message:
    """The customer's text as a message of `conv` (new or continued)."""
    return inbound_message(
        id=new_id(), org_id=conv.org_id, conversation_id=conv.id,
        participant_id=conv.customer().id, from_address=conv.customer_address,
        to_address=conv.org_address, text=sms.text, info=analyse(sms.text), now_ms=now_ms,
        carrier=sms.carrier, inbound_key=key)


@dataclass(slots=True)
class _NewThread:
    """A text that starts a conversation, held in memory until its first write.

    When the number's flow runs in memory, the conversation, the text, the flow's replies and
    the ACD's offer go into the store as one write, so the carrier's acknowledgement waits
    for one commit instead of two. Any other way on, the text is written first, as always.
    """

    org_id: str
    to: str
    customer: str
    sms: InboundSms
    key: str
    now_ms: int
    conversation: Conversation
    message: Message
    stored: bool = False

    @classmethod
    def of(cls, org_id: str, to: str, customer: str, sms: InboundSms, key: str,
           now_ms: int) -> _NewThread:
        conv, message = cls._build(org_id, to, customer, sms, key, now_ms)
        return cls(org_id, to, customer, sms, key, now_ms, conv, message)

    @staticmethod
    def _build(org_id: str, to: str, customer: str, sms: InboundSms, key: str,
               now_ms: int) -> tuple[Conversation, Message]:
        conv = start_inbound(org_id=org_id, org_address=to, customer_address=customer,
                             now_ms=now_ms)
        return conv, _text_in(conv, sms, key, now_ms)

    def afresh(self) -> None:
        """A routing that failed before its write leaves the conversation half-decided:
        start again from the text alone (new ids; the old ones were never stored)."""
        self.conversation, self.message = self._build(self.org_id, self.to, self.customer,
                                                      self.sms, self.key, self.now_ms)


class InboundService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus,
                 messages: MessageStore, numbers: NumberDirectory, flows: FlowService,
                 runs: FlowRunner, acd: AcdService, conversations: ConversationService,
                 opt_outs: OptOutService, *,
                 threading_window_ms: int, poll_interval_s: float = 1.0) -> None:
        self._uow = uow
        self._clock = clock
        self._events = ConversationEvents(uow, bus)
        self._messages = messages
        self._numbers = numbers
        self._flows = flows
        self._runs = runs
        self._acd = acd
        self._conversations = conversations
        self._opt_outs = opt_outs
        self._window_ms = threading_window_ms
        self._poll_s = poll_interval_s
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
        self._timer: asyncio.Task[None] | None = None
        self.received = 0

    async def start(self) -> None:
        self._timer = asyncio.create_task(self._timeouts_forever(), name="flow-timeouts")

    async def stop(self) -> None:
        await stop_task(self._timer)
        self._timer = None

    # -- the entry point for every carrier ---------------------------------------------------

    async def receive(self, sms: InboundSms) -> Received:
        to = parse_e164(sms.to_address, "to")
        customer = parse_e164(sms.from_address, "from")
        if len(sms.text) > MAX_INBOUND_CHARACTERS:
            raise InvalidInput(f"text has {len(sms.text)} characters; at most "
                               f"{MAX_INBOUND_CHARACTERS} are accepted")
        owner = await self._numbers.owner(to)
        if owner is None:
            raise NotFound(f"{to} is not a registered SMS number")
        if owner.carrier != sms.carrier:
            # A connection may only bring texts for its own numbers: another organisation's
            # link must not be able to inject texts here.
            raise NotFound(f"{to} is not served by carrier connection {sms.carrier}")
        key = f"{sms.carrier}:{sms.carrier_message_id}"
        async with self._locks.get((to, customer)):
            stored, new = await self._store(sms, owner.org_id, to, customer, key)
            if stored.duplicate:
                return stored
            if new is not None and await self._opt_outs.is_keyword(owner.org_id, sms.text) \
                    and (dup := await self._write_new(new)) is not None:
                return dup
            self.received += 1
            keyword = await self._opt_outs.handle_inbound(owner.org_id, to, customer, sms.text)
            if keyword is not None:
                await self._answer_keyword(owner.org_id, stored.conversation_id, keyword.reply)
                return stored
            try:
                if new is not None:
                    await self._start_routing(owner, new.conversation, sms.text, new)
                else:
                    await self._route(owner, stored.conversation_id, sms.text)
            except AlreadyStored:
                if new is None or new.stored:
                    raise
                # Another node stored the same carrier message while this one routed it.
                return await self._stored_before(owner.org_id, to, customer, key)
            except Exception:
                # The text is accepted; a failed flow or queue must not lose it: put the
                # conversation in front of people through the number's default queue.
                log.exception("routing inbound text %s failed; using the default queue",
                              stored.message_id)
                if new is not None and not new.stored:
                    new.afresh()
                    if (dup := await self._write_new(new)) is not None:
                        return dup
                    stored = Received(new.message.id, new.conversation.id)
                await self._runs.to_default_queue(owner.org_id, stored.conversation_id, owner)
            return stored

    async def _answer_keyword(self, org_id: str, conversation_id: str, reply: str) -> None:
        """STOP, START and HELP are the platform's to answer: no flow, no new ACD work. An
        agent already on the conversation still sees the text arrive."""
        try:
            await self._conversations.send_automatic(org_id, conversation_id, reply,
                                                     keyword_reply=True)
        except DomainError as e:
            log.warning("opt-out reply on %s not sent: %s", conversation_id, e.message)
        await self._events.publish(org_id, conversation_id)

    async def _store(self, sms: InboundSms, org_id: str, to: str, customer: str,
                     key: str) -> tuple[Received, _NewThread | None]:
        """Store the text in the conversation it continues; or, when it starts one, hold
        the new conversation for the caller to store with what its routing decides."""
        now = self._clock.now_ms()
        context = await self._messages.inbound_context(org_id, to, customer, key)
        if context.duplicate_of is not None:
            return Received(*context.duplicate_of, duplicate=True), None
        head = context.latest
        conv: Conversation | None = None
        if head is not None and (head.active or (head.end_ms or 0) >= now - self._window_ms):
            async with self._uow(read_only=True) as uow:
                conv = await uow.conversations.get(org_id, head.conversation_id)
        if conv is None:
            new = _NewThread.of(org_id, to, customer, sms, key, now)
            return Received(new.message.id, new.conversation.id), new
        message = _text_in(conv, sms, key, now)
        try:
            if not conv.is_active:
                conv.reopen(now)
                await self._messages.save_conversations([conv], messages=[message])
            else:
                await self._messages.append(conversation=None, participants=[],
                                            messages=[message], outbox=[])
        except AlreadyStored:
            return await self._stored_before(org_id, to, customer, key), None
        return Received(message.id, conv.id), None

    async def _write_new(self, new: _NewThread) -> Received | None:
        """Store a held new conversation and its text as they are; the earlier copy of the
        same carrier message if another node stored it first."""
        try:
            await self._messages.append(conversation=new.conversation, participants=[],
                                        messages=[new.message], outbox=[])
        except AlreadyStored:
            return await self._stored_before(new.org_id, new.to, new.customer, new.key)
        new.stored = True
        return None

    async def _stored_before(self, org_id: str, to: str, customer: str,
                             key: str) -> Received:
        again = await self._messages.inbound_context(org_id, to, customer, key)
        if again.duplicate_of is None:
            raise AlreadyStored(f"inbound text {key} clashed with a stored row, yet is not "
                                "stored")
        return Received(*again.duplicate_of, duplicate=True)

    # -- after storing: agent, flow or a new route ------------------------------------------

    async def _route(self, owner: NumberOwner, conversation_id: str, text: str) -> None:
        org_id = owner.org_id
        async with self._uow(read_only=True) as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
            run = await uow.flows.run(conversation_id)
        if run is not None:
            flow_id, version, state = run
            stored = FlowRun.from_dict(state)
            if stored.status is RunStatus.WAITING_FOR_INPUT:
                await self._runs.resume(org_id, conv.id, owner, flow_id, version, stored,
                                        Reply(text))
                return
        if self._acd.is_routing(org_id, conv.id) or \
                any(p.is_active for p in conv.agents()):
            await self._events.publish(org_id, conversation_id)
            return
        await self._start_routing(owner, conv, text)

    @staticmethod
    async def _conversation(uow: UnitOfWork, org_id: str, conversation_id: str) -> Conversation:
        conv = await uow.conversations.get(org_id, conversation_id)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conv

    async def _start_routing(self, owner: NumberOwner, conv: Conversation, text: str,
                             new: _NewThread | None = None) -> None:
        """A conversation that is not routed yet: run its number's flow, or queue it.

        `new` is the held conversation this text starts, not stored yet: a flow that runs in
        memory stores it with all it decides; otherwise it is stored first, and read and
        written through units of work as usual.
        """
        published = await self._flows.published_for(owner.org_id, owner.number_id)
        if published is None:
            if new is not None and (dup := await self._write_new(new)) is not None:
                raise AlreadyStored(f"inbound text {new.key} was stored as {dup.message_id}")
            await self._runs.to_default_queue(owner.org_id, conv.id, owner)
            return
        await self._runs.start(owner, published, conv, text, new)

    # -- askQuestion timeouts ---------------------------------------------------------------

    async def _timeouts_forever(self) -> None:
        while True:
            try:
                await self.resume_due()
            except Exception:
                log.exception("resuming timed-out flow runs failed; will try again")
            await asyncio.sleep(self._poll_s)

    async def resume_due(self) -> int:
        async with self._uow(read_only=True) as uow:
            due = await uow.flows.due_runs(self._clock.now_ms())
        for org_id, conversation_id in due:
            async with self._uow(read_only=True) as uow:
                conv = await uow.conversations.get(org_id, conversation_id)
            if conv is None:
                continue
            async with self._locks.get((conv.org_address, conv.customer_address)):
                # Read under the lock: an answer (or another poller) may have resumed it.
                async with self._uow(read_only=True) as uow:
                    run = await uow.flows.run(conversation_id)
                if run is None:
                    continue
                flow_id, version, state = run
                stored = FlowRun.from_dict(state)
                if stored.status is RunStatus.WAITING_FOR_INPUT:
                    # No text brought the number's owner here: look it up, once.
                    owner = await self._numbers.owner(conv.org_address)
                    await self._runs.resume(org_id, conversation_id, owner, flow_id, version,
                                            stored, NoReply())
        return len(due)
