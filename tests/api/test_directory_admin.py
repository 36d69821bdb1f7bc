"""Creating users and OAuth clients through the API (the admin console's calls)."""

from __future__ import annotations

import secrets

import httpx

from parley.bootstrap import Parley
from tests.api.support import assert_error, ok
from tests.orgs import Tenant, login, make_org

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


async def test_deleting_a_client_ends_its_tokens_at_once(http: httpx.AsyncClient,
                                                         org: Tenant) -> None:
    h = org.admin_headers
    script = ok(await http.post(CLIENTS, headers=h, json={
        "name": "Old export", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleIds": ["supervisor"]}))
    app = ok(await http.post(CLIENTS, headers=h, json={
        "name": "Old wallboard", "authorizedGrantType": "CODE",
        "registeredRedirectUri": ["http://127.0.0.1:9/cb"]}))
    issued = ok(await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=(script["id"], script["secret"])))
    by_script = {"Authorization": f"Bearer {issued['access_token']}"}
    agent = org.agents[0]
    by_app = {"Authorization": "Bearer " + await login(http, app["id"], agent.user.email,
                                                      agent.password)}
    # Both tokens work (and this node has them in its token cache now).
    ok(await http.get("/api/v2/users", headers=by_script))
    ok(await http.get("/api/v2/users/me", headers=by_app))

    for client in (script, app):
        resp = await http.delete(f"{CLIENTS}/{client['id']}", headers=h)
        assert resp.status_code == 204, resp.text
        assert not resp.content
    assert_error(await http.get("/api/v2/users", headers=by_script), 401)
    assert_error(await http.get("/api/v2/users/me", headers=by_app), 401)
    again = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(script["id"], script["secret"]))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    listed = ok(await http.get(CLIENTS, headers=h))["entities"]
    assert not {c["id"] for c in listed} & {script["id"], app["id"]}
    assert_error(await http.get(f"{CLIENTS}/{script['id']}", headers=h), 404)
    assert_error(await http.delete(f"{CLIENTS}/{script['id']}", headers=h), 404, "not found")
    # The organisation's other tokens are untouched.
    ok(await http.get("/api/v2/users/me", headers=agent.headers))
    ok(await http.get(CLIENTS, headers=h))


async def test_who_may_delete_which_client(parley: Parley, http: httpx.AsyncClient,
                                           org: Tenant) -> None:
    other = await make_org(parley, http, agents=1)
    assert_error(await http.delete(f"{CLIENTS}/{other.script_client_id}",
                                   headers=org.admin_headers), 404, "not found")
    assert_error(await http.delete(f"{CLIENTS}/{org.script_client_id}",
                                   headers=org.agents[0].headers), 403, "configure")
    # Not the client the caller's own token came from: script token, then a signed-in admin.
    assert_error(await http.delete(f"{CLIENTS}/{org.script_client_id}",
                                   headers=org.admin_headers), 409, "your own session")
    assert_error(await http.delete(f"{CLIENTS}/{org.browser_client_id}",
                                   headers=org.admin.headers), 409, "your own session")
    # Each may delete the other; the other organisation's client still works.
    resp = await http.delete(f"{CLIENTS}/{org.browser_client_id}", headers=org.admin_headers)
    assert resp.status_code == 204, resp.text
    assert_error(await http.get("/api/v2/users/me", headers=org.admin.headers), 401)
    ok(await http.get(CLIENTS, headers=other.admin_headers))


async def test_admin_changes_a_role_and_existing_tokens_carry_it(http: httpx.AsyncClient,
                                                                 org: Tenant) -> None:
    agent = org.agents[0]
    url = f"/api/v2/users/{agent.id}"
    assert_error(await http.get(CLIENTS, headers=agent.headers), 403, "configure")
    before = ok(await http.get(url, headers=org.admin.headers))
    promoted = ok(await http.patch(url, headers=org.admin.headers, json={
        "roles": ["admin"], "version": before["version"]}))
    assert promoted["roles"] == ["admin"] and promoted["version"] == before["version"] + 1
    assert ok(await http.get(url, headers=org.admin.headers))["roles"] == ["admin"]
    # The token the agent already had acts as an admin now (no new sign-in)...
    ok(await http.get(CLIENTS, headers=agent.headers))
    assert ok(await http.get("/api/v2/users/me", headers=agent.headers))["roles"] == ["admin"]
    # ... and as an agent again once demoted (by a script's admin token this time).
    demoted = ok(await http.patch(url, headers=org.admin_headers, json={"roles": ["agent"]}))
    assert demoted["roles"] == ["agent"]
    assert_error(await http.get(CLIENTS, headers=agent.headers), 403, "configure")
    # The same role again changes nothing.
    same = ok(await http.patch(url, headers=org.admin_headers, json={"roles": ["agent"]}))
    assert same["version"] == demoted["version"]


async def test_role_change_refusals(parley: Parley, http: httpx.AsyncClient,
                                    org: Tenant) -> None:
    admin, agent, other_agent = org.admin, org.agents[0], org.agents[1]
    me = f"/api/v2/users/{admin.id}"
    assert_error(await http.patch(me, headers=admin.headers, json={"roles": ["agent"]}),
                 409, "your own role")
    assert_error(await http.patch(me, headers=org.admin_headers, json={"roles": ["supervisor"]}),
                 409, "last admin")
    assert_error(await http.patch(f"/api/v2/users/{other_agent.id}", headers=agent.headers,
                                  json={"roles": ["admin"]}), 403, "configure")
    url = f"/api/v2/users/{agent.id}"
    assert_error(await http.patch(url, headers=admin.headers, json={"roles": ["owner"]}),
                 400, "role 'owner'")
    assert_error(await http.patch(url, headers=admin.headers, json={"name": "New name"}),
                 400, "exactly one role")
    assert_error(await http.patch(url, headers=admin.headers,
                                  json={"roles": ["agent", "admin"]}), 400, "exactly one role")
    assert_error(await http.patch(url, headers=admin.headers,
                                  json={"roles": ["admin"], "version": 99}), 409, "version")
    other = await make_org(parley, http, agents=1)
    assert_error(await http.patch(f"/api/v2/users/{other.agents[0].id}", headers=admin.headers,
                                  json={"roles": ["admin"]}), 404, "not found")
    assert ok(await http.get("/api/v2/users/me", headers=other.agents[0].headers))[
        "roles"] == ["agent"]
    # With a second admin, the first may be demoted (by the second).
    ok(await http.patch(url, headers=admin.headers, json={"roles": ["admin"]}))
    demoted = ok(await http.patch(me, headers=agent.headers, json={"roles": ["supervisor"]}))
    assert demoted["roles"] == ["supervisor"]
    assert_error(await http.patch(url, headers=org.admin_headers, json={"roles": ["agent"]}),
                 409, "last admin")
