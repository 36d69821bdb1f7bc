"""Organisations, users and OAuth clients: who exists and who may log in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parley.domain.access import Permission, Principal, Role
from parley.domain.directory import (
    GrantType,
    OAuthClient,
    Organization,
    User,
    is_loopback_http,
)
from parley.domain.errors import Conflict, InvalidInput
from parley.domain.ids import new_id
from parley.services.credentials import hash_secret, new_token
from parley.services.ports import Clock, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class NewClient:
    client: OAuthClient
    secret: str | None
    """Shown once, at creation; only its hash is stored."""


def _check_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or " " in email:
        raise InvalidInput(f"email '{email}' is not a valid email address", field="email")
    return email


class DirectoryService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create_organization(self, name: str, *, is_demo: bool = False) -> Organization:
        if not name.strip():
            raise InvalidInput("organisation name is required", field="name")
        org = Organization(id=new_id(), name=name.strip(), created_ms=self._clock.now_ms())
        async with self._uow() as uow:
            await uow.orgs.add(org, is_demo=is_demo)
            await uow.commit()
        return org

    def _new_user(self, org_id: str, *, name: str, email: str, role: Role,
                  password: str) -> User:
        email = _check_email(email)
        if not name.strip():
            raise InvalidInput("user name is required", field="name")
        if len(password) < 8:
            raise InvalidInput("password must have at least 8 characters", field="password")
        return User(id=new_id(), org_id=org_id, name=name.strip(), email=email, role=role,
                    password_hash=hash_secret(password), created_ms=self._clock.now_ms())

    @staticmethod
    async def _store_user(uow: UnitOfWork, user: User) -> None:
        if await uow.users.by_email(user.email) is not None:
            raise Conflict(f"a user with email '{user.email}' already exists", field="email")
        await uow.users.add(user)

    async def add_user(self, org_id: str, *, name: str, email: str, role: Role,
                       password: str) -> User:
        user = self._new_user(org_id, name=name, email=email, role=role, password=password)
        async with self._uow() as uow:
            await uow.orgs.require(org_id)
            await self._store_user(uow, user)
            await uow.commit()
        return user

    def _new_client(self, org_id: str, *, name: str, grant_types: Iterable[GrantType],
                    role: Role, redirect_uris: Iterable[str] = (),
                    allow_loopback_redirects: bool = False,
                    confidential: bool = False) -> NewClient:
        """Client-credentials clients (and `confidential` ones) get a secret; browser apps are
        public clients that prove themselves with PKCE instead."""
        grants = frozenset(grant_types)
        if not grants:
            raise InvalidInput("an OAuth client needs at least one grant type",
                               field="authorizedGrantType")
        uris = list(dict.fromkeys(redirect_uris))
        for uri in uris:
            if not (uri.startswith("https://") or is_loopback_http(uri)):
                raise InvalidInput(f"redirect URI '{uri}' must use https (or http on a "
                                   "loopback address)", field="registeredRedirectUri")
        browser = grants & {GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE}
        if browser and not uris and not allow_loopback_redirects:
            raise InvalidInput("a client for the implicit or code grant needs redirect URIs",
                               field="registeredRedirectUri")
        secret = new_token() if confidential or GrantType.CLIENT_CREDENTIALS in grants else None
        client = OAuthClient(
            id=new_id(), org_id=org_id, name=name.strip() or "OAuth client", grant_types=grants,
            role=role, secret_hash=None if secret is None else hash_secret(secret),
            redirect_uris=uris, allow_loopback_redirects=allow_loopback_redirects,
            created_ms=self._clock.now_ms())
        return NewClient(client=client, secret=secret)

    async def add_client(self, org_id: str, *, name: str, grant_types: Iterable[GrantType],
                         role: Role, redirect_uris: Iterable[str] = (),
                         allow_loopback_redirects: bool = False,
                         confidential: bool = False) -> NewClient:
        made = self._new_client(org_id, name=name, grant_types=grant_types, role=role,
                                redirect_uris=redirect_uris,
                                allow_loopback_redirects=allow_loopback_redirects,
                                confidential=confidential)
        async with self._uow() as uow:
            await uow.orgs.require(org_id)
            await uow.clients.add(made.client)
            await uow.commit()
        return made

    async def found_organization(self, name: str, *, admin_name: str, admin_email: str,
                                 admin_password: str) -> tuple[Organization, User, NewClient]:
        """A new organisation with its first admin and a client for scripts, all or nothing."""
        if not name.strip():
            raise InvalidInput("organisation name is required", field="name")
        org = Organization(id=new_id(), name=name.strip(), created_ms=self._clock.now_ms())
        admin = self._new_user(org.id, name=admin_name, email=admin_email, role=Role.ADMIN,
                               password=admin_password)
        script = self._new_client(org.id, name="Scripts",
                                  grant_types=[GrantType.CLIENT_CREDENTIALS], role=Role.ADMIN)
        async with self._uow() as uow:
            await uow.orgs.add(org)
            await self._store_user(uow, admin)
            await uow.clients.add(script.client)
            await uow.commit()
        return org, admin, script

    # -- reads ----------------------------------------------------------------------------

    async def organization(self, principal: Principal) -> Organization:
        async with self._uow(read_only=True) as uow:
            return await uow.orgs.require(principal.org_id)

    async def me(self, principal: Principal) -> User:
        user_id = principal.require_user("GET /api/v2/users/me")
        async with self._uow(read_only=True) as uow:
            return await uow.users.require(
                principal.org_id, user_id, message="the user of this token no longer exists")

    async def user(self, principal: Principal, user_id: str) -> User:
        if user_id != principal.user_id:
            principal.require(Permission.VIEW_USERS)
        async with self._uow(read_only=True) as uow:
            return await uow.users.require(principal.org_id, user_id, entity=user_id)

    async def users(self, principal: Principal, *, page: int, size: int,
                    ids: list[str] | None = None, state: str | None = None,
                    descending: bool = False) -> tuple[list[User], int]:
        principal.require(Permission.VIEW_USERS)
        async with self._uow(read_only=True) as uow:
            return await uow.users.page(principal.org_id, page=page, size=size, ids=ids,
                                        state=state, descending=descending)

    async def browser_clients(self) -> list[OAuthClient]:
        async with self._uow(read_only=True) as uow:
            return await uow.clients.browser_clients()
