"""SMS numbers: register them at a carrier, look them up fast on the send path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from parley.domain.access import Permission, Principal
from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.numbers import AvailableNumber, PhoneNumberType, SmsNumber
from parley.domain.phone import parse_e164, region_of
from parley.services.ports import Carrier, CarrierError, Clock, UnitOfWorkFactory


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

    async def owner(self, phone_number: str) -> NumberOwner | None:
        now = self._clock.now_ms()
        hit = self._cache.get(phone_number)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._uow(read_only=True) as uow:
            n = await uow.numbers.by_phone(phone_number)
        owner = None if n is None else NumberOwner(n.org_id, n.id, n.carrier)
        self._cache[phone_number] = (now + self._ttl_ms, owner)
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

    def _carrier(self, name: str | None = None) -> Carrier:
        return self._carriers[name or self._default_carrier]

    async def available(self, principal: Principal, *, country_code: str | None,
                        phone_number_type: str | None, area_code: str | None = None,
                        pattern: str | None = None, limit: int = 30) -> list[AvailableNumber]:
        principal.require(Permission.CONFIGURE)
        if not country_code:
            raise InvalidInput("countryCode is required", field="countryCode")
        if not phone_number_type:
            raise InvalidInput("phoneNumberType is required", field="phoneNumberType")
        offered = await self._carrier().available_numbers(
            country_code=_country(country_code), number_type=_number_type(phone_number_type),
            area_code=area_code, pattern=pattern, limit=limit * 2)
        free = []
        async with self._uow(read_only=True) as uow:
            for a in offered:
                if await uow.numbers.by_phone(a.phone_number) is None:
                    free.append(a)
                if len(free) == limit:
                    break
        return free

    async def provision(self, principal: Principal, *, phone_number: str | None,
                        phone_number_type: str | None, country_code: str | None,
                        name: str | None = None) -> SmsNumber:
        principal.require(Permission.CONFIGURE)
        e164 = parse_e164(phone_number, "phoneNumber")
        kind = _number_type(phone_number_type)
        country = _country(country_code)
        name = _name(name)
        if region_of(e164) != country:
            raise InvalidInput(f"phoneNumber {e164} is not a number of country {country} "
                               f"(it belongs to {region_of(e164)})", field="countryCode")
        carrier = self._carrier()
        try:
            await carrier.check_number(e164)
        except CarrierError as e:
            raise InvalidInput(f"carrier '{carrier.name}' cannot serve {e164}: {e.reason}",
                               field="phoneNumber") from None
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

    async def get(self, principal: Principal, number_id: str) -> SmsNumber:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            n = await uow.numbers.get(principal.org_id, number_id)
        if n is None:
            raise NotFound(f"SMS phone number {number_id} not found")
        return n

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
                     version: int | None) -> SmsNumber:
        principal.require(Permission.CONFIGURE)
        name = _name(name)
        async with self._uow() as uow:
            n = await uow.numbers.get(principal.org_id, number_id)
            if n is None:
                raise NotFound(f"SMS phone number {number_id} not found")
            if version is not None and version != n.version:
                raise Conflict(f"SMS phone number {number_id} is at version {n.version}, not "
                               f"{version}; reload it and try again", field="version")
            n.name = name if name is not None else n.name
            n.version += 1
            n.modified_ms = self._clock.now_ms()
            n.modified_by = principal.user_id
            await uow.numbers.update(n)
            await uow.commit()
        return n

    async def release(self, principal: Principal, number_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            n = await uow.numbers.get(principal.org_id, number_id)
            if n is None:
                raise NotFound(f"SMS phone number {number_id} not found")
            users = await uow.numbers.queues_using(number_id)
            if users:
                raise Conflict(f"{n.phone_number} is the Outbound SMS Number of queue(s) "
                               f"{', '.join(users)}; choose another number for them first")
            await uow.numbers.delete(number_id)
            await uow.commit()
        self._directory.forget(n.phone_number)
