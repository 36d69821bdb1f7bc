"""Opt-out: STOP, START and HELP from customers, and the check every send makes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from parley.concurrency import SingleFlight
from parley.domain.access import Permission, Principal
from parley.domain.errors import InvalidInput
from parley.domain.opt_out import ANY_NUMBER, Command, OptOut, OptOutPolicy, Scope
from parley.domain.times import iso
from parley.services.ports import Clock, UnitOfWorkFactory

CACHE_TTL_MS = 10_000


@dataclass(frozen=True, slots=True)
class KeywordHandled:
    command: Command
    reply: str


def policy_from(data: dict[str, Any] | None) -> OptOutPolicy:
    if not data:
        return OptOutPolicy()
    try:
        scope = Scope(data.get("scope", Scope.NUMBER.value))
    except ValueError:
        raise InvalidInput(f"scope '{data.get('scope')}' must be 'number' or 'organization'",
                           field="scope") from None
    words = {k: tuple(str(w) for w in data[k]) for k in ("stopWords", "startWords", "helpWords")
             if isinstance(data.get(k), list)}
    replies = {k: str(data[k]) for k in ("stopReply", "startReply", "helpReply")
               if data.get(k) is not None}
    defaults = OptOutPolicy()
    return OptOutPolicy(
        scope=scope,
        stop_words=words.get("stopWords", defaults.stop_words),
        start_words=words.get("startWords", defaults.start_words),
        help_words=words.get("helpWords", defaults.help_words),
        stop_reply=replies.get("stopReply", defaults.stop_reply),
        start_reply=replies.get("startReply", defaults.start_reply),
        help_reply=replies.get("helpReply", defaults.help_reply))


def policy_to(p: OptOutPolicy) -> dict[str, Any]:
    raw = asdict(p)
    return {"scope": p.scope.value, "stopWords": list(raw["stop_words"]),
            "startWords": list(raw["start_words"]), "helpWords": list(raw["help_words"]),
            "stopReply": p.stop_reply, "startReply": p.start_reply, "helpReply": p.help_reply}


class OptOutService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._policies: dict[str, tuple[int, OptOutPolicy]] = {}
        self._lists: dict[str, tuple[int, dict[str, frozenset[str]]]] = {}
        self._loading: SingleFlight[str, tuple[int, dict[str, frozenset[str]]]] = \
            SingleFlight()
        """org -> (valid until, customer -> numbers opted out of): one read per org per TTL,
        not one per send (a campaign texts thousands of customers once each)."""

    # -- policy -------------------------------------------------------------------------------

    async def policy(self, org_id: str) -> OptOutPolicy:
        now = self._clock.now_ms()
        hit = self._policies.get(org_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._uow(read_only=True) as uow:
            found = policy_from(await uow.opt_outs.policy(org_id))
        self._policies[org_id] = (now + CACHE_TTL_MS, found)
        return found

    async def set_policy(self, principal: Principal, data: dict[str, Any]) -> OptOutPolicy:
        principal.require(Permission.CONFIGURE)
        current = policy_to(await self.policy(principal.org_id))
        checked = policy_from({**current, **data})
        async with self._uow() as uow:
            await uow.opt_outs.set_policy(principal.org_id, policy_to(checked))
            await uow.commit()
        self._policies.pop(principal.org_id, None)
        return checked

    # -- keywords from customers ------------------------------------------------------------

    async def is_keyword(self, org_id: str, text: str) -> bool:
        return (await self.policy(org_id)).command(text) is not None

    async def handle_inbound(self, org_id: str, org_address: str, customer: str,
                             text: str) -> KeywordHandled | None:
        """If the text is a keyword, act on it and say what to reply; else None."""
        policy = await self.policy(org_id)
        command = policy.command(text)
        if command is None:
            return None
        key = policy.number_key(org_address)
        async with self._uow() as uow:
            if command is Command.STOP:
                await uow.opt_outs.add(OptOut(
                    org_id=org_id, customer_address=customer, org_address=key,
                    keyword=text.strip().upper(), created_ms=self._clock.now_ms()))
            elif command is Command.START:
                await uow.opt_outs.remove(org_id, customer, [org_address, ANY_NUMBER])
            await uow.commit()
        self._lists.pop(org_id, None)
        return KeywordHandled(command, policy.reply(command))

    # -- the check before every send ----------------------------------------------------------

    async def opted_out(self, org_id: str, org_address: str, customer: str) -> bool:
        now = self._clock.now_ms()
        hit = self._lists.get(org_id)
        if hit is None or hit[0] <= now:
            hit = await self._loading.load(org_id, lambda: self._load_list(org_id))
        numbers = hit[1].get(customer)
        return numbers is not None and (org_address in numbers or ANY_NUMBER in numbers)

    async def _load_list(self, org_id: str) -> tuple[int, dict[str, frozenset[str]]]:
        async with self._uow(read_only=True) as uow:
            entries = await uow.opt_outs.all_of(org_id)
        by_customer: dict[str, set[str]] = {}
        for o in entries:
            by_customer.setdefault(o.customer_address, set()).add(o.org_address)
        hit = self._lists[org_id] = (self._clock.now_ms() + CACHE_TTL_MS,
                                     {c: frozenset(n) for c, n in by_customer.items()})
        return hit

    async def check_can_send(self, org_id: str, org_address: str, customer: str,
                             field: str = "toAddress") -> None:
        if await self.opted_out(org_id, org_address, customer):
            raise InvalidInput(f"{customer} has opted out of texts from {org_address} (they "
                               "replied STOP); they must text START before you can text them",
                               field=field)

    # -- the list -----------------------------------------------------------------------------

    async def page(self, principal: Principal, *, page: int, size: int,
                   customer: str | None = None) -> tuple[list[OptOut], int]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            return await uow.opt_outs.page(principal.org_id, page=page, size=size,
                                           customer=customer)

    async def export_csv(self, principal: Principal) -> str:
        principal.require(Permission.VIEW_CONFIGURATION)
        lines = ["customer,number,keyword,optedOutAt"]
        page = 1
        while True:
            async with self._uow(read_only=True) as uow:
                batch, total = await uow.opt_outs.page(principal.org_id, page=page, size=1000)
            lines += [f"{o.customer_address},{o.org_address},{o.keyword},{iso(o.created_ms)}"
                      for o in batch]
            if page * 1000 >= total:
                return "\n".join(lines) + "\n"
            page += 1
