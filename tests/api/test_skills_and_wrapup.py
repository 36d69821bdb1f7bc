"""Routing skills, agents' skills and wrap-up codes (the organisation's and each queue's).

All of it is configuration: admins change it, agents may read it, and nothing of one
organisation is visible to, or usable by, another.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from tests.api.support import assert_error, assert_nul_refused_or, ok
from tests.orgs import Tenant, make_org

SKILLS = "/api/v2/routing/skills"
CODES = "/api/v2/routing/wrapupcodes"
MISSING = "00000000-0000-0000-0000-000000000000"


def user_skills_url(user_id: str) -> str:
    return f"/api/v2/users/{user_id}/routingskills"


def queue_codes_url(queue_id: str) -> str:
    return f"/api/v2/routing/queues/{queue_id}/wrapupcodes"


async def new_skill(http: httpx.AsyncClient, org: Tenant, name: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.post(SKILLS, headers=org.admin_headers,
                                              json={"name": name}))
    return body


async def new_code(http: httpx.AsyncClient, org: Tenant, name: str,
                   **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.post(CODES, headers=org.admin_headers,
                                              json={"name": name, **extra}))
    return body


async def skills_of(http: httpx.AsyncClient, org: Tenant, user_id: str) -> dict[str, float]:
    listing = ok(await http.get(user_skills_url(user_id), headers=org.admin_headers))
    assert listing["total"] == len(listing["entities"])
    return {s["id"]: s["proficiency"] for s in listing["entities"]}


def paged(listing: dict[str, Any]) -> list[dict[str, Any]]:
    for name in ("entities", "pageSize", "pageNumber", "total", "pageCount"):
        assert name in listing, f"listing lacks {name}: {listing}"
    entities: list[dict[str, Any]] = listing["entities"]
    return entities


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


# -- skills -----------------------------------------------------------------------------------


async def test_create_get_list_and_delete_a_skill(http: httpx.AsyncClient,
                                                  org: Tenant) -> None:
    h = org.admin_headers
    skill = await new_skill(http, org, "Spanish")
    assert skill["name"] == "Spanish"
    assert skill["state"] == "active"
    assert skill["version"] == "1"
    assert skill["selfUri"] == f"{SKILLS}/{skill['id']}"
    assert skill["dateModified"].endswith("Z")
    assert ok(await http.get(skill["selfUri"], headers=h)) == skill
    assert ok(await http.get(skill["selfUri"], headers=org.agents[0].headers)) == skill

    await new_skill(http, org, "French")
    await new_skill(http, org, "Billing")
    listing = ok(await http.get(SKILLS, headers=org.agents[1].headers))
    assert [s["name"] for s in paged(listing)] == ["Billing", "French", "Spanish"]
    assert (listing["total"], listing["pageNumber"], listing["pageCount"]) == (3, 1, 1)

    page = ok(await http.get(SKILLS, headers=h, params={"pageSize": 2, "pageNumber": 2}))
    assert [s["name"] for s in paged(page)] == ["Spanish"]
    assert (page["total"], page["pageCount"]) == (3, 2)

    resp = await http.delete(skill["selfUri"], headers=h)
    assert resp.status_code == 204, resp.text
    assert_error(await http.get(skill["selfUri"], headers=h), 404, "not found")
    assert_error(await http.delete(skill["selfUri"], headers=h), 404, "not found")
    assert [s["name"] for s in paged(ok(await http.get(SKILLS, headers=h)))] == \
        ["Billing", "French"]


async def test_skill_listing_filters(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    spanish = await new_skill(http, org, "Spanish")
    sales = await new_skill(http, org, "Sales")
    await new_skill(http, org, "French")

    def names(resp: httpx.Response) -> list[str]:
        return [s["name"] for s in paged(ok(resp))]

    assert names(await http.get(SKILLS, headers=h, params={"name": "Spanish"})) == ["Spanish"]
    assert names(await http.get(SKILLS, headers=h, params={"name": "spanish"})) == ["Spanish"]
    assert names(await http.get(SKILLS, headers=h, params={"name": "S*"})) == \
        ["Sales", "Spanish"]
    assert names(await http.get(SKILLS, headers=h, params={"name": "German"})) == []
    assert names(await http.get(SKILLS, headers=h,
                                params={"id": f"{spanish['id']},{sales['id']}"})) == \
        ["Sales", "Spanish"]
    assert names(await http.get(SKILLS, headers=h,
                                params=[("id", spanish["id"]), ("id", sales["id"])])) == \
        ["Sales", "Spanish"]
    assert names(await http.get(SKILLS, headers=h, params={"id": MISSING})) == []


@pytest.mark.parametrize("name", ["Spanish", "spanish", " SPANISH "])
async def test_duplicate_skill_names_conflict(http: httpx.AsyncClient, org: Tenant,
                                              name: str) -> None:
    await new_skill(http, org, "Spanish")
    assert_error(await http.post(SKILLS, headers=org.admin_headers, json={"name": name}), 409,
                 "already exists", field="name")
    listing = ok(await http.get(SKILLS, headers=org.admin_headers))
    assert [s["name"] for s in paged(listing)] == ["Spanish"]


@pytest.mark.parametrize(("body", "says"), [
    ({}, "required"), ({"name": ""}, "required"), ({"name": "   "}, "required"),
    ({"name": None}, "required"), ({"name": "x" * 201}, "longer than 200"),
    ({"name": 7}, "name"), ({"name": ["a"]}, "name")])
async def test_bad_skill_bodies_are_400(http: httpx.AsyncClient, org: Tenant,
                                        body: dict[str, Any], says: str) -> None:
    assert_error(await http.post(SKILLS, headers=org.admin_headers, json=body), 400, says)
    assert paged(ok(await http.get(SKILLS, headers=org.admin_headers))) == []


async def test_unstorable_names_are_400_not_500(http: httpx.AsyncClient, org: Tenant,
                                                database_url: str) -> None:
    h = org.admin_headers
    assert_nul_refused_or(await http.post(SKILLS, headers=h, json={"name": "a\u0000b"}),
                          database_url, 200)
    assert_nul_refused_or(await http.post(CODES, headers=h, json={"name": "c\u0000d"}),
                          database_url, 200)
    code = await new_code(http, org, "Resolved")
    assert_nul_refused_or(await http.put(code["selfUri"], headers=h, json={
        "name": "Resolved", "description": "e\u0000f"}), database_url, 200)
    h = {**h, "Content-Type": "application/json"}
    assert_error(await http.post(SKILLS, headers=h, content=b'{"name": "\\udc00"}'), 400,
                 "cannot be stored")
    assert_error(await http.post(CODES, headers=h, content=b'{"name": "\\udc00"}'), 400,
                 "cannot be stored")


@pytest.mark.parametrize("params", [{"pageSize": 0}, {"pageNumber": 0}, {"pageSize": "x"},
                                    {"pageSize": 100_000}])
async def test_bad_paging_is_400(http: httpx.AsyncClient, org: Tenant,
                                 params: dict[str, Any]) -> None:
    for url in (SKILLS, CODES):
        assert_error(await http.get(url, headers=org.admin_headers, params=params), 400)


async def test_agents_may_read_but_not_change_skills(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    skill = await new_skill(http, org, "Spanish")
    h = org.agents[0].headers
    assert_error(await http.post(SKILLS, headers=h, json={"name": "French"}), 403,
                 "permission")
    assert_error(await http.delete(skill["selfUri"], headers=h), 403, "permission")
    ok(await http.get(skill["selfUri"], headers=h))
    assert_error(await http.get(SKILLS), 401)
    assert_error(await http.post(SKILLS, json={"name": "French"}), 401)
    # An admin's user token may change them.
    ok(await http.post(SKILLS, headers=org.admin.headers, json={"name": "French"}))


async def test_another_orgs_skill_is_404(http: httpx.AsyncClient, org: Tenant,
                                         other_org: Tenant) -> None:
    theirs = await new_skill(http, other_org, "Spanish")
    url = theirs["selfUri"]
    for headers in (org.admin_headers, org.agents[0].headers):
        assert_error(await http.get(url, headers=headers), 404, "not found")
    assert_error(await http.delete(url, headers=org.admin_headers), 404, "not found")
    assert paged(ok(await http.get(SKILLS, headers=org.admin_headers,
                                   params={"id": theirs["id"]}))) == []
    # Names are per organisation.
    await new_skill(http, org, "Spanish")
    ok(await http.get(url, headers=other_org.admin_headers))


# -- agents' skills ---------------------------------------------------------------------------


async def test_add_a_skill_to_an_agent(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    skill = await new_skill(http, org, "Spanish")
    us = ok(await http.post(user_skills_url(agent.id), headers=org.admin_headers,
                            json={"id": skill["id"], "proficiency": 3}))
    assert us["id"] == skill["id"]
    assert us["name"] == "Spanish"
    assert us["proficiency"] == 3.0
    assert us["state"] == "active"
    assert us["skillUri"] == skill["selfUri"]
    assert us["selfUri"] == f"{user_skills_url(agent.id)}/{skill['id']}"
    listing = ok(await http.get(user_skills_url(agent.id), headers=agent.headers))
    assert paged(listing) == [us]
    assert await skills_of(http, org, org.agents[1].id) == {}
    # Adding it again updates the proficiency.
    ok(await http.post(user_skills_url(agent.id), headers=org.admin_headers,
                       json={"id": skill["id"], "proficiency": 4.5}))
    assert await skills_of(http, org, agent.id) == {skill["id"]: 4.5}


@pytest.mark.parametrize("proficiency", [0, 0.5, 5, 5.0])
async def test_proficiency_bounds_are_inclusive(http: httpx.AsyncClient, org: Tenant,
                                                proficiency: float) -> None:
    skill = await new_skill(http, org, "Spanish")
    us = ok(await http.post(user_skills_url(org.agents[0].id), headers=org.admin_headers,
                            json={"id": skill["id"], "proficiency": proficiency}))
    assert us["proficiency"] == float(proficiency)


@pytest.mark.parametrize(("proficiency", "says"), [
    (6, "between 0 and 5"), (5.01, "between 0 and 5"), (-1, "between 0 and 5"),
    ("x", "proficiency"), (None, "proficiency"), ([], "proficiency")])
async def test_bad_proficiencies_are_400(http: httpx.AsyncClient, org: Tenant,
                                         proficiency: object, says: str) -> None:
    agent = org.agents[0]
    skill = await new_skill(http, org, "Spanish")
    h = org.admin_headers
    body = {"id": skill["id"], "proficiency": proficiency}
    assert_error(await http.post(user_skills_url(agent.id), headers=h, json=body), 400, says)
    assert_error(await http.put(f"{user_skills_url(agent.id)}/{skill['id']}", headers=h,
                                json=body), 400, says)
    assert_error(await http.patch(f"{user_skills_url(agent.id)}/bulk", headers=h,
                                  json=[body]), 400, says)
    assert_error(await http.put(f"{user_skills_url(agent.id)}/bulk", headers=h,
                                json=[body]), 400, says)
    assert await skills_of(http, org, agent.id) == {}


async def test_proficiency_is_required(http: httpx.AsyncClient, org: Tenant) -> None:
    skill = await new_skill(http, org, "Spanish")
    assert_error(await http.post(user_skills_url(org.agents[0].id), headers=org.admin_headers,
                                 json={"id": skill["id"]}), 400, "proficiency",
                 field="proficiency")


async def test_unknown_skills_cannot_be_given(http: httpx.AsyncClient, org: Tenant,
                                              other_org: Tenant) -> None:
    agent = org.agents[0]
    mine = await new_skill(http, org, "Spanish")
    theirs = await new_skill(http, other_org, "French")
    h = org.admin_headers
    for skill_id in (MISSING, theirs["id"]):
        body = {"id": skill_id, "proficiency": 2}
        assert_error(await http.post(user_skills_url(agent.id), headers=h, json=body), 400,
                     skill_id, "not found", field="id")
        assert_error(await http.patch(f"{user_skills_url(agent.id)}/bulk", headers=h,
                                      json=[{"id": mine["id"], "proficiency": 1}, body]), 400,
                     "not found")
        assert_error(await http.put(f"{user_skills_url(agent.id)}/{skill_id}", headers=h,
                                    json={"proficiency": 2}), 400, "not found")
    assert_error(await http.post(user_skills_url(agent.id), headers=h,
                                 json={"proficiency": 2}), 400, "id")
    # Nothing was half-applied.
    assert await skills_of(http, org, agent.id) == {}


async def test_bulk_put_replaces_and_bulk_patch_adds(http: httpx.AsyncClient,
                                                     org: Tenant) -> None:
    agent = org.agents[1]
    h = org.admin_headers
    a, b, c = [await new_skill(http, org, n) for n in ("Alpha", "Bravo", "Charlie")]
    bulk = f"{user_skills_url(agent.id)}/bulk"

    listing = ok(await http.put(bulk, headers=h, json=[
        {"id": a["id"], "proficiency": 1}, {"id": b["id"], "proficiency": 2}]))
    assert [(s["name"], s["proficiency"]) for s in paged(listing)] == \
        [("Alpha", 1.0), ("Bravo", 2.0)]

    listing = ok(await http.patch(bulk, headers=h, json=[
        {"id": c["id"], "proficiency": 3}, {"id": a["id"], "proficiency": 5}]))
    assert [(s["name"], s["proficiency"]) for s in paged(listing)] == \
        [("Alpha", 5.0), ("Bravo", 2.0), ("Charlie", 3.0)]

    listing = ok(await http.put(bulk, headers=h, json=[{"id": b["id"], "proficiency": 4}]))
    assert [(s["name"], s["proficiency"]) for s in paged(listing)] == [("Bravo", 4.0)]
    assert await skills_of(http, org, agent.id) == {b["id"]: 4.0}

    listing = ok(await http.put(bulk, headers=h, json=[]))
    assert paged(listing) == []
    assert await skills_of(http, org, agent.id) == {}
    assert_error(await http.put(bulk, headers=h, json={"id": a["id"], "proficiency": 1}), 400)


async def test_put_and_delete_one_user_skill(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    h = org.admin_headers
    skill = await new_skill(http, org, "Spanish")
    url = f"{user_skills_url(agent.id)}/{skill['id']}"
    us = ok(await http.put(url, headers=h, json={"id": skill["id"], "proficiency": 2}))
    assert (us["id"], us["name"], us["proficiency"]) == (skill["id"], "Spanish", 2.0)
    us = ok(await http.put(url, headers=h, json={"proficiency": 4}))
    assert us["proficiency"] == 4.0
    assert await skills_of(http, org, agent.id) == {skill["id"]: 4.0}

    resp = await http.delete(url, headers=h)
    assert resp.status_code == 204, resp.text
    assert await skills_of(http, org, agent.id) == {}
    assert_error(await http.delete(url, headers=h), 404, "does not have skill")


async def test_a_deleted_skill_leaves_its_agents(http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    keep, drop = await new_skill(http, org, "Keep"), await new_skill(http, org, "Drop")
    ok(await http.put(f"{user_skills_url(agent.id)}/bulk", headers=org.admin_headers, json=[
        {"id": keep["id"], "proficiency": 1}, {"id": drop["id"], "proficiency": 1}]))
    resp = await http.delete(drop["selfUri"], headers=org.admin_headers)
    assert resp.status_code == 204, resp.text
    assert await skills_of(http, org, agent.id) == {keep["id"]: 1.0}


async def test_agents_may_read_but_not_change_their_skills(http: httpx.AsyncClient,
                                                           org: Tenant) -> None:
    agent = org.agents[0]
    skill = await new_skill(http, org, "Spanish")
    ok(await http.post(user_skills_url(agent.id), headers=org.admin.headers,
                       json={"id": skill["id"], "proficiency": 2}))
    h = agent.headers
    body = {"id": skill["id"], "proficiency": 5}
    assert_error(await http.post(user_skills_url(agent.id), headers=h, json=body), 403,
                 "permission")
    assert_error(await http.put(f"{user_skills_url(agent.id)}/{skill['id']}", headers=h,
                                json=body), 403)
    assert_error(await http.delete(f"{user_skills_url(agent.id)}/{skill['id']}", headers=h),
                 403)
    assert_error(await http.patch(f"{user_skills_url(agent.id)}/bulk", headers=h,
                                  json=[body]), 403)
    assert_error(await http.put(f"{user_skills_url(agent.id)}/bulk", headers=h, json=[]), 403)
    assert [s["proficiency"] for s in paged(ok(await http.get(user_skills_url(agent.id),
                                                              headers=h)))] == [2.0]
    assert_error(await http.get(user_skills_url(agent.id)), 401)


async def test_another_orgs_user_skills_are_404(http: httpx.AsyncClient, org: Tenant,
                                                other_org: Tenant) -> None:
    theirs = other_org.agents[0]
    their_skill = await new_skill(http, other_org, "Spanish")
    ok(await http.post(user_skills_url(theirs.id), headers=other_org.admin_headers,
                       json={"id": their_skill["id"], "proficiency": 3}))
    mine = await new_skill(http, org, "Spanish")
    h = org.admin_headers
    body = {"id": mine["id"], "proficiency": 1}
    url = user_skills_url(theirs.id)
    assert_error(await http.get(url, headers=h), 404, "not found")
    assert_error(await http.post(url, headers=h, json=body), 404, "not found")
    assert_error(await http.patch(f"{url}/bulk", headers=h, json=[body]), 404)
    assert_error(await http.put(f"{url}/bulk", headers=h, json=[]), 404)
    assert_error(await http.put(f"{url}/{mine['id']}", headers=h, json=body), 404)
    assert_error(await http.delete(f"{url}/{their_skill['id']}", headers=h), 404)
    assert_error(await http.get(user_skills_url(MISSING), headers=h), 404)
    assert await skills_of(http, other_org, theirs.id) == {their_skill["id"]: 3.0}


# -- wrap-up codes ----------------------------------------------------------------------------


async def test_wrapup_code_crud(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin.headers
    code = ok(await http.post(CODES, headers=h,
                              json={"name": "Resolved", "description": "all good"}))
    assert code["name"] == "Resolved"
    assert code["description"] == "all good"
    assert code["selfUri"] == f"{CODES}/{code['id']}"
    assert code["createdBy"] == code["modifiedBy"] == org.admin.id
    assert code["dateCreated"].endswith("Z") and code["dateModified"].endswith("Z")
    assert ok(await http.get(code["selfUri"], headers=org.agents[0].headers)) == code

    renamed = ok(await http.put(code["selfUri"], headers=org.admin_headers,
                                json={"name": "Solved"}))
    assert (renamed["id"], renamed["name"]) == (code["id"], "Solved")
    assert "description" not in renamed
    assert renamed["dateCreated"] == code["dateCreated"]
    assert renamed["dateModified"] >= code["dateModified"]
    assert ok(await http.get(code["selfUri"], headers=h)) == renamed
    # Renaming to its own name (any case) is fine.
    ok(await http.put(code["selfUri"], headers=h, json={"name": "SOLVED"}))

    resp = await http.delete(code["selfUri"], headers=h)
    assert resp.status_code == 204, resp.text
    assert_error(await http.get(code["selfUri"], headers=h), 404, "not found")
    assert_error(await http.put(code["selfUri"], headers=h, json={"name": "Back"}), 404)
    assert_error(await http.delete(code["selfUri"], headers=h), 404, "not found")


async def test_wrapup_code_listing(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    codes = {n: await new_code(http, org, n) for n in ("Sale", "Resolved", "Refund")}
    listing = ok(await http.get(CODES, headers=org.agents[0].headers))
    assert [c["name"] for c in paged(listing)] == ["Refund", "Resolved", "Sale"]
    assert listing["total"] == 3
    named = ok(await http.get(CODES, headers=h, params={"name": "re*"}))
    assert [c["name"] for c in paged(named)] == ["Refund", "Resolved"]
    by_id = ok(await http.get(CODES, headers=h, params={"id": codes["Sale"]["id"]}))
    assert [c["name"] for c in paged(by_id)] == ["Sale"]
    page = ok(await http.get(CODES, headers=h, params={"pageSize": 1, "pageNumber": 3}))
    assert [c["name"] for c in paged(page)] == ["Sale"]
    assert page["pageCount"] == 3


async def test_wrapup_code_names_are_unique(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    await new_code(http, org, "Resolved")
    other = await new_code(http, org, "Escalated")
    assert_error(await http.post(CODES, headers=h, json={"name": "resolved"}), 409,
                 "already exists", field="name")
    assert_error(await http.put(other["selfUri"], headers=h, json={"name": "Resolved"}), 409,
                 "already exists")
    assert ok(await http.get(other["selfUri"], headers=h))["name"] == "Escalated"
    assert paged(ok(await http.get(CODES, headers=h)))[1]["name"] == "Resolved"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "  "}, {"name": None},
                                  {"name": "x" * 201}, {"name": 3}, {"description": "d"}])
async def test_bad_wrapup_code_bodies_are_400(http: httpx.AsyncClient, org: Tenant,
                                              body: dict[str, Any]) -> None:
    h = org.admin_headers
    assert_error(await http.post(CODES, headers=h, json=body), 400, "name")
    code = await new_code(http, org, "Resolved")
    assert_error(await http.put(code["selfUri"], headers=h, json=body), 400, "name")
    assert ok(await http.get(code["selfUri"], headers=h))["name"] == "Resolved"


async def test_agents_may_not_change_wrapup_codes(http: httpx.AsyncClient,
                                                  org: Tenant) -> None:
    code = await new_code(http, org, "Resolved")
    h = org.agents[0].headers
    assert_error(await http.post(CODES, headers=h, json={"name": "Mine"}), 403, "permission")
    assert_error(await http.put(code["selfUri"], headers=h, json={"name": "Mine"}), 403)
    assert_error(await http.delete(code["selfUri"], headers=h), 403)
    assert [c["name"] for c in paged(ok(await http.get(CODES, headers=h)))] == ["Resolved"]
    assert_error(await http.get(CODES), 401)


async def test_another_orgs_wrapup_code_is_404(http: httpx.AsyncClient, org: Tenant,
                                               other_org: Tenant) -> None:
    theirs = await new_code(http, other_org, "Resolved")
    h = org.admin_headers
    assert_error(await http.get(theirs["selfUri"], headers=h), 404, "not found")
    assert_error(await http.get(theirs["selfUri"], headers=org.agents[0].headers), 404)
    assert_error(await http.put(theirs["selfUri"], headers=h, json={"name": "Mine"}), 404)
    assert_error(await http.delete(theirs["selfUri"], headers=h), 404)
    assert paged(ok(await http.get(CODES, headers=h))) == []
    await new_code(http, org, "Resolved")  # names are per organisation
    assert ok(await http.get(theirs["selfUri"], headers=other_org.admin_headers)) == theirs


# -- queue wrap-up codes ----------------------------------------------------------------------


async def test_queue_wrapup_codes(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    url = queue_codes_url(org.queue_id)
    assert paged(ok(await http.get(url, headers=h))) == []
    resolved, sale = await new_code(http, org, "Resolved"), await new_code(http, org, "Sale")
    await new_code(http, org, "Unused")

    added = ok(await http.post(url, headers=h, json=[{"id": sale["id"]},
                                                     {"id": resolved["id"]}]))
    assert isinstance(added, list)
    assert {c["id"] for c in added} == {sale["id"], resolved["id"]}
    assert all(c["selfUri"] == f"{CODES}/{c['id']}" for c in added)
    listing = ok(await http.get(url, headers=org.agents[0].headers))
    assert [c["name"] for c in paged(listing)] == ["Resolved", "Sale"]
    assert listing["total"] == 2

    # Adding one again does not duplicate it.
    assert [c["id"] for c in ok(await http.post(url, headers=h,
                                                json=[{"id": sale["id"]}]))] == [sale["id"]]
    assert len(paged(ok(await http.get(url, headers=h)))) == 2

    resp = await http.delete(f"{url}/{sale['id']}", headers=h)
    assert resp.status_code == 204, resp.text
    assert [c["name"] for c in paged(ok(await http.get(url, headers=h)))] == ["Resolved"]
    assert_error(await http.delete(f"{url}/{sale['id']}", headers=h), 404, "not on queue")
    # The code itself still exists.
    ok(await http.get(sale["selfUri"], headers=h))
    # Deleting a code takes it off every queue.
    resp = await http.delete(resolved["selfUri"], headers=h)
    assert resp.status_code == 204, resp.text
    assert paged(ok(await http.get(url, headers=h))) == []


async def test_bad_queue_wrapup_code_requests(http: httpx.AsyncClient, org: Tenant,
                                              other_org: Tenant) -> None:
    h = org.admin_headers
    url = queue_codes_url(org.queue_id)
    mine = await new_code(http, org, "Resolved")
    theirs = await new_code(http, other_org, "Resolved")
    for code_id in (MISSING, theirs["id"]):
        assert_error(await http.post(url, headers=h, json=[{"id": mine["id"]},
                                                           {"id": code_id}]), 400,
                     code_id, "not found", field="id")
    assert_error(await http.post(url, headers=h, json=[]), 400, "at least one")
    assert_error(await http.post(url, headers=h, json={"id": mine["id"]}), 400)
    assert_error(await http.post(url, headers=h, json=[{}]), 400, "id")
    assert_error(await http.post(url, headers=h, json=[{"id": MISSING}] * 101), 400, "100")
    assert paged(ok(await http.get(url, headers=h))) == []  # nothing half-added
    assert_error(await http.delete(f"{url}/{MISSING}", headers=h), 404)

    for queue_id in (MISSING, other_org.queue_id):
        other = queue_codes_url(queue_id)
        assert_error(await http.get(other, headers=h), 404, "not found")
        assert_error(await http.post(other, headers=h, json=[{"id": mine["id"]}]), 404,
                     "not found")
        assert_error(await http.delete(f"{other}/{mine['id']}", headers=h), 404)
    assert paged(ok(await http.get(queue_codes_url(other_org.queue_id),
                                   headers=other_org.admin_headers))) == []


async def test_another_orgs_queue_keeps_its_codes(http: httpx.AsyncClient, org: Tenant,
                                                  other_org: Tenant) -> None:
    theirs = await new_code(http, other_org, "Resolved")
    their_url = queue_codes_url(other_org.queue_id)
    ok(await http.post(their_url, headers=other_org.admin_headers, json=[{"id": theirs["id"]}]))
    assert_error(await http.delete(f"{their_url}/{theirs['id']}", headers=org.admin_headers),
                 404)
    assert [c["id"] for c in paged(ok(await http.get(
        their_url, headers=other_org.admin_headers)))] == [theirs["id"]]


async def test_agents_may_not_change_queue_wrapup_codes(http: httpx.AsyncClient,
                                                        org: Tenant) -> None:
    code = await new_code(http, org, "Resolved")
    url = queue_codes_url(org.queue_id)
    h = org.agents[0].headers
    assert_error(await http.post(url, headers=h, json=[{"id": code["id"]}]), 403, "permission")
    ok(await http.post(url, headers=org.admin.headers, json=[{"id": code["id"]}]))
    assert_error(await http.delete(f"{url}/{code['id']}", headers=h), 403)
    assert [c["id"] for c in paged(ok(await http.get(url, headers=h)))] == [code["id"]]
