"""Who opted out of what, and each organisation's opt-out policy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from parley.domain.opt_out import OptOut
from parley.store import tables as t
from parley.store.repositories import Repo

_COLS = ("org_id", "customer_address", "org_address", "keyword", "created_ms")


class OptOuts(Repo):
    async def add(self, o: OptOut) -> None:
        c = t.opt_outs.c
        await self.conn.execute(delete(t.opt_outs).where(
            c.org_id == o.org_id, c.customer_address == o.customer_address,
            c.org_address == o.org_address))
        await self.conn.execute(insert(t.opt_outs).values(
            **{k: getattr(o, k) for k in _COLS}))

    async def remove(self, org_id: str, customer_address: str,
                     org_addresses: list[str]) -> int:
        c = t.opt_outs.c
        res = await self.conn.execute(delete(t.opt_outs).where(
            c.org_id == org_id, c.customer_address == customer_address,
            c.org_address.in_(org_addresses)))
        return int(res.rowcount or 0)

    async def all_of(self, org_id: str) -> list[OptOut]:
        rows = await self._all(select(t.opt_outs).where(t.opt_outs.c.org_id == org_id))
        return [OptOut(**{k: r[k] for k in _COLS}) for r in rows]

    async def page(self, org_id: str, *, page: int, size: int,
                   customer: str | None = None) -> tuple[list[OptOut], int]:
        c = t.opt_outs.c
        stmt = select(t.opt_outs).where(c.org_id == org_id)
        if customer:
            stmt = stmt.where(c.customer_address == customer)
        total = await self._count(stmt)
        rows = await self._all(stmt.order_by(c.created_ms, c.customer_address)
                               .limit(size).offset((page - 1) * size))
        return [OptOut(**{k: r[k] for k in _COLS}) for r in rows], total

    async def policy(self, org_id: str) -> dict[str, Any] | None:
        r = await self._one(select(t.opt_out_policies.c.policy)
                            .where(t.opt_out_policies.c.org_id == org_id))
        return None if r is None else dict(r["policy"])

    async def set_policy(self, org_id: str, policy: dict[str, Any]) -> None:
        res = await self.conn.execute(update(t.opt_out_policies).where(
            t.opt_out_policies.c.org_id == org_id).values(policy=policy))
        if not res.rowcount:
            await self.conn.execute(insert(t.opt_out_policies).values(org_id=org_id,
                                                                      policy=policy))
