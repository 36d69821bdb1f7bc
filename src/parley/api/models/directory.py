"""Organisations, users and token info; and the admin's requests for users and OAuth clients."""

from __future__ import annotations

from typing import Any

from parley.api.formats import iso
from parley.api.models.common import EntityListing, EntityRef, Model
from parley.domain.directory import GrantType, OAuthClient
from parley.domain.directory import Organization as OrgEntity
from parley.domain.directory import User as UserEntity


class Organization(Model):
    id: str
    name: str
    state: str = "active"
    defaultCountryCode: str | None = None
    selfUri: str | None = None

    @classmethod
    def of(cls, org: OrgEntity) -> Organization:
        return cls(id=org.id, name=org.name, selfUri=f"/api/v2/organizations/{org.id}")


class User(Model):
    id: str
    name: str
    email: str
    username: str
    state: str
    version: int
    division: EntityRef | None = None
    roles: list[str] | None = None
    dateCreated: str | None = None
    selfUri: str | None = None

    @classmethod
    def of(cls, u: UserEntity) -> User:
        return cls(id=u.id, name=u.name, email=u.email, username=u.email, state=u.state,
                   version=u.version, roles=[u.role.value], dateCreated=iso(u.created_ms),
                   selfUri=f"/api/v2/users/{u.id}")


class UserMe(User):
    organization: EntityRef | None = None


class UserEntityListing(EntityListing[User]):
    pass


class OAuthClientRef(Model):
    id: str
    name: str
    authorizedGrantType: str
    scope: list[str] | None = None
    state: str = "active"
    organization: EntityRef | None = None
    roleName: str | None = None


class TokenInfo(Model):
    organization: EntityRef
    homeOrganization: EntityRef
    authorizedScope: list[str]
    OAuthClient: OAuthClientRef
    dateTokenIdles: str | None = None
    userId: str | None = None


CLIENTS = "/api/v2/oauth/clients"


class CreateUser(Model):
    name: Any = None
    email: Any = None
    password: Any = None
    roles: list[Any] | None = None
    """Parley: one role name (admin, supervisor or agent); agent if absent."""


class UpdateUser(Model):
    version: Any = None
    """Checked when given (409 if the user changed meanwhile)."""
    roles: Any = None
    """Parley: the user's one role (admin, supervisor or agent), the only field changed here."""


class OAuthClientRequest(Model):
    name: Any = None
    description: str | None = None
    authorizedGrantType: Any = None
    registeredRedirectUri: Any = None
    roleIds: list[Any] | None = None
    """Parley: one role name (admin, supervisor or agent) for client-credentials tokens."""


class OAuthClientModel(Model):
    id: str
    name: str
    authorizedGrantType: str
    registeredRedirectUri: list[str] = []
    roleIds: list[str] = []
    secret: str | None = None
    """Only in the answer that created or rotated it: Parley keeps a hash, never the secret."""
    dateCreated: str | None = None
    state: str
    selfUri: str

    @classmethod
    def of(cls, c: OAuthClient, secret: str | None = None) -> OAuthClientModel:
        grant = GrantType.CLIENT_CREDENTIALS if GrantType.CLIENT_CREDENTIALS in c.grant_types \
            else GrantType.AUTHORIZATION_CODE if GrantType.AUTHORIZATION_CODE in c.grant_types \
            else GrantType.IMPLICIT
        uris = list(c.redirect_uris)
        if c.allow_loopback_redirects:
            uris.append("http://127.0.0.1/*")
        return cls(id=c.id, name=c.name, authorizedGrantType=grant.genesys_name,
                   registeredRedirectUri=uris, roleIds=[c.role.value], secret=secret,
                   dateCreated=iso(c.created_ms), state=c.state, selfUri=f"{CLIENTS}/{c.id}")


class OAuthClientEntityListing(Model):
    entities: list[OAuthClientModel]
