"""The SQL unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.acd_repos import AcdInteractions
from parley.store.agent_repos import Agents, Skills, WrapupCodes
from parley.store.carrier_repos import CarrierConnections
from parley.store.conversation_repos import Conversations, Messages
from parley.store.database import Database
from parley.store.directory_repos import Clients, Organizations, Tokens, Users
from parley.store.flow_repos import Flows
from parley.store.number_repos import Numbers
from parley.store.opt_out_repos import OptOuts
from parley.store.queue_repos import Queues


class SqlUnitOfWork:
    orgs: Organizations
    users: Users
    clients: Clients
    tokens: Tokens
    numbers: Numbers
    queues: Queues
    conversations: Conversations
    messages: Messages
    agents: Agents
    skills: Skills
    wrapup_codes: WrapupCodes
    acd: AcdInteractions
    flows: Flows
    opt_outs: OptOuts
    carriers: CarrierConnections

    def __init__(self, db: Database, *, read_only: bool = False,
                 on_commit: Callable[[set[str]], None] | None = None) -> None:
        self._engine = db.reader if read_only else db.writer
        self._conn: AsyncConnection | None = None
        self._on_commit = on_commit

    async def __aenter__(self) -> SqlUnitOfWork:
        conn = await self._engine.connect()
        await conn.begin()
        self._conn = conn
        self.orgs = Organizations(conn)
        self.users = Users(conn)
        self.clients = Clients(conn)
        self.tokens = Tokens(conn)
        self.numbers = Numbers(conn)
        self.queues = Queues(conn)
        self.conversations = Conversations(conn)
        self.messages = Messages(conn)
        self.agents = Agents(conn)
        self.skills = Skills(conn)
        self.wrapup_codes = WrapupCodes(conn)
        self.acd = AcdInteractions(conn)
        self.flows = Flows(conn)
        self.opt_outs = OptOuts(conn)
        self.carriers = CarrierConnections(conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                await self._conn.rollback()
        finally:
            await self._conn.close()
            self._conn = None

    async def commit(self) -> None:
        """Commit; then tell the caches which conversations changed."""
        assert self._conn is not None
        await self._conn.commit()
        if self._on_commit is not None and self.conversations.changed:
            self._on_commit(set(self.conversations.changed))
            self.conversations.changed.clear()
