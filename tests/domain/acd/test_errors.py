"""Invalid calls raise the domain's errors with a message that says what is wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.domain.acd import Acd
from parley.domain.errors import Conflict, DomainError, InvalidInput, NotFound

from .support import Agent, build


def engine() -> Acd:
    acd = build([Agent("a", on_queue_at=1), Agent("b", on_queue_at=2)])
    acd.enqueue("alerting", "q", 10)  # -> a
    acd.enqueue("connected", "q", 11)  # -> b
    acd.accept("connected", "b", 12)
    acd.enqueue("waiting", "q", 13)
    return acd


CASES: list[tuple[str, Callable[[Acd], object], type[DomainError], str]] = [
    ("enqueue-unknown-queue", lambda acd: acd.enqueue("n", "nope", 0), NotFound, "queue nope"),
    ("enqueue-duplicate", lambda acd: acd.enqueue("waiting", "q", 0), Conflict, "already"),
    ("accept-unknown", lambda acd: acd.accept("nope", "a", 0), NotFound, "interaction nope"),
    ("accept-unknown-agent", lambda acd: acd.accept("alerting", "z", 0), NotFound, "agent z"),
    ("accept-wrong-agent", lambda acd: acd.accept("alerting", "b", 0), Conflict,
     "offered to another agent"),
    ("accept-waiting", lambda acd: acd.accept("waiting", "a", 0), Conflict, "not alerting"),
    ("accept-connected", lambda acd: acd.accept("connected", "b", 0), Conflict, "connected"),
    ("decline-connected", lambda acd: acd.decline("connected", "b", 0), Conflict,
     "not alerting"),
    ("finish-unknown", lambda acd: acd.finish("nope", 0), NotFound, "interaction nope"),
    ("transfer-unknown-queue", lambda acd: acd.transfer("waiting", "nope", 0), NotFound,
     "queue nope"),
    ("capacity-zero", lambda acd: acd.set_agent("a", 0, capacity=0), InvalidInput, "capacity"),
    ("capacity-26", lambda acd: acd.set_agent("a", 0, capacity=26), InvalidInput,
     "between 1 and 25"),
    ("proficiency-6", lambda acd: acd.set_agent("a", 0, skills={"en": 6}), InvalidInput,
     "proficiency for skill en"),
    ("proficiency-negative", lambda acd: acd.set_agent("a", 0, skills={"en": -1}),
     InvalidInput, "between 0 and 5"),
    ("empty-skill-id", lambda acd: acd.set_agent("a", 0, skills={"": 1}), InvalidInput,
     "skill id"),
    ("timeout-zero", lambda acd: acd.set_queue("q", 0, alerting_timeout_ms=0), InvalidInput,
     "alerting timeout"),
    ("member-unknown-agent", lambda acd: acd.set_member("q", "z", True, 0), NotFound, "agent z"),
    ("member-unknown-queue", lambda acd: acd.set_member("z", "a", True, 0), NotFound, "queue z"),
    ("remove-non-member", lambda acd: acd.remove_member("q", "ghost", 0), NotFound,
     "not a member"),
    ("status-unknown-agent", lambda acd: acd.routing_status("z"), NotFound, "agent z"),
    ("on-queue-unknown-agent", lambda acd: acd.set_on_queue("z", True, 0), NotFound, "agent z"),
    ("remove-unknown-queue", lambda acd: acd.remove_queue("z", 0), NotFound, "queue z"),
    ("remove-unknown-agent", lambda acd: acd.remove_agent("z", 0), NotFound, "agent z"),
    ("restore-duplicate", lambda acd: acd.restore_waiting("waiting", "q", enqueued_ms=0),
     Conflict, "already"),
]


@pytest.mark.parametrize(("call", "error", "message"), [
    pytest.param(call, error, message, id=name) for name, call, error, message in CASES])
def test_invalid_calls(call: Callable[[Acd], object], error: type[DomainError],
                       message: str) -> None:
    acd = engine()
    with pytest.raises(error, match=message):
        call(acd)


def test_a_rejected_call_changes_nothing() -> None:
    acd = engine()
    before = [acd.interaction(i) for i in acd.interaction_ids()]
    for _, call, error, _ in CASES:
        with pytest.raises(error):
            call(acd)
    assert [acd.interaction(i) for i in acd.interaction_ids()] == before
