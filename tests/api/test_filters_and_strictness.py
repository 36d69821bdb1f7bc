"""Name filters take `*` only; numbers are numbers; presence messages are bounded."""

from __future__ import annotations

import httpx
import pytest

from tests.api.support import assert_error
from tests.orgs import Tenant


async def test_percent_and_underscore_are_literal_in_name_filters(http: httpx.AsyncClient,
                                                                  org: Tenant) -> None:
    for name in ("Sales_EU", "SalesXEU", "100% sure"):
        resp = await http.post("/api/v2/routing/skills", headers=org.admin_headers,
                               json={"name": name})
        assert resp.status_code == 200, resp.text

    async def names(pattern: str) -> list[str]:
        resp = await http.get("/api/v2/routing/skills", headers=org.admin_headers,
                              params={"name": pattern})
        assert resp.status_code == 200, resp.text
        return sorted(s["name"] for s in resp.json()["entities"])

    assert await names("Sales_EU") == ["Sales_EU"]
    assert await names("Sales*") == ["SalesXEU", "Sales_EU"]
    assert await names("100%*") == ["100% sure"]
    assert await names("%") == []


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v2/routing/utilization", {"utilization": {"message": {"maximumCapacity": True}}},
     "maximumCapacity"),
    ("/api/v2/routing/utilization", {"utilization": {"message": {"maximumCapacity": "4"}}},
     "maximumCapacity"),
], ids=["boolean-capacity", "string-capacity"])
async def test_capacity_must_be_a_number(http: httpx.AsyncClient, org: Tenant, path: str,
                                         body: dict[str, object], field: str) -> None:
    resp = await http.put(path, headers=org.admin_headers, json=body)
    assert_error(resp, 400, field)


async def test_proficiency_must_be_a_number(http: httpx.AsyncClient, org: Tenant) -> None:
    skill = (await http.post("/api/v2/routing/skills", headers=org.admin_headers,
                             json={"name": "Billing"})).json()
    resp = await http.post(f"/api/v2/users/{org.agents[0].id}/routingskills",
                           headers=org.admin_headers,
                           json={"id": skill["id"], "proficiency": True})
    assert_error(resp, 400, "proficiency")


async def test_presence_message_is_bounded_and_on_queue_is_spelled_as_events_do(
        http: httpx.AsyncClient, org: Tenant) -> None:
    me = org.agents[0]
    resp = await http.patch(f"/api/v2/users/{me.id}/presences/purecloud", headers=me.headers,
                            json={"presenceDefinition": {"systemPresence": "OnQueue"},
                                  "message": "x" * 501})
    assert_error(resp, 400, "message is longer than 500")
    resp = await http.patch(f"/api/v2/users/{me.id}/presences/purecloud", headers=me.headers,
                            json={"presenceDefinition": {"systemPresence": "OnQueue"},
                                  "message": "back from lunch"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["presenceDefinition"]["systemPresence"] == "OnQueue"
    assert resp.json()["message"] == "back from lunch"
