"""An organisation on a Parley of its own, driven through the services with a clock the test
moves: the ACD service tests' desk, and the inbound tests that need one.

Its agents are principals, so each step calls the service as the API would, and each look reads
the store, so what a test asserts is what was committed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from parley.api.app import create_app
from parley.bootstrap import Parley, bootstrap
from parley.domain.access import Principal
from parley.domain.acd import RoutingStatus
from parley.domain.conversations import Conversation, Participant, Purpose, State, Wrapup
from parley.services.ports import AcdRecord, InboundSms
from tests.conftest import settings_for
from tests.orgs import Tenant, make_org, new_customer
from tests.services.probes import ManualClock

TIMEOUT_MS = 30_000
"""A queue's default alertingTimeoutSeconds, in ms."""


@asynccontextmanager
async def running(database_url: str, data_dir: Path, clock: ManualClock,
                  **overrides: Any) -> AsyncIterator[Parley]:
    """A started Parley on `database_url` with `clock`; stopped on the way out."""
    app = bootstrap(settings_for(database_url, data_dir, **overrides), clock=clock)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@asynccontextmanager
async def client_of(app: Parley) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(app, manage_lifecycle=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as http:
        yield http


@dataclass
class Desk:
    """One organisation on a dedicated Parley: its admin and agents as principals."""

    parley: Parley
    clock: ManualClock
    org: Tenant
    admin: Principal
    agents: list[Principal]

    def agent_id(self, i: int) -> str:
        return self.org.agents[i].id

    def name_of(self, user_id: str | None) -> str:
        names = {a.id: f"agent{i}" for i, a in enumerate(self.org.agents)}
        return names.get(user_id or "", str(user_id))

    # -- doing things ----------------------------------------------------------------------

    async def on_queue(self, i: int) -> None:
        await self.parley.agents.set_routing_status(self.agents[i], self.agent_id(i), "IDLE")

    async def off_queue(self, i: int) -> None:
        await self.parley.agents.set_routing_status(self.agents[i], self.agent_id(i),
                                                    "OFF_QUEUE")

    async def capacity(self, i: int, n: int) -> None:
        await self.parley.agents.set_user_utilization(self.admin, self.agent_id(i), n)

    async def text_in(self, text: str = "Hello", customer: str | None = None) -> str:
        """A customer texts the organisation's number; the conversation id."""
        received = await self.parley.inbound.receive(InboundSms(
            carrier="sim", carrier_message_id=uuid.uuid4().hex,
            from_address=customer or new_customer(), to_address=self.org.number, text=text,
            received_ms=self.clock.now_ms()))
        return received.conversation_id

    async def party(self, conversation_id: str, i: int, *states: State) -> Participant:
        c = await self.conversation(conversation_id)
        found = [p for p in c.agents() if p.user_id == self.agent_id(i) and p.state in states]
        assert found, f"agent{i} is not {states} on {conversation_id}: {self.describe(c)}"
        return found[-1]

    async def accept(self, conversation_id: str, i: int) -> Participant:
        p = await self.party(conversation_id, i, State.ALERTING)
        await self.parley.conversations.update_participant(
            self.agents[i], conversation_id, p.id, state="connected", wrapup=None)
        return p

    async def decline(self, conversation_id: str, i: int) -> None:
        p = await self.party(conversation_id, i, State.ALERTING)
        await self.parley.conversations.update_participant(
            self.agents[i], conversation_id, p.id, state="disconnected", wrapup=None)

    async def leave(self, conversation_id: str, i: int, code: str | None = None) -> None:
        p = await self.party(conversation_id, i, State.CONNECTED)
        await self.parley.conversations.update_participant(
            self.agents[i], conversation_id, p.id, state="disconnected",
            wrapup=None if code is None else Wrapup(code=code))

    async def time_out(self) -> None:
        """Move past the alerting timeout and let the ACD expire what is due."""
        self.clock.advance(TIMEOUT_MS + 1)
        await self.parley.acd.tick()

    # -- looking -----------------------------------------------------------------------------

    async def conversation(self, conversation_id: str) -> Conversation:
        async with self.parley.uow(read_only=True) as uow:
            c = await uow.conversations.get(self.org.id, conversation_id)
        assert c is not None, f"conversation {conversation_id} is not in the store"
        return c

    async def offered_to(self, conversation_id: str) -> list[str]:
        """Who the conversation is alerting ("agent0", "agent1"); [] when it waits."""
        c = await self.conversation(conversation_id)
        ids = [p.user_id for p in c.agents() if p.state is State.ALERTING]
        return [self.name_of(u) for u in ids]

    async def connected_to(self, conversation_id: str) -> list[str]:
        c = await self.conversation(conversation_id)
        return [self.name_of(p.user_id) for p in c.agents() if p.state is State.CONNECTED]

    async def waiting_in(self, conversation_id: str) -> str | None:
        """The queue of the conversation's active acd participant (it waits or alerts)."""
        c = await self.conversation(conversation_id)
        queues = [p.queue_id for p in c.participants
                  if p.purpose is Purpose.ACD and p.is_active]
        assert len(queues) <= 1, self.describe(c)
        return queues[0] if queues else None

    async def record(self, conversation_id: str) -> AcdRecord | None:
        async with self.parley.uow(read_only=True) as uow:
            return await uow.acd.get(conversation_id)

    async def held(self, conversation_id: str) -> AcdRecord:
        """The ACD's record of a conversation it must be holding."""
        record = await self.record(conversation_id)
        assert record is not None, f"the ACD holds no record of {conversation_id}"
        return record

    async def status(self, i: int) -> RoutingStatus:
        view = await self.parley.agents.routing_status(self.admin, self.agent_id(i))
        return view.status

    async def stored_not_responding(self, i: int) -> bool:
        async with self.parley.uow(read_only=True) as uow:
            return await uow.agents.not_responding(self.agent_id(i))

    def describe(self, c: Conversation) -> str:
        return "; ".join(f"{p.purpose.value}:{p.state.value}:{self.name_of(p.user_id)}"
                         f":{p.disconnect_type}" for p in c.participants)


async def desk_on(app: Parley, clock: ManualClock, http: httpx.AsyncClient) -> Desk:
    org = await make_org(app, http)
    agents = [await app.auth.authenticate(p.token) for p in org.agents]
    return Desk(app, clock, org, org.principal(), agents)
