"""Property-based tests: any interleaving of events keeps the ACD's promises.

A hypothesis state machine drives one engine through random arrivals, accepts, declines,
timeouts, presence and capacity changes, membership and queue changes, finishes and
transfers, and after every step checks, against the public views and a replay of the
decisions it returned:

- the decisions are a complete log: replaying them gives every interaction's state, agent
  and queue, and every agent's routing status (each StatusChanged starts from the last one);
- nothing is lost or duplicated: every interaction is waiting in exactly one queue, or
  alerting or connected for exactly one agent;
- no agent holds an offer beyond its capacity; offers only alert for on-queue agents who
  have joined the queue (and, in an ALL queue, hold the skills, when offered);
- work-conserving: no waiting conversation has an available, eligible agent;
- order: an agent offered a conversation had no better waiting one it was eligible for;
- an arrival goes to the agent a brute-force scan of every agent would choose;
- `next_deadline` and the queue views agree with the interactions;
- (white box) each queue's heaps hold exactly its waiting conversations and its available
  joined members, filed by skill set and by profile, and no empty bucket or group is kept
  (the engine's cost rests on it: routing loops over the buckets and groups).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from parley.domain.acd import (
    Acd,
    Connected,
    Decision,
    Finished,
    InteractionState,
    Offered,
    OfferEnded,
    Orphaned,
    Queued,
    RoutingStatus,
    SkillEvaluationMethod,
    StatusChanged,
    Transferred,
)
from parley.domain.errors import Conflict, NotFound

from .support import expected_agent, is_available, skill_eligible

QUEUES = ("q0", "q1", "q2")
AGENTS = ("a0", "a1", "a2", "a3", "a4")
SKILLS = ("s0", "s1", "s2")
WAITING = InteractionState.WAITING
ALERTING = InteractionState.ALERTING
CONNECTED = InteractionState.CONNECTED

queues = st.sampled_from(QUEUES)
agents = st.sampled_from(AGENTS)
evaluations = st.sampled_from(list(SkillEvaluationMethod))
required_skills = st.frozensets(st.sampled_from(SKILLS), max_size=2)
agent_skills = st.dictionaries(st.sampled_from(SKILLS), st.integers(0, 5), max_size=3)


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd = Acd()
        self.now = 0
        self.ids = 0
        self.arrival = 0
        self.order: dict[str, int] = {}
        # Replayed from the decisions alone.
        self.log: dict[str, tuple[InteractionState, str | None, str]] = {}
        self.status: dict[str, RoutingStatus] = {}
        self.last: list[Decision] = []

    # ------------------------------------------------------------------ helpers

    def apply(self, decisions: list[Decision]) -> None:
        for d in decisions:
            match d:
                case Queued(x, q):
                    assert x not in self.log
                    self.log[x] = (WAITING, None, q)
                case Offered(x, a, q, deadline):
                    assert self.log[x][0] is WAITING and self.log[x][2] == q
                    assert deadline > self.now - 1
                    self.log[x] = (ALERTING, a, q)
                case OfferEnded(x, a, q, _):
                    assert self.log[x] == (ALERTING, a, q)
                    self.log[x] = (WAITING, None, q)
                case Connected(x, a, q):
                    assert self.log[x] == (ALERTING, a, q)
                    self.log[x] = (CONNECTED, a, q)
                case Transferred(x, from_q, to_q, a):
                    assert self.log[x][1:] == (a, from_q)
                    self.log[x] = (WAITING, None, to_q)
                case Finished(x, q, a):
                    assert self.log.pop(x)[1:] == (a, q)
                case Orphaned(x, q, a, state):
                    assert self.log.pop(x) == (state, a, q)
                case StatusChanged(a, old, new):
                    assert self.status[a] is old and old is not new
                    self.status[a] = new
        self.last = decisions

    def live(self, *states: InteractionState) -> list[str]:
        return sorted(x for x, (s, _, _) in self.log.items() if s in states)

    def new_id(self) -> str:
        self.ids += 1
        return f"x{self.ids}"

    def arrived(self, x: str) -> None:
        self.order[x] = self.arrival
        self.arrival += 1

    # ------------------------------------------------------------------ rules

    @initialize(evaluation=st.lists(evaluations, min_size=len(QUEUES), max_size=len(QUEUES)),
                profiles=st.lists(st.tuples(st.integers(1, 3), agent_skills, st.booleans()),
                                  min_size=len(AGENTS), max_size=len(AGENTS)),
                membership=st.lists(st.booleans(), min_size=len(QUEUES) * len(AGENTS),
                                    max_size=len(QUEUES) * len(AGENTS)))
    def contact_centre(self, evaluation: list[SkillEvaluationMethod],
                       profiles: list[tuple[int, dict[str, int], bool]],
                       membership: list[bool]) -> None:
        """Start from a staffed centre (every queue and agent, random members, most on
        queue) so that routing happens from the first step."""
        for q, method in zip(QUEUES, evaluation, strict=True):
            self.apply(self.acd.set_queue(q, 0, evaluation=method, alerting_timeout_ms=1_000))
        for a, (capacity, skills, _) in zip(AGENTS, profiles, strict=True):
            self.status[a] = RoutingStatus.OFF_QUEUE
            self.apply(self.acd.set_agent(a, 0, capacity=capacity, skills=skills))
        # Hypothesis leans to False, so False means "joined" and "on queue": the simplest
        # centre is fully staffed, and shrinking keeps failures staffed too.
        left_out = iter(membership)
        for q in QUEUES:
            for a in AGENTS:
                if not next(left_out):
                    self.apply(self.acd.set_member(q, a, True, 0))
        for a, (_, _, off) in zip(AGENTS, profiles, strict=True):
            if not off:
                self.apply(self.acd.set_on_queue(a, True, 0))

    @rule(ms=st.integers(0, 600) | st.sampled_from([1_000, 3_000]))
    def advance(self, ms: int) -> None:
        self.now += ms
        self.apply(self.acd.tick(self.now))

    @rule(q=queues, evaluation=evaluations, timeout=st.sampled_from([500, 1_000, 4_000]))
    def set_queue(self, q: str, evaluation: SkillEvaluationMethod, timeout: int) -> None:
        self.apply(self.acd.set_queue(q, self.now, evaluation=evaluation,
                                      alerting_timeout_ms=timeout))

    @rule(q=queues)
    def remove_queue(self, q: str) -> None:
        if q not in self.acd.queue_ids():
            try:
                self.acd.remove_queue(q, self.now)
            except NotFound:
                return
            raise AssertionError("removing an unknown queue must fail")
        self.apply(self.acd.remove_queue(q, self.now))

    @rule(a=agents, capacity=st.integers(1, 3), skills=agent_skills)
    def set_agent(self, a: str, capacity: int, skills: dict[str, int]) -> None:
        if a not in self.acd.agent_ids():
            self.status[a] = RoutingStatus.OFF_QUEUE
        self.apply(self.acd.set_agent(a, self.now, capacity=capacity, skills=skills))

    @rule(a=agents)
    def remove_agent(self, a: str) -> None:
        if a not in self.acd.agent_ids():
            return
        self.apply(self.acd.remove_agent(a, self.now))
        del self.status[a]

    @rule(q=queues, a=agents, joined=st.booleans())
    def set_member(self, q: str, a: str, joined: bool) -> None:
        if q not in self.acd.queue_ids() or a not in self.acd.agent_ids():
            try:
                self.acd.set_member(q, a, joined, self.now)
            except NotFound:
                return
            raise AssertionError("membership of an unknown queue or agent must fail")
        self.apply(self.acd.set_member(q, a, joined, self.now))

    @rule(q=queues, a=agents)
    def remove_member(self, q: str, a: str) -> None:
        try:
            decisions = self.acd.remove_member(q, a, self.now)
        except NotFound:
            return
        self.apply(decisions)

    @rule(a=agents, on=st.booleans())
    def set_on_queue(self, a: str, on: bool) -> None:
        if a in self.acd.agent_ids():
            self.apply(self.acd.set_on_queue(a, on, self.now))

    @rule(a=agents)
    def clear_not_responding(self, a: str) -> None:
        if a in self.acd.agent_ids():
            self.apply(self.acd.clear_not_responding(a, self.now))

    @rule(q=queues, priority=st.integers(0, 2), skills=required_skills,
          preferred=st.none() | agents)
    def enqueue(self, q: str, priority: int, skills: frozenset[str],
                preferred: str | None) -> None:
        x = self.new_id()
        if q not in self.acd.queue_ids():
            try:
                self.acd.enqueue(x, q, self.now)
            except NotFound:
                return
            raise AssertionError("enqueue into an unknown queue must fail")
        expected = expected_agent(self.acd, q, skills, preferred)
        decisions = self.acd.enqueue(x, q, self.now, priority=priority, skills=skills,
                                     preferred_agent=preferred)
        self.arrived(x)
        self.apply(decisions)
        assert self.acd.interaction(x).agent_id == expected

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        alerting = self.live(ALERTING)
        if not alerting:
            return
        x = data.draw(st.sampled_from(alerting))
        agent = self.log[x][1]
        assert agent is not None
        wrong = data.draw(st.sampled_from([a for a in self.acd.agent_ids() if a != agent]
                                          or [agent]))
        if wrong != agent:
            try:
                self.acd.accept(x, wrong, self.now)
            except Conflict:
                pass
            else:
                raise AssertionError("accept by another agent must fail")
        self.apply(self.acd.accept(x, agent, self.now))

    # Arrivals, accepts and finishes are the common events: give them a second rule each so
    # the machine draws them more often.
    more_enqueues = enqueue
    more_accepts = accept

    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        alerting = self.live(ALERTING)
        if not alerting:
            return
        x = data.draw(st.sampled_from(alerting))
        agent = self.log[x][1]
        assert agent is not None
        self.apply(self.acd.decline(x, agent, self.now))
        assert agent in self.acd.interaction(x).declined_by

    @rule(data=st.data())
    def accept_non_alerting_fails(self, data: st.DataObject) -> None:
        others = self.live(WAITING, CONNECTED)
        if not others or not self.acd.agent_ids():
            return
        x = data.draw(st.sampled_from(others))
        agent = data.draw(st.sampled_from(self.acd.agent_ids()))
        try:
            self.acd.accept(x, agent, self.now)
        except Conflict:
            return
        raise AssertionError("accepting a waiting or connected interaction must fail")

    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        live = self.live(WAITING, ALERTING, CONNECTED)
        if live:
            self.apply(self.acd.finish(data.draw(st.sampled_from(live)), self.now))

    more_finishes = finish

    @rule(data=st.data(), q=queues, priority=st.none() | st.integers(0, 2),
          skills=st.none() | required_skills)
    def transfer(self, data: st.DataObject, q: str, priority: int | None,
                 skills: frozenset[str] | None) -> None:
        live = self.live(WAITING, ALERTING, CONNECTED)
        if not live or q not in self.acd.queue_ids():
            return
        x = data.draw(st.sampled_from(live))
        decisions = self.acd.transfer(x, q, self.now, priority=priority, skills=skills)
        self.arrived(x)
        self.apply(decisions)

    @rule()
    def restart(self) -> None:
        """Rebuild a new engine from the old one's views, as the service does from the
        database after a restart: nothing is due, and every view comes back the same."""
        old = self.acd
        new = Acd()
        for q in old.queue_ids():
            view = old.queue(q)
            new.set_queue(q, self.now, evaluation=view.evaluation,
                          alerting_timeout_ms=view.alerting_timeout_ms)
        for a in old.agent_ids():
            agent = old.agent(a)
            new.restore_agent(a, capacity=agent.capacity, skills=agent.skills,
                              on_queue=agent.on_queue, not_responding=agent.not_responding,
                              idle_since_ms=agent.idle_since_ms)
        for q in old.queue_ids():
            for a, joined in old.members(q).items():
                new.restore_member(q, a, joined)
        for x in sorted(old.interaction_ids(), key=self.order.__getitem__):
            i = old.interaction(x)
            if i.state is WAITING:
                new.restore_waiting(x, i.queue_id, enqueued_ms=i.enqueued_ms,
                                    priority=i.priority, skills=i.skills,
                                    preferred_agent=i.preferred_agent, declined_by=i.declined_by)
            elif i.state is ALERTING:
                assert i.agent_id is not None and i.deadline_ms is not None
                new.restore_alerting(x, i.queue_id, i.agent_id, enqueued_ms=i.enqueued_ms,
                                     deadline_ms=i.deadline_ms, priority=i.priority,
                                     skills=i.skills, preferred_agent=i.preferred_agent,
                                     declined_by=i.declined_by)
            else:
                assert i.agent_id is not None
                new.restore_connected(x, i.queue_id, i.agent_id, enqueued_ms=i.enqueued_ms,
                                      priority=i.priority, skills=i.skills,
                                      preferred_agent=i.preferred_agent,
                                      declined_by=i.declined_by)
        assert new.rebalance(self.now) == []
        assert snapshot(new) == snapshot(old)
        assert new.next_deadline() == old.next_deadline()
        self.acd = new
        self.last = []

    # ------------------------------------------------------------------ invariants

    @invariant()
    def decisions_replay_to_the_engine_state(self) -> None:
        acd = self.acd
        assert sorted(self.log) == acd.interaction_ids()
        for x, (state, agent, q) in self.log.items():
            view = acd.interaction(x)
            assert (view.state, view.agent_id, view.queue_id) == (state, agent, q)
        assert sorted(self.status) == acd.agent_ids()
        for a, status in self.status.items():
            assert acd.routing_status(a) is status

    @invariant()
    def every_interaction_is_in_exactly_one_place(self) -> None:
        acd = self.acd
        places: list[str] = []
        for q in acd.queue_ids():
            waiting = acd.waiting(q)
            places += waiting
            assert all(acd.interaction(x).state is WAITING for x in waiting)
            assert all(acd.interaction(x).queue_id == q for x in waiting)
            assert acd.queue(q).waiting == len(waiting)
        for a in acd.agent_ids():
            view = acd.agent(a)
            places += view.alerting + view.connected
            assert all(acd.interaction(x).agent_id == a for x in view.alerting + view.connected)
        assert sorted(places) == acd.interaction_ids()

    @invariant()
    def capacity_and_offers_are_respected(self) -> None:
        acd = self.acd
        deadlines = []
        for a in acd.agent_ids():
            view = acd.agent(a)
            if view.alerting:
                assert view.active <= view.capacity
                assert view.status is not RoutingStatus.OFF_QUEUE
            for x in view.alerting:
                offer = acd.interaction(x)
                assert offer.queue_id in view.joined_queues
                assert offer.deadline_ms is not None
                deadlines.append(offer.deadline_ms)
        assert acd.next_deadline() == (min(deadlines) if deadlines else None)
        for i, d in enumerate(self.last):
            if not isinstance(d, Offered) or self.log.get(d.interaction_id) != (
                    ALERTING, d.agent_id, d.queue_id):
                continue
            view = acd.agent(d.agent_id)
            later = self.last[i + 1:]
            if view.status is RoutingStatus.NOT_RESPONDING:
                assert any(isinstance(s, StatusChanged) and s.agent_id == d.agent_id
                           and s.new is RoutingStatus.NOT_RESPONDING for s in later)
            evaluation = acd.queue(d.queue_id).evaluation
            assert skill_eligible(evaluation, view.skills, acd.interaction(d.interaction_id).skills)

    @invariant()
    def work_conserving(self) -> None:
        acd = self.acd
        free = [v for v in (acd.agent(a) for a in acd.agent_ids()) if is_available(v)]
        for q in acd.queue_ids():
            evaluation = acd.queue(q).evaluation
            for x in acd.waiting(q):
                required = acd.interaction(x).skills
                for v in free:
                    assert not (q in v.joined_queues
                                and skill_eligible(evaluation, v.skills, required)), (
                        f"{x} waits in {q} while {v.id} is free for it")

    @invariant()
    def offers_follow_priority_then_age(self) -> None:
        acd = self.acd
        for d in self.last:
            if not isinstance(d, Offered) or self.log.get(d.interaction_id) != (
                    ALERTING, d.agent_id, d.queue_id):
                continue
            view = acd.agent(d.agent_id)
            mine = acd.interaction(d.interaction_id)
            rank = (-mine.priority, mine.enqueued_ms, self.order[mine.id])
            for q in view.joined_queues:
                evaluation = acd.queue(q).evaluation
                for x in acd.waiting(q):
                    other = acd.interaction(x)
                    if skill_eligible(evaluation, view.skills, other.skills):
                        assert (-other.priority, other.enqueued_ms, self.order[x]) > rank, (
                            f"{d.agent_id} got {mine.id} while better {x} waits")

    @invariant()
    def queue_views_add_up(self) -> None:
        acd = self.acd
        for q in acd.queue_ids():
            view = acd.queue(q)
            mine = [acd.interaction(x) for x in acd.interaction_ids()
                    if acd.interaction(x).queue_id == q]
            assert view.alerting == sum(x.state is ALERTING for x in mine)
            assert view.connected == sum(x.state is CONNECTED for x in mine)
            waiting = [x.enqueued_ms for x in mine if x.state is WAITING]
            assert view.oldest_waiting_since_ms == (min(waiting) if waiting else None)
            assert sum(view.agents.values()) == view.joined

    @invariant()
    def queue_indexes_hold_exactly_what_routing_needs(self) -> None:
        acd = self.acd
        free = [v for v in (acd.agent(a) for a in acd.agent_ids()) if is_available(v)]
        for q in acd.queue_ids():
            index = acd._queues[q]
            waiting = {x: acd.interaction(x).skills for x in acd.waiting(q)}
            assert set(index.by_age.ids()) == set(waiting)
            assert {skills: set(bucket.ids()) for skills, bucket in index.buckets.items()} == {
                skills: {x for x, needs in waiting.items() if needs == skills}
                for skills in waiting.values()}
            available = [v for v in free if q in v.joined_queues]
            assert set(index.available.ids()) == {v.id for v in available}
            groups = {frozenset(profile.skills.items()): set(group.ids())
                      for profile, group in index.groups.items()}
            assert len(groups) == len(index.groups)
            assert groups == {frozenset(v.skills.items()): {w.id for w in available
                                                            if w.skills == v.skills}
                              for v in available}

def snapshot(acd: Acd) -> tuple[object, ...]:
    return ([acd.queue(q) for q in acd.queue_ids()],
            [acd.members(q) for q in acd.queue_ids()],
            [acd.waiting(q) for q in acd.queue_ids()],
            [acd.agent(a) for a in acd.agent_ids()],
            [acd.interaction(x) for x in acd.interaction_ids()])


TestAcdMachine = AcdMachine.TestCase
TestAcdMachine.settings = settings(max_examples=120, stateful_step_count=50, deadline=None,
                                   suppress_health_check=[HealthCheck.too_slow])
