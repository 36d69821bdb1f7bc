"""The Twilio-compatible HTTP carrier, through the real server stack against a local fake
of the provider's REST API (tests/carriers/fake_twilio.py).

Webhooks are signed with the twilio package's own signing code, so what is checked is what
the provider sends.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import phonenumbers
import pytest
from twilio.request_validator import RequestValidator

from parley.bootstrap import Parley
from parley.carriers.twilio import TwilioCarrier
from parley.domain.carriers import CarrierConnection, CarrierKind, LinkState, check_settings
from parley.domain.messages import Direction, Message, MessageStatus
from parley.domain.numbers import PhoneNumberType
from parley.services.ports import CarrierError, OutboundSms, SystemClock
from tests.api.support import assert_error, ok
from tests.carriers.fake_twilio import FakeTwilio
from tests.leaks import secret
from tests.orgs import AREA_CODES, Tenant, random_customer
from tests.services.probes import wait_for_status

CARRIERS = "/api/v2/parley/carriers"
NUMBERS = "/api/v2/routing/sms/phonenumbers"
AVAILABLE = "/api/v2/routing/sms/availablephonenumbers"
WEBHOOK_BASE = "http://parley.test"
"""The public URL the connections are told about: the test client's own base URL."""
NO_LIMITS = {"local": 0, "mobile": 0, "tollfree": 0, "shortcode": 0}
POLLS = 250
POLL_S = 0.02


def fresh_number(area: str | None = None) -> str:
    """A valid US number no other test is likely to have registered."""
    while True:
        e164 = (f"+1{area or random.choice(AREA_CODES)}{random.randrange(200, 1000)}"
                f"{random.randrange(10_000):04d}")
        if phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            return e164


def hook(connection_id: str, kind: str) -> str:
    return f"{CARRIERS}/{connection_id}/webhooks/twilio/{kind}"


def signed(token: str, path: str, params: dict[str, str], *,
           base: str = WEBHOOK_BASE) -> dict[str, str]:
    signature = RequestValidator(token).compute_signature(base + path, params)
    return {"X-Twilio-Signature": signature}


@dataclass
class Line:
    """An http connection on the fake provider, with one registered number."""

    id: str
    number: str
    fake: FakeTwilio

    @property
    def token(self) -> str:
        return self.fake.auth_token


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    provider = FakeTwilio(account_sid="AC" + uuid.uuid4().hex,
                          auth_token=secrets.token_hex(16))
    secret(provider.auth_token, "a Twilio account's auth token")
    await provider.start()
    try:
        yield provider
    finally:
        await provider.stop()


async def create_connection(http: httpx.AsyncClient, org: Tenant, fake: FakeTwilio, *,
                            token: str | None = None, base_url: str | None = None,
                            numbers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    conn: dict[str, Any] = ok(await http.post(CARRIERS, headers=org.admin_headers, json={
        "name": f"Twilio {secrets.token_hex(3)}", "kind": "http",
        "settings": {"baseUrl": base_url or fake.url, "accountSid": fake.account_sid,
                     "webhookBaseUrl": WEBHOOK_BASE, "numberRates": NO_LIMITS},
        "secrets": {"authToken": token or fake.auth_token},
        "numbers": numbers or []}))
    return conn


async def disable(http: httpx.AsyncClient, org: Tenant, connection_id: str) -> None:
    ok(await http.patch(f"{CARRIERS}/{connection_id}", headers=org.admin_headers,
                        json={"enabled": False}))


async def wait_for_state(http: httpx.AsyncClient, org: Tenant, connection_id: str,
                         status: str) -> dict[str, Any]:
    for _ in range(POLLS):
        state: dict[str, Any] = ok(await http.get(f"{CARRIERS}/{connection_id}",
                                                  headers=org.admin_headers))["state"]
        if state["status"] == status:
            break
        await asyncio.sleep(POLL_S)
    return state


@pytest.fixture
async def line(http: httpx.AsyncClient, org: Tenant, fake: FakeTwilio
               ) -> AsyncIterator[Line]:
    number = fresh_number()
    fake.add_number(number)
    conn = await create_connection(http, org, fake)
    try:
        assert (await wait_for_state(http, org, conn["id"], "bound"))["status"] == "bound"
        ok(await http.post(NUMBERS, headers=org.admin_headers, json={
            "phoneNumber": number, "phoneNumberType": "local", "countryCode": "US",
            "integration": {"id": conn["id"]}}))
        yield Line(conn["id"], number, fake)
    finally:
        await disable(http, org, conn["id"])


async def send(parley: Parley, org: Tenant, line: Line, text: str = "Your order shipped",
               to: str | None = None) -> Message:
    return await parley.conversations.send_agentless(
        org.principal(), from_address=line.number, to_address=to or random_customer(),
        messenger_type="sms", text=text)


async def messages_of(parley: Parley, org: Tenant, customer: str) -> list[Message]:
    async with parley.uow(read_only=True) as uow:
        return await uow.messages.for_phone(org.id, customer, 10)


# -- the link -------------------------------------------------------------------------------


async def test_bound_once_the_provider_takes_the_credentials(
        http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    state = ok(await http.get(f"{CARRIERS}/{line.id}", headers=org.admin_headers))["state"]
    assert state["status"] == "bound"
    assert state["reason"].startswith("ready")
    assert hook(line.id, "messages") in state["reason"]
    checks = [r for r in line.fake.requests
              if r.path == f"/2010-04-01/Accounts/{line.fake.account_sid}.json"]
    assert checks and checks[0].method == "GET"
    expected = base64.b64encode(f"{line.fake.account_sid}:{line.token}".encode()).decode()
    assert checks[0].authorization == f"Basic {expected}"


async def test_refused_credentials_fail_the_link_with_the_reason(
        http: httpx.AsyncClient, org: Tenant, fake: FakeTwilio) -> None:
    conn = await create_connection(http, org, fake, token="not-the-token")
    try:
        state = await wait_for_state(http, org, conn["id"], "failed")
        assert state["status"] == "failed"
        assert "refused the credentials (HTTP 401)" in state["reason"]
        ok(await http.patch(f"{CARRIERS}/{conn['id']}", headers=org.admin_headers,
                            json={"secrets": {"authToken": fake.auth_token}}))
        assert (await wait_for_state(http, org, conn["id"], "bound"))["status"] == "bound"
    finally:
        await disable(http, org, conn["id"])


async def test_an_unreachable_provider_fails_the_link(
        http: httpx.AsyncClient, org: Tenant, fake: FakeTwilio) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    conn = await create_connection(http, org, fake, base_url=closed)
    try:
        state = await wait_for_state(http, org, conn["id"], "failed")
        assert state["status"] == "failed"
        assert f"cannot reach {closed}" in state["reason"]
    finally:
        await disable(http, org, conn["id"])


# -- sending --------------------------------------------------------------------------------


async def test_a_text_goes_to_the_provider_and_gets_its_sid(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    customer = random_customer()
    message = await send(parley, org, line, "Your order shipped", to=customer)
    found = await wait_for_status(parley, message, MessageStatus.SENT)
    assert found.status is MessageStatus.SENT
    [post] = line.fake.messages
    assert post.form == {
        "From": line.number, "To": customer, "Body": "Your order shipped",
        "StatusCallback": f"{WEBHOOK_BASE}{hook(line.id, 'status')}"}
    expected = base64.b64encode(f"{line.fake.account_sid}:{line.token}".encode()).decode()
    assert post.authorization == f"Basic {expected}"
    assert found.provider_message_id == line.fake.sids[0]


async def test_a_delivered_callback_moves_the_text_to_delivery_success(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    message = await wait_for_status(parley, await send(parley, org, line), MessageStatus.SENT)
    path = hook(line.id, "status")
    for status in ("sent", "delivered"):
        params = {"MessageSid": str(message.provider_message_id), "MessageStatus": status,
                  "SmsSid": str(message.provider_message_id), "SmsStatus": status,
                  "AccountSid": line.fake.account_sid, "To": message.to_address,
                  "From": line.number, "ApiVersion": "2010-04-01"}
        resp = await http.post(path, data=params, headers=signed(line.token, path, params))
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/xml")
        assert resp.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    found = await wait_for_status(parley, message, MessageStatus.DELIVERY_SUCCESS)
    assert found.status is MessageStatus.DELIVERY_SUCCESS


async def test_an_undelivered_callback_fails_delivery_with_the_code(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    message = await wait_for_status(parley, await send(parley, org, line), MessageStatus.SENT)
    path = hook(line.id, "status")
    params = {"MessageSid": str(message.provider_message_id), "MessageStatus": "undelivered",
              "ErrorCode": "30003", "AccountSid": line.fake.account_sid}
    ok_resp = await http.post(path, data=params, headers=signed(line.token, path, params))
    assert ok_resp.status_code == 200, ok_resp.text
    found = await wait_for_status(parley, message, MessageStatus.DELIVERY_FAILED)
    assert found.status is MessageStatus.DELIVERY_FAILED
    assert found.error_code == "twilio.30003"
    assert found.error_message is not None
    assert "undelivered" in found.error_message and "30003" in found.error_message


@pytest.mark.parametrize(("code", "says"), [
    (21211, "The 'To' number is not a valid phone number."),
    (21610, "Attempt to send to unsubscribed recipient"),
    (21606, "The From phone number is not a valid, SMS-capable inbound phone number"),
])
async def test_a_permanent_provider_error_fails_the_text_with_its_code(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line, code: int,
        says: str) -> None:
    line.fake.fail_next(400, code, says)
    message = await send(parley, org, line)
    found = await wait_for_status(parley, message, MessageStatus.FAILED)
    assert found.status is MessageStatus.FAILED
    assert found.error_code == f"twilio.{code}"
    assert found.error_message is not None and says in found.error_message
    assert len(line.fake.messages) == 1, "a permanent error is not retried"


@pytest.mark.parametrize(("status", "code"), [(500, None), (429, 20429), (503, 20503)])
async def test_throttling_and_provider_errors_are_retried(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line, status: int,
        code: int | None) -> None:
    line.fake.fail_next(status, code, "Too Many Requests" if code else "")
    message = await send(parley, org, line)
    found = await wait_for_status(parley, message, MessageStatus.SENT)
    assert found.status is MessageStatus.SENT
    assert len(line.fake.messages) == 2
    assert found.provider_message_id == line.fake.sids[-1]


# -- webhooks -------------------------------------------------------------------------------


def inbound_params(line: Line, customer: str, text: str = "Where is my order?",
                   sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": line.fake.account_sid,
            "From": customer, "To": line.number, "Body": text, "NumMedia": "0",
            "NumSegments": "1", "ApiVersion": "2010-04-01"}


async def test_a_signed_inbound_text_is_stored_once(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    customer = random_customer()
    path = hook(line.id, "messages")
    params = inbound_params(line, customer, "Where is my order? 🚚")
    for _ in range(2):  # the provider retries the same MessageSid
        resp = await http.post(path, data=params, headers=signed(line.token, path, params))
        assert resp.status_code == 200, resp.text
        assert resp.text.endswith("<Response></Response>")
    inbound = [m for m in await messages_of(parley, org, customer)
               if m.direction is Direction.INBOUND]
    assert len(inbound) == 1
    assert inbound[0].text == "Where is my order? 🚚"
    assert inbound[0].to_address == line.number
    assert inbound[0].carrier == line.id
    assert inbound[0].inbound_key == f"{line.id}:{params['MessageSid']}"


async def test_a_webhook_behind_a_proxy_is_checked_against_the_public_url(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    """The provider signed the public URL (with its query string), not what the server
    sees."""
    customer = random_customer()
    path = hook(line.id, "messages") + "?tenant=a%20b"
    params = inbound_params(line, customer)
    resp = await http.post(path, data=params, headers={
        **signed(line.token, path, params), "Host": "internal:8080",
        "X-Forwarded-For": "203.0.113.9"})
    assert resp.status_code == 200, resp.text
    assert len(await messages_of(parley, org, customer)) == 1


@pytest.mark.parametrize("fault", ["unsigned", "tampered", "wrong token", "wrong url",
                                   "wrong kind"])
async def test_a_webhook_without_a_good_signature_is_refused(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line, fault: str,
        caplog: pytest.LogCaptureFixture) -> None:
    customer = random_customer()
    path = hook(line.id, "messages")
    params = inbound_params(line, customer)
    headers = signed(line.token, path, params)
    if fault == "unsigned":
        headers = {}
    elif fault == "tampered":
        params = {**params, "Body": "Send me a refund"}
    elif fault == "wrong token":
        headers = signed(secrets.token_hex(16), path, params)
    elif fault == "wrong url":
        headers = signed(line.token, path, params, base="https://attacker.example")
    else:
        headers = signed(line.token, hook(line.id, "status"), params)
    with caplog.at_level(logging.WARNING, logger="parley.carriers.twilio"):
        resp = await http.post(path, data=params,
                               headers={**headers, "X-Forwarded-For": "198.51.100.7"})
    assert_error(resp, 403, "X-Twilio-Signature", "auth token")
    assert await messages_of(parley, org, customer) == []
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("refused" in w and "198.51.100.7" in w for w in warned), warned


async def test_a_wrongly_signed_status_callback_changes_nothing(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    message = await wait_for_status(parley, await send(parley, org, line), MessageStatus.SENT)
    path = hook(line.id, "status")
    params = {"MessageSid": str(message.provider_message_id), "MessageStatus": "undelivered",
              "ErrorCode": "30003"}
    resp = await http.post(path, data=params,
                           headers=signed(secrets.token_hex(16), path, params))
    assert_error(resp, 403, "X-Twilio-Signature")
    await asyncio.sleep(0.1)
    found = await wait_for_status(parley, message, MessageStatus.SENT)
    assert found.status is MessageStatus.SENT


async def test_a_signed_webhook_without_its_parameters_is_a_bad_request(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    path = hook(line.id, "messages")
    params = {"From": random_customer(), "To": line.number, "Body": "hi"}
    resp = await http.post(path, data=params, headers=signed(line.token, path, params))
    assert_error(resp, 400, "MessageSid")
    status_path = hook(line.id, "status")
    params = {"MessageSid": "SM" + uuid.uuid4().hex}
    resp = await http.post(status_path, data=params,
                           headers=signed(line.token, status_path, params))
    assert_error(resp, 400, "MessageStatus")


async def test_a_signed_text_too_long_to_accept_is_a_bad_request(
        parley: Parley, http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    """InboundService refuses it as InvalidInput: the provider gets the 400 error body, and
    nothing is stored."""
    customer = random_customer()
    path = hook(line.id, "messages")
    params = inbound_params(line, customer, "x" * 10_001)
    resp = await http.post(path, data=params, headers=signed(line.token, path, params))
    body = assert_error(resp, 400, "at most 10000 are accepted")
    assert body["code"] == "bad.request"
    assert await messages_of(parley, org, customer) == []


async def test_a_webhook_to_an_unknown_connection_is_not_found(
        http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    params = inbound_params(line, random_customer())
    for connection_id in (str(uuid.uuid4()), "sim"):
        path = hook(connection_id, "messages")
        resp = await http.post(path, data=params, headers=signed(line.token, path, params))
        assert_error(resp, 404, connection_id)
    path = hook(line.id, "calls")
    resp = await http.post(path, data=params, headers=signed(line.token, path, params))
    assert_error(resp, 404, "calls")


# -- numbers --------------------------------------------------------------------------------


async def test_available_numbers_are_the_accounts_own(
        http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    area = random.choice(AREA_CODES)
    owned = sorted({fresh_number(area) for _ in range(5)})
    for n in owned:
        line.fake.add_number(n)
    no_sms = fresh_number(area)
    line.fake.add_number(no_sms, sms=False)
    tollfree = "+18335550" + f"{random.randrange(100, 200)}"
    line.fake.add_number(tollfree, "tollfree")
    params = {"countryCode": "US", "phoneNumberType": "local", "integrationId": line.id}
    found = ok(await http.get(AVAILABLE, headers=org.admin_headers, params=params))
    offered = {a["phoneNumber"] for a in found["entities"]}
    assert set(owned) <= offered, "every page of the account's list is read"
    assert no_sms not in offered and tollfree not in offered
    assert line.number not in offered, "registered already"
    assert all(a["integration"]["id"] == line.id for a in found["entities"])
    in_area = ok(await http.get(AVAILABLE, headers=org.admin_headers,
                                params={**params, "areaCode": area}))
    assert {a["phoneNumber"] for a in in_area["entities"]} == set(owned)
    last4 = owned[0][-4:]
    pattern = ok(await http.get(AVAILABLE, headers=org.admin_headers,
                                params={**params, "pattern": f"*{last4}"}))
    matched = {a["phoneNumber"] for a in pattern["entities"]}
    assert owned[0] in matched
    assert all(last4 in n for n in matched)


async def test_registering_a_number_the_account_does_not_own_is_refused(
        http: httpx.AsyncClient, org: Tenant, line: Line) -> None:
    stranger = fresh_number()
    resp = await http.post(NUMBERS, headers=org.admin_headers, json={
        "phoneNumber": stranger, "phoneNumberType": "local", "countryCode": "US",
        "integration": {"id": line.id}})
    assert_error(resp, 400, "does not own", stranger)


async def test_a_number_in_the_connections_inventory_may_be_registered(
        http: httpx.AsyncClient, org: Tenant, fake: FakeTwilio) -> None:
    listed = fresh_number()
    conn = await create_connection(http, org, fake, numbers=[
        {"phoneNumber": listed, "phoneNumberType": "local"}])
    try:
        await wait_for_state(http, org, conn["id"], "bound")
        found = ok(await http.get(AVAILABLE, headers=org.admin_headers, params={
            "countryCode": "US", "phoneNumberType": "local", "integrationId": conn["id"]}))
        assert listed in {a["phoneNumber"] for a in found["entities"]}
        ok(await http.post(NUMBERS, headers=org.admin_headers, json={
            "phoneNumber": listed, "phoneNumberType": "local", "countryCode": "US",
            "integration": {"id": conn["id"]}}))
    finally:
        await disable(http, org, conn["id"])


# -- the adapter on its own -----------------------------------------------------------------


def adapter(fake: FakeTwilio, **settings: Any) -> TwilioCarrier:
    checked = check_settings(CarrierKind.HTTP, {"baseUrl": fake.url,
                                                "accountSid": fake.account_sid})
    checked.update(settings)
    conn = CarrierConnection(id=str(uuid.uuid4()), org_id="org", name="Twilio",
                             kind=CarrierKind.HTTP, settings=checked,
                             secrets={"authToken": fake.auth_token})
    return TwilioCarrier(conn, SystemClock(), public_url="https://parley.example.com")


async def _ignore(_: object) -> None:
    return None


def outbound(text: str = "hello") -> OutboundSms:
    return OutboundSms(message_id=str(uuid.uuid4()), org_id="org", from_address="+12025550123",
                       to_address=random_customer(), text=text, segment_count=1,
                       created_ms=0, carrier="c")


async def test_a_slow_provider_times_out_and_is_retryable(fake: FakeTwilio) -> None:
    carrier = adapter(fake, timeoutSeconds=0.2)
    await carrier.start(_ignore, _ignore)
    try:
        for _ in range(POLLS):
            if carrier.status().state is LinkState.BOUND:
                break
            await asyncio.sleep(POLL_S)
        assert carrier.status().state is LinkState.BOUND
        fake.slow_next(0.4)
        with pytest.raises(CarrierError) as refused:
            await carrier.submit(outbound())
        assert refused.value.permanent is False
        assert "did not answer within 0.2 s" in refused.value.reason
        assert carrier.status().state is LinkState.FAILED
        assert carrier.status().reason == refused.value.reason
        assert await carrier.submit(outbound()) == [fake.sids[-1]]
        assert carrier.status().state is LinkState.BOUND
    finally:
        await carrier.stop()
    assert carrier.status().state is LinkState.STOPPED


async def test_a_messaging_service_sends_instead_of_from(fake: FakeTwilio) -> None:
    carrier = adapter(fake, messagingServiceSid="MG" + "0" * 32)
    await carrier.start(_ignore, _ignore)
    try:
        await carrier.submit(outbound("via the service"))
    finally:
        await carrier.stop()
    [post] = fake.messages
    assert post.form["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in post.form
    assert post.form["StatusCallback"] == (
        f"https://parley.example.com{hook(carrier.name, 'status')}"), \
        "no webhookBaseUrl: the server's public URL"


async def test_numbers_are_typed_by_the_plan_without_typed_lists(fake: FakeTwilio) -> None:
    fake.typed_lists = False
    local, tollfree = fresh_number(), "+18885550" + f"{random.randrange(100, 200)}"
    fake.add_number(local)
    fake.add_number(tollfree, "tollfree")
    carrier = adapter(fake)
    await carrier.start(_ignore, _ignore)
    try:
        found = await carrier.available_numbers(
            country_code="US", number_type=PhoneNumberType.TOLLFREE, area_code=None,
            pattern=None, limit=10)
        await carrier.check_number(local)
    finally:
        await carrier.stop()
    assert [a.phone_number for a in found] == [tollfree]
