"""Message statuses only move forward, by rank, whatever order the reports arrive in."""

from __future__ import annotations

import itertools

import pytest

from parley.domain.messages import MessageStatus, may_move

S = MessageStatus


@pytest.mark.parametrize(("current", "new", "allowed"), [
    pytest.param(S.QUEUED, S.SENT, True, id="queued-to-sent"),
    pytest.param(S.SENT, S.DELIVERY_SUCCESS, True, id="sent-to-delivery-success"),
    pytest.param(S.SENT, S.DELIVERY_FAILED, True, id="sent-to-delivery-failed"),
    pytest.param(S.QUEUED, S.DELIVERY_SUCCESS, True, id="queued-to-delivery-success"),
    pytest.param(S.QUEUED, S.FAILED, True, id="queued-to-failed"),
    pytest.param(S.SENT, S.FAILED, True, id="sent-to-failed"),
    pytest.param(S.DELIVERY_SUCCESS, S.SENT, False, id="delivery-success-to-sent"),
    pytest.param(S.DELIVERY_SUCCESS, S.QUEUED, False, id="delivery-success-to-queued"),
    pytest.param(S.DELIVERY_SUCCESS, S.DELIVERY_FAILED, False,
                 id="delivery-success-to-delivery-failed"),
    pytest.param(S.DELIVERY_FAILED, S.DELIVERY_SUCCESS, False,
                 id="delivery-failed-to-delivery-success"),
    pytest.param(S.FAILED, S.SENT, False, id="failed-to-sent"),
    pytest.param(S.FAILED, S.DELIVERY_SUCCESS, False, id="failed-to-delivery-success"),
    pytest.param(S.SENT, S.QUEUED, False, id="sent-to-queued"),
    pytest.param(S.SENT, S.SENT, False, id="sent-to-sent"),
    pytest.param(S.QUEUED, S.QUEUED, False, id="queued-to-queued"),
    pytest.param(S.RECEIVED, S.SENT, False, id="received-to-sent"),
    pytest.param(S.RECEIVED, S.DELIVERY_SUCCESS, False, id="received-to-delivery-success"),
])
def test_may_move(current: MessageStatus, new: MessageStatus, allowed: bool) -> None:
    assert may_move(current, new) is allowed


@pytest.mark.parametrize(("a", "b"), [
    pytest.param(a, b, id=f"{a.value}-vs-{b.value}")
    for a, b in itertools.product(MessageStatus, repeat=2)])
def test_never_both_ways(a: MessageStatus, b: MessageStatus) -> None:
    assert not (may_move(a, b) and may_move(b, a))


@pytest.mark.parametrize("status", [pytest.param(s, id=s.value) for s in MessageStatus])
def test_final_statuses_never_move(status: MessageStatus) -> None:
    if status.is_final:
        assert not any(may_move(status, new) for new in MessageStatus)
    else:
        assert any(may_move(status, new) for new in MessageStatus)


def test_which_statuses_are_final() -> None:
    assert {s for s in MessageStatus if s.is_final} == {
        S.FAILED, S.RECEIVED, S.DELIVERY_SUCCESS, S.DELIVERY_FAILED}
