"""Screenshots of every page, at desktop (1280x800) and phone (390x844) width, for docs/.

    .venv/bin/python -m tests.web.screenshots [OUT_DIR]    (default docs/screenshots)

Starts its own `parley serve` with the demo organisation (as the browser tests do), plays a
short scene through the API so the pages have something to show (an agent on queue with a
conversation, a customer's phone, a waiting text for the supervisor), and writes one PNG per
page and width. Needs Debian's chromium (`make chromium`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.servers import free_port, stop
from tests.web.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    WebServer,
    ok,
    sign_in,
    start_server,
)

CUSTOMER = "+13125550142"
WAITING = "+13125550143"


def signed_in(browser: Browser, server: WebServer, who: dict[str, str], path: str,
              viewport: ViewportSize) -> Page:
    context = browser.new_context(viewport=viewport, base_url=server.base_url)
    page = context.new_page()
    sign_in(page, who, path)
    return page


def carrier_scene(admin: httpx.Client) -> None:
    """An SMPP link nothing answers (failed, with the reason) and a lab simulator with a
    registered number, for the carriers page."""
    ok(admin.post("/api/v2/parley/carriers", json={
        "name": "Aggregator (SMPP)", "kind": "smpp",
        "settings": {"host": "127.0.0.1", "port": free_port(), "systemId": "acme"},
        "secrets": {"password": "s3cret"},
        "numbers": [{"phoneNumber": "+13125550180", "phoneNumberType": "local"},
                    {"phoneNumber": "+18005550100", "phoneNumberType": "tollfree"}]}))
    lab = ok(admin.post("/api/v2/parley/carriers", json={"name": "Lab simulator",
                                                         "kind": "sim"}))
    offered = ok(admin.get("/api/v2/routing/sms/availablephonenumbers", params={
        "countryCode": "US", "phoneNumberType": "local", "areaCode": "415",
        "integrationId": lab["id"]}))["entities"][0]
    ok(admin.patch(f"/api/v2/parley/carriers/{lab['id']}", json={"numbers": [
        {"phoneNumber": offered["phoneNumber"], "phoneNumberType": "local"}]}))
    ok(admin.post("/api/v2/routing/sms/phonenumbers", json={
        "phoneNumber": offered["phoneNumber"], "phoneNumberType": "local",
        "countryCode": "US", "name": "Lab", "integration": {"id": lab["id"]}}))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc, server = start_server(Path(tmp))
        try:
            shoot(server, out)
        finally:
            stop(proc)


def shoot(server: WebServer, out: Path) -> None:
    ada = server.agent(0)
    with server.admin_api() as admin, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ok(admin.post("/api/v2/routing/wrapupcodes", json={"name": "Resolved"}))
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            # The login page, as the pages send people to it.
            context = browser.new_context(viewport=viewport, base_url=server.base_url)
            login = context.new_page()
            login.goto("/app/agent")
            login.wait_for_url("**/oauth/authorize?**")
            login.screenshot(path=out / f"login-{name}.png")
            context.close()
            launcher = browser.new_context(viewport=viewport, base_url=server.base_url).new_page()
            launcher.goto("/app/")
            launcher.screenshot(path=out / f"launcher-{name}.png")

        agent = signed_in(browser, server, ada, "/app/agent", DESKTOP)
        agent.click("#queue-toggle")
        agent.wait_for_selector("#routing-status.status-IDLE")
        ok(admin.post("/sim/v1/messages", json={
            "from": CUSTOMER, "to": server.number,
            "text": "Hi! My order #1042 hasn't arrived yet <b>(tracking says delivered)</b>"}))
        agent.wait_for_selector(".offer")
        agent.screenshot(path=out / "agent-offer-desktop.png")
        agent.get_by_role("button", name="Accept").click()
        agent.wait_for_selector("#transcript .bubble.inbound")
        agent.fill("#reply", "Sorry about that! I'm checking with the courier now.")
        agent.keyboard.press("Enter")
        agent.wait_for_selector("#transcript .bubble.outbound[data-status=delivery-success]")
        ok(admin.post("/sim/v1/messages", json={"from": CUSTOMER, "to": server.number,
                                                "text": "Thanks, I'll wait 🙏"}))
        agent.wait_for_selector("#transcript .bubble.inbound >> nth=1")
        agent.fill("#reply", "Found it: it is at your neighbour's, number 12. Anything else?")
        agent.screenshot(path=out / "agent-desktop.png")
        agent.set_viewport_size(PHONE)
        agent.screenshot(path=out / "agent-phone.png", full_page=True)

        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            phone = signed_in(browser, server, server.admin,
                              f"/app/handset?phone=%2B{CUSTOMER[1:]}&to=%2B{server.number[1:]}",
                              viewport)
            phone.wait_for_selector("#thread .bubble.received")
            phone.fill("#text", "Got it, thank you!")
            time.sleep(0.5)
            phone.screenshot(path=out / f"handset-{name}.png")

        ok(admin.post("/sim/v1/messages", json={"from": WAITING, "to": server.number,
                                                "text": "Is anyone there?"}))
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            sup = signed_in(browser, server, server.admin, "/app/supervisor", viewport)
            sup.wait_for_selector("[data-metric=waiting]")
            time.sleep(1.2)
            sup.screenshot(path=out / f"supervisor-{name}.png", full_page=name == "phone")
            console = signed_in(browser, server, server.admin, "/app/admin#queues", viewport)
            console.wait_for_selector("#queue-name")
            console.screenshot(path=out / f"admin-queues-{name}.png")
            console.goto("/app/admin#flows")
            console.get_by_role("button", name="Open").first.click()
            console.wait_for_selector("#flow-verdict:not(:empty)")
            console.fill("#flow-yaml", console.input_value("#flow-yaml").replace(
                "transferToAcd", "transferToAdc"))
            console.wait_for_selector("#flow-problems li")
            console.screenshot(path=out / f"admin-flows-{name}.png", full_page=name == "phone")
            if name == "desktop":
                carrier_scene(admin)
            console.goto("/app/admin#carriers")
            console.wait_for_selector("#carrier-list .reason")
            console.evaluate("window.scrollTo(0, 0)")  # the flows page left it scrolled
            console.screenshot(path=out / f"admin-carriers-{name}.png")
        browser.close()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
