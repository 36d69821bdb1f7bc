"""Creating users and OAuth clients through the API (the admin console's calls)."""

from __future__ import annotations

import secrets

import httpx

from tests.api.test_conversations import assert_error, ok
from tests.orgs import Tenant, login

CLIENTS = "/api/v2/oauth/clients"


async def test_admin_creates_a_supervisor_who_can_sign_in(http: httpx.AsyncClient,
                                                          org: Tenant) -> None:
    email = f"sam-{secrets.token_hex(4)}@test.parley"
    user = ok(await http.post("/api/v2/users", headers=org.admin.headers, json={
        "name": "Sam Supervisor", "email": email, "password": "long enough 1",
        "roles": ["supervisor"]}))
    assert user["email"] == email and user["roles"] == ["supervisor"]
    token = await login(http, org.browser_client_id, email, "long enough 1")
    me = ok(await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {token}"}))
    assert me["id"] == user["id"]


async def test_bad_users_are_genesys_errors(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin.headers
    assert_error(await http.post("/api/v2/users", headers=h, json={"email": "x@y.example"}),
                 400, "name is required")
    assert_error(await http.post("/api/v2/users", headers=h, json={
        "name": "X", "email": "not-an-email", "password": "long enough 1"}), 400, "email")
    assert_error(await http.post("/api/v2/users", headers=h, json={
        "name": "X", "email": "x@y.example", "password": "short"}), 400, "8 characters")
    assert_error(await http.post("/api/v2/users", headers=h, json={
        "name": "X", "email": "x@y.example", "password": "long enough 1",
        "roles": ["owner"]}), 400, "role 'owner'")
    assert_error(await http.post("/api/v2/users", headers=h, json={
        "name": "Dup", "email": org.agents[0].user.email, "password": "long enough 1"}),
        409, "already exists")
    assert_error(await http.post("/api/v2/users", headers=org.agents[0].headers, json={
        "name": "X", "email": "x@y.example", "password": "long enough 1"}), 403, "configure")


async def test_client_secret_is_shown_once_and_rotates(http: httpx.AsyncClient,
                                                       org: Tenant) -> None:
    h = org.admin_headers
    made = ok(await http.post(CLIENTS, headers=h, json={
        "name": "Nightly export", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleIds": ["supervisor"]}))
    assert made["secret"] and made["roleIds"] == ["supervisor"]
    assert made["authorizedGrantType"] == "CLIENT-CREDENTIALS"
    listed = ok(await http.get(CLIENTS, headers=h))["entities"]
    assert next(c for c in listed if c["id"] == made["id"]).get("secret") is None
    assert ok(await http.get(f"{CLIENTS}/{made['id']}", headers=h)).get("secret") is None

    first = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(made["id"], made["secret"]))
    assert first.status_code == 200
    rotated = ok(await http.post(f"{CLIENTS}/{made['id']}/secret", headers=h))
    assert rotated["secret"] and rotated["secret"] != made["secret"]
    old = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(made["id"], made["secret"]))
    assert old.status_code == 401
    new = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(made["id"], rotated["secret"]))
    assert new.status_code == 200


async def test_browser_clients_are_public(http: httpx.AsyncClient, org: Tenant) -> None:
    made = ok(await http.post(CLIENTS, headers=org.admin_headers, json={
        "name": "Wallboard", "authorizedGrantType": "CODE",
        "registeredRedirectUri": ["https://wall.example/cb"]}))
    assert made.get("secret") is None
    assert made["registeredRedirectUri"] == ["https://wall.example/cb"]
    assert_error(await http.post(f"{CLIENTS}/{made['id']}/secret", headers=org.admin_headers),
                 400, "public client")


async def test_bad_clients_are_genesys_errors(http: httpx.AsyncClient, org: Tenant,
                                              ) -> None:
    h = org.admin_headers
    assert_error(await http.post(CLIENTS, headers=h, json={"authorizedGrantType": "CODE"}),
                 400, "name is required")
    assert_error(await http.post(CLIENTS, headers=h, json={
        "name": "x", "authorizedGrantType": "PASSWORD"}), 400, "PASSWORD")
    assert_error(await http.post(CLIENTS, headers=h, json={
        "name": "x", "authorizedGrantType": "CODE"}), 400, "redirect URIs")
    assert_error(await http.post(CLIENTS, headers=h, json={
        "name": "x", "authorizedGrantType": "CODE",
        "registeredRedirectUri": ["http://evil.example/cb"]}), 400, "https")
    assert_error(await http.get(f"{CLIENTS}/00000000-0000-4000-8000-000000000000",
                                headers=h), 404, "not found")
    assert_error(await http.get(CLIENTS, headers=org.agents[0].headers), 403)
