"""Expired tokens and codes are purged; refresh tokens outlive their access token for 30 days."""

from __future__ import annotations

from parley.bootstrap import Parley
from parley.domain.access import Role
from parley.domain.directory import AuthorizationCode, GrantType, TokenRecord
from parley.services.auth import REFRESH_TTL_MS
from parley.services.credentials import digest
from tests.orgs import Tenant


def token(org: Tenant, name: str, *, expires_ms: int, refresh: bool) -> TokenRecord:
    return TokenRecord(id=digest(name), org_id=org.id, client_id=org.script_client_id,
                       user_id=org.admin.id, role=Role.ADMIN,
                       grant_type=GrantType.AUTHORIZATION_CODE, created_ms=0,
                       expires_ms=expires_ms, refresh_hash=digest(name + "-r") if refresh else None)


async def test_purge_keeps_live_tokens_and_recent_refresh_tokens(parley: Parley,
                                                                 org: Tenant) -> None:
    now = parley.clock.now_ms()
    cases = {
        "live": (token(org, "live", expires_ms=now + 60_000, refresh=False), True),
        "expired": (token(org, "expired", expires_ms=now - 1, refresh=False), False),
        "refreshable": (token(org, "refreshable", expires_ms=now - 1, refresh=True), True),
        "stale-refresh": (token(org, "stale", expires_ms=now - REFRESH_TTL_MS - 1,
                                refresh=True), False),
    }
    async with parley.uow() as uow:
        for record, _ in cases.values():
            await uow.tokens.add(record)
        await uow.tokens.add_code(AuthorizationCode(
            id=digest("old-code"), client_id=org.script_client_id, user_id=org.admin.id,
            redirect_uri="http://127.0.0.1/cb", expires_ms=now - 1))
        await uow.commit()

    assert await parley.auth.purge_expired() >= 2

    async with parley.uow(read_only=True) as uow:
        for name, (record, kept) in cases.items():
            assert (await uow.tokens.get(record.id) is not None) is kept, name
    async with parley.uow() as uow:
        assert await uow.tokens.take_code(digest("old-code")) is None
