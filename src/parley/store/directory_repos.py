"""The directory's repositories: organisations, users, OAuth clients, tokens and codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.access import Role
from parley.domain.directory import (
    AuthorizationCode,
    GrantType,
    OAuthClient,
    Organization,
    TokenRecord,
    User,
)
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found


def org_from_row(r: RowMapping) -> Organization:
    return Organization(id=r["id"], name=r["name"], created_ms=r["created_ms"])


def user_from_row(r: RowMapping) -> User:
    return User(id=r["id"], org_id=r["org_id"], name=r["name"], email=r["email"],
                role=Role(r["role"]), password_hash=r["password_hash"], state=r["state"],
                version=r["version"], created_ms=r["created_ms"])


def client_from_row(r: RowMapping) -> OAuthClient:
    return OAuthClient(
        id=r["id"], org_id=r["org_id"], name=r["name"],
        grant_types=frozenset(GrantType(g) for g in r["grant_types"]), role=Role(r["role"]),
        secret_hash=r["secret_hash"], redirect_uris=list(r["redirect_uris"]),
        allow_loopback_redirects=r["allow_loopback_redirects"], created_ms=r["created_ms"],
        state=r["state"])


class Organizations(Repo):
    async def add(self, org: Organization, *, is_demo: bool = False) -> None:
        await self.conn.execute(insert(t.organizations).values(
            id=org.id, name=org.name, created_ms=org.created_ms, is_demo=is_demo))

    async def get(self, org_id: str) -> Organization | None:
        r = await self._one(select(t.organizations).where(t.organizations.c.id == org_id))
        return None if r is None else org_from_row(r)

    async def require(self, org_id: str, *, message: str | None = None,
                      **details: str) -> Organization:
        return found(await self.get(org_id),
                     message or f"organisation {org_id} does not exist", **details)

    async def demo(self) -> Organization | None:
        r = await self._one(select(t.organizations).where(t.organizations.c.is_demo.is_(True)))
        return None if r is None else org_from_row(r)


class Users(Repo):
    async def add(self, u: User) -> None:
        await self.conn.execute(insert(t.users).values(
            **fields_of(u, "id", "org_id", "name", "email", "password_hash", "state", "version",
                      "created_ms"), role=u.role.value))

    async def get(self, org_id: str, user_id: str) -> User | None:
        r = await self._one(select(t.users).where(
            t.users.c.id == user_id, t.users.c.org_id == org_id))
        return None if r is None else user_from_row(r)

    async def require(self, org_id: str, user_id: str, *, message: str | None = None,
                      **details: str) -> User:
        return found(await self.get(org_id, user_id), message or f"user {user_id} not found",
                     **details)

    async def by_email(self, email: str) -> User | None:
        r = await self._one(select(t.users).where(func.lower(t.users.c.email) == email.lower()))
        return None if r is None else user_from_row(r)

    async def many(self, org_id: str, ids: Iterable[str]) -> dict[str, User]:
        ids = list(ids)
        if not ids:
            return {}
        rows = await self._all(select(t.users).where(
            t.users.c.org_id == org_id, t.users.c.id.in_(ids)))
        return {r["id"]: user_from_row(r) for r in rows}

    async def page(self, org_id: str, *, page: int, size: int, ids: Sequence[str] | None = None,
                   state: str | None = None, descending: bool = False
                   ) -> tuple[list[User], int]:
        stmt = select(t.users).where(t.users.c.org_id == org_id)
        if ids:
            stmt = stmt.where(t.users.c.id.in_(ids))
        if state:
            stmt = stmt.where(t.users.c.state == state)
        total = await self._count(stmt)
        order = t.users.c.name.desc() if descending else t.users.c.name.asc()
        rows = await self._all(stmt.order_by(order, t.users.c.id)
                               .limit(size).offset((page - 1) * size))
        return [user_from_row(r) for r in rows], total


    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self.conn.execute(update(t.users).where(t.users.c.id == user_id)
                                .values(password_hash=password_hash))

    async def admin_ids(self, org_id: str) -> list[str]:
        """The organisation's active admins, locked until the transaction ends (PostgreSQL;
        SQLite's writers are serialised anyway): two demotions at once cannot both see the
        other admin and leave none."""
        u = t.users.c
        rows = await self._all(select(u.id).where(
            u.org_id == org_id, u.role == Role.ADMIN.value, u.state == "active")
            .order_by(u.id).with_for_update())
        return [r["id"] for r in rows]

    async def set_role(self, user_id: str, role: Role) -> list[str]:
        """Give the user another role, in their tokens too (each token carries its role);
        returns those tokens' ids so caches can drop them."""
        await self.conn.execute(update(t.users).where(t.users.c.id == user_id)
                                .values(role=role.value, version=t.users.c.version + 1))
        res = await self.conn.execute(update(t.tokens).where(t.tokens.c.user_id == user_id)
                                      .values(role=role.value).returning(t.tokens.c.id))
        return [r[0] for r in res]


class Clients(Repo):
    async def add(self, c: OAuthClient) -> None:
        await self.conn.execute(insert(t.oauth_clients).values(
            **fields_of(c, "id", "org_id", "name", "secret_hash", "redirect_uris",
                      "allow_loopback_redirects", "created_ms", "state"),
            grant_types=sorted(g.value for g in c.grant_types), role=c.role.value))

    async def get(self, client_id: str) -> OAuthClient | None:
        r = await self._one(select(t.oauth_clients).where(t.oauth_clients.c.id == client_id))
        return None if r is None else client_from_row(r)

    async def require(self, client_id: str, *, org_id: str | None = None,
                      message: str | None = None, **details: str) -> OAuthClient:
        """The client; with `org_id`, only if it belongs to that organisation (another
        organisation's client is as unknown as one that does not exist)."""
        client = await self.get(client_id)
        if client is not None and org_id is not None and client.org_id != org_id:
            client = None
        return found(client, message or f"OAuth client {client_id} not found", **details)

    async def in_org(self, org_id: str) -> list[OAuthClient]:
        rows = await self._all(select(t.oauth_clients).where(t.oauth_clients.c.org_id == org_id)
                               .order_by(t.oauth_clients.c.name))
        return [client_from_row(r) for r in rows]

    async def browser_clients(self) -> list[OAuthClient]:
        """Clients with redirect URIs: the CORS allow-list is built from these."""
        rows = await self._all(select(t.oauth_clients).where(
            t.oauth_clients.c.state == "active"))
        return [c for c in map(client_from_row, rows)
                if c.redirect_uris or c.allow_loopback_redirects]


    async def set_secret(self, client_id: str, secret_hash: str) -> None:
        await self.conn.execute(update(t.oauth_clients).where(t.oauth_clients.c.id == client_id)
                                .values(secret_hash=secret_hash))

    async def delete(self, client_id: str) -> list[str]:
        """Delete the client with its tokens and authorization codes; returns the ids of the
        tokens it had, so caches can drop them."""
        res = await self.conn.execute(delete(t.tokens).where(t.tokens.c.client_id == client_id)
                                      .returning(t.tokens.c.id))
        token_ids = [r[0] for r in res]
        await self.conn.execute(delete(t.authorization_codes).where(
            t.authorization_codes.c.client_id == client_id))
        await self.conn.execute(delete(t.oauth_clients).where(
            t.oauth_clients.c.id == client_id))
        return token_ids


def _token(r: RowMapping | None) -> TokenRecord | None:
    if r is None:
        return None
    return TokenRecord(
        id=r["id"], org_id=r["org_id"], client_id=r["client_id"], user_id=r["user_id"],
        role=Role(r["role"]), grant_type=GrantType(r["grant_type"]),
        created_ms=r["created_ms"], expires_ms=r["expires_ms"], refresh_hash=r["refresh_hash"])


class Tokens(Repo):
    async def add(self, token: TokenRecord) -> None:
        await self.conn.execute(insert(t.tokens).values(
            **fields_of(token, "id", "org_id", "client_id", "user_id", "created_ms",
                      "expires_ms", "refresh_hash"),
            role=token.role.value, grant_type=token.grant_type.value))

    async def get(self, token_id: str) -> TokenRecord | None:
        return _token(await self._one(select(t.tokens).where(t.tokens.c.id == token_id)))

    async def by_refresh(self, refresh_hash: str) -> TokenRecord | None:
        return _token(await self._one(
            select(t.tokens).where(t.tokens.c.refresh_hash == refresh_hash)))

    async def delete(self, token_id: str) -> bool:
        res = await self.conn.execute(delete(t.tokens).where(t.tokens.c.id == token_id))
        return bool(res.rowcount)

    async def live_owners(self, owners: Sequence[tuple[str | None, str]], now_ms: int
                          ) -> set[tuple[str | None, str, Role]]:
        c = t.tokens.c
        users = {u for u, _ in owners if u is not None}
        clients = {cl for u, cl in owners if u is None}
        rows = await self.conn.execute(
            select(c.user_id, c.client_id, c.role).distinct()
            .where(c.expires_ms > now_ms,
                   c.user_id.in_(users) | (c.user_id.is_(None) & c.client_id.in_(clients))))
        return {(r.user_id, r.client_id, Role(r.role)) for r in rows}

    async def purge_expired(self, now_ms: int, refresh_until_ms: int) -> int:
        """Drop expired tokens (those with a refresh token once it too is past use) and
        expired authorization codes."""
        c = t.tokens.c
        res = await self.conn.execute(delete(t.tokens).where(
            c.expires_ms < now_ms,
            c.refresh_hash.is_(None) | (c.expires_ms < refresh_until_ms)))
        await self.conn.execute(delete(t.authorization_codes).where(
            t.authorization_codes.c.expires_ms < now_ms))
        return int(res.rowcount or 0)

    async def add_code(self, code: AuthorizationCode) -> None:
        await self.conn.execute(insert(t.authorization_codes).values(
            **fields_of(code, "id", "client_id", "user_id", "redirect_uri", "expires_ms",
                      "code_challenge", "code_challenge_method")))

    async def take_code(self, code_id: str) -> AuthorizationCode | None:
        """Codes are single use: reading one deletes it, in the same transaction."""
        table = t.authorization_codes
        r = await self._one(select(table).where(table.c.id == code_id))
        if r is None:
            return None
        await self.conn.execute(delete(table).where(table.c.id == code_id))
        return AuthorizationCode(**dict(r))
