"""Agentless (notification) sends: POST /api/v2/conversations/messages/agentless."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import (
    ISO_MS,
    MESSAGES,
    assert_error,
    conversation,
    customer_for,
    ok,
    party,
    phone_messages,
    poll_status,
    send_path,
    started,
)
from tests.orgs import Tenant, make_org

AGENTLESS = MESSAGES + "/agentless"


def request(org: Tenant, customer: str, text: str = "Your code is 123456",
            **extra: Any) -> dict[str, Any]:
    return {"fromAddress": org.number, "toAddress": customer, "toAddressMessengerType": "sms",
            "textBody": text, **extra}


async def test_agentless_send_response(http: httpx.AsyncClient, org: Tenant) -> None:
    customer = customer_for(org)
    body = ok(await http.post(AGENTLESS, headers=org.admin_headers,
                              json=request(org, customer)))
    assert body["id"]
    assert body["conversationId"]
    assert body["fromAddress"] == org.number
    assert body["toAddress"] == customer
    assert body["messengerType"] == "sms"
    assert ISO_MS.match(body["timestamp"]), body["timestamp"]
    assert body["selfUri"] == f"{MESSAGES}/{body['conversationId']}/messages/{body['id']}"
    assert "user" not in body  # a client-credentials token has no user
    message = body["message"]
    assert message["id"] == body["id"]
    assert message["status"] == "queued"
    assert message["direction"] == "outbound"
    assert message["messengerType"] == "sms"
    assert message["conversationId"] == body["conversationId"]
    assert message["normalizedMessage"]["text"] == "Your code is 123456"
    assert message["timestamp"] == body["timestamp"]


async def test_agentless_message_reaches_the_phone(http: httpx.AsyncClient,
                                                   org: Tenant) -> None:
    customer = customer_for(org)
    body = ok(await http.post(AGENTLESS, headers=org.admin_headers,
                              json=request(org, customer, "Appointment tomorrow at 10:00")))
    phone = await phone_messages(http, org.admin_headers, customer, 1)
    assert [(m["fromAddress"], m["toAddress"], m["text"]) for m in phone] == [
        (org.number, customer, "Appointment tomorrow at 10:00")]
    stored = await poll_status(http, org.admin_headers, body["conversationId"], body["id"],
                               "delivery-success")
    assert stored["providerMessageId"] == phone[0]["id"]


async def test_agentless_conversation_is_ended_and_not_listed(http: httpx.AsyncClient,
                                                              org: Tenant) -> None:
    customer = customer_for(org)
    body = ok(await http.post(AGENTLESS, headers=org.admin_headers,
                              json=request(org, customer)))
    conv = await conversation(http, org.admin_headers, body["conversationId"])
    assert ISO_MS.match(conv["endTime"]), conv
    assert {p["purpose"] for p in conv["participants"]} == {"customer", "api"}
    listed = ok(await http.get(MESSAGES, headers=org.admin_headers))
    assert body["conversationId"] not in [c["id"] for c in listed["entities"]]


async def test_admin_user_may_send_agentless(http: httpx.AsyncClient, org: Tenant) -> None:
    body = ok(await http.post(AGENTLESS, headers=org.admin.headers,
                              json=request(org, customer_for(org))))
    assert body["user"]["id"] == org.admin.id
    assert body["message"]["createdBy"]["id"] == org.admin.id


async def test_agent_may_not_send_agentless(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(AGENTLESS, headers=org.agents[0].headers,
                           json=request(org, customer_for(org)))
    assert_error(resp, 403, "role 'agent' lacks the permission 'send-agentless'")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_agentless_needs_a_valid_token(http: httpx.AsyncClient, org: Tenant,
                                             headers: dict[str, str]) -> None:
    resp = await http.post(AGENTLESS, headers=headers, json=request(org, customer_for(org)))
    assert_error(resp, 401, "token")


async def test_from_address_not_of_this_org_is_refused(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    stranger = customer_for(org)
    resp = await http.post(AGENTLESS, headers=org.admin_headers,
                           json=request(org, customer_for(org, stranger), fromAddress=stranger))
    error = assert_error(resp, 400, f"fromAddress {stranger} is not an SMS number of this "
                         "organisation")
    assert error["details"][0]["fieldName"] == "fromAddress"


async def test_another_tenants_number_is_refused_without_leaking(
        http: httpx.AsyncClient, parley: Parley, org: Tenant) -> None:
    other = await make_org(parley, http)
    customer = customer_for(org, other.number)
    resp = await http.post(AGENTLESS, headers=org.admin_headers,
                           json=request(org, customer, fromAddress=other.number))
    theirs = assert_error(resp, 400, f"fromAddress {other.number} is not an SMS number of "
                          "this organisation")
    stranger = customer_for(org, other.number, customer)
    resp = await http.post(AGENTLESS, headers=org.admin_headers,
                           json=request(org, customer, fromAddress=stranger))
    unknown = assert_error(resp, 400)
    # Refused exactly as a number nobody owns: the answer does not say it exists elsewhere.
    assert theirs["message"].replace(other.number, "N") == \
        unknown["message"].replace(stranger, "N")
    assert theirs["code"] == unknown["code"]
    assert theirs["details"] == unknown["details"]
    assert other.id not in resp.text
    phone = ok(await http.get("/sim/v1/messages", params={"phone": customer},
                              headers=other.admin_headers))
    assert phone["entities"] == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("toAddress", "+1555", "toAddress '+1555' is not a valid phone number"),
    ("toAddress", "3125550123", "toAddress '3125550123' is not in E.164 form"),
    ("toAddress", None, "toAddress is required"),
    ("fromAddress", "+1555", "fromAddress '+1555' is not a valid phone number"),
    ("fromAddress", None, "fromAddress is required"),
    ("textBody", None, "textBody is required and must not be empty"),
    ("textBody", "  ", "textBody is required and must not be empty"),
    ("textBody", "\x00", "textBody contains a NUL character"),
    ("textBody", "y" * 766, "textBody has 766 characters; an SMS send allows at most 765"),
    ("toAddressMessengerType", "whatsapp",
     "toAddressMessengerType 'whatsapp' is not supported"),
    ("toAddressMessengerType", "webmessaging",
     "toAddressMessengerType 'webmessaging' is not supported"),
    ("toAddressMessengerType", "fax", "toAddressMessengerType must be 'sms'"),
    ("toAddressMessengerType", None, "toAddressMessengerType must be 'sms'"),
])
async def test_bad_agentless_field_is_refused(http: httpx.AsyncClient, org: Tenant,
                                              field: str, value: str | None,
                                              fragment: str) -> None:
    customer = customer_for(org)
    body = request(org, customer)
    if value is None:
        del body[field]
    else:
        body[field] = value
    resp = await http.post(AGENTLESS, headers=org.admin_headers, json=body)
    error = assert_error(resp, 400, fragment)
    assert error["details"][0]["fieldName"] == field
    phone = ok(await http.get("/sim/v1/messages", params={"phone": customer},
                              headers=org.admin_headers))
    assert phone["entities"] == []


@pytest.mark.parametrize(("content", "fragments"), [
    (b'{"fromAddress": ', ("not valid JSON",)),
    (b"", ("request body is required",)),
    (b"[]", ("invalid request body", "object", "array")),
    (b'{"textBody": 5}', ("invalid request body", "textBody")),
    (b'{"useExistingActiveConversation": "yes"}',
     ("invalid request body", "useExistingActiveConversation")),
    (b'{"toAddress": 13125550123}', ("invalid request body", "toAddress")),
])
async def test_malformed_agentless_body_is_a_400(http: httpx.AsyncClient, org: Tenant,
                                                 content: bytes,
                                                 fragments: tuple[str, ...]) -> None:
    resp = await http.post(AGENTLESS, content=content, headers={
        **org.admin_headers, "Content-Type": "application/json"})
    assert_error(resp, 400, *fragments)


async def test_use_existing_active_conversation_appends_to_the_agents_one(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, _, comm_id, customer = await started(http, org)
    first = ok(await http.post(AGENTLESS, headers=org.admin_headers, json=request(
        org, customer, "Reminder one", useExistingActiveConversation=True)))
    assert first["conversationId"] == conv_id
    assert first["useExistingActiveConversation"] is True
    second = ok(await http.post(AGENTLESS, headers=org.admin_headers, json=request(
        org, customer, "Reminder two", useExistingActiveConversation=True)))
    assert second["conversationId"] == conv_id

    conv = await conversation(http, agent.headers, conv_id)
    assert "endTime" not in conv
    api = party(conv, "api")  # one api participant for the client, however many sends
    assert sorted(d["messageId"] for d in api["messages"][0]["messages"]) == sorted(
        [first["id"], second["id"]])
    customer_ids = {d["messageId"] for d in party(conv, "customer")["messages"][0]["messages"]}
    assert {first["id"], second["id"]} <= customer_ids
    # The agent's conversation is still live: the agent can keep texting on it.
    assert party(conv, "agent")["messages"][0]["state"] == "connected"
    ok(await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                       json={"textBody": "Following up"}))
    phone = await phone_messages(http, agent.headers, customer, 3)
    assert sorted(m["text"] for m in phone) == ["Following up", "Reminder one", "Reminder two"]


async def test_without_use_existing_a_separate_conversation_is_made(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, _, customer = await started(http, org)
    body = ok(await http.post(AGENTLESS, headers=org.admin_headers,
                              json=request(org, customer)))
    assert body["conversationId"] != conv_id
    conv = await conversation(http, org.agents[0].headers, conv_id)
    assert all(not c["messages"] for p in conv["participants"] for c in p["messages"])


async def test_use_existing_without_an_active_one_starts_a_new_conversation(
        http: httpx.AsyncClient, org: Tenant) -> None:
    customer = customer_for(org)
    first = ok(await http.post(AGENTLESS, headers=org.admin_headers, json=request(
        org, customer, useExistingActiveConversation=True)))
    second = ok(await http.post(AGENTLESS, headers=org.admin_headers, json=request(
        org, customer, useExistingActiveConversation=True)))
    # An agentless conversation ends at once, so the second send cannot reuse it.
    assert second["conversationId"] != first["conversationId"]
