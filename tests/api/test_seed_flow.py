"""The seed article's three calls over HTTP, plus the simulator's view of the customer's phone."""

from __future__ import annotations

import asyncio

import httpx

from tests.orgs import Tenant, random_customer


async def test_agent_starts_conversation_and_text_reaches_the_phone(
        http: httpx.AsyncClient, org: Tenant) -> None:
    agent = org.agents[0]
    customer = random_customer()
    created = await http.post("/api/v2/conversations/messages", headers=agent.headers, json={
        "queueId": org.queue_id, "toAddress": customer, "toAddressMessengerType": "sms",
        "useExistingConversation": True})
    assert created.status_code == 200, created.text
    conv_id = created.json()["id"]

    conv = (await http.get(f"/api/v2/conversations/{conv_id}", headers=agent.headers)).json()
    agent_party = next(p for p in conv["participants"] if p["purpose"] == "agent")
    assert agent_party["userId"] == agent.id
    assert agent_party["queueId"] == org.queue_id
    communication_id = agent_party["messages"][0]["id"]

    sent = await http.post(
        f"/api/v2/conversations/messages/{conv_id}/communications/{communication_id}/messages",
        headers=agent.headers, json={"textBody": "Hello from the seed sample"})
    assert sent.status_code == 200, sent.text
    data = sent.json()
    assert data["toAddress"] == customer
    assert data["fromAddress"] == org.number
    assert data["normalizedMessage"]["text"] == "Hello from the seed sample"

    for _ in range(100):
        phone = (await http.get("/sim/v1/messages", params={"phone": customer},
                                headers=agent.headers)).json()["entities"]
        if phone and phone[-1]["status"] == "delivery-success":
            break
        await asyncio.sleep(0.02)
    assert [(m["fromAddress"], m["text"]) for m in phone] == [
        (org.number, "Hello from the seed sample")]
    assert phone[-1]["status"] == "delivery-success"

    stored = (await http.get(f"/api/v2/conversations/messages/{conv_id}/messages/{data['id']}",
                             headers=agent.headers)).json()
    assert stored["status"] == "delivery-success"
    assert stored["providerMessageId"] == phone[-1]["id"]
