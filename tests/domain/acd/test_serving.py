"""An agent who gets free capacity takes the best waiting conversation it may handle."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain.acd import Acd, SkillEvaluationMethod

from .support import ALL, BEST, NONE, Agent, build, offers


def busy_acd(evaluation: SkillEvaluationMethod = ALL) -> Acd:
    """Agent a (in q1 and q2, skill en) busy with `held`, so arrivals wait."""
    acd = build([Agent("a", queues=("q1", "q2"), skills={"en": 3})],
                {"q1": evaluation, "q2": ALL})
    acd.enqueue("held", "q1", 0)
    acd.accept("held", "a", 1)
    return acd


@pytest.mark.parametrize(("arrivals", "expected"), [
    pytest.param([("old", "q1", 0, 10), ("new", "q1", 0, 20)], "old", id="oldest-first"),
    pytest.param([("old", "q1", 0, 10), ("urgent", "q1", 5, 20)], "urgent",
                 id="priority-before-age"),
    pytest.param([("q1-new", "q1", 0, 20), ("q2-old", "q2", 0, 10)], "q2-old",
                 id="across-queues-by-age"),
    pytest.param([("q1-old", "q1", 0, 10), ("q2-hi", "q2", 1, 20)], "q2-hi",
                 id="across-queues-by-priority"),
    pytest.param([("fr", "q1", 9, 5, {"fr"}), ("en", "q1", 0, 10, {"en"})], "en",
                 id="skips-ones-it-lacks-skills-for"),
    pytest.param([("same-1", "q1", 0, 10), ("same-2", "q2", 0, 10)], "same-1",
                 id="same-time-by-arrival-order"),
])
def test_freed_agent_takes_highest_priority_then_oldest(
        arrivals: list[tuple[Any, ...]], expected: str) -> None:
    acd = busy_acd()
    for interaction_id, queue_id, priority, at, *skills in arrivals:
        acd.enqueue(interaction_id, queue_id, at, priority=priority,
                    skills=skills[0] if skills else frozenset())
    assert offers(acd.finish("held", 100)) == [(expected, "a")]


@pytest.mark.parametrize("evaluation", [NONE, BEST])
def test_none_and_best_queues_let_any_member_take_any_waiting(
        evaluation: SkillEvaluationMethod) -> None:
    acd = busy_acd(evaluation)
    acd.enqueue("fr", "q1", 10, skills={"fr"})
    assert offers(acd.finish("held", 100)) == [("fr", "a")]


def test_freed_agent_fills_all_its_capacity() -> None:
    acd = build([Agent("a", capacity=3, on_queue_at=None)])
    for n in range(4):
        acd.enqueue(f"x{n}", "q", n)
    assert offers(acd.set_on_queue("a", True, 10)) == [("x0", "a"), ("x1", "a"), ("x2", "a")]
    assert acd.waiting("q") == ["x3"]


def test_each_freed_capacity_slot_takes_the_next_in_line() -> None:
    acd = build([Agent("a", capacity=2)])
    for n in range(5):
        acd.enqueue(f"x{n}", "q", n)
    acd.accept("x0", "a", 10)
    assert offers(acd.finish("x0", 11)) == [("x2", "a")]
    assert offers(acd.finish("x1", 12)) == [("x3", "a")]
