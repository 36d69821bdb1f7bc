"""Which agent gets a conversation that arrives: availability, idleness, skills, preference."""

from __future__ import annotations

import pytest

from parley.domain.acd import Offered, RoutingStatus, SkillEvaluationMethod, StatusChanged

from .support import ALL, BEST, NONE, TIMEOUT, Agent, build, expected_agent, offers


@pytest.mark.parametrize(("agents", "expected"), [
    pytest.param([Agent("a", on_queue_at=5), Agent("b", on_queue_at=3)], "b",
                 id="longest-idle-first"),
    pytest.param([Agent("b", on_queue_at=3), Agent("a", on_queue_at=3)], "a",
                 id="tie-on-idle-time-goes-by-agent-id"),
    pytest.param([Agent("a", on_queue_at=None), Agent("b", on_queue_at=9)], "b",
                 id="off-queue-agent-skipped"),
    pytest.param([Agent("a", queues=("other",)), Agent("b", on_queue_at=9)], "b",
                 id="non-member-skipped"),
    pytest.param([Agent("a", on_queue_at=None)], None, id="nobody-on-queue-waits"),
])
def test_arrival_goes_to_longest_idle_available_member(agents: list[Agent],
                                                       expected: str | None) -> None:
    acd = build(agents, {"q": ALL, "other": ALL})
    decisions = acd.enqueue("x", "q", 100)
    assert offers(decisions) == ([("x", expected)] if expected else [])
    assert acd.interaction("x").agent_id == expected


def test_an_idle_agent_is_chosen_before_a_busy_one_with_free_capacity() -> None:
    # b has been idle longer but already has a conversation; a has none.
    acd = build([Agent("b", capacity=2, on_queue_at=1), Agent("a", capacity=2, on_queue_at=5)])
    assert offers(acd.enqueue("x1", "q", 10)) == [("x1", "b")]
    assert offers(acd.enqueue("x2", "q", 11)) == [("x2", "a")]
    # Both busy now: b still has room and the earlier idle time.
    assert offers(acd.enqueue("x3", "q", 12)) == [("x3", "b")]


def test_finishing_a_connected_conversation_restarts_idle_time() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("x1", "q", 10)  # -> a
    acd.accept("x1", "a", 11)
    acd.finish("x1", 20)  # a idle since 20, b since 2
    assert offers(acd.enqueue("x2", "q", 30)) == [("x2", "b")]


def test_the_offer_is_reported_with_the_deadline_and_status_change() -> None:
    acd = build([Agent("a")])
    decisions = acd.enqueue("x", "q", 1_000)
    assert Offered("x", "a", "q", 1_000 + TIMEOUT) in decisions
    assert StatusChanged("a", RoutingStatus.IDLE, RoutingStatus.INTERACTING) in decisions
    assert acd.routing_status("a") is RoutingStatus.INTERACTING


SKILLED = [
    Agent("none", on_queue_at=1),
    Agent("en1", skills={"en": 1}, on_queue_at=2),
    Agent("en5", skills={"en": 5}, on_queue_at=3),
    Agent("en2-bill3", skills={"en": 2, "billing": 3}, on_queue_at=4),
    Agent("en4-bill4", skills={"en": 4, "billing": 4}, on_queue_at=5),
]


@pytest.mark.parametrize(("evaluation", "required", "expected"), [
    pytest.param(NONE, {"en", "billing"}, "none", id="none-ignores-skills"),
    pytest.param(ALL, set(), "none", id="all-without-requirements-is-longest-idle"),
    pytest.param(ALL, {"en"}, "en1", id="all-longest-idle-holder"),
    pytest.param(ALL, {"en", "billing"}, "en2-bill3", id="all-needs-every-skill"),
    pytest.param(ALL, {"fr"}, None, id="all-nobody-qualifies-waits"),
    pytest.param(BEST, {"en"}, "en5", id="best-highest-proficiency"),
    pytest.param(BEST, {"en", "billing"}, "en4-bill4", id="best-full-match-highest-total"),
    pytest.param(BEST, {"en", "fr"}, "en5", id="best-partial-fallback-highest-total"),
    pytest.param(BEST, {"fr"}, "none", id="best-no-match-at-all-longest-idle"),
    pytest.param(BEST, {"en", "billing", "fr"}, "en4-bill4",
                 id="best-partial-prefers-more-skills-held"),
])
def test_skill_evaluation(evaluation: SkillEvaluationMethod, required: set[str],
                          expected: str | None) -> None:
    acd = build(SKILLED, {"q": evaluation})
    assert expected_agent(acd, "q", frozenset(required)) == expected  # the oracle agrees
    decisions = acd.enqueue("x", "q", 100, skills=required)
    assert offers(decisions) == ([("x", expected)] if expected else [])


def test_best_full_match_beats_a_partial_match_with_higher_total() -> None:
    acd = build([Agent("partial", skills={"en": 5, "fr": 5}, on_queue_at=1),
                 Agent("full", skills={"en": 0, "fr": 0, "de": 0}, on_queue_at=2)],
                {"q": BEST})
    assert offers(acd.enqueue("x", "q", 10, skills={"en", "fr", "de"})) == [("x", "full")]


def test_best_ties_on_proficiency_go_to_longest_idle() -> None:
    acd = build([Agent("b", skills={"en": 3}, on_queue_at=1),
                 Agent("a", skills={"en": 3}, on_queue_at=2)], {"q": BEST})
    assert offers(acd.enqueue("x", "q", 10, skills={"en"})) == [("x", "b")]


@pytest.mark.parametrize(("preferred", "expected"), [
    pytest.param("c", "c", id="available-preferred-agent-first"),
    pytest.param("busy", "a", id="busy-preferred-falls-back"),
    pytest.param("off", "a", id="off-queue-preferred-falls-back"),
    pytest.param("outsider", "a", id="non-member-preferred-falls-back"),
    pytest.param("unskilled", "a", id="preferred-without-skills-falls-back"),
    pytest.param("ghost", "a", id="unknown-preferred-ignored"),
])
def test_preferred_agent(preferred: str, expected: str) -> None:
    acd = build([Agent("a", skills={"en": 1}, on_queue_at=1),
                 Agent("c", skills={"en": 1}, on_queue_at=3),
                 Agent("busy", skills={"en": 1}, on_queue_at=0),
                 Agent("off", skills={"en": 1}, on_queue_at=None),
                 Agent("outsider", skills={"en": 1}, queues=("other",)),
                 Agent("unskilled", on_queue_at=0)], {"q": ALL, "other": ALL})
    acd.enqueue("first", "q", 5, preferred_agent="busy")
    assert acd.interaction("first").agent_id == "busy"
    decisions = acd.enqueue("x", "q", 10, skills={"en"}, preferred_agent=preferred)
    assert offers(decisions) == [("x", expected)]


def test_preferred_agent_with_partial_skills_does_not_jump_a_best_queue() -> None:
    acd = build([Agent("a", skills={"en": 1}, on_queue_at=1),
                 Agent("p", skills={"fr": 5}, on_queue_at=2)], {"q": BEST})
    assert offers(acd.enqueue("x", "q", 10, skills={"en"}, preferred_agent="p")) == [("x", "a")]


def test_no_offer_beyond_capacity() -> None:
    acd = build([Agent("a", capacity=2)])
    acd.enqueue("x1", "q", 1)
    acd.enqueue("x2", "q", 2)
    assert offers(acd.enqueue("x3", "q", 3)) == []
    assert acd.waiting("q") == ["x3"]
    assert acd.agent("a").active == 2
