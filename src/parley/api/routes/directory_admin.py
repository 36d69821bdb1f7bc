"""Creating users and managing OAuth clients (Genesys' /api/v2/users, /api/v2/oauth/clients).

Parley's roles are its own three (admin, supervisor, agent): a user's and a client's role is
given by name in `roles` / `roleIds`, and PATCH /api/v2/users/{userId} changes a user's role.
Rotating a client's secret cuts off the old secret at once; deleting a client cuts off its
tokens at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from parley.api.formats import iso
from parley.api.models.common import Model
from parley.api.models.directory import User
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.directory import GrantType, OAuthClient
from parley.services.directory import NewClient

router = genesys_router()

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


def _created(request: Request, made: NewClient) -> OAuthClientModel:
    request.app.state.origin_policy.invalidate()  # CORS follows clients' redirect URIs
    return OAuthClientModel.of(made.client, made.secret)


@router.post("/api/v2/users", response_model=User, tags=["Users"],
             summary="Create a user (Parley: with a password and one role)")
async def post_user(body: CreateUser, principal: CurrentPrincipal, parley: App) -> User:
    roles = body.roles or []
    return User.of(await parley.directory_admin.create_user(
        principal, name=body.name, email=body.email, password=body.password,
        role=roles[0] if roles else None))


@router.patch("/api/v2/users/{userId}", response_model=User, tags=["Users"],
              summary="Change a user's role (Parley: `roles` with one role; admins only)")
async def patch_user(userId: str, body: UpdateUser, principal: CurrentPrincipal,
                     parley: App) -> User:
    return User.of(await parley.directory_admin.change_role(
        principal, userId, roles=body.roles, version=body.version))


@router.get(CLIENTS, response_model=OAuthClientEntityListing, tags=["OAuth"])
async def get_clients(principal: CurrentPrincipal, parley: App) -> OAuthClientEntityListing:
    return OAuthClientEntityListing(entities=[
        OAuthClientModel.of(c) for c in await parley.directory_admin.clients(principal)])


@router.post(CLIENTS, response_model=OAuthClientModel, tags=["OAuth"],
             summary="Create an OAuth client; a confidential one's secret is shown only here")
async def post_client(body: OAuthClientRequest, request: Request, principal: CurrentPrincipal,
                      parley: App) -> OAuthClientModel:
    roles = body.roleIds or []
    return _created(request, await parley.directory_admin.create_client(
        principal, name=body.name, grant=body.authorizedGrantType,
        redirect_uris=body.registeredRedirectUri, role=roles[0] if roles else None))


@router.get(CLIENTS + "/{clientId}", response_model=OAuthClientModel, tags=["OAuth"])
async def get_client(clientId: str, principal: CurrentPrincipal,
                     parley: App) -> OAuthClientModel:
    return OAuthClientModel.of(await parley.directory_admin.client(principal, clientId))


@router.post(CLIENTS + "/{clientId}/secret", response_model=OAuthClientModel, tags=["OAuth"],
             summary="Rotate the client's secret (the new one is shown only here)")
async def rotate_client_secret(clientId: str, request: Request, principal: CurrentPrincipal,
                               parley: App) -> OAuthClientModel:
    return _created(request, await parley.directory_admin.rotate_secret(principal, clientId))


@router.delete(CLIENTS + "/{clientId}", status_code=204, response_class=Response, tags=["OAuth"],
               summary="Delete an OAuth client; its tokens stop working at once")
async def delete_client(clientId: str, request: Request, principal: CurrentPrincipal,
                        parley: App) -> Response:
    await parley.directory_admin.delete_client(principal, clientId)
    request.app.state.origin_policy.invalidate()  # its redirect URIs may no longer be allowed
    return Response(status_code=204)
