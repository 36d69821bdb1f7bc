"""Wrap-up codes: the organisation's list, which ones each queue offers its agents, and
which one a participant may give."""

from __future__ import annotations

from collections.abc import Sequence

from parley.domain.access import Permission, Principal
from parley.domain.agents import WrapupCode, check_name
from parley.domain.conversations import Wrapup
from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.queues import Queue
from parley.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_CODES_PER_CALL = 100


async def checked_wrapup(uow: UnitOfWork, org_id: str, queue: Queue | None,
                         wrapup: Wrapup) -> Wrapup:
    """A wrap-up an agent gives: its code exists and is one the queue offers (any of the
    organisation's when the queue names none); it takes the code's name."""
    if wrapup.code is None:
        raise InvalidInput("wrapup.code is required (a wrap-up code id)", field="wrapup.code")
    code = await uow.wrapup_codes.get(org_id, wrapup.code)
    if code is None:
        raise InvalidInput(f"wrap-up code {wrapup.code} not found", field="wrapup.code")
    if queue is not None:
        allowed = await uow.wrapup_codes.of_queue(queue.id)
        if allowed and code.id not in {c.id for c in allowed}:
            raise InvalidInput(f"wrap-up code '{code.name}' is not offered by queue "
                               f"'{queue.name}'", field="wrapup.code")
    wrapup.name = code.name
    return wrapup


class WrapupService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, principal: Principal, *, name: object,
                     description: str | None) -> WrapupCode:
        principal.require(Permission.CONFIGURE)
        now = self._clock.now_ms()
        code = WrapupCode(id=new_id(), org_id=principal.org_id,
                          name=check_name(name, "wrap-up code"), description=description,
                          created_ms=now, modified_ms=now, created_by=principal.user_id,
                          modified_by=principal.user_id)
        async with self._uow() as uow:
            await self._unique(uow, principal, code)
            await uow.wrapup_codes.add(code)
            await uow.commit()
        return code

    @staticmethod
    async def _unique(uow: UnitOfWork, principal: Principal, code: WrapupCode) -> None:
        other = await uow.wrapup_codes.by_name(principal.org_id, code.name)
        if other is not None and other.id != code.id:
            raise Conflict(f"a wrap-up code named '{code.name}' already exists", field="name")

    async def update(self, principal: Principal, code_id: str, *, name: object,
                     description: str | None) -> WrapupCode:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            code = await self._require(uow, principal, code_id)
            code.name = check_name(name, "wrap-up code")
            code.description = description
            code.modified_ms = self._clock.now_ms()
            code.modified_by = principal.user_id
            await self._unique(uow, principal, code)
            await uow.wrapup_codes.update(code)
            await uow.commit()
        return code

    async def delete(self, principal: Principal, code_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            await self._require(uow, principal, code_id)
            await uow.wrapup_codes.delete(code_id)
            await uow.commit()

    async def get(self, principal: Principal, code_id: str) -> WrapupCode:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await self._require(uow, principal, code_id)

    async def page(self, principal: Principal, *, page: int, size: int,
                   name: str | None = None, ids: Sequence[str] = ()
                   ) -> tuple[list[WrapupCode], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.wrapup_codes.page(principal.org_id, page=page, size=size,
                                               name=name, ids=ids)

    @staticmethod
    async def _require(uow: UnitOfWork, principal: Principal, code_id: str) -> WrapupCode:
        code = await uow.wrapup_codes.get(principal.org_id, code_id)
        if code is None:
            raise NotFound(f"wrap-up code {code_id} not found")
        return code

    async def of_queue(self, principal: Principal, queue_id: str) -> list[WrapupCode]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            if await uow.queues.get(principal.org_id, queue_id) is None:
                raise NotFound(f"queue {queue_id} not found")
            return await uow.wrapup_codes.of_queue(queue_id)

    async def add_to_queue(self, principal: Principal, queue_id: str,
                           code_ids: Sequence[str]) -> list[WrapupCode]:
        principal.require(Permission.CONFIGURE)
        if not code_ids:
            raise InvalidInput("the body must list at least one code as [{\"id\": codeId}]")
        if len(code_ids) > MAX_CODES_PER_CALL:
            raise InvalidInput(f"at most {MAX_CODES_PER_CALL} codes per request")
        async with self._uow() as uow:
            if await uow.queues.get(principal.org_id, queue_id) is None:
                raise NotFound(f"queue {queue_id} not found")
            added = []
            for code_id in code_ids:
                code = await uow.wrapup_codes.get(principal.org_id, code_id)
                if code is None:
                    raise InvalidInput(f"wrap-up code {code_id} not found in this organisation",
                                       field="id")
                added.append(code)
            await uow.wrapup_codes.add_to_queue(queue_id, code_ids)
            await uow.commit()
        return added

    async def remove_from_queue(self, principal: Principal, queue_id: str,
                                code_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            if await uow.queues.get(principal.org_id, queue_id) is None:
                raise NotFound(f"queue {queue_id} not found")
            if not await uow.wrapup_codes.remove_from_queue(queue_id, code_id):
                raise NotFound(f"wrap-up code {code_id} is not on queue {queue_id}")
            await uow.commit()

    async def of_participant(self, principal: Principal, conversation_id: str,
                             participant_id: str) -> list[WrapupCode]:
        """The codes this participant may use: its queue's, else the organisation's."""
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(principal.org_id, conversation_id)
            if conv is None:
                raise NotFound(f"conversation {conversation_id} not found")
            conv.check_visible(principal)
            p = conv.participant(participant_id)
            if p.queue_id is not None:
                codes = await uow.wrapup_codes.of_queue(p.queue_id)
                if codes:
                    return codes
            codes, _ = await uow.wrapup_codes.page(principal.org_id, page=1, size=500)
            return codes
