"""Repositories: domain objects in, domain objects out, over one transaction's connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.domain.access import Role
from parley.domain.conversations import (
    Communication,
    Conversation,
    Participant,
    Purpose,
    State,
    Wrapup,
)
from parley.domain.directory import (
    AuthorizationCode,
    GrantType,
    OAuthClient,
    Organization,
    TokenRecord,
    User,
)
from parley.domain.messages import Direction, Message, MessageStatus
from parley.domain.numbers import PhoneNumberType, SmsNumber
from parley.domain.queues import Queue, QueueMember, SkillEvaluationMethod, WrapupPrompt
from parley.store import tables as t

# -- row mapping --------------------------------------------------------------------------


_getters: dict[tuple[str, ...], Callable[[Any], Any]] = {}


def fields_of(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes as a row: one attrgetter per column list (every new text makes
    a handful of rows, so this is on the inbound hot path)."""
    get = _getters.get(names)
    if get is None:
        get = _getters[names] = attrgetter(*names)
    values = get(obj)
    return dict(zip(names, values if len(names) > 1 else (values,), strict=True))


def org_from_row(r: RowMapping) -> Organization:
    return Organization(id=r["id"], name=r["name"], created_ms=r["created_ms"])


def user_from_row(r: RowMapping) -> User:
    return User(id=r["id"], org_id=r["org_id"], name=r["name"], email=r["email"],
                role=Role(r["role"]), password_hash=r["password_hash"], state=r["state"],
                version=r["version"], created_ms=r["created_ms"])


def client_from_row(r: RowMapping) -> OAuthClient:
    return OAuthClient(
        id=r["id"], org_id=r["org_id"], name=r["name"],
        grant_types=frozenset(GrantType(g) for g in r["grant_types"]), role=Role(r["role"]),
        secret_hash=r["secret_hash"], redirect_uris=list(r["redirect_uris"]),
        allow_loopback_redirects=r["allow_loopback_redirects"], created_ms=r["created_ms"],
        state=r["state"])


def number_from_row(r: RowMapping) -> SmsNumber:
    return SmsNumber(
        id=r["id"], org_id=r["org_id"], phone_number=r["phone_number"], name=r["name"],
        phone_number_type=PhoneNumberType(r["phone_number_type"]),
        country_code=r["country_code"], carrier=r["carrier"], status=r["status"],
        version=r["version"], created_ms=r["created_ms"], modified_ms=r["modified_ms"],
        created_by=r["created_by"], modified_by=r["modified_by"])


_NUMBER_COLS = ("id", "org_id", "phone_number", "name", "country_code", "carrier", "status",
                "version", "created_ms", "modified_ms", "created_by", "modified_by")

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


_PARTICIPANT_COLS = ("id", "conversation_id", "communication_id", "direction", "address",
                     "from_address", "to_address", "user_id", "queue_id", "client_id", "name",
                     "start_ms", "connected_ms", "end_ms", "disconnect_type",
                     "wrapup_required", "alerting_timeout_ms")


def participant_row(p: Participant) -> dict[str, Any]:
    row = fields_of(p, *_PARTICIPANT_COLS)
    row["purpose"] = p.purpose.value
    row["state"] = p.state.value
    row["attributes"] = p.attributes or None
    row["wrapup"] = None if p.wrapup is None else {
        "code": p.wrapup.code, "name": p.wrapup.name, "notes": p.wrapup.notes,
        "tags": p.wrapup.tags, "durationSeconds": p.wrapup.duration_seconds,
        "endMs": p.wrapup.end_ms}
    return row


def participant_from_row(r: RowMapping) -> Participant:
    w = r["wrapup"]
    return Participant(
        **{c: r[c] for c in _PARTICIPANT_COLS}, purpose=Purpose(r["purpose"]),
        state=State(r["state"]), attributes=dict(r["attributes"] or {}),
        wrapup=None if w is None else Wrapup(
            code=w.get("code"), name=w.get("name"), notes=w.get("notes"),
            tags=list(w.get("tags") or []), duration_seconds=w.get("durationSeconds"),
            end_ms=w.get("endMs")))


_CONVERSATION_COLS = ("id", "org_id", "start_ms", "end_ms", "customer_address", "org_address",
                      "originating_direction")


def conversation_row(c: Conversation) -> dict[str, Any]:
    row = fields_of(c, *_CONVERSATION_COLS)
    row["state"] = c.state.value
    return row


_MESSAGE_COLS = ("id", "org_id", "conversation_id", "participant_id", "from_address",
                 "to_address", "text", "segment_count", "encoding", "carrier", "user_id",
                 "provider_message_id", "error_code", "error_message", "created_ms",
                 "status_ms", "inbound_key")


def message_row(m: Message) -> dict[str, Any]:
    row = fields_of(m, *_MESSAGE_COLS)
    row["direction"] = m.direction.value
    row["status"] = m.status.value
    row["status_rank"] = m.status.rank
    return row


def message_from_row(r: RowMapping) -> Message:
    return Message(**{c: r[c] for c in _MESSAGE_COLS}, direction=Direction(r["direction"]),
                   status=MessageStatus(r["status"]))


def name_like(column: Any, pattern: str) -> Any:
    """Genesys name filters: `*` is the only wildcard; `%` and `_` are literal text."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(escaped.replace("*", "%"), escape="\\")


# -- repositories -------------------------------------------------------------------------


class Repo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, stmt: Any) -> RowMapping | None:
        return (await self.conn.execute(stmt)).mappings().first()

    async def _all(self, stmt: Any) -> Sequence[RowMapping]:
        return (await self.conn.execute(stmt)).mappings().all()

    async def _count(self, stmt: Any) -> int:
        return int((await self.conn.execute(
            select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one())


class Organizations(Repo):
    async def add(self, org: Organization, *, is_demo: bool = False) -> None:
        await self.conn.execute(insert(t.organizations).values(
            id=org.id, name=org.name, created_ms=org.created_ms, is_demo=is_demo))

    async def get(self, org_id: str) -> Organization | None:
        r = await self._one(select(t.organizations).where(t.organizations.c.id == org_id))
        return None if r is None else org_from_row(r)

    async def demo(self) -> Organization | None:
        r = await self._one(select(t.organizations).where(t.organizations.c.is_demo.is_(True)))
        return None if r is None else org_from_row(r)


class Users(Repo):
    async def add(self, u: User) -> None:
        await self.conn.execute(insert(t.users).values(
            **fields_of(u, "id", "org_id", "name", "email", "password_hash", "state", "version",
                      "created_ms"), role=u.role.value))

    async def get(self, org_id: str, user_id: str) -> User | None:
        r = await self._one(select(t.users).where(
            t.users.c.id == user_id, t.users.c.org_id == org_id))
        return None if r is None else user_from_row(r)

    async def by_email(self, email: str) -> User | None:
        r = await self._one(select(t.users).where(func.lower(t.users.c.email) == email.lower()))
        return None if r is None else user_from_row(r)

    async def many(self, org_id: str, ids: Iterable[str]) -> dict[str, User]:
        ids = list(ids)
        if not ids:
            return {}
        rows = await self._all(select(t.users).where(
            t.users.c.org_id == org_id, t.users.c.id.in_(ids)))
        return {r["id"]: user_from_row(r) for r in rows}

    async def page(self, org_id: str, *, page: int, size: int, ids: Sequence[str] | None = None,
                   state: str | None = None, descending: bool = False
                   ) -> tuple[list[User], int]:
        stmt = select(t.users).where(t.users.c.org_id == org_id)
        if ids:
            stmt = stmt.where(t.users.c.id.in_(ids))
        if state:
            stmt = stmt.where(t.users.c.state == state)
        total = await self._count(stmt)
        order = t.users.c.name.desc() if descending else t.users.c.name.asc()
        rows = await self._all(stmt.order_by(order, t.users.c.id)
                               .limit(size).offset((page - 1) * size))
        return [user_from_row(r) for r in rows], total


    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self.conn.execute(update(t.users).where(t.users.c.id == user_id)
                                .values(password_hash=password_hash))

    async def admin_ids(self, org_id: str) -> list[str]:
        """The organisation's active admins, locked until the transaction ends (PostgreSQL;
        SQLite's writers are serialised anyway): two demotions at once cannot both see the
        other admin and leave none."""
        u = t.users.c
        rows = await self._all(select(u.id).where(
            u.org_id == org_id, u.role == Role.ADMIN.value, u.state == "active")
            .order_by(u.id).with_for_update())
        return [r["id"] for r in rows]

    async def set_role(self, user_id: str, role: Role) -> list[str]:
        """Give the user another role, in their tokens too (each token carries its role);
        returns those tokens' ids so caches can drop them."""
        await self.conn.execute(update(t.users).where(t.users.c.id == user_id)
                                .values(role=role.value, version=t.users.c.version + 1))
        res = await self.conn.execute(update(t.tokens).where(t.tokens.c.user_id == user_id)
                                      .values(role=role.value).returning(t.tokens.c.id))
        return [r[0] for r in res]


class Clients(Repo):
    async def add(self, c: OAuthClient) -> None:
        await self.conn.execute(insert(t.oauth_clients).values(
            **fields_of(c, "id", "org_id", "name", "secret_hash", "redirect_uris",
                      "allow_loopback_redirects", "created_ms", "state"),
            grant_types=sorted(g.value for g in c.grant_types), role=c.role.value))

    async def get(self, client_id: str) -> OAuthClient | None:
        r = await self._one(select(t.oauth_clients).where(t.oauth_clients.c.id == client_id))
        return None if r is None else client_from_row(r)

    async def in_org(self, org_id: str) -> list[OAuthClient]:
        rows = await self._all(select(t.oauth_clients).where(t.oauth_clients.c.org_id == org_id)
                               .order_by(t.oauth_clients.c.name))
        return [client_from_row(r) for r in rows]

    async def browser_clients(self) -> list[OAuthClient]:
        """Clients with redirect URIs: the CORS allow-list is built from these."""
        rows = await self._all(select(t.oauth_clients).where(
            t.oauth_clients.c.state == "active"))
        return [c for c in map(client_from_row, rows)
                if c.redirect_uris or c.allow_loopback_redirects]


    async def set_secret(self, client_id: str, secret_hash: str) -> None:
        await self.conn.execute(update(t.oauth_clients).where(t.oauth_clients.c.id == client_id)
                                .values(secret_hash=secret_hash))

    async def delete(self, client_id: str) -> list[str]:
        """Delete the client with its tokens and authorization codes; returns the ids of the
        tokens it had, so caches can drop them."""
        res = await self.conn.execute(delete(t.tokens).where(t.tokens.c.client_id == client_id)
                                      .returning(t.tokens.c.id))
        token_ids = [r[0] for r in res]
        await self.conn.execute(delete(t.authorization_codes).where(
            t.authorization_codes.c.client_id == client_id))
        await self.conn.execute(delete(t.oauth_clients).where(
            t.oauth_clients.c.id == client_id))
        return token_ids


def _token(r: RowMapping | None) -> TokenRecord | None:
    if r is None:
        return None
    return TokenRecord(
        id=r["id"], org_id=r["org_id"], client_id=r["client_id"], user_id=r["user_id"],
        role=Role(r["role"]), grant_type=GrantType(r["grant_type"]),
        created_ms=r["created_ms"], expires_ms=r["expires_ms"], refresh_hash=r["refresh_hash"])


class Tokens(Repo):
    async def add(self, token: TokenRecord) -> None:
        await self.conn.execute(insert(t.tokens).values(
            **fields_of(token, "id", "org_id", "client_id", "user_id", "created_ms",
                      "expires_ms", "refresh_hash"),
            role=token.role.value, grant_type=token.grant_type.value))

    async def get(self, token_id: str) -> TokenRecord | None:
        return _token(await self._one(select(t.tokens).where(t.tokens.c.id == token_id)))

    async def by_refresh(self, refresh_hash: str) -> TokenRecord | None:
        return _token(await self._one(
            select(t.tokens).where(t.tokens.c.refresh_hash == refresh_hash)))

    async def delete(self, token_id: str) -> bool:
        res = await self.conn.execute(delete(t.tokens).where(t.tokens.c.id == token_id))
        return bool(res.rowcount)

    async def live_owners(self, owners: Sequence[tuple[str | None, str]], now_ms: int
                          ) -> set[tuple[str | None, str, Role]]:
        c = t.tokens.c
        users = {u for u, _ in owners if u is not None}
        clients = {cl for u, cl in owners if u is None}
        rows = await self.conn.execute(
            select(c.user_id, c.client_id, c.role).distinct()
            .where(c.expires_ms > now_ms,
                   c.user_id.in_(users) | (c.user_id.is_(None) & c.client_id.in_(clients))))
        return {(r.user_id, r.client_id, Role(r.role)) for r in rows}

    async def purge_expired(self, now_ms: int, refresh_until_ms: int) -> int:
        """Drop expired tokens (those with a refresh token once it too is past use) and
        expired authorization codes."""
        c = t.tokens.c
        res = await self.conn.execute(delete(t.tokens).where(
            c.expires_ms < now_ms,
            c.refresh_hash.is_(None) | (c.expires_ms < refresh_until_ms)))
        await self.conn.execute(delete(t.authorization_codes).where(
            t.authorization_codes.c.expires_ms < now_ms))
        return int(res.rowcount or 0)

    async def add_code(self, code: AuthorizationCode) -> None:
        await self.conn.execute(insert(t.authorization_codes).values(
            **fields_of(code, "id", "client_id", "user_id", "redirect_uri", "expires_ms",
                      "code_challenge", "code_challenge_method")))

    async def take_code(self, code_id: str) -> AuthorizationCode | None:
        """Codes are single use: reading one deletes it, in the same transaction."""
        table = t.authorization_codes
        r = await self._one(select(table).where(table.c.id == code_id))
        if r is None:
            return None
        await self.conn.execute(delete(table).where(table.c.id == code_id))
        return AuthorizationCode(**dict(r))


class Numbers(Repo):
    async def add(self, n: SmsNumber) -> None:
        await self.conn.execute(insert(t.sms_numbers).values(
            **fields_of(n, *_NUMBER_COLS), phone_number_type=n.phone_number_type.value))

    async def get(self, org_id: str, number_id: str) -> SmsNumber | None:
        r = await self._one(select(t.sms_numbers).where(
            t.sms_numbers.c.id == number_id, t.sms_numbers.c.org_id == org_id))
        return None if r is None else number_from_row(r)

    async def by_phone(self, phone_number: str) -> SmsNumber | None:
        r = await self._one(select(t.sms_numbers)
                            .where(t.sms_numbers.c.phone_number == phone_number))
        return None if r is None else number_from_row(r)

    async def page(self, org_id: str, *, page: int, size: int, contains: str | None = None,
                   types: Sequence[str] = (), statuses: Sequence[str] = (),
                   countries: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[SmsNumber], int]:
        c = t.sms_numbers.c
        stmt = select(t.sms_numbers).where(c.org_id == org_id)
        if contains:
            stmt = stmt.where(name_like(c.phone_number, f"*{contains.strip('*')}*"))
        if types:
            stmt = stmt.where(c.phone_number_type.in_(types))
        if statuses:
            stmt = stmt.where(c.status.in_(statuses))
        if countries:
            stmt = stmt.where(c.country_code.in_(countries))
        total = await self._count(stmt)
        order = c.phone_number.desc() if descending else c.phone_number.asc()
        rows = await self._all(stmt.order_by(order).limit(size).offset((page - 1) * size))
        return [number_from_row(r) for r in rows], total

    async def update(self, n: SmsNumber) -> None:
        await self.conn.execute(update(t.sms_numbers).where(t.sms_numbers.c.id == n.id).values(
            name=n.name, version=n.version, modified_ms=n.modified_ms, modified_by=n.modified_by,
            status=n.status, carrier=n.carrier))

    async def delete(self, number_id: str) -> None:
        await self.conn.execute(delete(t.sms_numbers).where(t.sms_numbers.c.id == number_id))

    async def queues_using(self, number_id: str) -> list[str]:
        rows = await self._all(select(t.queues.c.name)
                               .where(t.queues.c.sms_number_id == number_id))
        return [r["name"] for r in rows]


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


class Conversations(Repo):
    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn)
        self.changed: set[str] = set()
        """Conversations this transaction wrote; caches forget them once it commits."""

    async def add(self, conv: Conversation) -> None:
        await self.conn.execute(insert(t.conversations).values(**conversation_row(conv)))
        await self.conn.execute(insert(t.participants),
                                [participant_row(p) for p in conv.participants])

    async def get(self, org_id: str, conversation_id: str) -> Conversation | None:
        r = await self._one(select(t.conversations).where(
            t.conversations.c.id == conversation_id, t.conversations.c.org_id == org_id))
        if r is None:
            return None
        conv = Conversation(**{c: r[c] for c in _CONVERSATION_COLS}, state=State(r["state"]))
        rows = await self._all(select(t.participants)
                               .where(t.participants.c.conversation_id == conversation_id)
                               .order_by(t.participants.c.start_ms, t.participants.c.purpose))
        conv.participants = [participant_from_row(p) for p in rows]
        return conv

    async def save(self, conv: Conversation) -> None:
        """Write back states: the conversation row and every participant (new ones inserted)."""
        self.changed.add(conv.id)
        await self.conn.execute(update(t.conversations)
                                .where(t.conversations.c.id == conv.id)
                                .values(state=conv.state.value, end_ms=conv.end_ms))
        existing = {r["id"] for r in await self._all(
            select(t.participants.c.id).where(t.participants.c.conversation_id == conv.id))}
        for p in conv.participants:
            row = participant_row(p)
            if p.id in existing:
                await self.conn.execute(update(t.participants)
                                        .where(t.participants.c.id == p.id).values(**row))
            else:
                await self.conn.execute(insert(t.participants).values(**row))

    async def active_between(self, org_id: str, org_address: str,
                             customer_address: str) -> Conversation | None:
        c = t.conversations.c
        if self.conn.dialect.name == "postgresql":
            # Serialise finders of one thread until their transaction ends, so two racing
            # starts cannot both see none and both insert (SQLite writers are serial already).
            await self.conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(
                f"{org_id}|{org_address}|{customer_address}"))))
        r = await self._one(select(c.id).where(
            c.org_id == org_id, c.org_address == org_address,
            c.customer_address == customer_address, c.state != State.DISCONNECTED.value)
            .order_by(c.start_ms.desc()))
        return None if r is None else await self.get(org_id, r["id"])

    async def in_after_call_work(self) -> list[tuple[str, str, str, str | None, int]]:
        """(org, conversation, participant, queue, left at) of agents still to wrap up."""
        p, c = t.participants.c, t.conversations.c
        rows = await self._all(
            select(c.org_id, p.conversation_id, p.id, p.queue_id, p.end_ms)
            .select_from(t.participants.join(t.conversations, c.id == p.conversation_id))
            .where(p.wrapup_required.is_(True), p.end_ms.is_not(None)))
        return [(r["org_id"], r["conversation_id"], r["id"], r["queue_id"], r["end_ms"])
                for r in rows]

    async def latest_between(self, org_id: str, org_address: str,
                             customer_address: str) -> Conversation | None:
        """The newest conversation between a number and a customer, open or not (threading)."""
        c = t.conversations.c
        r = await self._one(select(c.id).where(
            c.org_id == org_id, c.org_address == org_address,
            c.customer_address == customer_address).order_by(c.start_ms.desc()).limit(1))
        return None if r is None else await self.get(org_id, r["id"])

    async def active_for_user(self, org_id: str, user_id: str) -> list[Conversation]:
        """The user's conversations still in progress: ones they are on, and ones they left
        but must still wrap up (after-call work, which a desktop shows again after a reload)."""
        p, c = t.participants.c, t.conversations.c
        rows = await self._all(
            select(c.id).select_from(t.conversations.join(
                t.participants, t.participants.c.conversation_id == c.id))
            .where(c.org_id == org_id, p.user_id == user_id,
                   ((p.state != State.DISCONNECTED.value)
                    & (c.state != State.DISCONNECTED.value))
                   | (p.wrapup_required.is_(True) & p.end_ms.is_not(None)))
            .distinct())
        convs = [await self.get(org_id, r["id"]) for r in rows]
        return sorted((cv for cv in convs if cv is not None), key=lambda cv: cv.start_ms)

    async def active_in_org(self, org_id: str, limit: int = 500) -> list[Conversation]:
        c = t.conversations.c
        rows = await self._all(select(c.id).where(
            c.org_id == org_id, c.state != State.DISCONNECTED.value)
            .order_by(c.start_ms).limit(limit))
        convs = [await self.get(org_id, r["id"]) for r in rows]
        return [cv for cv in convs if cv is not None]


class Messages(Repo):
    async def add(self, m: Message) -> None:
        await self.conn.execute(insert(t.messages).values(**message_row(m)))

    async def by_inbound_key(self, key: str) -> Message | None:
        r = await self._one(select(t.messages).where(t.messages.c.inbound_key == key))
        return None if r is None else message_from_row(r)

    async def get(self, org_id: str, conversation_id: str, message_id: str) -> Message | None:
        r = await self._one(select(t.messages).where(
            t.messages.c.id == message_id, t.messages.c.org_id == org_id,
            t.messages.c.conversation_id == conversation_id))
        return None if r is None else message_from_row(r)

    async def in_conversation(self, conversation_id: str) -> list[Message]:
        rows = await self._all(select(t.messages)
                               .where(t.messages.c.conversation_id == conversation_id)
                               .order_by(t.messages.c.created_ms, t.messages.c.id))
        return [message_from_row(r) for r in rows]

    async def conversations_of(self, message_ids: Sequence[str],
                               provider_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(org, conversation) of messages named by id or by a carrier's id (of a part too)."""
        m, mp = t.messages.c, t.message_parts.c
        found: set[tuple[str, str]] = set()
        if message_ids:
            found.update((r["org_id"], r["conversation_id"]) for r in await self._all(
                select(m.org_id, m.conversation_id).where(m.id.in_(message_ids))))
        if provider_ids:
            found.update((r["org_id"], r["conversation_id"]) for r in await self._all(
                select(m.org_id, m.conversation_id).where(m.provider_message_id.in_(
                    provider_ids) | m.id.in_(select(mp.message_id).where(
                        mp.provider_message_id.in_(provider_ids))))))
        return sorted(found)

    async def for_phone(self, org_id: str, phone: str, limit: int) -> list[Message]:
        m = t.messages.c
        rows = await self._all(select(t.messages).where(
            m.org_id == org_id,
            ((m.direction == "outbound") & (m.to_address == phone))
            | ((m.direction == "inbound") & (m.from_address == phone)))
            .order_by(m.created_ms.desc()).limit(limit))
        return [message_from_row(r) for r in rows]


_COMMUNICATION_QUERY = (
    select(t.participants.c.id, t.participants.c.purpose, t.participants.c.state,
           t.participants.c.user_id, t.participants.c.from_address,
           t.participants.c.to_address, t.conversations.c.org_id,
           t.conversations.c.state.label("conv_state"))
    .select_from(t.participants.join(
        t.conversations, t.conversations.c.id == t.participants.c.conversation_id))
    .where(t.participants.c.communication_id == bindparam("communication_id"),
           t.participants.c.conversation_id == bindparam("conversation_id"))
)


async def load_communication(conn: AsyncConnection, conversation_id: str,
                             communication_id: str) -> Communication | None:
    """The send path's one read: a participant's communication and its conversation's state."""
    r = (await conn.execute(_COMMUNICATION_QUERY, {
        "conversation_id": conversation_id, "communication_id": communication_id})).first()
    if r is None:
        return None
    return Communication(
        org_id=r.org_id, conversation_id=conversation_id,
        conversation_active=r.conv_state != State.DISCONNECTED.value, participant_id=r.id,
        communication_id=communication_id, purpose=Purpose(r.purpose),
        participant_state=State(r.state), user_id=r.user_id, from_address=r.from_address,
        to_address=r.to_address)
