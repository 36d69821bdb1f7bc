"""Configuration changes at any time: queues, members, capacity, skills, presence."""

from __future__ import annotations

import pytest

from parley.domain.acd import (
    InteractionState,
    OfferEnd,
    OfferEnded,
    Orphaned,
    RoutingStatus,
    SkillEvaluationMethod,
    StatusChanged,
)

from .support import ALL, BEST, NONE, Agent, build, offers

WITHDRAWN = OfferEnd.WITHDRAWN


def test_going_off_queue_withdraws_offers_but_keeps_connected() -> None:
    acd = build([Agent("a", capacity=2, on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("connected", "q", 10)  # -> a
    acd.accept("connected", "a", 11)
    acd.enqueue("other", "q", 12)  # -> b
    acd.enqueue("alerting", "q", 13)  # -> a (b is full)
    decisions = acd.set_on_queue("a", False, 20)
    assert decisions[0] == OfferEnded("alerting", "a", "q", WITHDRAWN)
    assert StatusChanged("a", RoutingStatus.INTERACTING, RoutingStatus.OFF_QUEUE) in decisions
    assert acd.waiting("q") == ["alerting"]
    assert acd.agent("a").connected == ("connected",)
    # b frees up and takes the withdrawn one; a, off queue, gets nothing.
    acd.accept("other", "b", 21)
    assert offers(acd.finish("other", 22)) == [("alerting", "b")]


def test_going_on_queue_twice_is_a_no_op() -> None:
    acd = build([Agent("a", on_queue_at=5)])
    assert acd.set_on_queue("a", True, 9) == []
    assert acd.agent("a").idle_since_ms == 5


def test_raising_capacity_serves_waiting() -> None:
    acd = build([Agent("a")])
    for n in range(3):
        acd.enqueue(f"x{n}", "q", n)
    assert offers(acd.set_agent("a", 10, capacity=3)) == [("x1", "a"), ("x2", "a")]


def test_lowering_capacity_withdraws_offers_and_keeps_connected() -> None:
    acd = build([Agent("a", capacity=4)])
    for n in range(4):
        acd.enqueue(f"x{n}", "q", n)
    acd.accept("x0", "a", 5)
    acd.accept("x2", "a", 5)
    decisions = acd.set_agent("a", 10, capacity=1)
    assert [d for d in decisions if isinstance(d, OfferEnded)] == [
        OfferEnded("x1", "a", "q", WITHDRAWN), OfferEnded("x3", "a", "q", WITHDRAWN)]
    view = acd.agent("a")
    assert (view.connected, view.alerting, view.capacity) == (("x0", "x2"), (), 1)
    assert acd.waiting("q") == ["x1", "x3"]
    acd.finish("x0", 11)
    assert offers(acd.finish("x2", 12)) == [("x1", "a")]


def test_gaining_a_skill_serves_what_now_qualifies() -> None:
    acd = build([Agent("a")])
    acd.enqueue("fr", "q", 1, skills={"fr"})
    assert offers(acd.set_agent("a", 5, skills={"fr": 2})) == [("fr", "a")]


def test_joining_a_queue_serves_it_and_leaving_withdraws_its_offers() -> None:
    acd = build([Agent("a", queues=("q1",), capacity=2)], {"q1": ALL, "q2": ALL})
    acd.enqueue("x1", "q1", 1)
    acd.enqueue("x2", "q2", 2)
    assert offers(acd.set_member("q2", "a", True, 3)) == [("x2", "a")]
    decisions = acd.set_member("q2", "a", False, 4)
    assert decisions == [OfferEnded("x2", "a", "q2", WITHDRAWN)]
    assert acd.waiting("q2") == ["x2"]
    assert acd.agent("a").alerting == ("x1",)  # q1's offer stays
    assert acd.queue("q2").members == 1 and acd.queue("q2").joined == 0
    acd.remove_member("q2", "a", 5)
    assert acd.queue("q2").members == 0


def test_removing_a_joined_member_withdraws_and_serves_other_queues() -> None:
    acd = build([Agent("a", queues=("q1", "q2"))], {"q1": ALL, "q2": ALL})
    acd.enqueue("x1", "q1", 1)
    acd.enqueue("x2", "q2", 2)
    decisions = acd.remove_member("q1", "a", 3)
    assert decisions[0] == OfferEnded("x1", "a", "q1", WITHDRAWN)
    assert offers(decisions) == [("x2", "a")]


def test_changing_the_evaluation_method_reroutes_the_queue() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)], {"q": ALL})
    acd.enqueue("fr1", "q", 10, skills={"fr"})
    acd.enqueue("fr2", "q", 11, skills={"fr"})
    acd.enqueue("fr3", "q", 12, skills={"fr"})
    assert acd.set_queue("q", 20, evaluation=ALL) == []
    decisions = acd.set_queue("q", 20, evaluation=NONE, alerting_timeout_ms=500)
    assert offers(decisions) == [("fr1", "a"), ("fr2", "b")]
    assert acd.interaction("fr1").deadline_ms == 520
    assert acd.queue("q").evaluation is NONE


def test_removing_a_queue_orphans_waiting_and_alerting_but_not_connected() -> None:
    acd = build([Agent("a", queues=("q", "r"), capacity=2)], {"q": ALL, "r": ALL})
    acd.enqueue("connected", "q", 1)
    acd.accept("connected", "a", 2)
    acd.enqueue("alerting", "q", 3)
    acd.enqueue("waiting", "q", 4)
    acd.enqueue("elsewhere", "r", 5)
    decisions = acd.remove_queue("q", 10)
    assert decisions[:2] == [
        Orphaned("alerting", "q", "a", InteractionState.ALERTING),
        Orphaned("waiting", "q", None, InteractionState.WAITING)]
    assert offers(decisions) == [("elsewhere", "a")]
    assert acd.queue_ids() == ["r"]
    assert acd.interaction_ids() == ["connected", "elsewhere"]
    assert acd.agent("a").joined_queues == frozenset({"r"})
    assert acd.agent("a").connected == ("connected",)
    acd.set_queue("q", 11)  # the same id again: it counts the connected one
    assert acd.queue("q").connected == 1
    acd.remove_queue("q", 12)
    acd.finish("connected", 13)  # still finishable with its queue gone
    assert acd.agent("a").active == 1
    acd.set_queue("q", 14)
    assert acd.queue("q").connected == 0


def test_removing_an_agent_reroutes_offers_and_orphans_connected() -> None:
    acd = build([Agent("a", capacity=2, on_queue_at=1), Agent("b", on_queue_at=5)])
    acd.enqueue("connected", "q", 10)  # a
    acd.accept("connected", "a", 11)
    acd.enqueue("busy-b", "q", 12)  # b
    acd.enqueue("alerting", "q", 13)  # a
    acd.accept("busy-b", "b", 14)
    acd.finish("busy-b", 15)
    decisions = acd.remove_agent("a", 20)
    assert OfferEnded("alerting", "a", "q", WITHDRAWN) in decisions
    assert Orphaned("connected", "q", "a", InteractionState.CONNECTED) in decisions
    assert offers(decisions) == [("alerting", "b")]
    assert acd.agent_ids() == ["b"]
    assert acd.queue("q").members == 1


@pytest.mark.parametrize("evaluation", [NONE, ALL, BEST])
def test_new_queue_setting_keeps_waiting_when_nobody_is_there(
        evaluation: SkillEvaluationMethod) -> None:
    acd = build([], {"q": ALL})
    acd.enqueue("x", "q", 1)
    assert acd.set_queue("q", 2, evaluation=evaluation) == []
    assert acd.waiting("q") == ["x"]


def test_lowering_capacity_withdraws_the_offers_with_the_latest_deadlines() -> None:
    acd = build([Agent("a", capacity=3, queues=("slow", "fast"))],
                {"slow": ALL, "fast": ALL})
    acd.set_queue("slow", 0, alerting_timeout_ms=60_000)
    acd.set_queue("fast", 0, alerting_timeout_ms=1_000)
    acd.enqueue("first", "slow", 1)
    acd.enqueue("second", "fast", 2)
    acd.enqueue("third", "fast", 3)
    decisions = acd.set_agent("a", 4, capacity=2)
    assert [d for d in decisions if isinstance(d, OfferEnded)] == [
        OfferEnded("first", "a", "slow", WITHDRAWN)]  # deadline 60,001: the most time left
    assert acd.agent("a").alerting == ("second", "third")
