"""Message conversations: start one on behalf of a queue, send on it, send agentless, end it."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging

from parley.concurrency import stop_task
from parley.domain.access import Permission, Principal, Role
from parley.domain.agents import WrapupCode
from parley.domain.conversations import (
    Conversation,
    Participant,
    Purpose,
    State,
    Wrapup,
    start_outbound,
)
from parley.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.messages import Message, outbound_message
from parley.domain.phone import parse_e164
from parley.domain.queues import Queue, WrapupPrompt
from parley.domain.sms_text import check_sendable
from parley.services.events import conversation_event, conversation_topics
from parley.services.numbers import NumberDirectory, NumberOwner
from parley.services.opt_out import OptOutService
from parley.services.ports import (
    Clock,
    EventBus,
    MessageStore,
    OutboxEntry,
    Router,
    UnitOfWork,
    UnitOfWorkFactory,
)
from parley.services.sending import OutboxSender
from parley.services.views import ConversationView, build_view

log = logging.getLogger(__name__)

SUPPORTED_MESSENGER_TYPES = ("sms",)
KNOWN_MESSENGER_TYPES = ("sms", "open", "whatsapp", "webmessaging", "apple")


def check_messenger_type(raw: object, field: str) -> None:
    if raw == "sms":
        return
    if raw in KNOWN_MESSENGER_TYPES:
        raise InvalidInput(f"{field} '{raw}' is not supported by Parley: only 'sms'",
                           field=field)
    raise InvalidInput(f"{field} must be 'sms' (got {raw!r})", field=field)


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, store: MessageStore,
                 numbers: NumberDirectory, sender: OutboxSender, router: Router,
                 bus: EventBus, opt_outs: OptOutService) -> None:
        self._opt_outs = opt_outs
        self._uow = uow
        self._clock = clock
        self._store = store
        self._numbers = numbers
        self._sender = sender
        self._router = router
        self._bus = bus
        self._acw: list[tuple[int, str, str, str]] = []
        """(deadline, org, conversation, participant) of after-call work that times out"""
        self._acw_wake = asyncio.Event()
        self._acw_task: asyncio.Task[None] | None = None

    # -- starting ------------------------------------------------------------------------

    async def start_outbound(self, principal: Principal, *, queue_id: object,
                             to_address: object, messenger_type: object,
                             use_existing: bool = False) -> Conversation:
        """POST /api/v2/conversations/messages: the caller becomes the agent, for the queue."""
        user_id = principal.require_user("starting a conversation on behalf of a queue")
        principal.require(Permission.HANDLE_CONVERSATIONS)
        check_messenger_type(messenger_type, "toAddressMessengerType")
        if not isinstance(queue_id, str) or not queue_id:
            raise InvalidInput("queueId is required", field="queueId")
        customer = parse_e164(to_address, "toAddress")
        now = self._clock.now_ms()
        async with self._uow() as uow:
            queue = await uow.queues.get(principal.org_id, queue_id)
            if queue is None:
                raise NotFound(f"queue {queue_id} not found", field="queueId")
            if queue.sms_number_id is None:
                raise InvalidInput(f"queue '{queue.name}' has no Outbound SMS Number; an admin "
                                   "sets outboundMessagingAddresses.smsAddress on the queue",
                                   field="queueId")
            number = await uow.numbers.get(principal.org_id, queue.sms_number_id)
            if number is None:
                raise InvalidInput(f"queue '{queue.name}' has no Outbound SMS Number",
                                   field="queueId")
            await self._opt_outs.check_can_send(principal.org_id, number.phone_number,
                                                customer)
            if principal.role is Role.AGENT and \
                    await uow.queues.member(queue.id, user_id) is None:
                raise Forbidden(f"you are not a member of queue '{queue.name}'; an admin can "
                                "add you to it")
            user = await uow.users.get(principal.org_id, user_id)
            agent_name = None if user is None else user.name
            existing = await uow.conversations.active_between(
                principal.org_id, number.phone_number, customer)
            if existing is not None:
                conv = await self._join_existing(uow, existing, use_existing, user_id,
                                                 agent_name, queue.id, now)
            else:
                conv = start_outbound(org_id=principal.org_id, org_address=number.phone_number,
                                      customer_address=customer, now_ms=now,
                                      agent_user_id=user_id, agent_name=agent_name,
                                      queue_id=queue.id)
                await uow.conversations.add(conv)
            await uow.commit()
        await self.publish(principal.org_id, conv.id)
        return conv

    @staticmethod
    async def _join_existing(uow: UnitOfWork, conv: Conversation, use_existing: bool,
                             user_id: str, agent_name: str | None, queue_id: str,
                             now: int) -> Conversation:
        if not use_existing:
            raise Conflict(f"conversation {conv.id} with {conv.customer_address} is already "
                           "active on this number; set useExistingConversation to true to "
                           "continue it")
        if conv.active_agent(user_id) is not None:
            return conv
        others = [p for p in conv.agents() if p.is_active]
        if others:
            raise Conflict(f"conversation {conv.id} with {conv.customer_address} is being "
                           "handled by another agent")
        conv.participants.append(Participant(
            id=new_id(), conversation_id=conv.id, purpose=Purpose.AGENT, state=State.CONNECTED,
            communication_id=new_id(), direction="outbound", start_ms=now, connected_ms=now,
            address=conv.org_address, from_address=conv.org_address,
            to_address=conv.customer_address, user_id=user_id, queue_id=queue_id,
            name=agent_name))
        await uow.conversations.save(conv)
        return conv

    # -- sending (the hot path) -----------------------------------------------------------

    async def send(self, principal: Principal, conversation_id: str, communication_id: str,
                   text: object) -> Message:
        user_id = principal.require_user("sending on a communication")
        info = check_sendable(text)
        assert isinstance(text, str)
        comm = await self._store.communication(conversation_id, communication_id)
        if comm is None or comm.org_id != principal.org_id:
            raise NotFound(f"communication {communication_id} not found on conversation "
                           f"{conversation_id}; read it from participants[].messages[].id of "
                           "GET /api/v2/conversations/{id}")
        owner = await self._sending_number(principal, comm.from_address, "the conversation")
        await self._opt_outs.check_can_send(principal.org_id, comm.from_address,
                                            comm.to_address)
        now = self._clock.now_ms()
        message = comm.compose(sender_user_id=user_id, text=text, info=info, now_ms=now,
                               carrier=owner.carrier)
        await self._accept(message, now)
        return message

    async def send_agentless(self, principal: Principal, *, from_address: object,
                             to_address: object, messenger_type: object, text: object,
                             use_existing_active: bool = False) -> Message:
        principal.require(Permission.SEND_AGENTLESS)
        check_messenger_type(messenger_type, "toAddressMessengerType")
        sender = parse_e164(from_address, "fromAddress")
        customer = parse_e164(to_address, "toAddress")
        info = check_sendable(text)
        assert isinstance(text, str)
        owner = await self._sending_number(principal, sender, "fromAddress")
        await self._opt_outs.check_can_send(principal.org_id, sender, customer)
        now = self._clock.now_ms()
        new_conv: Conversation | None = None
        new_parties: list[Participant] = []
        conv = None
        if use_existing_active:
            async with self._uow(read_only=True) as uow:
                conv = await uow.conversations.active_between(principal.org_id, sender, customer)
        if conv is None:
            new_conv = conv = start_outbound(
                org_id=principal.org_id, org_address=sender, customer_address=customer,
                now_ms=now, client_id=principal.client_id)
            conv.end(now, disconnect_type="client")  # nobody waits for a reply on it
            api = conv.participants[-1]
        else:
            found = [p for p in conv.participants
                     if p.purpose is Purpose.API and p.client_id == principal.client_id]
            if found:
                api = found[0]
            else:
                api = Participant(
                    id=new_id(), conversation_id=conv.id, purpose=Purpose.API,
                    state=State.DISCONNECTED, communication_id=new_id(), direction="outbound",
                    start_ms=now, end_ms=now, address=sender, from_address=sender,
                    to_address=customer, client_id=principal.client_id)
                new_parties.append(api)
        message = outbound_message(
            id=new_id(), org_id=principal.org_id, conversation_id=conv.id,
            participant_id=api.id, from_address=sender, to_address=customer, text=text,
            info=info, now_ms=now, carrier=owner.carrier, user_id=principal.user_id)
        await self._accept(message, now, conversation=new_conv, participants=new_parties)
        return message

    async def _sending_number(self, principal: Principal, phone: str,
                              what: str) -> NumberOwner:
        owner = await self._numbers.owner(phone)
        if owner is None or owner.org_id != principal.org_id:
            if what == "fromAddress":
                raise InvalidInput(f"fromAddress {phone} is not an SMS number of this "
                                   "organisation; register it with POST "
                                   "/api/v2/routing/sms/phonenumbers", field="fromAddress")
            raise Conflict(f"{phone}, the number of {what}, is no longer registered")
        return owner

    async def _accept(self, message: Message, now: int, *,
                      conversation: Conversation | None = None,
                      participants: list[Participant] | None = None) -> None:
        """Durably record the message and its outbox row, then hand it to the sender."""
        entry = self._outbox_entry(message, now)
        await self._store.append(conversation=conversation, participants=participants or [],
                                 messages=[message], outbox=[entry])
        self._sender.enqueue(message)

    def _outbox_entry(self, message: Message, now: int) -> OutboxEntry:
        """Leased to this node from the start: it sends the text from memory at once."""
        return OutboxEntry(message_id=message.id, org_id=message.org_id, next_attempt_ms=now,
                           lease_until_ms=now + self._sender.lease_ms, created_ms=now)

    # -- reading ---------------------------------------------------------------------------

    async def view(self, principal: Principal, conversation_id: str) -> ConversationView:
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(principal.org_id, conversation_id)
            if conv is None:
                raise NotFound(f"conversation {conversation_id} not found")
            self._check_visible(principal, conv)
            return await build_view(uow, principal.org_id, conv)

    async def active(self, principal: Principal) -> list[ConversationView]:
        async with self._uow(read_only=True) as uow:
            if principal.user_id is not None:
                convs = await uow.conversations.active_for_user(principal.org_id,
                                                                principal.user_id)
            else:
                principal.require(Permission.VIEW_ALL_CONVERSATIONS)
                convs = await uow.conversations.active_in_org(principal.org_id)
            return [await build_view(uow, principal.org_id, c) for c in convs]

    async def message(self, principal: Principal, conversation_id: str,
                      message_id: str) -> Message:
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(principal.org_id, conversation_id)
            if conv is None:
                raise NotFound(f"conversation {conversation_id} not found")
            self._check_visible(principal, conv)
            message = await uow.messages.get(principal.org_id, conversation_id, message_id)
        if message is None:
            raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
        return message

    @staticmethod
    def _check_visible(principal: Principal, conv: Conversation) -> None:
        if principal.can(Permission.VIEW_ALL_CONVERSATIONS):
            return
        if principal.user_id is None or not conv.involves_user(principal.user_id):
            raise Forbidden(f"you are not a participant of conversation {conv.id}")

    # -- participant changes -------------------------------------------------------------

    async def update_participant(self, principal: Principal, conversation_id: str,
                                 participant_id: str, *, state: object,
                                 wrapup: Wrapup | None) -> None:
        """PATCH a participant: accept an offer (`connected`), decline it or leave
        (`disconnected`), and give the wrap-up - with the disconnect or afterwards."""
        if state not in (None, "connected", "disconnected"):
            raise InvalidInput(f"state '{state}' cannot be set here: use 'connected' to accept "
                               "or 'disconnected' to leave", field="state")
        org = principal.org_id
        async with self._uow(read_only=True) as uow:
            conv = await self._visible(uow, principal, conversation_id)
            p = conv.participant(participant_id)
            if p.user_id != principal.user_id:
                principal.require(Permission.MANAGE_AGENTS)
            queue = await uow.queues.get(org, p.queue_id) if p.queue_id else None
            if wrapup is not None:
                wrapup = await self._checked_wrapup(uow, org, queue, wrapup)
        if p.state is State.ALERTING and p.user_id is not None and state is not None:
            if state == "connected":
                await self._router.accept(org, conversation_id, p.user_id)
            else:
                await self._router.decline(org, conversation_id, p.user_id)
            return
        if state == "connected":
            if not p.is_active:
                raise Conflict(f"participant {participant_id} is disconnected")
            return
        if state is None and wrapup is None:
            raise InvalidInput("nothing to change: give state or wrapup", field="state")
        finished = await self._leave(principal, conversation_id, participant_id,
                                     leave=state == "disconnected", wrapup=wrapup,
                                     prompt=None if queue is None else queue.wrapup_prompt)
        if finished:
            await self._release(org, conversation_id, p.queue_id)
        elif queue is not None and queue.wrapup_prompt in TIMED_PROMPTS:
            self._acw_later(org, conversation_id, participant_id,
                            self._clock.now_ms() + acw_timeout_ms(queue))
        await self.publish(org, conversation_id)

    async def _release(self, org_id: str, conversation_id: str, queue_id: str | None) -> None:
        """The agent is done with it: free their capacity (and serve a text that came in
        during after-call work)."""
        if self._router.is_routing(org_id, conversation_id):
            await self._router.finish(org_id, conversation_id)
            await self._requeue_unattended(org_id, conversation_id, queue_id)

    # -- after-call work that times out -------------------------------------------------------

    def _acw_later(self, org_id: str, conversation_id: str, participant_id: str,
                   deadline_ms: int) -> None:
        heapq.heappush(self._acw, (deadline_ms, org_id, conversation_id, participant_id))
        self._acw_wake.set()

    async def start(self) -> None:
        """Re-arm after-call-work timeouts that were running when the server stopped."""
        async with self._uow(read_only=True) as uow:
            pending = await uow.conversations.in_after_call_work()
            for org_id, conversation_id, participant_id, queue_id, end_ms in pending:
                queue = await uow.queues.get(org_id, queue_id) if queue_id else None
                if queue is not None and queue.wrapup_prompt in TIMED_PROMPTS:
                    self._acw_later(org_id, conversation_id, participant_id,
                                    end_ms + acw_timeout_ms(queue))
        self._acw_task = asyncio.create_task(self._acw_forever(), name="acw-timeouts")

    async def stop(self) -> None:
        await stop_task(self._acw_task)
        self._acw_task = None

    async def _acw_forever(self) -> None:
        while True:
            self._acw_wake.clear()
            wait_s = 60.0
            if self._acw:
                wait_s = max(0.0, (self._acw[0][0] - self._clock.now_ms()) / 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._acw_wake.wait(), timeout=min(wait_s, 60.0))
            try:
                await self.end_due_after_call_work()
            except Exception:
                log.exception("ending timed-out after-call work failed; will try again")

    async def end_due_after_call_work(self) -> int:
        """Wrap up, as Genesys does (ININ-WRAP-UP-TIMEOUT), whoever's time ran out."""
        ended = 0
        while self._acw and self._acw[0][0] <= self._clock.now_ms():
            _, org_id, conversation_id, participant_id = heapq.heappop(self._acw)
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
            await self._release(org_id, conversation_id, p.queue_id)
            await self.publish(org_id, conversation_id)
            ended += 1
        return ended

    async def _requeue_unattended(self, org_id: str, conversation_id: str,
                                  queue_id: str | None) -> None:
        """The customer texted again while the agent was in after-call work: the text
        reopened the conversation but found nobody, so it waits in the queue again."""
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(org_id, conversation_id)
        if queue_id is not None and conv is not None and conv.is_active and not any(
                q.is_active for q in conv.participants if q.purpose is not Purpose.CUSTOMER):
            await self._router.transfer(org_id, conversation_id, queue_id)

    async def _leave(self, principal: Principal, conversation_id: str, participant_id: str, *,
                     leave: bool, wrapup: Wrapup | None, prompt: WrapupPrompt | None) -> bool:
        """Disconnect and/or wrap up; True once the agent is done (capacity may be freed).

        With a mandatory wrap-up prompt, an agent who leaves without a code is in after-call
        work (`wrapupRequired`): the conversation still counts against their capacity until
        they send the wrap-up.
        """
        now = self._clock.now_ms()
        async with self._uow() as uow:
            conv = await self._visible(uow, principal, conversation_id)
            p = conv.participant(participant_id)
            if leave:
                conv.disconnect(participant_id, now, wrapup=wrapup)
                p.wrapup_required = (wrapup is None and p.purpose is Purpose.AGENT
                                     and prompt in MANDATORY_PROMPTS)
            else:
                if p.is_active and p.state is not State.DISCONNECTED and wrapup is not None \
                        and p.purpose is not Purpose.AGENT:
                    raise InvalidInput("only an agent participant takes a wrap-up")
                assert wrapup is not None
                wrapup.end_ms = wrapup.end_ms or now
                p.wrapup = wrapup
                p.wrapup_required = False
            await uow.conversations.save(conv)
            await uow.commit()
        return not p.wrapup_required and not p.is_active

    @staticmethod
    async def _checked_wrapup(uow: UnitOfWork, org_id: str, queue: Queue | None,
                              wrapup: Wrapup) -> Wrapup:
        if wrapup.code is None:
            raise InvalidInput("wrapup.code is required (a wrap-up code id)", field="wrapup.code")
        code = await uow.wrapup_codes.get(org_id, wrapup.code)
        if code is None:
            raise InvalidInput(f"wrap-up code {wrapup.code} not found", field="wrapup.code")
        if queue is not None:
            allowed = await uow.wrapup_codes.of_queue(queue.id)
            if allowed and code.id not in {c.id for c in allowed}:
                raise InvalidInput(f"wrap-up code '{code.name}' is not offered by queue "
                                   f"'{queue.name}'", field="wrapup.code")
        wrapup.name = code.name
        return wrapup

    async def wrapup_codes(self, principal: Principal, conversation_id: str,
                           participant_id: str) -> list[WrapupCode]:
        """The codes this participant may use: its queue's, else the organisation's."""
        async with self._uow(read_only=True) as uow:
            conv = await self._visible(uow, principal, conversation_id)
            p = conv.participant(participant_id)
            if p.queue_id is not None:
                codes = await uow.wrapup_codes.of_queue(p.queue_id)
                if codes:
                    return codes
            codes, _ = await uow.wrapup_codes.page(principal.org_id, page=1, size=500)
            return codes

    async def _visible(self, uow: UnitOfWork, principal: Principal,
                       conversation_id: str) -> Conversation:
        conv = await uow.conversations.get(principal.org_id, conversation_id)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self._check_visible(principal, conv)
        return conv

    async def transfer(self, principal: Principal, conversation_id: str, participant_id: str,
                       *, queue_id: object, user_id: object = None) -> None:
        """Blind transfer to another queue: the agent leaves, the conversation waits there."""
        if user_id is not None and queue_id is None:
            raise InvalidInput("transfer to a user is not supported yet; give queueId",
                               field="userId")
        if not isinstance(queue_id, str) or not queue_id:
            raise InvalidInput("queueId is required", field="queueId")
        async with self._uow(read_only=True) as uow:
            conv = await self._visible(uow, principal, conversation_id)
            p = conv.participant(participant_id)
            if p.user_id != principal.user_id:
                principal.require(Permission.MANAGE_AGENTS)
            if not conv.is_active:
                raise Conflict(f"conversation {conversation_id} is disconnected")
            if await uow.queues.get(principal.org_id, queue_id) is None:
                raise NotFound(f"queue {queue_id} not found", field="queueId")
        await self._router.transfer(principal.org_id, conversation_id, queue_id)

    async def publish(self, org_id: str, conversation_id: str) -> None:
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(org_id, conversation_id)
            if conv is None:
                return
            view = await build_view(uow, org_id, conv)
        body = conversation_event(view)
        for topic in conversation_topics(view):
            self._bus.publish(topic, body, org_id=org_id)

    async def send_automatic(self, org_id: str, conversation_id: str, text: str, *,
                             keyword_reply: bool = False) -> Message:
        """A flow's reply (sent by its workflow participant), or the answer to a STOP, START
        or HELP keyword (sent on the customer's communication, and sent even to a customer
        who just opted out: the confirmation is owed)."""
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(org_id, conversation_id)
        if conv is None:
            raise NotFound(f"conversation {conversation_id} not found")
        message, entry = await self.automatic_reply(conv, text, keyword_reply=keyword_reply)
        await self._store.append(conversation=None, participants=[], messages=[message],
                                 outbox=[entry])
        self._sender.enqueue(message)
        return message

    async def automatic_reply(self, conv: Conversation, text: str, *,
                              keyword_reply: bool = False) -> tuple[Message, OutboxEntry]:
        """The reply and its outbox row, for a caller that stores them with its own writes
        (and then hands the message to `hand_over`)."""
        info = check_sendable(text, "sendResponse.text")
        if keyword_reply:
            sender: Participant | None = conv.customer()
        else:
            sender = next((p for p in reversed(conv.participants)
                           if p.purpose is Purpose.WORKFLOW and p.is_active), None)
            await self._opt_outs.check_can_send(conv.org_id, conv.org_address,
                                                conv.customer_address)
        if sender is None:
            raise Conflict(f"conversation {conv.id} has no flow to speak for it")
        owner = await self._numbers.owner(conv.org_address)
        if owner is None or owner.org_id != conv.org_id:
            raise Conflict(f"{conv.org_address} is no longer registered")
        now = self._clock.now_ms()
        message = outbound_message(
            id=new_id(), org_id=conv.org_id, conversation_id=conv.id, participant_id=sender.id,
            from_address=conv.org_address, to_address=conv.customer_address, text=text,
            info=info, now_ms=now, carrier=owner.carrier, user_id=None)
        return message, self._outbox_entry(message, now)

    def hand_over(self, messages: list[Message]) -> None:
        """Messages stored by the caller (with their outbox rows) go to the carrier."""
        for m in messages:
            self._sender.enqueue(m)


ACW_TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"
DEFAULT_ACW_TIMEOUT_MS = 30_000
TIMED_PROMPTS = frozenset({WrapupPrompt.MANDATORY_TIMEOUT,
                           WrapupPrompt.MANDATORY_FORCED_TIMEOUT})


def acw_timeout_ms(queue: Queue) -> int:
    """How long after-call work may last on a queue with a timed wrap-up prompt."""
    return queue.wrapup_timeout_ms or DEFAULT_ACW_TIMEOUT_MS


MANDATORY_PROMPTS = frozenset({WrapupPrompt.MANDATORY, WrapupPrompt.MANDATORY_TIMEOUT,
                               WrapupPrompt.MANDATORY_FORCED_TIMEOUT})
