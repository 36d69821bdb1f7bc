"""The agent desktop and the handset simulator together, in a real Chromium (issue 5).

The inbound loop: an agent signs in and goes On Queue; the handset texts the demo number; the
offer pops up with the customer's number, the queue and the first text (HTML in it shows as
text); the agent accepts with the keyboard, replies, sees the delivery status; the handset
shows the reply; the agent disconnects with a wrap-up code. Declining and letting an offer
time out (NOT_RESPONDING); a "+" new interaction on a phone-sized screen received by the
handset, the segment counter and the 765-character limit, and a transfer. Mandatory wrap-up:
after-call work that cannot be dismissed until the agent gives one of the queue's codes, also
when a supervisor ended the conversation.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.orgs import new_customer
from tests.web.conftest import (
    PHONE,
    NewPage,
    WebServer,
    conversation_with,
    ok,
    server_log_on_failure,
    sign_in,
)

pytestmark = pytest.mark.web

TIMEOUT_S = 7
"""The least alerting timeout a queue allows; the time-out test waits for it once."""


def go_on_queue(page: Page) -> None:
    expect(page.locator("#routing-status")).to_have_text("OFF_QUEUE")
    page.click("#queue-toggle")
    expect(page.locator("#routing-status")).to_have_text("IDLE")
    expect(page.locator("#queue-toggle")).to_have_text("Go Off Queue")


def handset(page: Page, server: WebServer, customer: str) -> None:
    sign_in(page, server.admin, f"/app/handset?phone=%2B{customer[1:]}&to=%2B{server.number[1:]}")
    expect(page.locator("#thread .empty")).to_be_visible()


def test_inbound_text_offer_accept_reply_and_disconnect_with_wrapup(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    code = ok(admin.post("/api/v2/routing/wrapupcodes", json={"name": f"Resolved {time.time()}"}))
    customer = new_customer()
    hostile = "<b>Help</b> & <img src=x onerror=alert(1)> my order"
    with server_log_on_failure(web_server):
        agent = new_page()
        sign_in(agent, web_server.agent(0), "/app/agent")
        expect(agent.locator("#live")).to_have_text("live")
        go_on_queue(agent)

        phone = new_page()
        handset(phone, web_server, customer)
        phone.fill("#text", hostile)
        phone.keyboard.press("Enter")
        sent = phone.locator("#thread .bubble.sent")
        expect(sent).to_have_text(hostile + sent.locator(".meta").inner_text())
        expect(sent).to_have_attribute("data-status", "delivery-success")

        # The offer pops up: customer number, queue, the first text - as text, not markup.
        offer = agent.get_by_role("alertdialog")
        expect(offer).to_contain_text(f"Incoming text from {customer}")
        expect(offer).to_contain_text("Queue: Support")
        expect(offer.locator(".text")).to_have_text(hostile)
        assert offer.locator(".text b, .text img").count() == 0
        # The Accept button has the focus: Enter accepts.
        expect(offer.get_by_role("button", name="Accept")).to_be_focused()
        agent.keyboard.press("Enter")
        expect(offer).to_have_count(0)
        expect(agent.locator("#routing-status")).to_have_text("INTERACTING")
        expect(agent.locator("#conv-title")).to_have_text(customer)
        expect(agent.locator("#conv-queue")).to_have_text("Queue: Support")
        expect(agent.locator("#opt-out")).to_have_text("Opted in")
        transcript = agent.locator("#transcript")
        expect(transcript.locator(".bubble.inbound").first).to_contain_text(hostile)
        assert transcript.locator("b, img").count() == 0
        # The demo flow's greeting went out before the offer.
        expect(transcript.locator(".bubble.outbound").first).to_contain_text(
            "thanks for texting Parley Demo")

        # Reply with the keyboard; the counter measures as you type.
        expect(agent.locator("#reply")).to_be_focused()
        agent.keyboard.type("Hello from Ada, how can I help?")
        expect(agent.locator("#counter")).to_contain_text("GSM-7 · 1 part · 129 left")
        agent.keyboard.press("Enter")
        mine = transcript.locator(".bubble.outbound", has_text="Hello from Ada")
        expect(mine).to_have_count(1)
        expect(mine).to_have_attribute("data-status", "delivery-success")
        expect(mine.locator(".meta")).to_contain_text("delivered")

        # The handset shows the reply arrive.
        received = phone.locator("#thread .bubble.received", has_text="Hello from Ada")
        expect(received).to_have_count(1)

        # Disconnect with a wrap-up code.
        agent.click("#disconnect")
        dialog = agent.locator("#wrapup-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#wrapup-code").select_option(code["id"])
        dialog.locator("#wrapup-notes").fill("sorted out")
        dialog.locator("#wrapup-submit").click()
        expect(dialog).to_be_hidden()
        expect(agent.locator("#conversations .empty")).to_be_visible()
        expect(agent.locator("#routing-status")).to_have_text("IDLE")

    conv = ok(admin.get("/api/v2/conversations/messages"))["entities"]
    assert not any(p.get("address") == customer for c in conv for p in c["participants"]
                   if p["purpose"] == "customer")


def test_declined_offer_goes_and_a_timed_out_one_shows_not_responding(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    queue = ok(admin.get(f"/api/v2/routing/queues/{web_server.queue_id}"))
    original = queue["mediaSettings"]["message"]["alertingTimeoutSeconds"]
    queue["mediaSettings"]["message"]["alertingTimeoutSeconds"] = TIMEOUT_S
    ok(admin.put(f"/api/v2/routing/queues/{web_server.queue_id}", json=queue))
    ada, bob = web_server.agent(0), web_server.agent(1)
    customer = new_customer()
    try:
        with server_log_on_failure(web_server):
            agent = new_page()
            sign_in(agent, ada, "/app/agent")
            go_on_queue(agent)  # Ada is idle longest, so she is offered first
            ok(admin.put(f"/api/v2/users/{bob['id']}/routingstatus", json={"status": "IDLE"}))
            ok(admin.post("/sim/v1/messages", json={"from": customer, "to": web_server.number,
                                                    "text": "Anyone there?"}))
            offer = agent.get_by_role("alertdialog")
            expect(offer).to_contain_text("Anyone there?")
            offer.get_by_role("button", name="Decline").click()
            expect(offer).to_have_count(0)
            conv = conversation_with(admin, customer)
            alerting = [p for p in conv["participants"]
                        if p["purpose"] == "agent" and p["state"] == "alerting"]
            assert [p["user"]["id"] for p in alerting] == [bob["id"]]

            # Bob leaves the queue: the text comes back to Ada, who lets it time out.
            ok(admin.put(f"/api/v2/users/{bob['id']}/routingstatus",
                         json={"status": "OFF_QUEUE"}))
            expect(offer).to_contain_text("Anyone there?")
            expect(agent.locator("#routing-status")).to_have_text(
                "NOT_RESPONDING", timeout=(TIMEOUT_S + 5) * 1000)
            expect(offer).to_have_count(0)
            expect(agent.locator("#queue-toggle")).to_have_text("Go On Queue")
    finally:
        queue = ok(admin.get(f"/api/v2/routing/queues/{web_server.queue_id}"))
        queue["mediaSettings"]["message"]["alertingTimeoutSeconds"] = original
        ok(admin.put(f"/api/v2/routing/queues/{web_server.queue_id}", json=queue))


def test_new_interaction_on_a_phone_screen_reaches_the_handset(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    customer = new_customer()
    with server_log_on_failure(web_server):
        agent = new_page(PHONE)
        sign_in(agent, web_server.agent(0), "/app/agent")
        agent.get_by_role("button", name="New interaction").click()
        dialog = agent.locator("#new-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#new-queue").select_option(label="Support")
        expect(dialog.locator("#new-from")).to_have_text(f"Sent from {web_server.number}")
        # The number is checked as it is typed.
        dialog.locator("#new-phone").focus()
        agent.keyboard.type("312 555")
        expect(dialog.locator("#new-phone-problem")).to_contain_text("Start with +")
        dialog.locator("#new-phone").fill("+1 312 155 0123")
        expect(dialog.locator("#new-phone-problem")).to_contain_text("Not a valid +1 number")
        dialog.locator("#new-phone").fill(customer)
        expect(dialog.locator("#new-phone-problem")).to_have_text("")
        dialog.locator("#new-text").fill("Your order has shipped \u2013 reply here with questions")
        expect(dialog.locator("#new-counter")).to_contain_text("UCS-2")  # the en dash
        dialog.locator("#new-submit").click()
        expect(dialog).to_be_hidden()
        expect(agent.locator("#conv-title")).to_have_text(customer)
        first = agent.locator("#transcript .bubble.outbound")
        expect(first).to_contain_text("Your order has shipped")
        expect(first).to_have_attribute("data-status", "delivery-success")

        # The customer's phone got it, from the queue's Outbound SMS Number.
        phone = new_page(PHONE)
        sign_in(phone, web_server.admin,
                f"/app/handset?phone=%2B{customer[1:]}&to=%2B{web_server.number[1:]}")
        expect(phone.locator("#thread .bubble.received")).to_contain_text("Your order has shipped")

        # The reply box refuses more than 765 characters before anything is sent.
        agent.locator("#reply").fill("x" * 766)
        expect(agent.locator("#counter")).to_contain_text("Too long: 766/765")
        expect(agent.locator("#send")).to_be_disabled()
        agent.locator("#reply").fill("ok 😀")
        expect(agent.locator("#counter")).to_contain_text("UCS-2 · 1 part · 65 left")
        expect(agent.locator("#send")).to_be_enabled()
        agent.locator("#reply").fill("")

        # Disconnect; this queue makes the wrap-up code optional.
        agent.click("#disconnect")
        expect(agent.locator("#wrapup-hint")).to_have_text(
            "A wrap-up code is optional for this queue.")
        agent.locator("#wrapup-submit").click()
        expect(agent.locator("#conversations .empty")).to_be_visible()


def test_transfer_to_another_queue(new_page: NewPage, web_server: WebServer,
                                   admin: httpx.Client) -> None:
    billing = ok(admin.post("/api/v2/routing/queues", json={"name": f"Billing {time.time()}"}))
    customer = new_customer()
    with server_log_on_failure(web_server):
        agent = new_page()
        sign_in(agent, web_server.agent(0), "/app/agent")
        go_on_queue(agent)
        ok(admin.post("/sim/v1/messages", json={"from": customer, "to": web_server.number,
                                                "text": "A billing question"}))
        agent.get_by_role("alertdialog").get_by_role("button", name="Accept").click()
        expect(agent.locator("#conv-title")).to_have_text(customer)
        agent.locator("#transfer-queue").select_option(billing["id"])
        agent.click("#transfer")
        expect(agent.locator("#conversations .empty")).to_be_visible()
        expect(agent.locator("#routing-status")).to_have_text("IDLE")
        conv = conversation_with(admin, customer)
        assert any(p["purpose"] == "acd" and p["queue"]["id"] == billing["id"]
                   and p["state"] != "disconnected" for p in conv["participants"])
        assert not any(p["purpose"] == "agent" and p["state"] != "disconnected"
                       for p in conv["participants"])


def agent_party(admin: httpx.Client, conversation_id: str, user_id: str) -> dict[str, Any]:
    conv = ok(admin.get(f"/api/v2/conversations/{conversation_id}"))
    return dict(next(p for p in conv["participants"]
                     if p["purpose"] == "agent" and p["userId"] == user_id))


def test_mandatory_wrapup_keeps_the_agent_in_after_call_work_until_a_code(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    tag = f"{time.time():.6f}"
    ada = web_server.agent(0)
    refund = ok(admin.post("/api/v2/routing/wrapupcodes", json={"name": f"Refund {tag}"}))
    ok(admin.post("/api/v2/routing/wrapupcodes", json={"name": f"Elsewhere {tag}"}))
    queue = ok(admin.post("/api/v2/routing/queues", json={
        "name": f"Returns {tag}", "acwSettings": {"wrapupPrompt": "MANDATORY"},
        "outboundMessagingAddresses": {"smsAddress": {"id": web_server.demo["smsNumber"]["id"]}}}))
    ok(admin.post(f"/api/v2/routing/queues/{queue['id']}/members", json=[{"id": ada["id"]}]))
    ok(admin.post(f"/api/v2/routing/queues/{queue['id']}/wrapupcodes", json=[{"id": refund["id"]}]))
    customer = new_customer()
    with server_log_on_failure(web_server):
        agent = new_page()
        sign_in(agent, ada, "/app/agent")
        agent.get_by_role("button", name="New interaction").click()
        expect(agent.locator("#new-dialog")).to_be_visible()
        agent.locator("#new-queue").select_option(queue["id"])
        agent.locator("#new-phone").fill(customer)
        agent.locator("#new-text").fill("About your return")
        agent.locator("#new-submit").click()
        expect(agent.locator("#conv-title")).to_have_text(customer)
        conversation_id = conversation_with(admin, customer)["id"]

        # Disconnect without a code: the agent is out of the conversation, in after-call work.
        agent.click("#disconnect")
        dialog = agent.locator("#wrapup-dialog")
        expect(dialog.locator("#wrapup-hint")).to_contain_text(
            f"Queue Returns {tag} requires a wrap-up code")
        # Only the queue's codes are offered.
        expect(dialog.locator("#wrapup-code option")).to_have_text(
            ["Choose a wrap-up code\u2026", f"Refund {tag}"])
        dialog.locator("#wrapup-submit").click()
        expect(dialog.locator("#wrapup-title")).to_have_text("After-call work")
        expect(dialog.locator("#wrapup-cancel")).to_be_hidden()
        expect(agent.locator("#conversations .empty")).to_be_visible()
        party = agent_party(admin, conversation_id, ada["id"])
        assert party["endTime"] and party["wrapupRequired"] is True

        # It cannot be dismissed - not even by reloading the page - nor finished without a
        # code.
        agent.keyboard.press("Escape")
        expect(dialog).to_be_visible()
        agent.reload()
        expect(dialog.locator("#wrapup-title")).to_have_text("After-call work")
        expect(dialog.locator("#wrapup-code option")).to_have_text(
            ["Choose a wrap-up code\u2026", f"Refund {tag}"])
        dialog.locator("#wrapup-submit").click()
        expect(dialog.locator("#wrapup-problem")).to_contain_text("Choose a wrap-up code")
        dialog.locator("#wrapup-code").select_option(refund["id"])
        dialog.locator("#wrapup-notes").fill("refund agreed")
        dialog.locator("#wrapup-submit").click()
        expect(dialog).to_be_hidden()
        expect(agent.get_by_role("status").filter(has_text="Wrapped up.")).to_be_visible()
        party = agent_party(admin, conversation_id, ada["id"])
        assert not party.get("wrapupRequired")
        assert party["wrapup"]["code"] == refund["id"]
        assert party["wrapup"]["name"] == f"Refund {tag}"
        assert party["wrapup"]["notes"] == "refund agreed"

        # A supervisor ends Ada's next conversation: the desktop asks her for the code too.
        other = new_customer()
        with web_server.user_api(ada) as as_ada:
            ok(as_ada.post("/api/v2/conversations/messages", json={
                "queueId": queue["id"], "toAddress": other, "toAddressMessengerType": "sms"}))
        expect(agent.locator("#conversations li button", has_text=other)).to_be_visible()
        second = conversation_with(admin, other)["id"]
        party = agent_party(admin, second, ada["id"])
        ok(admin.patch(f"/api/v2/conversations/messages/{second}/participants/{party['id']}",
                       json={"state": "disconnected"}))
        expect(dialog).to_be_visible()
        expect(dialog.locator("#wrapup-hint")).to_contain_text(
            f"You left the conversation with {other}")
        dialog.locator("#wrapup-code").select_option(refund["id"])
        dialog.locator("#wrapup-submit").click()
        expect(dialog).to_be_hidden()
        assert agent_party(admin, second, ada["id"])["wrapup"]["code"] == refund["id"]
