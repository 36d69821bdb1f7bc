"""Carrier connections as rows: settings, secrets and inventory as JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.carriers import CarrierConnection, CarrierKind, InventoryNumber
from parley.domain.numbers import PhoneNumberType
from parley.store import tables as t
from parley.store.repositories import Repo, found

_COLS = ("id", "org_id", "name", "settings", "secrets", "enabled", "version", "created_ms",
         "modified_ms", "created_by", "modified_by")


def _row(c: CarrierConnection) -> dict[str, Any]:
    row = {k: getattr(c, k) for k in _COLS}
    row["kind"] = c.kind.value
    row["inventory"] = [{"phoneNumber": n.phone_number, "type": n.phone_number_type.value,
                         "country": n.country_code} for n in c.inventory]
    return row


def _from(r: RowMapping) -> CarrierConnection:
    return CarrierConnection(
        **{k: r[k] for k in _COLS if k not in ("settings", "secrets")},
        kind=CarrierKind(r["kind"]), settings=dict(r["settings"]), secrets=dict(r["secrets"]),
        inventory=[InventoryNumber(n["phoneNumber"], PhoneNumberType(n["type"]), n["country"])
                   for n in r["inventory"]])


class CarrierConnections(Repo):
    async def add(self, c: CarrierConnection) -> None:
        await self.conn.execute(insert(t.carrier_connections).values(**_row(c)))

    async def update(self, c: CarrierConnection) -> None:
        await self.conn.execute(update(t.carrier_connections)
                                .where(t.carrier_connections.c.id == c.id).values(**_row(c)))

    async def delete(self, connection_id: str) -> None:
        await self.conn.execute(delete(t.carrier_connections)
                                .where(t.carrier_connections.c.id == connection_id))

    async def get(self, org_id: str, connection_id: str) -> CarrierConnection | None:
        c = t.carrier_connections.c
        r = await self._one(select(t.carrier_connections)
                            .where(c.id == connection_id, c.org_id == org_id))
        return None if r is None else _from(r)

    async def require(self, org_id: str, connection_id: str, *, message: str | None = None,
                      **details: str) -> CarrierConnection:
        return found(await self.get(org_id, connection_id),
                     message or f"carrier connection {connection_id} not found", **details)

    async def get_any(self, connection_id: str) -> CarrierConnection | None:
        """Any organisation's connection: for the node that runs it, not for requests."""
        r = await self._one(select(t.carrier_connections)
                            .where(t.carrier_connections.c.id == connection_id))
        return None if r is None else _from(r)

    async def by_name(self, org_id: str, name: str) -> CarrierConnection | None:
        c = t.carrier_connections.c
        r = await self._one(select(t.carrier_connections).where(
            c.org_id == org_id, func.lower(c.name) == name.lower()))
        return None if r is None else _from(r)

    async def in_org(self, org_id: str) -> list[CarrierConnection]:
        c = t.carrier_connections.c
        rows = await self._all(select(t.carrier_connections).where(c.org_id == org_id)
                               .order_by(func.lower(c.name)))
        return [_from(r) for r in rows]

    async def all(self) -> list[CarrierConnection]:
        return [_from(r) for r in await self._all(select(t.carrier_connections))]

    async def versions(self) -> dict[str, int]:
        """id -> version of every connection: what a node compares to notice others' edits."""
        c = t.carrier_connections.c
        return {r["id"]: r["version"] for r in await self._all(select(c.id, c.version))}

    async def numbers_on(self, org_id: str, connection_id: str) -> list[str]:
        """The organisation's registered numbers on a connection (the built-in simulator is
        shared, so the organisation is named too)."""
        n = t.sms_numbers.c
        rows = await self._all(select(n.phone_number).where(
            n.carrier == connection_id, n.org_id == org_id).order_by(n.phone_number))
        return [r["phone_number"] for r in rows]
