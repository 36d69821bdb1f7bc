"""Message conversations over HTTP: starting one, reading it, listing, leaving it.

Every error is checked for its Genesys ErrorBody and for a message that says what was wrong;
every success body is checked for the absence of JSON null (the Python SDK crashes on a null
enum); both checks and the conversation steps are in tests/api/support.py.
"""

from __future__ import annotations

import asyncio
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
    start,
    started,
)
from tests.orgs import Tenant, make_org

# -- POST /api/v2/conversations/messages ------------------------------------------------------


async def test_start_returns_id_and_self_uri(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "queueId": org.queue_id, "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    body = ok(resp)
    assert set(body) == {"id", "selfUri"}
    assert body["selfUri"] == f"{MESSAGES}/{body['id']}"


async def test_use_existing_conversation_returns_the_same_one(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent, customer = org.agents[0], customer_for(org)
    first = await start(http, org, agent.headers, customer, useExistingConversation=True)
    again = await start(http, org, agent.headers, customer, useExistingConversation=True)
    assert again == first
    conv = await conversation(http, agent.headers, first)
    assert len([p for p in conv["participants"] if p["purpose"] == "agent"]) == 1


@pytest.mark.parametrize("use_existing", [False, None])
async def test_existing_active_conversation_without_reuse_is_a_conflict(
        http: httpx.AsyncClient, org: Tenant, use_existing: bool | None) -> None:
    agent, customer = org.agents[0], customer_for(org)
    conv_id = await start(http, org, agent.headers, customer)
    body: dict[str, Any] = {"queueId": org.queue_id, "toAddress": customer,
                            "toAddressMessengerType": "sms"}
    if use_existing is not None:
        body["useExistingConversation"] = use_existing
    resp = await http.post(MESSAGES, headers=agent.headers, json=body)
    assert_error(resp, 409, conv_id, "already active", "useExistingConversation")


@pytest.mark.parametrize("use_existing", [True, False])
async def test_another_agents_active_conversation_is_a_conflict(
        http: httpx.AsyncClient, org: Tenant, use_existing: bool) -> None:
    customer = customer_for(org)
    conv_id = await start(http, org, org.agents[0].headers, customer)
    resp = await http.post(MESSAGES, headers=org.agents[1].headers, json={
        "queueId": org.queue_id, "toAddress": customer, "toAddressMessengerType": "sms",
        "useExistingConversation": use_existing})
    body = assert_error(resp, 409, conv_id)
    if use_existing:
        assert "another agent" in body["message"]
    # Agent 2 did not slip into the conversation.
    conv = await conversation(http, org.agents[0].headers, conv_id)
    assert [p.get("userId") for p in conv["participants"] if p["purpose"] == "agent"] == [
        org.agents[0].id]


async def test_concurrent_starts_share_one_conversation(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    """Starts racing for one customer: one conversation, one agent; the rest join or 409."""
    customer = customer_for(org)
    body = {"queueId": org.queue_id, "toAddress": customer, "toAddressMessengerType": "sms",
            "useExistingConversation": True}
    resps = await asyncio.gather(*[
        http.post(MESSAGES, headers=org.agents[i % 2].headers, json=body) for i in range(6)])
    for resp in resps:
        if resp.status_code != 200:
            assert_error(resp, 409, "another agent")
    ids = {ok(r)["id"] for r in resps if r.status_code == 200}
    assert len(ids) == 1, ids
    conv = await conversation(http, org.admin_headers, ids.pop())
    agents = [p["userId"] for p in conv["participants"] if p["purpose"] == "agent"]
    assert len(agents) == 1
    winners = {i % 2 for i, r in enumerate(resps) if r.status_code == 200}
    assert [org.agents[i].id for i in winners] == agents


async def test_after_one_agent_leaves_another_may_start(http: httpx.AsyncClient,
                                                        org: Tenant) -> None:
    conv_id, participant_id, _, customer = await started(http, org, 0)
    assert (await disconnect(http, org.agents[0].headers, conv_id,
                             participant_id)).status_code == 202
    again = await start(http, org, org.agents[1].headers, customer)
    assert again != conv_id
    assert party(await conversation(http, org.agents[1].headers, again), "agent")[
        "userId"] == org.agents[1].id


async def test_unknown_queue_is_not_found(http: httpx.AsyncClient, org: Tenant) -> None:
    missing = str(uuid.uuid4())
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "queueId": missing, "toAddress": customer_for(org), "toAddressMessengerType": "sms"})
    assert_error(resp, 404, f"queue {missing} not found")


async def test_queue_of_another_org_is_not_found(
        http: httpx.AsyncClient, parley: Parley, org: Tenant) -> None:
    other = await make_org(parley, http)
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "queueId": other.queue_id, "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    assert_error(resp, 404, f"queue {other.queue_id} not found")


async def test_queue_without_outbound_sms_number_is_refused(
        http: httpx.AsyncClient, org: Tenant) -> None:
    queue = ok(await http.post("/api/v2/routing/queues", headers=org.admin_headers,
                               json={"name": "No number"}))
    assert "outboundMessagingAddresses" not in queue
    members = await http.post(f"/api/v2/routing/queues/{queue['id']}/members",
                              headers=org.admin_headers, json=[{"id": org.agents[0].id}])
    assert members.status_code == 204, members.text
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "queueId": queue["id"], "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    body = assert_error(resp, 400, "queue 'No number' has no Outbound SMS Number")
    assert body["details"][0]["fieldName"] == "queueId"


async def test_agent_outside_the_queue_is_forbidden(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    queue = ok(await http.post("/api/v2/routing/queues", headers=org.admin_headers, json={
        "name": "Sales", "outboundMessagingAddresses": {"smsAddress": {"id": org.number_id}}}))
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "queueId": queue["id"], "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    assert_error(resp, 403, "not a member of queue 'Sales'")


@pytest.mark.parametrize(("to_address", "fragment"), [
    ("+1555", "toAddress '+1555' is not a valid phone number"),
    ("3125550123", "toAddress '3125550123' is not in E.164 form"),
    ("+1 312 555 0123", "did you mean +13125550123"),
    ("not a number", "toAddress 'not a number' is not in E.164 form"),
    ("", "toAddress is required"),
    (None, "toAddress is required"),
])
async def test_invalid_to_address_is_refused(http: httpx.AsyncClient, org: Tenant,
                                             to_address: str | None, fragment: str) -> None:
    body: dict[str, Any] = {"queueId": org.queue_id, "toAddressMessengerType": "sms"}
    if to_address is not None:
        body["toAddress"] = to_address
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json=body)
    error = assert_error(resp, 400, fragment)
    assert error["details"][0]["fieldName"] == "toAddress"


@pytest.mark.parametrize(("messenger_type", "fragments"), [
    ("whatsapp", ("toAddressMessengerType 'whatsapp' is not supported", "sms")),
    ("open", ("toAddressMessengerType 'open' is not supported",)),
    ("fax", ("toAddressMessengerType must be 'sms'", "fax")),
    ("SMS", ("toAddressMessengerType must be 'sms'", "SMS")),
    (None, ("toAddressMessengerType must be 'sms'",)),
])
async def test_unsupported_messenger_type_is_refused(
        http: httpx.AsyncClient, org: Tenant, messenger_type: str | None,
        fragments: tuple[str, ...]) -> None:
    body: dict[str, Any] = {"queueId": org.queue_id, "toAddress": customer_for(org)}
    if messenger_type is not None:
        body["toAddressMessengerType"] = messenger_type
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json=body)
    error = assert_error(resp, 400, *fragments)
    assert error["details"][0]["fieldName"] == "toAddressMessengerType"


async def test_missing_queue_id_is_refused(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(MESSAGES, headers=org.agents[0].headers, json={
        "toAddress": customer_for(org), "toAddressMessengerType": "sms"})
    error = assert_error(resp, 400, "queueId is required")
    assert error["details"][0]["fieldName"] == "queueId"


@pytest.mark.parametrize(("content", "fragments"), [
    (b'{"queueId": "q", "toAddress": ', ("not valid JSON",)),
    (b"not json at all", ("not valid JSON",)),
    (b"", ("request body is required",)),
    (b'["sms"]', ("must be a JSON object",)),
    (b'{"queueId": 5, "toAddress": "+13125550123", "toAddressMessengerType": "sms"}',
     ("queueId", "string")),
    (b'{"queueId": "q", "toAddress": "+13125550123", "toAddressMessengerType": "sms",'
     b' "useExistingConversation": "perhaps"}', ("useExistingConversation", "boolean")),
    (b'{"queueId": "\xff\xfe", "toAddress": "+13125550123"}', ("error parsing the body",)),
])
async def test_malformed_body_is_a_400_never_422(http: httpx.AsyncClient, org: Tenant,
                                                 content: bytes,
                                                 fragments: tuple[str, ...]) -> None:
    resp = await http.post(MESSAGES, content=content, headers={
        **org.agents[0].headers, "Content-Type": "application/json"})
    assert_error(resp, 400, *fragments)


async def test_client_credentials_token_is_pointed_to_agentless(
        http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(MESSAGES, headers=org.admin_headers, json={
        "queueId": org.queue_id, "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    assert_error(resp, 403, "needs a user", "client-credentials",
                 "/api/v2/conversations/messages/agentless")


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"},
    {"Authorization": "Bearer "},
])
async def test_missing_or_bad_token_is_unauthenticated(
        http: httpx.AsyncClient, org: Tenant, headers: dict[str, str]) -> None:
    resp = await http.post(MESSAGES, headers=headers, json={
        "queueId": org.queue_id, "toAddress": customer_for(org),
        "toAddressMessengerType": "sms"})
    body = assert_error(resp, 401)
    assert "token" in body["message"].lower()


async def test_admin_user_may_start_a_conversation_without_membership(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id = await start(http, org, org.admin.headers, customer_for(org))
    conv = await conversation(http, org.admin.headers, conv_id)
    me = party(conv, "agent", org.admin.id)
    assert me["queueId"] == org.queue_id


# -- GET /api/v2/conversations/{id} -----------------------------------------------------------


async def test_get_conversation_shows_agent_and_customer(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    agent, customer = org.agents[0], customer_for(org)
    conv_id = await start(http, org, agent.headers, customer)
    conv = await conversation(http, agent.headers, conv_id)
    assert conv["id"] == conv_id
    assert conv["selfUri"] == f"/api/v2/conversations/{conv_id}"
    assert ISO_MS.match(conv["startTime"]), conv["startTime"]
    assert "endTime" not in conv
    assert len(conv["participants"]) == 2

    me = party(conv, "agent")
    assert me["userId"] == agent.id
    assert me["queueId"] == org.queue_id
    assert me["queueName"] == "Support"
    assert me["name"] == agent.user.name
    comm = me["messages"][0]
    assert comm["id"] and comm["id"] != me["id"]
    assert comm["state"] == "connected"
    assert comm["type"] == "sms"
    assert comm["fromAddress"]["addressNormalized"] == org.number
    assert comm["toAddress"]["addressNormalized"] == customer
    assert comm["messages"] == []

    them = party(conv, "customer")
    assert them["address"] == customer
    assert "userId" not in them
    assert them["messages"][0]["state"] == "connected"
    assert them["messages"][0]["id"] != comm["id"]


async def test_get_conversation_as_another_agent_is_forbidden(
        http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    resp = await http.get(f"/api/v2/conversations/{conv_id}", headers=org.agents[1].headers)
    assert_error(resp, 403, f"not a participant of conversation {conv_id}")
    resp = await http.get(f"{MESSAGES}/{conv_id}", headers=org.agents[1].headers)
    assert_error(resp, 403, f"not a participant of conversation {conv_id}")


@pytest.mark.parametrize("who", ["admin-user", "admin-client"])
async def test_admin_sees_any_conversation(http: httpx.AsyncClient, org: Tenant,
                                           who: str) -> None:
    conv_id, *_ = await started(http, org)
    headers = org.admin.headers if who == "admin-user" else org.admin_headers
    conv = await conversation(http, headers, conv_id)
    assert party(conv, "agent")["userId"] == org.agents[0].id
    message_conv = ok(await http.get(f"{MESSAGES}/{conv_id}", headers=headers))
    assert message_conv["id"] == conv_id


async def test_conversation_of_another_org_is_not_found(
        http: httpx.AsyncClient, parley: Parley, org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    other = await make_org(parley, http)
    for headers in (other.agents[0].headers, other.admin.headers, other.admin_headers):
        resp = await http.get(f"/api/v2/conversations/{conv_id}", headers=headers)
        assert_error(resp, 404, f"conversation {conv_id} not found")
        resp = await http.get(f"{MESSAGES}/{conv_id}", headers=headers)
        assert_error(resp, 404, f"conversation {conv_id} not found")


async def test_unknown_conversation_is_not_found(http: httpx.AsyncClient, org: Tenant) -> None:
    missing = str(uuid.uuid4())
    for path in (f"/api/v2/conversations/{missing}", f"{MESSAGES}/{missing}",
                 f"{MESSAGES}/{missing}/messages/{uuid.uuid4()}"):
        assert_error(await http.get(path, headers=org.agents[0].headers), 404,
                     f"conversation {missing} not found")


async def test_nul_in_a_path_parameter_is_never_a_500(
        http: httpx.AsyncClient, org: Tenant, database_url: str) -> None:
    conv_id, participant_id, _, _ = await started(http, org)
    headers = org.agents[0].headers
    for method, path, fragment in [
        ("GET", "/api/v2/conversations/a%00b", "conversation a\x00b not found"),
        ("GET", f"{MESSAGES}/a%00b", "conversation a\x00b not found"),
        ("GET", f"{MESSAGES}/{conv_id}/messages/a%00b", "message a\x00b not found"),
        ("PATCH", f"/api/v2/conversations/a%00b/participants/{participant_id}",
         "conversation a\x00b not found"),
    ]:
        resp = await http.request(method, path, headers=headers,
                                  json={"state": "disconnected"} if method == "PATCH" else None)
        assert_nul_refused_or(resp, database_url, 404, fragment)
    # The participant is looked up in the loaded conversation, not the database.
    resp = await disconnect(http, headers, conv_id, "a%00b")
    assert_error(resp, 404, "participant a\x00b is not on conversation")
    me = party(await conversation(http, headers, conv_id), "agent")
    assert me["messages"][0]["state"] == "connected"


async def wrapup_code(http: httpx.AsyncClient, org: Tenant, name: str) -> str:
    """A wrap-up code of the organisation, made by its admin."""
    resp = await http.post("/api/v2/routing/wrapupcodes", headers=org.admin_headers,
                           json={"name": f"{name} {uuid.uuid4().hex[:6]}"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


async def test_nul_in_a_body_field_is_never_a_500(http: httpx.AsyncClient, org: Tenant,
                                                  database_url: str) -> None:
    headers = {**org.agents[0].headers, "Content-Type": "application/json"}
    resp = await http.post(MESSAGES, headers=headers, content=(
        b'{"queueId": "a\\u0000b", "toAddress": "%s", "toAddressMessengerType": "sms"}'
        % customer_for(org).encode()))
    assert_nul_refused_or(resp, database_url, 404, "queue a\x00b not found")
    conv_id, participant_id, _, _ = await started(http, org)
    resp = await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            headers=headers, content=b'{"state": "disconnected", '
                            b'"wrapup": {"code": "x\\u0000", "notes": "n"}}')
    assert_nul_refused_or(resp, database_url, 400, "wrap-up code x\x00 not found")
    code = await wrapup_code(http, org, "Resolved")
    resp = await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            headers=headers, content=b'{"state": "disconnected", '
                            b'"wrapup": {"code": "%s", "notes": "n\\u0000"}}' % code.encode())
    assert resp.status_code == 202, resp.text  # the wrap-up is stored as escaped JSON
    me = party(await conversation(http, org.agents[0].headers, conv_id), "agent")
    assert (me["wrapup"]["code"], me["wrapup"]["notes"]) == (code, "n\x00")


async def test_get_message_conversation_flattens_participants(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    conv_id, participant_id, _, customer = await started(http, org)
    body = ok(await http.get(f"{MESSAGES}/{conv_id}", headers=agent.headers))
    assert body["selfUri"] == f"{MESSAGES}/{conv_id}"
    me = next(p for p in body["participants"] if p["purpose"] == "agent")
    assert me["id"] == participant_id
    assert me["state"] == "connected"
    assert me["direction"] == "outbound"
    assert me["user"]["id"] == agent.id
    assert me["queue"]["id"] == org.queue_id
    assert me["queue"]["name"] == "Support"
    assert me["toAddress"]["addressNormalized"] == customer
    them = next(p for p in body["participants"] if p["purpose"] == "customer")
    assert them["state"] == "connected"


# -- GET /api/v2/conversations/messages -------------------------------------------------------


async def test_listing_shows_only_the_callers_active_conversations(
        http: httpx.AsyncClient, org: Tenant) -> None:
    one, me1, _, customer = await started(http, org, 0)
    two, _, _, other = await started(http, org, 0, customer_for(org, customer))
    theirs, *_ = await started(http, org, 1, customer_for(org, customer, other))

    listed = ok(await http.get(MESSAGES, headers=org.agents[0].headers))
    assert sorted(c["id"] for c in listed["entities"]) == sorted([one, two])
    assert listed["total"] == 2
    assert listed["pageNumber"] == 1
    other = ok(await http.get(MESSAGES, headers=org.agents[1].headers))
    assert [c["id"] for c in other["entities"]] == [theirs]

    assert (await disconnect(http, org.agents[0].headers, one, me1)).status_code == 202
    listed = ok(await http.get(MESSAGES, headers=org.agents[0].headers))
    assert [c["id"] for c in listed["entities"]] == [two]
    assert listed["total"] == 1


async def test_listing_for_an_admin_client_shows_the_orgs_active_conversations(
        http: httpx.AsyncClient, org: Tenant) -> None:
    one, _, _, customer = await started(http, org, 0)
    two, *_ = await started(http, org, 1, customer_for(org, customer))
    listed = ok(await http.get(MESSAGES, headers=org.admin_headers))
    assert sorted(c["id"] for c in listed["entities"]) == sorted([one, two])


async def test_listing_is_empty_for_a_new_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    listed = ok(await http.get(MESSAGES, headers=org.agents[1].headers))
    assert listed["entities"] == []
    assert listed["total"] == 0


async def test_listing_needs_a_token(http: httpx.AsyncClient) -> None:
    assert_error(await http.get(MESSAGES), 401)


# -- PATCH participant ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    MESSAGES + "/{c}/participants/{p}", "/api/v2/conversations/{c}/participants/{p}"])
async def test_disconnect_with_wrapup_ends_the_conversation(
        http: httpx.AsyncClient, org: Tenant, path: str) -> None:
    agent = org.agents[0]
    conv_id, participant_id, comm_id, _ = await started(http, org)
    code = await wrapup_code(http, org, "Resolved")
    resp = await http.patch(path.format(c=conv_id, p=participant_id), headers=agent.headers,
                            json={"state": "disconnected",
                                  "wrapup": {"code": code, "notes": "Resolved."}})
    assert resp.status_code == 202, resp.text
    assert resp.content == b""

    conv = await conversation(http, agent.headers, conv_id)
    assert ISO_MS.match(conv["endTime"]), conv
    me = party(conv, "agent")
    assert ISO_MS.match(me["endTime"]), me
    assert me["wrapup"]["code"] == code
    assert me["wrapup"]["name"].startswith("Resolved ")
    assert me["wrapup"]["notes"] == "Resolved."
    assert ISO_MS.match(me["wrapup"]["endTime"]), me["wrapup"]
    comm = me["messages"][0]
    assert comm["id"] == comm_id
    assert comm["state"] == "disconnected"
    assert ISO_MS.match(comm["disconnectedTime"])
    assert comm["disconnectType"] == "client"

    them = party(conv, "customer")
    assert them["messages"][0]["state"] == "disconnected"
    assert ISO_MS.match(them["endTime"]), them

    flat = ok(await http.get(f"{MESSAGES}/{conv_id}", headers=agent.headers))
    assert {p["purpose"]: p["state"] for p in flat["participants"]} == {
        "agent": "disconnected", "customer": "disconnected"}


async def test_disconnect_without_wrapup(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    resp = await disconnect(http, org.agents[0].headers, conv_id, participant_id)
    assert resp.status_code == 202, resp.text
    me = party(await conversation(http, org.agents[0].headers, conv_id), "agent")
    assert me["messages"][0]["state"] == "disconnected"
    assert "wrapup" not in me


async def test_after_disconnect_a_new_conversation_can_start(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    conv_id, participant_id, _, customer = await started(http, org)
    assert (await disconnect(http, org.agents[0].headers, conv_id,
                             participant_id)).status_code == 202
    again = await start(http, org, org.agents[0].headers, customer, useExistingConversation=True)
    assert again != conv_id


@pytest.mark.parametrize(("state", "fragment"), [
    ("dialing", "state 'dialing' cannot be set here"),
    ("terminated", "state 'terminated' cannot be set here"),
    ("DISCONNECTED", "state 'DISCONNECTED' cannot be set here"),
])
async def test_invalid_participant_state_is_refused(http: httpx.AsyncClient, org: Tenant,
                                                    state: str, fragment: str) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    resp = await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            headers=org.agents[0].headers, json={"state": state})
    error = assert_error(resp, 400, fragment, "disconnected")
    assert error["details"][0]["fieldName"] == "state"
    me = party(await conversation(http, org.agents[0].headers, conv_id), "agent")
    assert me["messages"][0]["state"] == "connected"


@pytest.mark.parametrize(("content", "fragments"), [
    (b'{"state": ', ("not valid JSON",)),
    (b'{"state": 7}', ("state", "string")),
    (b'{"state": "disconnected", "wrapup": "done"}', ("wrapup",)),
    (b"[]", ("must be a JSON object",)),
    (b'{"state": "disconnected", "wrapup": {"notes": "\xff"}}', ("error parsing the body",)),
])
async def test_malformed_participant_patch_is_a_400(http: httpx.AsyncClient, org: Tenant,
                                                    content: bytes,
                                                    fragments: tuple[str, ...]) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    resp = await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            content=content, headers={**org.agents[0].headers,
                                                      "Content-Type": "application/json"})
    assert_error(resp, 400, *fragments)


async def test_patch_unknown_participant_is_not_found(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    missing = str(uuid.uuid4())
    resp = await disconnect(http, org.agents[0].headers, conv_id, missing)
    assert_error(resp, 404, f"participant {missing} is not on conversation {conv_id}")


async def test_patch_unknown_conversation_is_not_found(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    missing = str(uuid.uuid4())
    resp = await disconnect(http, org.agents[0].headers, missing, str(uuid.uuid4()))
    assert_error(resp, 404, f"conversation {missing} not found")


async def test_another_agent_may_not_patch_my_participant(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    resp = await disconnect(http, org.agents[1].headers, conv_id, participant_id)
    assert_error(resp, 403, "not a participant")
    me = party(await conversation(http, org.agents[0].headers, conv_id), "agent")
    assert me["messages"][0]["state"] == "connected"


async def test_agent_of_another_org_gets_not_found(http: httpx.AsyncClient, parley: Parley,
                                                   org: Tenant) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    other = await make_org(parley, http)
    resp = await disconnect(http, other.admin.headers, conv_id, participant_id)
    assert_error(resp, 404, f"conversation {conv_id} not found")


async def test_agent_may_not_disconnect_the_customer(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    conv_id, *_ = await started(http, org)
    them = party(await conversation(http, org.agents[0].headers, conv_id), "customer")
    resp = await disconnect(http, org.agents[0].headers, conv_id, them["id"])
    assert_error(resp, 403, "lacks the permission")
    resp = await disconnect(http, org.admin.headers, conv_id, them["id"])
    assert_error(resp, 400, "customer participant cannot be disconnected")


async def test_disconnect_twice_is_a_conflict(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    assert (await disconnect(http, org.agents[0].headers, conv_id,
                             participant_id)).status_code == 202
    resp = await disconnect(http, org.agents[0].headers, conv_id, participant_id)
    assert_error(resp, 409, f"participant {participant_id} is already disconnected")
    resp = await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            headers=org.agents[0].headers, json={"state": "connected"})
    assert_error(resp, 409, f"participant {participant_id} is disconnected")


async def test_admin_may_disconnect_an_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    conv_id, participant_id, *_ = await started(http, org)
    resp = await disconnect(http, org.admin.headers, conv_id, participant_id)
    assert resp.status_code == 202, resp.text
    conv = await conversation(http, org.agents[0].headers, conv_id)
    assert party(conv, "agent")["messages"][0]["state"] == "disconnected"
