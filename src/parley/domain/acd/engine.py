"""The ACD engine: which agent gets which waiting SMS conversation, and when.

It is the routing brain only: a pure, in-memory state machine. The service layer feeds it
what happened (a conversation arrived, an agent went on queue, accepted, declined, finished,
a supervisor changed a queue) with the time, and persists and publishes the decisions it
returns. It never reads a clock: `tick(now_ms)` is how alerting offers time out, and
`next_deadline()` says when the next one is due.

Rules (Genesys Cloud "standard" routing for message interactions):

- An agent is routable when On Queue and not NOT_RESPONDING; available when routable with
  free capacity (capacity counts alerting plus connected interactions).
- A conversation that arrives goes, among the available joined members of its queue who meet
  its skills, to its preferred agent if that agent is one of them, else to an agent with no
  active interaction before a busy one, then the longest idle (the latest of going on queue
  and finishing a connected interaction), then the smaller agent id. Skill evaluation: NONE
  ignores skills; ALL needs every required skill; BEST takes the agent with the most required
  skills, then the highest total proficiency in them, and never leaves a conversation waiting
  while any member is available.
- An agent who gains free capacity takes, across all queues it has joined, the waiting
  conversation it is eligible for with the highest priority, then the oldest enqueue time.
- An offer alerts for the queue's alerting timeout. A decline puts the conversation back
  (same age) and ranks that agent last for it; a timeout also makes the agent NOT_RESPONDING.

Cost: every decision works on per-queue heaps, never on all agents or all conversations.
Waiting conversations are bucketed per queue by their set of required skills, and available
agents per queue by their skill profile (the exact skills-and-proficiencies mapping), so a
decision costs O(log n) times the number of distinct skill sets waiting, or skill profiles
available, in the queues involved — typically a handful. Per-queue state lives in `_Queue`;
agents are shared between queues only through their capacity, which keeps a later split of
queues across nodes (a lease per queue) possible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from typing import TypeVar

from parley.domain.acd.decisions import (
    AgentView,
    Connected,
    Decision,
    Finished,
    InteractionState,
    InteractionView,
    Offered,
    OfferEnd,
    OfferEnded,
    Orphaned,
    Queued,
    QueueView,
    RoutingStatus,
    StatusChanged,
    Transferred,
)
from parley.domain.acd.lazy_heap import LazyHeap
from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.queues import SkillEvaluationMethod

MIN_CAPACITY = 1
MAX_CAPACITY = 25  # Genesys Cloud's per-media utilisation maximum
MIN_PROFICIENCY = 0
MAX_PROFICIENCY = 5
DEFAULT_ALERTING_TIMEOUT_MS = 30_000

# Heap entries. Tuples compare left to right, so the leading fields are the order and the id
# (always last) only breaks ties and names the item.
# Available agent: (busy 0/1, idle since, agent id).
AgentKey = tuple[int, int, str]
# Waiting interaction: (-priority, enqueued at, arrival order, interaction id).
WaitKey = tuple[int, int, int, str]
# Alerting offer, and a queue's age index: (time, arrival order, interaction id).
TimeKey = tuple[int, int, str]
# A family of heaps filed by key (a skill set, a profile): the key, and the heaps' entries.
K = TypeVar("K")
E = TypeVar("E", bound=tuple[object, ...])

# How many available agents an ALL-skills pick looks at, longest idle first, before it
# checks per skill profile instead (exact either way; this only bounds the cost).
_WALK = 8

_NONE = SkillEvaluationMethod.NONE
_ALL = SkillEvaluationMethod.ALL
_WAITING = InteractionState.WAITING
_ALERTING = InteractionState.ALERTING
_CONNECTED = InteractionState.CONNECTED


class _Profile:
    """One distinct skills mapping, shared by every agent who has exactly those skills.

    Agents are grouped by profile in each queue, so a skill check is made once per profile
    rather than once per agent, and its answer is cached per required skill set.
    """

    __slots__ = ("_covers", "_scores", "agents", "key", "skills")

    def __init__(self, key: frozenset[tuple[str, int]]) -> None:
        self.key = key
        self.skills: dict[str, int] = dict(key)
        self.agents = 0
        self._covers: dict[frozenset[str], bool] = {}
        self._scores: dict[frozenset[str], tuple[int, int]] = {}

    def covers(self, required: frozenset[str]) -> bool:
        hit = self._covers.get(required)
        if hit is None:
            hit = self._covers[required] = required.issubset(self.skills)
        return hit

    def score(self, required: frozenset[str]) -> tuple[int, int]:
        """(required skills held, total proficiency in them): higher is a better match."""
        hit = self._scores.get(required)
        if hit is None:
            held = [self.skills[s] for s in required if s in self.skills]
            hit = self._scores[required] = (len(held), sum(held))
        return hit


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    capacity: int
    profile: _Profile
    idle_since_ms: int
    on_queue: bool = False
    not_responding: bool = False
    # Alerting and connected interaction ids (a dict as an insertion-ordered set, so that
    # the decisions a call reports come out in a reproducible order).
    active: dict[str, None] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    status: RoutingStatus = RoutingStatus.OFF_QUEUE
    # What the queue indexes hold for this agent: its key while available, and the profile
    # group it is filed under.
    key: AgentKey | None = None
    indexed_profile: _Profile | None = None


@dataclass(slots=True, eq=False)
class _Interaction:
    id: str
    queue_id: str
    priority: int
    skills: frozenset[str]
    preferred_agent: str | None
    enqueued_ms: int
    order: int  # arrival order: breaks ties between equal priority and enqueue time
    state: InteractionState = _WAITING
    agent_id: str | None = None
    deadline_ms: int | None = None
    declined_by: set[str] | None = None

    def wait_key(self) -> WaitKey:
        return (-self.priority, self.enqueued_ms, self.order, self.id)


@dataclass(slots=True, eq=False)
class _Queue:
    """Everything routing needs about one queue; nothing here refers to another queue.

    Its indexes are changed only through its methods, which keep them in step: an item is in
    both or neither of the heaps that index it, and a bucket or group that empties is dropped,
    so routing loops over only the skill sets waiting and the profiles available.
    """

    id: str
    evaluation: SkillEvaluationMethod
    alerting_timeout_ms: int
    members: dict[str, bool] = field(default_factory=dict)  # agent id -> joined
    # Available joined members, all together and grouped by skill profile.
    available: LazyHeap[AgentKey] = field(default_factory=LazyHeap)
    groups: dict[_Profile, LazyHeap[AgentKey]] = field(default_factory=dict)
    # Waiting interactions by required skill set, and all of them by age.
    buckets: dict[frozenset[str], LazyHeap[WaitKey]] = field(default_factory=dict)
    by_age: LazyHeap[TimeKey] = field(default_factory=LazyHeap)
    alerting: set[str] = field(default_factory=set)
    connected: set[str] = field(default_factory=set)

    def add_waiting(self, x: _Interaction) -> None:
        """File a waiting interaction under its required skill set and its age."""
        _push_keyed(self.buckets, x.skills, x.wait_key())
        self.by_age.push((x.enqueued_ms, x.order, x.id))

    def discard_waiting(self, x: _Interaction) -> None:
        """Take an interaction out of the waiting indexes (a no-op if it is not in them)."""
        _discard_keyed(self.buckets, x.skills, x.id)
        self.by_age.discard(x.id)

    def add_available(self, key: AgentKey, profile: _Profile) -> None:
        """File (or re-key) an available agent, under its skill profile."""
        self.available.push(key)
        _push_keyed(self.groups, profile, key)

    def discard_available(self, agent_id: str, profile: _Profile | None) -> None:
        """Take an agent out of the available indexes, and out of `profile`'s group if given
        (a no-op where it is not in them)."""
        self.available.discard(agent_id)
        if profile is not None:
            _discard_keyed(self.groups, profile, agent_id)


def _push_keyed(heaps: dict[K, LazyHeap[E]], key: K, entry: E) -> None:
    """Push into the heap filed under `key`, creating it if there is none yet."""
    heap = heaps.get(key)
    if heap is None:
        heap = heaps[key] = LazyHeap()
    heap.push(entry)


def _discard_keyed(heaps: dict[K, LazyHeap[E]], key: K, item_id: str) -> None:
    """Discard from the heap filed under `key`, dropping the heap if that empties it."""
    heap = heaps.get(key)
    if heap is not None:
        heap.discard(item_id)
        if not heap:
            del heaps[key]


class Acd:
    """The in-memory ACD for one organisation. Not thread-safe: one caller at a time."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._agents: dict[str, _Agent] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._profiles: dict[frozenset[tuple[str, int]], _Profile] = {}
        self._deadlines: LazyHeap[TimeKey] = LazyHeap()
        self._orders = count()
        # Connected interactions whose queue does not exist (removed while they were
        # connected, or restored so): a queue created with that id counts them again.
        self._unqueued: dict[str, set[str]] = {}

    # ---------------------------------------------------------------- queues and members

    def set_queue(self, queue_id: str, now_ms: int, *,
                  evaluation: SkillEvaluationMethod = _ALL,
                  alerting_timeout_ms: int = DEFAULT_ALERTING_TIMEOUT_MS) -> list[Decision]:
        """Create a queue or change its routing settings.

        A new alerting timeout applies to later offers. Changing the evaluation method
        re-routes the queue's waiting conversations, since who is eligible may have changed.
        """
        if alerting_timeout_ms < 1:
            raise InvalidInput("alerting timeout must be at least 1 ms",
                               field="alerting_timeout_ms")
        out: list[Decision] = []
        q = self._queues.get(queue_id)
        if q is None:
            q = self._queues[queue_id] = _Queue(queue_id, evaluation, alerting_timeout_ms)
            q.connected = self._unqueued.pop(queue_id, set())
            return out
        q.alerting_timeout_ms = alerting_timeout_ms
        if q.evaluation is not evaluation:
            q.evaluation = evaluation
            self._drain(q, now_ms, out)
        return out

    def remove_queue(self, queue_id: str, now_ms: int) -> list[Decision]:
        """Delete a queue. Its waiting and alerting interactions are `Orphaned`; connected ones
        stay with their agents (still counted against capacity) until finished or transferred,
        and count toward a queue created again with the same id.
        """
        q = self._queue(queue_id)
        out: list[Decision] = []
        freed: list[_Agent] = []
        for interaction_id in sorted(q.alerting):
            x = self._interactions[interaction_id]
            agent = self._agents[x.agent_id]  # type: ignore[index]
            self._release(x, agent)
            self._forget(x)
            out.append(Orphaned(x.id, q.id, agent.id, _ALERTING))
            freed.append(agent)
        for _, _, interaction_id in q.by_age.ordered():
            x = self._interactions[interaction_id]
            self._forget(x)
            out.append(Orphaned(x.id, q.id, None, _WAITING))
        for agent_id, joined in q.members.items():
            if joined:
                agent = self._agents[agent_id]
                agent.joined.discard(q.id)
                freed.append(agent)
        if q.connected:
            self._unqueued[q.id] = q.connected
        del self._queues[q.id]
        for agent in freed:
            self._settle(agent, now_ms, out)
        return out

    def set_member(self, queue_id: str, agent_id: str, joined: bool,
                   now_ms: int) -> list[Decision]:
        """Add an agent to a queue's members, or change whether the agent has joined it.

        Only joined members are routed to. Leaving withdraws the queue's alerting offers to
        the agent; its connected interactions stay.
        """
        q = self._queue(queue_id)
        agent = self._agent(agent_id)
        out: list[Decision] = []
        was_joined = q.members.get(agent.id, False)
        q.members[agent.id] = joined
        if joined and not was_joined:
            self._join(q, agent)
            self._serve(agent, now_ms, out)
        elif was_joined and not joined:
            self._leave(q, agent, now_ms, out)
        return out

    def remove_member(self, queue_id: str, agent_id: str, now_ms: int) -> list[Decision]:
        q = self._queue(queue_id)
        if agent_id not in q.members:
            raise NotFound(f"agent {agent_id} is not a member of queue {queue_id}")
        out: list[Decision] = []
        agent = self._agents[agent_id]
        if q.members.pop(agent_id):
            self._leave(q, agent, now_ms, out)
        return out

    # ---------------------------------------------------------------- agents

    def set_agent(self, agent_id: str, now_ms: int, *, capacity: int = 1,
                  skills: Mapping[str, int] | None = None) -> list[Decision]:
        """Create an agent (Off Queue) or change its message capacity and skills.

        Raising capacity or gaining skills may produce offers. Lowering capacity below the
        active count withdraws the alerting offers with the latest deadlines; connected
        interactions are never dropped, so such an agent just gets nothing new until enough
        of them finish.
        """
        profile_key = _profile_key(skills or {})
        _check_capacity(capacity)
        out: list[Decision] = []
        agent = self._agents.get(agent_id)
        if agent is None:
            self._agents[agent_id] = _Agent(agent_id, capacity, self._acquire(profile_key),
                                            idle_since_ms=now_ms)
            return out
        agent.capacity = capacity
        if profile_key != agent.profile.key:
            self._release_profile(agent.profile)
            agent.profile = self._acquire(profile_key)
        returned = self._withdraw_over_capacity(agent, out)
        self._update(agent, out)
        self._place_all(returned, now_ms, out)
        self._serve(agent, now_ms, out)
        return out

    def remove_agent(self, agent_id: str, now_ms: int) -> list[Decision]:
        """Delete an agent: its alerting offers go back to their queues and are routed again;
        its connected interactions are `Orphaned` for the service to re-queue or end.
        """
        agent = self._agent(agent_id)
        out: list[Decision] = []
        returned: list[_Interaction] = []
        for interaction_id in list(agent.active):
            x = self._interactions[interaction_id]
            if x.state is _ALERTING:
                self._release(x, agent)
                out.append(OfferEnded(x.id, agent.id, x.queue_id, OfferEnd.WITHDRAWN))
                returned.append(x)
            else:
                self._release(x, agent)
                self._forget(x)
                out.append(Orphaned(x.id, x.queue_id, agent.id, _CONNECTED))
        self._unindex(agent)
        agent.joined.clear()
        for q in self._queues.values():  # memberships are kept per queue; removal is rare
            q.members.pop(agent.id, None)
        self._release_profile(agent.profile)
        del self._agents[agent.id]
        self._place_all(returned, now_ms, out)
        return out

    def set_on_queue(self, agent_id: str, on: bool, now_ms: int) -> list[Decision]:
        """Presence On Queue / off queue.

        Going on queue starts the agent's idle time now. Going off queue clears
        NOT_RESPONDING and withdraws alerting offers (routed to others); connected
        interactions stay.
        """
        agent = self._agent(agent_id)
        out: list[Decision] = []
        if agent.on_queue == on:
            return out
        agent.on_queue = on
        agent.not_responding = False
        if on:
            agent.idle_since_ms = now_ms
            self._settle(agent, now_ms, out)
            return out
        returned = self._withdraw(agent, lambda x: True, out)
        self._settle(agent, now_ms, out)
        self._place_all(returned, now_ms, out)
        return out

    def clear_not_responding(self, agent_id: str, now_ms: int) -> list[Decision]:
        """The agent (or a supervisor) makes a NOT_RESPONDING agent routable again."""
        agent = self._agent(agent_id)
        out: list[Decision] = []
        if agent.not_responding:
            agent.not_responding = False
            self._settle(agent, now_ms, out)
        return out

    # ---------------------------------------------------------------- interactions

    def enqueue(self, interaction_id: str, queue_id: str, now_ms: int, *, priority: int = 0,
                skills: Iterable[str] = frozenset(),
                preferred_agent: str | None = None) -> list[Decision]:
        """A conversation enters a queue: offered at once if an agent is available for it."""
        if interaction_id in self._interactions:
            raise Conflict(f"interaction {interaction_id} is already in the ACD")
        q = self._queue(queue_id)
        x = _Interaction(interaction_id, q.id, priority, frozenset(skills), preferred_agent,
                         now_ms, next(self._orders))
        self._interactions[x.id] = x
        out: list[Decision] = [Queued(x.id, q.id)]
        self._place(x, now_ms, out)
        return out

    def accept(self, interaction_id: str, agent_id: str, now_ms: int) -> list[Decision]:
        """The agent accepts its alerting offer.

        An offer lives until `tick` expires it, so an accept that races a deadline the
        service has not ticked past yet still wins.
        """
        x = self._alerting_for(interaction_id, agent_id, "accept")
        self._deadlines.discard(x.id)
        x.state = _CONNECTED
        x.deadline_ms = None
        q = self._queues.get(x.queue_id)
        if q is not None:
            q.alerting.discard(x.id)
            q.connected.add(x.id)
        return [Connected(x.id, agent_id, x.queue_id)]

    def decline(self, interaction_id: str, agent_id: str, now_ms: int) -> list[Decision]:
        """The agent declines its offer: the conversation waits again with its age, and this
        agent is chosen for it only when no other eligible agent is available.
        """
        x = self._alerting_for(interaction_id, agent_id, "decline")
        agent = self._agents[agent_id]
        out: list[Decision] = [OfferEnded(x.id, agent.id, x.queue_id, OfferEnd.DECLINED)]
        self._release(x, agent)
        if x.declined_by is None:
            x.declined_by = set()
        x.declined_by.add(agent.id)
        self._update(agent, out)
        # Another available agent gets it if there is one; otherwise it waits, and the
        # decliner (now free) takes its best waiting conversation, which is this one again
        # only if nothing better waits for it.
        q = self._queues[x.queue_id]
        other = self._pick(q, x, exclude=agent.id)
        if other is None:
            self._wait(q, x)
        else:
            self._offer(q, x, other, now_ms, out)
        self._serve(agent, now_ms, out)
        return out

    def finish(self, interaction_id: str, now_ms: int) -> list[Decision]:
        """The interaction is over for routing (disconnected), whatever its state."""
        x = self._interaction(interaction_id)
        out: list[Decision] = [Finished(x.id, x.queue_id, x.agent_id)]
        agent = self._agents.get(x.agent_id) if x.agent_id is not None else None
        was_connected = x.state is _CONNECTED
        if agent is not None:
            self._release(x, agent)
        self._forget(x)
        if agent is not None:
            if was_connected:
                agent.idle_since_ms = now_ms
            self._settle(agent, now_ms, out)
        return out

    def transfer(self, interaction_id: str, queue_id: str, now_ms: int, *,
                 priority: int | None = None, skills: Iterable[str] | None = None,
                 preferred_agent: str | None = None) -> list[Decision]:
        """Blind transfer to a queue, from any state: the agent (if any) is freed and the
        conversation starts a new wait in the target queue (new age, no decline history).
        Priority and skills are kept unless given; the preferred agent is the one given.
        """
        x = self._interaction(interaction_id)
        target = self._queue(queue_id)
        agent = self._agents.get(x.agent_id) if x.agent_id is not None else None
        was_connected = x.state is _CONNECTED
        out: list[Decision] = [Transferred(x.id, x.queue_id, target.id, x.agent_id)]
        if agent is not None:
            self._release(x, agent)
        else:
            self._unwait(x)
        x.queue_id = target.id
        x.priority = x.priority if priority is None else priority
        x.skills = x.skills if skills is None else frozenset(skills)
        x.preferred_agent = preferred_agent
        x.enqueued_ms = now_ms
        x.order = next(self._orders)
        x.declined_by = None
        target_agent = self._pick(target, x, exclude=None if agent is None else agent.id)
        if agent is not None:
            if was_connected:
                agent.idle_since_ms = now_ms
            self._update(agent, out)
        # As for a decline: someone else gets it if anyone can; otherwise it waits and the
        # agent who let it go takes its best waiting conversation (this one only if nothing
        # better waits for it).
        if target_agent is None:
            self._wait(target, x)
        else:
            self._offer(target, x, target_agent, now_ms, out)
        if agent is not None:
            self._serve(agent, now_ms, out)
        return out

    def tick(self, now_ms: int) -> list[Decision]:
        """Expire every offer whose deadline is at or before `now_ms`, oldest deadline first:
        the agent goes NOT_RESPONDING and the conversation goes to the next eligible agent.
        """
        out: list[Decision] = []
        expired: list[_Interaction] = []
        deadlines = self._deadlines
        while (top := deadlines.peek()) is not None and top[0] <= now_ms:
            deadlines.pop()
            x = self._interactions[top[2]]
            agent = self._agents[x.agent_id]  # type: ignore[index]
            out.append(OfferEnded(x.id, agent.id, x.queue_id, OfferEnd.TIMED_OUT))
            self._release(x, agent)
            agent.not_responding = True
            self._update(agent, out)
            expired.append(x)
        self._place_all(expired, now_ms, out)
        return out

    def next_deadline(self) -> int | None:
        """When the earliest alerting offer times out (call `tick` then), or None."""
        top = self._deadlines.peek()
        return None if top is None else top[0]

    # ---------------------------------------------------------------- restart

    def restore_agent(self, agent_id: str, *, capacity: int, skills: Mapping[str, int],
                      on_queue: bool, not_responding: bool, idle_since_ms: int) -> None:
        """Rebuild an agent as persisted, without routing (see `rebalance`)."""
        profile_key = _profile_key(skills)
        _check_capacity(capacity)
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _Agent(agent_id, capacity,
                                                    self._acquire(profile_key), idle_since_ms)
        elif profile_key != agent.profile.key:
            self._release_profile(agent.profile)
            agent.profile = self._acquire(profile_key)
        agent.capacity = capacity
        agent.on_queue = on_queue
        agent.not_responding = on_queue and not_responding
        agent.idle_since_ms = idle_since_ms
        self._update(agent, [])

    def restore_member(self, queue_id: str, agent_id: str, joined: bool) -> None:
        """Rebuild a queue membership as persisted, without routing."""
        q = self._queue(queue_id)
        agent = self._agent(agent_id)
        was_joined = q.members.get(agent.id, False)
        q.members[agent.id] = joined
        if joined and not was_joined:
            self._join(q, agent)
        elif was_joined and not joined:
            self._unjoin_index(q, agent)

    def restore_waiting(self, interaction_id: str, queue_id: str, *, enqueued_ms: int,
                        priority: int = 0, skills: Iterable[str] = frozenset(),
                        preferred_agent: str | None = None,
                        declined_by: Iterable[str] = ()) -> None:
        """Put a persisted waiting interaction back in its queue, without offering it.

        Restore interactions in their original arrival order: it breaks ties between equal
        priority and enqueue time.
        """
        x = self._restored(interaction_id, queue_id, enqueued_ms, priority, skills,
                           preferred_agent, declined_by)
        self._wait(self._queues[x.queue_id], x)

    def restore_alerting(self, interaction_id: str, queue_id: str, agent_id: str, *,
                         enqueued_ms: int, deadline_ms: int, priority: int = 0,
                         skills: Iterable[str] = frozenset(),
                         preferred_agent: str | None = None,
                         declined_by: Iterable[str] = ()) -> None:
        """Put back an offer that was alerting; a deadline already past expires on `tick`."""
        agent = self._agent(agent_id)
        x = self._restored(interaction_id, queue_id, enqueued_ms, priority, skills,
                           preferred_agent, declined_by)
        x.state, x.agent_id, x.deadline_ms = _ALERTING, agent.id, deadline_ms
        agent.active[x.id] = None
        self._queues[x.queue_id].alerting.add(x.id)
        self._deadlines.push((deadline_ms, x.order, x.id))
        self._update(agent, [])

    def restore_connected(self, interaction_id: str, queue_id: str, agent_id: str, *,
                          enqueued_ms: int, priority: int = 0,
                          skills: Iterable[str] = frozenset(),
                          preferred_agent: str | None = None,
                          declined_by: Iterable[str] = ()) -> None:
        """Put back an interaction an agent had accepted (counted against its capacity).

        Its queue may have been removed since (connected interactions outlive their queue).
        """
        agent = self._agent(agent_id)
        x = self._restored(interaction_id, queue_id, enqueued_ms, priority, skills,
                           preferred_agent, declined_by, queue_required=False)
        x.state, x.agent_id = _CONNECTED, agent.id
        agent.active[x.id] = None
        q = self._queues.get(x.queue_id)
        if q is not None:
            q.connected.add(x.id)
        else:
            self._unqueued.setdefault(x.queue_id, set()).add(x.id)
        self._update(agent, [])

    def rebalance(self, now_ms: int) -> list[Decision]:
        """After restoring: withdraw offers that no longer hold (the agent is off queue, has
        left the queue, or is over capacity), then make every offer that is due, queue by
        queue in id order. Safe to call at any time (a no-op when nothing is due), at a cost
        proportional to the number of agents and queues.
        """
        out: list[Decision] = []
        for agent_id in sorted(self._agents):
            agent = self._agents[agent_id]
            lapsed = self._withdraw(agent, partial(_offer_lapsed, agent), out)
            lapsed += self._withdraw_over_capacity(agent, out)
            self._update(agent, out)
            for x in lapsed:  # routed with everything else by the drains below
                self._wait(self._queues[x.queue_id], x)
        for queue_id in sorted(self._queues):
            self._drain(self._queues[queue_id], now_ms, out)
        return out

    # ---------------------------------------------------------------- views

    def routing_status(self, agent_id: str) -> RoutingStatus:
        return self._agent(agent_id).status

    def agent(self, agent_id: str) -> AgentView:
        a = self._agent(agent_id)
        alerting = tuple(sorted(i for i in a.active
                                if self._interactions[i].state is _ALERTING))
        connected = tuple(sorted(i for i in a.active
                                 if self._interactions[i].state is _CONNECTED))
        return AgentView(a.id, a.status, a.capacity, dict(a.profile.skills), a.on_queue,
                         a.not_responding, a.idle_since_ms, alerting, connected,
                         frozenset(a.joined))

    def interaction(self, interaction_id: str) -> InteractionView:
        x = self._interaction(interaction_id)
        return InteractionView(x.id, x.queue_id, x.state, x.agent_id, x.deadline_ms,
                               x.priority, x.skills, x.preferred_agent, x.enqueued_ms,
                               frozenset(x.declined_by or ()))

    def queue(self, queue_id: str) -> QueueView:
        """Counts for a supervisor's view (O(members) for the status breakdown)."""
        q = self._queue(queue_id)
        by_status = dict.fromkeys(RoutingStatus, 0)
        joined = 0
        for agent_id, is_joined in q.members.items():
            if is_joined:
                joined += 1
                by_status[self._agents[agent_id].status] += 1
        oldest = q.by_age.peek()
        return QueueView(q.id, q.evaluation, q.alerting_timeout_ms, len(q.by_age),
                         None if oldest is None else oldest[0], len(q.alerting),
                         len(q.connected), len(q.members), joined, by_status)

    def members(self, queue_id: str) -> dict[str, bool]:
        """The queue's members: agent id -> joined."""
        return dict(self._queue(queue_id).members)

    def waiting(self, queue_id: str) -> list[str]:
        """The queue's waiting interaction ids in routing order (O(n log n): views, tests)."""
        q = self._queue(queue_id)
        keys = sorted(self._interactions[entry[2]].wait_key() for entry in q.by_age.ordered())
        return [k[3] for k in keys]

    def queue_ids(self) -> list[str]:
        return sorted(self._queues)

    def agent_ids(self) -> list[str]:
        return sorted(self._agents)

    def interaction_ids(self) -> list[str]:
        return sorted(self._interactions)

    def has_queue(self, queue_id: str) -> bool:
        return queue_id in self._queues

    def has_agent(self, agent_id: str) -> bool:
        return agent_id in self._agents

    def has_interaction(self, interaction_id: str) -> bool:
        return interaction_id in self._interactions

    # ---------------------------------------------------------------- routing internals

    def _place(self, x: _Interaction, now_ms: int, out: list[Decision]) -> None:
        """Route a conversation that needs an agent: offer it now, or leave it waiting."""
        q = self._queues[x.queue_id]
        agent = self._pick(q, x)
        if agent is None:
            self._wait(q, x)
        else:
            self._offer(q, x, agent, now_ms, out)

    def _place_all(self, xs: list[_Interaction], now_ms: int, out: list[Decision]) -> None:
        """Route several conversations that went back to waiting together, best first, so an
        agent never gets a worse one while a better one is left waiting."""
        xs.sort(key=_Interaction.wait_key)
        for x in xs:
            self._place(x, now_ms, out)

    def _pick(self, q: _Queue, x: _Interaction, *, exclude: str | None = None) -> _Agent | None:
        """The available member of `q` that should get `x`, or None.

        Agents who declined `x` come last; `exclude` (the agent who just let it go) is not
        considered at all.
        """
        if not q.available:
            return None
        declined: set[str] | tuple[()] | tuple[str] = x.declined_by or ()
        if exclude is not None:
            declined = {*declined, exclude}
        required = x.skills
        evaluation = q.evaluation if required else _NONE
        preferred = x.preferred_agent
        if preferred is not None and preferred not in declined:
            agent = self._agents.get(preferred)
            if agent is not None and agent.key is not None and q.id in agent.joined and (
                    evaluation is _NONE or agent.profile.covers(required)):
                return agent
        if evaluation is _ALL and not declined:
            # Usually one of the longest-idle few qualifies: walk them in order first.
            agents = self._agents
            found, settled = q.available.first_where(
                lambda entry: agents[entry[2]].profile.covers(required), _WALK)
            if settled:
                return None if found is None else agents[found[2]]
        if evaluation is _NONE:
            first, fallback = q.available.first_not_in(declined)
            if first is None and exclude is not None:
                fallback, _ = q.available.first_not_in((exclude,))
            chosen = first or fallback
            return None if chosen is None else self._agents[chosen[2]]
        # Rank (declined last, -score, key); ALL filters to full matches and scores them equal.
        best: tuple[bool, int, int, AgentKey] | None = None
        full = len(required)
        for profile, group in q.groups.items():
            if evaluation is _ALL:
                if not profile.covers(required):
                    continue
                held, total = full, 0
            else:
                held, total = profile.score(required)
            first, fallback = group.first_not_in(declined)
            if first is None and exclude is not None:
                fallback, _ = group.first_not_in((exclude,))
            if first is not None:
                rank = (False, -held, -total, first)
            elif fallback is not None:
                rank = (True, -held, -total, fallback)
            else:
                continue
            if best is None or rank < best:
                best = rank
        return None if best is None else self._agents[best[3][2]]

    def _serve(self, agent: _Agent, now_ms: int, out: list[Decision]) -> None:
        """Give an agent with free capacity the best waiting conversations it is eligible for."""
        while agent.key is not None:
            profile = agent.profile
            best: WaitKey | None = None
            best_queue: _Queue | None = None
            for queue_id in agent.joined:
                q = self._queues[queue_id]
                check = q.evaluation is _ALL
                for required, bucket in q.buckets.items():
                    if check and required and not profile.covers(required):
                        continue
                    top = bucket.peek()
                    if top is not None and (best is None or top < best):
                        best, best_queue = top, q
            if best is None or best_queue is None:
                return
            x = self._interactions[best[3]]
            self._unwait(x)
            self._offer(best_queue, x, agent, now_ms, out)

    def _drain(self, q: _Queue, now_ms: int, out: list[Decision]) -> None:
        """Offer a queue's waiting conversations, best first, while it has available agents.

        Who is eligible depends only on the queue and the required skill set, so when a
        bucket's best conversation finds no agent, the rest of that bucket is skipped.
        """
        blocked: set[frozenset[str]] = set()
        while q.available:
            best: WaitKey | None = None
            for required, bucket in q.buckets.items():
                if required in blocked:
                    continue
                top = bucket.peek()
                if top is not None and (best is None or top < best):
                    best = top
            if best is None:
                return
            x = self._interactions[best[3]]
            agent = self._pick(q, x)
            if agent is None:
                blocked.add(x.skills)
                continue
            self._unwait(x)
            self._offer(q, x, agent, now_ms, out)

    def _offer(self, q: _Queue, x: _Interaction, agent: _Agent, now_ms: int,
               out: list[Decision]) -> None:
        deadline = now_ms + q.alerting_timeout_ms
        x.state, x.agent_id, x.deadline_ms = _ALERTING, agent.id, deadline
        agent.active[x.id] = None
        q.alerting.add(x.id)
        self._deadlines.push((deadline, x.order, x.id))
        out.append(Offered(x.id, agent.id, q.id, deadline))
        self._update(agent, out)

    def _wait(self, q: _Queue, x: _Interaction) -> None:
        x.state, x.agent_id, x.deadline_ms = _WAITING, None, None
        q.add_waiting(x)

    def _unwait(self, x: _Interaction) -> None:
        q = self._queues.get(x.queue_id)
        if q is not None:
            q.discard_waiting(x)

    def _release(self, x: _Interaction, agent: _Agent) -> None:
        """Take an alerting or connected interaction off its agent (status not updated)."""
        agent.active.pop(x.id, None)
        self._deadlines.discard(x.id)
        q = self._queues.get(x.queue_id)
        if q is not None:
            q.alerting.discard(x.id)
            q.connected.discard(x.id)
        elif (unqueued := self._unqueued.get(x.queue_id)) is not None:
            unqueued.discard(x.id)
            if not unqueued:
                del self._unqueued[x.queue_id]
        x.agent_id, x.deadline_ms = None, None
        x.state = _WAITING

    def _forget(self, x: _Interaction) -> None:
        if x.state is _WAITING:
            self._unwait(x)
        del self._interactions[x.id]

    def _withdraw(self, agent: _Agent, which: Callable[[_Interaction], bool],
                  out: list[Decision]) -> list[_Interaction]:
        """End the agent's alerting offers that `which` selects; the caller places them."""
        returned: list[_Interaction] = []
        for interaction_id in list(agent.active):
            x = self._interactions[interaction_id]
            if x.state is _ALERTING and which(x):
                out.append(OfferEnded(x.id, agent.id, x.queue_id, OfferEnd.WITHDRAWN))
                self._release(x, agent)
                returned.append(x)
        return returned

    def _withdraw_over_capacity(self, agent: _Agent, out: list[Decision]) -> list[_Interaction]:
        """Withdraw alerting offers beyond the agent's capacity, latest deadline first (the
        caller places them)."""
        excess = len(agent.active) - agent.capacity
        if excess <= 0:
            return []
        alerting = [x for x in map(self._interactions.__getitem__, agent.active)
                    if x.state is _ALERTING]
        # The offers with the most time left go first: by deadline, which is persisted, so a
        # restarted engine would choose the same ones.
        alerting.sort(key=lambda x: (x.deadline_ms, x.order), reverse=True)
        chosen = {x.id for x in alerting[:excess]}
        return self._withdraw(agent, lambda x: x.id in chosen, out)

    def _leave(self, q: _Queue, agent: _Agent, now_ms: int, out: list[Decision]) -> None:
        self._unjoin_index(q, agent)
        returned = self._withdraw(agent, lambda x: x.queue_id == q.id, out)
        self._update(agent, out)
        self._place_all(returned, now_ms, out)
        self._serve(agent, now_ms, out)

    def _settle(self, agent: _Agent, now_ms: int, out: list[Decision]) -> None:
        """Bring an agent's status and indexes up to date, then give it work if it has room."""
        self._update(agent, out)
        self._serve(agent, now_ms, out)

    # ---------------------------------------------------------------- agent indexes

    def _update(self, agent: _Agent, out: list[Decision]) -> None:
        """Recompute the agent's routing status (reporting a change) and re-file it in the
        available-agent heaps of its joined queues if its key or profile changed.
        """
        if not agent.on_queue:
            status = RoutingStatus.OFF_QUEUE
        elif agent.not_responding:
            status = RoutingStatus.NOT_RESPONDING
        elif agent.active:
            status = RoutingStatus.INTERACTING
        else:
            status = RoutingStatus.IDLE
        if status is not agent.status:
            out.append(StatusChanged(agent.id, agent.status, status))
            agent.status = status
        key: AgentKey | None = None
        if (agent.on_queue and not agent.not_responding
                and len(agent.active) < agent.capacity):
            key = (1 if agent.active else 0, agent.idle_since_ms, agent.id)
        if key == agent.key and (key is None or agent.profile is agent.indexed_profile):
            return
        for queue_id in agent.joined:
            q = self._queues[queue_id]
            self._file(q, agent, key)
        agent.key = key
        agent.indexed_profile = agent.profile if key is not None else None

    def _file(self, q: _Queue, agent: _Agent, key: AgentKey | None) -> None:
        old = agent.indexed_profile
        if key is None:
            q.discard_available(agent.id, old)
            return
        if old is not None and old is not agent.profile:  # its skills changed (rare)
            q.discard_available(agent.id, old)
        q.add_available(key, agent.profile)

    def _join(self, q: _Queue, agent: _Agent) -> None:
        agent.joined.add(q.id)
        if agent.key is not None:
            q.add_available(agent.key, agent.profile)

    def _unjoin_index(self, q: _Queue, agent: _Agent) -> None:
        agent.joined.discard(q.id)
        q.discard_available(agent.id, agent.indexed_profile)

    def _unindex(self, agent: _Agent) -> None:
        for queue_id in list(agent.joined):
            self._unjoin_index(self._queues[queue_id], agent)
        agent.key = None
        agent.indexed_profile = None

    def _acquire(self, key: frozenset[tuple[str, int]]) -> _Profile:
        profile = self._profiles.get(key)
        if profile is None:
            profile = self._profiles[key] = _Profile(key)
        profile.agents += 1
        return profile

    def _release_profile(self, profile: _Profile) -> None:
        profile.agents -= 1
        if profile.agents == 0:
            del self._profiles[profile.key]

    # ---------------------------------------------------------------- lookups

    def _queue(self, queue_id: str) -> _Queue:
        q = self._queues.get(queue_id)
        if q is None:
            raise NotFound(f"queue {queue_id} is not known to the ACD")
        return q

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} is not known to the ACD")
        return agent

    def _interaction(self, interaction_id: str) -> _Interaction:
        x = self._interactions.get(interaction_id)
        if x is None:
            raise NotFound(f"interaction {interaction_id} is not in the ACD")
        return x

    def _alerting_for(self, interaction_id: str, agent_id: str, verb: str) -> _Interaction:
        x = self._interaction(interaction_id)
        self._agent(agent_id)
        if x.state is not _ALERTING:
            raise Conflict(f"cannot {verb} interaction {interaction_id}: it is {x.state}, "
                           "not alerting")
        if x.agent_id != agent_id:
            raise Conflict(f"cannot {verb} interaction {interaction_id}: it is offered to "
                           "another agent")
        return x

    def _restored(self, interaction_id: str, queue_id: str, enqueued_ms: int, priority: int,
                  skills: Iterable[str], preferred_agent: str | None,
                  declined_by: Iterable[str], *, queue_required: bool = True) -> _Interaction:
        if interaction_id in self._interactions:
            raise Conflict(f"interaction {interaction_id} is already in the ACD")
        if queue_required:
            self._queue(queue_id)
        x = _Interaction(interaction_id, queue_id, priority, frozenset(skills), preferred_agent,
                         enqueued_ms, next(self._orders), declined_by=set(declined_by) or None)
        self._interactions[x.id] = x
        return x


def _offer_lapsed(agent: _Agent, x: _Interaction) -> bool:
    """An offer (restored from storage) that could not be made now: withdraw it."""
    return not agent.on_queue or x.queue_id not in agent.joined


def _profile_key(skills: Mapping[str, int]) -> frozenset[tuple[str, int]]:
    for skill_id, proficiency in skills.items():
        if not skill_id:
            raise InvalidInput("skill id must not be empty", field="skills")
        if not MIN_PROFICIENCY <= proficiency <= MAX_PROFICIENCY:
            raise InvalidInput(
                f"proficiency for skill {skill_id} must be between {MIN_PROFICIENCY} and "
                f"{MAX_PROFICIENCY}", field="skills")
    return frozenset(skills.items())


def _check_capacity(capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity must be between {MIN_CAPACITY} and {MAX_CAPACITY}",
                           field="capacity")
