"""SMS numbers over HTTP: /api/v2/routing/sms/availablephonenumbers and /phonenumbers CRUD."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.support import AVAILABLE, NUMBERS, assert_error, free_number, ok, provision
from tests.orgs import Tenant

# -- available numbers ------------------------------------------------------------------------


async def test_available_numbers(http: httpx.AsyncClient, org: Tenant) -> None:
    found = ok(await http.get(AVAILABLE, headers=org.admin_headers,
                              params={"countryCode": "US", "phoneNumberType": "local"}))
    assert set(found) == {"entities"}
    entities = found["entities"]
    assert 0 < len(entities) <= 30
    for a in entities:
        assert a["phoneNumber"].startswith("+1")
        assert a["countryCode"] == "US"
        assert a["phoneNumberType"] == "local"
        assert a["addressRequirement"] == "none"
        assert "sms" in a["capabilities"]
    assert len({a["phoneNumber"] for a in entities}) == len(entities)


async def test_available_numbers_exclude_registered_ones(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    area = org.number[2:5]
    found = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
        "countryCode": "US", "phoneNumberType": "local", "areaCode": area}))
    offered = [a["phoneNumber"] for a in found["entities"]]
    assert offered and all(n.startswith(f"+1{area}") for n in offered)
    assert org.number not in offered
    taken = offered[0]
    ok(await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": taken, "phoneNumberType": "local", "countryCode": "US"}))
    again = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
        "countryCode": "US", "phoneNumberType": "local", "areaCode": area}))
    assert taken not in [a["phoneNumber"] for a in again["entities"]]


async def test_available_numbers_with_a_pattern(http: httpx.AsyncClient, org: Tenant) -> None:
    found = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
        "countryCode": "US", "phoneNumberType": "tollfree", "pattern": "*55501*"}))
    assert found["entities"]
    assert all("55501" in a["phoneNumber"] for a in found["entities"])
    assert all(a["phoneNumberType"] == "tollfree" for a in found["entities"])


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"phoneNumberType": "local"}, "countryCode", "countryCode is required"),
    ({"countryCode": "US"}, "phoneNumberType", "phoneNumberType is required"),
    ({"countryCode": "USA", "phoneNumberType": "local"}, "countryCode", "alpha-2"),
    ({"countryCode": "US", "phoneNumberType": "landline"}, "phoneNumberType",
     "'landline' is not one of: local, mobile, tollfree, shortcode"),
])
async def test_available_numbers_bad_queries(http: httpx.AsyncClient, org: Tenant,
                                             params: dict[str, str], field: str,
                                             says: str) -> None:
    resp = await http.get(AVAILABLE, params=params, headers=org.admin_headers)
    assert_error(resp, 400, says, field=field)


async def test_agents_may_not_search_available_numbers(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    resp = await http.get(AVAILABLE, headers=org.agents[0].headers,
                          params={"countryCode": "US", "phoneNumberType": "local"})
    assert_error(resp, 403, "role 'agent'", "configure")


# -- provisioning -----------------------------------------------------------------------------


async def test_provision_a_number(http: httpx.AsyncClient, org: Tenant) -> None:
    phone = await free_number(http, org)
    resp = await http.post(NUMBERS, headers=org.admin.headers, json={
        "phoneNumber": phone, "phoneNumberType": "local", "countryCode": "us",
        "name": "Sales line"})
    n = ok(resp)
    assert n["phoneNumber"] == phone
    assert n["name"] == "Sales line"
    assert n["phoneNumberType"] == "local"
    assert n["phoneNumberStatus"] == "ACTIVE"
    assert n["countryCode"] == "US"
    assert n["version"] == 1
    assert n["supportsSms"] is True
    assert n["selfUri"] == f"{NUMBERS}/{n['id']}"
    assert n["createdBy"]["id"] == org.admin.id
    assert n["dateCreated"].endswith("Z")

    read = ok(await http.get(f"{NUMBERS}/{n['id']}", headers=org.admin_headers))
    assert read == n


async def test_provision_without_a_name_uses_the_number(http: httpx.AsyncClient,
                                                        org: Tenant) -> None:
    n = await provision(http, org)
    assert n["name"] == n["phoneNumber"]
    assert "createdBy" not in n  # a client-credentials token has no user


async def test_provision_a_duplicate_is_409(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": org.number, "phoneNumberType": "local", "countryCode": "US"})
    body = assert_error(resp, 409, org.number, "already registered", field="phoneNumber")
    assert body["code"] == "conflict"


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"phoneNumber": "3125550123"}, "phoneNumber", "is not in E.164 form"),
    ({"phoneNumber": "+1 312 555 0123"}, "phoneNumber", "did you mean +13125550123"),
    ({"phoneNumber": "+1999"}, "phoneNumber", "'+1999' is not a valid phone number"),
    ({"phoneNumber": "call me"}, "phoneNumber", "phoneNumber"),
    ({"phoneNumber": ""}, "phoneNumber", "phoneNumber is required"),
    ({"phoneNumber": None}, "phoneNumber", "phoneNumber is required"),
    ({"countryCode": "GB"}, "countryCode", "is not a number of country GB"),
    ({"countryCode": "United States"}, "countryCode", "alpha-2"),
    ({"countryCode": None}, "countryCode", "alpha-2"),
    ({"phoneNumberType": "landline"}, "phoneNumberType",
     "phoneNumberType 'landline' is not one of: local, mobile, tollfree, shortcode"),
    ({"phoneNumberType": None}, "phoneNumberType", "is not one of"),
])
async def test_provision_bad_input_is_400(http: httpx.AsyncClient, org: Tenant,
                                          body: dict[str, Any], field: str, says: str) -> None:
    request = {"phoneNumber": "+13125550123", "phoneNumberType": "local", "countryCode": "US",
               **body}
    resp = await http.post(NUMBERS, headers=org.admin_headers, json=request)
    body = assert_error(resp, 400, says, field=field)
    assert field in body["message"] or "country" in body["message"]


async def test_provision_a_number_with_an_overlong_name_is_400(http: httpx.AsyncClient,
                                                                org: Tenant) -> None:
    phone = await free_number(http, org)
    resp = await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": phone, "phoneNumberType": "local", "countryCode": "US",
        "name": "n" * 201})
    assert_error(resp, 400, "name", "200 characters", field="name")


@pytest.mark.parametrize(("content", "says"), [
    (b"{not json", "not valid JSON"), (b'{"phoneNumber": "+1312', "not valid JSON"),
    (b"[]", "object"), (b'"+13125550123"', "object"), (b"", "required")])
async def test_provision_with_a_malformed_body_is_400(http: httpx.AsyncClient, org: Tenant,
                                                      content: bytes, says: str) -> None:
    resp = await http.post(NUMBERS, content=content, headers={
        **org.admin_headers, "Content-Type": "application/json"})
    assert_error(resp, 400, says)


async def test_agent_may_list_but_not_provision(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    listing = ok(await http.get(NUMBERS, headers=agent.headers))
    assert [n["id"] for n in listing["entities"]] == [org.number_id]
    ok(await http.get(f"{NUMBERS}/{org.number_id}", headers=agent.headers))
    phone = await free_number(http, org)
    resp = await http.post(NUMBERS, headers=agent.headers, json={
        "phoneNumber": phone, "phoneNumberType": "local", "countryCode": "US"})
    body = assert_error(resp, 403, "role 'agent'", "configure")
    assert body["code"] == "missing.permissions"
    assert_error(await http.put(f"{NUMBERS}/{org.number_id}", headers=agent.headers,
                                json={"name": "mine now"}), 403)
    assert_error(await http.delete(f"{NUMBERS}/{org.number_id}", headers=agent.headers), 403)
    assert_error(await http.post(NUMBERS, json={}), 401)


# -- listing ----------------------------------------------------------------------------------


async def test_list_numbers(http: httpx.AsyncClient, org: Tenant) -> None:
    extra = await provision(http, org, phoneNumberType="mobile")
    page = ok(await http.get(NUMBERS, headers=org.admin_headers))
    assert page["total"] == 2
    assert (page["pageNumber"], page["pageSize"], page["pageCount"]) == (1, 25, 1)
    assert sorted(n["id"] for n in page["entities"]) == sorted([org.number_id, extra["id"]])
    assert [n["phoneNumber"] for n in page["entities"]] == sorted(
        [org.number, extra["phoneNumber"]])

    by_type = ok(await http.get(NUMBERS, headers=org.admin_headers,
                                params={"phoneNumberType": "mobile"}))
    assert [n["id"] for n in by_type["entities"]] == [extra["id"]]
    both = ok(await http.get(f"{NUMBERS}?phoneNumberType=mobile%2Clocal",
                             headers=org.admin_headers))
    assert both["total"] == 2
    by_number = ok(await http.get(NUMBERS, headers=org.admin_headers,
                                  params={"phoneNumber": f"*{org.number[2:]}"}))
    assert [n["id"] for n in by_number["entities"]] == [org.number_id]
    by_status = ok(await http.get(NUMBERS, headers=org.admin_headers,
                                  params={"phoneNumberStatus": "active", "countryCode": "us"}))
    assert by_status["total"] == 2
    none = ok(await http.get(NUMBERS, headers=org.admin_headers,
                             params={"countryCode": "GB"}))
    assert (none["entities"], none["total"]) == ([], 0)
    small = ok(await http.get(NUMBERS, headers=org.admin_headers, params={"pageSize": 1}))
    assert (len(small["entities"]), small["pageCount"]) == (1, 2)
    assert_error(await http.get(NUMBERS, headers=org.admin_headers, params={"pageSize": 0}),
                 400, "pageSize", field="pageSize")


# -- read, rename, release --------------------------------------------------------------------


async def test_rename_bumps_the_version(http: httpx.AsyncClient, org: Tenant) -> None:
    n = await provision(http, org)
    url = f"{NUMBERS}/{n['id']}"
    renamed = ok(await http.put(url, headers=org.admin.headers,
                                json={"name": "Support line", "version": 1}))
    assert (renamed["name"], renamed["version"]) == ("Support line", 2)
    assert renamed["phoneNumber"] == n["phoneNumber"]
    assert renamed["modifiedBy"]["id"] == org.admin.id
    assert ok(await http.get(url, headers=org.admin_headers))["name"] == "Support line"

    stale = await http.put(url, headers=org.admin_headers, json={"name": "Old", "version": 1})
    assert_error(stale, 409, "version 2, not 1", field="version")
    assert ok(await http.get(url, headers=org.admin_headers))["name"] == "Support line"

    patched = ok(await http.patch(url, headers=org.admin_headers, json={"name": "Patched"}))
    assert (patched["name"], patched["version"]) == ("Patched", 3)
    unchanged = ok(await http.put(url, headers=org.admin_headers, json={"version": 3}))
    assert (unchanged["name"], unchanged["version"]) == ("Patched", 4)


async def test_rename_bad_input(http: httpx.AsyncClient, org: Tenant) -> None:
    url = f"{NUMBERS}/{org.number_id}"
    assert_error(await http.put(url, headers=org.admin_headers, json={"version": "two"}), 400,
                 "version", field="version")
    assert_error(await http.put(url, content=b"{", headers={
        **org.admin_headers, "Content-Type": "application/json"}), 400, "not valid JSON")
    assert_error(await http.put(url, headers=org.admin_headers, json={"name": "x" * 201}),
                 400, "200 characters", field="name")


async def test_release_a_number(http: httpx.AsyncClient, org: Tenant) -> None:
    n = await provision(http, org)
    url = f"{NUMBERS}/{n['id']}"
    resp = await http.delete(url, headers=org.admin_headers)
    assert resp.status_code == 204
    assert resp.content == b""
    assert_error(await http.get(url, headers=org.admin_headers), 404, n["id"], "not found")
    assert_error(await http.delete(url, headers=org.admin_headers), 404, "not found")
    assert_error(await http.put(url, headers=org.admin_headers, json={"name": "x"}), 404)
    listing = ok(await http.get(NUMBERS, headers=org.admin_headers))
    assert n["id"] not in [e["id"] for e in listing["entities"]]
    # Released numbers can be registered again.
    again = await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": n["phoneNumber"], "phoneNumberType": "local", "countryCode": "US"})
    assert ok(again)["id"] != n["id"]


async def test_unknown_number_is_404(http: httpx.AsyncClient, org: Tenant) -> None:
    body = assert_error(await http.get(f"{NUMBERS}/does-not-exist", headers=org.admin_headers),
                        404, "SMS phone number does-not-exist not found")
    assert body["code"] == "not.found"


async def test_releasing_a_queues_outbound_number_is_409(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    resp = await http.delete(f"{NUMBERS}/{org.number_id}", headers=org.admin_headers)
    assert_error(resp, 409, org.number, "Outbound SMS Number", "Support")
    ok(await http.get(f"{NUMBERS}/{org.number_id}", headers=org.admin_headers))
    queue = ok(await http.get(f"/api/v2/routing/queues/{org.queue_id}",
                              headers=org.admin_headers))
    assert queue["outboundMessagingAddresses"]["smsAddress"]["id"] == org.number_id
