"""Running a conversation's inbound message flow: the first step, and each resumption.

Arrival (services/inbound.py) decides that a text starts a flow or answers one; this runs the
interpreter on it and carries out what the step hands back (services/flow_events.py) with
the write set that fits: in memory and one write for a conversation the text just started
whose run neither waits nor calls out, else through units of work
(services/flow_writes.py). A number with no flow, or a flow that is gone, sends the
conversation to the queue that texts from the number.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from parley.domain.conversations import Conversation
from parley.domain.flows import (
    FlowContext,
    FlowDefinition,
    FlowRun,
    ResumeInput,
    Step,
    resume,
    start,
)
from parley.services.acd import AcdService
from parley.services.conversations import ConversationService
from parley.services.events import ConversationEvents
from parley.services.flow_events import FlowRuntime, Scene, can_hold, carry_out
from parley.services.flow_writes import (
    HeldText,
    HeldWrites,
    StoredWrites,
    end_run,
    to_default_queue,
)
from parley.services.flows import FlowService, PublishedFlow
from parley.services.numbers import NumberOwner
from parley.services.opt_out import OptOutService
from parley.services.ports import Clock, DataActions, EventBus, MessageStore, UnitOfWorkFactory

log = logging.getLogger(__name__)


class FlowRunner:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus,
                 store: MessageStore, flows: FlowService, acd: AcdService,
                 conversations: ConversationService, data: DataActions,
                 opt_outs: OptOutService) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._store = store
        self._flows = flows
        self._acd = acd
        self._conversations = conversations
        self._opt_outs = opt_outs
        self._events = ConversationEvents(uow, bus)
        self._rt = FlowRuntime(uow, clock, acd, data)

    async def start(self, owner: NumberOwner, published: PublishedFlow, conv: Conversation,
                    text: str, held: HeldText | None = None) -> None:
        """Run the number's flow on a conversation nobody routes yet.

        `held` is the conversation this text starts, not stored yet: a run that neither waits
        nor calls out is stored with it in one write; any other run stores it first.
        """
        org_id, now = owner.org_id, self._clock.now_ms()
        conv.enter_flow(published.name, now)
        opted_out = await self._opt_outs.opted_out(org_id, conv.org_address,
                                                   conv.customer_address)
        step = start(published.definition, FlowContext(
            message_text=text, customer_address=conv.customer_address,
            now=datetime.fromtimestamp(now / 1000, tz=UTC),
            participant_data={**conv.customer().attributes,
                              "optedOut": str(opted_out).lower()}))
        if held is not None and can_hold(step):
            async with HeldWrites(self._clock, self._bus, self._store, self._acd,
                                  self._conversations, owner, held) as writes:
                await carry_out(self._rt, Scene(org_id, conv.id, published.definition, step,
                                                writes))
            return
        await self._store.save_conversations(
            [conv], messages=[] if held is None else [held.message])
        if held is not None:
            held.stored = True
        await self._carry_out(org_id, conv.id, owner, published.flow_id, published.version,
                              published.definition, step)

    async def resume(self, org_id: str, conversation_id: str, owner: NumberOwner | None,
                     flow_id: str, version: int, run: FlowRun, given: ResumeInput) -> None:
        """What a waiting run waited for came: the customer's answer, or its timeout."""
        async with self._uow(read_only=True) as uow:
            definition = await self._flows.definition(uow, org_id, flow_id, version)
        if definition is None:
            log.warning("flow %s v%d is gone; conversation %s goes to the default queue",
                        flow_id, version, conversation_id)
            await end_run(self._uow, conversation_id)
            await self.to_default_queue(org_id, conversation_id, owner)
            return
        step = resume(definition, run, given, now=self._rt.now())
        await self._carry_out(org_id, conversation_id, owner, flow_id, version, definition,
                              step)

    async def to_default_queue(self, org_id: str, conversation_id: str,
                               owner: NumberOwner | None) -> None:
        """No flow (or a broken one): the queue whose Outbound SMS Number was texted."""
        await to_default_queue(self._uow, self._acd, self._events, org_id, conversation_id,
                               owner)

    async def _carry_out(self, org_id: str, conversation_id: str, owner: NumberOwner | None,
                         flow_id: str, version: int, definition: FlowDefinition,
                         step: Step) -> None:
        writes = StoredWrites(self._uow, self._clock, self._events, self._acd,
                              self._conversations, org_id, conversation_id, owner, flow_id,
                              version)
        await carry_out(self._rt, Scene(org_id, conversation_id, definition, step, writes))
