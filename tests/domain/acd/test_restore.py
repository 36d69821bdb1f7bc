"""Restart: rebuild the engine from persisted state without offers, then rebalance."""

from __future__ import annotations

from parley.domain.acd import Acd, InteractionState, OfferEnd, OfferEnded, RoutingStatus

from .support import ALL, offers


def restored() -> Acd:
    acd = Acd()
    acd.set_queue("q", 0, evaluation=ALL, alerting_timeout_ms=1_000)
    acd.restore_agent("a", capacity=2, skills={"en": 3}, on_queue=True, not_responding=False,
                      idle_since_ms=50)
    acd.restore_agent("b", capacity=1, skills={}, on_queue=True, not_responding=False,
                      idle_since_ms=10)
    acd.restore_agent("nr", capacity=1, skills={}, on_queue=True, not_responding=True,
                      idle_since_ms=0)
    for agent_id in ("a", "b", "nr"):
        acd.restore_member("q", agent_id, True)
    acd.restore_connected("c1", "q", "a", enqueued_ms=1)
    acd.restore_alerting("al", "q", "b", enqueued_ms=2, deadline_ms=900)
    acd.restore_waiting("w-en", "q", enqueued_ms=3, skills={"en"})
    acd.restore_waiting("w-any", "q", enqueued_ms=4, declined_by={"b"})
    return acd


def test_restore_makes_no_offers_and_rebuilds_state() -> None:
    acd = restored()
    assert acd.interaction("c1").state is InteractionState.CONNECTED
    assert acd.interaction("al").deadline_ms == 900
    assert acd.interaction("w-any").declined_by == frozenset({"b"})
    assert acd.waiting("q") == ["w-en", "w-any"]
    assert acd.routing_status("a") is RoutingStatus.INTERACTING
    assert acd.routing_status("nr") is RoutingStatus.NOT_RESPONDING
    assert acd.agent("a").idle_since_ms == 50
    assert acd.next_deadline() == 900


def test_rebalance_makes_the_offers_that_are_due() -> None:
    acd = restored()
    assert offers(acd.rebalance(1_000)) == [("w-en", "a")]
    assert acd.rebalance(1_000) == []  # idempotent
    # The restored offer's deadline has passed: the next tick expires it; b goes not
    # responding and w-any has nobody left.
    decisions = acd.tick(1_000)
    assert decisions[0] == OfferEnded("al", "b", "q", OfferEnd.TIMED_OUT)
    assert acd.routing_status("b") is RoutingStatus.NOT_RESPONDING
    assert acd.waiting("q") == ["al", "w-any"]


def test_rebalance_withdraws_offers_beyond_a_lowered_capacity() -> None:
    acd = Acd()
    acd.set_queue("q", 0)
    acd.restore_agent("a", capacity=1, skills={}, on_queue=True, not_responding=False,
                      idle_since_ms=0)
    acd.restore_member("q", "a", True)
    acd.restore_connected("c", "q", "a", enqueued_ms=0)
    acd.restore_alerting("al", "q", "a", enqueued_ms=1, deadline_ms=5_000)
    decisions = acd.rebalance(100)
    assert decisions == [OfferEnded("al", "a", "q", OfferEnd.WITHDRAWN)]
    assert acd.waiting("q") == ["al"]
    assert acd.agent("a").connected == ("c",)


def test_restore_member_and_agent_updates() -> None:
    acd = restored()
    acd.restore_member("q", "a", False)
    assert "q" not in acd.agent("a").joined_queues
    acd.restore_agent("a", capacity=3, skills={"fr": 1}, on_queue=False, not_responding=True,
                      idle_since_ms=70)
    view = acd.agent("a")
    assert (view.capacity, dict(view.skills), view.status, view.not_responding) == (
        3, {"fr": 1}, RoutingStatus.OFF_QUEUE, False)


def test_rebalance_withdraws_offers_to_agents_off_queue_or_no_longer_joined() -> None:
    acd = Acd()
    acd.set_queue("q", 0)
    acd.set_queue("r", 0)
    acd.restore_agent("off", capacity=1, skills={}, on_queue=False, not_responding=False,
                      idle_since_ms=0)
    acd.restore_agent("left", capacity=2, skills={}, on_queue=True, not_responding=False,
                      idle_since_ms=0)
    acd.restore_agent("ok", capacity=1, skills={}, on_queue=True, not_responding=False,
                      idle_since_ms=5)
    acd.restore_member("q", "off", True)
    acd.restore_member("r", "left", True)
    acd.restore_member("q", "ok", True)
    acd.restore_alerting("a1", "q", "off", enqueued_ms=1, deadline_ms=50_000)
    acd.restore_alerting("a2", "q", "left", enqueued_ms=2, deadline_ms=50_000)
    decisions = acd.rebalance(100)
    assert [d for d in decisions if isinstance(d, OfferEnded)] == [
        OfferEnded("a2", "left", "q", OfferEnd.WITHDRAWN),
        OfferEnded("a1", "off", "q", OfferEnd.WITHDRAWN)]
    assert offers(decisions) == [("a1", "ok")]
    assert acd.waiting("q") == ["a2"]
