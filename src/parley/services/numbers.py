"""SMS numbers: register them at a carrier, look them up fast on the send path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parley.concurrency import SingleFlight
from parley.domain.access import Permission, Principal
from parley.domain.errors import Conflict, InvalidInput
from parley.domain.ids import new_id
from parley.domain.numbers import AvailableNumber, PhoneNumberType, SmsNumber
from parley.domain.phone import parse_e164, region_of
from parley.services.ports import Carrier, CarrierError, Clock, UnitOfWork, UnitOfWorkFactory


def _number_type(raw: str | None) -> PhoneNumberType:
    try:
        return PhoneNumberType((raw or "").lower())
    except ValueError:
        allowed = ", ".join(t.value for t in PhoneNumberType)
        raise InvalidInput(f"phoneNumberType '{raw}' is not one of: {allowed}",
                           field="phoneNumberType") from None


def _country(raw: str | None) -> str:
    if not raw or len(raw) != 2 or not raw.isalpha():
        raise InvalidInput(f"countryCode '{raw}' must be an ISO 3166 alpha-2 code such as US",
                           field="countryCode")
    return raw.upper()


def _name(raw: str | None) -> str | None:
    if raw is not None and len(raw) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    return raw


@dataclass(frozen=True, slots=True)
class NumberOwner:
    org_id: str
    number_id: str
    carrier: str
    phone_number_type: PhoneNumberType


class NumberDirectory:
    """phone number -> owner, cached for the send path.

    Entries are dropped when this node changes a number and expire after `ttl_ms`, which bounds
    how stale another node's change can be here.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ttl_ms: int = 60_000) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._cache: dict[str, tuple[int, NumberOwner | None]] = {}
        self._loading: SingleFlight[str, NumberOwner | None] = SingleFlight()

    async def owner(self, phone_number: str) -> NumberOwner | None:
        now = self._clock.now_ms()
        hit = self._cache.get(phone_number)
        if hit is not None and hit[0] > now:
            return hit[1]
        return await self._loading.load(phone_number, lambda: self._load(phone_number))

    async def _load(self, phone_number: str) -> NumberOwner | None:
        async with self._uow(read_only=True) as uow:
            n = await uow.numbers.by_phone(phone_number)
        owner = None if n is None else NumberOwner(n.org_id, n.id, n.carrier,
                                                   n.phone_number_type)
        self._cache[phone_number] = (self._clock.now_ms() + self._ttl_ms, owner)
        return owner

    def forget(self, phone_number: str) -> None:
        self._cache.pop(phone_number, None)


class NumberService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, carriers: Mapping[str, Carrier],
                 directory: NumberDirectory, *, default_carrier: str) -> None:
        self._uow = uow
        self._clock = clock
        self._carriers = carriers
        self._directory = directory
        self._default_carrier = default_carrier

    async def owner(self, phone_number: str) -> NumberOwner | None:
        """Which organisation (and carrier) a registered number belongs to."""
        return await self._directory.owner(phone_number)

    async def _connection(self, uow: UnitOfWork, org_id: str, connection_id: str,
                          field: str) -> Carrier:
        """A running carrier connection of this organisation (or the built-in simulator)."""
        if connection_id != self._default_carrier or connection_id not in self._carriers:
            conn = await uow.carriers.get(org_id, connection_id)
            if conn is None:
                raise InvalidInput(f"carrier connection {connection_id} not found; list them "
                                   "with GET /api/v2/parley/carriers", field=field)
            if not conn.enabled:
                raise InvalidInput(f"carrier connection '{conn.name}' is disabled",
                                   field=field)
        carrier = self._carriers.get(connection_id)
        if carrier is None:
            raise InvalidInput(f"carrier connection {connection_id} is not running on this "
                               "server; see its state under /api/v2/parley/carriers",
                               field=field)
        return carrier

    async def _offering(self, uow: UnitOfWork, org_id: str,
                        integration_id: str | None) -> list[Carrier]:
        """Where available numbers come from: the connection asked for, else every running
        connection of the organisation, else the built-in simulator."""
        if integration_id:
            return [await self._connection(uow, org_id, integration_id, "integrationId")]
        own = [self._carriers[c.id] for c in await uow.carriers.in_org(org_id)
               if c.enabled and c.id in self._carriers]
        if own:
            return own
        sim = self._carriers.get(self._default_carrier)
        if sim is None:
            raise InvalidInput("this organisation has no carrier connection yet; add one with "
                               "POST /api/v2/parley/carriers")
        return [sim]

    async def available(self, principal: Principal, *, country_code: str | None,
                        phone_number_type: str | None, area_code: str | None = None,
                        pattern: str | None = None, limit: int = 30,
                        integration_id: str | None = None
                        ) -> list[tuple[AvailableNumber, str]]:
        """(number, connection id) the organisation can register, not yet registered."""
        principal.require(Permission.CONFIGURE)
        if not country_code:
            raise InvalidInput("countryCode is required", field="countryCode")
        if not phone_number_type:
            raise InvalidInput("phoneNumberType is required", field="phoneNumberType")
        country, kind = _country(country_code), _number_type(phone_number_type)
        free: list[tuple[AvailableNumber, str]] = []
        async with self._uow(read_only=True) as uow:
            for carrier in await self._offering(uow, principal.org_id, integration_id):
                try:
                    offered = await carrier.available_numbers(
                        country_code=country, number_type=kind, area_code=area_code,
                        pattern=pattern, limit=limit * 2)
                except CarrierError as e:
                    raise InvalidInput(f"carrier connection {carrier.name} could not list its "
                                       f"numbers: {e.reason}") from None
                for a in offered:
                    if await uow.numbers.by_phone(a.phone_number) is None:
                        free.append((a, carrier.name))
                    if len(free) == limit:
                        return free
        return free

    async def _carrier_for(self, uow: UnitOfWork, org_id: str, e164: str,
                           integration_id: str | None) -> Carrier:
        if integration_id:
            return await self._connection(uow, org_id, integration_id, "integration.id")
        serving = [c for c in await uow.carriers.in_org(org_id)
                   if c.enabled and c.serves(e164) is not None]
        if len(serving) == 1:
            return await self._connection(uow, org_id, serving[0].id, "integration.id")
        if len(serving) > 1:
            raise InvalidInput(f"{e164} is in the inventory of several carrier connections ("
                               + ", ".join(c.name for c in serving) + "); name one in "
                               "integration.id", field="integration.id")
        sim = self._carriers.get(self._default_carrier)
        if sim is None:
            raise InvalidInput(f"no carrier connection serves {e164}: add it to a "
                               "connection's numbers or name one in integration.id",
                               field="integration.id")
        return sim

    async def provision(self, principal: Principal, *, phone_number: str | None,
                        phone_number_type: str | None, country_code: str | None,
                        name: str | None = None,
                        integration_id: str | None = None) -> SmsNumber:
        principal.require(Permission.CONFIGURE)
        e164 = parse_e164(phone_number, "phoneNumber")
        kind = _number_type(phone_number_type)
        country = _country(country_code)
        name = _name(name)
        if region_of(e164) != country:
            raise InvalidInput(f"phoneNumber {e164} is not a number of country {country} "
                               f"(it belongs to {region_of(e164)})", field="countryCode")
        async with self._uow(read_only=True) as uow:
            carrier = await self._carrier_for(uow, principal.org_id, e164, integration_id)
        await self._check_served(carrier, e164)
        now = self._clock.now_ms()
        number = SmsNumber(id=new_id(), org_id=principal.org_id, phone_number=e164,
                           phone_number_type=kind, country_code=country, carrier=carrier.name,
                           name=name or e164, created_ms=now, modified_ms=now,
                           created_by=principal.user_id, modified_by=principal.user_id)
        async with self._uow() as uow:
            if await uow.numbers.by_phone(e164) is not None:
                raise Conflict(f"phone number {e164} is already registered", field="phoneNumber")
            await uow.numbers.add(number)
            await uow.commit()
        self._directory.forget(e164)
        return number

    @staticmethod
    async def _check_served(carrier: Carrier, e164: str) -> None:
        try:
            await carrier.check_number(e164)
        except CarrierError as e:
            raise InvalidInput(f"carrier connection {carrier.name} cannot serve {e164}: "
                               f"{e.reason}", field="phoneNumber") from None

    async def get(self, principal: Principal, number_id: str) -> SmsNumber:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.numbers.require(principal.org_id, number_id)

    async def page(self, principal: Principal, *, page: int, size: int,
                   contains: str | None = None, types: list[str] | None = None,
                   statuses: list[str] | None = None, countries: list[str] | None = None,
                   descending: bool = False) -> tuple[list[SmsNumber], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.numbers.page(
                principal.org_id, page=page, size=size, contains=contains,
                types=[t.lower() for t in types or []],
                statuses=[s.upper() for s in statuses or []],
                countries=[c.upper() for c in countries or []], descending=descending)

    async def rename(self, principal: Principal, number_id: str, *, name: str | None,
                     version: int | None, integration_id: str | None = None) -> SmsNumber:
        """Rename a number, or move it to another carrier connection (`integration_id`)."""
        principal.require(Permission.CONFIGURE)
        name = _name(name)
        carrier = None
        if integration_id:
            async with self._uow(read_only=True) as uow:
                carrier = await self._connection(uow, principal.org_id, integration_id,
                                                 "integration.id")
        async with self._uow() as uow:
            n = await uow.numbers.require(principal.org_id, number_id)
            if version is not None and version != n.version:
                raise Conflict(f"SMS phone number {number_id} is at version {n.version}, not "
                               f"{version}; reload it and try again", field="version")
            if carrier is not None and carrier.name != n.carrier:
                await self._check_served(carrier, n.phone_number)
                n.carrier = carrier.name
            n.name = name if name is not None else n.name
            n.version += 1
            n.modified_ms = self._clock.now_ms()
            n.modified_by = principal.user_id
            await uow.numbers.update(n)
            await uow.commit()
        self._directory.forget(n.phone_number)
        return n

    async def release(self, principal: Principal, number_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            n = await uow.numbers.require(principal.org_id, number_id)
            users = await uow.numbers.queues_using(number_id)
            if users:
                raise Conflict(f"{n.phone_number} is the Outbound SMS Number of queue(s) "
                               f"{', '.join(users)}; choose another number for them first")
            await uow.numbers.delete(number_id)
            await uow.commit()
        self._directory.forget(n.phone_number)
