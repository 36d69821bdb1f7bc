"""Outbound conversations: who takes part, who may send, and how they end."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from parley.domain.access import Principal, Role
from parley.domain.conversations import (
    Communication,
    Conversation,
    Participant,
    Purpose,
    State,
    Wrapup,
    start_inbound,
    start_outbound,
)
from parley.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from parley.domain.messages import Direction, MessageStatus
from parley.domain.sms_text import analyse

ORG = "org-1"
NUMBER = "+13125550100"
CUSTOMER = "+13125550199"
AGENT = "user-agent-1"
QUEUE = "queue-1"
T0 = 1_700_000_000_000


def agent_conversation() -> Conversation:
    return start_outbound(org_id=ORG, org_address=NUMBER, customer_address=CUSTOMER, now_ms=T0,
                          agent_user_id=AGENT, agent_name="Ada", queue_id=QUEUE)


def api_conversation() -> Conversation:
    return start_outbound(org_id=ORG, org_address=NUMBER, customer_address=CUSTOMER, now_ms=T0,
                          client_id="client-1")


def by_purpose(conv: Conversation, purpose: Purpose) -> Participant:
    [p] = [p for p in conv.participants if p.purpose is purpose]
    return p


def add_second_agent(conv: Conversation, user_id: str = "user-agent-2") -> Participant:
    p = Participant(id="p-agent-2", conversation_id=conv.id, purpose=Purpose.AGENT,
                    state=State.CONNECTED, communication_id="c-agent-2", direction="outbound",
                    start_ms=T0 + 5, address=NUMBER, from_address=NUMBER, to_address=CUSTOMER,
                    user_id=user_id, queue_id=QUEUE)
    conv.participants.append(p)
    return p


# -- starting -----------------------------------------------------------------------------


def test_start_outbound_for_an_agent_has_customer_and_agent() -> None:
    conv = agent_conversation()
    assert conv.org_id == ORG
    assert conv.state is State.CONNECTED and conv.is_active
    assert conv.originating_direction == "outbound"
    assert (conv.customer_address, conv.org_address) == (CUSTOMER, NUMBER)
    assert [p.purpose for p in conv.participants] == [Purpose.CUSTOMER, Purpose.AGENT]

    customer = by_purpose(conv, Purpose.CUSTOMER)
    assert customer.address == CUSTOMER
    assert customer.name == CUSTOMER
    assert customer.user_id is None

    agent = by_purpose(conv, Purpose.AGENT)
    assert (agent.user_id, agent.queue_id, agent.name) == (AGENT, QUEUE, "Ada")
    assert agent.address == NUMBER
    assert agent.client_id is None

    for p in conv.participants:
        assert p.conversation_id == conv.id
        assert p.state is State.CONNECTED
        assert (p.start_ms, p.connected_ms) == (T0, T0)
        assert (p.from_address, p.to_address) == (NUMBER, CUSTOMER)
        assert p.direction == "outbound"
    ids = {p.id for p in conv.participants} | {p.communication_id for p in conv.participants}
    assert len(ids) == 4, "participant and communication ids are all distinct"
    assert conv.active_agent(AGENT) is agent
    assert conv.involves_user(AGENT)
    assert not conv.involves_user("someone-else")


def test_start_outbound_without_agent_has_customer_and_api_party() -> None:
    conv = api_conversation()
    assert [p.purpose for p in conv.participants] == [Purpose.CUSTOMER, Purpose.API]
    api = by_purpose(conv, Purpose.API)
    assert api.client_id == "client-1"
    assert api.user_id is None
    assert api.queue_id is None
    assert conv.agents() == []


def test_each_conversation_gets_new_ids() -> None:
    a, b = agent_conversation(), agent_conversation()
    assert a.id != b.id
    assert {p.id for p in a.participants}.isdisjoint(p.id for p in b.participants)


# -- composing a message on a communication -------------------------------------------------


def communication_of(conv: Conversation, p: Participant) -> Communication:
    return Communication(
        org_id=conv.org_id, conversation_id=conv.id, conversation_active=conv.is_active,
        participant_id=p.id, communication_id=p.communication_id, purpose=p.purpose,
        participant_state=p.state, user_id=p.user_id, from_address=p.from_address,
        to_address=p.to_address)


def test_compose_on_own_connected_communication() -> None:
    conv = agent_conversation()
    comm = communication_of(conv, by_purpose(conv, Purpose.AGENT))
    text = "Hello [from] Parley €"
    message = comm.compose(sender_user_id=AGENT, text=text, info=analyse(text), now_ms=T0 + 10,
                           carrier="sim")
    assert message.status is MessageStatus.QUEUED
    assert message.direction is Direction.OUTBOUND
    assert (message.from_address, message.to_address) == (NUMBER, CUSTOMER)
    assert message.conversation_id == conv.id
    assert message.participant_id == by_purpose(conv, Purpose.AGENT).id
    assert message.user_id == AGENT
    assert message.org_id == ORG
    assert (message.encoding, message.segment_count) == ("GSM-7", 1)
    assert message.created_ms == message.status_ms == T0 + 10
    assert message.carrier == "sim"
    assert message.text == text


@pytest.mark.parametrize(("change", "sender", "error", "says"), [
    pytest.param({}, "user-intruder", Forbidden, "belongs to another participant",
                 id="another-user"),
    pytest.param({"conversation_active": False}, "user-intruder", Forbidden,
                 "belongs to another participant", id="another-user-on-ended-conversation"),
    pytest.param({"conversation_active": False}, AGENT, Conflict, "is disconnected",
                 id="conversation-disconnected"),
    pytest.param({"participant_state": State.ALERTING}, AGENT, Conflict,
                 "is alerting, not connected", id="participant-alerting"),
    pytest.param({"participant_state": State.DISCONNECTED}, AGENT, Conflict,
                 "is disconnected, not connected", id="participant-disconnected"),
])
def test_compose_refusals(change: dict[str, Any], sender: str, error: type[DomainError],
                          says: str) -> None:
    conv = agent_conversation()
    comm = replace(communication_of(conv, by_purpose(conv, Purpose.AGENT)), **change)
    with pytest.raises(error) as caught:
        comm.compose(sender_user_id=sender, text="hi", info=analyse("hi"), now_ms=T0,
                     carrier="sim")
    assert type(caught.value) is error
    assert says in caught.value.message


def test_compose_on_the_customer_communication_is_forbidden() -> None:
    conv = agent_conversation()
    comm = communication_of(conv, by_purpose(conv, Purpose.CUSTOMER))
    with pytest.raises(Forbidden):
        comm.compose(sender_user_id=AGENT, text="hi", info=analyse("hi"), now_ms=T0,
                     carrier="sim")


# -- disconnecting ------------------------------------------------------------------------


def test_agent_leaving_ends_the_conversation_for_all() -> None:
    conv = agent_conversation()
    agent = by_purpose(conv, Purpose.AGENT)
    customer = by_purpose(conv, Purpose.CUSTOMER)
    returned = conv.disconnect(agent.id, T0 + 60_000)
    assert returned is agent
    assert conv.state is State.DISCONNECTED and not conv.is_active
    assert conv.end_ms == T0 + 60_000
    assert agent.state is State.DISCONNECTED
    assert (agent.end_ms, agent.disconnect_type) == (T0 + 60_000, "client")
    assert customer.state is State.DISCONNECTED
    assert (customer.end_ms, customer.disconnect_type) == (T0 + 60_000, "peer")
    assert conv.active_agent(AGENT) is None


def test_api_party_leaving_ends_the_conversation() -> None:
    conv = api_conversation()
    conv.disconnect(by_purpose(conv, Purpose.API).id, T0 + 1)
    assert conv.state is State.DISCONNECTED
    assert all(p.state is State.DISCONNECTED for p in conv.participants)


def test_one_of_two_agents_leaving_keeps_the_conversation() -> None:
    conv = agent_conversation()
    first = conv.participants[1]
    second = add_second_agent(conv)
    conv.disconnect(first.id, T0 + 100)
    assert first.state is State.DISCONNECTED
    assert conv.is_active
    assert conv.end_ms is None
    assert by_purpose(conv, Purpose.CUSTOMER).state is State.CONNECTED
    assert second.is_active
    conv.disconnect(second.id, T0 + 200)
    assert conv.state is State.DISCONNECTED
    assert conv.end_ms == T0 + 200


def test_disconnecting_the_customer_is_refused() -> None:
    conv = agent_conversation()
    customer = by_purpose(conv, Purpose.CUSTOMER)
    with pytest.raises(InvalidInput) as caught:
        conv.disconnect(customer.id, T0 + 1)
    assert "customer participant cannot be disconnected" in caught.value.message
    assert conv.is_active
    assert all(p.state is State.CONNECTED for p in conv.participants)


def test_double_disconnect_is_a_conflict() -> None:
    conv = agent_conversation()
    agent = by_purpose(conv, Purpose.AGENT)
    conv.disconnect(agent.id, T0 + 1)
    with pytest.raises(Conflict) as caught:
        conv.disconnect(agent.id, T0 + 2)
    assert "already disconnected" in caught.value.message
    assert agent.end_ms == T0 + 1


def test_disconnecting_an_unknown_participant_is_not_found() -> None:
    conv = agent_conversation()
    with pytest.raises(NotFound):
        conv.disconnect("no-such-participant", T0 + 1)


def test_wrapup_is_stored_with_the_end_time() -> None:
    conv = agent_conversation()
    agent = by_purpose(conv, Purpose.AGENT)
    wrapup = Wrapup(code="resolved", name="Resolved", notes="sorted", tags=["billing"])
    conv.disconnect(agent.id, T0 + 90_000, wrapup=wrapup)
    assert agent.wrapup is wrapup
    assert wrapup.end_ms == T0 + 90_000
    assert (wrapup.code, wrapup.notes, wrapup.tags) == ("resolved", "sorted", ["billing"])


def test_wrapup_keeps_an_end_time_it_already_has() -> None:
    conv = agent_conversation()
    agent = by_purpose(conv, Purpose.AGENT)
    conv.disconnect(agent.id, T0 + 90_000, wrapup=Wrapup(code="x", end_ms=T0 + 95_000))
    assert agent.wrapup is not None
    assert agent.wrapup.end_ms == T0 + 95_000


def test_end_disconnects_everyone_still_on() -> None:
    conv = agent_conversation()
    second = add_second_agent(conv)
    conv.disconnect(second.id, T0 + 10)
    conv.end(T0 + 20)
    assert conv.state is State.DISCONNECTED
    assert second.end_ms == T0 + 10, "an already disconnected party keeps its own end time"
    assert [p.end_ms for p in conv.participants[:2]] == [T0 + 20, T0 + 20]


# -- joining an existing conversation --------------------------------------------------------


def inbound_conversation() -> Conversation:
    return start_inbound(org_id=ORG, org_address=NUMBER, customer_address=CUSTOMER, now_ms=T0)


def test_an_agent_joins_an_open_conversation_as_its_outbound_sender() -> None:
    conv = inbound_conversation()
    p = conv.join_agent(AGENT, QUEUE, "Ada", T0 + 7)
    assert conv.participants[-1] is p
    assert (p.purpose, p.state, p.direction) == (Purpose.AGENT, State.CONNECTED, "outbound")
    assert (p.user_id, p.queue_id, p.name) == (AGENT, QUEUE, "Ada")
    assert (p.start_ms, p.connected_ms, p.end_ms) == (T0 + 7, T0 + 7, None)
    assert (p.address, p.from_address, p.to_address) == (NUMBER, NUMBER, CUSTOMER)
    assert p.conversation_id == conv.id and p.communication_id
    assert conv.active_agent(AGENT) is p


def test_an_agent_cannot_join_a_conversation_another_agent_has() -> None:
    conv = agent_conversation()
    before = list(conv.participants)
    with pytest.raises(Conflict, match="another agent"):
        conv.join_agent("user-agent-2", QUEUE, "Bo", T0 + 7)
    assert conv.participants == before


def test_an_agent_joins_once_the_last_agent_left() -> None:
    conv = inbound_conversation()
    first = conv.join_agent(AGENT, QUEUE, "Ada", T0 + 1)
    conv.leave_agents(T0 + 2)
    second = conv.join_agent("user-agent-2", QUEUE, None, T0 + 3)
    assert conv.agents() == [first, second]
    assert not first.is_active and second.is_active


def test_an_api_client_gets_one_disconnected_participant_on_a_conversation() -> None:
    conv = agent_conversation()
    assert conv.api_participant("client-1") is None
    p = conv.add_api_participant("client-1", T0 + 3)
    assert conv.participants[-1] is p and conv.api_participant("client-1") is p
    assert (p.purpose, p.state, p.direction, p.client_id) == (
        Purpose.API, State.DISCONNECTED, "outbound", "client-1")
    assert (p.start_ms, p.connected_ms, p.end_ms) == (T0 + 3, None, T0 + 3)
    assert (p.address, p.from_address, p.to_address) == (NUMBER, NUMBER, CUSTOMER)
    assert conv.is_active and by_purpose(conv, Purpose.AGENT).is_active  # nobody else moved
    assert conv.api_participant("client-2") is None


def test_an_agentless_conversation_has_its_clients_participant() -> None:
    conv = api_conversation()
    assert conv.api_participant("client-1") is by_purpose(conv, Purpose.API)


# -- who sees a conversation -----------------------------------------------------------------


def principal(role: Role, user_id: str | None) -> Principal:
    return Principal(org_id=ORG, role=role, client_id="client-1", user_id=user_id,
                     token_id="token-1", expires_at_ms=2**62)


@pytest.mark.parametrize(("role", "user_id"), [
    (Role.AGENT, AGENT), (Role.SUPERVISOR, "someone"), (Role.ADMIN, None)])
def test_a_conversation_is_visible_to_its_agents_and_supervisors(role: Role,
                                                                 user_id: str | None) -> None:
    agent_conversation().check_visible(principal(role, user_id))


@pytest.mark.parametrize("user_id", ["user-agent-2", None])
def test_a_conversation_is_not_visible_to_other_agents(user_id: str | None) -> None:
    with pytest.raises(Forbidden):
        agent_conversation().check_visible(principal(Role.AGENT, user_id))
