"""Flows, their versions, the runs in progress, and the inbound message routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.flow_catalog import Flow, FlowVersion
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found, name_like

_FLOW_COLS = ("id", "org_id", "name", "type", "created_ms", "modified_ms", "description",
              "saved_yaml", "saved_version", "published_version", "published_ms",
              "created_by", "modified_by")
_VERSION_COLS = ("id", "flow_id", "version", "yaml", "created_ms", "created_by",
                 "published_ms")


def _flow(r: RowMapping) -> Flow:
    return Flow(**{c: r[c] for c in _FLOW_COLS})


def _version(r: RowMapping) -> FlowVersion:
    return FlowVersion(**{c: r[c] for c in _VERSION_COLS})


class Flows(Repo):
    async def add(self, f: Flow) -> None:
        await self.conn.execute(insert(t.flows).values(**fields_of(f, *_FLOW_COLS)))

    async def update(self, f: Flow) -> None:
        row = fields_of(f, *_FLOW_COLS)
        del row["id"], row["org_id"], row["created_ms"], row["created_by"]
        await self.conn.execute(update(t.flows).where(t.flows.c.id == f.id).values(**row))

    async def delete(self, flow_id: str) -> None:
        await self.conn.execute(delete(t.flows).where(t.flows.c.id == flow_id))

    async def get(self, org_id: str, flow_id: str, *,
                  for_update: bool = False) -> Flow | None:
        """`for_update` locks the row until the transaction ends (PostgreSQL; SQLite writers
        are serial already), so read-modify-write changes of one flow cannot interleave."""
        stmt = select(t.flows).where(t.flows.c.id == flow_id, t.flows.c.org_id == org_id)
        r = await self._one(stmt.with_for_update() if for_update else stmt)
        return None if r is None else _flow(r)

    async def require(self, org_id: str, flow_id: str, *, for_update: bool = False,
                      message: str | None = None, **details: str) -> Flow:
        return found(await self.get(org_id, flow_id, for_update=for_update),
                     message or f"flow {flow_id} not found", **details)

    async def by_name(self, org_id: str, name: str, *, lock: bool = False) -> Flow | None:
        """`lock` serialises claims of one name (any case) until the transaction ends, so two
        racing creates or renames cannot both see it free (SQLite writers are serial already)."""
        if lock and self.conn.dialect.name == "postgresql":
            await self.conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(
                f"flow-name|{org_id}|{name.lower()}"))))
        r = await self._one(select(t.flows).where(
            t.flows.c.org_id == org_id, func.lower(t.flows.c.name) == name.lower()))
        return None if r is None else _flow(r)

    async def page(self, org_id: str, *, page: int, size: int, types: Sequence[str] = (),
                   name: str | None = None, ids: Sequence[str] = ()
                   ) -> tuple[list[Flow], int]:
        stmt = select(t.flows).where(t.flows.c.org_id == org_id)
        if types:
            stmt = stmt.where(func.lower(t.flows.c.type).in_([x.lower() for x in types]))
        if name:
            stmt = stmt.where(name_like(t.flows.c.name, name))
        if ids:
            stmt = stmt.where(t.flows.c.id.in_(ids))
        total = await self._count(stmt)
        rows = await self._all(stmt.order_by(t.flows.c.name).limit(size)
                               .offset((page - 1) * size))
        return [_flow(r) for r in rows], total

    async def add_version(self, v: FlowVersion) -> None:
        await self.conn.execute(insert(t.flow_versions).values(
            **fields_of(v, *_VERSION_COLS)))

    async def mark_published(self, flow_id: str, version: int, now_ms: int) -> None:
        v = t.flow_versions.c
        await self.conn.execute(update(t.flow_versions).where(
            v.flow_id == flow_id, v.version == version).values(published_ms=now_ms))

    async def versions(self, flow_id: str) -> list[FlowVersion]:
        rows = await self._all(select(t.flow_versions)
                               .where(t.flow_versions.c.flow_id == flow_id)
                               .order_by(t.flow_versions.c.version.desc()))
        return [_version(r) for r in rows]

    async def version(self, flow_id: str, version: int) -> FlowVersion | None:
        r = await self._one(select(t.flow_versions).where(
            t.flow_versions.c.flow_id == flow_id, t.flow_versions.c.version == version))
        return None if r is None else _version(r)

    async def numbers_routed_to(self, flow_id: str) -> list[str]:
        rows = await self._all(select(t.sms_numbers.c.phone_number)
                               .where(t.sms_numbers.c.flow_id == flow_id))
        return [r["phone_number"] for r in rows]

    # -- routes (numbers -> flows) ---------------------------------------------------------

    async def route_of(self, number_id: str) -> tuple[str | None, int | None, str | None]:
        """(flow id, modified ms, modified by) of a number's inbound message route."""
        r = await self._one(select(t.sms_numbers.c.flow_id, t.sms_numbers.c.route_modified_ms,
                                   t.sms_numbers.c.route_modified_by)
                            .where(t.sms_numbers.c.id == number_id))
        if r is None:
            return None, None, None
        return r["flow_id"], r["route_modified_ms"], r["route_modified_by"]

    async def set_route(self, number_id: str, flow_id: str | None, now_ms: int,
                        by: str | None) -> None:
        await self.conn.execute(update(t.sms_numbers).where(t.sms_numbers.c.id == number_id)
                                .values(flow_id=flow_id, route_modified_ms=now_ms,
                                        route_modified_by=by))

    # -- runs ---------------------------------------------------------------------------------

    async def run(self, conversation_id: str) -> tuple[str, int, dict[str, Any]] | None:
        r = await self._one(select(t.flow_runs)
                            .where(t.flow_runs.c.conversation_id == conversation_id))
        return None if r is None else (r["flow_id"], r["version"], dict(r["state"]))

    async def put_run(self, conversation_id: str, org_id: str, flow_id: str, version: int,
                      state: dict[str, Any], wait_until_ms: int | None, now_ms: int) -> None:
        values = {"org_id": org_id, "flow_id": flow_id, "version": version, "state": state,
                  "wait_until_ms": wait_until_ms, "updated_ms": now_ms}
        res = await self.conn.execute(update(t.flow_runs).where(
            t.flow_runs.c.conversation_id == conversation_id).values(**values))
        if not res.rowcount:
            await self.conn.execute(insert(t.flow_runs).values(
                conversation_id=conversation_id, **values))

    async def end_run(self, conversation_id: str) -> None:
        await self.conn.execute(delete(t.flow_runs).where(
            t.flow_runs.c.conversation_id == conversation_id))

    async def due_runs(self, now_ms: int, limit: int = 500) -> list[tuple[str, str]]:
        """(org id, conversation id) of runs whose askQuestion timed out."""
        rows = await self._all(select(t.flow_runs.c.org_id, t.flow_runs.c.conversation_id)
                               .where(t.flow_runs.c.wait_until_ms <= now_ms)
                               .order_by(t.flow_runs.c.wait_until_ms).limit(limit))
        return [(r["org_id"], r["conversation_id"]) for r in rows]
