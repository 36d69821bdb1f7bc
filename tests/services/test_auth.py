"""Bearer tokens: the cache never outlives a token, and revocation takes effect."""

from __future__ import annotations

import pytest

from parley.bootstrap import Parley
from parley.domain.access import Principal, Role
from parley.domain.errors import Unauthenticated
from parley.services.auth import AuthService, TokenCache
from tests.orgs import Tenant
from tests.services.probes import ManualClock

T0 = 1_700_000_000_000


def principal(token_id: str, expires_at_ms: int) -> Principal:
    return Principal(org_id="org-1", role=Role.AGENT, client_id="client-1", user_id="user-1",
                     token_id=token_id, expires_at_ms=expires_at_ms)


# -- the cache on its own ---------------------------------------------------------------


@pytest.mark.parametrize(("expires_in_ms", "ask_after_ms", "hit"), [
    pytest.param(60_000, 0, True, id="fresh"),
    pytest.param(60_000, 29_999, True, id="just-inside-cache-ttl"),
    pytest.param(60_000, 30_000, False, id="cache-ttl-reached"),
    pytest.param(10_000, 9_999, True, id="just-inside-token-expiry"),
    pytest.param(10_000, 10_000, False, id="token-expired-before-cache-ttl"),
    pytest.param(10_000, 20_000, False, id="long-after-token-expiry"),
])
def test_cache_entry_lives_until_the_earlier_of_ttl_and_expiry(
        expires_in_ms: int, ask_after_ms: int, hit: bool) -> None:
    cache = TokenCache(ttl_ms=30_000)
    p = principal("t1", T0 + expires_in_ms)
    cache.put(p, T0)
    assert (cache.get("t1", T0 + ask_after_ms) is p) is hit


def test_an_expired_entry_stays_gone() -> None:
    cache = TokenCache(ttl_ms=30_000)
    cache.put(principal("t1", T0 + 1_000), T0)
    assert cache.get("t1", T0 + 1_000) is None
    assert cache.get("t1", T0) is None, "an expired entry is dropped, not just hidden"


def test_evict() -> None:
    cache = TokenCache()
    p = principal("t1", T0 + 60_000)
    cache.put(p, T0)
    cache.evict("t1")
    cache.evict("never-cached")
    assert cache.get("t1", T0) is None


def test_the_oldest_entry_goes_when_full() -> None:
    cache = TokenCache(max_entries=2)
    for token_id in ("t1", "t2", "t3"):
        cache.put(principal(token_id, T0 + 60_000), T0)
    assert cache.get("t1", T0) is None
    assert cache.get("t2", T0) is not None
    assert cache.get("t3", T0) is not None


# -- the service on the real store --------------------------------------------------------


def auth_service(parley: Parley, clock: ManualClock, token_ttl_s: int = 3_600) -> AuthService:
    """Another node's AuthService: the same database, its own cache and clock."""
    return AuthService(parley.uow, clock, token_ttl_s=token_ttl_s)


async def test_an_expired_token_is_refused_even_when_cached(parley: Parley, org: Tenant) -> None:
    clock = ManualClock(parley.clock.now_ms())
    auth = auth_service(parley, clock, token_ttl_s=60)
    issued = await auth.client_credentials(org.script_client_id, org.script_client_secret)
    assert issued.expires_in == 60

    first = await auth.authenticate(issued.access_token)
    assert (first.org_id, first.client_id, first.user_id) == (org.id, org.script_client_id, None)
    assert first.role is Role.ADMIN
    assert first.expires_at_ms == clock.now + 60_000

    clock.advance(59_999)
    assert await auth.authenticate(issued.access_token) == first
    clock.advance(1)
    with pytest.raises(Unauthenticated) as caught:
        await auth.authenticate(issued.access_token)
    assert "expired" in caught.value.message


async def test_revoke_takes_effect_at_once_on_this_node(parley: Parley, org: Tenant) -> None:
    clock = ManualClock(parley.clock.now_ms())
    auth = auth_service(parley, clock)
    issued = await auth.client_credentials(org.script_client_id, org.script_client_secret)
    p = await auth.authenticate(issued.access_token)
    assert auth.cache.get(p.token_id, clock.now) == p, "the token is cached"

    await auth.revoke(p)
    with pytest.raises(Unauthenticated) as caught:
        await auth.authenticate(issued.access_token)
    assert "unknown or revoked" in caught.value.message


async def test_revoke_on_another_node_takes_effect_within_the_cache_ttl(
        parley: Parley, org: Tenant) -> None:
    clock = ManualClock(parley.clock.now_ms())
    here, there = auth_service(parley, clock), auth_service(parley, clock)
    issued = await here.client_credentials(org.script_client_id, org.script_client_secret)
    await there.authenticate(issued.access_token)  # cached on the other node
    await here.revoke(await here.authenticate(issued.access_token))

    clock.advance(30_000)  # TokenCache's default ttl
    with pytest.raises(Unauthenticated):
        await there.authenticate(issued.access_token)


async def test_a_user_token_from_the_login_authenticates_as_that_user(
        parley: Parley, org: Tenant) -> None:
    agent = org.agents[0]
    p = await parley.auth.authenticate(agent.token)
    assert (p.org_id, p.user_id, p.role, p.client_id) == (
        org.id, agent.id, Role.AGENT, org.browser_client_id)


@pytest.mark.parametrize("token", [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("not-a-token-we-issued", id="unknown"),
])
async def test_missing_or_unknown_tokens_are_refused(parley: Parley, token: str | None) -> None:
    with pytest.raises(Unauthenticated):
        await parley.auth.authenticate(token)
