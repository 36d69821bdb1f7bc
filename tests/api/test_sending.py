"""Sending on an agent's communication: the hot msgspec endpoint, its bad inputs and statuses.

POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import (
    ISO_MS,
    MESSAGES,
    assert_error,
    assert_nul_refused_or,
    conversation,
    customer_for,
    disconnect,
    ok,
    party,
    phone_messages,
    poll_status,
    send_path,
    started,
)
from tests.orgs import Tenant, make_org

JSON_HEADERS = {"Content-Type": "application/json"}


async def send(http: httpx.AsyncClient, org: Tenant, text: str,
               agent_index: int = 0) -> tuple[str, dict[str, Any]]:
    """Start a conversation and send `text` on it: (conversation id, MessageData)."""
    conv_id, _, comm_id, _ = await started(http, org, agent_index)
    data = ok(await http.post(send_path(conv_id, comm_id),
                              headers=org.agents[agent_index].headers,
                              json={"textBody": text}))
    return conv_id, data


async def segment_count(http: httpx.AsyncClient, org: Tenant, conv_id: str,
                        message_id: str) -> int:
    """messageSegmentCount of the message, as GET /api/v2/conversations/{id} shows it."""
    conv = await conversation(http, org.agents[0].headers, conv_id)
    counts: set[int] = {d["messageSegmentCount"] for p in conv["participants"]
                        for c in p["messages"] for d in c["messages"]
                        if d["messageId"] == message_id}
    assert len(counts) == 1, conv
    return counts.pop()


async def test_send_returns_message_data(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, _, comm_id, customer = await started(http, org)
    data = ok(await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                              json={"textBody": "Your order has shipped."}))
    assert data["id"]
    assert data["conversationId"] == conv_id
    assert data["toAddress"] == customer
    assert data["fromAddress"] == org.number
    assert data["status"] == "queued"
    assert data["direction"] == "outbound"
    assert data["messengerType"] == "sms"
    assert data["normalizedMessage"]["text"] == "Your order has shipped."
    assert data["normalizedMessage"]["type"] == "Text"
    assert data["normalizedMessage"]["direction"] == "Outbound"
    assert ISO_MS.match(data["timestamp"]), data["timestamp"]
    assert data["createdBy"]["id"] == agent.id
    assert data["selfUri"] == f"{MESSAGES}/{conv_id}/messages/{data['id']}"
    assert "providerMessageId" not in data


async def test_sent_message_reaches_delivery_success_and_the_phone(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, _, comm_id, customer = await started(http, org)
    data = ok(await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                              json={"textBody": "Delivered?"}))
    stored = await poll_status(http, agent.headers, conv_id, data["id"], "delivery-success")
    assert stored["id"] == data["id"]
    assert stored["timestamp"] == data["timestamp"]
    assert stored["normalizedMessage"]["text"] == "Delivered?"
    assert stored["providerMessageId"]

    phone = await phone_messages(http, agent.headers, customer, 1)
    assert [(m["fromAddress"], m["toAddress"], m["text"], m["direction"]) for m in phone] == [
        (org.number, customer, "Delivered?", "received")]
    assert phone[0]["id"] == stored["providerMessageId"]
    assert phone[0]["segmentCount"] == 1

    conv = await conversation(http, agent.headers, conv_id)
    details = party(conv, "agent")["messages"][0]["messages"]
    assert [(d["messageId"], d["messageStatus"], d["messageSegmentCount"]) for d in details] == [
        (data["id"], "delivery-success", 1)]
    assert ISO_MS.match(details[0]["messageTime"])
    assert [d["messageId"] for d in party(conv, "customer")["messages"][0]["messages"]] == [
        data["id"]]


async def test_several_messages_keep_their_order(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, _, comm_id, customer = await started(http, org)
    ids = [ok(await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                              json={"textBody": f"part {i}"}))["id"] for i in range(3)]
    phone = await phone_messages(http, agent.headers, customer, 3)
    assert sorted(m["text"] for m in phone) == ["part 0", "part 1", "part 2"]
    conv = await conversation(http, agent.headers, conv_id)
    assert sorted(d["messageId"] for d in party(conv, "agent")["messages"][0]["messages"]) \
        == sorted(ids)


@pytest.mark.parametrize(("body", "fragment"), [
    ({"textBody": ""}, "textBody is required and must not be empty"),
    ({"textBody": "   \n\t "}, "textBody is required and must not be empty"),
    ({}, "textBody is required and must not be empty"),
    ({"textBody": None}, "textBody is required and must not be empty"),
    ({"textBody": "x" * 766}, "textBody has 766 characters; an SMS send allows at most 765"),
    ({"textBody": "😀" * 766}, "textBody has 766 characters"),
    ({"textBody": "hi\x00there"}, "textBody contains a NUL character"),
])
async def test_bad_text_body_is_refused(http: httpx.AsyncClient, org: Tenant,
                                        body: dict[str, Any], fragment: str) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=org.agents[0].headers,
                           json=body)
    error = assert_error(resp, 400, fragment)
    assert error["details"][0]["fieldName"] == "textBody"
    conv = await conversation(http, org.agents[0].headers, conv_id)
    assert party(conv, "agent")["messages"][0]["messages"] == []


@pytest.mark.parametrize(("text", "segments"), [
    ("x" * 160, 1),
    ("x" * 161, 2),
    ("x" * 765, 5),
    ("€" * 80, 1),  # GSM-7 extension characters take two septets each
    ("€" * 81, 2),
    ("ж" * 70, 1),  # UCS-2: 70 units fit one SMS
    ("ж" * 71, 2),
    ("ж" * 765, 12),
    ("Thanks! 😀", 1),
    ("😀" * 35, 1),  # a surrogate pair is two UTF-16 units
    ("😀" * 36, 2),  # 67-unit parts: 33 emoji each, a pair never split
    ("😀" * 67, 3),
])
async def test_segment_count_is_visible_on_the_conversation(
        http: httpx.AsyncClient, org: Tenant, text: str, segments: int) -> None:
    conv_id, data = await send(http, org, text)
    assert data["normalizedMessage"]["text"] == text
    assert await segment_count(http, org, conv_id, data["id"]) == segments


async def test_765_characters_reach_the_phone_as_five_segments(
        http: httpx.AsyncClient, org: Tenant) -> None:
    text = ("0123456789" * 77)[:765]
    _, data = await send(http, org, text)
    phone = await phone_messages(http, org.agents[0].headers, data["toAddress"], 1)
    assert phone[-1]["text"] == text
    assert phone[-1]["segmentCount"] == 5


async def test_media_ids_are_refused(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=org.agents[0].headers,
                           json={"textBody": "see attached", "mediaIds": [str(uuid.uuid4())]})
    error = assert_error(resp, 400, "mediaIds", "not supported")
    assert error["details"][0]["fieldName"] == "mediaIds"


@pytest.mark.parametrize(("content", "fragments"), [
    (b'{"textBody": "hi"', ("not valid JSON",)),
    (b"textBody=hi", ("not valid JSON",)),
    (b"", ("request body is required",)),
    (b"   ", ("request body is required",)),
    (b'["hi"]', ("invalid request body", "object", "array")),
    (b'"hi"', ("invalid request body", "object")),
    (b"null", ("invalid request body", "object")),
    (b'{"textBody": 5}', ("invalid request body", "textBody", "str")),
    (b'{"textBody": ["hi"]}', ("invalid request body", "textBody")),
    (b'{"textBody": "hi", "mediaIds": "abc"}', ("invalid request body", "mediaIds")),
    (b'{"textBody": "hi", "messagingTemplate": 3}',
     ("invalid request body", "messagingTemplate")),
    (b'{"textBody": "lone \\ud800 surrogate"}', ("not valid JSON",)),
    (b'{"textBody": "\xff\xfe"}', ("not valid JSON",)),
])
async def test_malformed_send_body_is_a_400(http: httpx.AsyncClient, org: Tenant,
                                            content: bytes, fragments: tuple[str, ...]) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), content=content,
                           headers={**org.agents[0].headers, **JSON_HEADERS})
    assert_error(resp, 400, *fragments)


async def test_oversized_body_is_refused(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=org.agents[0].headers,
                           json={"textBody": "hi", "padding": "x" * 70_000})
    assert_error(resp, 400, "request body has", "bytes")


async def test_unknown_fields_are_ignored(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    data = ok(await http.post(send_path(conv_id, comm_id), headers=org.agents[0].headers,
                              json={"textBody": "hi", "stickerIds": ["x"], "extra": {"a": 1}}))
    assert data["normalizedMessage"]["text"] == "hi"


async def test_unknown_conversation_or_communication_is_not_found(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, participant_id, comm_id, _ = await started(http, org)
    missing = str(uuid.uuid4())
    headers = org.agents[0].headers
    for conv, comm in ((missing, comm_id), (conv_id, missing), (conv_id, participant_id)):
        resp = await http.post(send_path(conv, comm), headers=headers, json={"textBody": "hi"})
        assert_error(resp, 404, f"communication {comm} not found on conversation {conv}")


async def test_nul_in_a_path_parameter_is_never_a_500(
        http: httpx.AsyncClient, org: Tenant, database_url: str) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    for conv, comm in ((conv_id, "a%00b"), ("a%00b", comm_id)):
        resp = await http.post(send_path(conv, comm), headers=org.agents[0].headers,
                               json={"textBody": "hi"})
        assert_nul_refused_or(resp, database_url, 404, "communication", "not found")


async def test_another_agent_may_not_send_on_my_communication(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=org.agents[1].headers,
                           json={"textBody": "not mine"})
    assert_error(resp, 403, f"communication {comm_id} belongs to another participant")
    conv = await conversation(http, org.agents[0].headers, conv_id)
    assert party(conv, "agent")["messages"][0]["messages"] == []


async def test_agent_may_not_send_on_the_customer_communication(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    them = party(await conversation(http, org.agents[0].headers, conv_id), "customer")
    resp = await http.post(send_path(conv_id, them["messages"][0]["id"]),
                           headers=org.agents[0].headers, json={"textBody": "spoof"})
    assert_error(resp, 403, "belongs to another participant")


async def test_another_org_may_not_send_on_my_communication(
        http: httpx.AsyncClient, parley: Parley, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    other = await make_org(parley, http)
    for headers in (other.agents[0].headers, other.admin.headers):
        resp = await http.post(send_path(conv_id, comm_id), headers=headers,
                               json={"textBody": "cross-tenant"})
        assert_error(resp, 404, f"communication {comm_id} not found")


async def test_client_credentials_token_may_not_send_on_a_communication(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=org.admin_headers,
                           json={"textBody": "hi"})
    assert_error(resp, 403, "needs a user", "/api/v2/conversations/messages/agentless")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_send_needs_a_valid_token(http: httpx.AsyncClient, org: Tenant,
                                        headers: dict[str, str]) -> None:
    conv_id, _, comm_id, _ = await started(http, org)
    resp = await http.post(send_path(conv_id, comm_id), headers=headers,
                           json={"textBody": "hi"})
    assert_error(resp, 401, "token")


async def test_sending_after_disconnect_is_a_conflict(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, participant_id, comm_id, customer = await started(http, org)
    ok(await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                       json={"textBody": "before"}))
    assert (await disconnect(http, agent.headers, conv_id, participant_id)).status_code == 202
    resp = await http.post(send_path(conv_id, comm_id), headers=agent.headers,
                           json={"textBody": "after"})
    assert_error(resp, 409, f"conversation {conv_id} is disconnected")
    conv = await conversation(http, agent.headers, conv_id)
    assert len(party(conv, "agent")["messages"][0]["messages"]) == 1
    phone = await phone_messages(http, agent.headers, customer, 1)
    assert [m["text"] for m in phone] == ["before"]


async def test_get_unknown_message_is_not_found(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    missing = str(uuid.uuid4())
    resp = await http.get(f"{MESSAGES}/{conv_id}/messages/{missing}",
                          headers=org.agents[0].headers)
    assert_error(resp, 404, f"message {missing} not found in conversation {conv_id}")


async def test_get_message_of_another_conversation_is_not_found(
        http: httpx.AsyncClient, org: Tenant) -> None:
    _, data = await send(http, org, "in the first conversation")
    other, *_ = await started(http, org, 0, customer_for(org, data["toAddress"]))
    resp = await http.get(f"{MESSAGES}/{other}/messages/{data['id']}",
                          headers=org.agents[0].headers)
    assert_error(resp, 404, f"message {data['id']} not found in conversation {other}")


async def test_get_message_as_another_agent_is_forbidden(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    conv_id, data = await send(http, org, "private")
    resp = await http.get(f"{MESSAGES}/{conv_id}/messages/{data['id']}",
                          headers=org.agents[1].headers)
    assert_error(resp, 403, f"not a participant of conversation {conv_id}")
    seen = ok(await http.get(f"{MESSAGES}/{conv_id}/messages/{data['id']}",
                             headers=org.admin.headers))
    assert seen["id"] == data["id"]
