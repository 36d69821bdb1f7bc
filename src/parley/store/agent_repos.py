"""Repositories for agents' routing state: presence, capacity, skills; and wrap-up codes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping

from parley.domain.agents import AgentPresence, Skill, SystemPresence, UserSkill, WrapupCode
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found, name_like


class Agents(Repo):
    async def presence(self, user_id: str) -> AgentPresence | None:
        r = await self._one(select(t.agent_states).where(t.agent_states.c.user_id == user_id))
        if r is None:
            return None
        return AgentPresence(user_id=r["user_id"], org_id=r["org_id"],
                             presence=SystemPresence(r["presence"]),
                             modified_ms=r["presence_ms"], message=r["presence_message"])

    async def in_org(self, org_id: str) -> list[tuple[AgentPresence, bool, int | None]]:
        """(presence, not_responding, own message capacity) of every agent with a state row."""
        rows = await self._all(select(t.agent_states).where(t.agent_states.c.org_id == org_id))
        return [(AgentPresence(r["user_id"], r["org_id"], SystemPresence(r["presence"]),
                               r["presence_ms"], r["presence_message"]),
                 r["not_responding"], r["message_capacity"]) for r in rows]

    async def all(self) -> list[tuple[AgentPresence, bool, int | None]]:
        rows = await self._all(select(t.agent_states))
        return [(AgentPresence(r["user_id"], r["org_id"], SystemPresence(r["presence"]),
                               r["presence_ms"], r["presence_message"]),
                 r["not_responding"], r["message_capacity"]) for r in rows]

    async def _ensure(self, org_id: str, user_id: str, now_ms: int) -> None:
        exists = await self._one(select(t.agent_states.c.user_id)
                                 .where(t.agent_states.c.user_id == user_id))
        if exists is None:
            await self.conn.execute(insert(t.agent_states).values(
                user_id=user_id, org_id=org_id, presence=SystemPresence.OFFLINE.value,
                presence_ms=now_ms, not_responding=False, status_ms=now_ms))

    async def set_presence(self, p: AgentPresence) -> None:
        await self._ensure(p.org_id, p.user_id, p.modified_ms)
        await self.conn.execute(update(t.agent_states)
                                .where(t.agent_states.c.user_id == p.user_id)
                                .values(presence=p.presence.value, presence_ms=p.modified_ms,
                                        presence_message=p.message))

    async def set_not_responding(self, org_id: str, user_id: str, value: bool,
                                 now_ms: int) -> None:
        await self._ensure(org_id, user_id, now_ms)
        await self.conn.execute(update(t.agent_states)
                                .where(t.agent_states.c.user_id == user_id)
                                .values(not_responding=value, status_ms=now_ms))

    async def not_responding(self, user_id: str) -> bool:
        r = await self._one(select(t.agent_states.c.not_responding)
                            .where(t.agent_states.c.user_id == user_id))
        return bool(r is not None and r["not_responding"])

    async def capacity(self, user_id: str) -> int | None:
        r = await self._one(select(t.agent_states.c.message_capacity)
                            .where(t.agent_states.c.user_id == user_id))
        return None if r is None else r["message_capacity"]

    async def set_capacity(self, org_id: str, user_id: str, capacity: int | None,
                           now_ms: int) -> None:
        await self._ensure(org_id, user_id, now_ms)
        await self.conn.execute(update(t.agent_states)
                                .where(t.agent_states.c.user_id == user_id)
                                .values(message_capacity=capacity))

    async def org_capacity(self, org_id: str) -> int | None:
        r = await self._one(select(t.org_settings.c.message_capacity)
                            .where(t.org_settings.c.org_id == org_id))
        return None if r is None else int(r["message_capacity"])

    async def set_org_capacity(self, org_id: str, capacity: int) -> None:
        res = await self.conn.execute(update(t.org_settings)
                                      .where(t.org_settings.c.org_id == org_id)
                                      .values(message_capacity=capacity))
        if not res.rowcount:
            await self.conn.execute(insert(t.org_settings).values(
                org_id=org_id, message_capacity=capacity))

    async def all_org_capacities(self) -> dict[str, int]:
        rows = await self._all(select(t.org_settings))
        return {r["org_id"]: r["message_capacity"] for r in rows}


class Skills(Repo):
    @staticmethod
    def _from(r: RowMapping) -> Skill:
        return Skill(id=r["id"], org_id=r["org_id"], name=r["name"], state=r["state"],
                     version=r["version"], modified_ms=r["modified_ms"])

    async def add(self, s: Skill) -> None:
        await self.conn.execute(insert(t.skills).values(
            **fields_of(s, "id", "org_id", "name", "state", "version", "modified_ms")))

    async def get(self, org_id: str, skill_id: str) -> Skill | None:
        r = await self._one(select(t.skills).where(t.skills.c.id == skill_id,
                                                   t.skills.c.org_id == org_id))
        return None if r is None else self._from(r)

    async def require(self, org_id: str, skill_id: str, *, message: str | None = None,
                      **details: str) -> Skill:
        return found(await self.get(org_id, skill_id), message or f"skill {skill_id} not found",
                     **details)

    async def by_name(self, org_id: str, name: str) -> Skill | None:
        r = await self._one(select(t.skills).where(
            t.skills.c.org_id == org_id, func.lower(t.skills.c.name) == name.lower()))
        return None if r is None else self._from(r)

    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = ()) -> tuple[list[Skill], int]:
        stmt = select(t.skills).where(t.skills.c.org_id == org_id)
        if name:
            stmt = stmt.where(name_like(t.skills.c.name, name))
        if ids:
            stmt = stmt.where(t.skills.c.id.in_(ids))
        total = await self._count(stmt)
        rows = await self._all(stmt.order_by(t.skills.c.name).limit(size)
                               .offset((page - 1) * size))
        return [self._from(r) for r in rows], total

    async def delete(self, skill_id: str) -> None:
        await self.conn.execute(delete(t.skills).where(t.skills.c.id == skill_id))

    async def of_user(self, user_id: str) -> list[UserSkill]:
        rows = await self._all(select(t.user_skills).where(t.user_skills.c.user_id == user_id))
        return [UserSkill(r["user_id"], r["skill_id"], r["proficiency"]) for r in rows]

    async def all_user_skills(self) -> list[UserSkill]:
        rows = await self._all(select(t.user_skills))
        return [UserSkill(r["user_id"], r["skill_id"], r["proficiency"]) for r in rows]

    async def set_user_skill(self, us: UserSkill) -> None:
        c = t.user_skills.c
        res = await self.conn.execute(update(t.user_skills).where(
            c.user_id == us.user_id, c.skill_id == us.skill_id).values(
            proficiency=us.proficiency))
        if not res.rowcount:
            await self.conn.execute(insert(t.user_skills).values(
                user_id=us.user_id, skill_id=us.skill_id, proficiency=us.proficiency))

    async def remove_user_skill(self, user_id: str, skill_id: str) -> bool:
        c = t.user_skills.c
        res = await self.conn.execute(delete(t.user_skills).where(
            c.user_id == user_id, c.skill_id == skill_id))
        return bool(res.rowcount)

    async def clear_user_skills(self, user_id: str) -> None:
        await self.conn.execute(delete(t.user_skills).where(
            t.user_skills.c.user_id == user_id))


class WrapupCodes(Repo):
    _COLS = ("id", "org_id", "name", "description", "created_ms", "modified_ms", "created_by",
             "modified_by")

    def _from(self, r: RowMapping) -> WrapupCode:
        return WrapupCode(**{c: r[c] for c in self._COLS})

    async def add(self, w: WrapupCode) -> None:
        await self.conn.execute(insert(t.wrapup_codes).values(**fields_of(w, *self._COLS)))

    async def update(self, w: WrapupCode) -> None:
        await self.conn.execute(update(t.wrapup_codes).where(t.wrapup_codes.c.id == w.id)
                                .values(name=w.name, description=w.description,
                                        modified_ms=w.modified_ms, modified_by=w.modified_by))

    async def delete(self, code_id: str) -> None:
        await self.conn.execute(delete(t.wrapup_codes).where(t.wrapup_codes.c.id == code_id))

    async def get(self, org_id: str, code_id: str) -> WrapupCode | None:
        r = await self._one(select(t.wrapup_codes).where(
            t.wrapup_codes.c.id == code_id, t.wrapup_codes.c.org_id == org_id))
        return None if r is None else self._from(r)

    async def require(self, org_id: str, code_id: str, *, message: str | None = None,
                      **details: str) -> WrapupCode:
        return found(await self.get(org_id, code_id),
                     message or f"wrap-up code {code_id} not found", **details)

    async def by_name(self, org_id: str, name: str) -> WrapupCode | None:
        r = await self._one(select(t.wrapup_codes).where(
            t.wrapup_codes.c.org_id == org_id, func.lower(t.wrapup_codes.c.name) == name.lower()))
        return None if r is None else self._from(r)

    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = ()) -> tuple[list[WrapupCode], int]:
        stmt = select(t.wrapup_codes).where(t.wrapup_codes.c.org_id == org_id)
        if name:
            stmt = stmt.where(name_like(t.wrapup_codes.c.name, name))
        if ids:
            stmt = stmt.where(t.wrapup_codes.c.id.in_(ids))
        total = await self._count(stmt)
        rows = await self._all(stmt.order_by(t.wrapup_codes.c.name).limit(size)
                               .offset((page - 1) * size))
        return [self._from(r) for r in rows], total

    async def of_queue(self, queue_id: str) -> list[WrapupCode]:
        rows = await self._all(
            select(t.wrapup_codes).join(t.queue_wrapup_codes,
                                        t.queue_wrapup_codes.c.code_id == t.wrapup_codes.c.id)
            .where(t.queue_wrapup_codes.c.queue_id == queue_id).order_by(t.wrapup_codes.c.name))
        return [self._from(r) for r in rows]

    async def add_to_queue(self, queue_id: str, code_ids: Sequence[str]) -> None:
        have = {c.id for c in await self.of_queue(queue_id)}
        new = [{"queue_id": queue_id, "code_id": c} for c in dict.fromkeys(code_ids)
               if c not in have]
        if new:
            await self.conn.execute(insert(t.queue_wrapup_codes), new)

    async def remove_from_queue(self, queue_id: str, code_id: str) -> bool:
        c = t.queue_wrapup_codes.c
        res = await self.conn.execute(delete(t.queue_wrapup_codes).where(
            c.queue_id == queue_id, c.code_id == code_id))
        return bool(res.rowcount)
