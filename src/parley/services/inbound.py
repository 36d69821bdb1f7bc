"""Inbound texts: stored first, threaded into a conversation, then a flow and the ACD.

Every carrier hands its mobile-originated texts to `InboundService.receive`. The text is
stored (once per carrier message id, so a carrier's retry is not a second message) before
anything else happens; only then does the conversation move on:

- a reply to a conversation an agent is on reaches that agent;
- an answer to a flow's askQuestion resumes that flow;
- a new conversation (or one revived within the threading window) runs the number's
  published inbound message flow, which ends in a transfer to a queue (or a disconnect);
  a number with no route goes to the queue that uses it as its Outbound SMS Number.

Texts from one customer to one number are handled one at a time, in order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from parley.concurrency import KeyedLocks, stop_task
from parley.domain.conversations import Conversation, Purpose, start_inbound
from parley.domain.errors import DomainError, InvalidInput, NotFound
from parley.domain.flows import (
    CallData,
    Disconnect,
    FlowContext,
    FlowDefinition,
    FlowError,
    FlowRun,
    NoReply,
    Reply,
    ResumeInput,
    RunStatus,
    SendResponse,
    SetParticipantData,
    Step,
    TransferToAcd,
    WaitForInput,
    resume,
    start,
)
from parley.domain.ids import new_id
from parley.domain.messages import Message, inbound_message
from parley.domain.phone import parse_e164
from parley.domain.sms_text import analyse
from parley.services.acd import AcdService, Routing
from parley.services.conversations import ConversationService
from parley.services.events import conversation_event, conversation_topics
from parley.services.flows import FlowService
from parley.services.numbers import NumberDirectory
from parley.services.opt_out import OptOutService
from parley.services.ports import (
    AlreadyStored,
    Clock,
    DataActions,
    EventBus,
    InboundSms,
    MessageStore,
    UnitOfWork,
    UnitOfWorkFactory,
)
from parley.services.views import ConversationView, build_view

log = logging.getLogger(__name__)

_IN_MEMORY = (SendResponse, SetParticipantData, TransferToAcd, Disconnect, FlowError)
"""What a flow run may do and still be carried out in memory, with one write."""

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
                 acd: AcdService,
                 conversations: ConversationService, data: DataActions,
                 opt_outs: OptOutService, *,
                 threading_window_ms: int, poll_interval_s: float = 1.0) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._messages = messages
        self._numbers = numbers
        self._flows = flows
        self._acd = acd
        self._conversations = conversations
        self._data = data
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
                    await self._start_routing(owner.org_id, owner.number_id, new.conversation,
                                              sms.text, new)
                else:
                    await self._route(owner.org_id, stored.conversation_id, sms.text)
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
                await self._to_default_queue(owner.org_id, stored.conversation_id)
            return stored

    async def _answer_keyword(self, org_id: str, conversation_id: str, reply: str) -> None:
        """STOP, START and HELP are the platform's to answer: no flow, no new ACD work. An
        agent already on the conversation still sees the text arrive."""
        try:
            await self._conversations.send_automatic(org_id, conversation_id, reply,
                                                     keyword_reply=True)
        except DomainError as e:
            log.warning("opt-out reply on %s not sent: %s", conversation_id, e.message)
        await self._publish(org_id, conversation_id)

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

    async def _route(self, org_id: str, conversation_id: str, text: str) -> None:
        async with self._uow(read_only=True) as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
            run = await uow.flows.run(conversation_id)
        if run is not None:
            flow_id, version, state = run
            stored = FlowRun.from_dict(state)
            if stored.status is RunStatus.WAITING_FOR_INPUT:
                await self._resume(org_id, conv.id, flow_id, version, stored, Reply(text))
                return
        if self._acd.is_routing(org_id, conv.id) or \
                any(p.is_active for p in conv.agents()):
            await self._publish(org_id, conversation_id)
            return
        owner = await self._numbers.owner(conv.org_address)
        await self._start_routing(org_id, None if owner is None else owner.number_id, conv,
                                  text)

    @staticmethod
    async def _conversation(uow: UnitOfWork, org_id: str, conversation_id: str) -> Conversation:
        conv = await uow.conversations.get(org_id, conversation_id)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conv

    async def _start_routing(self, org_id: str, number_id: str | None, conv: Conversation,
                             text: str, new: _NewThread | None = None) -> None:
        """A conversation that is not routed yet: run its number's flow, or queue it.

        `new` is the held conversation this text starts, not stored yet: a flow that runs in
        memory stores it with all it decides; otherwise it is stored first, and read and
        written through units of work as usual.
        """
        published = None if number_id is None else \
            await self._flows.published_for(org_id, number_id)
        if published is None:
            if new is not None and (dup := await self._write_new(new)) is not None:
                raise AlreadyStored(f"inbound text {new.key} was stored as {dup.message_id}")
            await self._to_default_queue(org_id, conv.id)
            return
        now = self._clock.now_ms()
        conv.enter_flow(published.name, now)
        customer = conv.customer()
        opted_out = await self._opt_outs.opted_out(org_id, conv.org_address,
                                                   conv.customer_address)
        step = start(published.definition, FlowContext(
            message_text=text, customer_address=conv.customer_address,
            now=datetime.fromtimestamp(now / 1000, tz=UTC),
            participant_data={**customer.attributes, "optedOut": str(opted_out).lower()}))
        if new is not None and step.run.ended and \
                all(isinstance(e, _IN_MEMORY) for e in step.events):
            await self._carry_out_held(org_id, new, published.definition, step)
            return
        await self._messages.save_conversations(
            [conv], messages=[] if new is None else [new.message])
        if new is not None:
            new.stored = True
        await self._carry_out(org_id, conv.id, published.flow_id, published.version,
                              published.definition, step)

    async def _carry_out_held(self, org_id: str, new: _NewThread,
                              definition: FlowDefinition, step: Step) -> None:
        """A flow run that needs no waiting and no data: the new conversation, its text and
        everything the flow does to it - replies, participant data, the queue and the ACD's
        offer - are decided in memory and stored in one write, then published."""
        conv, message = new.conversation, new.message
        replies: list[Message] = []
        outbox = []
        routing: Routing | None = None
        stored = False
        try:
            for event in step.events:
                if isinstance(event, SendResponse):
                    try:
                        reply, entry = await self._conversations.automatic_reply(
                            conv, event.text)
                    except DomainError as e:
                        log.warning("flow reply on %s not sent: %s", conv.id, e.message)
                        continue
                    replies.append(reply)
                    outbox.append(entry)
                elif isinstance(event, SetParticipantData):
                    conv.customer().attributes[event.key] = event.value
                elif isinstance(event, TransferToAcd):
                    routing = await self._route_held(org_id, conv, event,
                                                     fallback=definition.fallback_queue)
                elif isinstance(event, Disconnect):
                    conv.end(self._clock.now_ms(), disconnect_type="endpoint")
                elif isinstance(event, FlowError):
                    log.warning("flow '%s' failed on conversation %s at %s: %s",
                                definition.name, conv.id, event.action, event.reason)
            conv.leave_flow(self._clock.now_ms())
            await self._messages.save_conversations(
                [conv], messages=[message, *replies], outbox=outbox,
                acd=[routing.record] if routing is not None and routing.record else [])
            stored = new.stored = True
        finally:
            if routing is not None:
                await self._acd.settled(org_id, routing, stored=stored)
        self._conversations.hand_over(replies)
        view = ConversationView(
            conversation=conv, messages=[message, *replies],
            user_names={p.user_id: p.name for p in conv.agents() if p.user_id and p.name},
            queue_names={p.queue_id: p.name for p in conv.participants
                         if p.purpose is Purpose.ACD and p.queue_id and p.name})
        body = conversation_event(view)
        for topic in conversation_topics(view):
            self._bus.publish(topic, body, org_id=org_id)

    async def _route_held(self, org_id: str, conv: Conversation, event: TransferToAcd, *,
                          fallback: str) -> Routing | None:
        queue = await self._acd.queue_named(org_id, event.queue) or \
            await self._acd.queue_named(org_id, fallback)
        if queue is None:
            owner = await self._numbers.owner(conv.org_address)
            queue = None if owner is None else \
                await self._acd.queue_for_number(org_id, owner.number_id)
        if queue is None:
            log.warning("flow transfer to unknown queue '%s' (fallback '%s') on %s and no "
                        "queue texts from %s; it waits unrouted", event.queue, fallback,
                        conv.id, conv.org_address)
            return None
        skill_ids, preferred = await self._transfer_targets(org_id, event)
        return await self._acd.route(org_id, conv, queue.id, priority=event.priority,
                                     skills=skill_ids, preferred_agent=preferred)

    async def _transfer_targets(self, org_id: str, event: TransferToAcd
                                ) -> tuple[list[str], str | None]:
        """The skills (by id) and preferred agent a transfer names, if it names any."""
        if not event.skills and not event.preferred_agent:
            return [], None
        async with self._uow(read_only=True) as uow:
            skill_ids = []
            for name in event.skills:
                skill = await uow.skills.by_name(org_id, name)
                if skill is not None:
                    skill_ids.append(skill.id)
            preferred = None
            if event.preferred_agent:
                agent = await uow.users.by_email(event.preferred_agent)
                preferred = agent.id if agent is not None and agent.org_id == org_id else None
        return skill_ids, preferred

    async def _resume(self, org_id: str, conversation_id: str, flow_id: str, version: int,
                      run: FlowRun, given: ResumeInput) -> None:
        async with self._uow(read_only=True) as uow:
            definition = await self._flows.definition(uow, org_id, flow_id, version)
        if definition is None:
            log.warning("flow %s v%d is gone; conversation %s goes to the default queue",
                        flow_id, version, conversation_id)
            await self._end_run(conversation_id)
            await self._to_default_queue(org_id, conversation_id)
            return
        now = datetime.fromtimestamp(self._clock.now_ms() / 1000, tz=UTC)
        step = resume(definition, run, given, now=now)
        await self._carry_out(org_id, conversation_id, flow_id, version, definition, step)

    async def _carry_out(self, org_id: str, conversation_id: str, flow_id: str, version: int,
                         definition: FlowDefinition, step: Step) -> None:
        """Do what the flow asked, in order; data actions resume it until it waits or ends."""
        while True:
            follow: Step | None = None
            for event in step.events:
                if isinstance(event, SendResponse):
                    await self._say(org_id, conversation_id, event.text)
                elif isinstance(event, SetParticipantData):
                    await self._set_data(org_id, conversation_id, event.key, event.value)
                elif isinstance(event, CallData):
                    result = await self._data.call(event)
                    now = datetime.fromtimestamp(self._clock.now_ms() / 1000, tz=UTC)
                    follow = resume(definition, step.run, result, now=now)
                elif isinstance(event, TransferToAcd):
                    await self._end_run(conversation_id)
                    await self._transfer(org_id, conversation_id, event,
                                         fallback=definition.fallback_queue)
                elif isinstance(event, Disconnect):
                    await self._end_run(conversation_id)
                    await self._disconnect(org_id, conversation_id)
                elif isinstance(event, FlowError):
                    log.warning("flow '%s' failed on conversation %s at %s: %s",
                                definition.name, conversation_id, event.action, event.reason)
                elif isinstance(event, WaitForInput):
                    await self._save_run(org_id, conversation_id, flow_id, version, step.run,
                                         self._clock.now_ms() + event.timeout_seconds * 1000)
            if follow is None:
                break
            step = follow
        if step.run.ended:
            await self._end_run(conversation_id)

    async def _say(self, org_id: str, conversation_id: str, text: str) -> None:
        try:
            await self._conversations.send_automatic(org_id, conversation_id, text)
        except DomainError as e:
            log.warning("flow reply on %s not sent: %s", conversation_id, e.message)

    async def _set_data(self, org_id: str, conversation_id: str, key: str, value: str) -> None:
        async with self._uow() as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
            conv.customer().attributes[key] = value
            await uow.conversations.save(conv)
            await uow.commit()

    async def _save_run(self, org_id: str, conversation_id: str, flow_id: str, version: int,
                        run: FlowRun, wait_until_ms: int | None) -> None:
        async with self._uow() as uow:
            await uow.flows.put_run(conversation_id, org_id, flow_id, version, run.to_dict(),
                                    wait_until_ms, self._clock.now_ms())
            await uow.commit()

    async def _end_run(self, conversation_id: str) -> None:
        async with self._uow() as uow:
            await uow.flows.end_run(conversation_id)
            await uow.commit()

    async def _transfer(self, org_id: str, conversation_id: str, event: TransferToAcd, *,
                        fallback: str) -> None:
        queue = await self._acd.queue_named(org_id, event.queue) or \
            await self._acd.queue_named(org_id, fallback)  # deleted since it was published
        if queue is None:
            log.warning("flow transfer to unknown queue '%s' (fallback '%s') on %s; default "
                        "queue instead", event.queue, fallback, conversation_id)
            await self._to_default_queue(org_id, conversation_id)
            return
        skill_ids, preferred = await self._transfer_targets(org_id, event)
        await self._acd.enqueue(org_id, conversation_id, queue.id, priority=event.priority,
                                skills=skill_ids, preferred_agent=preferred)

    async def _to_default_queue(self, org_id: str, conversation_id: str) -> None:
        """No flow (or a broken one): the queue whose Outbound SMS Number was texted."""
        async with self._uow(read_only=True) as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
        if self._acd.is_routing(org_id, conversation_id):
            return
        owner = await self._numbers.owner(conv.org_address)
        chosen = None if owner is None else \
            await self._acd.queue_for_number(org_id, owner.number_id)
        if chosen is None:
            log.warning("no flow and no queue for texts to %s; conversation %s waits "
                        "unrouted", conv.org_address, conversation_id)
            await self._publish(org_id, conversation_id)
            return
        await self._acd.enqueue(org_id, conversation_id, chosen.id)

    async def _disconnect(self, org_id: str, conversation_id: str) -> None:
        async with self._uow() as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
            conv.end(self._clock.now_ms(), disconnect_type="endpoint")
            await uow.conversations.save(conv)
            await uow.commit()
        await self._publish(org_id, conversation_id)

    async def _publish(self, org_id: str, conversation_id: str) -> None:
        async with self._uow(read_only=True) as uow:
            conv = await self._conversation(uow, org_id, conversation_id)
            view = await build_view(uow, org_id, conv)
        body = conversation_event(view)
        for topic in conversation_topics(view):
            self._bus.publish(topic, body, org_id=org_id)

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
                    await self._resume(org_id, conversation_id, flow_id, version, stored,
                                       NoReply())
        return len(due)
