"""What the API tests share: the checks every response gets, and the steps many tests take.

Every success body is checked for JSON null (the Python SDK crashes on a null enum, so /api/v2
responses never hold one); every error for a Genesys ErrorBody whose message says what was
wrong. The steps (start a conversation, text in from the simulated phone, go on queue, sign in
with the code grant, register a number) go through the HTTP API, as a client would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import re
import secrets
import uuid
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.leaks import secret
from tests.orgs import AREA_CODES, Person, Tenant, random_customer

MESSAGES = "/api/v2/conversations/messages"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NUMBERS = "/api/v2/routing/sms/phonenumbers"
AVAILABLE = "/api/v2/routing/sms/availablephonenumbers"
ERROR_FIELDS = ("message", "code", "status", "contextId")

# -- what every response is checked for -------------------------------------------------------


def nulls_in(value: Any, path: str = "$") -> list[str]:
    """The JSON paths of every null in `value`, however deeply nested."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nulls_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls_in(v, f"{path}[{i}]")]
    return []


def assert_no_nulls(value: Any) -> None:
    """Fail if `value` (decoded JSON) holds a null anywhere, naming where."""
    assert nulls_in(value) == [], f"nulls at {nulls_in(value)}"


def ok(resp: httpx.Response, status: int = 200) -> Any:
    """Assert a success status and a null-free JSON body; return the body."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    body = resp.json()
    assert_no_nulls(body)
    return body


def assert_error(resp: httpx.Response, status: int, *says: str,
                 field: str | None = None) -> dict[str, Any]:
    """A Genesys ErrorBody with `status`, whose message contains every phrase in `says` (and
    which names `field` in its details, if given)."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert isinstance(body, dict), body
    for name in ERROR_FIELDS:
        assert body.get(name), f"error body lacks {name}: {body}"
    assert body["status"] == status, body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    assert isinstance(body["code"], str), body
    assert isinstance(body["messageParams"], dict), body
    uuid.UUID(body["contextId"])
    assert_no_nulls(body)
    for phrase in says:
        assert phrase.lower() in body["message"].lower(), \
            f"message {body['message']!r} does not say {phrase!r}"
    if field is not None:
        assert field in [d.get("fieldName") for d in body.get("details", [])], body
    return body


def assert_nul_refused_or(resp: httpx.Response, database_url: str, status: int,
                          *fragments: str) -> None:
    """NUL (U+0000): PostgreSQL cannot store it, so a clear 400 there, never a 500; SQLite
    holds it, so there the request gets its ordinary answer (`status`, `fragments`)."""
    if database_url.startswith("postgresql"):
        assert_error(resp, 400, "cannot be stored", "NUL")
    elif status >= 400:
        assert_error(resp, status, *fragments)
    else:
        assert resp.status_code == status, resp.text


# -- message conversations: starting, reading, sending ----------------------------------------


def customer_for(org: Tenant, *avoid: str) -> str:
    """A customer number that is neither the org's own number nor one of `avoid`."""
    while True:
        number = random_customer()
        if number != org.number and number not in avoid:
            return number


async def start(http: httpx.AsyncClient, org: Tenant, headers: dict[str, str],
                customer: str, **extra: Any) -> str:
    """POST /api/v2/conversations/messages; return the conversation id."""
    body = {"queueId": org.queue_id, "toAddress": customer, "toAddressMessengerType": "sms",
            **extra}
    created = ok(await http.post(MESSAGES, headers=headers, json=body))
    return str(created["id"])


async def conversation(http: httpx.AsyncClient, headers: dict[str, str],
                       conv_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await http.get(f"/api/v2/conversations/{conv_id}",
                                             headers=headers))
    return body


def party(conv: dict[str, Any], purpose: str, user_id: str | None = None) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in conv["participants"] if p["purpose"] == purpose
             and (user_id is None or p.get("userId") == user_id)]
    assert len(found) == 1, (purpose, user_id, conv["participants"])
    return found[0]


async def started(http: httpx.AsyncClient, org: Tenant, agent_index: int = 0,
                  customer: str | None = None) -> tuple[str, str, str, str]:
    """Start a conversation as agent `agent_index`: (conversation, participant, comm, customer)."""
    agent = org.agents[agent_index]
    customer = customer or customer_for(org)
    conv_id = await start(http, org, agent.headers, customer)
    me = party(await conversation(http, agent.headers, conv_id), "agent", agent.id)
    return conv_id, me["id"], me["messages"][0]["id"], customer


def send_path(conv_id: str, communication_id: str) -> str:
    return f"{MESSAGES}/{conv_id}/communications/{communication_id}/messages"


async def disconnect(http: httpx.AsyncClient, headers: dict[str, str], conv_id: str,
                     participant_id: str, **extra: Any) -> httpx.Response:
    return await http.patch(f"{MESSAGES}/{conv_id}/participants/{participant_id}",
                            headers=headers, json={"state": "disconnected", **extra})


async def poll_status(http: httpx.AsyncClient, headers: dict[str, str], conv_id: str,
                      message_id: str, want: str) -> dict[str, Any]:
    """Poll GET .../messages/{messageId} until its status is `want` (bounded)."""
    data: dict[str, Any] = {}
    for _ in range(300):
        data = ok(await http.get(f"{MESSAGES}/{conv_id}/messages/{message_id}",
                                 headers=headers))
        if data["status"] == want:
            return data
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {message_id} never reached {want}: {data}")


async def phone_messages(http: httpx.AsyncClient, headers: dict[str, str], phone: str,
                         count: int, status: str = "delivery-success") -> list[dict[str, Any]]:
    """Poll the simulator's handset until it shows `count` messages, the last with `status`."""
    entities: list[dict[str, Any]] = []
    for _ in range(300):
        entities = ok(await http.get("/sim/v1/messages", params={"phone": phone},
                                     headers=headers))["entities"]
        if len(entities) >= count and entities[-1]["status"] == status:
            return entities
        await asyncio.sleep(0.02)
    raise AssertionError(f"phone {phone} never showed {count} message(s) {status}: {entities}")


# -- inbound: the phone texts in, agents go on queue and accept -------------------------------


async def text_in(http: httpx.AsyncClient, org: Tenant, customer: str, text: str) -> str:
    """The customer's phone texts the organisation's number; the carrier message id."""
    body = ok(await http.post("/sim/v1/messages", headers=org.admin_headers,
                              json={"from": customer, "to": org.number, "text": text}))
    assert isinstance(body["id"], str) and body["id"]
    return str(body["id"])


async def conversation_with(http: httpx.AsyncClient, org: Tenant,
                            customer: str) -> dict[str, Any]:
    """The organisation's active conversation with `customer` (GET conversations/messages)."""
    body = ok(await http.get(MESSAGES, headers=org.admin_headers))
    found: list[dict[str, Any]] = [c for c in body["entities"]
                                   if any(p["purpose"] == "customer"
                                          and p.get("address") == customer
                                          for p in c["participants"])]
    assert len(found) == 1, f"{len(found)} active conversations with {customer}"
    return found[0]


def parties(conv: dict[str, Any], purpose: str, state: str | None = None
            ) -> list[dict[str, Any]]:
    """Participants of a conversation (either shape) by purpose and communication state."""
    def state_of(p: dict[str, Any]) -> str:
        return str(p.get("state") or p["messages"][0]["state"])
    return [p for p in conv["participants"]
            if p["purpose"] == purpose and (state is None or state_of(p) == state)]


def user_of(p: dict[str, Any]) -> str:
    return str(p.get("userId") or p["user"]["id"])


async def on_queue(http: httpx.AsyncClient, person: Person) -> None:
    body = ok(await http.patch(f"/api/v2/users/{person.id}/presences/purecloud",
                               headers=person.headers,
                               json={"presenceDefinition": {"systemPresence": "OnQueue"}}))
    assert body["presenceDefinition"]["systemPresence"] == "OnQueue"


async def patch_party(http: httpx.AsyncClient, person: Person, cid: str, pid: str,
                      body: dict[str, Any]) -> httpx.Response:
    return await http.patch(f"{MESSAGES}/{cid}/participants/{pid}", headers=person.headers,
                            json=body)


async def accept(http: httpx.AsyncClient, org: Tenant, person: Person,
                 cid: str) -> dict[str, Any]:
    """Accept the person's alerting offer on `cid`; their participant (as GET shows it)."""
    conv = await conversation(http, org.admin_headers, cid)
    [mine] = [p for p in parties(conv, "agent", "alerting") if user_of(p) == person.id]
    resp = await patch_party(http, person, cid, mine["id"], {"state": "connected"})
    assert resp.status_code == 202, resp.text
    return mine


# -- signing in with the authorization code grant (and PKCE) ----------------------------------


REDIRECT = "http://127.0.0.1:5555/callback"


class FormParser(HTMLParser):
    """The login page's <form>: its action and every named <input> with its value."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, str] = {}
        self.input_types: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("name"):
            self.inputs[values["name"]] = values.get("value", "")
            self.input_types[values["name"]] = values.get("type", "text")


def parse_form(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def assert_token(resp: httpx.Response, *, refresh: bool) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["cache-control"] == "no-store"
    body: dict[str, Any] = resp.json()
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert ("refresh_token" in body) is refresh
    secret(body["access_token"], "an access token from /oauth/token")
    secret(body.get("refresh_token"), "a refresh token from /oauth/token")
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def code_login(http: httpx.AsyncClient, client_id: str, email: str, password: str, *,
                     redirect_uri: str = REDIRECT, challenge: str | None = None,
                     state: str = "st-42") -> str:
    """The browser half of the code grant: load the login page, submit it, return the code."""
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
             "state": state}
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await http.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    form = parse_form(page.text)
    resp = await http.post(form.action or "", data={
        **form.inputs, "username": email, "password": password})
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query_back = parse_qs(location.query)
    assert query_back["state"] == [state]
    return query_back["code"][0]


# -- SMS numbers ------------------------------------------------------------------------------


async def free_number(http: httpx.AsyncClient, org: Tenant) -> str:
    """A US number the simulator offers and nobody has registered yet."""
    for _ in range(20):
        found = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
            "countryCode": "US", "phoneNumberType": "local",
            "areaCode": random.choice(AREA_CODES)}))
        if found["entities"]:
            return str(random.choice(found["entities"])["phoneNumber"])
    raise AssertionError("the simulator offers no free numbers")


async def provision(http: httpx.AsyncClient, org: Tenant, **fields: Any) -> dict[str, Any]:
    """Register a free number (retrying if another test takes it first)."""
    for _ in range(10):
        body = {"phoneNumber": await free_number(http, org), "phoneNumberType": "local",
                "countryCode": "US", **fields}
        resp = await http.post(NUMBERS, json=body, headers=org.admin_headers)
        if resp.status_code != 409:
            result: dict[str, Any] = ok(resp)
            return result
    raise AssertionError("could not register a free number")
