"""The ACD's persisted state: one row per conversation the ACD is routing."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from parley.services.ports.repositories import AcdRecord
from parley.store import tables as t
from parley.store.repositories import Repo

_COLS = ("conversation_id", "org_id", "queue_id", "state", "priority", "skills", "enqueued_ms",
         "preferred_agent", "agent_id", "participant_id", "deadline_ms", "declined_by")


def acd_row(rec: AcdRecord) -> dict[str, object]:
    row = {c: getattr(rec, c) for c in _COLS}
    row["declined_by"] = list(rec.declined_by or [])
    return row


class AcdInteractions(Repo):
    async def get(self, conversation_id: str) -> AcdRecord | None:
        r = await self._one(select(t.acd_interactions).where(
            t.acd_interactions.c.conversation_id == conversation_id))
        return None if r is None else AcdRecord(**{c: r[c] for c in _COLS})

    async def all(self) -> list[AcdRecord]:
        rows = await self._all(select(t.acd_interactions)
                               .order_by(t.acd_interactions.c.enqueued_ms))
        return [AcdRecord(**{c: r[c] for c in _COLS}) for r in rows]

    async def put(self, rec: AcdRecord) -> None:
        row = acd_row(rec)
        res = await self.conn.execute(update(t.acd_interactions).where(
            t.acd_interactions.c.conversation_id == rec.conversation_id).values(**row))
        if not res.rowcount:
            await self.conn.execute(insert(t.acd_interactions).values(**row))

    async def delete(self, conversation_id: str) -> None:
        await self.conn.execute(delete(t.acd_interactions).where(
            t.acd_interactions.c.conversation_id == conversation_id))
