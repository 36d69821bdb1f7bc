"""Creating users and managing OAuth clients (Genesys' /api/v2/users, /api/v2/oauth/clients).

Parley's roles are its own three (admin, supervisor, agent): a user's and a client's role is
given by name in `roles` / `roleIds`, and PATCH /api/v2/users/{userId} changes a user's role.
Rotating a client's secret cuts off the old secret at once; deleting a client cuts off its
tokens at once.
"""

from __future__ import annotations

from fastapi import Request, Response

from parley.api.models.directory import (
    CLIENTS,
    CreateUser,
    OAuthClientEntityListing,
    OAuthClientModel,
    OAuthClientRequest,
    UpdateUser,
    User,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.services.directory import NewClient

router = genesys_router()


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
