"""The organisation's SMS numbers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.numbers import PhoneNumberType, SmsNumber
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found, name_like

_NUMBER_COLS = ("id", "org_id", "phone_number", "name", "country_code", "carrier", "status",
                "version", "created_ms", "modified_ms", "created_by", "modified_by")


def number_from_row(r: RowMapping) -> SmsNumber:
    return SmsNumber(
        id=r["id"], org_id=r["org_id"], phone_number=r["phone_number"], name=r["name"],
        phone_number_type=PhoneNumberType(r["phone_number_type"]),
        country_code=r["country_code"], carrier=r["carrier"], status=r["status"],
        version=r["version"], created_ms=r["created_ms"], modified_ms=r["modified_ms"],
        created_by=r["created_by"], modified_by=r["modified_by"])


class Numbers(Repo):
    async def add(self, n: SmsNumber) -> None:
        await self.conn.execute(insert(t.sms_numbers).values(
            **fields_of(n, *_NUMBER_COLS), phone_number_type=n.phone_number_type.value))

    async def get(self, org_id: str, number_id: str) -> SmsNumber | None:
        r = await self._one(select(t.sms_numbers).where(
            t.sms_numbers.c.id == number_id, t.sms_numbers.c.org_id == org_id))
        return None if r is None else number_from_row(r)

    async def require(self, org_id: str, number_id: str, *, message: str | None = None,
                      **details: str) -> SmsNumber:
        return found(await self.get(org_id, number_id),
                     message or f"SMS phone number {number_id} not found", **details)

    async def by_phone(self, phone_number: str) -> SmsNumber | None:
        r = await self._one(select(t.sms_numbers)
                            .where(t.sms_numbers.c.phone_number == phone_number))
        return None if r is None else number_from_row(r)

    async def page(self, org_id: str, *, page: int, size: int, contains: str | None = None,
                   types: Sequence[str] = (), statuses: Sequence[str] = (),
                   countries: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[SmsNumber], int]:
        c = t.sms_numbers.c
        stmt = select(t.sms_numbers).where(c.org_id == org_id)
        if contains:
            stmt = stmt.where(name_like(c.phone_number, f"*{contains.strip('*')}*"))
        if types:
            stmt = stmt.where(c.phone_number_type.in_(types))
        if statuses:
            stmt = stmt.where(c.status.in_(statuses))
        if countries:
            stmt = stmt.where(c.country_code.in_(countries))
        total = await self._count(stmt)
        order = c.phone_number.desc() if descending else c.phone_number.asc()
        rows = await self._all(stmt.order_by(order).limit(size).offset((page - 1) * size))
        return [number_from_row(r) for r in rows], total

    async def update(self, n: SmsNumber) -> None:
        await self.conn.execute(update(t.sms_numbers).where(t.sms_numbers.c.id == n.id).values(
            name=n.name, version=n.version, modified_ms=n.modified_ms, modified_by=n.modified_by,
            status=n.status, carrier=n.carrier))

    async def delete(self, number_id: str) -> None:
        await self.conn.execute(delete(t.sms_numbers).where(t.sms_numbers.c.id == number_id))

    async def queues_using(self, number_id: str) -> list[str]:
        rows = await self._all(select(t.queues.c.name)
                               .where(t.queues.c.sms_number_id == number_id))
        return [r["name"] for r in rows]
