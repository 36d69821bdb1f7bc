"""The admin console and the supervisor view, in a real Chromium (issue 5).

An admin registers a number from the carrier, creates a queue with that number as its
Outbound SMS Number, a skill evaluation method, one of the organisation's wrap-up codes and a
member, uploads a flow with an error (and sees it, with its line), then a good one, publishes
it and routes the number to it. A supervisor's view of the new queue counts the text the
handset sends to the number, and the offer when an agent goes on queue - without a reload.
OAuth clients: the secret shown once, rotated, the client deleted. Users: an admin changes
another user's role (and that user's open session has it), never their own.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.orgs import new_customer
from tests.web.conftest import (
    PHONE,
    NewPage,
    WebServer,
    ok,
    server_log_on_failure,
    sign_in,
)

pytestmark = pytest.mark.web

BAD_FLOW = """name: Escalations {tag}
type: inboundshortmessage
fallbackQueue: Escalations {tag}
start: greet
actions:
  greet:
    sendResponse: {{text: "Escalations here"}}
    next: toQueue
  toQueue:
    transferToAdc: {{queue: "Escalations {tag}"}}
"""
GOOD_FLOW = BAD_FLOW.replace("transferToAdc", "transferToAcd")
NONE = "\u2013"  # what a figure shows when there is none (an en dash)


def test_admin_sets_up_a_queue_flow_and_route_and_the_supervisor_sees_it_live(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    tag = secrets.token_hex(3)
    queue_name = f"Escalations {tag}"
    ada = web_server.agent(0)
    code = ok(admin.post("/api/v2/routing/wrapupcodes", json={"name": f"Escalated {tag}"}))
    with server_log_on_failure(web_server):
        page = new_page()
        sign_in(page, web_server.admin, "/app/admin#numbers")
        # SMS numbers: register one the carrier offers.
        page.click("#search-numbers")
        first = page.locator("#available tbody tr").first
        number = first.locator("td").first.inner_text()
        first.get_by_role("button", name="Register").click()
        expect(page.locator("#section tbody").first).to_contain_text(number)

        # Queues: create one with that number and a mandatory wrap-up, then add Ada.
        page.get_by_role("link", name="Queues").click()
        page.fill("#queue-timeout", "3")  # the browser checks the range before sending
        page.click("#queue-save")
        assert page.eval_on_selector("#queue-timeout", "e => e.validity.rangeUnderflow")
        page.fill("#queue-timeout", "20")
        page.fill("#queue-name", "Support")  # the server's error is shown as it says it
        page.click("#queue-save")
        expect(page.get_by_role("alert")).to_contain_text("Support")
        page.fill("#queue-name", queue_name)
        page.select_option("#queue-prompt", "MANDATORY")
        page.select_option("#queue-evaluation", "BEST")
        page.select_option("#queue-number", label=number)
        page.click("#queue-save")
        expect(page.locator("#members")).to_contain_text(f"Members of {queue_name}")
        # The queue offers one wrap-up code (none chosen: any of the organisation's).
        codes = page.locator("#queue-codes")
        expect(codes).to_contain_text("None chosen")
        page.select_option("#queue-code-add", label=code["name"])
        page.click("#queue-code-submit")
        expect(codes.locator("tbody")).to_contain_text(code["name"])
        expect(codes).to_contain_text("Agents on this queue wrap up with one of these.")
        page.select_option("#member-add", label=f"{ada['name']} ({ada['email']})")
        page.click("#member-submit")
        member = page.locator("#members tbody tr", has_text=ada["name"])
        expect(member.get_by_role("checkbox")).to_be_checked()
        row = page.locator("#section > section > .table-wrap tbody tr", has_text=queue_name)
        expect(row).to_contain_text(number)
        expect(row).to_contain_text("MANDATORY")

        # Flows: create, a definition with an error (shown with its line), then a good one.
        page.get_by_role("link", name="Flows").click()
        page.fill("#flow-name", queue_name)
        page.click("#flow-create")
        page.fill("#flow-yaml", BAD_FLOW.format(tag=tag))
        problems = page.locator("#flow-problems li")
        expect(problems.first).to_contain_text("line 10:5 actions.toQueue.transferToAdc: "
                                               "unknown action type 'transferToAdc'")
        expect(page.locator("#flow-verdict")).to_contain_text("Not valid")
        page.click("#flow-save")
        expect(page.get_by_role("alert").last).to_contain_text("fix them first")
        page.fill("#flow-yaml", GOOD_FLOW.format(tag=tag))
        expect(page.locator("#flow-verdict")).to_have_text(f"Valid: queues {queue_name}")
        expect(problems).to_have_count(0)
        page.click("#flow-save")
        expect(page.locator("#editor")).to_contain_text("SAVE")
        page.click("#flow-publish")
        flow_row = page.locator("#section tbody tr", has_text=queue_name).first
        expect(flow_row).to_contain_text("v1")
        expect(page.locator("#editor tbody")).to_contain_text("PUBLISH")

        # Inbound routes: the new number's texts go to the new flow.
        page.get_by_role("link", name="Inbound routes").click()
        route = page.locator("#section tbody tr", has_text=number)
        route.get_by_role("combobox").select_option(label=queue_name)
        route.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status").last).to_contain_text("saved")

        # The supervisor view (phone-sized) counts what happens, without a reload.
        supervisor = new_page(PHONE)
        sign_in(supervisor, web_server.admin, "/app/supervisor")
        card = supervisor.get_by_role("region", name=f"Queue {queue_name}")
        expect(card.locator("[data-metric=waiting] .value")).to_have_text("0")
        expect(supervisor.locator("#live")).to_have_text("live")
        customer = new_customer()
        ok(admin.post("/sim/v1/messages", json={"from": customer, "to": number,
                                                "text": "I want to escalate"}))
        expect(card.locator("[data-metric=waiting] .value")).to_have_text("1")
        expect(card.locator("[data-metric=longest] .value")).not_to_have_text(NONE)
        expect(card.locator("[data-status=OFF_QUEUE]")).to_have_text("OFF_QUEUE 1")
        ok(admin.put(f"/api/v2/users/{ada['id']}/routingstatus", json={"status": "IDLE"}))
        expect(card.locator("[data-metric=waiting] .value")).to_have_text("0")
        expect(card).to_contain_text("1 alerting")
        expect(card.locator("[data-metric=longest] .value")).to_have_text(NONE)

    # The flow answered the customer on the new number.
    phone = ok(admin.get("/sim/v1/messages", params={"phone": customer}))["entities"]
    assert any(m["text"] == "Escalations here" and m["fromAddress"] == number for m in phone)
    queue = next(q for q in ok(admin.get("/api/v2/routing/queues",
                                         params={"name": queue_name}))["entities"])
    assert queue["skillEvaluationMethod"] == "BEST"
    offered = ok(admin.get(f"/api/v2/routing/queues/{queue['id']}/wrapupcodes"))["entities"]
    assert [c["id"] for c in offered] == [code["id"]]


def test_oauth_client_secret_is_shown_once_and_the_client_deleted(
        new_page: NewPage, web_server: WebServer) -> None:
    page = new_page()
    sign_in(page, web_server.admin, "/app/admin#clients")
    page.fill("#client-name", "Nightly export")
    page.select_option("#client-role", "supervisor")
    page.click("#client-create")
    secret = page.locator("#secret")
    expect(secret).to_be_visible()
    first = secret.inner_text()
    client_id = page.locator("#secret-box .muted").inner_text().removeprefix("Client id: ")
    page.once("dialog", lambda d: d.accept())
    row = page.locator("tbody tr", has_text="Nightly export")
    row.get_by_role("button", name="Rotate secret").click()
    expect(secret).not_to_have_text(first)
    rotated = secret.inner_text()
    token = httpx.post(f"{web_server.base_url}/oauth/token", auth=(client_id, rotated),
                       data={"grant_type": "client_credentials"}).json()["access_token"]
    as_export = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{web_server.base_url}/api/v2/users", headers=as_export).status_code == 200

    # The console's own client cannot be deleted from this session; the export's can.
    expect(page.locator("tbody tr", has_text="(this session)").get_by_role(
        "button", name="Delete")).to_be_disabled()
    page.once("dialog", lambda d: d.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="Deleted Nightly export.")).to_be_visible()
    expect(row).to_have_count(0)
    assert httpx.get(f"{web_server.base_url}/api/v2/users", headers=as_export).status_code == 401
    page.get_by_role("link", name="Users").click()
    expect(page.locator("#secret")).to_have_count(0)


def test_admin_changes_a_users_role_but_not_their_own(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    rita = {"name": f"Rita {secrets.token_hex(3)}", "password": "long enough 1",
            "email": f"rita-{secrets.token_hex(4)}@demo.parley"}
    ok(admin.post("/api/v2/users", json={**rita, "roles": ["agent"]}))
    me = ok(admin.get(f"/api/v2/users/{web_server.admin['id']}"))
    page = new_page()
    sign_in(page, web_server.admin, "/app/admin#users")
    expect(page.get_by_label(f"Role of {me['name']}")).to_be_disabled()
    with web_server.user_api(rita) as as_rita:
        assert as_rita.get("/api/v2/oauth/clients").status_code == 403
        picker = page.get_by_label(f"Role of {rita['name']}")
        expect(picker).to_have_value("agent")
        picker.select_option("supervisor")
        expect(page.get_by_role("status").filter(has_text=f"{rita['name']} is a supervisor now")
               ).to_be_visible()
        expect(page.get_by_label(f"Role of {rita['name']}")).to_have_value("supervisor")
        # Rita's session has the new role without signing in again.
        assert as_rita.get("/api/v2/users/me").json()["roles"] == ["supervisor"]
        assert as_rita.get("/api/v2/conversations/messages").status_code == 200
        assert as_rita.get("/api/v2/oauth/clients").status_code == 403


def test_agents_cannot_use_the_supervisor_view(new_page: NewPage,
                                               web_server: WebServer) -> None:
    page = new_page()
    sign_in(page, web_server.agent(1), "/app/supervisor")
    expect(page.get_by_role("alert")).to_contain_text("view-all-conversations")
