"""The send path's store: group-committed appends and bulk status updates.

Every statement here is either a keyed lookup or a batched write: nothing scans the message
table per message. Delivery receipts find their message through the indexed
`provider_message_id`; statuses only move forward, enforced in SQL by `status_rank` so a batch
needs no read first.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from parley.domain.conversations import Communication, Conversation, Participant, State
from parley.domain.messages import Message, MessageStatus
from parley.services.ports.carriers import DeliveryReport, OutboundSms
from parley.services.ports.clock import Clock
from parley.services.ports.message_store import (
    AlreadyStored,
    InboundContext,
    OutboxEntry,
    SubmitOutcome,
    ThreadHead,
)
from parley.services.ports.repositories import AcdRecord
from parley.store import tables as t
from parley.store.acd_repos import acd_row
from parley.store.conversation_repos import (
    conversation_row,
    load_communication,
    message_row,
    participant_row,
)
from parley.store.database import Database
from parley.store.group_commit import (
    Delete,
    GroupCommitter,
    Insert,
    Then,
    Update,
    Upsert,
    Write,
    update_statement,
)
from parley.store.side_reads import SideReader

SENT_MEMORY = 200_000
_SENT_RANK = MessageStatus.SENT.rank
_FAILED_RANK = MessageStatus.FAILED.rank


class SqlMessageStore:
    def __init__(self, db: Database, committer: GroupCommitter, reads: SideReader,
                 clock: Clock, *, cache_ttl_ms: int = 2_000, cache_size: int = 100_000
                 ) -> None:
        self._db = db
        self._committer = committer
        self._reads = reads
        self._clock = clock
        self._ttl_ms = cache_ttl_ms
        self._size = cache_size
        self._sent: OrderedDict[tuple[str, str], None] = OrderedDict()
        """(carrier, provider id) of single-part texts whose `sent` outcome this node
        committed (bounded): their receipts need no lookup first."""
        self._early: set[tuple[str, str]] = set()
        """(carrier, provider id) waiting in early_receipts (loaded at start, kept here)."""
        self._receipts_in_flight = 0
        """Receipt writes that may add to early_receipts but have not told `_early` yet."""
        self._comms: dict[str, dict[str, tuple[int, Communication]]] = {}
        """conversation id -> communication id -> (valid until, communication)"""
        self._asked: list[tuple[str, str, str, str, asyncio.Future[InboundContext]]] = []
        self._answering: asyncio.Task[None] | None = None

    async def communication(self, conversation_id: str,
                            communication_id: str) -> Communication | None:
        """The send path's one read, cached: an agent sends many texts on one communication.

        This node forgets a conversation as soon as it commits a change to it; a change made on
        another node is seen here within the TTL.
        """
        now = self._clock.now_ms()
        hit = self._comms.get(conversation_id, {}).get(communication_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._db.reader.connect() as conn:
            found = await load_communication(conn, conversation_id, communication_id)
        if found is not None:
            if len(self._comms) >= self._size:
                self._comms.clear()
            self._comms.setdefault(conversation_id, {})[communication_id] = (
                now + self._ttl_ms, found)
        return found

    def forget_conversations(self, conversation_ids: set[str]) -> None:
        for conversation_id in conversation_ids:
            self._comms.pop(conversation_id, None)

    async def append(self, *, conversation: Conversation | None,
                     participants: Sequence[Participant], messages: Sequence[Message],
                     outbox: Sequence[OutboxEntry]) -> None:
        writes: list[Write] = []
        parties = list(participants)
        if conversation is not None:
            writes.append(Insert(t.conversations, [conversation_row(conversation)]))
            parties.extend(conversation.participants)
        if parties:
            writes.append(Insert(t.participants, [participant_row(p) for p in parties]))
        writes.append(Insert(t.messages, [message_row(m) for m in messages]))
        writes.append(Insert(t.outbox, [_outbox_row(e) for e in outbox]))
        try:
            await self._committer.commit(writes)
        except IntegrityError as e:
            raise AlreadyStored(str(e.orig)) from e

    async def inbound_context(self, org_id: str, org_address: str, customer: str,
                              inbound_key: str) -> InboundContext:
        fut: asyncio.Future[InboundContext] = asyncio.get_running_loop().create_future()
        self._asked.append((org_id, org_address, customer, inbound_key, fut))
        if self._answering is None or self._answering.done():
            self._answering = asyncio.create_task(self._answer_contexts())
        return await fut

    async def _answer_contexts(self) -> None:
        """Two queries for every text that arrived while the previous pair ran: the cost of
        arrival lookups stays flat however many texts come in at once."""
        await asyncio.sleep(0)
        while self._asked:
            asked, self._asked = self._asked[:500], self._asked[500:]
            try:
                answers = await self._contexts([a[:4] for a in asked])
            except Exception as e:
                for *_, fut in asked:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            for (*_, fut), answer in zip(asked, answers, strict=True):
                if not fut.done():
                    fut.set_result(answer)

    async def _contexts(self, asked: list[tuple[str, str, str, str]]
                        ) -> list[InboundContext]:
        """Read beside the writer (store/side_reads.py), not after its next batch."""
        out: list[InboundContext] = []

        def lookup(conn: Connection) -> None:
            m, c = t.messages.c, t.conversations.c
            dups = {r.inbound_key: (r.id, r.conversation_id) for r in conn.execute(
                select(m.inbound_key, m.id, m.conversation_id).where(
                    m.inbound_key.in_({a[3] for a in asked})))}
            heads: dict[tuple[str, str, str], Any] = {}
            for r in conn.execute(
                    select(c.id, c.org_id, c.org_address, c.customer_address, c.state,
                           c.start_ms, c.end_ms)
                    .where(c.org_address.in_({a[1] for a in asked}),
                           c.customer_address.in_({a[2] for a in asked}))
                    .order_by(c.start_ms)):
                heads[(r.org_id, r.org_address, r.customer_address)] = r  # newest wins
            for org_id, org_address, customer, key in asked:
                head = heads.get((org_id, org_address, customer))
                out.append(InboundContext(dups.get(key), None if head is None else ThreadHead(
                    head.id, head.state != State.DISCONNECTED.value, head.end_ms)))

        await self._reads.read(lookup)
        return out

    async def save_conversations(self, conversations: Sequence[Conversation], *,
                                 messages: Sequence[Message] = (),
                                 outbox: Sequence[OutboxEntry] = (),
                                 acd: Sequence[AcdRecord] = ()) -> None:
        """Conversations written whole (their row and every participant), with their new
        messages and what the ACD decided about them: one group-committed write set.

        Whole rows (upserts) rather than changes: of two writes of one conversation in a
        batch the later one wins, whatever else the batch holds.
        """
        writes: list[Write] = []
        if conversations:
            writes.append(Upsert(t.conversations, [conversation_row(c) for c in conversations]))
            writes.append(Upsert(t.participants, [participant_row(p) for c in conversations
                                                  for p in c.participants]))
        if messages:
            writes.append(Insert(t.messages, [message_row(m) for m in messages]))
        if outbox:
            writes.append(Insert(t.outbox, [_outbox_row(e) for e in outbox]))
        if acd:
            writes.append(Upsert(t.acd_interactions, [acd_row(r) for r in acd]))
        if writes:
            try:
                await self._committer.commit(writes)
            except IntegrityError as e:
                raise AlreadyStored(str(e.orig)) from e
        self.forget_conversations({c.id for c in conversations})

    async def record_outcomes(self, outcomes: Sequence[SubmitOutcome]) -> None:
        sent: list[dict[str, object]] = []
        carriers: dict[str, str] = {}
        parts: list[dict[str, object]] = []
        failed: list[dict[str, object]] = []
        retry: list[dict[str, object]] = []
        done: list[str] = []
        for o in outcomes:
            if o.provider_message_id is not None:
                sent.append({"_id": o.message_id, "status": MessageStatus.SENT.value,
                             "status_rank": _SENT_RANK, "status_ms": o.at_ms,
                             "provider_message_id": o.provider_message_id})
                carriers[o.message_id] = o.carrier
                parts.extend({"carrier": o.carrier, "provider_message_id": pid,
                              "message_id": o.message_id,
                              "part": i + 1, "parts": len(o.part_ids),
                              "status": MessageStatus.SENT.value, "status_rank": _SENT_RANK,
                              "status_ms": o.at_ms, "error_code": None, "error_message": None}
                             for i, pid in enumerate(o.part_ids))
                done.append(o.message_id)
            elif o.retry_at_ms is not None:
                assert o.error is not None
                retry.append({"_message_id": o.message_id, "attempts": o.attempts,
                              "next_attempt_ms": o.retry_at_ms,
                              "lease_until_ms": o.retry_at_ms, "last_error": o.error.reason})
            else:
                assert o.error is not None
                failed.append({"_id": o.message_id, "status": MessageStatus.FAILED.value,
                               "status_rank": _FAILED_RANK, "status_ms": o.at_ms,
                               "error_code": o.error.code or "carrier.rejected",
                               "error_message": o.error.reason})
                done.append(o.message_id)
        writes: list[Write] = []
        sent_ids = [(carriers[str(r["_id"])], str(r["provider_message_id"])) for r in sent]
        part_ids = [(str(r["carrier"]), str(r["provider_message_id"])) for r in parts]
        if sent:
            writes.append(Update(t.messages, "id", sent, only_if_lower="status_rank"))
        if parts:
            writes.append(Insert(t.message_parts, parts))
        if self._receipts_in_flight:
            # A receipt for one of these may be on its way into early_receipts right now.
            waiting = [*sent_ids, *part_ids]
        else:
            waiting = [pid for pid in (*sent_ids, *part_ids) if pid in self._early]
        if waiting:
            writes.append(Then(_early_receipts_for(waiting)))
        if failed:
            writes.append(Update(t.messages, "id", failed, only_if_lower="status_rank"))
        if retry:
            writes.append(Update(t.outbox, "message_id", retry))
        if done:
            writes.append(Delete(t.outbox, "message_id", done))
        if writes:
            await self._committer.commit(writes)
        self._early.difference_update(waiting)
        multipart = {str(r["message_id"]) for r in parts}
        for r in sent:
            if r["_id"] not in multipart:
                self._sent[(carriers[str(r["_id"])], str(r["provider_message_id"]))] = None
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)

    async def renew_leases(self, message_ids: Sequence[str], until_ms: int) -> None:
        await self._committer.commit([Update(t.outbox, "message_id", [
            {"_message_id": mid, "lease_until_ms": until_ms} for mid in message_ids])])

    async def record_deliveries(self, reports: Sequence[DeliveryReport]) -> None:
        """Apply receipts; one whose submit response is not recorded yet (carriers do send
        the receipt first sometimes) waits in `early_receipts` for it."""
        rows = [{"_provider_message_id": r.provider_message_id, "_carrier": r.carrier,
                 "status": r.status.value, "status_rank": r.status.rank, "status_ms": r.at_ms,
                 "error_code": r.error_code, "error_message": r.error_message}
                for r in reports]
        if not rows:
            return
        if all((r["_carrier"], r["_provider_message_id"]) in self._sent for r in rows):
            await self._committer.commit([_receipt_update(rows)])
            return
        went_early: list[tuple[str, str]] = []

        def apply(conn: Connection) -> None:
            unknown = _apply_receipts(conn, rows)
            early = {(r["_carrier"], r["_provider_message_id"]): r for r in rows
                     if (r["_carrier"], r["_provider_message_id"]) in unknown}
            if early:
                e = t.early_receipts.c
                conn.execute(delete(t.early_receipts).where(tuple_(e.carrier,
                                                                   e.provider_message_id)
                                                            .in_(list(early))))
                conn.execute(insert(t.early_receipts), [
                    {"carrier": c, "provider_message_id": pid,
                     **{k: v for k, v in r.items() if k[0] != "_"}}
                    for (c, pid), r in early.items()])
                went_early.extend((str(c), str(pid)) for c, pid in early)

        self._receipts_in_flight += 1
        try:
            await self._committer.commit([Then(apply)])
            self._early.update(went_early)
        finally:
            self._receipts_in_flight -= 1

    async def load_early_receipts(self) -> int:
        """At start: which receipts still wait for their submit response (usually none)."""
        e = t.early_receipts.c
        async with self._db.reader.connect() as conn:
            self._early = {(r.carrier, r.provider_message_id) for r in await conn.execute(
                select(e.carrier, e.provider_message_id))}
        return len(self._early)

    async def claim_due(self, now_ms: int, lease_ms: int, limit: int) -> list[OutboundSms]:
        """Take over outbox rows whose lease ran out (retries, or a node that died)."""
        o, m = t.outbox.c, t.messages.c
        async with self._db.writer.begin() as conn:
            rows = (await conn.execute(
                select(o.message_id, o.attempts, m.org_id, m.from_address, m.to_address, m.text,
                       m.segment_count, m.created_ms, m.carrier)
                .select_from(t.outbox.join(t.messages, t.messages.c.id == o.message_id))
                .where(o.next_attempt_ms <= now_ms, o.lease_until_ms <= now_ms)
                .order_by(o.next_attempt_ms).limit(limit))).all()
            claimed: list[OutboundSms] = []
            for r in rows:
                res = await conn.execute(
                    update(t.outbox).where(o.message_id == r.message_id,
                                           o.lease_until_ms <= now_ms)
                    .values(lease_until_ms=now_ms + lease_ms))
                if res.rowcount:
                    claimed.append(OutboundSms(
                        message_id=r.message_id, org_id=r.org_id, from_address=r.from_address,
                        to_address=r.to_address, text=r.text, segment_count=r.segment_count,
                        created_ms=r.created_ms, carrier=r.carrier, attempts=r.attempts))
        return claimed

    async def release_leases(self) -> int:
        async with self._db.writer.begin() as conn:
            res = await conn.execute(update(t.outbox).values(lease_until_ms=0))
        return int(res.rowcount or 0)


def _outbox_row(e: OutboxEntry) -> dict[str, object]:
    return {"message_id": e.message_id, "org_id": e.org_id, "attempts": e.attempts,
            "next_attempt_ms": e.next_attempt_ms, "lease_until_ms": e.lease_until_ms,
            "created_ms": e.created_ms, "last_error": None}


def _receipt_update(rows: Sequence[dict[str, Any]]) -> Update:
    """The receipts' statuses onto their texts, matched on (carrier, provider id)."""
    return Update(t.messages, "provider_message_id", rows, only_if_lower="status_rank")


def _apply_receipts(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Apply receipts to texts and parts of texts; return the (carrier, id) nothing matched.

    A multipart text is final when every part is: delivery-failed if any part failed (with
    that part's reason), else delivery-success.
    """
    mp, m = t.message_parts.c, t.messages.c
    keys = {(r["_carrier"], r["_provider_message_id"]) for r in rows}
    ids = [pid for _, pid in keys]
    part_of = {(r.carrier, r.provider_message_id): r.message_id for r in conn.execute(
        select(mp.carrier, mp.provider_message_id, mp.message_id).where(
            mp.provider_message_id.in_(ids))) if (r.carrier, r.provider_message_id) in keys}
    whole = [r for r in rows if (r["_carrier"], r["_provider_message_id"]) not in part_of]
    known: set[tuple[str, str]] = set()
    if whole:
        known = {(r.carrier, r.provider_message_id) for r in conn.execute(
            select(m.carrier, m.provider_message_id).where(
                m.provider_message_id.in_([r["_provider_message_id"] for r in whole])))}
        matched = [r for r in whole if (r["_carrier"], r["_provider_message_id"]) in known]
        if matched:
            conn.execute(update_statement(_receipt_update(matched)), matched)
    of_parts = [r for r in rows if (r["_carrier"], r["_provider_message_id"]) in part_of]
    if of_parts:
        conn.execute(update_statement(Update(t.message_parts, "provider_message_id", of_parts,
                                             only_if_lower="status_rank")), of_parts)
        finals = _finished_texts(conn, {part_of[(r["_carrier"], r["_provider_message_id"])]
                                        for r in of_parts})
        if finals:
            conn.execute(update_statement(Update(t.messages, "id", finals,
                                                 only_if_lower="status_rank")), finals)
    return keys - part_of.keys() - known


def _finished_texts(conn: Connection, message_ids: set[str]) -> list[dict[str, Any]]:
    mp = t.message_parts
    by_text: dict[str, list[Any]] = {}
    for p in conn.execute(select(mp).where(mp.c.message_id.in_(message_ids))).mappings():
        by_text.setdefault(p["message_id"], []).append(p)
    out = []
    for mid, parts in by_text.items():
        if len(parts) < parts[0]["parts"] or any(p["status_rank"] < _FAILED_RANK
                                                 for p in parts):
            continue
        bad = [p for p in parts if p["status"] != MessageStatus.DELIVERY_SUCCESS.value]
        last = bad[0] if bad else max(parts, key=lambda p: p["status_ms"])
        out.append({"_id": mid, "status": last["status"], "status_rank": last["status_rank"],
                    "status_ms": max(p["status_ms"] for p in parts),
                    "error_code": last["error_code"], "error_message": last["error_message"]})
    return out


def _early_receipts_for(keys: list[tuple[str, str]]) -> Callable[[Connection], None]:
    """After `sent` outcomes: apply any receipt that arrived before them."""

    def apply(conn: Connection) -> None:
        e = t.early_receipts
        where = tuple_(e.c.carrier, e.c.provider_message_id).in_(keys)
        found = conn.execute(select(e).where(where)).mappings().all()
        if not found:
            return
        rows = [{"_provider_message_id": r["provider_message_id"], "_carrier": r["carrier"],
                 "status": r["status"], "status_rank": r["status_rank"],
                 "status_ms": r["status_ms"], "error_code": r["error_code"],
                 "error_message": r["error_message"]} for r in found]
        _apply_receipts(conn, rows)
        conn.execute(delete(e).where(tuple_(e.c.carrier, e.c.provider_message_id).in_(
            [(r["carrier"], r["provider_message_id"]) for r in found])))

    return apply
