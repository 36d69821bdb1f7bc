"""STOP, START and HELP from customers; sends refused to those who opted out; the list."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from parley.domain.opt_out import OptOutPolicy
from tests.api.support import assert_error
from tests.orgs import Tenant, random_customer


async def text_in(http: httpx.AsyncClient, org: Tenant, customer: str, text: str) -> None:
    resp = await http.post("/sim/v1/messages", headers=org.admin_headers,
                           json={"from": customer, "to": org.number, "text": text})
    assert resp.status_code == 200, resp.text


async def phone(http: httpx.AsyncClient, org: Tenant, customer: str,
                received: int) -> list[dict[str, Any]]:
    """What the phone received, once it has `received` texts (bounded wait)."""
    for _ in range(200):
        got = [m for m in (await http.get("/sim/v1/messages", params={"phone": customer},
                                          headers=org.admin_headers)).json()["entities"]
               if m["direction"] == "received"]
        if len(got) >= received:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"{customer} received {len(got)} texts, not {received}")


async def agentless(http: httpx.AsyncClient, org: Tenant, customer: str) -> httpx.Response:
    return await http.post("/api/v2/conversations/messages/agentless", headers=org.admin_headers,
                           json={"fromAddress": org.number, "toAddress": customer,
                                 "toAddressMessengerType": "sms", "textBody": "Reminder"})


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "QUIT"])
async def test_stop_opts_out_with_a_confirmation_and_start_opts_back_in(
        http: httpx.AsyncClient, org: Tenant, word: str) -> None:
    customer = random_customer()
    await text_in(http, org, customer, word)
    [confirmation] = await phone(http, org, customer, 1)
    assert confirmation["text"] == OptOutPolicy().stop_reply

    resp = await agentless(http, org, customer)
    assert_error(resp, 400, f"{customer} has opted out of texts from {org.number}")
    resp = await http.post("/api/v2/conversations/messages", headers=org.agents[0].headers,
                           json={"queueId": org.queue_id, "toAddress": customer,
                                 "toAddressMessengerType": "sms"})
    assert_error(resp, 400, "opted out")

    listed = (await http.get("/api/v2/parley/optouts", headers=org.admin_headers,
                             params={"customer": customer})).json()
    assert [(o["customer"], o["number"], o["keyword"]) for o in listed["entities"]] == [
        (customer, org.number, word.strip().upper())]

    await text_in(http, org, customer, "start")
    texts = await phone(http, org, customer, 2)
    assert texts[-1]["text"] == OptOutPolicy().start_reply
    assert (await agentless(http, org, customer)).status_code == 200


async def test_stop_inside_a_sentence_is_an_ordinary_message(http: httpx.AsyncClient,
                                                             org: Tenant) -> None:
    customer = random_customer()
    await text_in(http, org, customer, "please stop by tomorrow")
    assert (await agentless(http, org, customer)).status_code == 200


async def test_help_gets_the_help_text_and_changes_nothing(http: httpx.AsyncClient,
                                                           org: Tenant) -> None:
    customer = random_customer()
    await text_in(http, org, customer, "HELP")
    [answer] = await phone(http, org, customer, 1)
    assert answer["text"] == OptOutPolicy().help_reply
    assert (await agentless(http, org, customer)).status_code == 200


async def test_an_agent_cannot_reply_after_the_customer_stops(http: httpx.AsyncClient,
                                                              org: Tenant) -> None:
    agent = org.agents[0]
    customer = random_customer()
    conv = (await http.post("/api/v2/conversations/messages", headers=agent.headers, json={
        "queueId": org.queue_id, "toAddress": customer,
        "toAddressMessengerType": "sms"})).json()["id"]
    body = (await http.get(f"/api/v2/conversations/{conv}", headers=agent.headers)).json()
    comm = next(p for p in body["participants"] if p["purpose"] == "agent")["messages"][0]["id"]
    await text_in(http, org, customer, "STOP")
    await phone(http, org, customer, 1)
    resp = await http.post(
        f"/api/v2/conversations/messages/{conv}/communications/{comm}/messages",
        headers=agent.headers, json={"textBody": "Sorry to see you go"})
    assert_error(resp, 400, "opted out", "START")
    # the agent still sees the STOP in the conversation
    body = (await http.get(f"/api/v2/conversations/{conv}", headers=agent.headers)).json()
    customer_party = next(p for p in body["participants"] if p["purpose"] == "customer")
    assert any(m["messageStatus"] == "received" for m in customer_party["messages"][0]["messages"])


async def test_organisation_scope_and_custom_keywords(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    resp = await http.put("/api/v2/parley/optouts/policy", headers=org.admin_headers, json={
        "scope": "organization", "stopWords": ["STOP", "ARRET"],
        "stopReply": "Bye for now."})
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "organization"
    customer = random_customer()
    await text_in(http, org, customer, "arret")
    [bye] = await phone(http, org, customer, 1)
    assert bye["text"] == "Bye for now."
    listed = (await http.get("/api/v2/parley/optouts", headers=org.admin_headers,
                             params={"customer": customer})).json()["entities"]
    assert [(o["number"], o["allNumbers"]) for o in listed] == [("*", True)]
    assert_error(await agentless(http, org, customer), 400, "opted out")

    export = await http.get("/api/v2/parley/optouts/export", headers=org.admin_headers)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0] == "customer,number,keyword,optedOutAt"
    assert any(line.startswith(f"{customer},*,ARRET,") for line in lines[1:])


@pytest.mark.parametrize(("body", "says"), [
    ({"scope": "galaxy"}, "scope"),
    ({"stopWords": ["STOP NOW"]}, "one word"),
    ({"stopWords": ["START"]}, "cannot mean both"),
    ({"helpReply": ""}, "1 to 320 characters"),
], ids=["scope", "two-words", "clash", "empty-reply"])
async def test_bad_policies_are_refused(http: httpx.AsyncClient, org: Tenant,
                                        body: dict[str, Any], says: str) -> None:
    assert_error(await http.put("/api/v2/parley/optouts/policy", headers=org.admin_headers,
                                json=body), 400, says)


async def test_agents_may_not_change_the_policy(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.put("/api/v2/parley/optouts/policy", headers=org.agents[0].headers,
                          json={"scope": "organization"})
    assert_error(resp, 403, "lacks the permission")
