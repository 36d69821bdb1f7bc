"""Builders and a brute-force oracle for the ACD tests.

The oracle recomputes the routing rules from the engine's public views only (who is on
queue, joined, free, skilled), by scanning everything: slow and obviously right, so the
engine's indexed answers can be checked against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parley.domain.acd import (
    Acd,
    AgentView,
    Decision,
    InteractionState,
    InteractionView,
    Offered,
    RoutingStatus,
    SkillEvaluationMethod,
)

NONE = SkillEvaluationMethod.NONE
ALL = SkillEvaluationMethod.ALL
BEST = SkillEvaluationMethod.BEST
TIMEOUT = 10_000


@dataclass
class Agent:
    id: str
    queues: tuple[str, ...] = ("q",)
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: int = 1
    on_queue_at: int | None = 0  # None: stays off queue


def build(agents: Iterable[Agent], queues: Mapping[str, SkillEvaluationMethod] | None = None,
          *, timeout_ms: int = TIMEOUT) -> Acd:
    """An engine with the queues and agents given; agents go on queue at their times."""
    acd = Acd()
    for queue_id, evaluation in (queues or {"q": ALL}).items():
        acd.set_queue(queue_id, 0, evaluation=evaluation, alerting_timeout_ms=timeout_ms)
    agents = list(agents)
    for a in agents:
        acd.set_agent(a.id, 0, capacity=a.capacity, skills=a.skills)
        for queue_id in a.queues:
            acd.set_member(queue_id, a.id, True, 0)
    for a in sorted((a for a in agents if a.on_queue_at is not None),
                    key=lambda a: a.on_queue_at or 0):
        acd.set_on_queue(a.id, True, a.on_queue_at or 0)
    return acd


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    """(interaction id, agent id) of every offer, in order."""
    return [(d.interaction_id, d.agent_id) for d in decisions if isinstance(d, Offered)]


def is_available(view: AgentView) -> bool:
    return (view.status in (RoutingStatus.IDLE, RoutingStatus.INTERACTING)
            and view.active < view.capacity)


def skill_eligible(evaluation: SkillEvaluationMethod, skills: Mapping[str, int],
                   required: frozenset[str]) -> bool:
    """May an agent with `skills` take a conversation needing `required` at all?"""
    return evaluation is not ALL or required <= skills.keys()


def rank_key(x: InteractionView, order: Mapping[str, int]) -> tuple[int, int, int]:
    """Waiting order: priority (high first), then enqueue time, then arrival order."""
    return (-x.priority, x.enqueued_ms, order[x.id])


def expected_agent(acd: Acd, queue_id: str, required: frozenset[str],
                   preferred: str | None = None,
                   declined: frozenset[str] = frozenset()) -> str | None:
    """Who should get a conversation arriving now, by scanning every agent."""
    evaluation = acd.queue(queue_id).evaluation
    candidates = [v for v in (acd.agent(a) for a in acd.agent_ids())
                  if queue_id in v.joined_queues and is_available(v)
                  and skill_eligible(evaluation, v.skills, required)]
    if not candidates:
        return None
    fresh = [v for v in candidates if v.id not in declined]
    pool = fresh or candidates
    for v in pool:
        if v.id == preferred and preferred not in declined and (
                evaluation is NONE or not required or required <= v.skills.keys()):
            return v.id

    def key(v: AgentView) -> tuple[int, int, int, int, str]:
        held = [v.skills[s] for s in required if s in v.skills]
        score = (len(held), sum(held)) if evaluation is BEST else (0, 0)
        return (-score[0], -score[1], 1 if v.active else 0, v.idle_since_ms, v.id)

    return min(pool, key=key).id


def states(acd: Acd) -> dict[str, InteractionState]:
    return {i: acd.interaction(i).state for i in acd.interaction_ids()}
