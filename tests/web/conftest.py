"""A real `parley serve` and a real Chromium for the browser tests.

One server per session: a subprocess on a free loopback port with a fresh SQLite database and
the demo organisation (`parley init --demo --json` reports its users, passwords and clients).
One headless Chromium per session, Debian's (`make chromium` installs it), driven by
Playwright; every test gets fresh browser contexts, so nothing (tokens in sessionStorage,
open websockets) leaks from one test to the next. Tests talk to the server only as a browser
or an API client would: no mocks, no reaching into the process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.servers import DemoOrg, init_demo, serve, stop

CHROMIUM = Path(os.environ.get("PARLEY_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
WAIT_MS = 10_000
"""Bound on any one wait for the page (an offer, a reply on the handset)."""

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class WebServer(DemoOrg):
    """A running `parley serve` with the demo organisation."""

    base_url: str
    port: int
    demo: dict[str, Any]
    log_path: Path

    def admin_api(self) -> httpx.Client:
        """An API client with the demo script client's admin token (client credentials)."""
        script = self.demo["clients"]["script"]
        resp = httpx.post(f"{self.base_url}/oauth/token",
                          data={"grant_type": "client_credentials"},
                          auth=(script["clientId"], script["clientSecret"]), timeout=10)
        assert resp.status_code == 200, resp.text
        return httpx.Client(base_url=self.base_url, timeout=10, headers={
            "Authorization": f"Bearer {resp.json()['access_token']}"})

    def user_api(self, who: dict[str, str]) -> httpx.Client:
        """An API client with `who`'s own token (the implicit grant, as a browser does it)."""
        resp = httpx.post(f"{self.base_url}/oauth/authorize", data={
            "client_id": self.browser_client_id, "response_type": "token",
            "redirect_uri": f"{self.base_url}/app/callback", "username": who["email"],
            "password": who["password"]}, timeout=10)
        assert resp.status_code == 302, resp.text
        fragment = parse_qs(urlsplit(resp.headers["location"]).fragment)
        return httpx.Client(base_url=self.base_url, timeout=10, headers={
            "Authorization": f"Bearer {fragment['access_token'][0]}"})

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def start_server(data_dir: Path, **env_overrides: str) -> tuple[subprocess.Popen[bytes],
                                                                 WebServer]:
    """`parley init --demo --json`, then `parley serve` on a free port; waits for /healthz."""
    env = dict(os.environ, PARLEY_DATABASE_URL=f"sqlite+aiosqlite:///{data_dir / 'web.db'}",
               PARLEY_DATA_DIR=str(data_dir), PARLEY_ARGON2_TIME_COST="1",
               PARLEY_ARGON2_MEMORY_KIB="1024", PARLEY_SIM_DELIVERY_DELAY_MS="150",
               PARLEY_OUTBOX_POLL_INTERVAL_S="0.2", PARLEY_LOG_LEVEL="WARNING",
               **env_overrides)
    demo = init_demo(env, data_dir)
    served = serve(env, data_dir)
    return served.proc, WebServer(served.base_url, served.port, demo, served.log_path)


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    proc, server = start_server(tmp_path_factory.mktemp("web-server"))
    try:
        yield server
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make chromium` (as root it "
                    "installs Debian's chromium with apt-get) or set PARLEY_TEST_CHROMIUM",
                    pytrace=False)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                         headless=True)
    try:
        yield browser
    finally:
        browser.close()


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, web_server: WebServer) -> Iterator[NewPage]:
    """new_page(viewport=DESKTOP) -> a page in a fresh context (its own sessionStorage)."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(viewport: ViewportSize | None = None) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=web_server.base_url)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, "uncaught errors in the pages:\n" + "\n".join(errors)


def sign_in(page: Page, who: dict[str, str], path: str) -> None:
    """Open `path`; the page sends the browser to Parley's login page; sign in as `who`."""
    page.goto(path)
    page.wait_for_url("**/oauth/authorize?**")
    page.fill("#username", who["email"])
    page.fill("#password", who["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.wait_for_selector("#who")


@contextlib.contextmanager
def server_log_on_failure(server: WebServer) -> Iterator[None]:
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- server log tail ---\n{server.log_tail()}") from e


# -- the API side of the tests -----------------------------------------------------------


def ok(resp: httpx.Response) -> Any:
    assert resp.status_code < 300, f"{resp.request.method} {resp.request.url}: " \
        f"{resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


@pytest.fixture
def admin(web_server: WebServer) -> Iterator[httpx.Client]:
    """The admin API; every demo agent is put back Off Queue and every conversation still
    open is ended afterwards, so the next test starts from a quiet organisation."""
    with web_server.admin_api() as client:
        yield client
        for who in web_server.demo["users"]["agents"]:
            ok(client.put(f"/api/v2/users/{who['id']}/routingstatus",
                          json={"status": "OFF_QUEUE"}))
        end_all_conversations(client)


def end_all_conversations(client: httpx.Client) -> None:
    """End what is still open (the agents are off queue, so nothing is alerting): leaving
    as the last non-customer participant ends a conversation."""
    for conv in ok(client.get("/api/v2/conversations/messages"))["entities"]:
        for p in conv["participants"]:
            if p["purpose"] in ("acd", "agent") and p["state"] == "connected":
                ok(client.patch(f"/api/v2/conversations/messages/{conv['id']}/participants/"
                                f"{p['id']}", json={"state": "disconnected"}))


def conversation_with(client: httpx.Client, customer: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for conv in ok(client.get("/api/v2/conversations/messages"))["entities"]:
            if any(p["purpose"] == "customer" and p.get("address") == customer
                   for p in conv["participants"]):
                return dict(conv)
        time.sleep(0.1)
    raise AssertionError(f"no open conversation with {customer}")
