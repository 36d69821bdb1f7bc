"""The official Python SDK (`purecloudplatformclientv2`), unmodified, against `parley serve`.

The seed article's three calls run as an agent who logged in through the browser flows
(implicit grant, and authorization code + PKCE with the SDK exchanging the code), the
routing reads and the agentless send as a client-credentials script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from tests.orgs import new_customer
from tests.sdk.conftest import (
    SdkServer,
    get_json,
    implicit_login,
    server_log_on_failure,
    wait_for_phone,
)

pytestmark = pytest.mark.sdk

OUTDATED = "outdated_sdk_version"


def sdk_client(server: SdkServer, token: str | None = None) -> gc.ApiClient:
    client = gc.ApiClient(host=server.base_url)
    client.gateway_configuration = None  # whatever a config file said, talk to this server
    if token is not None:
        client.access_token = token
    return client


def model(cls: type[Any], **attributes: Any) -> Any:
    """Build a request model the SDK's way: construct, then set attributes (setters validate)."""
    instance = cls()
    for name, value in attributes.items():
        assert name in instance.attribute_map, f"{cls.__name__} has no attribute {name}"
        setattr(instance, name, value)
    return instance


def outdated_fields(value: Any, path: str = "") -> list[str]:
    """Where the SDK turned an enum value it does not know into `outdated_sdk_version`."""
    if hasattr(value, "swagger_types"):
        value = value.to_dict()
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in outdated_fields(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in outdated_fields(v, f"{path}[{i}]")]
    return [path or "."] if value == OUTDATED else []


@pytest.fixture(scope="module")
def script(sdk_server: SdkServer) -> gc.ApiClient:
    """A client-credentials login done by the SDK itself (the demo's admin script client)."""
    client = sdk_client(sdk_server)
    returned = client.get_client_credentials_token(*sdk_server.script_client)
    assert returned is client
    assert client.access_token
    return client


def pkce_login(server: SdkServer, email: str, password: str) -> gc.ApiClient:
    """Authorization code + PKCE: the browser part over HTTP, the code exchange by the SDK."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = server.redirect_uri("/pkce")
    query = {"client_id": server.browser_client_id, "redirect_uri": redirect_uri,
             "response_type": "code", "code_challenge": challenge.rstrip(b"=").decode(),
             "code_challenge_method": "S256", "state": "pkce-state"}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        page = http.get("/oauth/authorize?" + urlencode(query))
        assert page.status_code == 200, page.text
        resp = http.post("/oauth/authorize", data={**query, "username": email,
                                                   "password": password})
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == ["pkce-state"]

    client = sdk_client(server)
    returned, token = client.get_pkce_token(server.browser_client_id, verifier,
                                            params["code"][0], redirect_uri)
    assert returned is client
    assert client.access_token == token["access_token"]
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    assert token.get("refresh_token")
    return client


def implicit(server: SdkServer, email: str, password: str) -> gc.ApiClient:
    token = implicit_login(server.base_url, server.browser_client_id, email, password,
                           server.redirect_uri())
    return sdk_client(server, token)


LOGINS: dict[str, Callable[[SdkServer, str, str], gc.ApiClient]] = {
    "implicit": implicit, "pkce": pkce_login}


def test_client_credentials_routing_reads(sdk_server: SdkServer, script: gc.ApiClient) -> None:
    routing = gc.RoutingApi(script)
    queues = routing.get_routing_queues(name="Support", page_size=25, page_number=1)
    assert queues.page_number == 1 and queues.total >= 1
    queue = next(q for q in queues.entities if q.id == sdk_server.queue_id)
    assert queue.name == sdk_server.demo["queue"]["name"]
    sms = queue.outbound_messaging_addresses.sms_address
    assert sms is not None and sms.id == sdk_server.demo["smsNumber"]["id"]
    assert outdated_fields(queues) == []

    numbers = routing.get_routing_sms_phonenumbers(page_size=100)
    number = next(n for n in numbers.entities if n.id == sdk_server.demo["smsNumber"]["id"])
    assert number.phone_number == sdk_server.number
    assert outdated_fields(numbers) == []


@pytest.mark.parametrize("login", sorted(LOGINS))
def test_seed_sample_as_agent(sdk_server: SdkServer, script: gc.ApiClient, login: str) -> None:
    agent = sdk_server.agent(0 if login == "implicit" else 1)
    client = LOGINS[login](sdk_server, agent["email"], agent["password"])
    customer = new_customer()
    text = f"Hello from the Python SDK ({login})"
    conversations = gc.ConversationsApi(client)

    with server_log_on_failure(sdk_server):
        created = conversations.post_conversations_messages(
            model(gc.CreateOutboundMessagingConversationRequest,
                queue_id=sdk_server.queue_id, to_address=customer,
                to_address_messenger_type="sms", use_existing_conversation=True))
        conversation = conversations.get_conversation(created.id)
        agent_party = next(p for p in conversation.participants if p.purpose == "agent")
        communication_id = agent_party.messages[0].id
        sent = conversations.post_conversations_message_communication_messages(
            created.id, communication_id, model(gc.AdditionalMessage, text_body=text))

        assert sent.to_address == customer
        assert sent.from_address == sdk_server.number
        assert sent.direction == "outbound" and sent.messenger_type == "sms"
        assert sent.normalized_message.text == text
        assert sent.normalized_message.type == "Text"
        assert agent_party.user_id == agent["id"]
        assert agent_party.queue_id == sdk_server.queue_id
        assert outdated_fields(conversation) == [] and outdated_fields(sent) == []

        phone = wait_for_phone(sdk_server, client.access_token, customer)
        assert [(m["fromAddress"], m["toAddress"], m["text"], m["status"]) for m in phone] == [
            (sdk_server.number, customer, text, "delivery-success")]

        # The script (admin) sees the same conversation and the delivered message.
        seen = gc.ConversationsApi(script).get_conversation(created.id)
        assert {p.purpose for p in seen.participants} >= {"agent", "customer"}
        stored = conversations.get_conversations_message_message(created.id, sent.id)
        assert stored.status == "delivery-success"


@pytest.mark.parametrize("login", sorted(LOGINS))
def test_me_endpoints_deserialise(sdk_server: SdkServer, login: str) -> None:
    agent = sdk_server.agent(0)
    client = LOGINS[login](sdk_server, agent["email"], agent["password"])
    me = gc.UsersApi(client).get_users_me()
    assert me.id == agent["id"] and me.email == agent["email"]
    assert outdated_fields(me) == []

    token = gc.TokensApi(client).get_tokens_me()
    assert token.organization.id == sdk_server.demo["organization"]["id"]
    assert token.o_auth_client.id == sdk_server.browser_client_id
    assert token.o_auth_client.authorized_grant_type == (
        "TOKEN" if login == "implicit" else "CODE")
    assert outdated_fields(token) == []


def test_token_info_of_client_credentials(sdk_server: SdkServer, script: gc.ApiClient) -> None:
    token = gc.TokensApi(script).get_tokens_me()
    assert token.o_auth_client.id == sdk_server.script_client[0]
    assert token.o_auth_client.authorized_grant_type == "CLIENT-CREDENTIALS"
    assert outdated_fields(token) == []


def test_invalid_to_address_is_a_genesys_error(sdk_server: SdkServer) -> None:
    agent = sdk_server.agent(0)
    client = implicit(sdk_server, agent["email"], agent["password"])
    with pytest.raises(ApiException) as raised:
        gc.ConversationsApi(client).post_conversations_messages(
            model(gc.CreateOutboundMessagingConversationRequest,
                queue_id=sdk_server.queue_id, to_address="not a phone number",
                to_address_messenger_type="sms", use_existing_conversation=True))
    error = raised.value
    assert error.status == 400
    body = json.loads(error.body)
    assert body["status"] == 400
    assert body["code"] and body["contextId"]
    assert "toAddress" in body["message"], body


def test_agentless_send_with_client_credentials(sdk_server: SdkServer,
                                                script: gc.ApiClient) -> None:
    customer = new_customer()
    text = "Your appointment is tomorrow at 10:00 (Python SDK, agentless)"
    with server_log_on_failure(sdk_server):
        sent = gc.ConversationsApi(script).post_conversations_messages_agentless(
            model(gc.SendAgentlessOutboundMessageRequest,
                from_address=sdk_server.number, to_address=customer,
                to_address_messenger_type="sms", text_body=text))
        assert sent.conversation_id and sent.id
        assert sent.from_address == sdk_server.number
        assert sent.to_address == customer
        assert sent.messenger_type == "sms"
        assert outdated_fields(sent) == []

        phone = wait_for_phone(sdk_server, script.access_token, customer)
        assert [(m["fromAddress"], m["text"], m["status"]) for m in phone] == [
            (sdk_server.number, text, "delivery-success")]
        conversation = get_json(sdk_server, script.access_token,
                                f"/api/v2/conversations/{sent.conversation_id}")
        assert not any(p.get("purpose") == "agent" for p in conversation["participants"])
