"""Inbound message flows as configuration (create, save versions, publish) and the inbound
message routes that tie each SMS number to one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from parley.concurrency import SingleFlight
from parley.domain.access import Permission, Principal
from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.flow_catalog import Flow, FlowVersion
from parley.domain.flows import FLOW_TYPE, DataHostRules, FlowDefinition, parse_flow
from parley.domain.ids import new_id
from parley.domain.numbers import SmsNumber
from parley.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_FLOW_BYTES = 256 * 1024
MAX_NAME = 200
"""What the store's name column holds (and what a flow's YAML `name` may be)."""


@dataclass(frozen=True, slots=True)
class Route:
    """An inbound message route (Genesys: a message recipient): a number and its flow."""

    number: SmsNumber
    flow: Flow | None
    modified_ms: int | None
    modified_by: str | None


def _check_type(kind: object) -> str:
    if kind is None or (isinstance(kind, str) and kind.lower() == FLOW_TYPE):
        return FLOW_TYPE
    raise InvalidInput(f"flow type '{kind}' is not supported: Parley runs {FLOW_TYPE} "
                       "(inbound message) flows", field="type")


@dataclass(frozen=True, slots=True)
class PublishedFlow:
    """What a number's texts run: its flow's published version, parsed."""

    flow_id: str
    name: str
    version: int
    definition: FlowDefinition


ROUTE_CACHE_MS = 5_000
"""How stale another node's route or publish may be here (this node's own: not at all)."""


class FlowService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 data_hosts: DataHostRules | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._data_hosts = data_hosts or DataHostRules()
        """checked on save and publish; stored versions are read without it (the HTTP
        adapter applies the same rules when it connects)"""
        self._parsed: dict[tuple[str, int], FlowDefinition] = {}
        self._published: dict[str, tuple[int, PublishedFlow | None]] = {}
        """number id -> (valid until, what its texts run): read on every new conversation"""
        self._loading: SingleFlight[str, PublishedFlow | None] = SingleFlight()

    async def published_for(self, org_id: str, number_id: str) -> PublishedFlow | None:
        """The published flow texts to this number run, if any (cached)."""
        now = self._clock.now_ms()
        hit = self._published.get(number_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        return await self._loading.load(number_id, lambda: self._load_published(org_id,
                                                                                number_id))

    async def _load_published(self, org_id: str, number_id: str) -> PublishedFlow | None:
        now = self._clock.now_ms()
        found = None
        async with self._uow(read_only=True) as uow:
            flow_id = (await uow.flows.route_of(number_id))[0]
            flow = None if flow_id is None else await uow.flows.get(org_id, flow_id)
            if flow is not None and flow.published_version is not None:
                definition = await self.definition(uow, org_id, flow.id,
                                                   flow.published_version)
                if definition is not None:
                    found = PublishedFlow(flow.id, flow.name, flow.published_version,
                                          definition)
        self._published[number_id] = (now + ROUTE_CACHE_MS, found)
        return found

    # -- the catalog ------------------------------------------------------------------------

    async def create(self, principal: Principal, *, name: object, description: str | None,
                     kind: object) -> Flow:
        principal.require(Permission.CONFIGURE)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name is required", field="name")
        if len(name.strip()) > MAX_NAME:
            raise InvalidInput(f"flow name is longer than {MAX_NAME} characters", field="name")
        now = self._clock.now_ms()
        flow = Flow(id=new_id(), org_id=principal.org_id, name=name.strip(),
                    type=_check_type(kind), created_ms=now, modified_ms=now,
                    description=description, created_by=principal.user_id,
                    modified_by=principal.user_id)
        async with self._uow() as uow:
            if await uow.flows.by_name(principal.org_id, flow.name, lock=True) is not None:
                raise Conflict(f"a flow named '{flow.name}' already exists", field="name")
            await uow.flows.add(flow)
            await uow.commit()
        return flow

    async def update(self, principal: Principal, flow_id: str, *, name: object,
                     description: str | None) -> Flow:
        principal.require(Permission.CONFIGURE)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name is required", field="name")
        if len(name.strip()) > MAX_NAME:
            raise InvalidInput(f"flow name is longer than {MAX_NAME} characters", field="name")
        async with self._uow() as uow:
            flow = await uow.flows.require(principal.org_id, flow_id, for_update=True)
            other = await uow.flows.by_name(principal.org_id, name.strip(), lock=True)
            if other is not None and other.id != flow.id:
                raise Conflict(f"a flow named '{name.strip()}' already exists", field="name")
            flow.name, flow.description = name.strip(), description
            flow.modified_ms, flow.modified_by = self._clock.now_ms(), principal.user_id
            await uow.flows.update(flow)
            await uow.commit()
        self._published.clear()
        return flow

    async def delete(self, principal: Principal, flow_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await uow.flows.require(principal.org_id, flow_id, for_update=True)
            routed = await uow.flows.numbers_routed_to(flow_id)
            if routed:
                raise Conflict(f"the flow handles texts to {', '.join(routed)}; route those "
                               "numbers elsewhere first")
            await uow.flows.delete(flow_id)
            await uow.commit()
        self._published.clear()

    async def get(self, principal: Principal, flow_id: str) -> Flow:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.flows.require(principal.org_id, flow_id)

    async def page(self, principal: Principal, *, page: int, size: int,
                   types: Sequence[str] = (), name: str | None = None,
                   ids: Sequence[str] = ()) -> tuple[list[Flow], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.flows.page(principal.org_id, page=page, size=size, types=types,
                                        name=name, ids=ids)

    # -- definitions and versions -----------------------------------------------------------

    @staticmethod
    async def _queue_names(uow: UnitOfWork, org_id: str) -> set[str]:
        queues, _ = await uow.queues.page(org_id, page=1, size=100_000)
        return {q.name for q in queues}

    async def validate(self, principal: Principal, text: str) -> FlowDefinition:
        """Parse and check a definition against this organisation's queues."""
        principal.require(Permission.VIEW_CONFIGURATION)
        if len(text.encode()) > MAX_FLOW_BYTES:
            raise InvalidInput(f"a flow definition may have at most {MAX_FLOW_BYTES} bytes")
        async with self._uow(read_only=True) as uow:
            names = await self._queue_names(uow, principal.org_id)
        return parse_flow(text, known_queues=names, data_hosts=self._data_hosts)

    async def save_version(self, principal: Principal, flow_id: str,
                           text: str) -> FlowVersion:
        """Validate and store the definition as the flow's next version (not yet live)."""
        principal.require(Permission.CONFIGURE)
        definition = await self.validate(principal, text)
        now = self._clock.now_ms()
        async with self._uow() as uow:
            flow = await uow.flows.require(principal.org_id, flow_id, for_update=True)
            if definition.name != flow.name:
                flow.name = definition.name
                other = await uow.flows.by_name(principal.org_id, flow.name, lock=True)
                if other is not None and other.id != flow.id:
                    raise Conflict(f"a flow named '{flow.name}' already exists",
                                   field="name")
            number = (flow.saved_version or 0) + 1
            version = FlowVersion(id=new_id(), flow_id=flow.id, version=number, yaml=text,
                                  created_ms=now, created_by=principal.user_id)
            await uow.flows.add_version(version)
            flow.saved_yaml, flow.saved_version = text, number
            flow.description = definition.description or flow.description
            flow.modified_ms, flow.modified_by = now, principal.user_id
            await uow.flows.update(flow)
            await uow.commit()
        return version

    async def publish(self, principal: Principal, flow_id: str,
                      version: int | None = None) -> FlowVersion:
        """Make a saved version the one routes run (the latest saved one by default)."""
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            flow = await uow.flows.require(principal.org_id, flow_id, for_update=True)
            number = flow.saved_version if version is None else version
            if number is None:
                raise Conflict(f"flow '{flow.name}' has no saved version to publish; save a "
                               "definition first")
            found = await uow.flows.version(flow.id, number)
            if found is None:
                raise NotFound(f"flow '{flow.name}' has no version {number}")
            # Queues may have been renamed or deleted since it was saved: check again.
            parse_flow(found.yaml, known_queues=await self._queue_names(uow, principal.org_id),
                       data_hosts=self._data_hosts)
            now = self._clock.now_ms()
            flow.published_version, flow.published_ms = number, now
            flow.modified_ms, flow.modified_by = now, principal.user_id
            await uow.flows.update(flow)
            await uow.flows.mark_published(flow.id, number, now)
            await uow.commit()
        self._published.clear()
        return replace(found, published_ms=now)

    async def versions(self, principal: Principal, flow_id: str) -> list[FlowVersion]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            await uow.flows.require(principal.org_id, flow_id)
            return await uow.flows.versions(flow_id)

    async def version(self, principal: Principal, flow_id: str, version: int) -> FlowVersion:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            flow = await uow.flows.require(principal.org_id, flow_id)
            found = await uow.flows.version(flow_id, version)
        if found is None:
            raise NotFound(f"flow '{flow.name}' has no version {version}")
        return found

    async def definition(self, uow: UnitOfWork, org_id: str, flow_id: str,
                         version: int) -> FlowDefinition | None:
        """The parsed definition of a version, cached: versions never change."""
        key = (flow_id, version)
        if key not in self._parsed:
            found = await uow.flows.version(flow_id, version)
            if found is None:
                return None
            self._parsed[key] = parse_flow(found.yaml)
        return self._parsed[key]

    # -- inbound message routes (recipients) ------------------------------------------------

    async def routes(self, principal: Principal, *, page: int, size: int
                     ) -> tuple[list[Route], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            numbers, total = await uow.numbers.page(principal.org_id, page=page, size=size)
            return [await self._route(uow, principal, n) for n in numbers], total

    async def route(self, principal: Principal, number_id: str) -> Route:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            number = await uow.numbers.require(
                principal.org_id, number_id, message=f"message recipient {number_id} not found")
            return await self._route(uow, principal, number)

    @staticmethod
    async def _route(uow: UnitOfWork, principal: Principal, number: SmsNumber) -> Route:
        flow_id, modified_ms, modified_by = await uow.flows.route_of(number.id)
        flow = None if flow_id is None else await uow.flows.get(principal.org_id, flow_id)
        return Route(number, flow, modified_ms, modified_by)

    async def set_route(self, principal: Principal, number_id: str,
                        flow_id: str | None) -> Route:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            number = await uow.numbers.require(
                principal.org_id, number_id, message=f"message recipient {number_id} not found")
            if flow_id is not None:
                flow = await uow.flows.get(principal.org_id, flow_id, for_update=True)
                if flow is None:
                    raise InvalidInput(f"flow {flow_id} not found in this organisation",
                                       field="flow.id")
                if flow.published_version is None:
                    raise InvalidInput(f"flow '{flow.name}' is not published; publish it "
                                       "before routing a number to it", field="flow.id")
            await uow.flows.set_route(number_id, flow_id, self._clock.now_ms(),
                                      principal.user_id)
            await uow.commit()
            self._published.pop(number_id, None)
            return await self._route(uow, principal, number)
