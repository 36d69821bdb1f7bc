"""The life of an offer: accept, decline, time out, finish, transfer."""

from __future__ import annotations

from parley.domain.acd import (
    Connected,
    Finished,
    InteractionState,
    Offered,
    OfferEnd,
    OfferEnded,
    Queued,
    RoutingStatus,
    StatusChanged,
    Transferred,
)

from .support import ALL, TIMEOUT, Agent, build, offers

IDLE = RoutingStatus.IDLE
INTERACTING = RoutingStatus.INTERACTING
NOT_RESPONDING = RoutingStatus.NOT_RESPONDING


def test_enqueue_then_accept() -> None:
    acd = build([Agent("a")])
    assert acd.enqueue("x", "q", 5) == [
        Queued("x", "q"), Offered("x", "a", "q", 5 + TIMEOUT),
        StatusChanged("a", IDLE, INTERACTING)]
    assert acd.accept("x", "a", 6) == [Connected("x", "a", "q")]
    view = acd.interaction("x")
    assert (view.state, view.agent_id, view.deadline_ms) == (InteractionState.CONNECTED, "a", None)
    assert acd.next_deadline() is None
    assert acd.tick(10**9) == []


def test_decline_goes_to_the_next_agent_with_the_same_age() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("x", "q", 10, priority=3)
    decisions = acd.decline("x", "a", 20)
    assert decisions[0] == OfferEnded("x", "a", "q", OfferEnd.DECLINED)
    assert offers(decisions) == [("x", "b")]
    view = acd.interaction("x")
    assert (view.enqueued_ms, view.priority, view.declined_by) == (10, 3, frozenset({"a"}))
    assert acd.routing_status("a") is IDLE  # a decline is not a miss


def test_declined_conversation_goes_back_to_the_decliner_when_nobody_else_can_take_it() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("busy-b", "q", 5, preferred_agent="b")
    acd.enqueue("x", "q", 10)
    assert acd.interaction("x").agent_id == "a"
    assert offers(acd.decline("x", "a", 20)) == [("x", "a")]


def test_decliner_takes_a_better_waiting_conversation_instead() -> None:
    acd = build([Agent("a")])
    acd.enqueue("x", "q", 10)
    acd.enqueue("urgent", "q", 11, priority=5)
    # a declines x: nobody else is free, so a gets the best waiting one, the urgent one.
    assert offers(acd.decline("x", "a", 20)) == [("urgent", "a")]
    acd.accept("urgent", "a", 21)
    assert acd.waiting("q") == ["x"]
    # ...and x once a is free again, since a is the only one who can take it.
    assert offers(acd.finish("urgent", 30)) == [("x", "a")]


def test_decliner_is_ranked_last_when_the_conversation_is_routed_again() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2), Agent("c", on_queue_at=3)])
    acd.enqueue("x", "q", 10)  # -> a
    acd.decline("x", "a", 11)  # -> b
    acd.decline("x", "b", 12)  # -> c
    # c times out: a and b both declined; a is the longest idle of them.
    decisions = acd.tick(12 + TIMEOUT)
    assert decisions[:2] == [OfferEnded("x", "c", "q", OfferEnd.TIMED_OUT),
                             StatusChanged("c", INTERACTING, NOT_RESPONDING)]
    assert offers(decisions) == [("x", "a")]


def test_timeout_makes_agent_not_responding_and_offers_to_the_next() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("x", "q", 100)
    assert acd.next_deadline() == 100 + TIMEOUT
    assert acd.tick(100 + TIMEOUT - 1) == []
    decisions = acd.tick(100 + TIMEOUT)
    assert decisions == [
        OfferEnded("x", "a", "q", OfferEnd.TIMED_OUT),
        StatusChanged("a", INTERACTING, NOT_RESPONDING),
        Offered("x", "b", "q", 100 + 2 * TIMEOUT),
        StatusChanged("b", IDLE, INTERACTING)]
    assert acd.interaction("x").enqueued_ms == 100
    # a gets nothing new while not responding
    assert offers(acd.enqueue("y", "q", 200)) == []
    assert offers(acd.clear_not_responding("a", 300)) == [("y", "a")]


def test_timeouts_in_one_tick_are_routed_best_first() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2),
                 Agent("c", on_queue_at=None)])
    acd.enqueue("low", "q", 10)          # -> a, deadline 10 + T
    acd.enqueue("high", "q", 11, priority=9)  # -> b, deadline 11 + T
    acd.set_on_queue("c", True, 12)
    # both time out in one tick; c can take one: the high-priority one.
    assert offers(acd.tick(11 + TIMEOUT)) == [("high", "c")]
    assert acd.waiting("q") == ["low"]


def test_not_responding_clears_by_going_off_and_on_queue() -> None:
    acd = build([Agent("a")])
    acd.enqueue("x", "q", 0)
    acd.tick(TIMEOUT)
    assert acd.routing_status("a") is NOT_RESPONDING
    assert acd.set_on_queue("a", False, 1) == [
        StatusChanged("a", NOT_RESPONDING, RoutingStatus.OFF_QUEUE)]
    assert offers(acd.set_on_queue("a", True, 2)) == [("x", "a")]


def test_clear_not_responding_is_a_no_op_for_a_responding_agent() -> None:
    acd = build([Agent("a")])
    assert acd.clear_not_responding("a", 5) == []


def test_finish_from_each_state_frees_capacity() -> None:
    acd = build([Agent("a", capacity=2)])
    acd.enqueue("connected", "q", 1)
    acd.accept("connected", "a", 2)
    acd.enqueue("alerting", "q", 3)
    acd.enqueue("waiting", "q", 4)
    assert acd.finish("waiting", 5) == [Finished("waiting", "q", None)]
    acd.enqueue("next", "q", 6)
    decisions = acd.finish("alerting", 7)
    assert decisions == [Finished("alerting", "q", "a"),
                         Offered("next", "a", "q", 7 + TIMEOUT)]
    assert acd.agent("a").idle_since_ms == 0  # only a connected one restarts idle time
    assert acd.finish("connected", 8) == [Finished("connected", "q", "a")]
    assert acd.agent("a").idle_since_ms == 8
    assert acd.interaction_ids() == ["next"]


def test_finish_of_the_last_interaction_makes_the_agent_idle() -> None:
    acd = build([Agent("a")])
    acd.enqueue("x", "q", 1)
    acd.accept("x", "a", 2)
    assert acd.finish("x", 3)[-1] == StatusChanged("a", INTERACTING, IDLE)


def test_transfer_requeues_elsewhere_with_a_new_age() -> None:
    acd = build([Agent("a", queues=("sales",)), Agent("b", queues=("support",), on_queue_at=1)],
                {"sales": ALL, "support": ALL})
    acd.enqueue("x", "sales", 10, priority=2, skills=set())
    acd.accept("x", "a", 11)
    decisions = acd.transfer("x", "support", 50, skills={"billing"})
    assert decisions[0] == Transferred("x", "sales", "support", "a")
    assert offers(decisions) == []  # b lacks billing
    view = acd.interaction("x")
    assert (view.queue_id, view.state, view.enqueued_ms, view.priority, view.skills) == (
        "support", InteractionState.WAITING, 50, 2, frozenset({"billing"}))
    assert acd.agent("a").active == 0
    assert acd.agent("a").idle_since_ms == 50
    acd.set_agent("b", 60, skills={"billing": 1})
    assert acd.interaction("x").agent_id == "b"


def test_transfer_of_a_waiting_interaction_and_back_to_the_same_queue() -> None:
    acd = build([Agent("a", on_queue_at=None)], {"q": ALL, "r": ALL})
    acd.enqueue("x", "q", 1)
    acd.transfer("x", "r", 2)
    assert acd.waiting("q") == [] and acd.waiting("r") == ["x"]
    acd.transfer("x", "q", 3, priority=7)
    assert acd.waiting("q") == ["x"] and acd.waiting("r") == []
    assert acd.interaction("x").priority == 7


def test_transfer_clears_decline_history() -> None:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("x", "q", 1)
    acd.decline("x", "a", 2)
    assert acd.interaction("x").agent_id == "b"
    acd.transfer("x", "q", 3)
    assert acd.interaction("x").declined_by == frozenset()
    assert acd.interaction("x").agent_id == "a"
