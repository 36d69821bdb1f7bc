"""Inbound message flows over HTTP: /api/v2/flows, their versions, publishing and validation.

A flow is created empty, gets numbered versions (YAML, checked against the organisation's
queues when saved and again when published), and one version is published: that is the one
the numbers routed to the flow run. Every refusal is a Genesys ErrorBody whose message names
the line and the field, so an author can find the mistake without the validate endpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.flows import EXAMPLE_FLOW
from parley.services.demo import DEMO_FLOW
from tests.api.support import assert_error, ok
from tests.orgs import Tenant, make_org

FLOWS = "/api/v2/flows"
PUBLISH = f"{FLOWS}/actions/publish"
VALIDATE = "/api/v2/parley/flows/validate"
RECIPIENTS = "/api/v2/routing/message/recipients"
QUEUES = "/api/v2/routing/queues"
YAML = {"Content-Type": "text/yaml"}

# A flow using schedules, a decision, two texts and a transfer; the cases below break one
# line of it at a time, so the line each problem is reported on is known.
GOOD = [
    "name: Intake",                                                          # 1
    "type: inboundshortmessage",                                             # 2
    "fallbackQueue: Support",                                                # 3
    "schedules:",                                                            # 4
    "  hours:",                                                              # 5
    "    timezone: America/Chicago",                                         # 6
    '    open: {mon-fri: "09:00-17:00"}',                                    # 7
    "start: greet",                                                          # 8
    "actions:",                                                              # 9
    "  greet:",                                                              # 10
    '    sendResponse: {text: "Hi!"}',                                       # 11
    "    next: hours",                                                       # 12
    "  hours:",                                                              # 13
    "    decision: {if: \"isOpen('hours')\", then: toSupport, else: closed}",  # 14
    "  closed:",                                                             # 15
    '    sendResponse: {text: "We are closed."}',                            # 16
    "    next: toSupport",                                                   # 17
    "  toSupport:",                                                          # 18
    "    transferToAcd: {queue: Support}",                                   # 19
]


def good_flow(**lines: str) -> str:
    """GOOD with some lines replaced: good_flow(l7='...') replaces line 7."""
    out = list(GOOD)
    for key, text in lines.items():
        out[int(key[1:]) - 1] = text
    return "\n".join(out) + "\n"


def flow_yaml(name: str, *, greeting: str = "Hello from the flow", queue: str = "Support",
              extra: str = "") -> str:
    """A small valid flow: a greeting, then a transfer to `queue`."""
    return (f"name: {name}\n"
            "type: inboundshortmessage\n"
            f"fallbackQueue: {queue}\n"
            "start: greet\n"
            "actions:\n"
            "  greet:\n"
            f'    sendResponse: {{text: "{greeting}"}}\n'
            "    next: toQueue\n"
            "  toQueue:\n"
            f"    transferToAcd: {{queue: {queue}}}\n"
            f"{extra}")


async def create_flow(http: httpx.AsyncClient, org: Tenant, name: str,
                      **fields: Any) -> dict[str, Any]:
    flow: dict[str, Any] = ok(await http.post(FLOWS, json={"name": name, **fields},
                                              headers=org.admin_headers))
    return flow


async def save(http: httpx.AsyncClient, org: Tenant, flow_id: str, text: str) -> dict[str, Any]:
    version: dict[str, Any] = ok(await http.post(
        f"{FLOWS}/{flow_id}/versions", content=text.encode(),
        headers={**org.admin_headers, **YAML}))
    return version


async def publish(http: httpx.AsyncClient, org: Tenant, flow_id: str,
                  version: int | None = None) -> dict[str, Any]:
    params: dict[str, str | int] = {"flow": flow_id}
    if version is not None:
        params["version"] = version
    operation: dict[str, Any] = ok(await http.post(PUBLISH, params=params,
                                                   headers=org.admin_headers))
    return operation


async def published_flow(http: httpx.AsyncClient, org: Tenant, name: str,
                         text: str | None = None) -> dict[str, Any]:
    flow = await create_flow(http, org, name)
    await save(http, org, flow["id"], text or flow_yaml(name))
    await publish(http, org, flow["id"])
    return flow


async def get_flow(http: httpx.AsyncClient, org: Tenant, flow_id: str) -> dict[str, Any]:
    flow: dict[str, Any] = ok(await http.get(f"{FLOWS}/{flow_id}", headers=org.admin_headers))
    return flow


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- create, read, list -----------------------------------------------------------------------


async def test_create_defaults_to_an_inbound_message_flow(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake", description="Front door")
    assert flow["id"]
    assert flow["name"] == "Intake"
    assert flow["description"] == "Front door"
    assert flow["type"] == "INBOUNDSHORTMESSAGE"
    assert flow["active"] is False
    assert "publishedVersion" not in flow and "savedVersion" not in flow
    assert flow["selfUri"] == f"{FLOWS}/{flow['id']}"
    assert await get_flow(http, org, flow["id"]) == flow


@pytest.mark.parametrize("kind", ["INBOUNDSHORTMESSAGE", "inboundshortmessage",
                                  "InboundShortMessage"])
async def test_create_accepts_the_type_in_any_case(http: httpx.AsyncClient, org: Tenant,
                                                   kind: str) -> None:
    flow = await create_flow(http, org, "Typed", type=kind)
    assert flow["type"] == "INBOUNDSHORTMESSAGE"


async def test_create_refuses_other_types_missing_names_and_duplicates(
        http: httpx.AsyncClient, org: Tenant) -> None:
    for kind in ("inboundcall", "INBOUNDCHAT", "nonsense"):
        assert_error(await http.post(FLOWS, json={"name": "Calls", "type": kind},
                                     headers=org.admin_headers),
                     400, f"flow type '{kind}' is not supported", "inboundshortmessage",
                     field="type")
    for body in ({}, {"name": ""}, {"name": "   "}, {"description": "no name"}):
        assert_error(await http.post(FLOWS, json=body, headers=org.admin_headers),
                     400, "name is required", field="name")
    await create_flow(http, org, "Intake")
    for name in ("Intake", "intake", "  INTAKE "):
        assert_error(await http.post(FLOWS, json={"name": name}, headers=org.admin_headers),
                     409, "already exists", field="name")
    listed = ok(await http.get(FLOWS, headers=org.admin_headers))
    assert [f["name"] for f in listed["entities"]] == ["Intake"]


async def test_create_with_a_body_that_is_not_json_is_400(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    resp = await http.post(FLOWS, content=b"{name:", headers={
        **org.admin_headers, "Content-Type": "application/json"})
    assert_error(resp, 400, "not valid JSON")


async def test_list_pages_and_filters(http: httpx.AsyncClient, org: Tenant) -> None:
    made = [await create_flow(http, org, name) for name in ("Charlie", "Alpha", "Bravo")]
    page = ok(await http.get(FLOWS, headers=org.admin_headers))
    assert [f["name"] for f in page["entities"]] == ["Alpha", "Bravo", "Charlie"]
    assert (page["total"], page["pageNumber"], page["pageSize"], page["pageCount"]) == (
        3, 1, 25, 1)

    second = ok(await http.get(FLOWS, params={"pageSize": 2, "pageNumber": 2},
                               headers=org.admin_headers))
    assert [f["name"] for f in second["entities"]] == ["Charlie"]
    assert (second["total"], second["pageCount"]) == (3, 2)

    for kind in ("inboundshortmessage", "INBOUNDSHORTMESSAGE"):
        typed = ok(await http.get(FLOWS, params={"type": kind}, headers=org.admin_headers))
        assert typed["total"] == 3
    calls = ok(await http.get(FLOWS, params={"type": "inboundcall"}, headers=org.admin_headers))
    assert calls["entities"] == [] and calls["total"] == 0

    named = ok(await http.get(FLOWS, params={"name": "br*"}, headers=org.admin_headers))
    assert [f["name"] for f in named["entities"]] == ["Bravo"]
    by_id = ok(await http.get(FLOWS, params={"id": f"{made[0]['id']},{made[1]['id']}"},
                              headers=org.admin_headers))
    assert sorted(f["name"] for f in by_id["entities"]) == ["Alpha", "Charlie"]


async def test_unknown_flow_is_404_everywhere(http: httpx.AsyncClient, org: Tenant) -> None:
    missing = f"{FLOWS}/no-such-flow"
    h = org.admin_headers
    for resp in (await http.get(missing, headers=h),
                 await http.put(missing, json={"name": "X"}, headers=h),
                 await http.delete(missing, headers=h),
                 await http.get(f"{missing}/versions", headers=h),
                 await http.get(f"{missing}/versions/1", headers=h),
                 await http.get(f"{missing}/versions/1/configuration", headers=h),
                 await http.get(f"{missing}/latestconfiguration", headers=h),
                 await http.post(f"{missing}/versions", content=flow_yaml("X").encode(),
                                 headers={**h, **YAML}),
                 await http.post(PUBLISH, params={"flow": "no-such-flow"}, headers=h)):
        assert_error(resp, 404, "no-such-flow")


# -- saving versions --------------------------------------------------------------------------


async def test_save_a_version_as_raw_yaml_then_as_json(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    first = await save(http, org, flow["id"], good_flow())
    assert (first["id"], first["name"], first["commitVersion"], first["type"]) == (
        "1", "1", "1", "SAVE")
    assert isinstance(first["dateCreated"], int)  # Genesys: epoch milliseconds
    assert first["selfUri"] == f"{FLOWS}/{flow['id']}/versions/1"
    assert "datePublished" not in first

    second = ok(await http.post(f"{FLOWS}/{flow['id']}/versions",
                                json={"yaml": good_flow(l11='    sendResponse: {text: "Yo"}')},
                                headers=org.admin_headers))
    assert second["id"] == "2"
    assert second["dateCreated"] >= first["dateCreated"]

    also_plain = ok(await http.post(f"{FLOWS}/{flow['id']}/versions",
                                    content=good_flow().encode(),
                                    headers={**org.admin_headers, "Content-Type": "text/plain"}))
    assert also_plain["id"] == "3"

    got = await get_flow(http, org, flow["id"])
    assert got["savedVersion"]["id"] == "3"
    assert "publishedVersion" not in got
    assert got["active"] is False


async def test_saving_takes_the_name_and_description_from_the_definition(
        http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Draft")
    text = flow_yaml("Front door", extra="description: Says hello\n")
    await save(http, org, flow["id"], text)
    got = await get_flow(http, org, flow["id"])
    assert (got["name"], got["description"]) == ("Front door", "Says hello")

    taken = await create_flow(http, org, "Taken")
    resp = await http.post(f"{FLOWS}/{taken['id']}/versions", content=text.encode(),
                           headers={**org.admin_headers, **YAML})
    assert_error(resp, 409, "a flow named 'Front door' already exists", field="name")
    assert (await get_flow(http, org, taken["id"]))["name"] == "Taken"
    assert ok(await http.get(f"{FLOWS}/{taken['id']}/versions",
                             headers=org.admin_headers))["entities"] == []


@pytest.mark.parametrize(("body", "content_type", "says"), [
    (b"", "text/yaml", "the flow definition is empty"),
    (b"  \n\n", "text/yaml", "the flow definition is empty"),
    (b'{"yaml": ""}', "application/json", "the flow definition is empty"),
    (b'{"text": "name: x"}', "application/json", 'send the definition as {"yaml": "..."}'),
    (b'{"yaml": 5}', "application/json", 'send the definition as {"yaml": "..."}'),
    (b'["name: x"]', "application/json", 'send the definition as {"yaml": "..."}'),
    (b'{"yaml": ', "application/json", "not valid JSON"),
    (b"name: \xff\xfe", "text/yaml", "not valid UTF-8"),
], ids=["empty", "blank", "empty-json", "no-yaml-key", "yaml-not-text", "json-list",
        "bad-json", "not-utf8"])
async def test_save_refuses_bodies_without_a_definition(http: httpx.AsyncClient, org: Tenant,
                                                        body: bytes, content_type: str,
                                                        says: str) -> None:
    flow = await create_flow(http, org, "Intake")
    resp = await http.post(f"{FLOWS}/{flow['id']}/versions", content=body,
                           headers={**org.admin_headers, "Content-Type": content_type})
    assert_error(resp, 400, says)


# One broken line each: (replaced lines, line reported, field path, phrases in the message).
BROKEN = [
    pytest.param({"l11": '    sendRespons: {text: "Hi!"}'}, 11, 5,
                 "actions.greet.sendRespons",
                 ["unknown action type 'sendRespons'", "did you mean 'sendResponse'"],
                 id="unknown-action-type"),
    pytest.param({"l17": "    next: toSupprt"}, 17, 11, "actions.closed.next",
                 ["there is no action 'toSupprt'", "did you mean 'toSupport'"],
                 id="next-names-no-action"),
    pytest.param({"l14": "    decision: {if: \"isOpen('hours')\", then: toSupport, else: shut}"},
                 14, 62, "actions.hours.decision.else", ["there is no action 'shut'"],
                 id="branch-names-no-action"),
    pytest.param({"l12": "    # no next"}, 11, 5, "actions.greet",
                 ["action 'greet' needs 'next'"], id="missing-next"),
    pytest.param({"l19": "    transferToAcd: {queue: Billing}"}, 19, 28,
                 "actions.toSupport.transferToAcd.queue",
                 ["there is no queue named 'Billing'"], id="unknown-queue"),
    pytest.param({"l3": "fallbackQueue: Sales"}, 3, 16, "fallbackQueue",
                 ["there is no queue named 'Sales'"], id="unknown-fallback-queue"),
    pytest.param({"l14": "    decision: {if: \"isOpen('hours') and\", then: toSupport, "
                         "else: closed}"},
                 14, 20, "actions.hours.decision.if", ["not a valid expression"],
                 id="expression-syntax"),
    pytest.param({"l14": "    decision: {if: \"message.body == 'x'\", then: toSupport, "
                         "else: closed}"},
                 14, 20, "actions.hours.decision.if", ["message has no field 'body'"],
                 id="expression-unknown-field"),
    pytest.param({"l14": "    decision: {if: \"isOpen('hour')\", then: toSupport, else: closed}"},
                 14, 20, "actions.hours.decision.if", ["unknown schedule 'hour'"],
                 id="expression-unknown-schedule"),
    pytest.param({"l16": '    sendResponse: {text: "Closed, {{ message.text "}'}, 16, 26,
                 "actions.closed.sendResponse.text", ["{{"], id="template-unclosed"),
    pytest.param({"l7": '    open: {mon-fri: "17:00-09:00"}'}, 7, 21,
                 "schedules.hours.open.mon-fri", ["'17:00-09:00' ends before it starts"],
                 id="schedule-backwards-range"),
    pytest.param({"l7": '    open: {mon-fri: "09:00-25:00"}'}, 7, 21,
                 "schedules.hours.open.mon-fri", ["'09:00-25:00' is not a range of hours"],
                 id="schedule-bad-hour"),
    pytest.param({"l7": '    open: {mon-fry: "09:00-17:00"}'}, 7, 21,
                 "schedules.hours.open.mon-fry", ["'mon-fry' is not a day"],
                 id="schedule-bad-day"),
    pytest.param({"l6": "    timezone: Mars/Olympus"}, 6, 15, "schedules.hours.timezone",
                 ["unknown time zone 'Mars/Olympus'"], id="schedule-bad-zone"),
    pytest.param({"l2": "type: inboundcall"}, 2, 7, "type",
                 ["'inboundcall' flows are not supported"], id="wrong-type"),
    pytest.param({"l19": "    transferToAcd: {queue: Support, priorty: 1}"}, 19, 37,
                 "actions.toSupport.transferToAcd.priorty",
                 ["unknown field 'priorty' in transferToAcd", "did you mean 'priority'"],
                 id="misspelt-field"),
    pytest.param({"l11": '    callData: {url: "http://169.254.169.254/latest/meta-data/"}'},
                 11, 21, "actions.greet.callData.url",
                 ["169.254.169.254 is a link-local address", "PARLEY_DATA_ACTION_ALLOW"],
                 id="data-action-to-cloud-metadata"),
    pytest.param({"l11": '    callData: {url: "http://0x7f.1:8080/admin"}'},
                 11, 21, "actions.greet.callData.url",
                 ["'0x7f.1' means 127.0.0.1, a loopback address"], id="data-action-to-loopback"),
    pytest.param({"l11": '    callData: {url: "https://{{ participant.host }}/x"}'},
                 11, 21, "actions.greet.callData.url", ["the host must be written out"],
                 id="data-action-host-from-data"),
]


@pytest.mark.parametrize(("lines", "line", "column", "path", "says"), BROKEN)
async def test_an_invalid_definition_is_refused_naming_line_and_field(
        http: httpx.AsyncClient, org: Tenant, lines: dict[str, str], line: int, column: int,
        path: str, says: list[str]) -> None:
    flow = await create_flow(http, org, "Intake")
    text = good_flow(**lines)
    resp = await http.post(f"{FLOWS}/{flow['id']}/versions", content=text.encode(),
                           headers={**org.admin_headers, **YAML})
    body = assert_error(resp, 400, "the flow is not valid", f"line {line}, column {column}",
                        path, *says, field=path)
    assert body["code"] == "bad.request"
    assert body["details"][0]["errorCode"] == "bad.request"
    # The same text sent as JSON is refused the same way.
    as_json = await http.post(f"{FLOWS}/{flow['id']}/versions", json={"yaml": text},
                              headers=org.admin_headers)
    assert assert_error(as_json, 400, field=path)["message"] == body["message"]
    # Nothing was saved.
    assert ok(await http.get(f"{FLOWS}/{flow['id']}/versions",
                             headers=org.admin_headers))["entities"] == []
    assert "savedVersion" not in await get_flow(http, org, flow["id"])
    # The validate endpoint lists the same problem at the same place.
    report = ok(await http.post(VALIDATE, content=text.encode(),
                                headers={**org.admin_headers, **YAML}))
    assert report["valid"] is False
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert [(p["line"], p["column"], p["path"]) for p in errors] == [(line, column, path)]
    for phrase in says:
        assert phrase in errors[0]["message"]


@pytest.mark.parametrize(("text", "line", "says"), [
    ('name: Intake\nactions:\n  greet: {sendResponse: {text: "Hi"\n', 4, "invalid YAML"),
    ("name: Intake\n  type: x\n", 2, "invalid YAML"),
    ("- name: Intake\n", 1, "must be a mapping"),
    ("name: &a Intake\ntype: *a\n", 1, "anchors and aliases"),
], ids=["unclosed-brace", "bad-indent", "a-list", "alias"])
async def test_text_that_is_not_a_flow_mapping_is_400_with_its_line(
        http: httpx.AsyncClient, org: Tenant, text: str, line: int, says: str) -> None:
    flow = await create_flow(http, org, "Intake")
    resp = await http.post(f"{FLOWS}/{flow['id']}/versions", content=text.encode(),
                           headers={**org.admin_headers, **YAML})
    assert_error(resp, 400, "the flow is not valid", f"line {line},", says)


async def test_an_oversized_definition_is_refused_before_parsing(http: httpx.AsyncClient,
                                                                  org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    text = flow_yaml("Intake") + "# " + "x" * 300_000 + "\n"
    resp = await http.post(f"{FLOWS}/{flow['id']}/versions", content=text.encode(),
                           headers={**org.admin_headers, **YAML})
    assert_error(resp, 400, "at most")


# -- the validate endpoint --------------------------------------------------------------------


async def test_validate_lists_every_problem_with_its_place(http: httpx.AsyncClient,
                                                           org: Tenant) -> None:
    text = good_flow(l7='    open: {mon-fri: "17:00-09:00"}',
                     l14="    decision: {if: \"message.text ==\", then: toSupport, else: shut}",
                     l19="    transferToAcd: {queue: Billing}")
    text += "  orphan:\n    disconnect: {}\n"  # line 20-21: reached from nowhere
    report = ok(await http.post(VALIDATE, content=text.encode(),
                                headers={**org.admin_headers, **YAML}))
    assert report["valid"] is False
    assert "name" not in report and "queues" not in report
    found = [(p["severity"], p["line"], p["column"], p["path"]) for p in report["problems"]]
    assert found == [
        ("error", 7, 21, "schedules.hours.open.mon-fri"),
        ("error", 14, 20, "actions.hours.decision.if"),
        ("error", 14, 62, "actions.hours.decision.else"),
        ("error", 19, 28, "actions.toSupport.transferToAcd.queue"),
        ("warning", 15, 3, "actions.closed"),  # only 'else' led there, and it now goes nowhere
        ("warning", 20, 3, "actions.orphan"),
    ]
    messages = [p["message"] for p in report["problems"]]
    assert "ends before it starts" in messages[0]
    assert "not a valid expression" in messages[1]
    assert "there is no action 'shut'" in messages[2]
    assert "there is no queue named 'Billing'" in messages[3]
    assert messages[4] == "action 'closed' is never reached from start 'greet'"
    assert messages[5] == "action 'orphan' is never reached from start 'greet'"


async def test_validate_a_good_flow_names_its_queues(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    report = ok(await http.post(VALIDATE, content=good_flow().encode(),
                                headers={**org.admin_headers, **YAML}))
    assert report == {"valid": True, "name": "Intake", "queues": ["Support"], "problems": []}

    with_orphan = good_flow() + "  orphan:\n    disconnect: {}\n"
    report = ok(await http.post(VALIDATE, json={"yaml": with_orphan},
                                headers=org.admin_headers))
    assert report["valid"] is True
    assert report["problems"] == [{
        "path": "actions.orphan", "line": 20, "column": 3, "severity": "warning",
        "message": "action 'orphan' is never reached from start 'greet'"}]


async def test_validate_accepts_the_shipped_flows(http: httpx.AsyncClient, org: Tenant) -> None:
    for text, name in ((DEMO_FLOW, "Demo inbound"), (EXAMPLE_FLOW, "Support intake")):
        report = ok(await http.post(VALIDATE, content=text.encode(),
                                    headers={**org.admin_headers, **YAML}))
        assert (report["valid"], report["name"], report["queues"], report["problems"]) == (
            True, name, ["Support"], [])


async def test_validate_checks_queues_of_the_callers_organisation(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    made = ok(await http.post(QUEUES, json={"name": "Billing"}, headers=org.admin_headers))
    text = flow_yaml("Billing flow", queue="Billing")
    mine = ok(await http.post(VALIDATE, content=text.encode(),
                              headers={**org.admin_headers, **YAML}))
    assert (mine["valid"], mine["queues"]) == (True, ["Billing"])
    theirs = ok(await http.post(VALIDATE, content=text.encode(),
                                headers={**other_org.admin_headers, **YAML}))
    assert theirs["valid"] is False
    assert {p["message"] for p in theirs["problems"]} == {"there is no queue named 'Billing'"}
    assert made["name"] == "Billing"


async def test_validate_refuses_an_empty_body(http: httpx.AsyncClient, org: Tenant) -> None:
    assert_error(await http.post(VALIDATE, content=b"", headers={**org.admin_headers, **YAML}),
                 400, "the flow definition is empty")


# -- versions and their configuration ---------------------------------------------------------


async def test_versions_newest_first_and_configuration_is_the_exact_text(
        http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    texts = [
        good_flow(),
        "# written by hand, comments and spacing kept\n" + good_flow(
            l11='    sendResponse: {text: "¡Hola! 👋  Bienvenue"}   # trailing comment'),
        good_flow(l16="    sendResponse:\n      text: >-\n        Closed now;\n"
                      "        back at nine.").replace("\n", "\r\n"),
    ]
    for text in texts:
        await save(http, org, flow["id"], text)

    listed = ok(await http.get(f"{FLOWS}/{flow['id']}/versions", headers=org.admin_headers))
    assert [v["id"] for v in listed["entities"]] == ["3", "2", "1"]
    assert listed["total"] == 3
    assert all(v["type"] == "SAVE" for v in listed["entities"])

    for number, text in enumerate(texts, start=1):
        one = ok(await http.get(f"{FLOWS}/{flow['id']}/versions/{number}",
                                headers=org.admin_headers))
        assert one["id"] == str(number)
        conf = await http.get(f"{FLOWS}/{flow['id']}/versions/{number}/configuration",
                              headers=org.admin_headers)
        assert conf.status_code == 200, conf.text
        assert conf.headers["content-type"].startswith("text/yaml")
        assert conf.content == text.encode()

    latest = await http.get(f"{FLOWS}/{flow['id']}/latestconfiguration",
                            headers=org.admin_headers)
    assert latest.status_code == 200 and latest.content == texts[-1].encode()


async def test_unknown_versions(http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    base = f"{FLOWS}/{flow['id']}"
    assert_error(await http.get(f"{base}/latestconfiguration", headers=org.admin_headers),
                 404, "has no saved definition yet")
    assert ok(await http.get(f"{base}/versions", headers=org.admin_headers))["total"] == 0
    await save(http, org, flow["id"], good_flow())
    for path in ("versions/2", "versions/2/configuration", "versions/0"):
        assert_error(await http.get(f"{base}/{path}", headers=org.admin_headers), 404,
                     "has no version")
    for path in ("versions/one", "versions/-1/configuration", "versions/1.0"):
        assert_error(await http.get(f"{base}/{path}", headers=org.admin_headers), 400,
                     "must be a version number", field="versionId")


# -- publishing -------------------------------------------------------------------------------


async def test_publish_the_latest_then_a_chosen_version(http: httpx.AsyncClient,
                                                        org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    await save(http, org, flow["id"], good_flow())
    await save(http, org, flow["id"], good_flow(l11='    sendResponse: {text: "Hey"}'))

    operation = await publish(http, org, flow["id"])
    assert operation["id"]
    assert (operation["complete"], operation["actionName"], operation["actionStatus"]) == (
        True, "PUBLISH", "SUCCESS")
    got = await get_flow(http, org, flow["id"])
    assert got["active"] is True
    assert got["publishedVersion"]["id"] == "2" and got["savedVersion"]["id"] == "2"
    assert got["publishedVersion"]["type"] == "PUBLISH"
    assert got["publishedVersion"]["datePublished"].endswith("Z")
    listed = ok(await http.get(f"{FLOWS}/{flow['id']}/versions", headers=org.admin_headers))
    assert [(v["id"], v["type"]) for v in listed["entities"]] == [("2", "PUBLISH"),
                                                                   ("1", "SAVE")]

    await publish(http, org, flow["id"], version=1)
    got = await get_flow(http, org, flow["id"])
    assert got["publishedVersion"]["id"] == "1" and got["savedVersion"]["id"] == "2"
    one = ok(await http.get(f"{FLOWS}/{flow['id']}/versions/1", headers=org.admin_headers))
    assert one["type"] == "PUBLISH" and "datePublished" in one

    # Saving a new version does not change what is published.
    await save(http, org, flow["id"], good_flow())
    got = await get_flow(http, org, flow["id"])
    assert got["publishedVersion"]["id"] == "1" and got["savedVersion"]["id"] == "3"


async def test_publish_refusals(http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    h = org.admin_headers
    assert_error(await http.post(PUBLISH, params={"flow": flow["id"]}, headers=h), 409,
                 "has no saved version to publish")
    await save(http, org, flow["id"], good_flow())
    for version in ("2", "0"):
        assert_error(await http.post(PUBLISH, params={"flow": flow["id"], "version": version},
                                     headers=h), 404, f"has no version {version}")
    assert_error(await http.post(PUBLISH, params={"flow": flow["id"], "version": "latest"},
                                 headers=h), 400, "must be a version number")
    assert_error(await http.post(PUBLISH, headers=h), 400, "flow is required", field="flow")
    assert "publishedVersion" not in await get_flow(http, org, flow["id"])


async def test_publish_checks_the_queues_as_they_are_now(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    await save(http, org, flow["id"], good_flow())
    renamed = ok(await http.put(f"{QUEUES}/{org.queue_id}", json={"name": "Help desk"},
                                headers=org.admin_headers))
    assert renamed["name"] == "Help desk"

    resp = await http.post(PUBLISH, params={"flow": flow["id"]}, headers=org.admin_headers)
    assert_error(resp, 400, "there is no queue named 'Support'", "line 3, column 16",
                 "(and 1 more)", field="fallbackQueue")
    assert "publishedVersion" not in await get_flow(http, org, flow["id"])
    resp = await http.post(f"{FLOWS}/{flow['id']}/versions", content=good_flow().encode(),
                           headers={**org.admin_headers, **YAML})
    assert_error(resp, 400, "there is no queue named 'Support'")

    fixed = good_flow(l3="fallbackQueue: Help desk", l19="    transferToAcd: {queue: Help desk}")
    await save(http, org, flow["id"], fixed)
    await publish(http, org, flow["id"])
    assert (await get_flow(http, org, flow["id"]))["publishedVersion"]["id"] == "2"
    # Version 1 still names the old queue: it cannot be published again.
    assert_error(await http.post(PUBLISH, params={"flow": flow["id"], "version": 1},
                                 headers=org.admin_headers), 400, "'Support'")
    assert (await get_flow(http, org, flow["id"]))["publishedVersion"]["id"] == "2"


# -- rename and delete ------------------------------------------------------------------------


async def test_put_renames_the_flow(http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake", description="old")
    other = await create_flow(http, org, "Other")
    url = f"{FLOWS}/{flow['id']}"
    put = ok(await http.put(url, json={"name": "Front door", "description": "new"},
                            headers=org.admin_headers))
    assert (put["id"], put["name"], put["description"]) == (flow["id"], "Front door", "new")
    assert await get_flow(http, org, flow["id"]) == put
    # Changing only the case of its own name is not a clash with itself.
    assert ok(await http.put(url, json={"name": "FRONT DOOR"},
                             headers=org.admin_headers))["name"] == "FRONT DOOR"

    assert_error(await http.put(url, json={"name": "other"}, headers=org.admin_headers),
                 409, "already exists", field="name")
    assert_error(await http.put(url, json={"description": "x"}, headers=org.admin_headers),
                 400, "name is required", field="name")
    assert (await get_flow(http, org, other["id"]))["name"] == "Other"


async def test_delete_a_routed_flow_is_409_naming_the_number(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    flow = await published_flow(http, org, "Intake")
    ok(await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": flow["id"]}},
                      headers=org.admin_headers))
    url = f"{FLOWS}/{flow['id']}"
    assert_error(await http.delete(url, headers=org.admin_headers), 409, org.number,
                 "route those numbers elsewhere first")
    assert (await get_flow(http, org, flow["id"]))["active"] is True

    ok(await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": None},
                      headers=org.admin_headers))
    resp = await http.delete(url, headers=org.admin_headers)
    assert resp.status_code == 204 and resp.content == b""
    assert_error(await http.get(url, headers=org.admin_headers), 404, "not found")
    assert_error(await http.get(f"{url}/versions/1", headers=org.admin_headers), 404)
    assert_error(await http.delete(url, headers=org.admin_headers), 404)
    # The name is free again.
    await create_flow(http, org, "Intake")


async def test_delete_an_unrouted_flow(http: httpx.AsyncClient, org: Tenant) -> None:
    flow = await create_flow(http, org, "Never saved")
    resp = await http.delete(f"{FLOWS}/{flow['id']}", headers=org.admin_headers)
    assert resp.status_code == 204
    assert_error(await http.get(f"{FLOWS}/{flow['id']}", headers=org.admin_headers), 404)
    assert ok(await http.get(FLOWS, headers=org.admin_headers))["total"] == 0


# -- who may do what --------------------------------------------------------------------------


async def test_an_agent_may_read_flows_but_not_change_them(http: httpx.AsyncClient,
                                                           org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    await save(http, org, flow["id"], good_flow())
    agent = org.agents[0].headers
    base = f"{FLOWS}/{flow['id']}"
    assert ok(await http.get(base, headers=agent))["name"] == "Intake"
    assert ok(await http.get(FLOWS, headers=agent))["total"] == 1
    assert ok(await http.get(f"{base}/versions", headers=agent))["total"] == 1
    conf = await http.get(f"{base}/versions/1/configuration", headers=agent)
    assert conf.status_code == 200 and conf.text == good_flow()
    assert ok(await http.post(VALIDATE, content=good_flow().encode(),
                              headers={**agent, **YAML}))["valid"] is True

    for resp in (await http.post(FLOWS, json={"name": "Mine"}, headers=agent),
                 await http.put(base, json={"name": "Mine"}, headers=agent),
                 await http.delete(base, headers=agent),
                 await http.post(f"{base}/versions", content=good_flow().encode(),
                                 headers={**agent, **YAML}),
                 await http.post(PUBLISH, params={"flow": flow["id"]}, headers=agent)):
        assert_error(resp, 403, "role 'agent'", "configure")
    got = await get_flow(http, org, flow["id"])
    assert got["name"] == "Intake" and "publishedVersion" not in got
    assert got["savedVersion"]["id"] == "1"


async def test_flows_need_a_token(http: httpx.AsyncClient) -> None:
    assert_error(await http.get(FLOWS), 401)
    assert_error(await http.post(VALIDATE, content=good_flow().encode(), headers=YAML), 401)


async def test_another_organisation_cannot_see_or_touch_the_flow(
        http: httpx.AsyncClient, org: Tenant, other_org: Tenant) -> None:
    flow = await published_flow(http, org, "Intake")
    base = f"{FLOWS}/{flow['id']}"
    them = other_org.admin_headers
    for resp in (await http.get(base, headers=them),
                 await http.get(f"{base}/versions", headers=them),
                 await http.get(f"{base}/versions/1", headers=them),
                 await http.get(f"{base}/versions/1/configuration", headers=them),
                 await http.get(f"{base}/latestconfiguration", headers=them),
                 await http.put(base, json={"name": "Mine"}, headers=them),
                 await http.delete(base, headers=them),
                 await http.post(f"{base}/versions", content=flow_yaml("Mine").encode(),
                                 headers={**them, **YAML}),
                 await http.post(PUBLISH, params={"flow": flow["id"]}, headers=them)):
        assert_error(resp, 404, flow["id"])
    assert ok(await http.get(FLOWS, headers=them))["total"] == 0
    by_id = ok(await http.get(FLOWS, params={"id": flow["id"]}, headers=them))
    assert by_id["entities"] == []
    # Names are per organisation.
    theirs = await create_flow(http, other_org, "Intake")
    assert theirs["id"] != flow["id"]
    got = await get_flow(http, org, flow["id"])
    assert (got["name"], got["publishedVersion"]["id"]) == ("Intake", "1")


# -- limits and races -------------------------------------------------------------------------


async def test_names_longer_than_the_store_holds_are_400(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    long_name = "N" * 201
    assert_error(await http.post(FLOWS, json={"name": long_name}, headers=org.admin_headers),
                 400, "longer than 200 characters", field="name")
    flow = await create_flow(http, org, "N" * 200)
    assert_error(await http.put(f"{FLOWS}/{flow['id']}", json={"name": long_name},
                                headers=org.admin_headers),
                 400, "longer than 200 characters", field="name")
    assert (await get_flow(http, org, flow["id"]))["name"] == "N" * 200


async def test_concurrent_saves_get_distinct_version_numbers(http: httpx.AsyncClient,
                                                              org: Tenant) -> None:
    flow = await create_flow(http, org, "Intake")
    url = f"{FLOWS}/{flow['id']}/versions"
    results = await asyncio.gather(*(
        http.post(url, content=good_flow(l11=f'    sendResponse: {{text: "Hi {i}"}}').encode(),
                  headers={**org.admin_headers, **YAML}) for i in range(6)))
    saved = sorted(int(ok(r)["id"]) for r in results)
    assert saved == [1, 2, 3, 4, 5, 6]
    listed = ok(await http.get(url, headers=org.admin_headers))
    assert [v["id"] for v in listed["entities"]] == ["6", "5", "4", "3", "2", "1"]
    assert (await get_flow(http, org, flow["id"]))["savedVersion"]["id"] == "6"


async def test_concurrent_changes_to_one_flow_lose_nothing(http: httpx.AsyncClient,
                                                           org: Tenant) -> None:
    for _ in range(5):
        flow = await create_flow(http, org, "Raced")
        await save(http, org, flow["id"], good_flow(l1="name: Raced"))
        published, saved, renamed = await asyncio.gather(
            http.post(PUBLISH, params={"flow": flow["id"], "version": 1},
                      headers=org.admin_headers),
            http.post(f"{FLOWS}/{flow['id']}/versions",
                      content=good_flow(l1="name: Raced").encode(),
                      headers={**org.admin_headers, **YAML}),
            http.put(f"{FLOWS}/{flow['id']}", json={"name": "Raced", "description": "d"},
                     headers=org.admin_headers))
        for resp in (published, saved, renamed):
            assert resp.status_code == 200, resp.text
        got = await get_flow(http, org, flow["id"])
        assert got["publishedVersion"]["id"] == "1"
        assert got["savedVersion"]["id"] == "2"
        resp = await http.delete(f"{FLOWS}/{flow['id']}", headers=org.admin_headers)
        assert resp.status_code == 204


async def test_routing_races_deleting_without_leaving_a_dangling_route(
        http: httpx.AsyncClient, org: Tenant) -> None:
    for _ in range(5):
        flow = await published_flow(http, org, "Raced")
        routed, deleted = await asyncio.gather(
            http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": {"id": flow["id"]}},
                     headers=org.admin_headers),
            http.delete(f"{FLOWS}/{flow['id']}", headers=org.admin_headers))
        recipient = ok(await http.get(f"{RECIPIENTS}/{org.number_id}",
                                      headers=org.admin_headers))
        if deleted.status_code == 204:
            assert routed.status_code == 400, routed.text  # the flow was gone by then
            assert "flow" not in recipient
            continue
        assert deleted.status_code == 409, deleted.text
        assert routed.status_code == 200, routed.text
        assert recipient["flow"]["id"] == flow["id"]
        ok(await http.put(f"{RECIPIENTS}/{org.number_id}", json={"flow": None},
                          headers=org.admin_headers))
        assert (await http.delete(f"{FLOWS}/{flow['id']}",
                                  headers=org.admin_headers)).status_code == 204


async def test_concurrent_creates_of_one_name_make_one_flow(http: httpx.AsyncClient,
                                                            org: Tenant) -> None:
    results = await asyncio.gather(*(
        http.post(FLOWS, json={"name": name}, headers=org.admin_headers)
        for name in ("Twin", "twin", "Twin", "TWIN")))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409], [
        r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert_error(r, 409, "already exists", field="name")
    assert ok(await http.get(FLOWS, headers=org.admin_headers))["total"] == 1
