"""Opt-out list and policy: Parley's own resources, under /api/v2/parley/."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from parley.api.models.opt_outs import (
    OptOutListing,
    OptOutModel,
    OptOutPolicyModel,
)
from parley.api.paging import PageNumber, PageSize, check_page
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.phone import parse_e164
from parley.services.opt_out import policy_to

router = genesys_router(tags=["Opt-out"])

OPT_OUTS = "/api/v2/parley/optouts"


@router.get(OPT_OUTS, response_model=OptOutListing, summary="Customers who opted out")
async def get_opt_outs(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                       pageNumber: PageNumber = 1, customer: str | None = None
                       ) -> OptOutListing:
    size, page = check_page(pageSize, pageNumber)
    wanted = None if customer is None else parse_e164(customer, "customer")
    found, total = await parley.opt_outs.page(principal, page=page, size=size, customer=wanted)
    return OptOutListing.of([OptOutModel.of(o) for o in found], total=total, page=page, size=size,
                            path=OPT_OUTS)


@router.get(OPT_OUTS + "/export", response_class=Response,
            summary="The whole opt-out list as CSV")
async def export_opt_outs(principal: CurrentPrincipal, parley: App) -> Response:
    return Response(await parley.opt_outs.export_csv(principal), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="opt-outs.csv"'})


@router.get(OPT_OUTS + "/policy", response_model=OptOutPolicyModel)
async def get_opt_out_policy(principal: CurrentPrincipal, parley: App) -> OptOutPolicyModel:
    return OptOutPolicyModel(**policy_to(await parley.opt_outs.policy(principal.org_id)))


@router.put(OPT_OUTS + "/policy", response_model=OptOutPolicyModel,
            summary="Keywords, replies and scope (number or organisation)")
async def put_opt_out_policy(body: OptOutPolicyModel, principal: CurrentPrincipal,
                             parley: App) -> OptOutPolicyModel:
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    return OptOutPolicyModel(**policy_to(await parley.opt_outs.set_policy(principal, changes)))
