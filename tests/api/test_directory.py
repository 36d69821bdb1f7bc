"""Tokens, the organisation and users over HTTP: /api/v2/tokens/me, /organizations/me, /users."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.access import Role
from parley.domain.directory import GrantType, TokenRecord
from parley.services import credentials
from tests.api.support import assert_error, ok
from tests.orgs import Tenant, client_token, make_org


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- /api/v2/tokens/me ----------------------------------------------------------------------


async def test_token_info_of_a_client_credentials_token(http: httpx.AsyncClient,
                                                        org: Tenant) -> None:
    info = ok(await http.get("/api/v2/tokens/me", headers=org.admin_headers))
    assert info["organization"]["id"] == org.id
    assert info["homeOrganization"]["id"] == org.id
    assert info["organization"]["name"].startswith("Test org")
    client = info["OAuthClient"]
    assert client["id"] == org.script_client_id
    assert client["name"] == "scripts"
    assert client["authorizedGrantType"] == "CLIENT-CREDENTIALS"
    assert client["state"] == "active"
    assert client["organization"]["id"] == org.id
    assert "userId" not in info


async def test_token_info_of_an_implicit_grant_token(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    agent = org.agents[0]
    info = ok(await http.get("/api/v2/tokens/me", headers=agent.headers))
    assert info["OAuthClient"]["authorizedGrantType"] == "TOKEN"
    assert info["OAuthClient"]["id"] == org.browser_client_id
    assert info["organization"]["id"] == org.id
    assert info["userId"] == agent.id


async def test_head_token_me_verifies_a_token(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.head("/api/v2/tokens/me", headers=org.agents[0].headers)
    assert resp.status_code == 200
    bad = await http.head("/api/v2/tokens/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


async def test_delete_token_me_revokes_the_token(http: httpx.AsyncClient, org: Tenant) -> None:
    token = await client_token(http, org.script_client_id, org.script_client_secret)
    headers = {"Authorization": f"Bearer {token}"}
    ok(await http.get("/api/v2/organizations/me", headers=headers))
    resp = await http.delete("/api/v2/tokens/me", headers=headers)
    assert resp.status_code == 204
    assert resp.content == b""
    assert_error(await http.get("/api/v2/tokens/me", headers=headers), 401, "revoked")
    assert_error(await http.get("/api/v2/organizations/me", headers=headers), 401)
    assert (await http.head("/api/v2/tokens/me", headers=headers)).status_code == 401
    assert_error(await http.delete("/api/v2/tokens/me", headers=headers), 401)
    # Other tokens of the same client are untouched.
    ok(await http.get("/api/v2/tokens/me", headers=org.admin_headers))


async def test_missing_token_is_401(http: httpx.AsyncClient) -> None:
    body = assert_error(await http.get("/api/v2/tokens/me"), 401, "bearer token")
    assert body["code"] == "authentication.required"


async def test_empty_bearer_is_401(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/api/v2/tokens/me", headers={"Authorization": "Bearer "}),
                 401, "bearer token")


async def test_garbage_token_is_401(http: httpx.AsyncClient) -> None:
    resp = await http.get("/api/v2/users/me",
                          headers={"Authorization": f"Bearer {secrets.token_urlsafe(32)}"})
    assert_error(resp, 401, "token is unknown or revoked")


async def test_basic_scheme_is_not_a_bearer_token(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.get("/api/v2/tokens/me",
                          auth=(org.script_client_id, org.script_client_secret))
    assert_error(resp, 401, "bearer token")
    resp = await http.get("/api/v2/tokens/me",
                          headers={"Authorization": f"Basic {org.admin_token}"})
    assert_error(resp, 401, "bearer token")


async def test_expired_token_is_401_saying_it_expired(parley: Parley, http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    token = credentials.new_token()
    now = parley.clock.now_ms()
    async with parley.uow() as uow:
        await uow.tokens.add(TokenRecord(
            id=credentials.digest(token), org_id=org.id, client_id=org.script_client_id,
            user_id=None, role=Role.ADMIN, grant_type=GrantType.CLIENT_CREDENTIALS,
            created_ms=now - 7_200_000, expires_ms=now - 3_600_000,
            # A live refresh token keeps the row safe from the housekeeping purge.
            refresh_hash=credentials.digest(credentials.new_token())))
        await uow.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert_error(await http.get("/api/v2/tokens/me", headers=headers), 401, "expired")
    assert_error(await http.get("/api/v2/routing/queues", headers=headers), 401, "expired")


# -- /api/v2/organizations/me ---------------------------------------------------------------


async def test_organization_me(http: httpx.AsyncClient, org: Tenant) -> None:
    for headers in (org.admin_headers, org.agents[1].headers):
        me = ok(await http.get("/api/v2/organizations/me", headers=headers))
        assert me["id"] == org.id
        assert me["name"].startswith("Test org")
        assert me["state"] == "active"
        assert me["selfUri"] == f"/api/v2/organizations/{org.id}"


# -- /api/v2/users --------------------------------------------------------------------------


async def test_users_me_of_a_logged_in_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    me = ok(await http.get("/api/v2/users/me", headers=agent.headers))
    assert me["id"] == agent.id
    assert me["name"] == "Agent1"
    assert me["email"] == agent.user.email
    assert me["username"] == agent.user.email
    assert me["state"] == "active"
    assert me["version"] == 1
    assert me["organization"]["id"] == org.id
    assert me["selfUri"] == f"/api/v2/users/{agent.id}"


async def test_users_me_without_a_user_is_a_clear_403(http: httpx.AsyncClient,
                                                      org: Tenant) -> None:
    body = assert_error(await http.get("/api/v2/users/me", headers=org.admin_headers), 403,
                        "needs a user", "client-credentials")
    assert body["code"] == "missing.permissions"


async def test_users_listing_has_the_paging_envelope(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    page = ok(await http.get("/api/v2/users", headers=org.admin_headers))
    assert page["total"] == 3
    assert page["pageSize"] == 25
    assert page["pageNumber"] == 1
    assert page["pageCount"] == 1
    assert [u["name"] for u in page["entities"]] == ["Admin", "Agent1", "Agent2"]
    assert {u["id"] for u in page["entities"]} == {org.admin.id, *(a.id for a in org.agents)}

    first = ok(await http.get("/api/v2/users", params={"pageSize": 2},
                              headers=org.admin_headers))
    assert (first["total"], first["pageCount"], first["pageNumber"]) == (3, 2, 1)
    assert [u["name"] for u in first["entities"]] == ["Admin", "Agent1"]
    assert first["nextUri"].endswith("pageSize=2&pageNumber=2")
    second = ok(await http.get("/api/v2/users", params={"pageSize": 2, "pageNumber": 2},
                               headers=org.admin_headers))
    assert [u["name"] for u in second["entities"]] == ["Agent2"]
    assert "nextUri" not in second
    assert second["previousUri"].endswith("pageSize=2&pageNumber=1")

    beyond = ok(await http.get("/api/v2/users", params={"pageNumber": 9},
                               headers=org.admin_headers))
    assert beyond["entities"] == []
    assert beyond["total"] == 3

    desc = ok(await http.get("/api/v2/users", params={"sortOrder": "desc"},
                             headers=org.admin_headers))
    assert [u["name"] for u in desc["entities"]] == ["Agent2", "Agent1", "Admin"]


async def test_agents_may_list_users(http: httpx.AsyncClient, org: Tenant) -> None:
    page = ok(await http.get("/api/v2/users", headers=org.agents[0].headers))
    assert page["total"] == 3


async def test_users_filter_by_comma_joined_ids(http: httpx.AsyncClient, org: Tenant) -> None:
    a1, a2 = org.agents
    page = ok(await http.get(f"/api/v2/users?id={a1.id}%2C{a2.id}", headers=org.admin_headers))
    assert sorted(u["id"] for u in page["entities"]) == sorted([a1.id, a2.id])
    assert page["total"] == 2
    page = ok(await http.get(f"/api/v2/users?id={a1.id},{org.admin.id}",
                             headers=org.admin_headers))
    assert sorted(u["id"] for u in page["entities"]) == sorted([a1.id, org.admin.id])
    page = ok(await http.get(f"/api/v2/users?id={a2.id}&id={org.admin.id}",
                             headers=org.admin_headers))
    assert sorted(u["id"] for u in page["entities"]) == sorted([a2.id, org.admin.id])
    page = ok(await http.get("/api/v2/users", params={"id": "no-such-user"},
                             headers=org.admin_headers))
    assert (page["entities"], page["total"], page["pageCount"]) == ([], 0, 0)


@pytest.mark.parametrize(("query", "field", "says"), [
    ({"pageSize": 0}, "pageSize", "pageSize must be between 1 and 500"),
    ({"pageSize": 501}, "pageSize", "pageSize must be between 1 and 500"),
    ({"pageNumber": 0}, "pageNumber", "pageNumber must be 1 or more"),
    ({"pageSize": "ten"}, "pageSize", "pageSize"),
    ({"pageNumber": "x"}, "pageNumber", "pageNumber"),
    ({"sortOrder": "sideways"}, "sortOrder", "sortOrder 'sideways' must be asc or desc"),
])
async def test_users_listing_rejects_bad_paging(http: httpx.AsyncClient, org: Tenant,
                                                query: dict[str, Any], field: str,
                                                says: str) -> None:
    resp = await http.get("/api/v2/users", params=query, headers=org.admin_headers)
    assert_error(resp, 400, says, field=field)


async def test_users_listing_with_a_huge_page_number_is_not_a_500(
        http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.get("/api/v2/users", params={"pageNumber": 10**19},
                          headers=org.admin_headers)
    assert_error(resp, 400, "pageNumber", field="pageNumber")


async def test_get_user_by_id(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[1]
    user = ok(await http.get(f"/api/v2/users/{agent.id}", headers=org.admin_headers))
    assert (user["id"], user["name"], user["email"]) == (agent.id, "Agent2", agent.user.email)
    assert user["state"] == "active"
    assert "organization" not in user
    # An agent may read itself and colleagues.
    ok(await http.get(f"/api/v2/users/{agent.id}", headers=agent.headers))
    ok(await http.get(f"/api/v2/users/{org.admin.id}", headers=agent.headers))


async def test_unknown_user_is_404(http: httpx.AsyncClient, org: Tenant) -> None:
    body = assert_error(await http.get("/api/v2/users/00000000-0000-0000-0000-000000000000",
                                       headers=org.admin_headers), 404, "not found",
                        "00000000-0000-0000-0000-000000000000")
    assert body["code"] == "not.found"


async def test_user_of_another_org_is_404(http: httpx.AsyncClient, org: Tenant,
                                          other_org: Tenant) -> None:
    assert_error(await http.get(f"/api/v2/users/{other_org.agents[0].id}",
                                headers=org.agents[0].headers), 404, "not found")


async def test_unknown_route_and_wrong_method_are_genesys_errors(http: httpx.AsyncClient,
                                                                 org: Tenant) -> None:
    assert_error(await http.get("/api/v2/no/such/thing", headers=org.admin_headers), 404,
                 "/api/v2/no/such/thing")
    assert_error(await http.delete("/api/v2/organizations/me", headers=org.admin_headers), 405,
                 "DELETE is not allowed")
