"""Which OAuth client the pages served by Parley sign in with.

The agent desktop, admin console, supervisor view and handset are browser apps like any other:
they log in through /oauth/authorize with a public OAuth client (PKCE or the implicit grant).
Rather than a setting that has to be kept in step with the database, the pages ask the server
for a client that may redirect back to them: the demo organisation's browser client when there
is one (what `make run` creates), else the oldest active browser client that accepts the
callback URL. A deployment that hosts several organisations links its people to
`/app/?client_id=...` to choose.
"""

from __future__ import annotations

from parley.domain.directory import GrantType, OAuthClient
from parley.domain.errors import DomainError
from parley.services.ports import UnitOfWorkFactory

BROWSER_GRANTS = frozenset({GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE})


def _fits(client: OAuthClient, redirect_uri: str) -> bool:
    if client.state != "active" or not (client.grant_types & BROWSER_GRANTS):
        return False
    try:
        client.check_redirect_uri(redirect_uri)
    except DomainError:
        return False
    return True


async def browser_client_for(uow: UnitOfWorkFactory, redirect_uri: str) -> OAuthClient | None:
    """The client the built-in pages use to sign in and come back to `redirect_uri`."""
    async with uow(read_only=True) as tx:
        demo = await tx.orgs.demo()
        if demo is not None:
            for client in await tx.clients.in_org(demo.id):
                if _fits(client, redirect_uri):
                    return client
        candidates = [c for c in await tx.clients.browser_clients() if _fits(c, redirect_uri)]
    return min(candidates, key=lambda c: (c.created_ms, c.id)) if candidates else None
