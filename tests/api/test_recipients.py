"""Inbound message routes over HTTP: /api/v2/routing/message/recipients.

A recipient is one of the organisation's SMS numbers; PUT {flow: {id}} makes a published
flow answer the texts sent to it. The last test texts the number from a simulated phone and
waits for the flow's greeting, so the route is shown to take effect, not only to be stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import assert_error, ok
from tests.orgs import Tenant, make_org, random_customer

RECIPIENTS = "/api/v2/routing/message/recipients"
FLOWS = "/api/v2/flows"
NUMBERS = "/api/v2/routing/sms/phonenumbers"
YAML = {"Content-Type": "text/yaml"}


def flow_yaml(name: str, greeting: str) -> str:
    """The demo flow's shape, without its business-hours branch: greet, then Support."""
    return (f"name: {name}\n"
            "type: inboundshortmessage\n"
            "fallbackQueue: Support\n"
            "start: greet\n"
            "actions:\n"
            "  greet:\n"
            f'    sendResponse: {{text: "{greeting}"}}\n'
            "    next: note\n"
            "  note:\n"
            "    setParticipantData: {via: \"{{ flow.name }}\"}\n"
            "    next: toSupport\n"
            "  toSupport:\n"
            "    transferToAcd: {queue: Support}\n")


async def make_flow(http: httpx.AsyncClient, org: Tenant, name: str, *,
                    greeting: str = "Hello from the flow", publish: bool = True
                    ) -> dict[str, Any]:
    flow: dict[str, Any] = ok(await http.post(FLOWS, json={"name": name},
                                              headers=org.admin_headers))
    ok(await http.post(f"{FLOWS}/{flow['id']}/versions",
                       content=flow_yaml(name, greeting).encode(),
                       headers={**org.admin_headers, **YAML}))
    if publish:
        ok(await http.post(f"{FLOWS}/actions/publish", params={"flow": flow["id"]},
                           headers=org.admin_headers))
    return flow


async def route(http: httpx.AsyncClient, org: Tenant, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    recipient: dict[str, Any] = ok(await http.put(f"{RECIPIENTS}/{org.number_id}", json=body,
                                                  headers=headers or org.admin_headers))
    return recipient


async def recipient_of(http: httpx.AsyncClient, org: Tenant) -> dict[str, Any]:
    recipient: dict[str, Any] = ok(await http.get(f"{RECIPIENTS}/{org.number_id}",
                                                  headers=org.admin_headers))
    return recipient


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- reading ----------------------------------------------------------------------------------


async def test_the_list_shows_the_number_with_no_flow(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    page = ok(await http.get(RECIPIENTS, headers=org.admin_headers))
    assert (page["total"], page["pageNumber"], page["pageSize"], page["pageCount"]) == (
        1, 1, 25, 1)
    [recipient] = page["entities"]
    assert recipient["id"] == org.number_id
    assert recipient["messengerType"] == "sms"
    assert recipient["name"]
    assert "flow" not in recipient
    assert recipient["selfUri"] == f"{RECIPIENTS}/{org.number_id}"
    assert await recipient_of(http, org) == recipient

    sms = ok(await http.get(RECIPIENTS, params={"messengerType": "sms"},
                            headers=org.admin_headers))
    assert [r["id"] for r in sms["entities"]] == [org.number_id]
    other = ok(await http.get(RECIPIENTS, params={"messengerType": "facebook"},
                              headers=org.admin_headers))
    assert (other["entities"], other["total"]) == ([], 0)


async def test_each_number_is_a_recipient_and_the_list_pages(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    added: dict[str, Any] = {}
    for _ in range(20):
        resp = await http.post(NUMBERS, headers=org.admin_headers, json={
            "phoneNumber": random_customer(), "phoneNumberType": "local",
            "countryCode": "US", "name": "Second line"})
        if resp.status_code != 409:  # 409: that random number is taken, try another
            added = ok(resp)
            break
    assert added, "no free number to register"
    page = ok(await http.get(RECIPIENTS, headers=org.admin_headers))
    assert sorted(r["id"] for r in page["entities"]) == sorted([org.number_id, added["id"]])
    assert next(r for r in page["entities"] if r["id"] == added["id"])["name"] == "Second line"

    first = ok(await http.get(RECIPIENTS, params={"pageSize": 1}, headers=org.admin_headers))
    second = ok(await http.get(RECIPIENTS, params={"pageSize": 1, "pageNumber": 2},
                               headers=org.admin_headers))
    assert (first["total"], first["pageCount"]) == (2, 2)
    assert {first["entities"][0]["id"], second["entities"][0]["id"]} == {org.number_id,
                                                                         added["id"]}
    assert_error(await http.get(RECIPIENTS, params={"pageSize": 0},
                                headers=org.admin_headers), 400, "pageSize")


async def test_the_list_holds_only_the_callers_numbers(http: httpx.AsyncClient, org: Tenant,
                                                       other_org: Tenant) -> None:
    mine = ok(await http.get(RECIPIENTS, headers=org.admin_headers))
    assert [r["id"] for r in mine["entities"]] == [org.number_id]
    theirs = f"{RECIPIENTS}/{other_org.number_id}"
    assert_error(await http.get(theirs, headers=org.admin_headers), 404,
                 "message recipient", "not found")
    assert_error(await http.put(theirs, json={"flow": None}, headers=org.admin_headers), 404)


async def test_unknown_recipient_is_404(http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await make_flow(http, org, "Intake")
    missing = f"{RECIPIENTS}/no-such-number"
    assert_error(await http.get(missing, headers=org.admin_headers), 404,
                 "message recipient no-such-number not found")
    assert_error(await http.put(missing, json={"flow": {"id": flow["id"]}},
                                headers=org.admin_headers), 404,
                 "message recipient no-such-number not found")


# -- routing ----------------------------------------------------------------------------------


async def test_route_a_published_flow_then_unroute_it(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    flow = await make_flow(http, org, "Intake")
    routed = await route(http, org, {"flow": {"id": flow["id"]}})
    assert routed["id"] == org.number_id
    assert routed["flow"] == {"id": flow["id"], "name": "Intake",
                              "selfUri": f"{FLOWS}/{flow['id']}"}
    assert routed["dateModified"].endswith("Z")
    assert await recipient_of(http, org) == routed
    listed = ok(await http.get(RECIPIENTS, headers=org.admin_headers))
    assert listed["entities"] == [routed]

    # The route follows the flow, not its name at the time.
    ok(await http.put(f"{FLOWS}/{flow['id']}", json={"name": "Front door"},
                      headers=org.admin_headers))
    assert (await recipient_of(http, org))["flow"]["name"] == "Front door"

    unrouted = await route(http, org, {"flow": None})
    assert "flow" not in unrouted
    assert "flow" not in await recipient_of(http, org)

    await route(http, org, {"flow": {"id": flow["id"]}})
    assert "flow" not in await route(http, org, {})
    assert "flow" not in await recipient_of(http, org)


async def test_a_person_routing_is_recorded_as_the_modifier(http: httpx.AsyncClient,
                                                            org: Tenant) -> None:
    flow = await make_flow(http, org, "Intake")
    routed = await route(http, org, {"flow": {"id": flow["id"]}}, headers=org.admin.headers)
    assert routed["modifiedBy"] == {"id": org.admin.id}


async def test_route_to_an_unpublished_flow_says_publish_it_first(http: httpx.AsyncClient,
                                                                  org: Tenant) -> None:
    saved = await make_flow(http, org, "Draft", publish=False)
    resp = await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": saved["id"]}},
                          headers=org.admin_headers)
    assert_error(resp, 400, "flow 'Draft' is not published", "publish it before routing",
                 field="flow.id")
    empty: dict[str, Any] = ok(await http.post(FLOWS, json={"name": "Empty"},
                                               headers=org.admin_headers))
    resp = await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": empty["id"]}},
                          headers=org.admin_headers)
    assert_error(resp, 400, "is not published", field="flow.id")
    assert "flow" not in await recipient_of(http, org)


async def test_route_to_another_organisations_flow_is_400(http: httpx.AsyncClient,
                                                          org: Tenant,
                                                          other_org: Tenant) -> None:
    theirs = await make_flow(http, other_org, "Theirs")
    for flow_id in (theirs["id"], "no-such-flow"):
        resp = await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": flow_id}},
                              headers=org.admin_headers)
        assert_error(resp, 400, f"flow {flow_id} not found in this organisation",
                     field="flow.id")
    assert "flow" not in await recipient_of(http, org)


@pytest.mark.parametrize("body", [{"flow": {}}, {"flow": {"name": "Intake"}},
                                  {"flow": "Intake"}, {"flow": {"id": 5}}])
async def test_malformed_route_requests_are_400(http: httpx.AsyncClient, org: Tenant,
                                                body: dict[str, Any]) -> None:
    resp = await http.put(f"{RECIPIENTS}/{org.number_id}", json=body,
                          headers=org.admin_headers)
    assert_error(resp, 400, "flow")


async def test_an_agent_may_read_routes_but_not_change_them(http: httpx.AsyncClient,
                                                            org: Tenant) -> None:
    flow = await make_flow(http, org, "Intake")
    agent = org.agents[0].headers
    assert ok(await http.get(RECIPIENTS, headers=agent))["total"] == 1
    assert ok(await http.get(f"{RECIPIENTS}/{org.number_id}", headers=agent))["id"] == (
        org.number_id)
    resp = await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": flow["id"]}},
                          headers=agent)
    assert_error(resp, 403, "role 'agent'", "configure")
    assert "flow" not in await recipient_of(http, org)


async def test_recipients_need_a_token(http: httpx.AsyncClient, org: Tenant) -> None:
    assert_error(await http.get(RECIPIENTS), 401)
    assert_error(await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": None}), 401)


# -- the route takes effect -------------------------------------------------------------------


async def phone_messages(http: httpx.AsyncClient, org: Tenant, phone: str,
                         count: int) -> list[dict[str, Any]]:
    """What the simulated phone received, once it has at least `count` texts (bounded wait)."""
    received: list[dict[str, Any]] = []
    for _ in range(250):
        page = ok(await http.get("/sim/v1/messages", params={"phone": phone},
                                 headers=org.admin_headers))
        received = [m for m in page["entities"] if m["direction"] == "received"]
        if len(received) >= count:
            break
        await asyncio.sleep(0.02)
    return received


async def test_a_text_to_a_routed_number_gets_the_published_greeting(
        http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await make_flow(http, org, "Intake", greeting="Thanks for texting Intake!")
    # A newer draft is saved but not published: the route runs the published version.
    ok(await http.post(f"{FLOWS}/{flow['id']}/versions",
                       content=flow_yaml("Intake", "DRAFT GREETING").encode(),
                       headers={**org.admin_headers, **YAML}))
    await route(http, org, {"flow": {"id": flow["id"]}})

    customer = random_customer()
    sent = ok(await http.post("/sim/v1/messages", headers=org.admin_headers, json={
        "from": customer, "to": org.number, "text": "Hi, I need help"}))
    assert sent["id"]

    received = await phone_messages(http, org, customer, 1)
    assert [(m["fromAddress"], m["toAddress"], m["text"]) for m in received] == [
        (org.number, customer, "Thanks for texting Intake!")]
