"""Queues and their members over HTTP: /api/v2/routing/queues and /members."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.access import Role
from tests.api.support import assert_error, ok, provision
from tests.orgs import Tenant, make_org

QUEUES = "/api/v2/routing/queues"


def full_queue(name: str, number_id: str) -> dict[str, Any]:
    return {
        "name": name, "description": "Billing questions",
        "mediaSettings": {"message": {"alertingTimeoutSeconds": 45, "enableAutoAnswer": True,
                                      "serviceLevel": {"percentage": 0.9, "durationMs": 60000}}},
        "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 120000},
        "skillEvaluationMethod": "BEST",
        "outboundMessagingAddresses": {"smsAddress": {"id": number_id}},
    }


async def create(http: httpx.AsyncClient, org: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    queue: dict[str, Any] = ok(await http.post(QUEUES, json=body, headers=org.admin_headers))
    return queue


async def members(http: httpx.AsyncClient, org: Tenant, queue_id: str,
                  **params: Any) -> list[dict[str, Any]]:
    page = ok(await http.get(f"{QUEUES}/{queue_id}/members", params=params,
                             headers=org.admin_headers))
    entities: list[dict[str, Any]] = page["entities"]
    return entities


async def add_people(parley: Parley, org: Tenant, count: int) -> list[str]:
    ids = []
    for i in range(count):
        user = await parley.directory.add_user(
            org.id, name=f"Temp{i:03d}", email=f"temp{i}-{secrets.token_hex(4)}@test.parley",
            role=Role.AGENT, password="password123")
        ids.append(user.id)
    return ids


# -- create and read --------------------------------------------------------------------------


async def test_create_a_queue_with_every_setting(http: httpx.AsyncClient, org: Tenant) -> None:
    q = ok(await http.post(QUEUES, json=full_queue("Billing", org.number_id),
                           headers=org.admin.headers))
    assert q["name"] == "Billing"
    assert q["description"] == "Billing questions"
    message = q["mediaSettings"]["message"]
    assert message["alertingTimeoutSeconds"] == 45
    assert message["enableAutoAnswer"] is True
    assert message["serviceLevel"] == {"percentage": 0.9, "durationMs": 60000}
    assert q["acwSettings"] == {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 120000}
    assert q["skillEvaluationMethod"] == "BEST"
    assert q["outboundMessagingAddresses"]["smsAddress"]["id"] == org.number_id
    assert (q["memberCount"], q["userMemberCount"], q["joinedMemberCount"]) == (0, 0, 0)
    assert q["selfUri"] == f"{QUEUES}/{q['id']}"
    assert q["createdBy"] == org.admin.id
    assert q["dateCreated"].endswith("Z")

    read = ok(await http.get(f"{QUEUES}/{q['id']}", headers=org.admin_headers))
    assert read == q
    ok(await http.get(f"{QUEUES}/{q['id']}", headers=org.agents[0].headers))


async def test_create_a_queue_with_defaults(http: httpx.AsyncClient, org: Tenant) -> None:
    q = await create(http, org, {"name": "  Plain  "})
    assert q["name"] == "Plain"
    assert q["mediaSettings"]["message"]["alertingTimeoutSeconds"] == 30
    assert q["mediaSettings"]["message"]["enableAutoAnswer"] is False
    assert q["acwSettings"]["wrapupPrompt"] == "OPTIONAL"
    assert "timeoutMs" not in q["acwSettings"]
    assert q["skillEvaluationMethod"] == "ALL"
    assert "outboundMessagingAddresses" not in q
    assert "createdBy" not in q  # client-credentials: no user


async def test_enum_values_are_matched_case_insensitively(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    q = await create(http, org, {"name": "Casual", "skillEvaluationMethod": "best",
                                 "acwSettings": {"wrapupPrompt": "agent_requested"}})
    assert q["skillEvaluationMethod"] == "BEST"
    assert q["acwSettings"]["wrapupPrompt"] == "AGENT_REQUESTED"


async def test_duplicate_name_is_409(http: httpx.AsyncClient, org: Tenant) -> None:
    for name in ("Support", "support", " SUPPORT "):
        resp = await http.post(QUEUES, json={"name": name}, headers=org.admin_headers)
        body = assert_error(resp, 409, "a queue named", "already exists", field="name")
        assert body["code"] == "conflict"


@pytest.mark.parametrize(("body", "field", "says"), [
    ({}, "name", "name is required"),
    ({"name": None}, "name", "name is required"),
    ({"name": "   "}, "name", "queue name is required"),
    ({"name": "x" * 201}, "name", "longer than 200 characters"),
    ({"name": 42}, "name", "name"),
    ({"name": "Q", "mediaSettings": {"message": {"alertingTimeoutSeconds": 3}}},
     "mediaSettings.message.alertingTimeoutSeconds", "between 7 and 86400"),
    ({"name": "Q", "mediaSettings": {"message": {"alertingTimeoutSeconds": 86401}}},
     "mediaSettings.message.alertingTimeoutSeconds", "between 7 and 86400"),
    ({"name": "Q", "mediaSettings": {"message": {"alertingTimeoutSeconds": "soon"}}},
     "mediaSettings.message.alertingTimeoutSeconds", "alertingTimeoutSeconds"),
    ({"name": "Q", "mediaSettings": {"message": {"serviceLevel": {"percentage": 80}}}},
     "mediaSettings.message.serviceLevel.percentage", "0..1"),
    ({"name": "Q", "mediaSettings": {"message": {"serviceLevel": {"durationMs": -1}}}},
     "mediaSettings.message.serviceLevel.durationMs", "durationMs"),
    ({"name": "Q", "mediaSettings": {"message": {"serviceLevel": {"durationMs": 10**12}}}},
     "mediaSettings.message.serviceLevel.durationMs", "durationMs"),
    ({"name": "Q", "acwSettings": {"timeoutMs": 10}}, "acwSettings.timeoutMs",
     "between 1000 and 3600000"),
    ({"name": "Q", "acwSettings": {"wrapupPrompt": "SOMETIMES"}}, "acwSettings.wrapupPrompt",
     "'SOMETIMES' is not one of: MANDATORY, OPTIONAL, MANDATORY_TIMEOUT, "
     "MANDATORY_FORCED_TIMEOUT, AGENT_REQUESTED"),
    ({"name": "Q", "skillEvaluationMethod": "SOME"}, "skillEvaluationMethod",
     "skillEvaluationMethod 'SOME' is not one of: NONE, BEST, ALL"),
    ({"name": "Q", "outboundMessagingAddresses": {"smsAddress": {"id": "no-such-number"}}},
     "outboundMessagingAddresses.smsAddress", "no-such-number is not an SMS number of this"),
    ({"name": "Q", "outboundMessagingAddresses": {"smsAddress": {}}},
     "outboundMessagingAddresses.smsAddress.id", "outboundMessagingAddresses.smsAddress.id"),
])
async def test_create_bad_input_is_400(http: httpx.AsyncClient, org: Tenant,
                                       body: dict[str, Any], field: str, says: str) -> None:
    resp = await http.post(QUEUES, json=body, headers=org.admin_headers)
    assert_error(resp, 400, says, field=field)


async def test_sms_address_of_another_org_is_400(parley: Parley, http: httpx.AsyncClient,
                                                 org: Tenant) -> None:
    other = await make_org(parley, http, agents=1)
    resp = await http.post(QUEUES, headers=org.admin_headers, json={
        "name": "Borrowed", "outboundMessagingAddresses": {"smsAddress": {"id": other.number_id}}})
    assert_error(resp, 400, other.number_id, "not an SMS number of this organisation",
                 field="outboundMessagingAddresses.smsAddress")


@pytest.mark.parametrize(("content", "says"), [
    (b"{", "not valid JSON"), (b"[]", "object"), (b"", "required"), (b"null", "object")])
async def test_create_with_a_malformed_body_is_400(http: httpx.AsyncClient, org: Tenant,
                                                   content: bytes, says: str) -> None:
    resp = await http.post(QUEUES, content=content, headers={
        **org.admin_headers, "Content-Type": "application/json"})
    assert_error(resp, 400, says)


async def test_agents_may_not_create_queues(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(QUEUES, json={"name": "Mine"}, headers=org.agents[0].headers)
    assert_error(resp, 403, "role 'agent'", "configure")


# -- replace and delete -----------------------------------------------------------------------


async def test_put_replaces_the_queue(http: httpx.AsyncClient, org: Tenant) -> None:
    q = await create(http, org, full_queue("Replace me", org.number_id))
    url = f"{QUEUES}/{q['id']}"
    other_number = await provision(http, org)
    put = ok(await http.put(url, headers=org.admin.headers, json={
        "name": "Replaced", "skillEvaluationMethod": "NONE",
        "outboundMessagingAddresses": {"smsAddress": {"id": other_number["id"]}}}))
    assert put["id"] == q["id"]
    assert put["name"] == "Replaced"
    assert put["skillEvaluationMethod"] == "NONE"
    assert put["outboundMessagingAddresses"]["smsAddress"]["id"] == other_number["id"]
    # Fields the PUT left out are back at their defaults: PUT replaces, it does not merge.
    assert "description" not in put
    assert put["mediaSettings"]["message"]["alertingTimeoutSeconds"] == 30
    assert put["acwSettings"] == {"wrapupPrompt": "OPTIONAL"}
    assert put["version"] == q["version"] + 1
    assert put["modifiedBy"] == org.admin.id
    assert put["dateCreated"] == q["dateCreated"]
    assert ok(await http.get(url, headers=org.admin_headers)) == put

    cleared = ok(await http.put(url, headers=org.admin_headers, json={"name": "Replaced"}))
    assert "outboundMessagingAddresses" not in cleared


async def test_put_errors(http: httpx.AsyncClient, org: Tenant) -> None:
    q = await create(http, org, {"name": "Edit me"})
    url = f"{QUEUES}/{q['id']}"
    assert_error(await http.put(url, json={"name": "Support"}, headers=org.admin_headers),
                 409, "already exists", field="name")
    assert_error(await http.put(url, json={"name": "Edit me", "version": q["version"] + 5},
                                headers=org.admin_headers), 409, "reload it", field="version")
    assert_error(await http.put(url, json={"description": "no name"},
                                headers=org.admin_headers), 400, "name is required")
    assert_error(await http.put(url, json={"name": "Edit me", "mediaSettings": {
        "message": {"alertingTimeoutSeconds": 3}}}, headers=org.admin_headers), 400,
        "alertingTimeoutSeconds")
    assert_error(await http.put(f"{QUEUES}/no-such-queue", json={"name": "x"},
                                headers=org.admin_headers), 404, "queue no-such-queue not found")
    assert_error(await http.put(url, json={"name": "Edit me"}, headers=org.agents[0].headers),
                 403)
    # The failed attempts changed nothing.
    assert ok(await http.get(url, headers=org.admin_headers)) == q
    same_name = ok(await http.put(url, json={"name": "EDIT ME", "version": q["version"]},
                                  headers=org.admin_headers))
    assert same_name["name"] == "EDIT ME"


async def test_delete_a_queue(http: httpx.AsyncClient, org: Tenant) -> None:
    q = await create(http, org, {"name": "Doomed"})
    url = f"{QUEUES}/{q['id']}"
    ok_add = await http.post(f"{url}/members", json=[{"id": org.agents[0].id}],
                             headers=org.admin_headers)
    assert ok_add.status_code == 204
    assert_error(await http.delete(url, headers=org.agents[0].headers), 403)
    resp = await http.delete(url, headers=org.admin_headers)
    assert resp.status_code == 204
    assert resp.content == b""
    assert_error(await http.get(url, headers=org.admin_headers), 404, q["id"], "not found")
    assert_error(await http.delete(url, headers=org.admin_headers), 404, "not found")
    assert_error(await http.get(f"{url}/members", headers=org.admin_headers), 404)
    # The name is free again.
    await create(http, org, {"name": "Doomed"})


async def test_unknown_queue_is_404(http: httpx.AsyncClient, org: Tenant) -> None:
    body = assert_error(await http.get(f"{QUEUES}/nope", headers=org.admin_headers), 404,
                        "queue nope not found")
    assert body["code"] == "not.found"


# -- listing ----------------------------------------------------------------------------------


async def test_list_queues(http: httpx.AsyncClient, org: Tenant) -> None:
    supplies = await create(http, org, {"name": "Supplies"})
    await create(http, org, {"name": "Billing"})
    page = ok(await http.get(QUEUES, headers=org.admin_headers))
    assert [q["name"] for q in page["entities"]] == ["Billing", "Supplies", "Support"]
    assert (page["total"], page["pageCount"], page["pageNumber"], page["pageSize"]) == \
        (3, 1, 1, 25)
    support = next(q for q in page["entities"] if q["name"] == "Support")
    assert (support["memberCount"], support["joinedMemberCount"]) == (2, 2)

    sup = ok(await http.get(QUEUES, params={"name": "Sup*"}, headers=org.admin_headers))
    assert [q["name"] for q in sup["entities"]] == ["Supplies", "Support"]
    assert sup["total"] == 2
    exact = ok(await http.get(QUEUES, params={"name": "support"}, headers=org.admin_headers))
    assert [q["id"] for q in exact["entities"]] == [org.queue_id]
    inner = ok(await http.get(QUEUES, params={"name": "*pp*"}, headers=org.admin_headers))
    assert [q["name"] for q in inner["entities"]] == ["Supplies", "Support"]
    none = ok(await http.get(QUEUES, params={"name": "Nothing*"}, headers=org.admin_headers))
    assert (none["entities"], none["total"], none["pageCount"]) == ([], 0, 0)

    by_id = ok(await http.get(f"{QUEUES}?id={supplies['id']}%2C{org.queue_id}",
                              headers=org.admin_headers))
    assert [q["name"] for q in by_id["entities"]] == ["Supplies", "Support"]
    desc = ok(await http.get(QUEUES, params={"sortOrder": "desc", "pageSize": 2},
                             headers=org.admin_headers))
    assert [q["name"] for q in desc["entities"]] == ["Support", "Supplies"]
    assert (desc["total"], desc["pageCount"]) == (3, 2)
    ok(await http.get(QUEUES, headers=org.agents[1].headers))
    assert_error(await http.get(QUEUES, params={"pageSize": 1000}, headers=org.admin_headers),
                 400, "pageSize", field="pageSize")


# -- members ----------------------------------------------------------------------------------


async def test_members_listing(http: httpx.AsyncClient, org: Tenant) -> None:
    page = ok(await http.get(f"{QUEUES}/{org.queue_id}/members", headers=org.admin_headers))
    assert (page["pageNumber"], page["pageSize"]) == (1, 25)
    assert [m["name"] for m in page["entities"]] == ["Agent1", "Agent2"]
    first = page["entities"][0]
    assert first["id"] == org.agents[0].id
    assert first["user"]["id"] == org.agents[0].id
    assert first["user"]["email"] == org.agents[0].user.email
    assert first["joined"] is True
    assert first["memberBy"] == "user"
    assert first["selfUri"] == f"{QUEUES}/{org.queue_id}/members/{org.agents[0].id}"
    one = ok(await http.get(f"{QUEUES}/{org.queue_id}/members", params={"pageSize": 1},
                            headers=org.admin_headers))
    assert [m["name"] for m in one["entities"]] == ["Agent1"]
    assert "pageSize=1&pageNumber=2" in one["nextUri"]
    assert_error(await http.get(f"{QUEUES}/{org.queue_id}/members",
                                params={"pageSize": 101}, headers=org.admin_headers),
                 400, "between 1 and 100", field="pageSize")


async def test_add_and_remove_members(http: httpx.AsyncClient, org: Tenant) -> None:
    q = await create(http, org, {"name": "Team"})
    url = f"{QUEUES}/{q['id']}"
    everyone = [org.admin.id, *(a.id for a in org.agents)]
    resp = await http.post(f"{url}/members", json=[{"id": i} for i in everyone],
                           headers=org.admin_headers)
    assert resp.status_code == 204
    read = ok(await http.get(url, headers=org.admin_headers))
    assert (read["memberCount"], read["userMemberCount"], read["joinedMemberCount"]) == (3, 3, 3)
    assert {m["id"] for m in await members(http, org, q["id"])} == set(everyone)

    # Adding again is harmless.
    again = await http.post(f"{url}/members", json=[{"id": org.admin.id}],
                            headers=org.admin_headers)
    assert again.status_code == 204
    assert ok(await http.get(url, headers=org.admin_headers))["memberCount"] == 3

    removed = await http.post(f"{url}/members", params={"delete": "true"},
                              json=[{"id": org.admin.id}, {"id": org.agents[0].id}],
                              headers=org.admin_headers)
    assert removed.status_code == 204
    read = ok(await http.get(url, headers=org.admin_headers))
    assert (read["memberCount"], read["joinedMemberCount"]) == (1, 1)
    assert [m["id"] for m in await members(http, org, q["id"])] == [org.agents[1].id]
    # delete=false adds.
    back = await http.post(f"{url}/members", params={"delete": "false"},
                           json=[{"id": org.agents[0].id}], headers=org.admin_headers)
    assert back.status_code == 204
    assert ok(await http.get(url, headers=org.admin_headers))["memberCount"] == 2


async def test_join_and_unjoin_members(http: httpx.AsyncClient, org: Tenant) -> None:
    url = f"{QUEUES}/{org.queue_id}"
    a1, a2 = org.agents
    resp = await http.patch(f"{url}/members", json=[{"id": a1.id, "joined": False}],
                            headers=org.admin_headers)
    assert resp.status_code == 204
    q = ok(await http.get(url, headers=org.admin_headers))
    assert (q["memberCount"], q["joinedMemberCount"]) == (2, 1)
    unjoined = await members(http, org, org.queue_id, joined="false")
    assert [m["id"] for m in unjoined] == [a1.id]
    assert unjoined[0]["joined"] is False
    assert [m["id"] for m in await members(http, org, org.queue_id, joined="true")] == [a2.id]

    # An agent may join or unjoin itself, but not a colleague.
    own = await http.patch(f"{url}/members", json=[{"id": a1.id, "joined": True}],
                           headers=a1.headers)
    assert own.status_code == 204
    assert ok(await http.get(url, headers=org.admin_headers))["joinedMemberCount"] == 2
    assert_error(await http.patch(f"{url}/members", json=[{"id": a2.id, "joined": False}],
                                  headers=a1.headers), 403, "configure")
    assert ok(await http.get(url, headers=org.admin_headers))["joinedMemberCount"] == 2


async def test_patch_members_errors(http: httpx.AsyncClient, org: Tenant) -> None:
    url = f"{QUEUES}/{org.queue_id}/members"
    assert_error(await http.patch(url, json=[{"id": org.agents[0].id}],
                                  headers=org.admin_headers), 400, "joined", field="joined")
    assert_error(await http.patch(url, json=[{"id": org.admin.id, "joined": False}],
                                  headers=org.admin_headers), 404, "is not a member")
    assert_error(await http.patch(url, json=[{"joined": False}], headers=org.admin_headers),
                 400, "id")
    assert_error(await http.patch(url, json={"id": org.agents[0].id, "joined": False},
                                  headers=org.admin_headers), 400)
    assert_error(await http.patch(url, content=b"[{", headers={
        **org.admin_headers, "Content-Type": "application/json"}), 400, "not valid JSON")
    assert_error(await http.patch(f"{QUEUES}/nope/members", json=[
        {"id": org.agents[0].id, "joined": False}], headers=org.admin_headers), 404)
    # A failed batch changes nothing.
    assert_error(await http.patch(url, json=[{"id": org.agents[0].id, "joined": False},
                                             {"id": org.admin.id, "joined": False}],
                                  headers=org.admin_headers), 404)
    q = ok(await http.get(f"{QUEUES}/{org.queue_id}", headers=org.admin_headers))
    assert q["joinedMemberCount"] == 2


async def test_add_unknown_user_is_400(http: httpx.AsyncClient, org: Tenant) -> None:
    url = f"{QUEUES}/{org.queue_id}/members"
    resp = await http.post(url, json=[{"id": org.admin.id}, {"id": "ghost-user"}],
                           headers=org.admin_headers)
    assert_error(resp, 400, "ghost-user", "not found in this organisation", field="id")
    # Nothing was added, not even the valid one.
    assert [m["name"] for m in await members(http, org, org.queue_id)] == ["Agent1", "Agent2"]


async def test_more_than_100_members_at_once_is_400(parley: Parley, http: httpx.AsyncClient,
                                                    org: Tenant) -> None:
    url = f"{QUEUES}/{org.queue_id}/members"
    ids = await add_people(parley, org, 101)
    resp = await http.post(url, json=[{"id": i} for i in ids], headers=org.admin_headers)
    assert_error(resp, 400, "at most 100 members")
    assert len(await members(http, org, org.queue_id, pageSize=100)) == 2
    hundred = await http.post(url, json=[{"id": i} for i in ids[:100]],
                              headers=org.admin_headers)
    assert hundred.status_code == 204
    q = ok(await http.get(f"{QUEUES}/{org.queue_id}", headers=org.admin_headers))
    assert q["memberCount"] == 102
    assert len(await members(http, org, org.queue_id, pageSize=100)) == 100
    assert len(await members(http, org, org.queue_id, pageSize=100, pageNumber=2)) == 2


@pytest.mark.parametrize(("content", "says"), [
    (b"[]", "at least one member"),
    (b"{", "not valid JSON"),
    (b'[{"id": ', "not valid JSON"),
    (b'{"id": "x"}', "must be a JSON array"),
    (b'[{"name": "no id"}]', "id"),
    (b'["just-an-id"]', "0"),
    (b"", "required"),
])
async def test_malformed_member_bodies_are_400(http: httpx.AsyncClient, org: Tenant,
                                               content: bytes, says: str) -> None:
    for params in ({}, {"delete": "true"}):
        resp = await http.post(f"{QUEUES}/{org.queue_id}/members", params=params,
                               content=content, headers={
                                   **org.admin_headers, "Content-Type": "application/json"})
        assert_error(resp, 400, says)


async def test_member_changes_need_configure(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    resp = await http.post(f"{QUEUES}/{org.queue_id}/members", json=[{"id": agent.id}],
                           params={"delete": "true"}, headers=agent.headers)
    assert_error(resp, 403, "role 'agent'", "configure")
    assert len(await members(http, org, org.queue_id)) == 2
    assert_error(await http.post(f"{QUEUES}/nope/members", json=[{"id": agent.id}],
                                 headers=org.admin_headers), 404, "queue nope not found")
    assert_error(await http.post(f"{QUEUES}/{org.queue_id}/members", params={"delete": "maybe"},
                                 json=[{"id": agent.id}], headers=org.admin_headers), 400,
                 "delete", field="delete")


async def test_lone_surrogate_is_400(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(QUEUES, content=b'{"name": "Bad\\ud800name"}', headers={
        **org.admin_headers, "Content-Type": "application/json"})
    assert_error(resp, 400, "cannot be stored", "surrogate")
    listing = ok(await http.get(QUEUES, headers=org.admin_headers))
    assert [q["name"] for q in listing["entities"]] == ["Support"]


async def test_nul_characters(http: httpx.AsyncClient, org: Tenant, database_url: str) -> None:
    """PostgreSQL text cannot hold NUL: a clear 400 there, never a 500. SQLite stores it."""
    postgres = database_url.startswith("postgresql")
    for raw in (b'{"name": "Bad\\u0000name"}', b'{"name": "Q", "description": "a\\u0000b"}'):
        resp = await http.post(QUEUES, content=raw, headers={
            **org.admin_headers, "Content-Type": "application/json"})
        if postgres:
            assert_error(resp, 400, "cannot be stored", "NUL")
        else:
            q = ok(await http.get(f"{QUEUES}/{ok(resp)['id']}", headers=org.admin_headers))
            assert "\x00" in q["name"] + q.get("description", "")
    for path in (f"{QUEUES}/a%00b", f"{QUEUES}/a%00b/members", "/api/v2/users/a%00b",
                 "/api/v2/routing/sms/phonenumbers/a%00b"):
        resp = await http.get(path, headers=org.admin_headers)
        assert_error(resp, *((400, "NUL") if postgres else (404, "not found")))
    for path in (f"{QUEUES}?name=%00", "/api/v2/users?id=a%00b",
                 "/api/v2/routing/sms/phonenumbers?phoneNumber=%00"):
        resp = await http.get(path, headers=org.admin_headers)
        if postgres:
            assert_error(resp, 400, "NUL")
        else:
            ok(resp)
