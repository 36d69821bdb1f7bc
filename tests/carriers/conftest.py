"""Fixtures for the carrier tests: a test SMSC per test, and an SMPP connection bound to it
(with the steps the SMPP tests share: connect, disable, send)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from parley.bootstrap import Parley
from parley.domain.carriers import LinkState
from parley.domain.messages import Message
from parley.services.ports import LinkStatus
from tests.carriers.smsc import PASSWORD, Smsc
from tests.orgs import Tenant, random_customer


@pytest.fixture
async def smsc(tmp_path: Path) -> AsyncIterator[Smsc]:
    server = Smsc(tmp_path / "smsc.log")
    await server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class Link:
    """An SMPP connection of a test organisation, and the number registered on it."""

    parley: Parley
    org: Tenant
    smsc: Smsc
    id: str
    number: str

    def status(self) -> LinkStatus:
        return self.parley.carriers[self.id].status()

    async def wait_for(self, state: LinkState, polls: int = 500) -> LinkStatus:
        """Wait for the link to be in `state`; BOUND waits for every bind, not just the first
        (a link with one bind up already reports BOUND, with the others in its reason)."""
        for _ in range(polls):
            status = self.parley.carriers[self.id].status()
            if status.state is state and (state is not LinkState.BOUND or all(
                    b.state is LinkState.BOUND for b in status.binds)):
                return status
            await asyncio.sleep(0.02)
        return self.parley.carriers[self.id].status()


async def free_number(parley: Parley) -> str:
    while True:
        number = random_customer()
        if await parley.numbers.owner(number) is None:
            return number


async def connect(parley: Parley, org: Tenant, smsc: Smsc, *, password: str = PASSWORD,
                  register: bool = True, **settings: Any) -> Link:
    number = await free_number(parley)
    view = await parley.carrier_admin.create(
        org.principal(), name=f"SMSC {smsc.port}", kind="smpp",
        settings=smsc.settings(**settings), secrets={"password": password},
        numbers=[{"phoneNumber": number, "phoneNumberType": "local"}])
    link = Link(parley, org, smsc, view.connection.id, number)
    if register:
        await parley.numbers.provision(org.principal(), phone_number=number,
                                       phone_number_type="local", country_code="US",
                                       integration_id=link.id)
    return link


@pytest.fixture
async def smpp(parley: Parley, org: Tenant, smsc: Smsc) -> AsyncIterator[Link]:
    link = await connect(parley, org, smsc)
    status = await link.wait_for(LinkState.BOUND)
    assert status.state is LinkState.BOUND, status
    try:
        yield link
    finally:
        await disable(link)


async def disable(link: Link) -> None:
    await link.parley.carrier_admin.change(link.org.principal(), link.id,
                                           changes={"enabled": False})


async def send(link: Link, text: str, to: str | None = None) -> Message:
    """A text from the link's number, as the API's agentless send makes it."""
    return await link.parley.conversations.send_agentless(
        link.org.principal(), from_address=link.number, to_address=to or random_customer(),
        messenger_type="sms", text=text)
