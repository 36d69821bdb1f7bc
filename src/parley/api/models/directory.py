"""Organisations, users and token info."""

from __future__ import annotations

from parley.api.formats import iso
from parley.api.models.common import EntityListing, EntityRef, Model
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
