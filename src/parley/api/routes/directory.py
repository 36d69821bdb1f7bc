"""Tokens, the organisation, and users."""

from __future__ import annotations

from fastapi import Query, Response

from parley.api.models.common import EntityRef
from parley.api.models.directory import (
    OAuthClientRef,
    Organization,
    TokenInfo,
    User,
    UserEntityListing,
    UserMe,
)
from parley.api.paging import PageNumber, PageSize, check_page, descending, split_list
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal

router = genesys_router()


@router.get("/api/v2/tokens/me", response_model=TokenInfo, tags=["Tokens"],
            summary="Details of the caller's token")
async def get_token_me(principal: CurrentPrincipal, parley: App) -> TokenInfo:
    info = await parley.auth.token_info(principal)
    org = EntityRef(id=info.organization.id, name=info.organization.name)
    return TokenInfo(
        organization=org, homeOrganization=org, authorizedScope=[],
        OAuthClient=OAuthClientRef(
            id=info.client.id, name=info.client.name,
            authorizedGrantType=info.grant_type.genesys_name, organization=org,
            roleName=principal.role.value),
        userId=principal.user_id)


@router.head("/api/v2/tokens/me", tags=["Tokens"], summary="Is the caller's token valid?")
async def head_token_me(principal: CurrentPrincipal) -> Response:
    return Response(status_code=200)


@router.delete("/api/v2/tokens/me", status_code=204, response_class=Response, tags=["Tokens"],
               summary="Revoke the caller's token")
async def delete_token_me(principal: CurrentPrincipal, parley: App) -> Response:
    await parley.auth.revoke(principal)
    return Response(status_code=204)


@router.get("/api/v2/organizations/me", response_model=Organization, tags=["Organization"])
async def get_organization_me(principal: CurrentPrincipal, parley: App) -> Organization:
    return Organization.of(await parley.directory.organization(principal))


@router.get("/api/v2/users/me", response_model=UserMe, tags=["Users"])
async def get_user_me(principal: CurrentPrincipal, parley: App) -> UserMe:
    user = await parley.directory.me(principal)
    org = await parley.directory.organization(principal)
    return UserMe(**User.of(user).model_dump(),
                  organization=EntityRef(id=org.id, name=org.name))


@router.get("/api/v2/users", response_model=UserEntityListing, tags=["Users"])
async def get_users(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                    pageNumber: PageNumber = 1, id: list[str] | None = Query(None),
                    state: str | None = None, sortOrder: str | None = None
                    ) -> UserEntityListing:
    size, page = check_page(pageSize, pageNumber)
    users, total = await parley.directory.users(
        principal, page=page, size=size, ids=split_list(id) or None, state=state,
        descending=descending(sortOrder))
    return UserEntityListing.of([User.of(u) for u in users], total=total, page=page, size=size,
                                path="/api/v2/users")


@router.get("/api/v2/users/{userId}", response_model=User, tags=["Users"])
async def get_user(userId: str, principal: CurrentPrincipal, parley: App) -> User:
    return User.of(await parley.directory.user(principal, userId))
