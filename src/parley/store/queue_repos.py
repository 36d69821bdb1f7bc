"""Queues and their members."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.queues import Queue, QueueMember, SkillEvaluationMethod, WrapupPrompt
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found, name_like

_QUEUE_COLS = ("id", "org_id", "name", "description", "sms_number_id",
               "alerting_timeout_seconds", "enable_auto_answer", "service_level_percentage",
               "service_level_duration_ms", "wrapup_timeout_ms", "version", "created_ms",
               "modified_ms", "created_by", "modified_by")


def queue_from_row(r: RowMapping, members: int = 0, joined: int = 0) -> Queue:
    return Queue(
        **{c: r[c] for c in _QUEUE_COLS},
        wrapup_prompt=WrapupPrompt(r["wrapup_prompt"]),
        skill_evaluation_method=SkillEvaluationMethod(r["skill_evaluation_method"]),
        member_count=members, joined_member_count=joined)


def queue_row(q: Queue) -> dict[str, Any]:
    row = fields_of(q, *_QUEUE_COLS)
    row["wrapup_prompt"] = q.wrapup_prompt.value
    row["skill_evaluation_method"] = q.skill_evaluation_method.value
    return row


class Queues(Repo):
    def _with_counts(self) -> Any:
        m = t.queue_members
        members = (select(func.count()).where(m.c.queue_id == t.queues.c.id)
                   .correlate(t.queues).scalar_subquery())
        joined = (select(func.count()).where(m.c.queue_id == t.queues.c.id, m.c.joined.is_(True))
                  .correlate(t.queues).scalar_subquery())
        return select(t.queues, members.label("member_count"),
                      joined.label("joined_member_count"))

    @staticmethod
    def _from(r: RowMapping) -> Queue:
        return queue_from_row(r, r["member_count"], r["joined_member_count"])

    async def add(self, q: Queue) -> None:
        await self.conn.execute(insert(t.queues).values(**queue_row(q)))

    async def update(self, q: Queue) -> None:
        row = queue_row(q)
        del row["id"], row["org_id"], row["created_ms"], row["created_by"]
        await self.conn.execute(update(t.queues).where(t.queues.c.id == q.id).values(**row))

    async def delete(self, queue_id: str) -> None:
        await self.conn.execute(delete(t.queues).where(t.queues.c.id == queue_id))

    async def get(self, org_id: str, queue_id: str) -> Queue | None:
        r = await self._one(self._with_counts().where(
            t.queues.c.id == queue_id, t.queues.c.org_id == org_id))
        return None if r is None else self._from(r)

    async def require(self, org_id: str, queue_id: str, *, message: str | None = None,
                      **details: str) -> Queue:
        return found(await self.get(org_id, queue_id), message or f"queue {queue_id} not found",
                     **details)

    async def by_name(self, org_id: str, name: str) -> Queue | None:
        r = await self._one(self._with_counts().where(
            t.queues.c.org_id == org_id, func.lower(t.queues.c.name) == name.lower()))
        return None if r is None else self._from(r)

    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[Queue], int]:
        stmt = self._with_counts().where(t.queues.c.org_id == org_id)
        if name:
            stmt = stmt.where(name_like(t.queues.c.name, name))
        if ids:
            stmt = stmt.where(t.queues.c.id.in_(ids))
        total = await self._count(select(t.queues.c.id).where(
            t.queues.c.org_id == org_id,
            *([name_like(t.queues.c.name, name)] if name else []),
            *([t.queues.c.id.in_(ids)] if ids else [])))
        order = t.queues.c.name.desc() if descending else t.queues.c.name.asc()
        rows = await self._all(stmt.order_by(order).limit(size).offset((page - 1) * size))
        return [self._from(r) for r in rows], total

    async def members(self, queue_id: str, *, page: int, size: int,
                      joined: bool | None = None) -> list[QueueMember]:
        m = t.queue_members
        stmt = select(m).join(t.users, t.users.c.id == m.c.user_id).where(m.c.queue_id == queue_id)
        if joined is not None:
            stmt = stmt.where(m.c.joined.is_(joined))
        rows = await self._all(stmt.order_by(t.users.c.name, m.c.user_id)
                               .limit(size).offset((page - 1) * size))
        return [QueueMember(r["queue_id"], r["user_id"], r["joined"]) for r in rows]

    async def member(self, queue_id: str, user_id: str) -> QueueMember | None:
        m = t.queue_members
        r = await self._one(select(m).where(m.c.queue_id == queue_id, m.c.user_id == user_id))
        return None if r is None else QueueMember(r["queue_id"], r["user_id"], r["joined"])

    async def add_members(self, queue_id: str, user_ids: Iterable[str]) -> int:
        m = t.queue_members
        existing = {r["user_id"] for r in await self._all(
            select(m.c.user_id).where(m.c.queue_id == queue_id))}
        new = [{"queue_id": queue_id, "user_id": u, "joined": True}
               for u in dict.fromkeys(user_ids) if u not in existing]
        if new:
            await self.conn.execute(insert(m), new)
        return len(new)

    async def remove_members(self, queue_id: str, user_ids: Iterable[str]) -> int:
        m = t.queue_members
        res = await self.conn.execute(delete(m).where(
            m.c.queue_id == queue_id, m.c.user_id.in_(list(user_ids))))
        return int(res.rowcount or 0)

    async def memberships(self, user_id: str) -> list[tuple[str, bool]]:
        m = t.queue_members
        rows = await self._all(select(m.c.queue_id, m.c.joined).where(m.c.user_id == user_id))
        return [(r["queue_id"], r["joined"]) for r in rows]

    async def set_joined(self, queue_id: str, user_id: str, joined: bool) -> bool:
        m = t.queue_members
        res = await self.conn.execute(update(m).where(
            m.c.queue_id == queue_id, m.c.user_id == user_id).values(joined=joined))
        return bool(res.rowcount)
