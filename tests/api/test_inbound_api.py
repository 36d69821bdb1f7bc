"""Inbound messaging over HTTP: the simulator's phone side, routes and flows, agent state,
offers, transfer, wrap-up, and the notification websocket (both backends).

Texts come in through `POST /sim/v1/messages`, which answers once the text is stored and
routed. The websocket tests run the same app under uvicorn on a loopback port (the in-process
ASGI transport has no websockets); everything else talks to the app in process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from parley.api.app import create_app
from parley.bootstrap import Parley
from tests.api.support import (
    MESSAGES,
    accept,
    assert_error,
    conversation_with,
    ok,
    on_queue,
    parties,
    patch_party,
    text_in,
    user_of,
)
from tests.leaks import secret
from tests.orgs import Person, Tenant, new_customer

POLLS = 500
POLL_S = 0.02
INTAKE_FLOW = """\
name: Intake {tag}
type: inboundshortmessage
fallbackQueue: Support
start: greet
actions:
  greet:
    sendResponse: {{text: "Welcome to {{{{ flow.name }}}}"}}
    next: ask
  ask:
    askQuestion: {{text: "Reply 1 for billing, 2 for anything else", saveAs: choice}}
    next: route
  route:
    switch: {{on: "choice", cases: {{"1": billing}}, default: toSupport}}
  billing:
    setParticipantData: {{topic: billing, answer: "{{{{ choice }}}}"}}
    next: toBilling
  toBilling:
    transferToAcd: {{queue: Billing}}
  toSupport:
    transferToAcd: {{queue: Support}}
"""


# -- helpers ---------------------------------------------------------------------------------


async def handset(http: httpx.AsyncClient, org: Tenant, customer: str,
                  received: int) -> list[dict[str, Any]]:
    """What the phone received from the organisation, once `received` texts were delivered."""
    found: list[dict[str, Any]] = []
    for _ in range(POLLS):
        body = ok(await http.get("/sim/v1/messages", headers=org.admin_headers,
                                 params={"phone": customer}))
        found = [m for m in body["entities"] if m["direction"] == "received"]
        if len(found) >= received and all(m["status"] == "delivery-success" for m in found):
            break
        await asyncio.sleep(POLL_S)
    return found


async def conversation(http: httpx.AsyncClient, org: Tenant, cid: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.get(f"/api/v2/conversations/{cid}",
                                             headers=org.admin_headers))
    return body


async def status_of(http: httpx.AsyncClient, person: Person) -> str:
    body = ok(await http.get(f"/api/v2/users/{person.id}/routingstatus",
                             headers=person.headers))
    assert body["userId"] == person.id
    return str(body["status"])


async def capacity(http: httpx.AsyncClient, org: Tenant, person: Person, n: int) -> None:
    body = ok(await http.put(f"/api/v2/routing/users/{person.id}/utilization",
                             headers=org.admin_headers,
                             json={"utilization": {"message": {"maximumCapacity": n}}}))
    assert body["utilization"]["message"]["maximumCapacity"] == n


async def offered(http: httpx.AsyncClient, org: Tenant, cid: str) -> list[str]:
    """User ids the conversation is alerting."""
    return [user_of(p) for p in parties(await conversation(http, org, cid), "agent",
                                        "alerting")]


async def add_queue(http: httpx.AsyncClient, org: Tenant, name: str,
                    members: list[Person]) -> str:
    body = ok(await http.post("/api/v2/routing/queues", headers=org.admin_headers,
                              json={"name": name}))
    if members:
        resp = await http.post(f"/api/v2/routing/queues/{body['id']}/members",
                               headers=org.admin_headers, json=[{"id": p.id} for p in members])
        assert resp.status_code == 204, resp.text
    return str(body["id"])


async def publish_flow(http: httpx.AsyncClient, org: Tenant, yaml: str) -> str:
    """Create, save, publish a flow and route the organisation's number to it (the API way)."""
    h = org.admin_headers
    flow = ok(await http.post("/api/v2/flows", headers=h,
                              json={"name": f"flow {secrets.token_hex(3)}",
                                    "type": "inboundshortmessage"}))
    ok(await http.post(f"/api/v2/flows/{flow['id']}/versions", content=yaml,
                       headers={**h, "content-type": "text/yaml"}))
    done = ok(await http.post("/api/v2/flows/actions/publish", headers=h,
                              params={"flow": flow["id"]}))
    assert done["actionStatus"] == "SUCCESS"
    route = ok(await http.put(f"/api/v2/routing/message/recipients/{org.number_id}",
                              headers=h, json={"flow": {"id": flow["id"]}}))
    assert route["flow"]["id"] == flow["id"]
    return str(flow["id"])


# -- the phone side and the default route --------------------------------------------------------


async def test_a_text_from_the_phone_waits_in_the_numbers_queue(
        http: httpx.AsyncClient, org: Tenant) -> None:
    customer = new_customer()
    carrier_id = await text_in(http, org, customer, "Hello, anyone?")
    assert carrier_id.startswith("sim-mo-")
    phone = ok(await http.get("/sim/v1/messages", headers=org.admin_headers,
                              params={"phone": customer}))
    assert [(m["direction"], m["toAddress"], m["text"]) for m in phone["entities"]] == [
        ("sent", org.number, "Hello, anyone?")]

    conv = await conversation_with(http, org, customer)
    [acd] = parties(conv, "acd")
    assert acd["queue"]["id"] == org.queue_id and acd["state"] == "connected"
    [cust] = parties(conv, "customer")
    assert len(cust["messages"]) == 1  # stored once, on the customer's communication


@pytest.mark.parametrize(("body", "status", "fragment"), [
    pytest.param({"from": "+12025550123", "to": "+12025550199", "text": "hi"}, 400,
                 "not an SMS number of this organisation", id="not-our-number"),
    pytest.param({"from": "nonsense", "to": None, "text": "hi"}, 400, "from", id="bad-from"),
    pytest.param({"from": "+12025550123", "to": None, "text": "  "}, 400, "text",
                 id="empty-text"),
    pytest.param({"from": "+12025550123", "to": None, "text": "x" * 10_001}, 400,
                 "at most 10000 are accepted", id="too-long"),
])
async def test_bad_simulated_texts_are_clear_errors(http: httpx.AsyncClient, org: Tenant,
                                                    body: dict[str, Any], status: int,
                                                    fragment: str) -> None:
    body = {**body, "to": body["to"] or org.number}
    assert_error(await http.post("/sim/v1/messages", headers=org.admin_headers, json=body),
                 status, fragment)


# -- routes and flows ------------------------------------------------------------------------------


async def test_message_recipients_and_their_flow(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    listing = ok(await http.get("/api/v2/routing/message/recipients", headers=h))
    [mine] = [r for r in listing["entities"] if r["id"] == org.number_id]
    assert "flow" not in mine

    flow = ok(await http.post("/api/v2/flows", headers=h, json={
        "name": "Unpublished", "type": "inboundshortmessage"}))
    assert_error(await http.put(f"/api/v2/routing/message/recipients/{org.number_id}",
                                headers=h, json={"flow": {"id": flow["id"]}}),
                 400, "not published")
    assert_error(await http.put(f"/api/v2/routing/message/recipients/{org.number_id}",
                                headers=h, json={"flow": {"id": secrets.token_hex(8)}}),
                 400, "not found")

    published = await publish_flow(http, org, INTAKE_FLOW.format(tag="r").replace(
        "queue: Billing", "queue: Support"))
    got = ok(await http.get(f"/api/v2/routing/message/recipients/{org.number_id}",
                            headers=h))
    assert got["flow"]["id"] == published
    # An agent may not route numbers.
    assert_error(await http.put(f"/api/v2/routing/message/recipients/{org.number_id}",
                                headers=org.agents[0].headers, json={"flow": None}), 403)


@pytest.mark.parametrize(("yaml", "fragment"), [
    pytest.param("name: [unclosed", "line", id="invalid-yaml"),
    pytest.param(INTAKE_FLOW.format(tag="q").replace("queue: Billing", "queue: Nowhere"),
                 "Nowhere", id="unknown-queue"),
    pytest.param(INTAKE_FLOW.format(tag="a").replace("sendResponse:", "shout:"),
                 "shout", id="unknown-action"),
])
async def test_bad_flow_definitions_are_clear_errors(http: httpx.AsyncClient, org: Tenant,
                                                     yaml: str, fragment: str) -> None:
    flow = ok(await http.post("/api/v2/flows", headers=org.admin_headers, json={
        "name": "Broken", "type": "inboundshortmessage"}))
    assert_error(await http.post(f"/api/v2/flows/{flow['id']}/versions", content=yaml,
                                 headers={**org.admin_headers, "content-type": "text/yaml"}),
                 400, fragment)


async def test_flow_asks_branches_sets_data_and_transfers(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    billing = await add_queue(http, org, "Billing", [])
    await publish_flow(http, org, INTAKE_FLOW.format(tag="e2e"))
    customer = new_customer()

    await text_in(http, org, customer, "hi")
    got = await handset(http, org, customer, 2)
    assert [m["text"] for m in got] == ["Welcome to Intake e2e",
                                        "Reply 1 for billing, 2 for anything else"]
    await text_in(http, org, customer, "1")

    conv = await conversation_with(http, org, customer)
    full = await conversation(http, org, conv["id"])
    [cust] = parties(full, "customer")
    assert cust["attributes"] == {"topic": "billing", "answer": "1"}
    [acd] = [p for p in parties(full, "acd") if not p.get("endTime")]
    assert (acd["queueId"], acd["queueName"]) == (billing, "Billing")
    [flow] = parties(full, "workflow")
    assert flow["name"] == "Intake e2e" and flow["endTime"]
    assert len(cust["messages"][0]["messages"]) == 4  # 2 in, 2 out, nothing lost


# -- agents, offers, wrap-up -------------------------------------------------------------------


async def test_offer_accept_reply_and_disconnect_with_a_code(http: httpx.AsyncClient,
                                                              org: Tenant) -> None:
    ada = org.agents[0]
    assert await status_of(http, ada) == "OFF_QUEUE"
    await capacity(http, org, ada, 1)
    await on_queue(http, ada)
    assert await status_of(http, ada) == "IDLE"
    code = ok(await http.post("/api/v2/routing/wrapupcodes", headers=org.admin_headers,
                              json={"name": "Answered"}))
    customer = new_customer()

    await text_in(http, org, customer, "Can I change my plan?")

    mine = ok(await http.get(MESSAGES, headers=ada.headers))["entities"]
    [conv] = [c for c in mine if parties(c, "customer")[0]["address"] == customer]
    [alert] = parties(conv, "agent", "alerting")
    assert alert["user"]["id"] == ada.id and alert["queue"]["id"] == org.queue_id
    assert await status_of(http, ada) == "INTERACTING"
    participant = await accept(http, org, ada, conv["id"])
    full = await conversation(http, org, conv["id"])
    [me] = [p for p in parties(full, "agent", "connected") if p["id"] == participant["id"]]
    assert not parties(full, "acd", "connected")  # it left the queue
    communication = me["messages"][0]["id"]
    sent = ok(await http.post(f"{MESSAGES}/{conv['id']}/communications/{communication}"
                              "/messages", headers=ada.headers,
                              json={"textBody": "Sure - which plan?"}))
    assert sent["toAddress"] == customer
    assert [m["text"] for m in await handset(http, org, customer, 1)] == ["Sure - which plan?"]

    resp = await patch_party(http, ada, conv["id"], me["id"],
                             {"state": "disconnected", "wrapup": {"code": code["id"]}})
    assert resp.status_code == 202, resp.text
    assert await status_of(http, ada) == "IDLE"
    done = await conversation(http, org, conv["id"])
    [me] = [p for p in done["participants"] if p["id"] == me["id"]]
    assert me["wrapup"]["code"] == code["id"] and me["wrapupRequired"] is False
    assert done["state"] == "disconnected"


async def test_decline_goes_to_the_other_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    for p in org.agents:
        await on_queue(http, p)
    customer = new_customer()
    await text_in(http, org, customer, "hello")
    cid = (await conversation_with(http, org, customer))["id"]
    [first] = await offered(http, org, cid)
    decliner = next(p for p in org.agents if p.id == first)
    other = next(p for p in org.agents if p.id != first)
    conv = await conversation(http, org, cid)
    [alert] = parties(conv, "agent", "alerting")

    resp = await patch_party(http, decliner, cid, alert["id"], {"state": "disconnected"})
    assert resp.status_code == 202, resp.text

    assert await offered(http, org, cid) == [other.id]
    assert await status_of(http, decliner) == "IDLE"
    conv = await conversation(http, org, cid)
    [gone] = [p for p in conv["participants"] if p["id"] == alert["id"]]
    assert gone["messages"][0]["disconnectType"] == "client"


async def test_transfer_to_another_queue(http: httpx.AsyncClient, org: Tenant) -> None:
    ada, bob = org.agents
    escalations = await add_queue(http, org, "Escalations", [bob])
    await on_queue(http, ada)
    customer = new_customer()
    await text_in(http, org, customer, "I want a manager")
    cid = (await conversation_with(http, org, customer))["id"]
    assert await offered(http, org, cid) == [ada.id]
    mine = await accept(http, org, ada, cid)
    await on_queue(http, bob)  # nothing waits in Support: he stays idle
    assert await status_of(http, bob) == "IDLE"

    assert_error(await http.post(f"{MESSAGES}/{cid}/participants/{mine['id']}/replace",
                                 headers=ada.headers, json={"queueId": secrets.token_hex(8)}),
                 404, "not found")
    assert_error(await http.post(f"{MESSAGES}/{cid}/participants/{mine['id']}/replace",
                                 headers=ada.headers, json={}), 400, "queueId")
    resp = await http.post(f"{MESSAGES}/{cid}/participants/{mine['id']}/replace",
                           headers=ada.headers, json={"queueId": escalations})
    assert resp.status_code == 202, resp.text

    conv = await conversation(http, org, cid)
    [alert] = parties(conv, "agent", "alerting")
    assert (alert["userId"], alert["queueId"]) == (bob.id, escalations)
    [acd] = parties(conv, "acd", "connected")
    assert acd["queueId"] == escalations
    assert await status_of(http, ada) == "IDLE"
    assert await status_of(http, bob) == "INTERACTING"


async def test_mandatory_wrapup_is_after_call_work(http: httpx.AsyncClient,
                                                   org: Tenant) -> None:
    h = org.admin_headers
    ok(await http.put(f"/api/v2/routing/queues/{org.queue_id}", headers=h, json={
        "name": "Support", "acwSettings": {"wrapupPrompt": "MANDATORY"},
        "outboundMessagingAddresses": {"smsAddress": {"id": org.number_id}}}))
    code = ok(await http.post("/api/v2/routing/wrapupcodes", headers=h,
                              json={"name": "Done"}))
    other = ok(await http.post("/api/v2/routing/wrapupcodes", headers=h,
                               json={"name": "Not for Support"}))
    resp = await http.post(f"/api/v2/routing/queues/{org.queue_id}/wrapupcodes", headers=h,
                           json=[{"id": code["id"]}])
    assert resp.status_code in (200, 204), resp.text
    ada = org.agents[0]
    await capacity(http, org, ada, 1)
    await on_queue(http, ada)
    first, second = new_customer(), new_customer()
    await text_in(http, org, first, "one")
    await text_in(http, org, second, "two")
    a = (await conversation_with(http, org, first))["id"]
    b = (await conversation_with(http, org, second))["id"]
    me = await accept(http, org, ada, a)
    assert await offered(http, org, b) == []

    codes = ok(await http.get(f"{MESSAGES}/{a}/participants/{me['id']}/wrapupcodes",
                              headers=ada.headers))
    assert [c["id"] for c in codes] == [code["id"]]
    assert_error(await patch_party(http, ada, a, me["id"], {
        "state": "disconnected", "wrapup": {"code": other["id"]}}), 400, "not offered")

    resp = await patch_party(http, ada, a, me["id"], {"state": "disconnected"})
    assert resp.status_code == 202, resp.text

    conv = await conversation(http, org, a)
    [left] = [p for p in conv["participants"] if p["id"] == me["id"]]
    assert left["wrapupRequired"] is True
    assert left["messages"][0]["state"] == "disconnected"
    assert await status_of(http, ada) == "INTERACTING"  # capacity held
    assert await offered(http, org, b) == []
    # Her list of conversations still holds it until she wraps up (a desktop reloaded now
    # asks her again); the customer she was never connected to is not in it.
    mine = ok(await http.get(MESSAGES, headers=ada.headers))["entities"]
    assert [c["id"] for c in mine] == [a]

    communication = me["messages"][0]["id"]
    resp = await http.post(f"{MESSAGES}/{a}/participants/{me['id']}/communications/"
                           f"{communication}/wrapup", headers=ada.headers,
                           json={"code": code["id"], "notes": "all good"})
    assert resp.status_code == 202, resp.text

    conv = await conversation(http, org, a)
    [left] = [p for p in conv["participants"] if p["id"] == me["id"]]
    assert left["wrapupRequired"] is False and left["wrapup"]["code"] == code["id"]
    assert await offered(http, org, b) == [ada.id]
    assert a not in [c["id"] for c in ok(await http.get(MESSAGES, headers=ada.headers))[
        "entities"]]


async def test_agent_state_bad_input(http: httpx.AsyncClient, org: Tenant) -> None:
    ada, bob = org.agents
    assert_error(await http.put(f"/api/v2/users/{ada.id}/routingstatus", headers=ada.headers,
                                json={"status": "INTERACTING"}), 400, "IDLE")
    assert_error(await http.put(f"/api/v2/users/{bob.id}/routingstatus", headers=ada.headers,
                                json={"status": "IDLE"}), 403)
    assert_error(await http.patch(f"/api/v2/users/{bob.id}/presences/purecloud",
                                  headers=ada.headers,
                                  json={"presenceDefinition": {"systemPresence": "OnQueue"}}),
                 403)
    assert_error(await http.patch(f"/api/v2/users/{ada.id}/presences/purecloud",
                                  headers=ada.headers,
                                  json={"presenceDefinition": {"systemPresence": "Asleep"}}),
                 400, "systemPresence")
    for bad in (0, 26):
        assert_error(await http.put(f"/api/v2/routing/users/{ada.id}/utilization",
                                    headers=org.admin_headers,
                                    json={"utilization": {"message": {"maximumCapacity": bad}}}),
                     400)
    assert_error(await http.put(f"/api/v2/routing/users/{ada.id}/utilization",
                                headers=ada.headers,
                                json={"utilization": {"message": {"maximumCapacity": 2}}}),
                 403)
    # An admin may put an agent on queue.
    body = ok(await http.put(f"/api/v2/users/{bob.id}/routingstatus", headers=org.admin_headers,
                             json={"status": "IDLE"}))
    assert body["status"] == "IDLE"


# -- the websocket -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
async def live(parley: Parley) -> AsyncIterator[str]:
    """The session app served by uvicorn on a loopback port; its base URL."""
    port = _free_port()
    config = uvicorn.Config(create_app(parley, manage_lifecycle=False), host="127.0.0.1",
                            port=port, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(POLLS):
        if server.started or task.done():
            break
        await asyncio.sleep(POLL_S)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


@contextlib.asynccontextmanager
async def socket_for(live: str, person: Person, topics: list[str]
                     ) -> AsyncIterator[ClientConnection]:
    async with httpx.AsyncClient(base_url=live, headers=person.headers, timeout=10) as rest:
        channel = ok(await rest.post("/api/v2/notifications/channels"))
        secret(channel["id"], "notification channel id")
        assert channel["connectUri"] == f"{live.replace('http', 'ws')}/channels/{channel['id']}"
        subscribed = ok(await rest.put(
            f"/api/v2/notifications/channels/{channel['id']}/subscriptions",
            json=[{"id": t} for t in topics]))
        assert {t["id"] for t in subscribed["entities"]} == set(topics)
    async with connect(channel["connectUri"]) as ws:
        yield ws


async def next_event(ws: ClientConnection, wanted: Any, timeout_s: float = 10.0
                     ) -> dict[str, Any]:
    """The first event (not a heartbeat) for which `wanted(event)` holds; bounded wait."""
    async def read() -> dict[str, Any]:
        while True:
            event: dict[str, Any] = json.loads(await ws.recv())
            if event["topicName"] != "channel.metadata" and wanted(event):
                return event
    return await asyncio.wait_for(read(), timeout=timeout_s)


async def test_a_reply_to_an_outbound_conversation_reaches_the_agents_websocket(
        live: str, http: httpx.AsyncClient, org: Tenant) -> None:
    ada = org.agents[0]
    customer = new_customer()
    created = ok(await http.post(MESSAGES, headers=ada.headers, json={
        "queueId": org.queue_id, "toAddress": customer, "toAddressMessengerType": "sms"}))
    topic = f"v2.users.{ada.id}.conversations.messages"
    async with socket_for(live, ada, [topic]) as ws:
        await text_in(http, org, customer, "Yes please")

        def reply_seen(event: dict[str, Any]) -> bool:
            body = event["eventBody"]
            return body["id"] == created["id"] and any(
                p["purpose"] == "customer" and p["messages"] for p in body["participants"])

        event = await next_event(ws, reply_seen)

    assert event["topicName"] == topic and event["version"] == "2"
    [agent_party] = [p for p in event["eventBody"]["participants"] if p["purpose"] == "agent"]
    assert agent_party["user"]["id"] == ada.id and agent_party["state"] == "connected"
    conv = await conversation(http, org, created["id"])
    assert not parties(conv, "acd") and not parties(conv, "workflow")  # no new routing


async def test_an_offer_reaches_the_agent_and_queue_websockets(
        live: str, http: httpx.AsyncClient, org: Tenant) -> None:
    ada = org.agents[0]
    await on_queue(http, ada)
    topics = [f"v2.users.{ada.id}.conversations.messages",
              f"v2.routing.queues.{org.queue_id}.conversations.messages",
              f"v2.users.{ada.id}.routingStatus"]
    async with socket_for(live, ada, topics) as ws:
        customer = new_customer()
        await text_in(http, org, customer, "Offer me")

        def offer(event: dict[str, Any]) -> bool:
            return event["topicName"] == topics[0] and any(
                p["purpose"] == "agent" and p["state"] == "alerting"
                for p in event["eventBody"].get("participants", []))

        alerting = await next_event(ws, offer)
        status = await next_event(ws, lambda e: e["topicName"] == topics[2])
    [p] = [p for p in alerting["eventBody"]["participants"] if p["purpose"] == "agent"]
    assert p["user"]["id"] == ada.id and p["queue"]["id"] == org.queue_id
    assert 0 < p["alertingTimeoutMs"] <= 30_000  # the queue's default, less a few ms
    assert status["eventBody"]["routingStatus"]["status"] == "INTERACTING"


async def test_an_agent_cannot_watch_someone_else(http: httpx.AsyncClient, org: Tenant) -> None:
    ada, bob = org.agents
    channel = ok(await http.post("/api/v2/notifications/channels", headers=ada.headers))
    assert_error(await http.put(
        f"/api/v2/notifications/channels/{channel['id']}/subscriptions", headers=ada.headers,
        json=[{"id": f"v2.users.{bob.id}.conversations.messages"}]), 400, "supervisors")
