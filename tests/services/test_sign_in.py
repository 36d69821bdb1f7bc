"""Signing in on the real store: password checks run off the event loop, failures are
throttled without locking a real user out for long, and an unknown email costs a check too."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from argon2 import PasswordHasher

from parley.bootstrap import Parley
from parley.domain.errors import TooManyRequests, Unauthenticated
from parley.services.auth import AuthService, OAuthError
from tests.orgs import Tenant
from tests.services.probes import ManualClock

SLOW = PasswordHasher(time_cost=3, memory_cost=32 * 1024)
"""Far slower than the suite's hashes: a check that lasts long enough to watch."""


def node(parley: Parley, clock: ManualClock) -> AuthService:
    """Another node's AuthService (its own throttle, verifier and clock), on the same store."""
    return AuthService(parley.uow, clock, token_ttl_s=3_600)


async def test_password_checks_run_off_the_event_loop(
        parley: Parley, org: Tenant, http: httpx.AsyncClient) -> None:
    """While wrong passwords are being checked, other requests are answered."""
    slow_hash = await asyncio.to_thread(SLOW.hash, org.agents[0].password)
    async with parley.uow() as uow:
        await uow.users.set_password(org.agents[0].id, slow_hash)
        await uow.commit()
    auth = node(parley, ManualClock(parley.clock.now_ms()))
    try:
        guesses = [asyncio.create_task(auth.login(org.agents[0].user.email, f"guess {i}",
                                                  source="192.0.2.20"))
                   for i in range(3)]
        for _ in range(10_000):  # until all three are being checked (bounded)
            if auth.verifier.in_flight == 3:
                break
            await asyncio.sleep(0.001)

        cheap = await http.get("/api/v2/users/me", headers=org.agents[1].headers)

        assert cheap.status_code == 200
        # Two threads: the third check waits for one of the first two, so however slowly
        # this shared machine runs the request, a blocked loop could not have answered it.
        assert auth.verifier.in_flight > 0 and not all(g.done() for g in guesses), \
            "the request was answered while checks were still under way"
        assert any(t.name.startswith("argon2") for t in threading.enumerate())
        for outcome in await asyncio.gather(*guesses, return_exceptions=True):
            assert isinstance(outcome, Unauthenticated)
    finally:
        auth.verifier.close()


async def test_a_real_user_signs_in_once_the_account_back_off_passes(
        parley: Parley, org: Tenant) -> None:
    clock = ManualClock(parley.clock.now_ms())
    auth = node(parley, clock)
    agent = org.agents[0]
    try:
        for i in range(5):  # from many addresses: the account's own limit
            with pytest.raises(Unauthenticated):
                await auth.login(agent.user.email, "wrong", source=f"192.0.2.{30 + i}")
        with pytest.raises(TooManyRequests) as refused:
            await auth.login(agent.user.email, agent.password, source="192.0.2.99")
        assert refused.value.retry_after_s == 1

        clock.advance(1_000)
        user = await auth.login(agent.user.email.upper(), agent.password, source="192.0.2.99")
        assert user.id == agent.id

        # However long someone keeps failing for this user, the wait stays short.
        for i in range(12):
            clock.advance(30_000)
            with pytest.raises(Unauthenticated):
                await auth.login(agent.user.email, "wrong", source=f"192.0.2.{40 + i}")
        with pytest.raises(TooManyRequests) as refused:
            await auth.login(agent.user.email, agent.password, source="192.0.2.99")
        assert refused.value.retry_after_s == 30
        clock.advance(30_000)
        assert (await auth.login(agent.user.email, agent.password, source="192.0.2.99")).id \
            == agent.id
    finally:
        auth.verifier.close()


async def test_an_unknown_email_is_checked_against_the_dummy_hash(
        parley: Parley, org: Tenant) -> None:
    auth = node(parley, ManualClock(parley.clock.now_ms()))
    try:
        with pytest.raises(Unauthenticated) as unknown:
            await auth.login("nobody-at-all@test.parley", "whatever", source="192.0.2.50")
        assert auth.verifier.dummy_checks == 1
        with pytest.raises(Unauthenticated) as known:
            await auth.login(org.admin.user.email, "whatever", source="192.0.2.50")
        assert auth.verifier.dummy_checks == 1, "a known email is checked against its hash"
        assert unknown.value.message == known.value.message == "wrong email or password"
        # and the unknown email is throttled like a known one
        for _ in range(4):
            with pytest.raises(Unauthenticated):
                await auth.login("nobody-at-all@test.parley", "x", source="192.0.2.51")
        with pytest.raises(TooManyRequests):
            await auth.login("nobody-at-all@test.parley", "x", source="192.0.2.52")
    finally:
        auth.verifier.close()


async def test_client_secret_checks_are_throttled_per_client(parley: Parley,
                                                             org: Tenant) -> None:
    clock = ManualClock(parley.clock.now_ms())
    auth = node(parley, clock)
    try:
        for i in range(5):
            with pytest.raises(OAuthError) as wrong:
                await auth.client_credentials(org.script_client_id, "wrong",
                                              source=f"192.0.2.{60 + i}")
            assert (wrong.value.status, wrong.value.error) == (401, "invalid_client")
        with pytest.raises(OAuthError) as refused:
            await auth.client_credentials(org.script_client_id, org.script_client_secret,
                                          source="192.0.2.70")
        assert (refused.value.status, refused.value.error, refused.value.retry_after_s) == \
            (429, "temporarily_unavailable", 1)
        clock.advance(1_000)
        issued = await auth.client_credentials(org.script_client_id, org.script_client_secret,
                                               source="192.0.2.70")
        assert issued.access_token
    finally:
        auth.verifier.close()
