"""Carrying out a flow's events: one handler per event type, in one table.

The interpreter (domain/flows) only decides; it hands back events (domain/flows/events.py).
Parley applies them as mailroom applies goflow's: `HANDLERS` maps each event type to the one
handler that says what the event does to the conversation, and the handler hands its writes
to the `FlowWrites` of the run. Whether those writes go to the store one by one, as they
happen, or all together in one write with the conversation that the text just started, is
the write set's business (services/flow_writes.py), not the handler's.

`carry_out` applies a step's events in order; a data action resumes the run with its answer
and the next step's events follow, until the run waits or ends.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from parley.domain.conversations import Conversation
from parley.domain.errors import DomainError
from parley.domain.flows import (
    CallData,
    Disconnect,
    FlowDefinition,
    FlowError,
    FlowRun,
    SendResponse,
    SetParticipantData,
    Step,
    TransferToAcd,
    WaitForInput,
    resume,
)
from parley.services.acd import AcdService
from parley.services.ports import Clock, DataActions, UnitOfWorkFactory

log = logging.getLogger(__name__)


class FlowWrites(Protocol):
    """Where what a flow does to one conversation is written (mailroom's hooks)."""

    async def reply(self, text: str) -> None:
        """Text the customer for the flow; a DomainError when the text may not be sent."""

    async def change(self, apply: Callable[[Conversation], None], *,
                     publish: bool = False) -> None:
        """Change the conversation; `publish`: its watchers hear of it."""

    async def enqueue(self, queue_id: str, *, priority: int, skills: Sequence[str],
                      preferred_agent: str | None) -> None:
        """Put the conversation on this queue."""

    async def to_default_queue(self) -> None:
        """Put the conversation on the queue that texts from its number, if one does."""

    async def wait(self, run: FlowRun, until_ms: int) -> None:
        """Keep the run until the customer answers or `until_ms` passes."""

    async def end_run(self) -> None:
        """The run is over: nothing is waiting for the customer any more."""


@dataclass(frozen=True, slots=True)
class FlowRuntime:
    """What the handlers need of the rest of Parley (mailroom's runtime)."""

    uow: UnitOfWorkFactory
    clock: Clock
    acd: AcdService
    data: DataActions

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=UTC)


@dataclass(slots=True)
class Scene:
    """One conversation's flow run while its events are carried out."""

    org_id: str
    conversation_id: str
    definition: FlowDefinition
    step: Step
    writes: FlowWrites
    follow: Step | None = None
    """the run as a data action's answer resumed it: its events come next"""


async def carry_out(rt: FlowRuntime, scene: Scene) -> None:
    """Apply the step's events in order, and the steps data actions lead to, until the run
    waits or ends."""
    while True:
        scene.follow = None
        for event in scene.step.events:
            await HANDLERS[type(event)](rt, scene, event)
        if scene.follow is None:
            break
        scene.step = scene.follow
    if scene.step.run.ended:
        await scene.writes.end_run()


# -- the handlers, one per event type -------------------------------------------------------


async def send_response(rt: FlowRuntime, scene: Scene, event: SendResponse) -> None:
    try:
        await scene.writes.reply(event.text)
    except DomainError as e:
        log.warning("flow reply on %s not sent: %s", scene.conversation_id, e.message)


async def set_participant_data(rt: FlowRuntime, scene: Scene,
                               event: SetParticipantData) -> None:
    def apply(conv: Conversation) -> None:
        conv.customer().attributes[event.key] = event.value

    await scene.writes.change(apply)


async def call_data(rt: FlowRuntime, scene: Scene, event: CallData) -> None:
    result = await rt.data.call(event)
    scene.follow = resume(scene.definition, scene.step.run, result, now=rt.now())


async def wait_for_input(rt: FlowRuntime, scene: Scene, event: WaitForInput) -> None:
    await scene.writes.wait(scene.step.run, rt.clock.now_ms() + event.timeout_seconds * 1000)


async def transfer_to_acd(rt: FlowRuntime, scene: Scene, event: TransferToAcd) -> None:
    await scene.writes.end_run()
    org_id, fallback = scene.org_id, scene.definition.fallback_queue
    queue = await rt.acd.queue_named(org_id, event.queue) or \
        await rt.acd.queue_named(org_id, fallback)  # deleted since it was published
    if queue is None:
        log.warning("flow transfer to unknown queue '%s' (fallback '%s') on %s; the number's "
                    "queue instead", event.queue, fallback, scene.conversation_id)
        await scene.writes.to_default_queue()
        return
    skill_ids, preferred = await _transfer_targets(rt, org_id, event)
    await scene.writes.enqueue(queue.id, priority=event.priority, skills=skill_ids,
                               preferred_agent=preferred)


async def disconnect(rt: FlowRuntime, scene: Scene, event: Disconnect) -> None:
    await scene.writes.end_run()

    def apply(conv: Conversation) -> None:
        conv.end(rt.clock.now_ms(), disconnect_type="endpoint")

    await scene.writes.change(apply, publish=True)


async def flow_error(rt: FlowRuntime, scene: Scene, event: FlowError) -> None:
    log.warning("flow '%s' failed on conversation %s at %s: %s", scene.definition.name,
                scene.conversation_id, event.action, event.reason)


Handler = Callable[[FlowRuntime, Scene, Any], Awaitable[None]]

HANDLERS: dict[type, Handler] = {
    SendResponse: send_response,
    SetParticipantData: set_participant_data,
    CallData: call_data,
    WaitForInput: wait_for_input,
    TransferToAcd: transfer_to_acd,
    Disconnect: disconnect,
    FlowError: flow_error,
}
"""What Parley does for each event a flow run hands back."""

HELD_EVENTS = frozenset({SendResponse, SetParticipantData, TransferToAcd, Disconnect,
                         FlowError})
"""The events a run may hand back and still be carried out in memory, with one write: no
waiting for the customer, no data action."""


def can_hold(step: Step) -> bool:
    """A run that ended within this step, with nothing but events that need no I/O of their
    own, can be carried out in memory and stored in one write."""
    return step.run.ended and all(type(e) in HELD_EVENTS for e in step.events)


async def _transfer_targets(rt: FlowRuntime, org_id: str, event: TransferToAcd
                            ) -> tuple[list[str], str | None]:
    """The skills (by id) and preferred agent a transfer names, if it names any."""
    if not event.skills and not event.preferred_agent:
        return [], None
    async with rt.uow(read_only=True) as uow:
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
