"""Inbound message flows (Architect) and inbound message routes (message recipients)."""

from __future__ import annotations

import json
import uuid

from fastapi import Query, Request, Response

from parley.api.models.flows import (
    FLOWS,
    RECIPIENTS,
    FlowEntityListing,
    FlowModel,
    FlowProblem,
    FlowRequest,
    FlowValidation,
    FlowVersionEntityListing,
    FlowVersionModel,
    Operation,
    Recipient,
    RecipientListing,
    RecipientRequest,
)
from parley.api.paging import PageNumber, PageSize, check_page, split_list
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.errors import InvalidInput, NotFound
from parley.domain.flows import FlowValidationError

router = genesys_router(tags=["Flows"])


async def _definition_text(request: Request) -> str:
    """A definition is sent as raw YAML (text/yaml, text/plain) or as JSON {"yaml": "..."}."""
    raw = await request.body()
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the flow definition is not valid UTF-8") from None
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(text)
        except ValueError as e:
            raise InvalidInput(f"the request body is not valid JSON: {e}") from None
        if not isinstance(body, dict) or not isinstance(body.get("yaml"), str):
            raise InvalidInput('send the definition as {"yaml": "..."} or as text/yaml',
                               field="yaml")
        text = body["yaml"]
    if not text.strip():
        raise InvalidInput("the flow definition is empty", field="yaml")
    return text


_YAML_BODY = {"requestBody": {"required": True, "content": {
    "text/yaml": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object", "properties": {
        "yaml": {"type": "string"}}, "required": ["yaml"]}}}}}


@router.get(FLOWS, response_model=FlowEntityListing)
async def get_flows(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                    pageNumber: PageNumber = 1, type: list[str] | None = Query(None),
                    name: str | None = None, id: list[str] | None = Query(None)
                    ) -> FlowEntityListing:
    size, page = check_page(pageSize, pageNumber)
    flows, total = await parley.flows.page(principal, page=page, size=size,
                                           types=split_list(type), name=name,
                                           ids=split_list(id))
    return FlowEntityListing.of([FlowModel.of(f) for f in flows], total=total, page=page, size=size,
                                path=FLOWS)


@router.post(FLOWS, response_model=FlowModel, summary="Create an inbound message flow")
async def post_flow(body: FlowRequest, principal: CurrentPrincipal, parley: App) -> FlowModel:
    return FlowModel.of(await parley.flows.create(principal, name=body.name,
                                                  description=body.description,
                                                  kind=body.type))


@router.get(FLOWS + "/{flowId}", response_model=FlowModel)
async def get_flow(flowId: str, principal: CurrentPrincipal, parley: App) -> FlowModel:
    return FlowModel.of(await parley.flows.get(principal, flowId))


@router.put(FLOWS + "/{flowId}", response_model=FlowModel)
async def put_flow(flowId: str, body: FlowRequest, principal: CurrentPrincipal,
                   parley: App) -> FlowModel:
    return FlowModel.of(await parley.flows.update(principal, flowId, name=body.name,
                                                  description=body.description))


@router.delete(FLOWS + "/{flowId}", status_code=204, response_class=Response)
async def delete_flow(flowId: str, principal: CurrentPrincipal, parley: App) -> Response:
    await parley.flows.delete(principal, flowId)
    return Response(status_code=204)


@router.post(FLOWS + "/{flowId}/versions", response_model=FlowVersionModel,
             openapi_extra=_YAML_BODY,
             summary="Save a definition (YAML) as the flow's next version")
async def post_flow_version(flowId: str, request: Request, principal: CurrentPrincipal,
                            parley: App) -> FlowVersionModel:
    version = await parley.flows.save_version(principal, flowId,
                                              await _definition_text(request))
    return FlowVersionModel.of(version, await parley.flows.get(principal, flowId))


@router.get(FLOWS + "/{flowId}/versions", response_model=FlowVersionEntityListing)
async def get_flow_versions(flowId: str, principal: CurrentPrincipal,
                            parley: App) -> FlowVersionEntityListing:
    flow = await parley.flows.get(principal, flowId)
    versions = await parley.flows.versions(principal, flowId)
    return FlowVersionEntityListing.of([FlowVersionModel.of(v, flow) for v in versions],
                                       total=len(versions), page=1, size=max(len(versions), 25),
                                       path=f"{FLOWS}/{flowId}/versions")


def _version_number(raw: str) -> int:
    if not raw.isdigit():
        raise InvalidInput(f"version '{raw}' must be a version number", field="versionId")
    return int(raw)


@router.get(FLOWS + "/{flowId}/versions/{versionId}", response_model=FlowVersionModel)
async def get_flow_version(flowId: str, versionId: str, principal: CurrentPrincipal,
                           parley: App) -> FlowVersionModel:
    flow = await parley.flows.get(principal, flowId)
    return FlowVersionModel.of(await parley.flows.version(principal, flowId,
                                                          _version_number(versionId)), flow)


@router.get(FLOWS + "/{flowId}/versions/{versionId}/configuration",
            response_class=Response, summary="The version's definition, as YAML")
async def get_flow_version_configuration(flowId: str, versionId: str,
                                         principal: CurrentPrincipal, parley: App) -> Response:
    version = await parley.flows.version(principal, flowId, _version_number(versionId))
    return Response(version.yaml, media_type="text/yaml")


@router.get(FLOWS + "/{flowId}/latestconfiguration", response_class=Response,
            summary="The latest saved definition, as YAML")
async def get_flow_latest(flowId: str, principal: CurrentPrincipal, parley: App) -> Response:
    flow = await parley.flows.get(principal, flowId)
    if flow.saved_yaml is None:
        raise NotFound(f"flow '{flow.name}' has no saved definition yet")
    return Response(flow.saved_yaml, media_type="text/yaml")


@router.post(FLOWS + "/actions/publish", response_model=Operation,
             summary="Publish a saved version (the latest by default)")
async def publish_flow(principal: CurrentPrincipal, parley: App, flow: str = Query(...),
                       version: str | None = None) -> Operation:
    await parley.flows.publish(principal, flow,
                               None if version is None else _version_number(version))
    return Operation(id=str(uuid.uuid4()), complete=True, actionName="PUBLISH",
                     actionStatus="SUCCESS")


@router.post("/api/v2/parley/flows/validate", response_model=FlowValidation,
             openapi_extra=_YAML_BODY,
             summary="Check a definition without saving it; problems name line and field")
async def validate_flow(request: Request, principal: CurrentPrincipal,
                        parley: App) -> FlowValidation:
    text = await _definition_text(request)
    try:
        definition = await parley.flows.validate(principal, text)
    except FlowValidationError as e:
        return FlowValidation(valid=False, problems=[
            FlowProblem(path=p.path, message=p.message, line=p.line, column=p.column,
                        severity=p.severity.value) for p in [*e.problems, *e.warnings]])
    return FlowValidation(valid=True, name=definition.name, queues=sorted(definition.queues),
                          problems=[FlowProblem(path=p.path, message=p.message, line=p.line,
                                                column=p.column, severity=p.severity.value)
                                    for p in definition.warnings])


# -- inbound message routes -------------------------------------------------------------------


@router.get(RECIPIENTS, response_model=RecipientListing, tags=["Routing"])
async def get_recipients(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                         pageNumber: PageNumber = 1, messengerType: str | None = None
                         ) -> RecipientListing:
    size, page = check_page(pageSize, pageNumber)
    if messengerType not in (None, "sms"):
        return RecipientListing.of([], total=0, page=page, size=size, path=RECIPIENTS)
    routes, total = await parley.flows.routes(principal, page=page, size=size)
    return RecipientListing.of([Recipient.of(r) for r in routes], total=total, page=page, size=size,
                               path=RECIPIENTS)


@router.get(RECIPIENTS + "/{recipientId}", response_model=Recipient, tags=["Routing"])
async def get_recipient(recipientId: str, principal: CurrentPrincipal,
                        parley: App) -> Recipient:
    return Recipient.of(await parley.flows.route(principal, recipientId))


@router.put(RECIPIENTS + "/{recipientId}", response_model=Recipient, tags=["Routing"],
            summary="Route the number's inbound texts to a published flow ({flow: {id}})")
async def put_recipient(recipientId: str, body: RecipientRequest, principal: CurrentPrincipal,
                        parley: App) -> Recipient:
    return Recipient.of(await parley.flows.set_route(
        principal, recipientId, None if body.flow is None else body.flow.id))
