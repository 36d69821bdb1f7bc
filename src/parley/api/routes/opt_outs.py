"""Opt-out list and policy: Parley's own resources, under /api/v2/parley/."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from parley.api.models.common import EntityListing, Model
from parley.api.paging import PageNumber, PageSize, check_page
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.opt_out import ANY_NUMBER, OptOut
from parley.domain.phone import parse_e164
from parley.domain.times import iso
from parley.services.opt_out import policy_to

router = genesys_router(tags=["Opt-out"])

OPT_OUTS = "/api/v2/parley/optouts"


class OptOutModel(Model):
    customer: str
    number: str
    """The number opted out of, or "*" for every number of the organisation."""
    allNumbers: bool
    keyword: str
    dateOptedOut: str

    @classmethod
    def of(cls, o: OptOut) -> OptOutModel:
        return cls(customer=o.customer_address, number=o.org_address,
                   allNumbers=o.org_address == ANY_NUMBER, keyword=o.keyword,
                   dateOptedOut=iso(o.created_ms) or "")


class OptOutListing(EntityListing[OptOutModel]):
    pass


class OptOutPolicyModel(Model):
    scope: str | None = None
    """`number` (STOP opts out of the number texted) or `organization` (of every number)."""
    stopWords: list[str] | None = None
    startWords: list[str] | None = None
    helpWords: list[str] | None = None
    stopReply: str | None = None
    startReply: str | None = None
    helpReply: str | None = None


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
