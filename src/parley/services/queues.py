"""Queues and their members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from parley.domain.access import Permission, Principal
from parley.domain.directory import User
from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.queues import Queue, QueueMember, SkillEvaluationMethod, WrapupPrompt
from parley.services.ports import Clock, RoutingListener, UnitOfWork, UnitOfWorkFactory

MAX_MEMBERS_PER_CALL = 100


@dataclass(slots=True)
class QueueSettings:
    """What a create or a PUT may set. None means "the default" (create) or "unset" (PUT)."""

    name: str
    description: str | None = None
    sms_number_id: str | None = None
    alerting_timeout_seconds: int | None = None
    enable_auto_answer: bool | None = None
    service_level_percentage: float | None = None
    service_level_duration_ms: int | None = None
    wrapup_prompt: str | None = None
    wrapup_timeout_ms: int | None = None
    skill_evaluation_method: str | None = None


E = TypeVar("E", WrapupPrompt, SkillEvaluationMethod)


def _enum(kind: type[E], raw: str, field: str) -> E:
    try:
        return kind(raw.upper())
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise InvalidInput(f"{field} '{raw}' is not one of: {allowed}", field=field) from None


def _apply(q: Queue, s: QueueSettings, defaults: Queue) -> None:
    q.name = s.name.strip() if s.name else ""
    q.description = s.description
    q.sms_number_id = s.sms_number_id
    for f in ("alerting_timeout_seconds", "enable_auto_answer", "service_level_percentage",
              "service_level_duration_ms", "wrapup_timeout_ms"):
        value = getattr(s, f)
        setattr(q, f, getattr(defaults, f) if value is None else value)
    q.wrapup_prompt = defaults.wrapup_prompt if s.wrapup_prompt is None else _enum(
        WrapupPrompt, s.wrapup_prompt, "acwSettings.wrapupPrompt")
    q.skill_evaluation_method = (
        defaults.skill_evaluation_method if s.skill_evaluation_method is None
        else _enum(SkillEvaluationMethod, s.skill_evaluation_method, "skillEvaluationMethod"))
    q.validate()


class QueueService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 listener: RoutingListener) -> None:
        self._uow = uow
        self._clock = clock
        self._listener = listener

    @staticmethod
    async def _check_refs(uow: UnitOfWork, principal: Principal, q: Queue) -> None:
        if q.sms_number_id is not None and \
                await uow.numbers.get(principal.org_id, q.sms_number_id) is None:
            raise InvalidInput(
                f"outboundMessagingAddresses.smsAddress {q.sms_number_id} is not an SMS number "
                "of this organisation", field="outboundMessagingAddresses.smsAddress")
        other = await uow.queues.by_name(principal.org_id, q.name)
        if other is not None and other.id != q.id:
            raise Conflict(f"a queue named '{q.name}' already exists", field="name")

    async def create(self, principal: Principal, settings: QueueSettings) -> Queue:
        principal.require(Permission.CONFIGURE)
        now = self._clock.now_ms()
        q = Queue(id=new_id(), org_id=principal.org_id, name="", created_ms=now,
                  modified_ms=now, created_by=principal.user_id, modified_by=principal.user_id)
        _apply(q, settings, Queue(id="", org_id="", name=""))
        async with self._uow() as uow:
            await self._check_refs(uow, principal, q)
            await uow.queues.add(q)
            await uow.commit()
        await self._listener.queue_changed(principal.org_id, q.id)
        return q

    async def replace(self, principal: Principal, queue_id: str,
                      settings: QueueSettings, version: int | None = None) -> Queue:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            q = await uow.queues.require(principal.org_id, queue_id)
            if version is not None and version != q.version:
                raise Conflict(f"queue {queue_id} is at version {q.version}, not {version}; "
                               "reload it and try again", field="version")
            _apply(q, settings, Queue(id="", org_id="", name=""))
            await self._check_refs(uow, principal, q)
            q.version += 1
            q.modified_ms = self._clock.now_ms()
            q.modified_by = principal.user_id
            await uow.queues.update(q)
            await uow.commit()
        await self._listener.queue_changed(principal.org_id, q.id)
        return q

    async def delete(self, principal: Principal, queue_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await uow.queues.require(principal.org_id, queue_id)
            await uow.queues.delete(queue_id)
            await uow.commit()
        await self._listener.queue_changed(principal.org_id, queue_id)

    async def get(self, principal: Principal, queue_id: str) -> Queue:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.queues.require(principal.org_id, queue_id)

    async def page(self, principal: Principal, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = (), descending: bool = False) -> tuple[list[Queue], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.queues.page(principal.org_id, page=page, size=size, name=name,
                                         ids=ids, descending=descending)

    # -- members --------------------------------------------------------------------------

    async def members(self, principal: Principal, queue_id: str, *, page: int, size: int,
                      joined: bool | None = None) -> list[tuple[QueueMember, User]]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            await uow.queues.require(principal.org_id, queue_id)
            members = await uow.queues.members(queue_id, page=page, size=size, joined=joined)
            users = await uow.users.many(principal.org_id, [m.user_id for m in members])
        return [(m, users[m.user_id]) for m in members if m.user_id in users]

    async def change_members(self, principal: Principal, queue_id: str,
                             user_ids: Sequence[str], *, remove: bool) -> int:
        principal.require(Permission.CONFIGURE)
        if not user_ids:
            raise InvalidInput("the body must list at least one member as [{\"id\": userId}]")
        if len(user_ids) > MAX_MEMBERS_PER_CALL:
            raise InvalidInput(f"at most {MAX_MEMBERS_PER_CALL} members per request")
        async with self._uow() as uow:
            await uow.queues.require(principal.org_id, queue_id)
            if remove:
                changed = await uow.queues.remove_members(queue_id, user_ids)
            else:
                known = await uow.users.many(principal.org_id, user_ids)
                missing = [u for u in user_ids if u not in known]
                if missing:
                    raise InvalidInput(f"user(s) {', '.join(missing)} not found in this "
                                       "organisation", field="id")
                changed = await uow.queues.add_members(queue_id, user_ids)
            await uow.commit()
        for user_id in user_ids:
            await self._listener.agent_changed(principal.org_id, user_id)
        return changed

    async def set_joined(self, principal: Principal, queue_id: str,
                         changes: Sequence[tuple[str, bool]]) -> None:
        if any(user_id != principal.user_id for user_id, _ in changes):
            principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await uow.queues.require(principal.org_id, queue_id)
            for user_id, joined in changes:
                if not await uow.queues.set_joined(queue_id, user_id, joined):
                    raise NotFound(f"user {user_id} is not a member of queue {queue_id}")
            await uow.commit()
        for user_id, _ in changes:
            await self._listener.agent_changed(principal.org_id, user_id)

