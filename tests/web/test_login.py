"""Signing in to the pages through Parley's own OAuth, and signing out (the token is revoked)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import NewPage, WebServer, sign_in

pytestmark = pytest.mark.web


def test_login_with_pkce_and_logout_revokes_the_token(new_page: NewPage,
                                                      web_server: WebServer) -> None:
    page = new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/app/handset")
    page.wait_for_url("**/oauth/authorize?**")
    # The pages use the demo organisation's browser client, with PKCE (S256).
    assert f"client_id={web_server.browser_client_id}" in page.url
    assert "response_type=code" in page.url and "code_challenge_method=S256" in page.url
    page.fill("#username", web_server.admin["email"])
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("wrong email or password")
    page.fill("#password", web_server.admin["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/app/handset")
    expect(page.locator("#who")).to_contain_text("Demo Admin")
    # The code and state never stay in the address bar.
    assert "code=" not in page.url
    token = page.evaluate("JSON.parse(sessionStorage.getItem('parley.session')).token")
    me = httpx.get(f"{web_server.base_url}/api/v2/users/me",
                   headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == web_server.admin["email"]

    page.click("#signout")
    page.wait_for_url("**/app/")
    expect(page.locator("#signedout")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('parley.session')") is None
    revoked = httpx.get(f"{web_server.base_url}/api/v2/users/me",
                        headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert any(u.endswith("/oauth/token") for u in requests)


def test_a_revoked_session_offers_to_sign_in_again(new_page: NewPage,
                                                   web_server: WebServer) -> None:
    page = new_page()
    sign_in(page, web_server.agent(0), "/app/handset")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('parley.session')).token")
    httpx.delete(f"{web_server.base_url}/api/v2/tokens/me",
                 headers={"Authorization": f"Bearer {token}"})
    # The handset polls; its next call gets a 401 and the page says the session ended.
    dialog = page.get_by_role("alertdialog", name="Session ended")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Sign in again").click()
    page.wait_for_url("**/oauth/authorize?**")
