"""SMS numbers and queues (Genesys' routing API)."""

from __future__ import annotations

from fastapi import Query, Response

from parley.api.models.routing import (
    MemberRef,
    Queue,
    QueueEntityListing,
    QueueMember,
    QueueMemberEntityListing,
    QueueRequest,
    SmsAvailablePhoneNumber,
    SmsAvailablePhoneNumberEntityListing,
    SmsPhoneNumber,
    SmsPhoneNumberEntityListing,
    SmsPhoneNumberProvision,
    SmsPhoneNumberUpdate,
)
from parley.api.paging import PageNumber, PageSize, check_page, descending, split_list
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.errors import InvalidInput
from parley.services.queues import MAX_MEMBERS_PER_CALL, QueueSettings

router = genesys_router(tags=["Routing"])

NUMBERS = "/api/v2/routing/sms/phonenumbers"
QUEUES = "/api/v2/routing/queues"


# -- SMS numbers ----------------------------------------------------------------------------


@router.get("/api/v2/routing/sms/availablephonenumbers",
            response_model=SmsAvailablePhoneNumberEntityListing,
            summary="Numbers the carrier can register for you")
async def get_available_numbers(
        principal: CurrentPrincipal, parley: App, countryCode: str | None = None,
        phoneNumberType: str | None = None, region: str | None = None,
        city: str | None = None, areaCode: str | None = None, pattern: str | None = None,
        addressRequirement: str | None = None, integrationId: str | None = None
) -> SmsAvailablePhoneNumberEntityListing:
    found = await parley.numbers.available(principal, country_code=countryCode,
                                           phone_number_type=phoneNumberType,
                                           area_code=areaCode, pattern=pattern,
                                           integration_id=integrationId)
    return SmsAvailablePhoneNumberEntityListing(
        entities=[SmsAvailablePhoneNumber.of(a, cid) for a, cid in found])


@router.get(NUMBERS, response_model=SmsPhoneNumberEntityListing)
async def get_numbers(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                      pageNumber: PageNumber = 1, phoneNumber: str | None = None,
                      phoneNumberType: list[str] | None = Query(None),
                      phoneNumberStatus: list[str] | None = Query(None),
                      countryCode: list[str] | None = Query(None),
                      sortOrder: str | None = None) -> SmsPhoneNumberEntityListing:
    size, page = check_page(pageSize, pageNumber)
    numbers, total = await parley.numbers.page(
        principal, page=page, size=size, contains=phoneNumber,
        types=split_list(phoneNumberType), statuses=split_list(phoneNumberStatus),
        countries=split_list(countryCode), descending=descending(sortOrder))
    return SmsPhoneNumberEntityListing.of([SmsPhoneNumber.of(n) for n in numbers], total=total,
                                          page=page, size=size, path=NUMBERS)


@router.post(NUMBERS, response_model=SmsPhoneNumber, summary="Register (provision) a number")
async def post_number(body: SmsPhoneNumberProvision, principal: CurrentPrincipal,
                      parley: App) -> SmsPhoneNumber:
    return SmsPhoneNumber.of(await parley.numbers.provision(
        principal, phone_number=body.phoneNumber, phone_number_type=body.phoneNumberType,
        country_code=body.countryCode, name=body.name,
        integration_id=body.integration.id if body.integration else None))


@router.get(NUMBERS + "/{phoneNumberId}", response_model=SmsPhoneNumber)
async def get_number(phoneNumberId: str, principal: CurrentPrincipal,
                     parley: App) -> SmsPhoneNumber:
    return SmsPhoneNumber.of(await parley.numbers.get(principal, phoneNumberId))


@router.put(NUMBERS + "/{phoneNumberId}", response_model=SmsPhoneNumber)
@router.patch(NUMBERS + "/{phoneNumberId}", response_model=SmsPhoneNumber)
async def put_number(phoneNumberId: str, body: SmsPhoneNumberUpdate,
                     principal: CurrentPrincipal, parley: App) -> SmsPhoneNumber:
    return SmsPhoneNumber.of(await parley.numbers.rename(
        principal, phoneNumberId, name=body.name, version=body.version,
        integration_id=body.integration.id if body.integration else None))


@router.delete(NUMBERS + "/{phoneNumberId}", status_code=204, response_class=Response,
               summary="Release a number")
async def delete_number(phoneNumberId: str, principal: CurrentPrincipal,
                        parley: App) -> Response:
    await parley.numbers.release(principal, phoneNumberId)
    return Response(status_code=204)


# -- queues -------------------------------------------------------------------------------


def _settings(body: QueueRequest) -> QueueSettings:
    if body.name is None:
        raise InvalidInput("name is required", field="name")
    message = body.mediaSettings.message if body.mediaSettings else None
    sla = message.serviceLevel if message else None
    sms = body.outboundMessagingAddresses.smsAddress if body.outboundMessagingAddresses else None
    return QueueSettings(
        name=body.name, description=body.description,
        sms_number_id=sms.id if sms else None,
        alerting_timeout_seconds=message.alertingTimeoutSeconds if message else None,
        enable_auto_answer=message.enableAutoAnswer if message else None,
        service_level_percentage=sla.percentage if sla else None,
        service_level_duration_ms=sla.durationMs if sla else None,
        wrapup_prompt=body.acwSettings.wrapupPrompt if body.acwSettings else None,
        wrapup_timeout_ms=body.acwSettings.timeoutMs if body.acwSettings else None,
        skill_evaluation_method=body.skillEvaluationMethod)


@router.get(QUEUES, response_model=QueueEntityListing)
async def get_queues(principal: CurrentPrincipal, parley: App, pageSize: PageSize = 25,
                     pageNumber: PageNumber = 1, name: str | None = None,
                     id: list[str] | None = Query(None), sortOrder: str | None = None
                     ) -> QueueEntityListing:
    size, page = check_page(pageSize, pageNumber)
    queues, total = await parley.queues.page(principal, page=page, size=size, name=name,
                                             ids=split_list(id),
                                             descending=descending(sortOrder))
    return QueueEntityListing.of([Queue.of(q) for q in queues], total=total, page=page, size=size,
                                 path=QUEUES)


@router.post(QUEUES, response_model=Queue)
async def post_queue(body: QueueRequest, principal: CurrentPrincipal, parley: App) -> Queue:
    return Queue.of(await parley.queues.create(principal, _settings(body)))


@router.get(QUEUES + "/{queueId}", response_model=Queue)
async def get_queue(queueId: str, principal: CurrentPrincipal, parley: App) -> Queue:
    return Queue.of(await parley.queues.get(principal, queueId))


@router.put(QUEUES + "/{queueId}", response_model=Queue)
async def put_queue(queueId: str, body: QueueRequest, principal: CurrentPrincipal,
                    parley: App) -> Queue:
    return Queue.of(await parley.queues.replace(principal, queueId, _settings(body),
                                                version=body.version))


@router.delete(QUEUES + "/{queueId}", status_code=204, response_class=Response)
async def delete_queue(queueId: str, principal: CurrentPrincipal, parley: App,
                       forceDelete: bool = False) -> Response:
    await parley.queues.delete(principal, queueId)
    return Response(status_code=204)


@router.get(QUEUES + "/{queueId}/members", response_model=QueueMemberEntityListing)
async def get_queue_members(queueId: str, principal: CurrentPrincipal, parley: App,
                            pageSize: PageSize = 25, pageNumber: PageNumber = 1,
                            joined: bool | None = None) -> QueueMemberEntityListing:
    size, page = check_page(pageSize, pageNumber, max_size=100)
    members = await parley.queues.members(principal, queueId, page=page, size=size,
                                          joined=joined)
    base = f"{QUEUES}/{queueId}/members"
    return QueueMemberEntityListing(
        entities=[QueueMember.of(m, u) for m, u in members], pageNumber=page, pageSize=size,
        firstUri=f"{base}?pageSize={size}&pageNumber=1",
        selfUri=f"{base}?pageSize={size}&pageNumber={page}",
        nextUri=f"{base}?pageSize={size}&pageNumber={page + 1}" if len(members) == size
        else None,
        previousUri=f"{base}?pageSize={size}&pageNumber={page - 1}" if page > 1 else None)


@router.post(QUEUES + "/{queueId}/members", status_code=204, response_class=Response,
             summary="Add members ([{id}]); with ?delete=true, remove them")
async def post_queue_members(queueId: str, body: list[MemberRef], principal: CurrentPrincipal,
                             parley: App, delete: bool = False) -> Response:
    await parley.queues.change_members(principal, queueId, [m.id for m in body], remove=delete)
    return Response(status_code=204)


@router.patch(QUEUES + "/{queueId}/members", status_code=204, response_class=Response,
              summary="Join or unjoin members ([{id, joined}])")
async def patch_queue_members(queueId: str, body: list[MemberRef], principal: CurrentPrincipal,
                              parley: App) -> Response:
    if len(body) > MAX_MEMBERS_PER_CALL:
        raise InvalidInput(f"at most {MAX_MEMBERS_PER_CALL} members per request")
    changes = []
    for m in body:
        if m.joined is None:
            raise InvalidInput(f"member {m.id}: joined (true or false) is required",
                               field="joined")
        changes.append((m.id, m.joined))
    await parley.queues.set_joined(principal, queueId, changes)
    return Response(status_code=204)
