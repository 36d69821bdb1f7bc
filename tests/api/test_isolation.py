"""Nothing crosses between organisations: tenant A's tokens never see or touch tenant B's
queues, numbers or users, whatever the id or filter they try."""

from __future__ import annotations

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import assert_error, ok
from tests.orgs import Tenant, make_org

QUEUES = "/api/v2/routing/queues"
NUMBERS = "/api/v2/routing/sms/phonenumbers"


@pytest.fixture
async def b(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    """Tenant B; the `org` fixture is tenant A."""
    return await make_org(parley, http)


async def test_a_gets_404_for_bs_queue(http: httpx.AsyncClient, org: Tenant, b: Tenant) -> None:
    url = f"{QUEUES}/{b.queue_id}"
    for headers in (org.admin_headers, org.admin.headers, org.agents[0].headers):
        assert_error(await http.get(url, headers=headers), 404, "not found")
        assert_error(await http.get(f"{url}/members", headers=headers), 404, "not found")
    a = org.admin_headers
    assert_error(await http.put(url, json={"name": "Hijacked"}, headers=a), 404, "not found")
    assert_error(await http.delete(url, headers=a), 404, "not found")
    assert_error(await http.post(f"{url}/members", json=[{"id": org.agents[0].id}], headers=a),
                 404, "not found")
    assert_error(await http.post(f"{url}/members", params={"delete": "true"},
                                 json=[{"id": b.agents[0].id}], headers=a), 404, "not found")
    assert_error(await http.patch(f"{url}/members", json=[{"id": b.agents[0].id,
                                                             "joined": False}], headers=a),
                 404, "not found")
    # B's queue is untouched.
    q = ok(await http.get(url, headers=b.admin_headers))
    assert (q["name"], q["memberCount"], q["joinedMemberCount"]) == ("Support", 2, 2)
    assert q["version"] == 1


async def test_a_gets_404_for_bs_number(http: httpx.AsyncClient, org: Tenant,
                                        b: Tenant) -> None:
    url = f"{NUMBERS}/{b.number_id}"
    assert_error(await http.get(url, headers=org.admin_headers), 404, "not found")
    assert_error(await http.get(url, headers=org.agents[0].headers), 404, "not found")
    assert_error(await http.put(url, json={"name": "Mine"}, headers=org.admin_headers), 404)
    assert_error(await http.patch(url, json={"name": "Mine"}, headers=org.admin_headers), 404)
    assert_error(await http.delete(url, headers=org.admin_headers), 404, "not found")
    n = ok(await http.get(url, headers=b.admin_headers))
    assert (n["name"], n["version"]) == (b.number, 1)


async def test_a_gets_404_for_bs_user(http: httpx.AsyncClient, org: Tenant, b: Tenant) -> None:
    for person in (b.admin, *b.agents):
        for headers in (org.admin_headers, org.agents[0].headers):
            assert_error(await http.get(f"/api/v2/users/{person.id}", headers=headers), 404,
                         person.id, "not found")


async def test_listings_show_only_own_entities(http: httpx.AsyncClient, org: Tenant,
                                               b: Tenant) -> None:
    for tenant, other in ((org, b), (b, org)):
        h = tenant.admin_headers
        queues = ok(await http.get(QUEUES, headers=h))
        assert [q["id"] for q in queues["entities"]] == [tenant.queue_id]
        assert queues["total"] == 1
        numbers = ok(await http.get(NUMBERS, headers=h))
        assert [n["id"] for n in numbers["entities"]] == [tenant.number_id]
        assert numbers["total"] == 1
        users = ok(await http.get("/api/v2/users", headers=h))
        assert {u["id"] for u in users["entities"]} == {
            tenant.admin.id, *(p.id for p in tenant.agents)}
        assert users["total"] == 3
        members = ok(await http.get(f"{QUEUES}/{tenant.queue_id}/members", headers=h))
        assert {m["id"] for m in members["entities"]} == {p.id for p in tenant.agents}

        # Asking for the other tenant's entities by id or name finds nothing.
        by_id = ok(await http.get(QUEUES, params={"id": f"{tenant.queue_id},{other.queue_id}"},
                                  headers=h))
        assert [q["id"] for q in by_id["entities"]] == [tenant.queue_id]
        by_name = ok(await http.get(QUEUES, params={"name": "Support"}, headers=h))
        assert [q["id"] for q in by_name["entities"]] == [tenant.queue_id]
        by_phone = ok(await http.get(NUMBERS, params={"phoneNumber": other.number}, headers=h))
        assert (by_phone["entities"], by_phone["total"]) == ([], 0)
        other_users = ",".join([other.admin.id, *(p.id for p in other.agents)])
        by_user = ok(await http.get("/api/v2/users", params={"id": other_users}, headers=h))
        assert (by_user["entities"], by_user["total"]) == ([], 0)

        me = ok(await http.get("/api/v2/organizations/me", headers=h))
        assert me["id"] == tenant.id
        token = ok(await http.get("/api/v2/tokens/me", headers=h))
        assert token["organization"]["id"] == tenant.id


async def test_a_cannot_add_bs_user_to_its_queue(http: httpx.AsyncClient, org: Tenant,
                                                 b: Tenant) -> None:
    url = f"{QUEUES}/{org.queue_id}/members"
    stranger = b.agents[0].id
    resp = await http.post(url, json=[{"id": stranger}], headers=org.admin_headers)
    assert_error(resp, 400, stranger, "not found in this organisation", field="id")
    resp = await http.post(url, json=[{"id": org.admin.id}, {"id": stranger}],
                           headers=org.admin_headers)
    assert_error(resp, 400, stranger)
    assert_error(await http.patch(url, json=[{"id": stranger, "joined": True}],
                                  headers=org.admin_headers), 404, "not a member")
    members = ok(await http.get(url, headers=org.admin_headers))
    assert {m["id"] for m in members["entities"]} == {p.id for p in org.agents}


async def test_a_cannot_point_its_queue_at_bs_number(http: httpx.AsyncClient, org: Tenant,
                                                     b: Tenant) -> None:
    body = {"name": "Support",
            "outboundMessagingAddresses": {"smsAddress": {"id": b.number_id}}}
    resp = await http.put(f"{QUEUES}/{org.queue_id}", json=body, headers=org.admin_headers)
    assert_error(resp, 400, "not an SMS number of this organisation",
                 field="outboundMessagingAddresses.smsAddress")
    q = ok(await http.get(f"{QUEUES}/{org.queue_id}", headers=org.admin_headers))
    assert q["outboundMessagingAddresses"]["smsAddress"]["id"] == org.number_id


async def test_a_cannot_register_bs_number(http: httpx.AsyncClient, org: Tenant,
                                           b: Tenant) -> None:
    resp = await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": b.number, "phoneNumberType": "local", "countryCode": "US"})
    assert_error(resp, 409, "already registered")
    found = ok(await http.get("/api/v2/routing/sms/availablephonenumbers",
                              headers=org.admin_headers, params={
                                  "countryCode": "US", "phoneNumberType": "local",
                                  "areaCode": b.number[2:5]}))
    assert b.number not in [a["phoneNumber"] for a in found["entities"]]


async def test_same_queue_name_in_two_tenants(http: httpx.AsyncClient, org: Tenant,
                                              b: Tenant) -> None:
    for tenant in (org, b):
        ok(await http.post(QUEUES, json={"name": "Escalations"},
                           headers=tenant.admin_headers))
    a_q = ok(await http.get(QUEUES, params={"name": "Escalations"}, headers=org.admin_headers))
    b_q = ok(await http.get(QUEUES, params={"name": "Escalations"}, headers=b.admin_headers))
    assert a_q["total"] == b_q["total"] == 1
    assert a_q["entities"][0]["id"] != b_q["entities"][0]["id"]
    # Deleting A's leaves B's.
    gone = await http.delete(f"{QUEUES}/{a_q['entities'][0]['id']}", headers=org.admin_headers)
    assert gone.status_code == 204
    ok(await http.get(f"{QUEUES}/{b_q['entities'][0]['id']}", headers=b.admin_headers))


async def test_revoking_a_token_leaves_other_tenants_alone(http: httpx.AsyncClient,
                                                           org: Tenant, b: Tenant) -> None:
    resp = await http.delete("/api/v2/tokens/me", headers=org.agents[1].headers)
    assert resp.status_code == 204
    assert_error(await http.get("/api/v2/users/me", headers=org.agents[1].headers), 401)
    ok(await http.get("/api/v2/users/me", headers=b.agents[1].headers))
    ok(await http.get("/api/v2/users/me", headers=org.agents[0].headers))
