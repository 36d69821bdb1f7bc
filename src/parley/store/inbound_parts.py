"""Parts of multipart mobile-originated texts, stored before the carrier is acknowledged.

A carrier hands over a long text part by part and forgets each part once we acknowledge it,
so each part is made durable first (through the group commit, like every hot write). The
text is put together when its last part arrives and the parts are dropped only after the
text itself is stored; its idempotency key is derived from the parts, so a text passed on
twice (a crash in between) is still stored once.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from parley.store import tables as t
from parley.store.group_commit import GroupCommitter, Then

MISSING = "…"
"""Where a part that never came would have been."""


def _key_of(key: str, first_ms: int) -> str:
    return f"parts:{key}|{first_ms}"


class SqlInboundParts:
    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer

    async def add(self, carrier: str, key: str, seq: int, total: int, text: str,
                  received_ms: int) -> tuple[str, str] | None:
        p = t.inbound_parts
        result: list[tuple[str, str]] = []

        def step(conn: Connection) -> None:
            conn.execute(delete(p).where(p.c.carrier == carrier, p.c.part_key == key,
                                         p.c.seq == seq))  # the carrier resent this part
            conn.execute(insert(p).values(carrier=carrier, part_key=key, seq=seq, total=total,
                                          text=text, received_ms=received_ms))
            rows = conn.execute(select(p.c.seq, p.c.text, p.c.received_ms).where(
                p.c.carrier == carrier, p.c.part_key == key).order_by(p.c.seq)).all()
            if len({r.seq for r in rows if 1 <= r.seq <= total}) == total:
                result.append(("".join(r.text for r in rows),
                               _key_of(key, min(r.received_ms for r in rows))))

        await self._committer.commit([Then(step)])
        return result[0] if result else None

    async def forget(self, carrier: str, key: str) -> None:
        p = t.inbound_parts

        def step(conn: Connection) -> None:
            conn.execute(delete(p).where(p.c.carrier == carrier, p.c.part_key == key))

        await self._committer.commit([Then(step)])

    async def pending(self, carrier: str, *, complete_or_older_than_ms: int
                      ) -> list[tuple[str, str, str]]:
        p = t.inbound_parts
        found: list[tuple[str, str, str]] = []

        def step(conn: Connection) -> None:
            parts: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
            for r in conn.execute(select(p.c.part_key, p.c.seq, p.c.total, p.c.text,
                                         p.c.received_ms).where(p.c.carrier == carrier)):
                parts[r.part_key].append((r.seq, r.total, r.text, r.received_ms))
            for key, got in parts.items():
                total = got[0][1]
                first = min(g[3] for g in got)
                by_seq = {g[0]: g[2] for g in got}
                if len(by_seq) < total and first >= complete_or_older_than_ms:
                    continue
                text = "".join(by_seq.get(i, MISSING) for i in range(1, total + 1))
                found.append((key, text, _key_of(key, first)))

        await self._committer.commit([Then(step)])
        return found
