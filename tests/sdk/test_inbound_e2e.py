"""The inbound loop end to end, against `parley serve`, with the official Python SDK.

A published flow answers a customer's text, asks a question, branches on the answer, sets
participant data and transfers to a queue. Two agents (capacity 1) watch their notification
websockets: the first is offered the conversation and lets the offer time out (the queue's
alertingTimeoutSeconds is 7, the least allowed) and goes NOT_RESPONDING; the conversation is
offered to the second, who accepts, replies and disconnects with a wrap-up code through the
SDK; the customer's phone receives the reply.

The test uses the demo organisation of the shared server but its own number, queue, flow and
wrap-up code, and puts the demo agents back off queue (with the organisation's capacity) when
it is done. Every wait is bounded; nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import PureCloudPlatformClientV2 as gc
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.orgs import new_customer
from tests.sdk.conftest import (
    SdkServer,
    client_credentials_token,
    implicit_login,
    server_log_on_failure,
    wait_for_phone,
)

pytestmark = pytest.mark.sdk

ALERTING_TIMEOUT_S = 7
WAIT_S = 30.0
"""Bound on any one wait; the offer's timeout is 7 s."""

FLOW = """\
name: E2E intake {tag}
type: inboundshortmessage
fallbackQueue: {queue}
start: greet
actions:
  greet:
    sendResponse: {{text: "Thanks for texting! ({tag})"}}
    next: ask
  ask:
    askQuestion:
      text: "Is this about an order? Reply yes or no"
      saveAs: answer
      timeoutSeconds: 600
    next: route
  route:
    switch: {{on: "answer", cases: {{"yes": orders}}, default: general}}
  orders:
    setParticipantData: {{topic: orders}}
    next: toQueue
  general:
    setParticipantData: {{topic: general}}
    next: toQueue
  toQueue:
    transferToAcd: {{queue: "{queue}"}}
"""


def sdk_client(server: SdkServer, token: str) -> gc.ApiClient:
    client = gc.ApiClient(host=server.base_url)
    client.gateway_configuration = None
    client.access_token = token
    return client


def model(cls: type[Any], **attributes: Any) -> Any:
    instance = cls()
    for name, value in attributes.items():
        assert name in instance.attribute_map, f"{cls.__name__} has no attribute {name}"
        setattr(instance, name, value)
    return instance


def check(resp: httpx.Response, *statuses: int) -> Any:
    assert resp.status_code in (statuses or (200,)), f"{resp.status_code}: {resp.text}"
    return resp.json() if resp.content else None


def free_number(admin: httpx.Client) -> dict[str, Any]:
    """Register a number the simulator offers and nobody has yet."""
    for _ in range(10):
        found = check(admin.get("/api/v2/routing/sms/availablephonenumbers",
                                params={"countryCode": "US", "phoneNumberType": "local"}))
        for candidate in found["entities"]:
            resp = admin.post("/api/v2/routing/sms/phonenumbers", json={
                "phoneNumber": candidate["phoneNumber"], "phoneNumberType": "local",
                "countryCode": "US"})
            if resp.status_code != 409:
                result: dict[str, Any] = check(resp)
                return result
    raise AssertionError("could not register a free number")


@contextmanager
def websocket(server: SdkServer, token: str, topics: list[str]) -> Iterator[ClientConnection]:
    with httpx.Client(base_url=server.base_url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        channel = check(http.post("/api/v2/notifications/channels"))
        check(http.put(f"/api/v2/notifications/channels/{channel['id']}/subscriptions",
                       json=[{"id": t} for t in topics]))
    with connect(channel["connectUri"]) as ws:
        yield ws


def next_event(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]
               ) -> dict[str, Any]:
    """The first event (heartbeats skipped) that `wanted` accepts, within WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching event on the websocket")
        try:
            event: dict[str, Any] = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            raise AssertionError("no matching event on the websocket") from None
        if event["topicName"] != "channel.metadata" and wanted(event):
            return event


def received(server: SdkServer, admin: httpx.Client, customer: str, *, sent: int,
             got: int) -> list[dict[str, Any]]:
    """What the phone received (not what it sent), once `got` texts reached it."""
    token = admin.headers["Authorization"].split()[1]
    return [m for m in wait_for_phone(server, token, customer, sent + got)
            if m["direction"] == "received"]


def offer_for(conversation_id: str | None, user_id: str) -> Callable[[dict[str, Any]], bool]:
    def wanted(event: dict[str, Any]) -> bool:
        body = event["eventBody"]
        return event["topicName"].endswith(".conversations.messages") and \
            (conversation_id is None or body["id"] == conversation_id) and any(
                p["purpose"] == "agent" and p["state"] == "alerting"
                and p.get("user", {}).get("id") == user_id for p in body["participants"])
    return wanted


def status_is(*statuses: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["topicName"].lower().endswith(".routingstatus") and \
        e["eventBody"]["routingStatus"]["status"] in statuses


def test_inbound_flow_offer_timeout_accept_reply_wrapup(sdk_server: SdkServer) -> None:
    server = sdk_server
    tag = secrets.token_hex(3)
    admin_token = client_credentials_token(server)
    agents = [server.agent(0), server.agent(1)]
    tokens = [implicit_login(server.base_url, server.browser_client_id, a["email"],
                             a["password"], server.redirect_uri()) for a in agents]
    slow, quick = agents  # slow lets the offer time out; quick takes it
    slow_sdk, quick_sdk = (sdk_client(server, t) for t in tokens)
    admin_sdk = sdk_client(server, admin_token)
    customer = new_customer()

    with server_log_on_failure(server), \
            httpx.Client(base_url=server.base_url, timeout=10,
                         headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        # -- the admin: number, queue (7 s alerting), wrap-up code, flow, route -------------
        number = free_number(admin)
        queue = check(admin.post("/api/v2/routing/queues", json={
            "name": f"E2E {tag}",
            "mediaSettings": {"message": {"alertingTimeoutSeconds": ALERTING_TIMEOUT_S}},
            "outboundMessagingAddresses": {"smsAddress": {"id": number["id"]}}}))
        assert queue["mediaSettings"]["message"]["alertingTimeoutSeconds"] == ALERTING_TIMEOUT_S
        check(admin.post(f"/api/v2/routing/queues/{queue['id']}/members",
                         json=[{"id": a["id"]} for a in agents]), 204)
        code = gc.RoutingApi(admin_sdk).post_routing_wrapupcodes(
            model(gc.WrapupCodeRequest, name=f"Sorted {tag}"))
        check(admin.post(f"/api/v2/routing/queues/{queue['id']}/wrapupcodes",
                         json=[{"id": code.id}]), 200, 204)
        flow = check(admin.post("/api/v2/flows", json={"name": f"E2E intake {tag}",
                                                       "type": "inboundshortmessage"}))
        check(admin.post(f"/api/v2/flows/{flow['id']}/versions",
                         content=FLOW.format(tag=tag, queue=queue["name"]),
                         headers={"content-type": "text/yaml"}))
        check(admin.post("/api/v2/flows/actions/publish", params={"flow": flow["id"]}))
        route = check(admin.put(f"/api/v2/routing/message/recipients/{number['id']}",
                                json={"flow": {"id": flow["id"]}}))
        assert route["flow"]["id"] == flow["id"]
        for a in agents:
            gc.RoutingApi(admin_sdk).put_routing_user_utilization(a["id"], model(
                gc.UtilizationRequest,
                utilization={"message": model(gc.MediaUtilization, maximum_capacity=1)}))

        try:
            with websocket(server, tokens[0], [
                    f"v2.users.{slow['id']}.conversations.messages",
                    f"v2.users.{slow['id']}.routingstatus"]) as slow_ws, \
                    websocket(server, tokens[1], [
                        f"v2.users.{quick['id']}.conversations.messages",
                        f"v2.users.{quick['id']}.routingstatus"]) as quick_ws:
                run_the_loop(server, admin, admin_sdk, slow_sdk, quick_sdk, slow, quick,
                             slow_ws, quick_ws, number["phoneNumber"], customer, tag,
                             queue["id"], code.id)
        finally:
            for a, client in ((slow, slow_sdk), (quick, quick_sdk)):
                gc.UsersApi(client).put_user_routingstatus(
                    a["id"], model(gc.RoutingStatus, status="OFF_QUEUE"))
                check(admin.delete(f"/api/v2/routing/users/{a['id']}/utilization"), 200, 204)


def run_the_loop(server: SdkServer, admin: httpx.Client, admin_sdk: gc.ApiClient,
                 slow_sdk: gc.ApiClient, quick_sdk: gc.ApiClient, slow: dict[str, str],
                 quick: dict[str, str], slow_ws: ClientConnection,
                 quick_ws: ClientConnection, number: str, customer: str, tag: str,
                 queue_id: str, code_id: str) -> None:
    # -- the first agent goes on queue (the SDK's presence call) ------------------------------
    on_queue = model(gc.UserPresence, presence_definition=model(
        gc.PresenceDefinition, system_presence="OnQueue"))
    gc.PresenceApi(slow_sdk).patch_user_presences_purecloud(slow["id"], on_queue)
    next_event(slow_ws, status_is("IDLE"))

    # -- the customer texts; the flow answers and asks; the answer routes it ------------------
    check(admin.post("/sim/v1/messages", json={"from": customer, "to": number,
                                               "text": "Hi, I need help"}))
    phone = received(server, admin, customer, sent=1, got=2)
    assert [m["text"] for m in phone] == [f"Thanks for texting! ({tag})",
                                          "Is this about an order? Reply yes or no"]
    check(admin.post("/sim/v1/messages", json={"from": customer, "to": number,
                                               "text": "Yes"}))

    # -- offered to the first agent, who lets it time out --------------------------------------
    offered = next_event(slow_ws, offer_for(None, slow["id"]))
    conversation_id = offered["eventBody"]["id"]
    [alert] = [p for p in offered["eventBody"]["participants"]
               if p["purpose"] == "agent" and p["state"] == "alerting"]
    assert alert["queue"]["id"] == queue_id
    # The time left when the offer was recorded: the queue's timeout, less a few ms.
    assert 0 < alert["alertingTimeoutMs"] <= ALERTING_TIMEOUT_S * 1000

    # The second agent comes on queue now, so the first offer cannot have been theirs.
    gc.UsersApi(quick_sdk).put_user_routingstatus(quick["id"],
                                                  model(gc.RoutingStatus, status="IDLE"))
    next_event(quick_ws, status_is("IDLE", "INTERACTING"))  # (offered at once if it expired)

    next_event(slow_ws, status_is("NOT_RESPONDING"))
    status = gc.UsersApi(slow_sdk).get_user_routingstatus(slow["id"])
    assert status.status == "NOT_RESPONDING"

    # -- the other agent gets it, accepts, replies, disconnects with a wrap-up code ----------
    next_event(quick_ws, offer_for(conversation_id, quick["id"]))
    conversations = gc.ConversationsApi(quick_sdk)
    conversation = conversations.get_conversation(conversation_id)
    [party] = [p for p in conversation.participants
               if p.purpose == "agent" and p.user_id == quick["id"]
               and p.messages[0].state == "alerting"]
    [customer_party] = [p for p in conversation.participants if p.purpose == "customer"]
    assert customer_party.attributes == {"topic": "orders"}
    [timed_out] = [p for p in conversation.participants
                   if p.purpose == "agent" and p.user_id == slow["id"]]
    assert timed_out.messages[0].disconnect_type == "timeout"

    conversations.patch_conversations_message_participant(
        conversation_id, party.id, body=model(gc.MediaParticipantRequest, state="connected"))
    reply = "Happy to help with your order - what is the order number?"
    sent = conversations.post_conversations_message_communication_messages(
        conversation_id, party.messages[0].id, model(gc.AdditionalMessage, text_body=reply))
    assert sent.to_address == customer and sent.from_address == number

    phone = received(server, admin, customer, sent=2, got=3)
    assert [(m["fromAddress"], m["text"], m["status"]) for m in phone][-1] == (
        number, reply, "delivery-success")

    conversations.patch_conversations_message_participant(
        conversation_id, party.id, body=model(
            gc.MediaParticipantRequest, state="disconnected",
            wrapup=model(gc.WrapupInput, code=code_id, notes="order question")))

    done = gc.ConversationsApi(admin_sdk).get_conversation(conversation_id)
    [mine] = [p for p in done.participants if p.id == party.id]
    assert mine.wrapup is not None and mine.wrapup.code == code_id
    assert mine.messages[0].state == "disconnected"
    assert done.state == "disconnected"
    assert gc.UsersApi(quick_sdk).get_user_routingstatus(quick["id"]).status == "IDLE"

    # The agent who did not answer clears NOT_RESPONDING with PUT routingstatus IDLE.
    back = gc.UsersApi(slow_sdk).put_user_routingstatus(slow["id"],
                                                        model(gc.RoutingStatus, status="IDLE"))
    assert back.status == "IDLE"
    next_event(slow_ws, status_is("IDLE"))
