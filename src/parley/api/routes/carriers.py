"""Carrier connections (Parley's own resource, under /api/v2/parley/): SMPP links and HTTP
provider accounts, their settings, write-only secrets, numbers, and live state."""

from __future__ import annotations

from fastapi import Response

from parley.api.models.carriers import (
    CARRIERS,
    CarrierConnectionListing,
    CarrierConnectionModel,
    CarrierConnectionRequest,
    CarrierSettingsListing,
    KindSettings,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.access import Permission
from parley.domain.carriers import CarrierKind
from parley.domain.numbers import PhoneNumberType

router = genesys_router(tags=["Carriers"])


@router.get(CARRIERS, response_model=CarrierConnectionListing,
            summary="Carrier connections, with their state on this node")
async def get_carriers(principal: CurrentPrincipal, parley: App) -> CarrierConnectionListing:
    views = await parley.carrier_admin.list(principal)
    return CarrierConnectionListing(entities=[CarrierConnectionModel.of(v) for v in views],
                                    total=len(views))


@router.post(CARRIERS, response_model=CarrierConnectionModel,
             summary="Add a carrier connection (SMPP link, HTTP provider or simulator)")
async def post_carrier(body: CarrierConnectionRequest, principal: CurrentPrincipal,
                       parley: App) -> CarrierConnectionModel:
    return CarrierConnectionModel.of(await parley.carrier_admin.create(
        principal, name=body.name, kind=body.kind, settings=body.settings,
        secrets=body.secrets, numbers=body.numbers,
        enabled=True if body.enabled is None else body.enabled))


@router.get(CARRIERS + "/settings", response_model=CarrierSettingsListing,
            summary="The settings and secrets of each kind of connection (for forms)")
async def get_carrier_settings(principal: CurrentPrincipal) -> CarrierSettingsListing:
    """Read-only: any signed-in user who may view the configuration."""
    principal.require(Permission.VIEW_CONFIGURATION)
    return CarrierSettingsListing(entities=[KindSettings.of(k) for k in CarrierKind],
                                  phoneNumberTypes=[t.value for t in PhoneNumberType])


@router.get(CARRIERS + "/{connectionId}", response_model=CarrierConnectionModel)
async def get_carrier(connectionId: str, principal: CurrentPrincipal,
                      parley: App) -> CarrierConnectionModel:
    return CarrierConnectionModel.of(await parley.carrier_admin.get(principal, connectionId))


@router.patch(CARRIERS + "/{connectionId}", response_model=CarrierConnectionModel,
              summary="Change what is given; settings merge into the current ones")
async def patch_carrier(connectionId: str, body: CarrierConnectionRequest,
                        principal: CurrentPrincipal, parley: App) -> CarrierConnectionModel:
    changes = body.model_dump(exclude_unset=True)
    return CarrierConnectionModel.of(await parley.carrier_admin.change(
        principal, connectionId, changes=changes, version=changes.pop("version", None)))


@router.put(CARRIERS + "/{connectionId}", response_model=CarrierConnectionModel,
            summary="Replace the connection's name, settings and numbers (secrets are kept "
                    "unless given)")
async def put_carrier(connectionId: str, body: CarrierConnectionRequest,
                      principal: CurrentPrincipal, parley: App) -> CarrierConnectionModel:
    changes = body.model_dump(exclude_unset=True)
    return CarrierConnectionModel.of(await parley.carrier_admin.change(
        principal, connectionId, changes=changes, replace=True,
        version=changes.pop("version", None)))


@router.delete(CARRIERS + "/{connectionId}", status_code=204, response_class=Response)
async def delete_carrier(connectionId: str, principal: CurrentPrincipal,
                         parley: App) -> Response:
    await parley.carrier_admin.delete(principal, connectionId)
    return Response(status_code=204)


@router.post(CARRIERS + "/{connectionId}/restart", response_model=CarrierConnectionModel,
             summary="Drop and re-open the connection on this node")
async def restart_carrier(connectionId: str, principal: CurrentPrincipal,
                          parley: App) -> CarrierConnectionModel:
    return CarrierConnectionModel.of(await parley.carrier_admin.restart(principal, connectionId))
