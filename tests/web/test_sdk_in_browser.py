"""The seed article's sample in a real browser, with the official JavaScript SDK.

A page of another origin (a tiny static server on another port, `localhost` rather than
`127.0.0.1`) loads the browser build of `purecloud-platform-client-v2` from the npm package
(tests/sdk/js/node_modules, installed by `make test`), points it at Parley with
`setGateway`, and runs the article's code as written: `loginImplicitGrant` sends the browser
to Parley's login page, the test signs in there as the demo agent, Parley redirects back with
the token, and the article's three calls succeed across origins (CORS) until its `alert`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Dialog, expect

from tests.orgs import new_customer
from tests.web.conftest import NewPage, WebServer, server_log_on_failure

pytestmark = pytest.mark.web

HERE = Path(__file__).resolve().parent
SDK_FILE = (HERE.parent / "sdk" / "js" / "node_modules" / "purecloud-platform-client-v2" /
            "dist" / "web-cjs" / "purecloud-platform-client-v2.min.js")


class _SamplePage(SimpleHTTPRequestHandler):
    """Serves sdk_page/ and, at /sdk/, the SDK's browser build from node_modules."""

    def translate_path(self, path: str) -> str:
        if urlsplit(path).path == "/sdk/purecloud-platform-client-v2.min.js":
            return str(SDK_FILE)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sample_origin() -> Iterator[str]:
    if not SDK_FILE.exists():
        pytest.fail(f"{SDK_FILE} is missing: run `make test` (npm ci in tests/sdk/js)",
                    pytrace=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(_SamplePage, directory=str(HERE / "sdk_page")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_seed_sample_with_implicit_grant_in_a_browser_of_another_origin(
        new_page: NewPage, web_server: WebServer, sample_origin: str) -> None:
    agent = web_server.agent(1)
    customer = new_customer()
    text = "Hello from the seed article, in a browser"
    query = urlencode({"clientId": web_server.browser_client_id, "queueId": web_server.queue_id,
                       "phone": customer, "text": text, "host": "127.0.0.1",
                       "port": web_server.port})
    page = new_page()
    calls: list[str] = []
    page.on("request", lambda r: calls.append(f"{r.method} {r.url}"))
    alerts: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        alerts.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    with server_log_on_failure(web_server):
        page.goto(f"{sample_origin}/sample.html?{query}")
        # loginImplicitGrant sent the browser to Parley's own login page.
        page.wait_for_url(f"{web_server.base_url}/oauth/authorize?**")
        assert "response_type=token" in page.url
        expect(page.locator("h1")).to_have_text("Sign in to Parley")
        page.fill("#username", agent["email"])
        page.fill("#password", agent["password"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{sample_origin}/sample.html?**")
        for _ in range(200):  # the article's chain ends in alert(); at most 10 s
            if alerts:
                break
            page.wait_for_timeout(50)
        expect(page.locator("#state")).to_have_text("starting")  # no rejection reported
        assert alerts == [f"message successfully sent to: {customer}"], calls

    api = f"{web_server.base_url}/api/v2"
    made = [c for c in calls if c.startswith(("GET", "POST")) and api in c]
    assert made[0] == f"GET {api}/tokens/me"
    assert made[1] == f"POST {api}/conversations/messages"
    assert made[2].startswith(f"GET {api}/conversations/")
    assert made[3].startswith(f"POST {api}/conversations/messages/") and \
        made[3].endswith("/messages")
    # The SDK took the token out of the address bar.
    assert "#" not in page.url

    with web_server.admin_api() as admin:
        for _ in range(100):
            phone = admin.get("/sim/v1/messages", params={"phone": customer}).json()["entities"]
            if phone and phone[0]["status"] == "delivery-success":
                break
            page.wait_for_timeout(50)
    assert [(m["fromAddress"], m["text"]) for m in phone] == [(web_server.number, text)]
    # Parley answered the cross-origin calls with CORS for the page's origin.
    resp = httpx.options(f"{api}/conversations/messages", headers={
        "Origin": sample_origin, "Access-Control-Request-Method": "POST"})
    assert resp.headers["access-control-allow-origin"] == sample_origin
