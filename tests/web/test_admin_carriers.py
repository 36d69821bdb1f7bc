"""Carrier connections in the admin console, in a real Chromium.

An admin creates an SMPP connection with bad settings and sees every wrong field marked at
its input, fixes them and sees the link fail (nothing listens on its port) with the reason,
refreshed without a reload. Then a simulator connection with a number in its inventory: the
number is registered on it from the SMS numbers section and listed on the connection, which
cannot be deleted while it serves the number (the server's reason is shown); once the number
moves to the built-in simulator, it can.
"""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.servers import free_port
from tests.web.conftest import (
    PHONE,
    NewPage,
    WebServer,
    ok,
    server_log_on_failure,
    sign_in,
)

pytestmark = pytest.mark.web

CARRIERS = "/api/v2/parley/carriers"
NUMBERS = "/api/v2/routing/sms/phonenumbers"
AREA = "415"


def card(page: Page, name: str) -> Locator:
    return page.get_by_role("article", name=name, exact=True)


def test_admin_creates_fixes_and_deletes_carrier_connections_and_moves_a_number(
        new_page: NewPage, web_server: WebServer, admin: httpx.Client) -> None:
    tag = secrets.token_hex(3)
    smpp, lab = f"Aggregator {tag}", f"Lab {tag}"
    port = free_port()  # nothing listens there
    number = ok(admin.get("/api/v2/routing/sms/availablephonenumbers", params={
        "countryCode": "US", "phoneNumberType": "local", "areaCode": AREA,
        "integrationId": "sim"}))["entities"][0]["phoneNumber"]
    page = new_page()
    try:
        with server_log_on_failure(web_server):
            sign_in(page, web_server.admin, "/app/admin#carriers")
            builtin = page.locator("#carrier-list [data-connection=sim]")
            expect(page.locator("#carrier-list article").first).to_have_attribute(
                "data-connection", "sim")
            expect(builtin).to_contain_text("read-only")
            expect(builtin.locator(".link-state [data-status]").first).to_have_text("bound")
            expect(builtin.get_by_role("button")).to_have_count(0)

            # SMPP (the kind a new connection starts with), every setting wrong at once.
            page.fill("#carrier-name", smpp)
            page.fill("#carrier-setting-host", "smsc example")
            page.fill("#carrier-setting-port", "70000")
            page.fill("#carrier-setting-systemId", "s" * 16)
            page.fill("#carrier-setting-window", "many")
            page.fill("#carrier-setting-numberRates-local", "-1")
            page.fill("#carrier-secret-password", "123456789")
            page.click("#carrier-number-add")
            page.get_by_label("Number 1", exact=True).fill("3125550100")
            page.click("#carrier-save")
            marked = {"settings.host": "not valid", "settings.port": "between 1 and 65535",
                      "settings.systemId": "at most 15", "settings.window": "whole number",
                      "settings.numberRates": "local", "secrets.password": "at most 8",
                      "numbers[0].phoneNumber": "3125550100"}
            for name, says in marked.items():
                expect(page.locator(f'[data-problem="{name}"]')).to_contain_text(says)
            expect(page.locator("[data-problem]")).to_have_count(len(marked))
            expect(page.locator("#carrier-problems")).to_contain_text(
                f"{len(marked)} problems, each marked below")
            expect(page.locator("#carrier-setting-port")).to_have_attribute("aria-invalid", "true")
            expect(page.get_by_label("Number 1", exact=True)).to_have_attribute(
                "aria-invalid", "true")
            expect(page.locator("#carrier-setting-host")).to_be_focused()

            # Fixed: saved, and the link's state comes (and is kept fresh) without a reload.
            page.fill("#carrier-setting-host", "127.0.0.1")
            page.fill("#carrier-setting-port", str(port))
            page.fill("#carrier-setting-systemId", "parley")
            page.fill("#carrier-setting-window", "")  # the default
            page.fill("#carrier-setting-numberRates-local", "2")
            page.fill("#carrier-secret-password", "s3cret")
            page.get_by_role("button", name="Remove number 1").click()
            page.click("#carrier-save")
            link = card(page, smpp)
            expect(link.locator(".link-state > p [data-status]")).to_have_text(
                re.compile("^(failed|connecting)$"))
            expect(link.locator(".reason")).to_contain_text(f"127.0.0.1:{port} refused")
            expect(link.locator(".binds")).to_contain_text("transceiver 1")
            expect(link.locator(".counters")).to_contain_text("submitted 0")
            expect(page.locator("[data-problem]")).to_have_count(0)
            # The form edits what was saved; the secret is write-only.
            expect(page.locator("#carrier-setting-window")).to_have_value("10")
            expect(page.locator("#carrier-setting-numberRates-local")).to_have_value("2")
            expect(page.locator("[data-secret=password]")).to_have_text("set")
            expect(page.locator("#carrier-secret-password")).to_have_value("")
            saved = next(c for c in ok(admin.get(CARRIERS))["entities"] if c["name"] == smpp)
            assert saved["settings"]["port"] == port and saved["secretsSet"] == ["password"]
            # Changed elsewhere (another admin, the CLI): the open section shows it.
            ok(admin.patch(f"{CARRIERS}/{saved['id']}", json={"enabled": False}))
            expect(link.locator(".link-state > p [data-status]")).to_have_text("disabled")
            expect(link.get_by_role("button", name="Enable")).to_be_visible()

            # A simulator connection serving one number.
            page.get_by_role("button", name="New connection instead").click()
            page.select_option("#carrier-kind", "sim")
            expect(page.locator("#carrier-setting-deliveryDelayMs")).to_be_visible()
            expect(page.locator("#carrier-secret-password")).to_have_count(0)
            page.fill("#carrier-name", lab)
            page.click("#carrier-number-add")
            page.get_by_label("Number 1", exact=True).fill(number)
            page.click("#carrier-save")
            on_lab = card(page, lab)
            expect(on_lab).to_contain_text(f"{number} (local)")
            expect(on_lab.locator(".link-state [data-status]").first).to_have_text("bound")
            lab_id = on_lab.get_attribute("data-connection")

            # Registered on it from the numbers section, from its own available numbers.
            page.get_by_role("link", name="SMS numbers").click()
            page.select_option("#number-connection", label=lab)
            page.fill("#area-code", AREA)
            page.click("#search-numbers")
            offer = page.locator("#available tbody tr", has_text=number)
            expect(offer).to_contain_text(lab)
            offer.get_by_role("button", name="Register").click()
            on = page.get_by_label(f"Connection of {number}")
            expect(on).to_have_value(str(lab_id))

            page.get_by_role("link", name="Carriers").click()
            expect(on_lab.locator(".registered")).to_contain_text(number)
            page.once("dialog", lambda d: d.accept())
            on_lab.get_by_role("button", name="Delete").click()
            expect(on_lab.get_by_role("alert")).to_contain_text(
                "still serves 1 registered number")
            expect(on_lab.get_by_role("alert")).to_contain_text(number)

            # Moved to the built-in simulator: now the connection can go.
            page.get_by_role("link", name="SMS numbers").click()
            on.select_option("sim")
            page.get_by_role("button", name=f"Move {number}").click()
            expect(page.get_by_role("status").filter(has_text=f"{number} now sends")
                   ).to_contain_text("Simulator")
            expect(on).to_have_value("sim")
            page.get_by_role("link", name="Carriers").click()
            expect(builtin.locator(".registered")).to_contain_text(number)
            page.once("dialog", lambda d: d.accept())
            on_lab.get_by_role("button", name="Delete").click()
            expect(on_lab).to_have_count(0)
            assert lab_id not in [c["id"] for c in ok(admin.get(CARRIERS))["entities"]]

            # Phone-sized, nothing is wider than the screen.
            page.set_viewport_size(PHONE)
            expect(link).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        for n in ok(admin.get(NUMBERS, params={"phoneNumber": number}))["entities"]:
            ok(admin.delete(f"{NUMBERS}/{n['id']}"))
        for c in ok(admin.get(CARRIERS))["entities"]:
            if c["name"] in (smpp, lab):
                ok(admin.delete(f"{CARRIERS}/{c['id']}"))
