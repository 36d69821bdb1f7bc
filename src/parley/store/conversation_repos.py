"""Conversations, their participants and messages; and the row builders the message store
shares with these repositories (so a row written in a group commit and one written here are
the same row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.domain.conversations import (
    Communication,
    Conversation,
    Participant,
    Purpose,
    State,
    Wrapup,
)
from parley.domain.messages import Direction, Message, MessageStatus
from parley.store import tables as t
from parley.store.repositories import Repo, fields_of, found

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

    async def require(self, org_id: str, conversation_id: str, *, message: str | None = None,
                      **details: str) -> Conversation:
        return found(await self.get(org_id, conversation_id),
                     message or f"conversation {conversation_id} not found", **details)

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

    async def require(self, org_id: str, conversation_id: str, message_id: str, *,
                      message: str | None = None, **details: str) -> Message:
        return found(await self.get(org_id, conversation_id, message_id),
                     message or f"message {message_id} not found in conversation "
                     f"{conversation_id}", **details)

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
