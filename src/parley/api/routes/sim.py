"""The simulator carrier's handset side: what a customer's phone received."""

from __future__ import annotations

from parley.api.formats import iso
from parley.api.models.sim import (
    HandsetMessage,
    HandsetMessageListing,
    InjectedText,
    InjectedTextResult,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.errors import InvalidInput, NotFound
from parley.domain.phone import parse_e164

router = genesys_router(tags=["Simulator"])


@router.get("/sim/v1/messages", response_model=HandsetMessageListing,
            summary="What a simulated phone received from this organisation's numbers")
async def get_handset_messages(principal: CurrentPrincipal, parley: App, phone: str | None = None,
                               limit: int = 100) -> HandsetMessageListing:
    if parley.sim is None:
        raise NotFound("the simulator carrier is not enabled on this server")
    e164 = parse_e164(phone, "phone")
    records = parley.sim.messages_for(principal.org_id, e164, limit=max(1, min(limit, 1000)))
    return HandsetMessageListing(phone=e164, entities=[HandsetMessage(
        id=r.id, direction=r.direction, fromAddress=r.from_address, toAddress=r.to_address,
        text=r.text, status=r.status, time=iso(r.time_ms) or "", segmentCount=r.segment_count)
        for r in records])


@router.post("/sim/v1/messages", response_model=InjectedTextResult,
             summary="A simulated phone texts one of this organisation's numbers")
async def post_handset_message(body: InjectedText, principal: CurrentPrincipal,
                               parley: App) -> InjectedTextResult:
    if parley.sim is None:
        raise NotFound("the simulator carrier is not enabled on this server")
    sender = parse_e164(body.from_, "from")
    to = parse_e164(body.to, "to")
    if not isinstance(body.text, str) or not body.text.strip():
        raise InvalidInput("text is required", field="text")
    owner = await parley.numbers.owner(to)
    if owner is None or owner.org_id != principal.org_id:
        raise InvalidInput(f"{to} is not an SMS number of this organisation", field="to")
    return InjectedTextResult(id=await parley.sim.inject(principal.org_id, sender, to,
                                                         body.text))
