"""Agents' availability: presence, routing status, utilization (capacity) and skills."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parley.domain.access import Permission, Principal
from parley.domain.acd import RoutingStatus
from parley.domain.agents import (
    DEFAULT_MESSAGE_CAPACITY,
    AgentPresence,
    Skill,
    SystemPresence,
    UserSkill,
    check_capacity,
    check_name,
    check_proficiency,
    presence_from,
)
from parley.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.times import iso
from parley.services.ports import Clock, EventBus, RoutingListener, UnitOfWorkFactory

MAX_PRESENCE_MESSAGE = 500


@dataclass(frozen=True, slots=True)
class RoutingStatusView:
    user_id: str
    status: RoutingStatus
    start_ms: int


@dataclass(frozen=True, slots=True)
class Utilization:
    capacity: int
    level: str  # "Agent" or "Organization"


class StatusSource(Protocol):
    """Where routing status comes from: the ACD, which derives it from presence and work."""

    def routing_status(self, org_id: str, user_id: str) -> tuple[RoutingStatus, int] | None:
        ...


class AgentService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus,
                 listener: RoutingListener, status: StatusSource) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._listener = listener
        self._status = status

    @staticmethod
    def _may_manage(principal: Principal, user_id: str) -> None:
        if user_id != principal.user_id and not principal.can(Permission.MANAGE_AGENTS):
            raise Forbidden("you may only change your own presence and routing status; "
                            "supervisors and admins may change others'")

    # -- presence -----------------------------------------------------------------------------

    async def presence(self, principal: Principal, user_id: str) -> AgentPresence:
        async with self._uow(read_only=True) as uow:
            await uow.users.require(principal.org_id, user_id)
            found = await uow.agents.presence(user_id)
        return found or AgentPresence(user_id=user_id, org_id=principal.org_id,
                                      presence=SystemPresence.OFFLINE, modified_ms=0)

    async def set_presence(self, principal: Principal, user_id: str, *,
                           definition_id: str | None, system_presence: str | None,
                           message: str | None) -> AgentPresence:
        self._may_manage(principal, user_id)
        presence = presence_from(definition_id, system_presence)
        if message is not None and len(message) > MAX_PRESENCE_MESSAGE:
            raise InvalidInput(f"message is longer than {MAX_PRESENCE_MESSAGE} characters",
                               field="message")
        p = AgentPresence(user_id=user_id, org_id=principal.org_id, presence=presence,
                          modified_ms=self._clock.now_ms(), message=message)
        async with self._uow() as uow:
            await uow.users.require(principal.org_id, user_id)
            await uow.agents.set_presence(p)
            if presence is SystemPresence.ON_QUEUE:
                # Going on queue again starts afresh, as in Genesys.
                await uow.agents.set_not_responding(principal.org_id, user_id, False,
                                                    p.modified_ms)
            await uow.commit()
        self._bus.publish(f"v2.users.{user_id}.presence", {
            "source": "PURECLOUD", "primary": True, "message": message or "",
            "presenceDefinition": {"id": presence.definition_id,
                                   "systemPresence": presence.event_name},
            "modifiedDate": iso(p.modified_ms)}, org_id=principal.org_id)
        await self._listener.agent_changed(principal.org_id, user_id)
        return p

    # -- routing status -----------------------------------------------------------------------

    async def routing_status(self, principal: Principal, user_id: str) -> RoutingStatusView:
        async with self._uow(read_only=True) as uow:
            await uow.users.require(principal.org_id, user_id)
        found = self._status.routing_status(principal.org_id, user_id)
        if found is None:
            return RoutingStatusView(user_id, RoutingStatus.OFF_QUEUE, 0)
        return RoutingStatusView(user_id, found[0], found[1])

    async def set_routing_status(self, principal: Principal, user_id: str,
                                 status: object) -> RoutingStatusView:
        """PUT routingstatus: IDLE puts the agent on queue (clearing NOT_RESPONDING),
        OFF_QUEUE takes them off; the other statuses are the ACD's to set."""
        self._may_manage(principal, user_id)
        if status == RoutingStatus.IDLE.value:
            await self.set_presence(principal, user_id, definition_id=None,
                                    system_presence=SystemPresence.ON_QUEUE.value, message=None)
        elif status == RoutingStatus.OFF_QUEUE.value:
            await self.set_presence(principal, user_id, definition_id=None,
                                    system_presence=SystemPresence.AVAILABLE.value, message=None)
        else:
            raise InvalidInput(f"status '{status}' cannot be set: use IDLE (on queue, clears "
                               "NOT_RESPONDING) or OFF_QUEUE", field="status")
        return await self.routing_status(principal, user_id)

    # -- utilization --------------------------------------------------------------------------

    async def org_utilization(self, principal: Principal) -> Utilization:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            cap = await uow.agents.org_capacity(principal.org_id)
        return Utilization(cap or DEFAULT_MESSAGE_CAPACITY, "Organization")

    async def set_org_utilization(self, principal: Principal, capacity: object) -> Utilization:
        principal.require(Permission.CONFIGURE)
        cap = check_capacity(capacity)
        async with self._uow() as uow:
            await uow.agents.set_org_capacity(principal.org_id, cap)
            users, _ = await uow.users.page(principal.org_id, page=1, size=100_000)
            await uow.commit()
        for u in users:
            await self._listener.agent_changed(principal.org_id, u.id)
        return Utilization(cap, "Organization")

    async def user_utilization(self, principal: Principal, user_id: str) -> Utilization:
        async with self._uow(read_only=True) as uow:
            await uow.users.require(principal.org_id, user_id)
            own = await uow.agents.capacity(user_id)
            org = await uow.agents.org_capacity(principal.org_id)
        if own is not None:
            return Utilization(own, "Agent")
        return Utilization(org or DEFAULT_MESSAGE_CAPACITY, "Organization")

    async def set_user_utilization(self, principal: Principal, user_id: str,
                                   capacity: object | None) -> Utilization:
        """Set the agent's own capacity; None reverts to the organisation's."""
        principal.require(Permission.CONFIGURE)
        cap = None if capacity is None else check_capacity(capacity)
        async with self._uow() as uow:
            await uow.users.require(principal.org_id, user_id)
            await uow.agents.set_capacity(principal.org_id, user_id, cap, self._clock.now_ms())
            await uow.commit()
        await self._listener.agent_changed(principal.org_id, user_id)
        return await self.user_utilization(principal, user_id)

    # -- skills -------------------------------------------------------------------------------

    async def create_skill(self, principal: Principal, name: object) -> Skill:
        principal.require(Permission.CONFIGURE)
        skill = Skill(id=new_id(), org_id=principal.org_id, name=check_name(name, "skill"),
                      modified_ms=self._clock.now_ms())
        async with self._uow() as uow:
            if await uow.skills.by_name(principal.org_id, skill.name) is not None:
                raise Conflict(f"a skill named '{skill.name}' already exists", field="name")
            await uow.skills.add(skill)
            await uow.commit()
        return skill

    async def skill(self, principal: Principal, skill_id: str) -> Skill:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.skills.require(principal.org_id, skill_id)

    async def skills(self, principal: Principal, *, page: int, size: int,
                     name: str | None = None, ids: list[str] | None = None
                     ) -> tuple[list[Skill], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.skills.page(principal.org_id, page=page, size=size, name=name,
                                         ids=ids or [])

    async def delete_skill(self, principal: Principal, skill_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await uow.skills.require(principal.org_id, skill_id)
            await uow.skills.delete(skill_id)
            await uow.commit()
        await self._listener.queue_changed(principal.org_id, "*")

    async def user_skills(self, principal: Principal, user_id: str
                          ) -> list[tuple[UserSkill, Skill]]:
        async with self._uow(read_only=True) as uow:
            await uow.users.require(principal.org_id, user_id)
            mine = await uow.skills.of_user(user_id)
            out = []
            for us in mine:
                skill = await uow.skills.get(principal.org_id, us.skill_id)
                if skill is not None:
                    out.append((us, skill))
        return sorted(out, key=lambda pair: pair[1].name.lower())

    async def set_user_skills(self, principal: Principal, user_id: str,
                              skills: list[tuple[str, object]], *, replace: bool
                              ) -> list[tuple[UserSkill, Skill]]:
        principal.require(Permission.CONFIGURE)
        checked = [(sid, check_proficiency(p)) for sid, p in skills]
        async with self._uow() as uow:
            await uow.users.require(principal.org_id, user_id)
            for sid, _ in checked:
                if await uow.skills.get(principal.org_id, sid) is None:
                    raise InvalidInput(f"skill {sid} not found in this organisation",
                                       field="id")
            if replace:
                await uow.skills.clear_user_skills(user_id)
            for sid, proficiency in checked:
                await uow.skills.set_user_skill(UserSkill(user_id, sid, proficiency))
            await uow.commit()
        await self._listener.agent_changed(principal.org_id, user_id)
        return await self.user_skills(principal, user_id)

    async def remove_user_skill(self, principal: Principal, user_id: str,
                                skill_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await uow.users.require(principal.org_id, user_id)
            if not await uow.skills.remove_user_skill(user_id, skill_id):
                raise NotFound(f"user {user_id} does not have skill {skill_id}")
            await uow.commit()
        await self._listener.agent_changed(principal.org_id, user_id)
