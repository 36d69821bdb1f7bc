"""Conversation use cases on the real store: who may start, join, send, see and leave."""

from __future__ import annotations

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.access import Principal
from parley.domain.conversations import Conversation, Participant, Purpose, State, Wrapup
from parley.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.orgs import Tenant, make_org, random_customer


async def agent(parley: Parley, org: Tenant, index: int = 0) -> Principal:
    return await parley.auth.authenticate(org.agents[index].token)


def agent_party(conv: Conversation, user_id: str) -> Participant:
    [party] = [p for p in conv.participants
               if p.purpose is Purpose.AGENT and p.user_id == user_id]
    return party


async def start(parley: Parley, org: Tenant, who: Principal, customer: str | None = None,
                *, use_existing: bool = False) -> Conversation:
    return await parley.conversations.start_outbound(
        who, queue_id=org.queue_id, to_address=customer or random_customer(),
        messenger_type="sms", use_existing=use_existing)


async def test_start_outbound_is_stored_with_the_agent_on_the_queue(
        parley: Parley, org: Tenant) -> None:
    ada = await agent(parley, org)
    customer = random_customer()
    conv = await start(parley, org, ada, customer)
    view = await parley.conversations.view(ada, conv.id)
    stored = view.conversation
    assert stored.id == conv.id
    assert (stored.customer_address, stored.org_address) == (customer, org.number)
    party = agent_party(stored, org.agents[0].id)
    assert party.queue_id == org.queue_id
    assert party.state is State.CONNECTED
    assert view.queue_names == {org.queue_id: "Support"}
    assert view.user_names[org.agents[0].id] == org.agents[0].user.name
    assert conv.id in [v.conversation.id for v in await parley.conversations.active(ada)]


@pytest.mark.parametrize(("queue_id", "to_address", "messenger_type", "field"), [
    pytest.param("", "+13125550100", "sms", "queueId", id="no-queue"),
    pytest.param("QUEUE", "3125550100", "sms", "toAddress", id="national-number"),
    pytest.param("QUEUE", "+13125550100", "whatsapp", "toAddressMessengerType",
                 id="unsupported-messenger"),
    pytest.param("QUEUE", "+13125550100", "carrier-pigeon", "toAddressMessengerType",
                 id="unknown-messenger"),
])
async def test_start_outbound_refuses_bad_input(parley: Parley, org: Tenant, queue_id: str,
                                                to_address: str, messenger_type: str,
                                                field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await parley.conversations.start_outbound(
            await agent(parley, org), queue_id=queue_id.replace("QUEUE", org.queue_id),
            to_address=to_address, messenger_type=messenger_type)
    assert caught.value.field == field


async def test_start_outbound_on_an_unknown_queue(parley: Parley, org: Tenant) -> None:
    with pytest.raises(NotFound):
        await parley.conversations.start_outbound(
            await agent(parley, org), queue_id="00000000-0000-0000-0000-000000000000",
            to_address=random_customer(), messenger_type="sms")


async def test_an_agent_outside_the_queue_may_not_start(parley: Parley, org: Tenant) -> None:
    await parley.queues.change_members(org.principal(), org.queue_id, [org.agents[1].id],
                                       remove=True)
    with pytest.raises(Forbidden) as caught:
        await start(parley, org, await agent(parley, org, 1))
    assert "not a member of queue 'Support'" in caught.value.message


async def test_a_client_credentials_token_may_not_start(parley: Parley, org: Tenant) -> None:
    script = await parley.auth.authenticate(org.admin_token)
    assert script.user_id is None
    with pytest.raises(Forbidden) as caught:
        await start(parley, org, script)
    assert "needs a user" in caught.value.message


async def test_an_active_conversation_is_continued_only_when_asked(
        parley: Parley, org: Tenant) -> None:
    ada, bob = await agent(parley, org, 0), await agent(parley, org, 1)
    customer = random_customer()
    first = await start(parley, org, ada, customer)

    with pytest.raises(Conflict) as caught:
        await start(parley, org, ada, customer)
    assert "useExistingConversation" in caught.value.message
    again = await start(parley, org, ada, customer, use_existing=True)
    assert again.id == first.id
    assert len(again.agents()) == 1

    with pytest.raises(Conflict) as caught:
        await start(parley, org, bob, customer, use_existing=True)
    assert "handled by another agent" in caught.value.message


async def test_a_new_conversation_starts_once_the_last_one_ended(
        parley: Parley, org: Tenant) -> None:
    ada, bob = await agent(parley, org, 0), await agent(parley, org, 1)
    customer = random_customer()
    first = await start(parley, org, ada, customer)
    await parley.conversations.update_participant(
        ada, first.id, agent_party(first, org.agents[0].id).id, state="disconnected",
        wrapup=None)
    second = await start(parley, org, bob, customer, use_existing=True)
    assert second.id != first.id
    assert second.is_active
    assert agent_party(second, org.agents[1].id).state is State.CONNECTED


async def test_sending_only_on_your_own_communication(parley: Parley, org: Tenant) -> None:
    ada, bob = await agent(parley, org, 0), await agent(parley, org, 1)
    conv = await start(parley, org, ada)
    communication_id = agent_party(conv, org.agents[0].id).communication_id
    with pytest.raises(Forbidden):
        await parley.conversations.send(bob, conv.id, communication_id, "not mine")
    with pytest.raises(NotFound):
        await parley.conversations.send(ada, conv.id, "no-such-communication", "hello")


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("x" * 766, id="too-long"),
    pytest.param(None, id="missing"),
])
async def test_send_refuses_bad_text(parley: Parley, org: Tenant, text: str | None) -> None:
    ada = await agent(parley, org)
    conv = await start(parley, org, ada)
    communication_id = agent_party(conv, org.agents[0].id).communication_id
    with pytest.raises(InvalidInput) as caught:
        await parley.conversations.send(ada, conv.id, communication_id, text)
    assert caught.value.field == "textBody"
    view = await parley.conversations.view(ada, conv.id)
    assert view.messages == [], "nothing was stored"


async def test_leaving_ends_the_conversation_and_sending_on_it(
        parley: Parley, org: Tenant) -> None:
    ada = await agent(parley, org)
    conv = await start(parley, org, ada)
    party = agent_party(conv, org.agents[0].id)
    code = await parley.wrapup.create(org.principal(), name=f"Done {conv.id[:6]}",
                                      description=None)
    await parley.conversations.update_participant(
        ada, conv.id, party.id, state="disconnected",
        wrapup=Wrapup(code=code.id, notes="all sorted"))

    stored = (await parley.conversations.view(ada, conv.id)).conversation
    assert stored.state is State.DISCONNECTED
    assert all(p.state is State.DISCONNECTED for p in stored.participants)
    left = agent_party(stored, org.agents[0].id)
    assert left.wrapup is not None
    assert (left.wrapup.code, left.wrapup.name, left.wrapup.notes) == (
        code.id, code.name, "all sorted")
    assert left.wrapup.end_ms == left.end_ms

    with pytest.raises(Conflict) as caught:
        await parley.conversations.send(ada, conv.id, party.communication_id, "still there?")
    assert "is disconnected" in caught.value.message
    with pytest.raises(Conflict):
        await parley.conversations.update_participant(ada, conv.id, party.id,
                                                      state="disconnected", wrapup=None)
    assert conv.id not in [v.conversation.id for v in await parley.conversations.active(ada)]


async def test_the_customer_cannot_be_disconnected(parley: Parley, org: Tenant) -> None:
    ada = await agent(parley, org)
    conv = await start(parley, org, ada)
    [customer] = [p for p in conv.participants if p.purpose is Purpose.CUSTOMER]
    with pytest.raises(Forbidden):
        await parley.conversations.update_participant(ada, conv.id, customer.id,
                                                      state="disconnected", wrapup=None)
    with pytest.raises(InvalidInput):
        await parley.conversations.update_participant(org.principal(), conv.id, customer.id,
                                                      state="disconnected", wrapup=None)
    assert (await parley.conversations.view(ada, conv.id)).conversation.is_active


async def test_agents_see_only_their_own_conversations(parley: Parley, org: Tenant) -> None:
    ada, bob = await agent(parley, org, 0), await agent(parley, org, 1)
    conv = await start(parley, org, ada)
    with pytest.raises(Forbidden):
        await parley.conversations.view(bob, conv.id)
    assert conv.id not in [v.conversation.id for v in await parley.conversations.active(bob)]
    admin_view = await parley.conversations.view(org.principal(), conv.id)
    assert admin_view.conversation.id == conv.id


async def test_nothing_crosses_organisations(parley: Parley, org: Tenant,
                                             http: httpx.AsyncClient) -> None:
    other = await make_org(parley, http, agents=1)
    ada = await agent(parley, org)
    conv = await start(parley, org, ada)
    communication_id = agent_party(conv, org.agents[0].id).communication_id
    stranger = await agent(parley, other)

    with pytest.raises(NotFound):
        await parley.conversations.view(stranger, conv.id)
    with pytest.raises(NotFound):
        await parley.conversations.view(other.principal(), conv.id)
    with pytest.raises(NotFound):
        await parley.conversations.send(stranger, conv.id, communication_id, "hi")
    with pytest.raises(NotFound):
        await parley.conversations.start_outbound(
            stranger, queue_id=org.queue_id, to_address=random_customer(),
            messenger_type="sms")
    with pytest.raises(InvalidInput) as caught:
        await parley.conversations.send_agentless(
            other.principal(), from_address=org.number, to_address=random_customer(),
            messenger_type="sms", text="spoofed")
    assert caught.value.field == "fromAddress"


async def test_agents_may_not_send_agentless(parley: Parley, org: Tenant) -> None:
    with pytest.raises(Forbidden):
        await parley.conversations.send_agentless(
            await agent(parley, org), from_address=org.number, to_address=random_customer(),
            messenger_type="sms", text="hello")


async def test_agentless_sends_reuse_an_active_conversation_when_asked(
        parley: Parley, org: Tenant) -> None:
    ada = await agent(parley, org)
    customer = random_customer()
    conv = await start(parley, org, ada, customer)
    message = await parley.conversations.send_agentless(
        org.principal(), from_address=org.number, to_address=customer, messenger_type="sms",
        text="Reminder", use_existing_active=True)
    assert message.conversation_id == conv.id
    standalone = await parley.conversations.send_agentless(
        org.principal(), from_address=org.number, to_address=customer, messenger_type="sms",
        text="Separate")
    assert standalone.conversation_id != conv.id
    ended = (await parley.conversations.view(org.principal(), standalone.conversation_id))
    assert ended.conversation.state is State.DISCONNECTED
    view = await parley.conversations.view(ada, conv.id)
    assert [m.text for m in view.messages] == ["Reminder"]
    api = [p for p in view.conversation.participants if p.purpose is Purpose.API]
    assert [p.client_id for p in api] == [org.script_client_id]
