"""POST /api/v2/analytics/queues/observations/query: the supervisor view's live figures."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.support import accept, assert_error, conversation_with, ok, on_queue, text_in
from tests.orgs import Tenant, new_customer

QUERY = "/api/v2/analytics/queues/observations/query"
METRICS = ["oWaiting", "oAlerting", "oInteracting", "oLongestWaiting", "oMemberUsers",
           "oActiveUsers", "oOnQueueUsers", "oOffQueueUsers", "oUserRoutingStatuses",
           "oServiceLevel"]


def body_for(queue_id: str, metrics: list[str] | None = None) -> dict[str, Any]:
    return {"filter": {"type": "or", "predicates": [
        {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": queue_id}]},
        "metrics": metrics or METRICS}


async def figures(http: httpx.AsyncClient, org: Tenant) -> dict[str, Any]:
    body = ok(await http.post(QUERY, headers=org.admin_headers, json=body_for(org.queue_id)))
    [result] = body["results"]
    assert result["group"] == {"queueId": org.queue_id, "mediaType": "message"}
    out: dict[str, Any] = {}
    for d in result["data"]:
        if d["metric"] == "oUserRoutingStatuses":
            out.setdefault("statuses", {})[d["qualifier"]] = d["stats"]["count"]
        else:
            out[d["metric"]] = d
    return out


async def test_counts_follow_a_conversation_through_the_queue(http: httpx.AsyncClient,
                                                              org: Tenant) -> None:
    quiet = await figures(http, org)
    assert quiet["oWaiting"]["stats"] == {"count": 0}
    assert quiet["oMemberUsers"]["stats"] == {"count": 2}
    assert quiet["oLongestWaiting"]["stats"] == {"count": 0}
    assert quiet["oServiceLevel"]["stats"]["denominator"] == 0

    customer = new_customer()
    await text_in(http, org, customer, "Nobody is on queue yet")
    waiting = await figures(http, org)
    assert waiting["oWaiting"]["stats"]["count"] == 1
    assert waiting["oLongestWaiting"]["stats"]["count"] == 1
    assert waiting["oLongestWaiting"]["observations"][0]["observationDate"].endswith("Z")
    assert waiting["statuses"]["OFF_QUEUE"] == 2

    ada = org.agents[0]
    await on_queue(http, ada)
    alerting = await figures(http, org)
    assert alerting["oWaiting"]["stats"]["count"] == 0
    assert alerting["oAlerting"]["stats"]["count"] == 1
    assert alerting["oOnQueueUsers"]["stats"]["count"] == 1
    assert alerting["oOffQueueUsers"]["stats"]["count"] == 1

    conv = await conversation_with(http, org, customer)
    await accept(http, org, ada, conv["id"])
    talking = await figures(http, org)
    assert talking["oInteracting"]["stats"]["count"] == 1
    assert talking["statuses"]["INTERACTING"] == 1
    # Answered well within the queue's service level (80 % in 20 s by default).
    assert talking["oServiceLevel"]["stats"] == {"numerator": 1, "denominator": 1,
                                                 "ratio": 1.0, "target": 0.8}


async def test_agents_may_not_watch_queues(http: httpx.AsyncClient, org: Tenant) -> None:
    resp = await http.post(QUERY, headers=org.agents[0].headers, json=body_for(org.queue_id))
    assert_error(resp, 403, "view-all-conversations")


async def test_bad_queries_are_genesys_errors(http: httpx.AsyncClient, org: Tenant) -> None:
    h = org.admin_headers
    assert_error(await http.post(QUERY, headers=h, json={"metrics": ["oWaiting"]}), 400,
                 "filter is required")
    assert_error(await http.post(QUERY, headers=h, json={"filter": {"type": "xor"},
                                                         "metrics": ["oWaiting"]}),
                 400, "filter.type")
    assert_error(await http.post(QUERY, headers=h, json={"filter": {"type": "or"},
                                                         "metrics": ["oWaiting"]}),
                 400, "names no queue")
    assert_error(await http.post(QUERY, headers=h, json=body_for(org.queue_id, ["oBogus"])),
                 400, "metric 'oBogus' is not supported")
    assert_error(await http.post(QUERY, headers=h, json={**body_for(org.queue_id),
                                                         "metrics": []}), 400, "metrics")
    other = "00000000-0000-4000-8000-000000000000"
    assert_error(await http.post(QUERY, headers=h, json=body_for(other)), 400,
                 f"queue {other} not found")
    bad_dimension = {"filter": {"type": "or", "predicates": [
        {"dimension": "userId", "value": org.admin.id}]}, "metrics": ["oWaiting"]}
    assert_error(await http.post(QUERY, headers=h, json=bad_dimension), 400, "userId")
    email = {"filter": {"type": "and", "predicates": [
        {"dimension": "queueId", "value": org.queue_id},
        {"dimension": "mediaType", "value": "email"}]}, "metrics": ["oWaiting"]}
    assert_error(await http.post(QUERY, headers=h, json=email), 400, "mediaType 'email'")
    assert_error(await http.post(QUERY, headers={**h, "content-type": "application/json"},
                                 content=b"not json"), 400)
