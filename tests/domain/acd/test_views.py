"""What a supervisor sees: per-queue counts, agents by routing status, longest waiting."""

from __future__ import annotations

import pytest

from parley.domain.acd import InteractionState, RoutingStatus

from .support import TIMEOUT, Agent, build


@pytest.mark.parametrize(("on_queue", "not_responding", "active", "expected"), [
    (False, False, 0, RoutingStatus.OFF_QUEUE),
    (True, False, 0, RoutingStatus.IDLE),
    (True, False, 1, RoutingStatus.INTERACTING),
    (True, True, 0, RoutingStatus.NOT_RESPONDING),
    (True, True, 1, RoutingStatus.NOT_RESPONDING),
])
def test_routing_status_is_derived(on_queue: bool, not_responding: bool, active: int,
                                   expected: RoutingStatus) -> None:
    acd = build([Agent("a", capacity=2)])
    if active:
        acd.enqueue("x", "q", 1)
        acd.accept("x", "a", 2)
    if not_responding:
        acd.enqueue("miss", "q", 3)
        acd.tick(3 + TIMEOUT)
    if not on_queue:
        acd.set_on_queue("a", False, 4)
    assert acd.routing_status("a") is expected
    assert acd.agent("a").status is expected


def test_queue_view_counts() -> None:
    acd = build([Agent("idle", on_queue_at=1), Agent("busy", on_queue_at=0),
                 Agent("off", on_queue_at=None), Agent("nr", on_queue_at=0, queues=())])
    acd.set_member("q", "nr", False, 0)  # a member who has not joined
    acd.enqueue("c", "q", 5)  # -> busy
    acd.accept("c", "busy", 6)
    acd.enqueue("al", "q", 7)  # -> idle
    acd.set_agent("idle", 8, capacity=2)
    acd.enqueue("w1", "q", 9, skills={"fr"})
    acd.enqueue("w2", "q", 10, skills={"fr"}, priority=4)
    view = acd.queue("q")
    assert (view.waiting, view.oldest_waiting_since_ms, view.alerting, view.connected) == (
        2, 9, 1, 1)
    assert (view.members, view.joined) == (4, 3)
    assert view.agents == {RoutingStatus.OFF_QUEUE: 1, RoutingStatus.IDLE: 0,
                           RoutingStatus.INTERACTING: 2, RoutingStatus.NOT_RESPONDING: 0}
    assert acd.waiting("q") == ["w2", "w1"]
    assert acd.interaction("al").state is InteractionState.ALERTING


def test_agent_view() -> None:
    acd = build([Agent("a", capacity=3, skills={"en": 4})])
    acd.enqueue("x", "q", 1)
    acd.enqueue("y", "q", 2)
    acd.accept("y", "a", 3)
    view = acd.agent("a")
    assert (view.alerting, view.connected, view.active, dict(view.skills)) == (
        ("x",), ("y",), 2, {"en": 4})
    assert view.joined_queues == frozenset({"q"})


def test_membership_and_existence_lookups() -> None:
    acd = build([Agent("a"), Agent("b", queues=())])
    acd.set_member("q", "b", False, 0)
    acd.enqueue("x", "q", 1)
    assert acd.members("q") == {"a": True, "b": False}
    assert (acd.has_queue("q"), acd.has_queue("z")) == (True, False)
    assert (acd.has_agent("a"), acd.has_agent("z")) == (True, False)
    assert (acd.has_interaction("x"), acd.has_interaction("z")) == (True, False)
    assert (acd.queue_ids(), acd.agent_ids(), acd.interaction_ids()) == (["q"], ["a", "b"], ["x"])
