"""The ACD service: feeds the in-memory engine, persists its decisions, publishes them.

One engine per organisation, rebuilt from the store at start-up (`acd_interactions`, agent
states, capacities, skills, memberships). Every change goes engine-first under the
organisation's lock, then the decisions it returned are written in one unit of work
(participants alerting / connected / disconnected, the `acd_interactions` rows, NOT_RESPONDING
flags) and published to the notification topics. A timer task ticks the engines when the
earliest alerting offer is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from parley.concurrency import stop_task
from parley.domain.acd import (
    Acd,
    Connected,
    Decision,
    Finished,
    Offered,
    OfferEnd,
    OfferEnded,
    Orphaned,
    Queued,
    RoutingStatus,
    StatusChanged,
    Transferred,
)
from parley.domain.agents import DEFAULT_MESSAGE_CAPACITY, SystemPresence
from parley.domain.conversations import Conversation
from parley.domain.errors import NotFound
from parley.services.events import publish_conversation, routing_status_event
from parley.services.ports import AcdRecord, Clock, EventBus, UnitOfWork, UnitOfWorkFactory
from parley.services.views import build_view

log = logging.getLogger(__name__)

_END_TYPE = {OfferEnd.DECLINED: "client", OfferEnd.TIMED_OUT: "timeout",
             OfferEnd.WITHDRAWN: "system"}


@dataclass(frozen=True, slots=True)
class QueueInfo:
    id: str
    name: str
    sms_number_id: str | None


@dataclass(slots=True)
class Routing:
    """What `AcdService.route` decided about a conversation, for its caller to store."""

    conversation_id: str
    at_ms: int
    record: AcdRecord | None = None
    statuses: list[StatusChanged] = field(default_factory=list)


def _proficiencies(skills: Iterable[tuple[str, float]]) -> dict[str, int]:
    """The engine ranks whole proficiency levels 0-5, as Genesys' routing does."""
    return {skill_id: round(p) for skill_id, p in skills}


class AcdService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._engines: dict[str, Acd] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._status_since: dict[str, int] = {}
        self._agent_names: dict[str, str] = {}
        self._queues: dict[str, dict[str, QueueInfo]] = {}
        """org -> queue id -> what routing needs of it, as of the last sync with the store"""
        self._settling: dict[str, asyncio.Future[None]] = {}
        """conversations whose routing decision is decided but not stored yet"""
        self._timer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._load_all()
        self._timer = asyncio.create_task(self._tick_forever(), name="acd-timer")

    async def stop(self) -> None:
        await stop_task(self._timer)
        self._timer = None

    def engine(self, org_id: str) -> Acd:
        engine = self._engines.get(org_id)
        if engine is None:
            engine = self._engines[org_id] = Acd()
        return engine

    async def _load_all(self) -> None:
        """Rebuild every organisation's engine from the store, then make the due offers."""
        now = self._clock.now_ms()
        async with self._uow(read_only=True) as uow:
            records = await uow.acd.all()
            orgs = {r.org_id for r in records}
            for presence, _, _ in await uow.agents.all():
                orgs.add(presence.org_id)
        for org_id in orgs:
            async with self._locks[org_id]:
                engine = self.engine(org_id)
                async with self._uow(read_only=True) as uow:
                    await self._sync_org(uow, engine, org_id, now, restore=True)
                    for r in (r for r in records if r.org_id == org_id):
                        self._restore(engine, r)
                await self._apply(org_id, engine.rebalance(now))

    @staticmethod
    def _restore(engine: Acd, r: AcdRecord) -> None:
        try:
            if r.state == "alerting" and r.agent_id is not None:
                engine.restore_alerting(r.conversation_id, r.queue_id, r.agent_id,
                                        enqueued_ms=r.enqueued_ms,
                                        deadline_ms=r.deadline_ms or 0, priority=r.priority,
                                        skills=r.skills, preferred_agent=r.preferred_agent)
            elif r.state == "connected" and r.agent_id is not None:
                engine.restore_connected(r.conversation_id, r.queue_id, r.agent_id,
                                         enqueued_ms=r.enqueued_ms, priority=r.priority,
                                         skills=r.skills)
            else:
                engine.restore_waiting(r.conversation_id, r.queue_id,
                                       enqueued_ms=r.enqueued_ms, priority=r.priority,
                                       skills=r.skills, preferred_agent=r.preferred_agent,
                                       declined_by=r.declined_by or ())
        except NotFound:
            # Its queue or agent was deleted while we were down: route it afresh.
            log.warning("conversation %s: queue or agent gone; it waits again",
                        r.conversation_id)
            if engine.has_queue(r.queue_id):
                engine.restore_waiting(r.conversation_id, r.queue_id,
                                       enqueued_ms=r.enqueued_ms, priority=r.priority,
                                       skills=r.skills)

    async def _sync_org(self, uow: UnitOfWork, engine: Acd, org_id: str, now: int, *,
                        restore: bool) -> list[Decision]:
        """Make the engine's queues, agents and memberships match the store."""
        out: list[Decision] = []
        queues, _ = await uow.queues.page(org_id, page=1, size=100_000)
        self._queues[org_id] = {q.id: QueueInfo(q.id, q.name, q.sms_number_id) for q in queues}
        for q in queues:
            out += engine.set_queue(q.id, now, evaluation=q.skill_evaluation_method,
                                    alerting_timeout_ms=q.alerting_timeout_seconds * 1000)
        users, _ = await uow.users.page(org_id, page=1, size=100_000)
        for u in users:
            out += await self._sync_agent(uow, engine, org_id, u.id, now, restore=restore)
        return out

    async def _sync_agent(self, uow: UnitOfWork, engine: Acd, org_id: str, user_id: str,
                          now: int, *, restore: bool = False) -> list[Decision]:
        out: list[Decision] = []
        user = await uow.users.get(org_id, user_id)
        if user is None:
            if engine.has_agent(user_id):
                out += engine.remove_agent(user_id, now)
            return out
        self._agent_names[user_id] = user.name
        presence = await uow.agents.presence(user_id)
        own = await uow.agents.capacity(user_id)
        org_cap = await uow.agents.org_capacity(org_id)
        capacity = own or org_cap or DEFAULT_MESSAGE_CAPACITY
        skills = _proficiencies((s.skill_id, s.proficiency)
                                for s in await uow.skills.of_user(user_id))
        on_queue = presence is not None and presence.presence is SystemPresence.ON_QUEUE
        not_responding = await uow.agents.not_responding(user_id)
        if restore:
            engine.restore_agent(user_id, capacity=capacity, skills=skills, on_queue=on_queue,
                                 not_responding=not_responding,
                                 idle_since_ms=presence.modified_ms if presence else now)
            self._status_since.setdefault(user_id, presence.modified_ms if presence else now)
        else:
            out += engine.set_agent(user_id, now, capacity=capacity, skills=skills)
            out += engine.set_on_queue(user_id, on_queue, now)
            if on_queue and not not_responding:
                out += engine.clear_not_responding(user_id, now)
        memberships = await uow.queues.memberships(user_id)
        for queue_id, joined in memberships:
            if not engine.has_queue(queue_id):
                continue
            if restore:
                engine.restore_member(queue_id, user_id, joined)
            else:
                out += engine.set_member(queue_id, user_id, joined, now)
        if not restore:
            member_of = {qid for qid, _ in memberships}
            for queue_id in engine.agent(user_id).joined_queues - member_of:
                out += engine.remove_member(queue_id, user_id, now)
        return out

    # -- the RoutingListener port -----------------------------------------------------------

    async def agent_changed(self, org_id: str, user_id: str) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            async with self._uow(read_only=True) as uow:
                out = await self._sync_agent(uow, engine, org_id, user_id,
                                             self._clock.now_ms())
            await self._apply(org_id, out)

    async def queue_changed(self, org_id: str, queue_id: str) -> None:
        """A queue's settings or members changed (or it was deleted; '*' for all)."""
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            now = self._clock.now_ms()
            out: list[Decision] = []
            async with self._uow(read_only=True) as uow:
                if queue_id != "*" and engine.has_queue(queue_id) and \
                        await uow.queues.get(org_id, queue_id) is None:
                    out += engine.remove_queue(queue_id, now)
                out += await self._sync_org(uow, engine, org_id, now, restore=False)
            await self._apply(org_id, out)

    # -- the StatusSource port ----------------------------------------------------------------

    def routing_status(self, org_id: str, user_id: str) -> tuple[RoutingStatus, int] | None:
        engine = self._engines.get(org_id)
        if engine is None or not engine.has_agent(user_id):
            return None
        return engine.routing_status(user_id), self._status_since.get(user_id, 0)

    # -- conversations ------------------------------------------------------------------------

    async def enqueue(self, org_id: str, conversation_id: str, queue_id: str, *,
                      priority: int = 0, skills: Sequence[str] = (),
                      preferred_agent: str | None = None) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            now = self._clock.now_ms()
            if not engine.has_queue(queue_id):
                async with self._uow(read_only=True) as uow:
                    await self._sync_org(uow, engine, org_id, now, restore=False)
            await self._apply(org_id, engine.enqueue(
                conversation_id, queue_id, now, priority=priority, skills=skills,
                preferred_agent=preferred_agent), priority=priority, skills=list(skills),
                preferred_agent=preferred_agent)

    async def accept(self, org_id: str, conversation_id: str, user_id: str) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            await self._apply(org_id, engine.accept(conversation_id, user_id,
                                                    self._clock.now_ms()))

    async def decline(self, org_id: str, conversation_id: str, user_id: str) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            await self._apply(org_id, engine.decline(conversation_id, user_id,
                                                     self._clock.now_ms()))

    async def finish(self, org_id: str, conversation_id: str) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            if engine.has_interaction(conversation_id):
                await self._apply(org_id, engine.finish(conversation_id, self._clock.now_ms()))

    async def transfer(self, org_id: str, conversation_id: str, queue_id: str) -> None:
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            now = self._clock.now_ms()
            if engine.has_interaction(conversation_id):
                out = engine.transfer(conversation_id, queue_id, now)
            else:
                out = engine.enqueue(conversation_id, queue_id, now)
            await self._apply(org_id, out)

    def is_routing(self, org_id: str, conversation_id: str) -> bool:
        return self.engine(org_id).has_interaction(conversation_id)

    # -- timeouts -------------------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            deadlines = [d for e in self._engines.values()
                         if (d := e.next_deadline()) is not None]
            wait_s = 1.0
            if deadlines:
                wait_s = max(0.0, (min(deadlines) - self._clock.now_ms()) / 1000)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(wait_s, 1.0))
            try:
                await self.tick()
            except Exception:
                log.exception("ACD tick failed; will try again")

    async def tick(self) -> None:
        now = self._clock.now_ms()
        for org_id, engine in list(self._engines.items()):
            deadline = engine.next_deadline()
            if (deadline is None or deadline > now) and not self._locks[org_id].locked():
                continue
            async with self._locks[org_id]:  # waits for a tick in progress to be stored
                await self._apply(org_id, engine.tick(now))

    # -- persisting and publishing decisions ------------------------------------------------

    async def _apply(self, org_id: str, decisions: list[Decision], *, priority: int = 0,
                     skills: list[str] | None = None,
                     preferred_agent: str | None = None) -> None:
        if not decisions:
            return
        engine = self.engine(org_id)
        now = self._clock.now_ms()
        touched: dict[str, Conversation] = {}
        records: dict[str, AcdRecord | None] = {}
        statuses: list[StatusChanged] = []
        async with self._uow() as uow:

            async def conv(conversation_id: str) -> Conversation | None:
                if conversation_id not in touched:
                    settling = self._settling.get(conversation_id)
                    if settling is not None:  # its last decision is still being stored
                        await asyncio.shield(settling)
                    found = await uow.conversations.get(org_id, conversation_id)
                    if found is None:
                        return None
                    touched[conversation_id] = found
                    records[conversation_id] = await uow.acd.get(conversation_id)
                return touched[conversation_id]

            for d in decisions:
                if isinstance(d, StatusChanged):
                    statuses.append(d)
                    self._status_since[d.agent_id] = now
                    if RoutingStatus.NOT_RESPONDING in (d.old, d.new):
                        await uow.agents.set_not_responding(
                            org_id, d.agent_id, d.new is RoutingStatus.NOT_RESPONDING, now)
                    continue
                c = await conv(d.interaction_id)
                if c is None:
                    continue
                records[c.id] = self._record(engine, c, d, now, records[c.id],
                                             priority=priority, skills=skills or [],
                                             preferred_agent=preferred_agent)
            for c in touched.values():
                await uow.conversations.save(c)
                rec = records[c.id]
                if rec is None:
                    await uow.acd.delete(c.id)
                else:
                    await uow.acd.put(rec)
            views = [await build_view(uow, org_id, c) for c in touched.values()]
            await uow.commit()
        if touched:
            self._wake.set()  # a new offer may have the earliest deadline
        for view in views:
            publish_conversation(self._bus, view)
        self._publish_statuses(org_id, statuses, now)

    def _publish_statuses(self, org_id: str, statuses: list[StatusChanged], now: int) -> None:
        for s in statuses:
            self._bus.publish(f"v2.users.{s.agent_id}.routingStatus",
                              routing_status_event(s.agent_id, s.new.value, now),
                              org_id=org_id)

    def _record(self, engine: Acd, c: Conversation, d: Decision, now: int,
                rec: AcdRecord | None, *, priority: int, skills: list[str],
                preferred_agent: str | None) -> AcdRecord | None:
        """Apply one decision to the conversation (in memory) and return the ACD's record of
        it afterwards (None once the ACD is done with it)."""
        if isinstance(d, Queued):
            # Whoever held it outside the ACD (an agent's own outbound conversation being
            # transferred) lets go: it waits in the queue now.
            c.leave_agents(now)
            c.enter_queue(d.queue_id, self._queue_name(c.org_id, d.queue_id), now)
            return AcdRecord(
                conversation_id=c.id, org_id=c.org_id, queue_id=d.queue_id, state="waiting",
                priority=priority, skills=skills, enqueued_ms=now,
                preferred_agent=preferred_agent, declined_by=[])
        if isinstance(d, Offered):
            p = c.offer(d.agent_id, d.queue_id, now, timeout_ms=max(d.deadline_ms - now, 0),
                        agent_name=self._agent_names.get(d.agent_id))
            return self._state(engine, c, rec, "alerting", d.agent_id, p.id, d.deadline_ms)
        if isinstance(d, OfferEnded):
            c.end_offer(d.agent_id, now, _END_TYPE[d.reason])
            return self._state(engine, c, rec, "waiting", None, None, None)
        if isinstance(d, Connected):
            p = c.connect_agent(d.agent_id, now)
            return self._state(engine, c, rec, "connected", d.agent_id, p.id, None)
        if isinstance(d, Transferred):
            c.leave_agents(now)
            c.enter_queue(d.to_queue_id, self._queue_name(c.org_id, d.to_queue_id), now)
            return self._state(engine, c, rec, "waiting", None, None, None)
        if isinstance(d, Finished | Orphaned):
            if isinstance(d, Orphaned) and c.is_active:
                log.warning("conversation %s lost its %s; it is disconnected",
                            c.id, "queue" if d.agent_id is None else "agent")
                c.end(now, disconnect_type="system")
            return None
        return rec

    @staticmethod
    def _state(engine: Acd, c: Conversation, rec: AcdRecord | None, state: str,
               agent_id: str | None, participant_id: str | None,
               deadline_ms: int | None) -> AcdRecord | None:
        view = engine.interaction(c.id) if engine.has_interaction(c.id) else None
        if rec is None or view is None:
            return rec
        rec.state, rec.agent_id, rec.participant_id = state, agent_id, participant_id
        rec.deadline_ms, rec.queue_id = deadline_ms, view.queue_id
        rec.declined_by = sorted(view.declined_by)
        rec.enqueued_ms = view.enqueued_ms
        return rec

    def _queue_name(self, org_id: str, queue_id: str) -> str | None:
        info = self._queues.get(org_id, {}).get(queue_id)
        return None if info is None else info.name

    # -- the inbound hot path: decide in memory, the caller stores ----------------------------

    async def queue_named(self, org_id: str, name: str) -> QueueInfo | None:
        """A queue of the organisation by name (as flows name them), from memory."""
        return await self._find_queue(org_id, lambda q: q.name.lower() == name.lower())

    async def queue_for_number(self, org_id: str, number_id: str) -> QueueInfo | None:
        """The queue whose Outbound SMS Number this is (where unrouted texts go)."""
        return await self._find_queue(org_id, lambda q: q.sms_number_id == number_id)

    async def _find_queue(self, org_id: str, match: Callable[[QueueInfo], bool]
                          ) -> QueueInfo | None:
        for attempt in range(2):
            found = next((q for q in self._queues.get(org_id, {}).values() if match(q)), None)
            if found is not None or attempt:
                return found
            # Not known here (yet): read the store once.
            async with self._locks[org_id], self._uow(read_only=True) as uow:
                await self._apply_later(org_id, await self._sync_org(
                    uow, self.engine(org_id), org_id, self._clock.now_ms(), restore=False))
        return None

    async def _apply_later(self, org_id: str, decisions: list[Decision]) -> None:
        if decisions:
            asyncio.get_running_loop().create_task(self._apply_locked(org_id, decisions))

    async def _apply_locked(self, org_id: str, decisions: list[Decision]) -> None:
        async with self._locks[org_id]:
            await self._apply(org_id, decisions)

    async def route(self, org_id: str, conv: Conversation, queue_id: str, *,
                    priority: int = 0, skills: Sequence[str] = (),
                    preferred_agent: str | None = None) -> Routing:
        """Enqueue a conversation the caller holds in memory and will store.

        The decisions about it are applied to `conv` and its ACD record returned; the caller
        stores both in its own write set and then calls `settled`. Until then, any other
        decision about this conversation waits for that write, so none is lost or reordered.
        """
        async with self._locks[org_id]:
            engine = self.engine(org_id)
            now = self._clock.now_ms()
            if not engine.has_queue(queue_id):
                async with self._uow(read_only=True) as uow:
                    await self._apply_later(org_id, await self._sync_org(
                        uow, engine, org_id, now, restore=False))
            decisions = engine.enqueue(conv.id, queue_id, now, priority=priority,
                                       skills=skills, preferred_agent=preferred_agent)
            routing = Routing(conv.id, now)
            others: list[Decision] = []
            for d in decisions:
                if isinstance(d, StatusChanged):
                    routing.statuses.append(d)
                    self._status_since[d.agent_id] = now
                    if RoutingStatus.NOT_RESPONDING in (d.old, d.new):
                        others.append(d)
                elif d.interaction_id == conv.id:
                    routing.record = self._record(engine, conv, d, now, routing.record,
                                                  priority=priority, skills=list(skills),
                                                  preferred_agent=preferred_agent)
                else:
                    others.append(d)
            self._settling[conv.id] = asyncio.get_running_loop().create_future()
        await self._apply_later(org_id, others)
        return routing

    async def settled(self, org_id: str, routing: Routing, *, stored: bool) -> None:
        """The caller stored what `route` decided - or could not, and the engine forgets the
        conversation again (freeing the agent it was offered to) so the caller's fallback can
        route it afresh. Either way, other decisions about it may go ahead."""
        settling = self._settling.pop(routing.conversation_id, None)
        if settling is not None and not settling.done():
            settling.set_result(None)
        if not stored:
            async with self._locks[org_id]:
                engine = self.engine(org_id)
                if engine.has_interaction(routing.conversation_id):
                    # (the freed agent may be offered another conversation: apply it all)
                    await self._apply(org_id, engine.finish(routing.conversation_id,
                                                            self._clock.now_ms()))
            return
        self._wake.set()
        self._publish_statuses(org_id, routing.statuses, routing.at_ms)
