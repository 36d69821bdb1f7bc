"""Agents over HTTP: presence definitions, presence, routing status and utilization.

Presence is what the agent says; routing status is what the ACD makes of it (OFF_QUEUE until
the agent goes On Queue, then IDLE). Agents change only their own; supervisors and admins
change anyone's in their organisation. Utilization (message capacity) is configuration:
admins set it for the organisation or per agent, agents may only read it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import assert_error, assert_nul_refused_or, ok
from tests.orgs import Tenant, make_org

DEFINITIONS = "/api/v2/presence/definitions"
SYSTEM_PRESENCES = {"Available", "Away", "Busy", "Offline", "Idle", "OnQueue", "Meal",
                    "Training", "Meeting", "Break"}
ROUTING_STATUSES = {"OFF_QUEUE", "IDLE", "INTERACTING", "NOT_RESPONDING", "COMMUNICATING"}
ORG_UTILIZATION = "/api/v2/routing/utilization"


def presence_url(user_id: str) -> str:
    return f"/api/v2/users/{user_id}/presences/purecloud"


def status_url(user_id: str) -> str:
    return f"/api/v2/users/{user_id}/routingstatus"


def utilization_url(user_id: str) -> str:
    return f"/api/v2/routing/users/{user_id}/utilization"


def capacity(n: object) -> dict[str, Any]:
    return {"utilization": {"message": {"maximumCapacity": n}}}


def message_capacity(body: dict[str, Any]) -> int:
    value = body["utilization"]["message"]["maximumCapacity"]
    assert isinstance(value, int)
    return value


async def definitions(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """systemPresence -> definition id."""
    listing = ok(await http.get(DEFINITIONS, headers=headers))
    return {d["systemPresence"]: d["id"] for d in listing["entities"]}


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- presence definitions ---------------------------------------------------------------------


async def test_presence_definitions_list_the_genesys_system_presences(
        http: httpx.AsyncClient, org: Tenant) -> None:
    listing = ok(await http.get(DEFINITIONS, headers=org.agents[0].headers))
    assert set(listing) == {"entities", "total", "selfUri"}
    assert listing["selfUri"] == DEFINITIONS
    entities = listing["entities"]
    assert listing["total"] == len(entities) == len(SYSTEM_PRESENCES)
    assert {d["systemPresence"] for d in entities} == SYSTEM_PRESENCES
    assert len({d["id"] for d in entities}) == len(entities)
    for d in entities:
        assert d["type"] == "System"
        assert d["deactivated"] is False
        assert d["languageLabels"]["en_US"] == d["name"]
        assert d["selfUri"] == f"{DEFINITIONS}/{d['id']}"
        assert ok(await http.get(d["selfUri"], headers=org.admin_headers)) == d
    on_queue = next(d for d in entities if d["systemPresence"] == "OnQueue")
    assert on_queue["name"] == "On Queue"


async def test_presence_definition_ids_are_stable_across_calls_and_orgs(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    first = await definitions(http, org.agents[0].headers)
    assert await definitions(http, org.admin_headers) == first
    assert await definitions(http, other_org.agents[1].headers) == first


async def test_presence_definitions_need_a_token_and_a_known_id(http: httpx.AsyncClient,
                                                                org: Tenant) -> None:
    assert_error(await http.get(DEFINITIONS), 401)
    assert_error(await http.get(f"{DEFINITIONS}/00000000-0000-0000-0000-000000000000",
                                headers=org.admin_headers), 404, "not found")
    assert_error(await http.get(f"{DEFINITIONS}/OnQueue", headers=org.admin_headers), 404)


# -- presence ---------------------------------------------------------------------------------


async def test_a_new_agent_is_offline(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    p = ok(await http.get(presence_url(agent.id), headers=agent.headers))
    assert p["presenceDefinition"]["systemPresence"] == "Offline"
    assert p["presenceDefinition"]["id"] == (await definitions(http, agent.headers))["Offline"]
    assert p["source"] == p["sourceId"] == "PURECLOUD"
    assert p["primary"] is True
    assert p["selfUri"] == presence_url(agent.id)


async def test_agent_sets_presence_by_definition_id(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    agent = org.agents[0]
    ids = await definitions(http, agent.headers)
    p = ok(await http.patch(presence_url(agent.id), headers=agent.headers, json={
        "presenceDefinition": {"id": ids["OnQueue"]}, "message": "ready"}))
    assert p["presenceDefinition"]["id"] == ids["OnQueue"]
    assert p["presenceDefinition"]["systemPresence"] == "OnQueue"
    assert p["name"] == "On Queue"
    assert p["message"] == "ready"
    assert p["modifiedDate"].endswith("Z")
    got = ok(await http.get(presence_url(agent.id), headers=org.admin_headers))
    assert got["presenceDefinition"] == p["presenceDefinition"]
    assert got["message"] == "ready"


@pytest.mark.parametrize(("spelling", "expected"), [
    ("Break", "Break"), ("OnQueue", "OnQueue"), ("On Queue", "OnQueue"),
    ("ON_QUEUE", "OnQueue"), ("available", "Available")])
async def test_agent_sets_presence_by_system_presence_name(
        http: httpx.AsyncClient, org: Tenant, spelling: str, expected: str) -> None:
    agent = org.agents[1]
    ids = await definitions(http, agent.headers)
    p = ok(await http.patch(presence_url(agent.id), headers=agent.headers,
                            json={"presenceDefinition": {"systemPresence": spelling}}))
    assert p["presenceDefinition"]["systemPresence"] == expected
    assert p["presenceDefinition"]["id"] == ids[expected]


async def test_bad_presence_bodies_are_400(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    url = presence_url(agent.id)
    h = agent.headers
    assert_error(await http.patch(url, headers=h, json={
        "presenceDefinition": {"id": "00000000-0000-0000-0000-000000000000"}}), 400,
        "not a presence definition", field="presenceDefinition.id")
    assert_error(await http.patch(url, headers=h, json={
        "presenceDefinition": {"id": "OnQueue"}}), 400, "not a presence definition")
    assert_error(await http.patch(url, headers=h, json={
        "presenceDefinition": {"systemPresence": "Sleeping"}}), 400, "Sleeping",
        field="presenceDefinition.systemPresence")
    assert_error(await http.patch(url, headers=h, json={}), 400, "required",
                 field="presenceDefinition.id")
    assert_error(await http.patch(url, headers=h, json={"presenceDefinition": {}}), 400,
                 "required")
    assert_error(await http.patch(url, headers=h, json={"presenceDefinition": "OnQueue"}), 400)
    assert_error(await http.patch(url, headers={**h, "Content-Type": "application/json"},
                                  content=b"{not json"), 400, "not valid JSON")
    # Nothing changed.
    p = ok(await http.get(url, headers=h))
    assert p["presenceDefinition"]["systemPresence"] == "Offline"


async def test_unstorable_presence_messages_are_400_not_500(
        http: httpx.AsyncClient, org: Tenant, database_url: str) -> None:
    agent = org.agents[0]
    h = {**agent.headers, "Content-Type": "application/json"}
    resp = await http.patch(presence_url(agent.id), headers=agent.headers, json={
        "presenceDefinition": {"systemPresence": "Busy"}, "message": "a\u0000b"})
    assert_nul_refused_or(resp, database_url, 200)
    resp = await http.patch(presence_url(agent.id), headers=h, content=(
        b'{"presenceDefinition": {"systemPresence": "Away"}, "message": "\\ud800"}'))
    assert_error(resp, 400, "cannot be stored")
    p = ok(await http.get(presence_url(agent.id), headers=agent.headers))
    assert p["presenceDefinition"]["systemPresence"] in ("Offline", "Busy")


async def test_agent_may_not_change_another_agents_presence(http: httpx.AsyncClient,
                                                            org: Tenant) -> None:
    me, other = org.agents
    ids = await definitions(http, me.headers)
    body = {"presenceDefinition": {"id": ids["OnQueue"]}}
    assert_error(await http.patch(presence_url(other.id), headers=me.headers, json=body), 403,
                 "only change your own presence")
    assert_error(await http.patch(presence_url(org.admin.id), headers=me.headers, json=body),
                 403, "your own")
    # ...but may look at it.
    p = ok(await http.get(presence_url(other.id), headers=me.headers))
    assert p["presenceDefinition"]["systemPresence"] == "Offline"


async def test_admins_may_change_an_agents_presence(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    agent = org.agents[1]
    ids = await definitions(http, org.admin.headers)
    p = ok(await http.patch(presence_url(agent.id), headers=org.admin.headers,
                            json={"presenceDefinition": {"id": ids["Meal"]}}))
    assert p["presenceDefinition"]["systemPresence"] == "Meal"
    # A client-credentials admin token (no user) may too.
    p = ok(await http.patch(presence_url(agent.id), headers=org.admin_headers,
                            json={"presenceDefinition": {"id": ids["Training"]}}))
    assert p["presenceDefinition"]["systemPresence"] == "Training"
    seen = ok(await http.get(presence_url(agent.id), headers=agent.headers))
    assert seen["presenceDefinition"]["id"] == ids["Training"]


async def test_presence_of_unknown_or_foreign_users_is_404(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    ids = await definitions(http, org.admin_headers)
    body = {"presenceDefinition": {"id": ids["OnQueue"]}}
    for user_id in ("00000000-0000-0000-0000-000000000000", other_org.agents[0].id):
        for headers in (org.admin_headers, org.admin.headers):
            assert_error(await http.get(presence_url(user_id), headers=headers), 404,
                         "not found")
            assert_error(await http.patch(presence_url(user_id), headers=headers, json=body),
                         404, "not found")
        assert_error(await http.get(presence_url(user_id), headers=org.agents[0].headers), 404)
    # The foreign agent's presence did not change.
    p = ok(await http.get(presence_url(other_org.agents[0].id),
                          headers=other_org.admin_headers))
    assert p["presenceDefinition"]["systemPresence"] == "Offline"


async def test_presence_needs_a_token(http: httpx.AsyncClient, org: Tenant) -> None:
    url = presence_url(org.agents[0].id)
    assert_error(await http.get(url), 401)
    assert_error(await http.patch(url, json={"presenceDefinition": {"systemPresence": "Busy"}}),
                 401)
    assert_error(await http.get(url, headers={"Authorization": "Bearer nope"}), 401)


# -- routing status ---------------------------------------------------------------------------


async def routing_status(http: httpx.AsyncClient, headers: dict[str, str],
                         user_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.get(status_url(user_id), headers=headers))
    assert body["userId"] == user_id
    assert body["status"] in ROUTING_STATUSES
    return body


async def test_routing_status_is_off_queue_by_default(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    for person in (*org.agents, org.admin):
        s = await routing_status(http, org.agents[0].headers, person.id)
        assert s["status"] == "OFF_QUEUE"


async def test_going_on_queue_makes_the_agent_idle(http: httpx.AsyncClient,
                                                   org: Tenant) -> None:
    agent = org.agents[0]
    ids = await definitions(http, agent.headers)
    ok(await http.patch(presence_url(agent.id), headers=agent.headers,
                        json={"presenceDefinition": {"id": ids["OnQueue"]}}))
    s = await routing_status(http, agent.headers, agent.id)
    assert s["status"] == "IDLE"
    assert s["startTime"].endswith("Z")
    # Another agent sees it too; the other agent is still off queue.
    assert (await routing_status(http, org.agents[1].headers, agent.id))["status"] == "IDLE"
    assert (await routing_status(http, agent.headers, org.agents[1].id))["status"] == \
        "OFF_QUEUE"
    # Any presence other than On Queue is off queue.
    ok(await http.patch(presence_url(agent.id), headers=agent.headers,
                        json={"presenceDefinition": {"id": ids["Break"]}}))
    assert (await routing_status(http, agent.headers, agent.id))["status"] == "OFF_QUEUE"


async def test_put_routing_status_idle_and_off_queue(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    agent = org.agents[1]
    s = ok(await http.put(status_url(agent.id), headers=agent.headers, json={"status": "IDLE"}))
    assert (s["userId"], s["status"]) == (agent.id, "IDLE")
    p = ok(await http.get(presence_url(agent.id), headers=agent.headers))
    assert p["presenceDefinition"]["systemPresence"] == "OnQueue"
    s = ok(await http.put(status_url(agent.id), headers=agent.headers,
                          json={"status": "OFF_QUEUE"}))
    assert s["status"] == "OFF_QUEUE"
    assert (await routing_status(http, agent.headers, agent.id))["status"] == "OFF_QUEUE"
    p = ok(await http.get(presence_url(agent.id), headers=agent.headers))
    assert p["presenceDefinition"]["systemPresence"] != "OnQueue"


@pytest.mark.parametrize("body", [
    {"status": "INTERACTING"}, {"status": "NOT_RESPONDING"}, {"status": "COMMUNICATING"},
    {"status": "idle"}, {"status": "BUSY"}, {"status": ""}, {}, {"status": 1}])
async def test_statuses_the_acd_owns_cannot_be_put(http: httpx.AsyncClient, org: Tenant,
                                                   body: dict[str, Any]) -> None:
    agent = org.agents[0]
    assert_error(await http.put(status_url(agent.id), headers=agent.headers, json=body), 400,
                 field="status")
    assert (await routing_status(http, agent.headers, agent.id))["status"] == "OFF_QUEUE"


async def test_put_interacting_says_what_may_be_put(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    agent = org.agents[0]
    assert_error(await http.put(status_url(agent.id), headers=agent.headers,
                                json={"status": "INTERACTING"}), 400, "INTERACTING",
                 "IDLE", "OFF_QUEUE")


async def test_routing_status_of_others_needs_manage_agents(http: httpx.AsyncClient,
                                                            org: Tenant) -> None:
    me, other = org.agents
    assert_error(await http.put(status_url(other.id), headers=me.headers,
                                json={"status": "IDLE"}), 403, "your own")
    assert (await routing_status(http, me.headers, other.id))["status"] == "OFF_QUEUE"
    s = ok(await http.put(status_url(other.id), headers=org.admin.headers,
                          json={"status": "IDLE"}))
    assert s["status"] == "IDLE"
    s = ok(await http.put(status_url(other.id), headers=org.admin_headers,
                          json={"status": "OFF_QUEUE"}))
    assert s["status"] == "OFF_QUEUE"


async def test_routing_status_of_unknown_or_foreign_users_is_404(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    for user_id in ("00000000-0000-0000-0000-000000000000", other_org.agents[0].id):
        assert_error(await http.get(status_url(user_id), headers=org.admin_headers), 404)
        assert_error(await http.put(status_url(user_id), headers=org.admin_headers,
                                    json={"status": "IDLE"}), 404, "not found")
    assert (await routing_status(http, other_org.admin_headers,
                                 other_org.agents[0].id))["status"] == "OFF_QUEUE"
    assert_error(await http.get(status_url(org.agents[0].id)), 401)


# -- utilization ------------------------------------------------------------------------------


async def test_org_utilization_defaults_to_one_message(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    for headers in (org.admin_headers, org.agents[0].headers):
        u = ok(await http.get(ORG_UTILIZATION, headers=headers))
        assert message_capacity(u) == 1
    u = ok(await http.get(utilization_url(org.agents[0].id), headers=org.admin_headers))
    assert (message_capacity(u), u["level"]) == (1, "Organization")


async def test_put_org_utilization(http: httpx.AsyncClient, org: Tenant,
                                   other_org: Tenant) -> None:
    u = ok(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(4)))
    assert message_capacity(u) == 4
    assert u.get("level", "Organization") == "Organization"
    assert message_capacity(ok(await http.get(ORG_UTILIZATION,
                                              headers=org.agents[1].headers))) == 4
    for agent in org.agents:
        u = ok(await http.get(utilization_url(agent.id), headers=org.admin_headers))
        assert (message_capacity(u), u["level"]) == (4, "Organization")
    # An admin user's token may set it too; other organisations are unaffected.
    ok(await http.put(ORG_UTILIZATION, headers=org.admin.headers, json=capacity(5)))
    assert message_capacity(ok(await http.get(ORG_UTILIZATION,
                                              headers=org.admin_headers))) == 5
    assert message_capacity(ok(await http.get(ORG_UTILIZATION,
                                              headers=other_org.admin_headers))) == 1


async def test_agent_utilization_overrides_and_reverts(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    ok(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(4)))
    agent, other = org.agents
    u = ok(await http.put(utilization_url(agent.id), headers=org.admin_headers,
                          json=capacity(2)))
    assert (message_capacity(u), u["level"]) == (2, "Agent")
    u = ok(await http.get(utilization_url(agent.id), headers=agent.headers))
    assert (message_capacity(u), u["level"]) == (2, "Agent")
    u = ok(await http.get(utilization_url(other.id), headers=org.admin_headers))
    assert (message_capacity(u), u["level"]) == (4, "Organization")
    assert message_capacity(ok(await http.get(ORG_UTILIZATION,
                                              headers=org.admin_headers))) == 4

    resp = await http.delete(utilization_url(agent.id), headers=org.admin_headers)
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    u = ok(await http.get(utilization_url(agent.id), headers=org.admin_headers))
    assert (message_capacity(u), u["level"]) == (4, "Organization")
    # Deleting again is harmless: the agent already follows the organisation.
    resp = await http.delete(utilization_url(agent.id), headers=org.admin_headers)
    assert resp.status_code == 204, resp.text
    # Later organisation changes reach agents that follow it.
    ok(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(3)))
    u = ok(await http.get(utilization_url(agent.id), headers=org.admin_headers))
    assert (message_capacity(u), u["level"]) == (3, "Organization")


@pytest.mark.parametrize("body", [
    capacity(0), capacity(26), capacity(-1), capacity("x"), capacity(2.5), capacity(None),
    {"utilization": {"message": {}}}, {"utilization": {"call": {"maximumCapacity": 2}}},
    {"utilization": {}}, {}, {"utilization": "4"}])
async def test_bad_capacities_are_400(http: httpx.AsyncClient, org: Tenant,
                                      body: dict[str, Any]) -> None:
    h = org.admin_headers
    assert_error(await http.put(ORG_UTILIZATION, headers=h, json=body), 400, "utilization")
    assert_error(await http.put(utilization_url(org.agents[0].id), headers=h, json=body), 400,
                 "utilization")
    assert message_capacity(ok(await http.get(ORG_UTILIZATION, headers=h))) == 1
    u = ok(await http.get(utilization_url(org.agents[0].id), headers=h))
    assert (message_capacity(u), u["level"]) == (1, "Organization")


async def test_capacity_range_is_named_in_the_error(http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    assert_error(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(26)),
                 400, "1 to 25", field="utilization.message.maximumCapacity")
    ok(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(25)))
    ok(await http.put(ORG_UTILIZATION, headers=org.admin_headers, json=capacity(1)))


async def test_agents_may_not_change_utilization(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    h = agent.headers
    assert_error(await http.put(ORG_UTILIZATION, headers=h, json=capacity(4)), 403,
                 "permission")
    assert_error(await http.put(utilization_url(agent.id), headers=h, json=capacity(4)), 403,
                 "permission")
    assert_error(await http.put(utilization_url(org.agents[1].id), headers=h,
                                json=capacity(4)), 403)
    ok(await http.put(utilization_url(agent.id), headers=org.admin_headers, json=capacity(3)))
    assert_error(await http.delete(utilization_url(agent.id), headers=h), 403, "permission")
    u = ok(await http.get(utilization_url(agent.id), headers=h))
    assert (message_capacity(u), u["level"]) == (3, "Agent")
    assert message_capacity(ok(await http.get(ORG_UTILIZATION, headers=h))) == 1
    assert_error(await http.get(ORG_UTILIZATION), 401)
    assert_error(await http.put(ORG_UTILIZATION, json=capacity(4)), 401)


async def test_utilization_of_unknown_or_foreign_users_is_404(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    h = org.admin_headers
    for user_id in ("00000000-0000-0000-0000-000000000000", other_org.agents[0].id):
        url = utilization_url(user_id)
        assert_error(await http.get(url, headers=h), 404, "not found")
        assert_error(await http.put(url, headers=h, json=capacity(2)), 404, "not found")
        assert_error(await http.delete(url, headers=h), 404, "not found")
    u = ok(await http.get(utilization_url(other_org.agents[0].id),
                          headers=other_org.admin_headers))
    assert (message_capacity(u), u["level"]) == (1, "Organization")
