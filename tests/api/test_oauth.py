"""OAuth at the login base: /oauth/token, the /oauth/authorize login page, and CORS."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from parley.api.app import create_app
from parley.bootstrap import Parley
from parley.domain.access import Role
from parley.domain.directory import GrantType
from tests.api.support import (
    REDIRECT,
    assert_error,
    assert_token,
    bearer,
    code_login,
    ok,
    parse_form,
    pkce_pair,
)
from tests.orgs import Tenant, login, make_org


def oauth_error(resp: httpx.Response, status: int, error: str, *says: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str) and body["error_description"]
    for phrase in says:
        assert phrase.lower() in body["error_description"].lower(), body
    assert resp.headers["cache-control"] == "no-store"
    return body


async def grant_type_of(http: httpx.AsyncClient, token: str) -> str:
    info = ok(await http.get("/api/v2/tokens/me", headers=bearer(token)))
    return str(info["OAuthClient"]["authorizedGrantType"])


@pytest.fixture
async def code_client(parley: Parley, org: Tenant) -> tuple[str, str]:
    """A confidential web-server client of `org`: code grant only, one https redirect URI."""
    new = await parley.directory.add_client(
        org.id, name="web app", grant_types=[GrantType.AUTHORIZATION_CODE], role=Role.AGENT,
        redirect_uris=["https://app.example/cb"], confidential=True)
    assert new.secret is not None
    return new.client.id, new.secret


# -- client credentials -----------------------------------------------------------------------


async def test_client_credentials_with_basic_auth(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(org.script_client_id, org.script_client_secret))
    token = assert_token(resp, refresh=False)["access_token"]
    assert await grant_type_of(http, token) == "CLIENT-CREDENTIALS"


async def test_client_credentials_with_secret_in_the_form(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": org.script_client_id,
        "client_secret": org.script_client_secret})
    assert_token(resp, refresh=False)


async def test_client_credentials_with_a_wrong_secret(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(org.script_client_id, "not-the-secret"))
    oauth_error(resp, 401, "invalid_client", "secret is wrong")
    assert resp.headers["www-authenticate"].startswith("Basic")


async def test_client_credentials_without_client_auth(http: httpx.AsyncClient) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"})
    oauth_error(resp, 401, "invalid_client", "client authentication is missing")


async def test_client_credentials_with_an_unknown_client(http: httpx.AsyncClient) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=("no-such-client", "secret"))
    oauth_error(resp, 401, "invalid_client", "unknown OAuth client 'no-such-client'")


async def test_client_credentials_with_garbled_basic_auth(http: httpx.AsyncClient) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Basic !!!not-base64!!!"})
    oauth_error(resp, 401, "invalid_client")


async def test_client_credentials_with_a_secret_but_no_secret_given(
        http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_id": org.script_client_id})
    oauth_error(resp, 401, "invalid_client", "secret is wrong")


@pytest.mark.parametrize("grant", ["password", "", "urn:ietf:params:oauth:grant-type:jwt"])
async def test_unknown_grant_type(http: httpx.AsyncClient, org: Tenant, grant: str) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": grant},
                           auth=(org.script_client_id, org.script_client_secret))
    oauth_error(resp, 400, "unsupported_grant_type", "is not supported", "client_credentials")


async def test_missing_grant_type(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={},
                           auth=(org.script_client_id, org.script_client_secret))
    oauth_error(resp, 400, "unsupported_grant_type")


async def test_token_request_that_is_not_a_form(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post("/oauth/token", json={"grant_type": "client_credentials"},
                           auth=(org.script_client_id, org.script_client_secret))
    oauth_error(resp, 400, "invalid_request", "application/x-www-form-urlencoded",
                "application/json")


async def test_client_without_the_client_credentials_grant(
        http: httpx.AsyncClient, code_client: tuple[str, str]) -> None:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=code_client)
    oauth_error(resp, 400, "unauthorized_client", "may not use the client_credentials grant")


# -- authorization code + PKCE ----------------------------------------------------------------


async def test_login_page_shows_a_form(http: httpx.AsyncClient, org: Tenant) -> None:
    _, challenge = pkce_pair()
    page = await http.get("/oauth/authorize", params={
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "state": "abc", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    form = parse_form(page.text)
    assert form.action == "/oauth/authorize"
    assert form.input_types["username"] == "text"
    assert form.input_types["password"] == "password"
    assert form.inputs["client_id"] == org.browser_client_id
    assert form.inputs["redirect_uri"] == REDIRECT
    assert form.inputs["code_challenge"] == challenge
    assert form.inputs["state"] == "abc"
    assert "browser" in page.text  # the client's name


async def test_login_page_escapes_what_it_echoes(http: httpx.AsyncClient, org: Tenant) -> None:
    script = '"><script>alert(1)</script>'
    page = await http.get("/oauth/authorize", params={
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT, "response_type": "token",
        "state": script, "login_hint": script})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    form = parse_form(page.text)
    assert form.inputs["state"] == script
    assert form.inputs["username"] == script
    bad = await http.get("/oauth/authorize", params={
        "client_id": script, "redirect_uri": REDIRECT, "response_type": "token"})
    assert bad.status_code == 400
    assert "<script>alert(1)" not in bad.text


async def test_pkce_flow_end_to_end(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    verifier, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT})
    token = assert_token(resp, refresh=True)
    assert await grant_type_of(http, token["access_token"]) == "CODE"
    me = ok(await http.get("/api/v2/users/me", headers=bearer(token["access_token"])))
    assert me["id"] == agent.id

    again = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT})
    oauth_error(again, 400, "invalid_grant", "already used")


async def test_pkce_with_a_wrong_verifier(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[1]
    _, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code,
        "code_verifier": secrets.token_urlsafe(48), "client_id": org.browser_client_id,
        "redirect_uri": REDIRECT})
    oauth_error(resp, 400, "invalid_grant", "code_verifier does not match")


async def test_pkce_without_a_verifier_or_secret(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[1]
    _, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": org.browser_client_id,
        "redirect_uri": REDIRECT})
    oauth_error(resp, 401, "invalid_client", "secret")


async def test_code_exchange_with_another_redirect_uri(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    agent = org.agents[0]
    verifier, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": org.browser_client_id, "redirect_uri": "http://127.0.0.1:6666/other"})
    oauth_error(resp, 400, "invalid_grant", "redirect_uri does not match")


async def test_code_of_one_client_cannot_be_redeemed_by_another(
        http: httpx.AsyncClient, org: Tenant, code_client: tuple[str, str]) -> None:
    agent = org.agents[0]
    verifier, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": REDIRECT}, auth=code_client)
    oauth_error(resp, 400, "invalid_grant")


async def test_unknown_code(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": "made-up", "code_verifier": "x" * 43,
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT})
    oauth_error(resp, 400, "invalid_grant", "unknown, expired or already used")
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "client_id": org.browser_client_id})
    oauth_error(resp, 400, "invalid_request", "code is required")


async def test_plain_code_challenge_method_is_refused(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    agent = org.agents[0]
    resp = await http.post("/oauth/authorize", data={
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "code_challenge": "x" * 43, "code_challenge_method": "plain",
        "username": agent.user.email, "password": agent.password})
    assert resp.status_code == 400
    assert "location" not in resp.headers
    assert "code_challenge_method must be S256" in resp.text


async def test_confidential_code_grant_with_basic_auth(
        http: httpx.AsyncClient, org: Tenant, code_client: tuple[str, str]) -> None:
    agent = org.agents[0]
    code = await code_login(http, code_client[0], agent.user.email, agent.password,
                            redirect_uri="https://app.example/cb")
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://app.example/cb"}, auth=code_client)
    token = assert_token(resp, refresh=True)
    assert await grant_type_of(http, token["access_token"]) == "CODE"


async def test_code_without_pkce_needs_the_client_secret(
        http: httpx.AsyncClient, org: Tenant, code_client: tuple[str, str]) -> None:
    """A code issued without a challenge is redeemable only with the client's secret: adding
    an arbitrary code_verifier must not stand in for client authentication."""
    agent = org.agents[0]
    code = await code_login(http, code_client[0], agent.user.email, agent.password,
                            redirect_uri="https://app.example/cb")
    resp = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": code_client[0],
        "code_verifier": secrets.token_urlsafe(48), "redirect_uri": "https://app.example/cb"})
    oauth_error(resp, 401, "invalid_client", "secret")
    wrong = await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://app.example/cb"}, auth=(code_client[0], "wrong"))
    oauth_error(wrong, 401, "invalid_client", "secret is wrong")


# -- refresh tokens ---------------------------------------------------------------------------


async def test_refresh_token_grant(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    verifier, challenge = pkce_pair()
    code = await code_login(http, org.browser_client_id, agent.user.email, agent.password,
                            challenge=challenge)
    first = assert_token(await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT}), refresh=True)

    resp = await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": org.browser_client_id})
    second = assert_token(resp, refresh=True)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    me = ok(await http.get("/api/v2/users/me", headers=bearer(second["access_token"])))
    assert me["id"] == agent.id
    assert await grant_type_of(http, second["access_token"]) == "CODE"
    # Refreshing retires the old pair.
    assert_error(await http.get("/api/v2/users/me", headers=bearer(first["access_token"])), 401)
    reuse = await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": org.browser_client_id})
    oauth_error(reuse, 400, "invalid_grant", "unknown or revoked")


async def test_refresh_token_errors(http: httpx.AsyncClient, org: Tenant,
                                    code_client: tuple[str, str]) -> None:
    agent = org.agents[0]
    code = await code_login(http, code_client[0], agent.user.email, agent.password,
                            redirect_uri="https://app.example/cb")
    issued = assert_token(await http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://app.example/cb"}, auth=code_client), refresh=True)
    refresh = issued["refresh_token"]

    missing = await http.post("/oauth/token", data={"grant_type": "refresh_token"},
                              auth=code_client)
    oauth_error(missing, 400, "invalid_request", "refresh_token is required")
    wrong_secret = await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh}, auth=(code_client[0], "bad"))
    oauth_error(wrong_secret, 401, "invalid_client", "secret is wrong")
    other_client = await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh,
        "client_id": org.browser_client_id})
    oauth_error(other_client, 400, "invalid_grant")
    unknown = await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": "nope"}, auth=code_client)
    oauth_error(unknown, 400, "invalid_grant", "unknown or revoked")
    # None of the failures burnt the token.
    assert_token(await http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh}, auth=code_client),
        refresh=True)


# -- implicit grant and the login page's errors -----------------------------------------------


async def test_implicit_grant_redirects_with_the_token_in_the_fragment(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[1]
    page = await http.get("/oauth/authorize", params={
        "client_id": org.browser_client_id, "redirect_uri": REDIRECT, "response_type": "token",
        "state": "state with spaces&odd=chars"})
    form = parse_form(page.text)
    assert form.inputs["response_type"] == "token"
    resp = await http.post("/oauth/authorize", data={
        **form.inputs, "username": agent.user.email.upper(), "password": agent.password})
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert location.query == ""
    fragment = parse_qs(location.fragment)
    assert set(fragment) == {"access_token", "token_type", "expires_in", "state"}
    assert fragment["token_type"] == ["bearer"]
    assert int(fragment["expires_in"][0]) > 0
    assert fragment["state"] == ["state with spaces&odd=chars"]
    token = fragment["access_token"][0]
    assert "%" not in token and "+" not in token
    assert await grant_type_of(http, token) == "TOKEN"
    me = ok(await http.get("/api/v2/users/me", headers=bearer(token)))
    assert me["id"] == agent.id


async def test_unregistered_redirect_uri_shows_an_error_and_never_redirects(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    evil = "https://evil.example/steal"
    page = await http.get("/oauth/authorize", params={
        "client_id": org.browser_client_id, "redirect_uri": evil, "response_type": "token"})
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "is not registered" in page.text
    assert parse_form(page.text).inputs == {}  # no login form
    submit = await http.post("/oauth/authorize", data={
        "client_id": org.browser_client_id, "redirect_uri": evil, "response_type": "token",
        "username": agent.user.email, "password": agent.password})
    assert submit.status_code == 400
    assert "location" not in submit.headers
    assert "is not registered" in submit.text


async def test_authorize_with_bad_parameters_shows_an_error(
        http: httpx.AsyncClient, org: Tenant, code_client: tuple[str, str]) -> None:
    cases = [
        ({"redirect_uri": REDIRECT, "response_type": "token"}, "client_id is required"),
        ({"client_id": "nobody", "redirect_uri": REDIRECT, "response_type": "token"},
         "unknown OAuth client"),
        ({"client_id": org.browser_client_id, "response_type": "token"},
         "redirect_uri is required"),
        ({"client_id": org.browser_client_id, "redirect_uri": REDIRECT,
          "response_type": "id_token"}, "response_type must be"),
        ({"client_id": code_client[0], "redirect_uri": "https://app.example/cb",
          "response_type": "token"}, "may not use response_type"),
        ({"client_id": code_client[0], "redirect_uri": "https://app.example/other",
          "response_type": "code"}, "is not registered"),
    ]
    for params, says in cases:
        page = await http.get("/oauth/authorize", params=params)
        assert page.status_code == 400, (params, page.text)
        assert "location" not in page.headers
        assert says in page.text, (params, says)


async def test_wrong_password_re_renders_the_form(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    params = {"client_id": org.browser_client_id, "redirect_uri": REDIRECT,
              "response_type": "token", "state": "s9"}
    resp = await http.post("/oauth/authorize", data={
        **params, "username": agent.user.email, "password": agent.password + "x"})
    assert resp.status_code == 401
    assert "location" not in resp.headers
    assert "wrong email or password" in resp.text
    form = parse_form(resp.text)
    assert form.inputs["username"] == agent.user.email  # kept for the retry
    assert form.inputs["state"] == "s9"
    assert "password" in form.inputs
    unknown = await http.post("/oauth/authorize", data={
        **params, "username": "nobody@test.parley", "password": "whatever1"})
    assert unknown.status_code == 401
    assert "wrong email or password" in unknown.text
    empty = await http.post("/oauth/authorize", data={**params, "username": agent.user.email})
    assert empty.status_code == 400
    assert "enter your email and password" in empty.text
    assert "location" not in empty.headers


# -- failed sign-ins are throttled ----------------------------------------------------------

Browser = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def from_somewhere(parley: Parley) -> Browser:
    """HTTP clients that each come from an address of their own, as people on other machines
    do (the throttle counts per source address; the shared `http` client is 127.0.0.1)."""
    @asynccontextmanager
    async def client() -> AsyncIterator[httpx.AsyncClient]:
        address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
        transport = httpx.ASGITransport(app=create_app(parley, manage_lifecycle=False),
                                        client=(address, 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as c:
            yield c
    return client


async def test_the_sixth_wrong_password_in_a_row_gets_429_with_retry_after(
        from_somewhere: Browser, org: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    agent = org.agents[0]
    params = {"client_id": org.browser_client_id, "redirect_uri": REDIRECT,
              "response_type": "token", "state": "s1"}
    async with from_somewhere() as browser:
        for i in range(5):
            wrong = await browser.post("/oauth/authorize", data={
                **params, "username": agent.user.email, "password": f"guess-{i}"})
            assert wrong.status_code == 401, wrong.text
        with caplog.at_level(logging.INFO):
            refused = await browser.post("/oauth/authorize", data={
                **params, "username": agent.user.email, "password": agent.password})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "too many failed sign-in attempts; try again in 1 s" in refused.text
    form = parse_form(refused.text)
    assert form.inputs["username"] == agent.user.email and "password" in form.inputs
    audit = [r.getMessage() for r in caplog.records if "sign-in refused" in r.getMessage()]
    assert len(audit) == 1 and audit[0].startswith(f"sign-in refused: user {agent.user.email} "
                                                   "from 10.")
    assert not [r for r in caplog.records if agent.password in r.getMessage()]
    # Another person (another address, another account) is not affected.
    async with from_somewhere() as other:
        assert (await login(other, org.browser_client_id, org.agents[1].user.email,
                            org.agents[1].password))


async def test_wrong_client_secrets_get_an_oauth_429_with_retry_after(
        from_somewhere: Browser, http: httpx.AsyncClient, org: Tenant) -> None:
    async with from_somewhere() as script:
        for _ in range(5):
            oauth_error(await script.post("/oauth/token", data={
                "grant_type": "client_credentials"}, auth=(org.script_client_id, "wrong")),
                401, "invalid_client", "secret is wrong")
    async with from_somewhere() as elsewhere:  # the client's limit, from any address
        resp = await elsewhere.post("/oauth/token", data={"grant_type": "client_credentials"},
                                    auth=(org.script_client_id, org.script_client_secret))
    oauth_error(resp, 429, "temporarily_unavailable", "too many failed sign-in attempts")
    assert resp.headers["retry-after"] == "1"


async def test_one_address_failing_across_accounts_is_held_back(
        from_somewhere: Browser, org: Tenant) -> None:
    agent = org.agents[0]
    params = {"client_id": org.browser_client_id, "redirect_uri": REDIRECT,
              "response_type": "token", "state": "s1"}
    async with from_somewhere() as sprayer:
        for i in range(20):
            wrong = await sprayer.post("/oauth/authorize", data={
                **params, "username": f"guess-{i}-{secrets.token_hex(3)}@test.parley",
                "password": "Winter2026!"})
            assert wrong.status_code == 401
        held = await sprayer.post("/oauth/authorize", data={
            **params, "username": agent.user.email, "password": agent.password})
        assert held.status_code == 429 and held.headers["retry-after"] == "1"
    async with from_somewhere() as the_agent:
        assert await login(the_agent, org.browser_client_id, agent.user.email, agent.password)


async def test_user_of_another_org_cannot_log_into_this_orgs_client(
        parley: Parley, http: httpx.AsyncClient, org: Tenant) -> None:
    other = await make_org(parley, http, agents=1)
    stranger = other.agents[0]
    for response_type in ("token", "code"):
        resp = await http.post("/oauth/authorize", data={
            "client_id": org.browser_client_id, "redirect_uri": REDIRECT,
            "response_type": response_type, "state": "x",
            "username": stranger.user.email, "password": stranger.password})
        assert resp.status_code == 403, resp.text
        assert "location" not in resp.headers
        assert "belongs to another organisation" in resp.text


async def test_logout(http: httpx.AsyncClient, org: Tenant) -> None:
    back = await http.get("/logout", params={"client_id": org.browser_client_id,
                                             "redirect_uri": REDIRECT})
    assert back.status_code == 302
    assert back.headers["location"] == REDIRECT
    evil = await http.get("/logout", params={"client_id": org.browser_client_id,
                                             "redirect_uri": "https://evil.example/"})
    assert evil.status_code == 200
    assert "location" not in evil.headers
    assert "signed out" in evil.text


# -- CORS ---------------------------------------------------------------------------------------


async def test_preflight_from_a_loopback_origin(http: httpx.AsyncClient, org: Tenant) -> None:
    origin = "http://127.0.0.1:5555"
    resp = await http.options("/api/v2/users/me", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == origin
    allowed = {h.strip().lower() for h in resp.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    methods = {m.strip() for m in resp.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} <= methods
    assert "Origin" in resp.headers["vary"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://evil.example:5555",
                                    "https://127.0.0.1:5555", "null"])
async def test_preflight_from_a_foreign_origin(http: httpx.AsyncClient, org: Tenant,
                                               origin: str) -> None:
    resp = await http.options("/api/v2/users/me", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in resp.headers
    assert "access-control-allow-headers" not in resp.headers
    assert resp.status_code == 403


async def test_actual_requests_carry_cors_headers_for_allowed_origins_only(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    for origin in ("http://127.0.0.1:5555", "http://localhost:3000"):
        resp = await http.get("/api/v2/users/me", headers={**agent.headers, "Origin": origin})
        assert ok(resp)["id"] == agent.id
        assert resp.headers["access-control-allow-origin"] == origin
    # Error responses too, so the browser app can read the 401.
    denied = await http.get("/api/v2/users/me", headers={"Origin": "http://127.0.0.1:5555"})
    assert_error(denied, 401)
    assert denied.headers["access-control-allow-origin"] == "http://127.0.0.1:5555"
    foreign = await http.get("/api/v2/users/me",
                             headers={**agent.headers, "Origin": "https://evil.example"})
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers


async def test_token_endpoint_is_reachable_from_an_allowed_origin(
        http: httpx.AsyncClient, org: Tenant) -> None:
    """The JS SDK's PKCE login posts to /oauth/token from the browser."""
    origin = "http://127.0.0.1:5555"
    pre = await http.options("/oauth/token", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == origin
    resp = await http.post("/oauth/token", content=urlencode({"grant_type": "password"}),
                           headers={"Origin": origin,
                                    "Content-Type": "application/x-www-form-urlencoded"})
    oauth_error(resp, 400, "unsupported_grant_type")
    assert resp.headers["access-control-allow-origin"] == origin
