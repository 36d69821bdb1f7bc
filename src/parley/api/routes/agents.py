"""Agents: presence, routing status, utilization, skills; and wrap-up codes."""

from __future__ import annotations

from fastapi import Query, Response

from parley.api.models.agents import (
    CreateRoutingSkill,
    IdRef,
    OrganizationPresenceDefinition,
    OrganizationPresenceDefinitionEntityListing,
    RoutingSkill,
    RoutingStatus,
    SkillEntityListing,
    UserPresence,
    UserRoutingSkill,
    UserRoutingSkillPost,
    UserRoutingSkillPut,
    UserSkillEntityListing,
    UtilizationRequest,
    UtilizationResponse,
    WrapupCodeEntityListing,
    WrapupCodeModel,
    WrapupCodeRequest,
)
from parley.api.paging import PageNumber, PageSize, check_page, split_list
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.agents import SystemPresence
from parley.domain.errors import InvalidInput, NotFound
from parley.domain.times import iso

router = genesys_router(tags=["Agents"])

SKILLS = "/api/v2/routing/skills"
CODES = "/api/v2/routing/wrapupcodes"


# -- presence ---------------------------------------------------------------------------------


@router.get("/api/v2/presence/definitions",
            response_model=OrganizationPresenceDefinitionEntityListing)
async def get_presence_definitions(principal: CurrentPrincipal
                                   ) -> OrganizationPresenceDefinitionEntityListing:
    entities = [OrganizationPresenceDefinition.of(p) for p in SystemPresence]
    return OrganizationPresenceDefinitionEntityListing(
        entities=entities, total=len(entities), selfUri="/api/v2/presence/definitions")


@router.get("/api/v2/presence/definitions/{definitionId}",
            response_model=OrganizationPresenceDefinition)
async def get_presence_definition(definitionId: str, principal: CurrentPrincipal
                                  ) -> OrganizationPresenceDefinition:
    for p in SystemPresence:
        if p.definition_id == definitionId:
            return OrganizationPresenceDefinition.of(p)
    raise NotFound(f"presence definition {definitionId} not found")


@router.get("/api/v2/users/{userId}/presences/purecloud", response_model=UserPresence)
async def get_presence(userId: str, principal: CurrentPrincipal, parley: App) -> UserPresence:
    return UserPresence.of(await parley.agents.presence(principal, userId))


@router.patch("/api/v2/users/{userId}/presences/purecloud", response_model=UserPresence,
              summary="Set presence; On Queue makes the agent routable")
async def patch_presence(userId: str, body: UserPresence, principal: CurrentPrincipal,
                         parley: App) -> UserPresence:
    definition = body.presenceDefinition
    return UserPresence.of(await parley.agents.set_presence(
        principal, userId, definition_id=definition.id if definition else None,
        system_presence=definition.systemPresence if definition else None,
        message=body.message))


# -- routing status -----------------------------------------------------------------------


@router.get("/api/v2/users/{userId}/routingstatus", response_model=RoutingStatus)
async def get_routing_status(userId: str, principal: CurrentPrincipal,
                             parley: App) -> RoutingStatus:
    view = await parley.agents.routing_status(principal, userId)
    return RoutingStatus(userId=view.user_id, status=view.status.value,
                         startTime=iso(view.start_ms) if view.start_ms else None)


@router.put("/api/v2/users/{userId}/routingstatus", response_model=RoutingStatus,
            summary="IDLE: go on queue (clears NOT_RESPONDING); OFF_QUEUE: leave the queue")
async def put_routing_status(userId: str, body: RoutingStatus, principal: CurrentPrincipal,
                             parley: App) -> RoutingStatus:
    view = await parley.agents.set_routing_status(principal, userId, body.status)
    return RoutingStatus(userId=view.user_id, status=view.status.value,
                         startTime=iso(view.start_ms) if view.start_ms else None)


# -- utilization --------------------------------------------------------------------------


def _capacity(body: UtilizationRequest) -> int | None:
    message = (body.utilization or {}).get("message")
    if message is None or message.maximumCapacity is None:
        raise InvalidInput("utilization.message.maximumCapacity is required",
                           field="utilization.message.maximumCapacity")
    return message.maximumCapacity


@router.get("/api/v2/routing/utilization", response_model=UtilizationResponse)
async def get_utilization(principal: CurrentPrincipal, parley: App) -> UtilizationResponse:
    u = await parley.agents.org_utilization(principal)
    return UtilizationResponse.of(u.capacity)


@router.put("/api/v2/routing/utilization", response_model=UtilizationResponse)
async def put_utilization(body: UtilizationRequest, principal: CurrentPrincipal,
                          parley: App) -> UtilizationResponse:
    u = await parley.agents.set_org_utilization(principal, _capacity(body))
    return UtilizationResponse.of(u.capacity)


@router.get("/api/v2/routing/users/{userId}/utilization", response_model=UtilizationResponse)
async def get_user_utilization(userId: str, principal: CurrentPrincipal,
                               parley: App) -> UtilizationResponse:
    u = await parley.agents.user_utilization(principal, userId)
    return UtilizationResponse.of(u.capacity, u.level)


@router.put("/api/v2/routing/users/{userId}/utilization", response_model=UtilizationResponse)
async def put_user_utilization(userId: str, body: UtilizationRequest,
                               principal: CurrentPrincipal, parley: App) -> UtilizationResponse:
    u = await parley.agents.set_user_utilization(principal, userId, _capacity(body))
    return UtilizationResponse.of(u.capacity, u.level)


@router.delete("/api/v2/routing/users/{userId}/utilization", status_code=204,
               response_class=Response, summary="Revert to the organisation's utilization")
async def delete_user_utilization(userId: str, principal: CurrentPrincipal,
                                  parley: App) -> Response:
    await parley.agents.set_user_utilization(principal, userId, None)
    return Response(status_code=204)


# -- skills -------------------------------------------------------------------------------


@router.get(SKILLS, response_model=SkillEntityListing)
async def get_skills(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                     pageNumber: PageNumber = 1, name: str | None = None,
                     id: list[str] | None = Query(None)) -> SkillEntityListing:
    size, page = check_page(pageSize, pageNumber)
    skills, total = await parley.agents.skills(principal, page=page, size=size, name=name,
                                               ids=split_list(id))
    return SkillEntityListing.of([RoutingSkill.of(s) for s in skills], total=total, page=page,
                                 size=size, path=SKILLS)


@router.post(SKILLS, response_model=RoutingSkill)
async def post_skill(body: CreateRoutingSkill, principal: CurrentPrincipal,
                     parley: App) -> RoutingSkill:
    return RoutingSkill.of(await parley.agents.create_skill(principal, body.name))


@router.get(SKILLS + "/{skillId}", response_model=RoutingSkill)
async def get_skill(skillId: str, principal: CurrentPrincipal, parley: App) -> RoutingSkill:
    return RoutingSkill.of(await parley.agents.skill(principal, skillId))


@router.delete(SKILLS + "/{skillId}", status_code=204, response_class=Response)
async def delete_skill(skillId: str, principal: CurrentPrincipal, parley: App) -> Response:
    await parley.agents.delete_skill(principal, skillId)
    return Response(status_code=204)


async def _user_skills(parley: App, principal: CurrentPrincipal,
                       user_id: str) -> UserSkillEntityListing:
    pairs = await parley.agents.user_skills(principal, user_id)
    return UserSkillEntityListing.of([UserRoutingSkill.of(us, s) for us, s in pairs],
                                     total=len(pairs), page=1, size=max(len(pairs), 25),
                                     path=f"/api/v2/users/{user_id}/routingskills")


@router.get("/api/v2/users/{userId}/routingskills", response_model=UserSkillEntityListing)
async def get_user_skills(userId: str, principal: CurrentPrincipal,
                          parley: App) -> UserSkillEntityListing:
    return await _user_skills(parley, principal, userId)


def _pairs(body: list[UserRoutingSkillPost]) -> list[tuple[str, object]]:
    return [(b.id, b.proficiency) for b in body]


@router.post("/api/v2/users/{userId}/routingskills", response_model=UserRoutingSkill)
async def post_user_skill(userId: str, body: UserRoutingSkillPost,
                          principal: CurrentPrincipal, parley: App) -> UserRoutingSkill:
    pairs = await parley.agents.set_user_skills(principal, userId, _pairs([body]),
                                                replace=False)
    us, s = next((us, s) for us, s in pairs if s.id == body.id)
    return UserRoutingSkill.of(us, s)


@router.delete("/api/v2/users/{userId}/routingskills/{skillId}", status_code=204,
               response_class=Response)
async def delete_user_skill(userId: str, skillId: str, principal: CurrentPrincipal,
                            parley: App) -> Response:
    await parley.agents.remove_user_skill(principal, userId, skillId)
    return Response(status_code=204)


@router.patch("/api/v2/users/{userId}/routingskills/bulk", response_model=UserSkillEntityListing)
async def patch_user_skills(userId: str, body: list[UserRoutingSkillPost],
                            principal: CurrentPrincipal, parley: App) -> UserSkillEntityListing:
    await parley.agents.set_user_skills(principal, userId, _pairs(body), replace=False)
    return await _user_skills(parley, principal, userId)


@router.put("/api/v2/users/{userId}/routingskills/bulk", response_model=UserSkillEntityListing)
async def put_user_skills(userId: str, body: list[UserRoutingSkillPost],
                          principal: CurrentPrincipal, parley: App) -> UserSkillEntityListing:
    await parley.agents.set_user_skills(principal, userId, _pairs(body), replace=True)
    return await _user_skills(parley, principal, userId)


# After the bulk routes, which it would shadow ("bulk" is no skill id).
@router.put("/api/v2/users/{userId}/routingskills/{skillId}", response_model=UserRoutingSkill)
async def put_user_skill(userId: str, skillId: str, body: UserRoutingSkillPut,
                         principal: CurrentPrincipal, parley: App) -> UserRoutingSkill:
    pairs = await parley.agents.set_user_skills(principal, userId,
                                                [(skillId, body.proficiency)], replace=False)
    us, s = next((us, s) for us, s in pairs if s.id == skillId)
    return UserRoutingSkill.of(us, s)


# -- wrap-up codes ------------------------------------------------------------------------


@router.get(CODES, response_model=WrapupCodeEntityListing, tags=["Wrap-up codes"])
async def get_wrapup_codes(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                           pageNumber: PageNumber = 1, name: str | None = None,
                           id: list[str] | None = Query(None)) -> WrapupCodeEntityListing:
    size, page = check_page(pageSize, pageNumber)
    codes, total = await parley.wrapup.page(principal, page=page, size=size, name=name,
                                            ids=split_list(id))
    return WrapupCodeEntityListing.of([WrapupCodeModel.of(c) for c in codes], total=total,
                                      page=page, size=size, path=CODES)


@router.post(CODES, response_model=WrapupCodeModel, tags=["Wrap-up codes"])
async def post_wrapup_code(body: WrapupCodeRequest, principal: CurrentPrincipal,
                           parley: App) -> WrapupCodeModel:
    return WrapupCodeModel.of(await parley.wrapup.create(principal, name=body.name,
                                                         description=body.description))


@router.get(CODES + "/{codeId}", response_model=WrapupCodeModel, tags=["Wrap-up codes"])
async def get_wrapup_code(codeId: str, principal: CurrentPrincipal,
                          parley: App) -> WrapupCodeModel:
    return WrapupCodeModel.of(await parley.wrapup.get(principal, codeId))


@router.put(CODES + "/{codeId}", response_model=WrapupCodeModel, tags=["Wrap-up codes"])
async def put_wrapup_code(codeId: str, body: WrapupCodeRequest, principal: CurrentPrincipal,
                          parley: App) -> WrapupCodeModel:
    return WrapupCodeModel.of(await parley.wrapup.update(principal, codeId, name=body.name,
                                                         description=body.description))


@router.delete(CODES + "/{codeId}", status_code=204, response_class=Response,
               tags=["Wrap-up codes"])
async def delete_wrapup_code(codeId: str, principal: CurrentPrincipal,
                             parley: App) -> Response:
    await parley.wrapup.delete(principal, codeId)
    return Response(status_code=204)


@router.get("/api/v2/routing/queues/{queueId}/wrapupcodes",
            response_model=WrapupCodeEntityListing, tags=["Wrap-up codes"])
async def get_queue_wrapup_codes(queueId: str, principal: CurrentPrincipal,
                                 parley: App) -> WrapupCodeEntityListing:
    codes = await parley.wrapup.of_queue(principal, queueId)
    return WrapupCodeEntityListing.of([WrapupCodeModel.of(c) for c in codes], total=len(codes),
                                      page=1, size=max(len(codes), 25),
                                      path=f"/api/v2/routing/queues/{queueId}/wrapupcodes")


@router.post("/api/v2/routing/queues/{queueId}/wrapupcodes",
             response_model=list[WrapupCodeModel], tags=["Wrap-up codes"],
             summary="Offer these codes on the queue (body [{id}]); returns a bare array")
async def post_queue_wrapup_codes(queueId: str, body: list[IdRef],
                                  principal: CurrentPrincipal,
                                  parley: App) -> list[WrapupCodeModel]:
    added = await parley.wrapup.add_to_queue(principal, queueId, [b.id for b in body])
    return [WrapupCodeModel.of(c) for c in added]


@router.delete("/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}", status_code=204,
               response_class=Response, tags=["Wrap-up codes"])
async def delete_queue_wrapup_code(queueId: str, codeId: str, principal: CurrentPrincipal,
                                   parley: App) -> Response:
    await parley.wrapup.remove_from_queue(principal, queueId, codeId)
    return Response(status_code=204)
