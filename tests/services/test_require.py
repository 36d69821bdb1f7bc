"""A repository's `require` answers what `get` finds, and NotFound (the API's 404) for what it
does not: with its own message naming the id, or the one the use case gives."""

from __future__ import annotations

import pytest

from parley.bootstrap import Parley
from parley.domain.errors import NotFound
from tests.orgs import Tenant


async def test_require_answers_what_get_finds(parley: Parley, org: Tenant) -> None:
    async with parley.uow(read_only=True) as uow:
        assert await uow.users.require(org.id, org.admin.id) == \
            await uow.users.get(org.id, org.admin.id)
        assert (await uow.queues.require(org.id, org.queue_id)).id == org.queue_id
        assert (await uow.numbers.require(org.id, org.number_id)).phone_number == org.number
        assert (await uow.orgs.require(org.id)).id == org.id
        client = await uow.clients.require(org.script_client_id, org_id=org.id)
        assert client.org_id == org.id


async def test_require_raises_not_found_naming_the_id(parley: Parley, org: Tenant) -> None:
    async with parley.uow(read_only=True) as uow:
        with pytest.raises(NotFound, match=r"^queue nope not found$"):
            await uow.queues.require(org.id, "nope")
        with pytest.raises(NotFound, match=r"^user nope not found$") as raised:
            await uow.users.require(org.id, "nope", entity="nope")
        assert raised.value.params == {"entity": "nope"}
        with pytest.raises(NotFound, match=r"^message recipient nope not found$"):
            await uow.numbers.require(org.id, "nope",
                                      message="message recipient nope not found")
        with pytest.raises(NotFound, match="conversation nope"):
            await uow.conversations.require(org.id, "nope")
        with pytest.raises(NotFound, match="flow nope"):
            await uow.flows.require(org.id, "nope")
        # Another organisation's things are as unknown as things that do not exist.
        with pytest.raises(NotFound):
            await uow.queues.require("another-org", org.queue_id)
        with pytest.raises(NotFound, match=f"OAuth client {org.script_client_id} not found"):
            await uow.clients.require(org.script_client_id, org_id="another-org")
