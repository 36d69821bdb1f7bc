"""Notifications: channels, their subscriptions, and the websocket at each connectUri.

The REST half runs on the in-process client. The websocket half needs a real socket, so this
module starts its own server: a second Parley on the same database (as a second node would
be), with a 0.2 s heartbeat, served by uvicorn on a free loopback port inside the session's
event loop, for the module's lifetime. Every wait is bounded (asyncio.wait_for); nothing
asserts on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from parley.api.app import create_app
from parley.bootstrap import Parley, bootstrap
from tests.api.support import (
    MESSAGES,
    REDIRECT,
    assert_error,
    assert_token,
    bearer,
    code_login,
    conversation,
    customer_for,
    disconnect,
    ok,
    party,
    pkce_pair,
    send_path,
)
from tests.conftest import settings_for
from tests.leaks import secret
from tests.orgs import Tenant, make_org

CHANNELS = "/api/v2/notifications/channels"
MISSING = "00000000-0000-0000-0000-000000000000"
HEARTBEAT_S = 0.2
WAIT_S = 10.0
"""Upper bound for anything to arrive; tests never depend on how fast it does."""


def subs_url(channel_id: str) -> str:
    return f"{CHANNELS}/{channel_id}/subscriptions"


def presence_topic(user_id: str) -> str:
    return f"v2.users.{user_id}.presence"


def status_topic(user_id: str) -> str:
    return f"v2.users.{user_id}.routingStatus"


def user_conv_topic(user_id: str) -> str:
    return f"v2.users.{user_id}.conversations.messages"


def queue_topic(queue_id: str) -> str:
    return f"v2.routing.queues.{queue_id}.conversations.messages"


def topics(body: dict[str, Any]) -> dict[str, str]:
    """topic id -> state, of a subscription answer."""
    assert set(body) == {"entities"}, body
    return {t["id"]: t.get("state", "") for t in body["entities"]}


async def new_channel(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.post(CHANNELS, headers=headers))
    secret(body["id"], "notification channel id")
    return body


async def subscribed(http: httpx.AsyncClient, headers: dict[str, str],
                     channel_id: str) -> set[str]:
    return set(topics(ok(await http.get(subs_url(channel_id), headers=headers))))


def ids(ts: list[str]) -> list[dict[str, str]]:
    return [{"id": t} for t in ts]


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- channels ---------------------------------------------------------------------------------


async def test_create_a_channel(http: httpx.AsyncClient, org: Tenant) -> None:
    before = datetime.now(UTC)
    channel = await new_channel(http, org.agents[0].headers)
    assert set(channel) == {"id", "connectUri", "expires"}
    assert channel["connectUri"] == f"ws://parley.test/channels/{channel['id']}"
    assert channel["expires"].endswith("Z")
    expires = datetime.fromisoformat(channel["expires"].replace("Z", "+00:00"))
    assert before + timedelta(hours=23) < expires <= datetime.now(UTC) + timedelta(hours=25)
    resp = await http.head(f"{CHANNELS}/{channel['id']}", headers=org.agents[0].headers)
    assert resp.status_code == 200
    assert await subscribed(http, org.agents[0].headers, channel["id"]) == set()


async def test_channels_are_listed_per_token(http: httpx.AsyncClient, org: Tenant) -> None:
    a, b = org.agents
    mine = [(await new_channel(http, a.headers))["id"] for _ in range(2)]
    theirs = (await new_channel(http, b.headers))["id"]
    listed = ok(await http.get(CHANNELS, headers=a.headers))
    assert set(listed) == {"entities"}
    assert {c["id"] for c in listed["entities"]} == set(mine)
    assert all(c["connectUri"].endswith(f"/channels/{c['id']}") for c in listed["entities"])
    listed = ok(await http.get(CHANNELS, headers=b.headers,
                               params={"includechannels": "token"}))
    assert [c["id"] for c in listed["entities"]] == [theirs]
    assert ok(await http.get(CHANNELS, headers=org.admin_headers))["entities"] == []


async def test_channels_need_a_token(http: httpx.AsyncClient, org: Tenant) -> None:
    channel = await new_channel(http, org.agents[0].headers)
    assert_error(await http.post(CHANNELS), 401)
    assert_error(await http.get(CHANNELS), 401)
    assert_error(await http.get(subs_url(channel["id"])), 401)
    assert_error(await http.put(subs_url(channel["id"]), json=[]), 401)
    assert (await http.head(f"{CHANNELS}/{channel['id']}")).status_code == 401
    assert_error(await http.get("/api/v2/notifications/availabletopics"), 401)


async def test_unknown_channels_are_404(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.agents[0].headers
    assert (await http.head(f"{CHANNELS}/{MISSING}", headers=h)).status_code == 404
    assert_error(await http.get(subs_url(MISSING), headers=h), 404, "not found")
    assert_error(await http.put(subs_url(MISSING), headers=h, json=[]), 404, "not found")
    assert_error(await http.post(subs_url(MISSING), headers=h, json=[]), 404, "not found")
    assert_error(await http.delete(subs_url(MISSING), headers=h), 404, "not found")


async def test_available_topics(http: httpx.AsyncClient, org: Tenant) -> None:
    body = ok(await http.get("/api/v2/notifications/availabletopics",
                             headers=org.agents[0].headers))
    assert set(body) == {"entities"}
    listed = {t["id"].lower() for t in body["entities"]}
    assert listed == {"v2.users.{id}.conversations.messages", "v2.users.{id}.presence",
                      "v2.users.{id}.routingstatus",
                      "v2.routing.queues.{id}.conversations.messages"}
    assert all(t["description"] for t in body["entities"])


# -- subscriptions ----------------------------------------------------------------------------


async def test_put_replaces_post_adds_delete_clears(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    me = org.agents[0]
    h = me.headers
    channel_id = (await new_channel(http, h))["id"]
    url = subs_url(channel_id)
    first = [presence_topic(me.id), status_topic(me.id)]
    answer = ok(await http.put(url, headers=h, json=ids(first)))
    assert topics(answer) == dict.fromkeys(first, "Permitted")
    assert await subscribed(http, h, channel_id) == set(first)
    listed = ok(await http.get(url, headers=h))["entities"]
    assert all(t["selfUri"] == url for t in listed)

    answer = ok(await http.post(url, headers=h, json=ids([user_conv_topic(me.id)])))
    assert topics(answer) == {user_conv_topic(me.id): "Permitted"}
    assert await subscribed(http, h, channel_id) == {*first, user_conv_topic(me.id)}

    ok(await http.put(url, headers=h, json=ids([queue_topic(org.queue_id)])))
    assert await subscribed(http, h, channel_id) == {queue_topic(org.queue_id)}

    resp = await http.delete(url, headers=h)
    assert resp.status_code == 204, resp.text
    assert await subscribed(http, h, channel_id) == set()
    ok(await http.post(url, headers=h, json=ids(first)))
    ok(await http.put(url, headers=h, json=[]))
    assert await subscribed(http, h, channel_id) == set()


async def test_topics_compare_case_insensitively(http: httpx.AsyncClient, org: Tenant) -> None:
    me = org.agents[0]
    channel_id = (await new_channel(http, me.headers))["id"]
    url = subs_url(channel_id)
    ok(await http.put(url, headers=me.headers, json=ids([status_topic(me.id)])))
    lower = f"v2.users.{me.id}.routingstatus"
    answer = ok(await http.post(url, headers=me.headers, json=ids([lower])))
    assert topics(answer) == {lower: "Permitted"}
    # One subscription, under the latest spelling.
    assert await subscribed(http, me.headers, channel_id) == {lower}
    upper_id = f"v2.users.{me.id.upper()}.presence"
    assert topics(ok(await http.post(url, headers=me.headers, json=ids([upper_id])))) == \
        {upper_id: "Permitted"}


async def test_agent_may_not_watch_another_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    me, other = org.agents
    h = me.headers
    channel_id = (await new_channel(http, h))["id"]
    url = subs_url(channel_id)
    ok(await http.put(url, headers=h, json=ids([presence_topic(me.id)])))
    for topic in (presence_topic(other.id), status_topic(other.id),
                  user_conv_topic(org.admin.id)):
        body = assert_error(await http.put(url, headers=h,
                                           json=ids([status_topic(me.id), topic])),
                            400, topic, "rejected", "supervisors")
        assert body["details"][0]["fieldName"] == "id"
        assert_error(await http.post(url, headers=h, json=ids([topic])), 400, "rejected")
    # Rejected requests change nothing.
    assert await subscribed(http, h, channel_id) == {presence_topic(me.id)}


async def test_ignore_errors_subscribes_the_permitted_topics(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    me, other = org.agents
    h = me.headers
    channel_id = (await new_channel(http, h))["id"]
    wanted = [presence_topic(me.id), presence_topic(other.id), status_topic(me.id)]
    answer = ok(await http.put(subs_url(channel_id), headers=h, json=ids(wanted),
                               params={"ignoreErrors": "true"}))
    assert topics(answer) == {presence_topic(me.id): "Permitted",
                              presence_topic(other.id): "Rejected",
                              status_topic(me.id): "Permitted"}
    rejected = next(t for t in answer["entities"] if t["state"] == "Rejected")
    assert "supervisors" in rejected["rejectionReason"]
    assert await subscribed(http, h, channel_id) == {presence_topic(me.id), status_topic(me.id)}
    answer = ok(await http.post(subs_url(channel_id), headers=h, params={"ignoreErrors": True},
                                json=ids([status_topic(other.id)])))
    assert topics(answer) == {status_topic(other.id): "Rejected"}
    assert await subscribed(http, h, channel_id) == {presence_topic(me.id), status_topic(me.id)}


async def test_admins_may_watch_any_agent_of_their_org(http: httpx.AsyncClient, org: Tenant,
                                                       other_org: Tenant) -> None:
    agent = org.agents[1]
    wanted = [presence_topic(agent.id), status_topic(agent.id), user_conv_topic(agent.id)]
    for headers in (org.admin.headers, org.admin_headers):
        channel_id = (await new_channel(http, headers))["id"]
        answer = ok(await http.put(subs_url(channel_id), headers=headers, json=ids(wanted)))
        assert topics(answer) == dict.fromkeys(wanted, "Permitted")
        # ...but not another organisation's, nor users that do not exist.
        for user_id in (other_org.agents[0].id, MISSING):
            assert_error(await http.post(subs_url(channel_id), headers=headers,
                                         json=ids([presence_topic(user_id)])), 400,
                         "not found")
        assert await subscribed(http, headers, channel_id) == set(wanted)


async def test_queue_topics_need_membership_or_a_supervisor(http: httpx.AsyncClient,
                                                            org: Tenant,
                                                            other_org: Tenant) -> None:
    sales = ok(await http.post("/api/v2/routing/queues", headers=org.admin_headers,
                               json={"name": "Sales"}))
    member = org.agents[0]
    cases = [(member.headers, queue_topic(org.queue_id), "Permitted"),
             (member.headers, queue_topic(sales["id"]), "Rejected"),
             (org.admin.headers, queue_topic(sales["id"]), "Permitted"),
             (org.admin_headers, queue_topic(org.queue_id), "Permitted"),
             (member.headers, queue_topic(other_org.queue_id), "Rejected"),
             (org.admin_headers, queue_topic(other_org.queue_id), "Rejected"),
             (org.admin_headers, queue_topic(MISSING), "Rejected")]
    for headers, topic, state in cases:
        channel_id = (await new_channel(http, headers))["id"]
        answer = ok(await http.put(subs_url(channel_id), headers=headers, json=ids([topic]),
                                   params={"ignoreErrors": "true"}))
        assert topics(answer) == {topic: state}, (topic, answer)
        assert await subscribed(http, headers, channel_id) == \
            ({topic} if state == "Permitted" else set())
    channel_id = (await new_channel(http, member.headers))["id"]
    assert_error(await http.put(subs_url(channel_id), headers=member.headers,
                                json=ids([queue_topic(sales["id"])])), 400,
                 "only members of the queue")


@pytest.mark.parametrize("topic", [
    "v2.users.{me}.activity", "v2.users.{me}", "v2.analytics.queues.{queue}.observations",
    "v2.routing.queues.{queue}.users", "channel.metadata", "v2.users.not-a-uuid.presence",
    "v2.users.{me}.presence.extra", " v2.users.{me}.presence", "", "*"])
async def test_unknown_topics_are_rejected(http: httpx.AsyncClient, org: Tenant,
                                           topic: str) -> None:
    me = org.agents[0]
    topic = topic.format(me=me.id, queue=org.queue_id)
    for headers in (me.headers, org.admin_headers):
        channel_id = (await new_channel(http, headers))["id"]
        answer = ok(await http.put(subs_url(channel_id), headers=headers, json=ids([topic]),
                                   params={"ignoreErrors": "true"}))
        [result] = answer["entities"]
        assert result["state"] == "Rejected", result
        assert result["rejectionReason"]
        assert_error(await http.put(subs_url(channel_id), headers=headers, json=ids([topic])),
                     400, "rejected")
        assert await subscribed(http, headers, channel_id) == set()


@pytest.mark.parametrize("body", [{"id": "x"}, [{}], [{"id": 5}], "v2.users", [None]])
async def test_bad_subscription_bodies_are_400(http: httpx.AsyncClient, org: Tenant,
                                               body: Any) -> None:
    h = org.agents[0].headers
    channel_id = (await new_channel(http, h))["id"]
    assert_error(await http.put(subs_url(channel_id), headers=h, json=body), 400)
    assert_error(await http.post(subs_url(channel_id), headers=h, json=body), 400)


async def test_another_tokens_channel_is_out_of_reach(http: httpx.AsyncClient, org: Tenant,
                                                      other_org: Tenant) -> None:
    owner = org.agents[0]
    channel_id = (await new_channel(http, owner.headers))["id"]
    url = subs_url(channel_id)
    ok(await http.put(url, headers=owner.headers, json=ids([presence_topic(owner.id)])))
    # Another user of the same OAuth client (an agent, the admin user), or another client.
    for headers in (org.agents[1].headers, org.admin.headers, org.admin_headers):
        assert_error(await http.get(url, headers=headers), 403, "another token")
        assert_error(await http.put(url, headers=headers, json=[]), 403, "another token")
        assert_error(await http.post(url, headers=headers,
                                     json=ids([presence_topic(org.agents[1].id)])), 403)
        assert_error(await http.delete(url, headers=headers), 403)
        assert (await http.head(f"{CHANNELS}/{channel_id}", headers=headers)).status_code == 403
    # Another organisation does not even learn that it exists.
    for headers in (other_org.agents[0].headers, other_org.admin_headers):
        assert_error(await http.get(url, headers=headers), 404, "not found")
        assert_error(await http.put(url, headers=headers, json=[]), 404)
        assert_error(await http.delete(url, headers=headers), 404)
        assert (await http.head(f"{CHANNELS}/{channel_id}", headers=headers)).status_code == 404
    assert await subscribed(http, owner.headers, channel_id) == {presence_topic(owner.id)}


async def test_a_client_credentials_channel_belongs_to_its_client(
        http: httpx.AsyncClient, org: Tenant) -> None:
    channel_id = (await new_channel(http, org.admin_headers))["id"]
    ok(await http.put(subs_url(channel_id), headers=org.admin_headers,
                      json=ids([presence_topic(org.agents[0].id)])))
    for headers in (org.admin.headers, org.agents[0].headers):
        assert_error(await http.get(subs_url(channel_id), headers=headers), 403)


# -- the websocket ----------------------------------------------------------------------------


@dataclass
class Live:
    parley: Parley
    http: httpx.AsyncClient
    ws_base: str


@pytest.fixture(scope="module")
async def live(parley: Parley, database_url: str,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    """A second node on the session's (already migrated) database, with a fast heartbeat,
    served over a real socket for the websocket tests."""
    node = bootstrap(settings_for(database_url, tmp_path_factory.mktemp("live"),
                                  notification_heartbeat_s=HEARTBEAT_S))
    await node.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(node, manage_lifecycle=False), loop="asyncio",
                            lifespan="off", log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async def started() -> None:
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("the server stopped before it started")
                await asyncio.sleep(0.01)

        await asyncio.wait_for(started(), WAIT_S)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield Live(node, client, f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serving, WAIT_S)
        sock.close()
        await node.stop()


@pytest.fixture
async def live_org(live: Live) -> Tenant:
    return await make_org(live.parley, live.http)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
    return message


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    while True:
        message = await receive(ws)
        if message["topicName"] != "channel.metadata":
            return message


async def events(ws: ClientConnection, n: int) -> dict[str, dict[str, Any]]:
    """The next `n` events, by topicName."""
    out: dict[str, dict[str, Any]] = {}
    for _ in range(n):
        e = await next_event(ws)
        assert e["topicName"] not in out, e
        out[e["topicName"]] = e
    return out


async def open_channel(live: Live, headers: dict[str, str],
                       subscribe: list[str]) -> str:
    channel = await new_channel(live.http, headers)
    assert channel["connectUri"] == f"{live.ws_base}/channels/{channel['id']}"
    if subscribe:
        answer = ok(await live.http.put(subs_url(channel["id"]), headers=headers,
                                        json=ids(subscribe)))
        assert set(topics(answer).values()) == {"Permitted"}
    return str(channel["connectUri"])


def assert_envelope(e: dict[str, Any], topic: str) -> dict[str, Any]:
    assert set(e) == {"topicName", "version", "eventBody", "metadata"}, e
    assert e["topicName"] == topic
    assert e["version"] == "2"
    assert e["metadata"]["CorrelationId"]
    body: dict[str, Any] = e["eventBody"]
    return body


async def on_queue_id(live: Live, headers: dict[str, str]) -> str:
    listing = ok(await live.http.get("/api/v2/presence/definitions", headers=headers))
    return str(next(d["id"] for d in listing["entities"] if d["systemPresence"] == "OnQueue"))


async def go_on_queue(live: Live, person_id: str, headers: dict[str, str]) -> None:
    ok(await live.http.patch(f"/api/v2/users/{person_id}/presences/purecloud", headers=headers,
                             json={"presenceDefinition": {"id": await on_queue_id(live,
                                                                                   headers)}}))


async def test_going_on_queue_delivers_presence_and_routing_status(live: Live,
                                                                   live_org: Tenant) -> None:
    me = live_org.agents[0]
    subscribe = [presence_topic(me.id), status_topic(me.id)]
    uri = await open_channel(live, me.headers, subscribe)
    async with connect(uri) as ws:
        await go_on_queue(live, me.id, me.headers)
        got = await events(ws, 2)
        assert set(got) == set(subscribe)

        presence = assert_envelope(got[presence_topic(me.id)], presence_topic(me.id))
        assert presence["presenceDefinition"]["id"] == await on_queue_id(live, me.headers)
        assert presence["presenceDefinition"]["systemPresence"] in ("ONQUEUE", "ON_QUEUE")
        assert presence["source"] == "PURECLOUD"
        assert presence["primary"] is True
        assert presence["modifiedDate"].endswith("Z")

        status = assert_envelope(got[status_topic(me.id)], status_topic(me.id))
        assert status["id"] == me.id
        assert status["routingStatus"]["status"] == "IDLE"
        assert status["routingStatus"]["startTime"].endswith("Z")

        # Off queue again: the routing status follows.
        ok(await live.http.put(f"/api/v2/users/{me.id}/routingstatus", headers=me.headers,
                               json={"status": "OFF_QUEUE"}))
        got = await events(ws, 2)
        assert got[status_topic(me.id)]["eventBody"]["routingStatus"]["status"] == "OFF_QUEUE"
        assert got[presence_topic(me.id)]["eventBody"]["presenceDefinition"][
            "systemPresence"] == "AVAILABLE"


async def test_topic_name_echoes_the_subscribed_spelling(live: Live,
                                                         live_org: Tenant) -> None:
    me = live_org.agents[1]
    spelling = f"v2.users.{me.id.upper()}.ROUTINGSTATUS"
    uri = await open_channel(live, me.headers, [spelling])
    async with connect(uri) as ws:
        ok(await live.http.put(f"/api/v2/users/{me.id}/routingstatus", headers=me.headers,
                               json={"status": "IDLE"}))
        body = assert_envelope(await next_event(ws), spelling)
        assert body["routingStatus"]["status"] == "IDLE"


async def test_a_supervisor_channel_hears_an_agents_changes(live: Live,
                                                            live_org: Tenant) -> None:
    agent = live_org.agents[0]
    admin = live_org.admin
    uri = await open_channel(live, admin.headers, [presence_topic(agent.id)])
    async with connect(uri) as ws:
        ok(await live.http.patch(f"/api/v2/users/{agent.id}/presences/purecloud",
                                 headers=agent.headers,
                                 json={"presenceDefinition": {"systemPresence": "Break"}}))
        body = assert_envelope(await next_event(ws), presence_topic(agent.id))
        assert body["presenceDefinition"]["systemPresence"] == "BREAK"


async def test_conversation_events_reach_user_and_queue_topics(live: Live,
                                                               live_org: Tenant) -> None:
    agent = live_org.agents[0]
    agent_uri = await open_channel(live, agent.headers, [user_conv_topic(agent.id)])
    queue_uri = await open_channel(live, live_org.admin_headers,
                                   [queue_topic(live_org.queue_id)])
    async with connect(agent_uri) as agent_ws, connect(queue_uri) as queue_ws:
        created = ok(await live.http.post(MESSAGES, headers=agent.headers, json={
            "queueId": live_org.queue_id, "toAddress": customer_for(live_org),
            "toAddressMessengerType": "sms"}))
        conv = await conversation(live.http, agent.headers, created["id"])
        me = party(conv, "agent", agent.id)
        resp = await disconnect(live.http, agent.headers, created["id"], me["id"])
        assert resp.status_code in (200, 202, 204), resp.text
        for ws, topic in ((agent_ws, user_conv_topic(agent.id)),
                          (queue_ws, queue_topic(live_org.queue_id))):
            body = assert_envelope(await next_event(ws), topic)
            assert body["id"] == created["id"]
            assert agent.id in [p.get("user", {}).get("id") for p in body["participants"]]


async def test_delivery_status_changes_are_pushed(live: Live, live_org: Tenant) -> None:
    """The ticks on the agent's screen: sent, then delivered, without asking."""
    agent = live_org.agents[0]
    uri = await open_channel(live, agent.headers, [user_conv_topic(agent.id)])
    created = ok(await live.http.post(MESSAGES, headers=agent.headers, json={
        "queueId": live_org.queue_id, "toAddress": customer_for(live_org),
        "toAddressMessengerType": "sms"}))
    conv = await conversation(live.http, agent.headers, created["id"])
    me = party(conv, "agent", agent.id)
    async with connect(uri) as ws:
        sent = ok(await live.http.post(send_path(created["id"], me["messages"][0]["id"]),
                                       headers=agent.headers, json={"textBody": "Tick tock"}))
        seen: list[str] = []
        while "delivery-success" not in seen:
            body = assert_envelope(await next_event(ws), user_conv_topic(agent.id))
            assert body["id"] == created["id"]
            [mine] = [p for p in body["participants"] if p.get("user", {}).get("id") == agent.id]
            statuses = {m["message"]["id"]: m["messageStatus"] for m in mine["messages"]}
            if sent["id"] in statuses:  # (the conversation's start came first)
                seen.append(statuses[sent["id"]])
        assert seen[-1] == "delivery-success"
        assert set(seen) <= {"queued", "sent", "delivery-success"}


async def test_heartbeats_arrive_without_subscriptions(live: Live, live_org: Tenant) -> None:
    uri = await open_channel(live, live_org.agents[0].headers, [])
    async with connect(uri) as ws:
        for _ in range(2):
            beat = await receive(ws)
            body = assert_envelope(beat, "channel.metadata")
            assert body == {"message": "WebSocket Heartbeat"}


async def test_ping_gets_pong(live: Live, live_org: Tenant) -> None:
    uri = await open_channel(live, live_org.agents[0].headers, [])
    async with connect(uri) as ws:
        # Junk from the client is ignored, not fatal.
        for junk in ("hello", "[1, 2]", "42", "null", '"ping"', '{"message": 5}'):
            await ws.send(junk)
        await ws.send(json.dumps({"message": "ping"}))
        while True:
            message = await receive(ws)
            body = assert_envelope(message, "channel.metadata")
            if body["message"] == "pong":
                break
            assert body["message"] == "WebSocket Heartbeat", message
        await ws.send(json.dumps({"message": "ping"}))
        while (await receive(ws))["eventBody"]["message"] != "pong":
            pass


async def test_an_unknown_channel_is_refused(live: Live) -> None:
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        async with connect(f"{live.ws_base}/channels/{MISSING}") as ws:
            await receive(ws)
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        async with connect(f"{live.ws_base}/channels/not-a-channel") as ws:
            await receive(ws)


async def test_another_orgs_events_never_reach_a_channel(live: Live, live_org: Tenant) -> None:
    other = await make_org(live.parley, live.http)
    me, them = live_org.agents[0], other.agents[0]
    mine = await open_channel(live, me.headers, [presence_topic(me.id)])
    theirs = await open_channel(live, them.headers, [presence_topic(them.id)])
    async with connect(mine) as my_ws, connect(theirs) as their_ws:
        # The other organisation's agent changes presence: their channel hears it...
        await go_on_queue(live, them.id, them.headers)
        body = assert_envelope(await next_event(their_ws), presence_topic(them.id))
        assert body["presenceDefinition"]["systemPresence"] in ("ONQUEUE", "ON_QUEUE")
        # ...and an event on my very topic, but of the other organisation, goes nowhere.
        live.parley.bus.publish(presence_topic(me.id), {"forged": True}, org_id=other.id)
        # My own change is the first event my channel gets.
        ok(await live.http.patch(f"/api/v2/users/{me.id}/presences/purecloud",
                                 headers=me.headers,
                                 json={"presenceDefinition": {"systemPresence": "Meal"}}))
        body = assert_envelope(await next_event(my_ws), presence_topic(me.id))
        assert "forged" not in body
        assert body["presenceDefinition"]["systemPresence"] == "MEAL"


# -- a channel lives no longer than its token's right to it -------------------------------------


async def assert_ended(ws: ClientConnection, why: str) -> None:
    """The socket is told why (v2.system.socket_closing) and closed as a policy violation."""
    body = assert_envelope(await next_event(ws), "v2.system.socket_closing")
    assert why in body["message"], body
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_revoking_the_token_ends_its_channels(live: Live, live_org: Tenant) -> None:
    me, other = live_org.agents
    mine = await open_channel(live, me.headers, [presence_topic(me.id)])
    theirs = await open_channel(live, other.headers, [presence_topic(other.id)])
    channel_id = mine.rsplit("/", 1)[1]
    async with connect(mine) as my_ws, connect(theirs) as their_ws:
        r = await live.http.delete("/api/v2/tokens/me", headers=me.headers)
        assert r.status_code == 204
        await assert_ended(my_ws, "revoked")
        # Another agent's channel is untouched: it still hears its own events.
        await go_on_queue(live, other.id, other.headers)
        assert_envelope(await next_event(their_ws), presence_topic(other.id))
    with pytest.raises((InvalidStatus, ConnectionClosed)):  # and it cannot be reopened
        async with connect(mine) as ws:
            await receive(ws)
    assert_error(await live.http.get(subs_url(channel_id), headers=other.headers), 404)


async def test_a_role_change_ends_the_channels_of_that_users_tokens(
        live: Live, live_org: Tenant) -> None:
    supervisor = live_org.agents[0]
    url = f"/api/v2/users/{supervisor.id}"
    ok(await live.http.patch(url, headers=live_org.admin_headers,
                             json={"roles": ["supervisor"]}))
    watched = live_org.agents[1]
    uri = await open_channel(live, supervisor.headers, [presence_topic(watched.id)])
    async with connect(uri) as ws:
        # Demoted: what the channel was allowed to watch is no longer the user's to see.
        ok(await live.http.patch(url, headers=live_org.admin_headers,
                                 json={"roles": ["agent"]}))
        await assert_ended(ws, "role changed")
    # A new channel is checked with the new role.
    channel = await new_channel(live.http, supervisor.headers)
    answer = ok(await live.http.put(subs_url(channel["id"]), headers=supervisor.headers,
                                    json=ids([presence_topic(watched.id)]),
                                    params={"ignoreErrors": "true"}))
    assert set(topics(answer).values()) == {"Rejected"}


async def test_another_nodes_revocation_ends_the_channel_at_the_next_check(
        live: Live, live_org: Tenant, parley: Parley) -> None:
    """The session Parley is the other node: it revokes the token; `live` learns it when it
    re-reads its channels' tokens (every REVALIDATE_S in a server; here, by hand)."""
    me, other = live_org.agents
    mine = await open_channel(live, me.headers, [presence_topic(me.id)])
    theirs = await open_channel(live, other.headers, [presence_topic(other.id)])
    async with connect(mine) as my_ws, connect(theirs) as their_ws:
        await parley.auth.revoke(await parley.auth.authenticate(me.token))
        await live.parley.notifications.revalidate()  # (or its own 30 s check came first)
        await assert_ended(my_ws, "revoked")
        await go_on_queue(live, other.id, other.headers)
        assert_envelope(await next_event(their_ws), presence_topic(other.id))


async def test_a_refreshed_token_keeps_its_channels(live: Live, live_org: Tenant) -> None:
    """A refresh is the same session with a new token: the channel stays, and belongs to the
    new token from then on (revoking that one ends it)."""
    me = live_org.agents[0]
    verifier, challenge = pkce_pair()
    code = await code_login(live.http, live_org.browser_client_id, me.user.email, me.password,
                            challenge=challenge)
    first = assert_token(await live.http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": live_org.browser_client_id, "redirect_uri": REDIRECT}), refresh=True)
    uri = await open_channel(live, bearer(first["access_token"]), [presence_topic(me.id)])
    async with connect(uri) as ws:
        second = assert_token(await live.http.post("/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "client_id": live_org.browser_client_id}), refresh=True)
        await live.parley.notifications.revalidate()  # the owner still holds a live token
        await go_on_queue(live, me.id, bearer(second["access_token"]))
        assert_envelope(await next_event(ws), presence_topic(me.id))
        r = await live.http.delete("/api/v2/tokens/me",
                                   headers=bearer(second["access_token"]))
        assert r.status_code == 204
        await assert_ended(ws, "revoked")
