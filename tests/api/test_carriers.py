"""Carrier connections over HTTP: /api/v2/parley/carriers, and numbers registered on them.

The connections here are of kind `sim` (a simulator instance per connection) and of kind
`smpp` pointing at a port nothing listens on: what is tested is the resource - validation,
secrets, versions, isolation, numbers - not the protocol (tests/carriers does that).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import assert_error, ok
from tests.carriers.conftest import free_number
from tests.orgs import Tenant, make_org
from tests.servers import free_port

CARRIERS = "/api/v2/parley/carriers"
NUMBERS = "/api/v2/routing/sms/phonenumbers"
AVAILABLE = "/api/v2/routing/sms/availablephonenumbers"


def smpp_body(**overrides: Any) -> dict[str, Any]:
    return {"name": f"Aggregator {free_port()}", "kind": "smpp",
            "settings": {"host": "127.0.0.1", "port": free_port(), "systemId": "parley",
                         "reconnectMaxSeconds": 60},
            "secrets": {"password": "s3cret"}, **overrides}


async def create(http: httpx.AsyncClient, org: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = ok(await http.post(CARRIERS, json=body, headers=org.admin_headers))
    return created


async def disable(http: httpx.AsyncClient, org: Tenant, connection_id: str) -> None:
    ok(await http.patch(f"{CARRIERS}/{connection_id}", json={"enabled": False},
                        headers=org.admin_headers))


async def test_an_smpp_connection_is_created_with_defaults_and_never_shows_its_secret(
        http: httpx.AsyncClient, org: Tenant) -> None:
    body = smpp_body()
    created = await create(http, org, body)
    try:
        assert created["kind"] == "smpp" and created["enabled"] is True
        s = created["settings"]
        assert (s["host"], s["systemId"], s["port"]) == ("127.0.0.1", "parley",
                                                         body["settings"]["port"])
        assert (s["bindMode"], s["window"], s["concatenation"], s["enquireLinkSeconds"]) == (
            "transceiver", 10, "udh", 30)
        assert s["numberRates"] == {"local": 1.0, "mobile": 1.0, "tollfree": 3.0,
                                    "shortcode": 100.0}
        assert created["secretsSet"] == ["password"]
        assert "s3cret" not in str(created)
        assert created["selfUri"] == f"{CARRIERS}/{created['id']}"
        assert created["state"]["status"] in ("connecting", "failed")
        listed = ok(await http.get(CARRIERS, headers=org.admin_headers))
        ids = [c["id"] for c in listed["entities"]]
        assert created["id"] in ids and "sim" in ids
        assert "s3cret" not in str(listed)
        got = ok(await http.get(f"{CARRIERS}/{created['id']}", headers=org.admin_headers))
        assert got["settings"] == s and "s3cret" not in str(got)
    finally:
        await disable(http, org, created["id"])


async def test_an_unreachable_smsc_shows_failed_with_the_reason(
        http: httpx.AsyncClient, org: Tenant) -> None:
    created = await create(http, org, smpp_body())
    try:
        for _ in range(300):
            state = ok(await http.get(f"{CARRIERS}/{created['id']}",
                                      headers=org.admin_headers))["state"]
            if state["status"] == "failed":
                break
            await asyncio.sleep(0.02)
        assert state["status"] == "failed"
        assert "refused" in state["reason"]
        assert state["binds"][0]["name"] == "transceiver 1"
    finally:
        await disable(http, org, created["id"])
    state = ok(await http.get(f"{CARRIERS}/{created['id']}", headers=org.admin_headers))
    assert state["state"]["status"] == "disabled"


@pytest.mark.parametrize(("body", "fields"), [
    pytest.param({"kind": "smpp", "name": "x", "settings": {}, "secrets": {}},
                 {"settings.host", "settings.systemId", "secrets.password"},
                 id="required-settings-and-secret"),
    pytest.param({"kind": "smpp", "name": "x", "secrets": {"password": "123456789"},
                  "settings": {"host": "a b", "port": 70000, "systemId": "s" * 16,
                               "window": 0, "bindMode": "both", "tls": "yes",
                               "sourceNpi": 2, "numberRates": {"local": -1, "pager": 1},
                               "colour": "blue"}},
                 {"settings.host", "settings.port", "settings.systemId", "settings.window",
                  "settings.bindMode", "settings.tls", "settings.sourceNpi",
                  "settings.numberRates", "settings.colour", "secrets.password"},
                 id="every-wrong-field-named"),
    pytest.param({"kind": "http", "name": "x", "settings": {"baseUrl": "ftp://x",
                                                           "accountSid": "AC 1"},
                  "secrets": {}},
                 {"settings.baseUrl", "settings.accountSid", "secrets.authToken"},
                 id="http-provider"),
    pytest.param({"kind": "sim", "name": "x", "numbers": [
        {"phoneNumber": "3125550100"}, {"phoneNumber": "+13125550100",
                                        "phoneNumberType": "landline"}]},
                 {"numbers[0].phoneNumber", "numbers[1].phoneNumberType"},
                 id="inventory"),
])
async def test_bad_settings_name_every_field(http: httpx.AsyncClient, org: Tenant,
                                             body: dict[str, Any], fields: set[str]) -> None:
    err = assert_error(await http.post(CARRIERS, json=body, headers=org.admin_headers), 400)
    assert {d["fieldName"] for d in err["details"]} == fields
    assert all(d["entityName"] for d in err["details"]), "each problem says what is wrong"


@pytest.mark.parametrize(("body", "status", "says"), [
    pytest.param({"kind": "fax", "name": "x"}, 400, ("kind must be one of",), id="kind"),
    pytest.param({"kind": "sim"}, 400, ("name is required",), id="no-name"),
    pytest.param({"kind": "sim", "name": "x", "settings": []}, 400,
                 ("settings must be a JSON object",), id="settings-not-an-object"),
    pytest.param({"kind": "sim", "name": "x", "enabled": "yes"}, 400, ("enabled",),
                 id="enabled-not-a-boolean"),
])
async def test_bad_requests(http: httpx.AsyncClient, org: Tenant, body: dict[str, Any],
                            status: int, says: tuple[str, ...]) -> None:
    assert_error(await http.post(CARRIERS, json=body, headers=org.admin_headers), status, *says)


async def test_names_are_unique_in_an_organisation(http: httpx.AsyncClient,
                                                   org: Tenant) -> None:
    created = await create(http, org, {"kind": "sim", "name": "Lab"})
    assert_error(await http.post(CARRIERS, json={"kind": "sim", "name": "lab"},
                                 headers=org.admin_headers), 409, "already exists")
    other = await create(http, org, {"kind": "sim", "name": "Lab 2"})
    assert_error(await http.patch(f"{CARRIERS}/{other['id']}", json={"name": "LAB"},
                                  headers=org.admin_headers), 409, "already exists")
    assert created["id"] != other["id"]


async def test_patch_merges_put_replaces_and_secrets_stay_unless_given(
        http: httpx.AsyncClient, org: Tenant, parley: Parley) -> None:
    created = await create(http, org, smpp_body())
    cid = created["id"]
    try:
        patched = ok(await http.patch(f"{CARRIERS}/{cid}", json={
            "settings": {"window": 50, "numberRates": {"tollfree": 10}}},
            headers=org.admin_headers))
        assert patched["settings"]["window"] == 50
        assert patched["settings"]["host"] == "127.0.0.1", "a PATCH keeps what it omits"
        assert patched["settings"]["numberRates"]["tollfree"] == 10.0
        assert patched["settings"]["numberRates"]["local"] == 1.0
        assert patched["version"] == created["version"] + 1
        async with parley.uow(read_only=True) as uow:
            stored = await uow.carriers.get(org.id, cid)
        assert stored is not None and stored.secrets == {"password": "s3cret"}

        replaced = ok(await http.put(f"{CARRIERS}/{cid}", json={
            "name": created["name"], "settings": {"host": "smsc.example", "systemId": "p2"}},
            headers=org.admin_headers))
        assert replaced["settings"]["window"] == 10, "a PUT resets what it omits"
        assert replaced["settings"]["host"] == "smsc.example"
        assert replaced["secretsSet"] == ["password"], "secrets are kept, never resent"

        ok(await http.patch(f"{CARRIERS}/{cid}", json={"secrets": {"password": "n3w"}},
                            headers=org.admin_headers))
        async with parley.uow(read_only=True) as uow:
            stored = await uow.carriers.get(org.id, cid)
        assert stored is not None and stored.secrets == {"password": "n3w"}

        assert_error(await http.patch(f"{CARRIERS}/{cid}", json={"version": 1,
                                                                   "settings": {}},
                                      headers=org.admin_headers), 409, "version")
        assert_error(await http.patch(f"{CARRIERS}/{cid}", json={"kind": "http"},
                                      headers=org.admin_headers), 400, "cannot change")
        assert_error(await http.patch(f"{CARRIERS}/{cid}", json={"settings": {"port": 0}},
                                      headers=org.admin_headers), 400, "settings.port")
        err = assert_error(await http.patch(f"{CARRIERS}/{cid}", json={
            "name": "", "settings": {"window": 0}, "secrets": {"password": "x" * 9},
            "numbers": [{"phoneNumber": "12"}], "enabled": "no"}, headers=org.admin_headers),
            400)
        assert {d["fieldName"] for d in err["details"]} == {
            "name", "settings.window", "secrets.password", "numbers[0].phoneNumber",
            "enabled"}, "a change names every wrong field at once too"
    finally:
        await disable(http, org, cid)


async def test_numbers_register_on_a_connection_and_come_from_its_inventory(
        http: httpx.AsyncClient, org: Tenant, parley: Parley) -> None:
    number = await free_number(parley)
    created = await create(http, org, {"kind": "sim", "name": "Inventory", "numbers": [
        {"phoneNumber": number, "phoneNumberType": "local"}]})
    cid = created["id"]
    offered = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
        "countryCode": "US", "phoneNumberType": "local", "integrationId": cid}))["entities"]
    assert offered and all(a["integration"]["id"] == cid for a in offered)
    registered = ok(await http.post(NUMBERS, json={
        "phoneNumber": number, "phoneNumberType": "local", "countryCode": "US"},
        headers=org.admin_headers))
    assert registered["integration"]["id"] == cid, "the connection whose inventory has it"
    view = ok(await http.get(f"{CARRIERS}/{cid}", headers=org.admin_headers))
    assert view["registeredNumbers"] == [number]
    sim = ok(await http.get(f"{CARRIERS}/sim", headers=org.admin_headers))
    assert sim["registeredNumbers"] == [org.number], "the built-in one: this org's only"
    assert view["numbers"] == [{"phoneNumber": number, "phoneNumberType": "local"}]

    assert_error(await http.delete(f"{CARRIERS}/{cid}", headers=org.admin_headers), 409,
                 "still serves 1 registered number", number)
    moved = ok(await http.patch(f"{NUMBERS}/{registered['id']}",
                                json={"integration": {"id": "sim"}},
                                headers=org.admin_headers))
    assert moved["integration"]["id"] == "sim"
    resp = await http.delete(f"{CARRIERS}/{cid}", headers=org.admin_headers)
    assert resp.status_code == 204, resp.text
    assert_error(await http.get(f"{CARRIERS}/{cid}", headers=org.admin_headers), 404)


async def test_a_number_on_no_connection_of_the_org_is_refused(
        http: httpx.AsyncClient, org: Tenant, parley: Parley) -> None:
    other = await make_org(parley, http, agents=0)
    theirs = await create(http, other, {"kind": "sim", "name": "Theirs"})
    number = await free_number(parley)
    assert_error(await http.post(NUMBERS, json={
        "phoneNumber": number, "phoneNumberType": "local", "countryCode": "US",
        "integration": {"id": theirs["id"]}}, headers=org.admin_headers), 400, "not found")
    assert_error(await http.get(AVAILABLE, headers=org.admin_headers, params={
        "countryCode": "US", "phoneNumberType": "local", "integrationId": theirs["id"]}),
        400, "not found")
    stopped = await create(http, org, {"kind": "sim", "name": "Stopped", "enabled": False})
    assert_error(await http.post(NUMBERS, json={
        "phoneNumber": number, "phoneNumberType": "local", "countryCode": "US",
        "integration": {"id": stopped["id"]}}, headers=org.admin_headers), 400, "disabled")


async def test_smpp_inventory_limits_what_may_be_registered(
        http: httpx.AsyncClient, org: Tenant, parley: Parley) -> None:
    listed, unlisted = await free_number(parley), await free_number(parley)
    created = await create(http, org, smpp_body(numbers=[
        {"phoneNumber": listed, "phoneNumberType": "local"}]))
    try:
        assert_error(await http.post(NUMBERS, json={
            "phoneNumber": unlisted, "phoneNumberType": "local", "countryCode": "US",
            "integration": {"id": created["id"]}}, headers=org.admin_headers), 400,
            "not among the numbers")
    finally:
        await disable(http, org, created["id"])


async def test_other_organisations_and_agents(http: httpx.AsyncClient, org: Tenant,
                                              parley: Parley) -> None:
    created = await create(http, org, {"kind": "sim", "name": "Private"})
    other = await make_org(parley, http, agents=0)
    assert_error(await http.get(f"{CARRIERS}/{created['id']}", headers=other.admin_headers),
                 404)
    assert created["id"] not in [c["id"] for c in ok(await http.get(
        CARRIERS, headers=other.admin_headers))["entities"]]
    agent = org.agents[0].headers
    assert ok(await http.get(CARRIERS, headers=agent))["total"] >= 2, "agents may look"
    assert_error(await http.post(CARRIERS, json={"kind": "sim", "name": "Mine"},
                                 headers=agent), 403, "configure")
    assert_error(await http.delete(f"{CARRIERS}/{created['id']}", headers=agent), 403)
    assert_error(await http.get(CARRIERS), 401)


async def test_the_builtin_simulator_is_listed_and_read_only(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    sim = ok(await http.get(f"{CARRIERS}/sim", headers=org.admin_headers))
    assert (sim["builtin"], sim["kind"], sim["state"]["status"]) == (True, "sim", "bound")
    assert_error(await http.patch(f"{CARRIERS}/sim", json={"enabled": False},
                                  headers=org.admin_headers), 404)
    assert_error(await http.delete(f"{CARRIERS}/sim", headers=org.admin_headers), 404)


async def test_restart(http: httpx.AsyncClient, org: Tenant) -> None:
    created = await create(http, org, {"kind": "sim", "name": "Restartable"})
    again = ok(await http.post(f"{CARRIERS}/{created['id']}/restart",
                               headers=org.admin_headers))
    assert again["state"]["status"] == "bound"
    assert_error(await http.post(f"{CARRIERS}/nope/restart", headers=org.admin_headers), 404)


async def test_the_settings_of_each_kind_are_described_for_forms(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0].headers  # read-only: anyone who may view the configuration
    listing = ok(await http.get(f"{CARRIERS}/settings", headers=agent))
    kinds = {k["kind"]: k for k in listing["entities"]}
    assert set(kinds) == {"smpp", "http", "sim"}
    assert listing["phoneNumberTypes"] == ["local", "mobile", "tollfree", "shortcode"]
    smpp = {s["name"]: s for s in kinds["smpp"]["settings"]}
    assert smpp["host"]["required"] is True and "default" not in smpp["host"]
    assert (smpp["port"]["type"], smpp["port"]["default"], smpp["port"]["required"]) == (
        "integer", 2775, False)
    assert smpp["bindMode"]["choices"] == ["transceiver", "transmitter+receiver"]
    assert smpp["sourceNpi"]["choices"][:3] == [0, 1, 3]
    assert (smpp["tls"]["type"], smpp["tls"]["default"]) == ("boolean", False)
    assert smpp["numberRates"]["type"] == "object"
    assert smpp["numberRates"]["default"]["tollfree"] == 3.0
    assert "at most 15" in smpp["systemId"]["help"]
    assert [(s["name"], s["required"]) for s in kinds["smpp"]["secrets"]] == [("password", True)]
    assert [s["name"] for s in kinds["http"]["secrets"]] == ["authToken"]
    assert kinds["sim"]["secrets"] == []

    # What a form fills in from it (every default) is accepted as it is.
    sim = {s["name"]: s["default"] for s in kinds["sim"]["settings"] if "default" in s}
    created = await create(http, org, {"kind": "sim", "name": "From the form", "settings": sim})
    assert created["settings"] == sim
    assert_error(await http.post(f"{CARRIERS}/settings", json={}, headers=org.admin_headers),
                 405)
    assert_error(await http.get(f"{CARRIERS}/settings"), 401)
