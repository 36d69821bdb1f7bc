"""Throttling of failed password and client-secret checks, per account and per source address.

Each check costs a slow hash, and each failure is a guess. After a few failures a key must
wait before its next attempt, twice as long after each further failure:

- per account (an email, or an OAuth client id): 5 free failures, then 1 s, 2 s ... capped
  at 30 s. The cap is short on purpose: anyone may fail logins for a real user's email, and
  that must not lock the user out for long. A success clears the account's failures.
- per source address: 20 free failures, then 1 s, 2 s ... capped at 5 minutes; this is what
  slows one client guessing across many accounts. A success does not clear it.

Failures are forgotten after 15 minutes without one. Attempts still being checked count
against the free failures, so a burst sent all at once cannot get more guesses than a
sequence could.

The state lives in this node's memory (bounded, oldest keys dropped first): a cluster of N
nodes allows N times the attempts. The per-node bound is still what stops the attack that
matters most here, starving a node's event loop and hash threads with wrong logins.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass

from parley.domain.errors import TooManyRequests
from parley.services.ports import Clock

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Key:
    failures: int = 0
    in_flight: int = 0
    blocked_until_ms: int = 0
    last_failure_ms: int = 0


class Backoff:
    """Exponential back-off per key after `free` failures, from `base_ms` up to `cap_ms`."""

    def __init__(self, *, free: int, base_ms: int, cap_ms: int, forget_ms: int = 15 * 60_000,
                 clear_on_success: bool, max_keys: int = 100_000) -> None:
        self._free = free
        self._base_ms = base_ms
        self._cap_ms = cap_ms
        self._forget_ms = forget_ms
        self._clear_on_success = clear_on_success
        self._max_keys = max_keys
        self._keys: OrderedDict[str, _Key] = OrderedDict()

    def begin(self, key: str, now_ms: int) -> int:
        """0, and the attempt is counted as in flight; or how many ms the key must wait."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key()
            if len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
            if state.in_flight == 0 and now_ms - state.last_failure_ms > self._forget_ms:
                state.failures, state.blocked_until_ms = 0, 0
        if state.blocked_until_ms > now_ms:
            return state.blocked_until_ms - now_ms
        if state.in_flight >= max(1, self._free - state.failures):
            return self._base_ms
        state.in_flight += 1
        return 0

    def end(self, key: str, now_ms: int, *, failed: bool | None) -> None:
        """The attempt begun for `key` ended: failed, succeeded, or (None) was not checked."""
        state = self._keys.get(key)
        if state is None:
            return
        state.in_flight = max(0, state.in_flight - 1)
        if failed is None:
            return
        if not failed:
            if self._clear_on_success:
                state.failures, state.blocked_until_ms = 0, 0
            return
        state.failures += 1
        state.last_failure_ms = now_ms
        if state.failures >= self._free:
            delay = self._base_ms * 2 ** min(state.failures - self._free, 30)
            state.blocked_until_ms = now_ms + min(self._cap_ms, delay)


class Attempt:
    """One check under way; `end` says how it went (exactly once)."""

    def __init__(self, throttle: LoginThrottle, account: str, source: str) -> None:
        self._throttle = throttle
        self._account = account
        self._source = source
        self._ended = False

    def end(self, *, failed: bool | None) -> None:
        if self._ended:
            return
        self._ended = True
        now = self._throttle.clock.now_ms()
        self._throttle.accounts.end(self._account, now, failed=failed)
        self._throttle.sources.end(self._source, now, failed=failed)
        if failed:
            log.info("failed sign-in: %s from %s", self._account, self._source)


class LoginThrottle:
    """The two back-offs every password and client-secret check goes through."""

    def __init__(self, clock: Clock, *, accounts: Backoff | None = None,
                 sources: Backoff | None = None) -> None:
        self.clock = clock
        self.accounts = accounts or Backoff(free=5, base_ms=1_000, cap_ms=30_000,
                                            clear_on_success=True)
        self.sources = sources or Backoff(free=20, base_ms=1_000, cap_ms=300_000,
                                          clear_on_success=False)

    def begin(self, account: str, source: str | None) -> Attempt:
        """Start a check for `account` ('user x@y', 'client ID') from `source` (an address),
        or raise TooManyRequests with how long to wait; each refusal is logged (who, from
        where; never the secret)."""
        where = source or "an unknown address"
        now = self.clock.now_ms()
        wait_ms = self.accounts.begin(account, now)
        limited = "account"
        if wait_ms == 0:
            wait_ms = self.sources.begin(where, now)
            limited = "source address"
            if wait_ms:
                self.accounts.end(account, now, failed=None)
        if wait_ms:
            retry_after_s = max(1, math.ceil(wait_ms / 1000))
            log.warning("sign-in refused: %s from %s, too many failed attempts for this %s; "
                        "retry after %d s", account, where, limited, retry_after_s)
            raise TooManyRequests("too many failed sign-in attempts; try again in "
                                  f"{retry_after_s} s", retry_after_s=retry_after_s)
        return Attempt(self, account, where)
