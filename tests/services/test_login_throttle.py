"""The back-off after failed sign-ins: when a key must wait, for how long, and when it is free."""

from __future__ import annotations

import logging

import pytest

from parley.domain.errors import TooManyRequests
from parley.services.login_throttle import Backoff, LoginThrottle
from tests.services.probes import ManualClock

T0 = 1_700_000_000_000


def account_backoff() -> Backoff:
    return Backoff(free=5, base_ms=1_000, cap_ms=30_000, clear_on_success=True)


def fail(backoff: Backoff, key: str, now_ms: int) -> None:
    assert backoff.begin(key, now_ms) == 0
    backoff.end(key, now_ms, failed=True)


def fail_when_allowed(backoff: Backoff, key: str, now_ms: int) -> int:
    """Wait as long as the key must, then fail; the time after."""
    wait = backoff.begin(key, now_ms)
    if wait:
        now_ms += wait
        assert backoff.begin(key, now_ms) == 0
    backoff.end(key, now_ms, failed=True)
    return now_ms


def test_free_failures_then_waits_that_double_up_to_the_cap() -> None:
    b = account_backoff()
    for _ in range(4):
        fail(b, "user a", T0)
    assert b.begin("user a", T0) == 0, "the fifth attempt is still free"
    b.end("user a", T0, failed=True)
    waits = []
    now = T0
    for _ in range(8):
        wait = b.begin("user a", now)
        waits.append(wait)
        now += wait
        fail(b, "user a", now)
    assert waits == [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
    assert b.begin("user b", now) == 0, "other keys are not affected"


def test_a_wait_counts_down() -> None:
    b = account_backoff()
    for _ in range(5):
        fail(b, "k", T0)
    assert b.begin("k", T0 + 400) == 600
    assert b.begin("k", T0 + 1_000) == 0


def test_a_burst_gets_no_more_guesses_than_a_sequence() -> None:
    """Attempts still being checked count: five at once, and the sixth waits."""
    b = account_backoff()
    for _ in range(5):
        assert b.begin("k", T0) == 0
    assert b.begin("k", T0) == 1_000
    for _ in range(5):
        b.end("k", T0, failed=True)
    assert b.begin("k", T0) == 1_000


def test_success_clears_an_account_but_not_a_source_address() -> None:
    account = account_backoff()
    source = Backoff(free=2, base_ms=1_000, cap_ms=300_000, clear_on_success=False)
    for b in (account, source):
        now = T0
        for _ in range(4):
            now = fail_when_allowed(b, "k", now)
        now += 60_000
        assert b.begin("k", now) == 0
        b.end("k", now, failed=False)
    assert account.begin("k", now) == 0
    account.end("k", now, failed=True)
    assert account.begin("k", now) == 0, "cleared: this is its first failure again"
    assert source.begin("k", now) == 0
    source.end("k", now, failed=True)
    assert source.begin("k", now) == 8_000, "remembered: this was its fifth failure"


def test_failures_are_forgotten_after_a_quiet_quarter_hour() -> None:
    b = account_backoff()
    now = T0
    for _ in range(7):
        now = fail_when_allowed(b, "k", now)
    later = now + 15 * 60_000 + 1
    for _ in range(4):
        fail(b, "k", later)
    assert b.begin("k", later) == 0


def test_the_key_not_used_longest_goes_when_full() -> None:
    b = Backoff(free=1, base_ms=1_000, cap_ms=1_000, clear_on_success=True, max_keys=2)
    fail(b, "a", T0)
    fail(b, "b", T0)
    fail(b, "c", T0)
    assert b.begin("a", T0) == 0, "forgotten"
    assert b.begin("c", T0) == 1_000


def test_a_refusal_names_who_and_from_where_and_the_wait(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(T0)
    throttle = LoginThrottle(clock)
    for _ in range(5):
        throttle.begin("user ana@x.example", "192.0.2.7").end(failed=True)
    with caplog.at_level(logging.INFO, "parley.services.login_throttle"), \
            pytest.raises(TooManyRequests) as refused:
        throttle.begin("user ana@x.example", "192.0.2.8")
    assert refused.value.retry_after_s == 1
    assert caplog.records[-1].getMessage() == (
        "sign-in refused: user ana@x.example from 192.0.2.8, too many failed attempts for this "
        "account; retry after 1 s")


def test_a_source_address_limits_across_accounts() -> None:
    clock = ManualClock(T0)
    throttle = LoginThrottle(clock)
    for i in range(20):
        throttle.begin(f"user u{i}@x.example", "192.0.2.9").end(failed=True)
    with pytest.raises(TooManyRequests):
        throttle.begin("user someone@x.example", "192.0.2.9")
    throttle.begin("user someone@x.example", "192.0.2.10").end(failed=False)
    # the refused attempt did not count against the account
    for _ in range(4):
        throttle.begin("user other@x.example", "192.0.2.11").end(failed=True)
    throttle.begin("user other@x.example", "192.0.2.11").end(failed=None)
    throttle.begin("user other@x.example", "192.0.2.11").end(failed=False)
