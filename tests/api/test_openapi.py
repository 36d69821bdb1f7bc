"""The OpenAPI document, the docs page, and the Genesys bodies of unknown routes and methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.support import MESSAGES, assert_error
from tests.orgs import Tenant

SEND = MESSAGES + "/{conversationId}/communications/{communicationId}/messages"
ENDPOINTS = [
    ("post", MESSAGES),
    ("get", MESSAGES),
    ("post", MESSAGES + "/agentless"),
    ("post", SEND),
    ("get", MESSAGES + "/{conversationId}"),
    ("get", MESSAGES + "/{conversationId}/messages/{messageId}"),
    ("patch", MESSAGES + "/{conversationId}/participants/{participantId}"),
    ("get", "/api/v2/conversations/{conversationId}"),
    ("patch", "/api/v2/conversations/{conversationId}/participants/{participantId}"),
]
HOT_SCHEMAS = {
    "AdditionalMessage": {"textBody", "mediaIds", "messagingTemplate"},
    "MessageData": {"id", "timestamp", "fromAddress", "toAddress", "direction",
                    "messengerType", "status", "normalizedMessage", "conversationId",
                    "selfUri", "providerMessageId", "createdBy"},
    "SendAgentlessOutboundMessageRequest": {"fromAddress", "toAddress",
                                            "toAddressMessengerType", "textBody",
                                            "useExistingActiveConversation"},
    "SendAgentlessOutboundMessageResponse": {"id", "conversationId", "fromAddress",
                                             "toAddress", "messengerType", "timestamp",
                                             "message", "selfUri", "user",
                                             "useExistingActiveConversation"},
}


@pytest.fixture
async def doc(http: httpx.AsyncClient) -> dict[str, Any]:
    resp = await http.get("/api/v2/docs/openapi.json")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from refs(v)


def schema_of(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    schema: dict[str, Any] = doc["components"]["schemas"][ref.removeprefix(prefix)]
    return schema


def json_schema(part: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = part["content"]["application/json"]["schema"]
    return schema


async def test_document_is_openapi_3(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Parley"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_conversation_endpoints_are_documented(doc: dict[str, Any], method: str,
                                                     path: str) -> None:
    assert path in doc["paths"], sorted(doc["paths"])
    assert method in doc["paths"][path], doc["paths"][path]
    operation = doc["paths"][path][method]
    assert operation.get("summary")
    assert "Conversations" in operation["tags"]


@pytest.mark.parametrize(("name", "properties"), sorted(HOT_SCHEMAS.items()))
async def test_hot_schemas_are_components_with_their_properties(
        doc: dict[str, Any], name: str, properties: set[str]) -> None:
    schema = doc["components"]["schemas"][name]
    assert schema["type"] == "object"
    assert properties <= set(schema["properties"]), sorted(schema["properties"])


async def test_hot_schemas_declare_types_and_required_fields(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    data = schemas["MessageData"]
    assert {"id", "timestamp", "status", "conversationId", "messengerType"} <= set(
        data["required"])
    assert data["properties"]["normalizedMessage"]["$ref"] == \
        "#/components/schemas/NormalizedMessage"
    assert {"text", "type", "direction"} <= set(schemas["NormalizedMessage"]["required"])
    response = schemas["SendAgentlessOutboundMessageResponse"]
    assert response["properties"]["message"]["$ref"] == "#/components/schemas/MessageData"
    assert "string" in str(schemas["AdditionalMessage"]["properties"]["textBody"])
    assert "boolean" in str(
        schemas["SendAgentlessOutboundMessageRequest"]["properties"]
        ["useExistingActiveConversation"])


@pytest.mark.parametrize(("path", "method", "request_schema", "response_schema"), [
    (SEND, "post", "AdditionalMessage", "MessageData"),
    (MESSAGES + "/agentless", "post", "SendAgentlessOutboundMessageRequest",
     "SendAgentlessOutboundMessageResponse"),
    (MESSAGES + "/{conversationId}/messages/{messageId}", "get", None, "MessageData"),
])
async def test_hot_endpoints_reference_their_schemas(
        doc: dict[str, Any], path: str, method: str, request_schema: str | None,
        response_schema: str) -> None:
    operation = doc["paths"][path][method]
    if request_schema is not None:
        assert operation["requestBody"]["required"] is True
        assert json_schema(operation["requestBody"])["$ref"] == \
            f"#/components/schemas/{request_schema}"
    assert json_schema(operation["responses"]["200"])["$ref"] == \
        f"#/components/schemas/{response_schema}"


async def test_create_conversation_documents_its_models(doc: dict[str, Any]) -> None:
    operation = doc["paths"][MESSAGES]["post"]
    request = schema_of(doc, json_schema(operation["requestBody"])["$ref"])
    assert {"queueId", "toAddress", "toAddressMessengerType", "useExistingConversation"} <= set(
        request["properties"])
    response = schema_of(doc, json_schema(operation["responses"]["200"])["$ref"])
    assert set(response["properties"]) == {"id", "selfUri"}
    conversation = schema_of(doc, json_schema(
        doc["paths"]["/api/v2/conversations/{conversationId}"]["get"]["responses"]["200"])
        ["$ref"])
    assert {"id", "startTime", "participants", "selfUri"} <= set(conversation["properties"])


async def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    missing = {r for r in refs(doc) if r.removeprefix("#/components/schemas/") not in schemas}
    assert missing == set()


async def test_shared_entity_ref_keeps_its_name(doc: dict[str, Any]) -> None:
    """The hot structs' EntityRef must not replace the richer one other models point at."""
    participant = doc["components"]["schemas"]["MessageMediaParticipant"]
    user_ref = next(r for r in refs(participant["properties"]["user"]))
    assert {"id", "name", "selfUri"} <= set(schema_of(doc, user_ref)["properties"])


async def test_docs_page_is_html(http: httpx.AsyncClient) -> None:
    resp = await http.get("/docs")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "/api/v2/docs/openapi.json" in resp.text


@pytest.mark.parametrize("path", [
    "/api/v2/nothing-here", "/api/v2/conversations/messages/a/b/c/d/e/f",
    "/api/v3/conversations/messages"])
async def test_unknown_path_is_a_genesys_404(http: httpx.AsyncClient, org: Tenant,
                                             path: str) -> None:
    resp = await http.get(path, headers=org.agents[0].headers)
    body = assert_error(resp, 404, "no such resource", path)
    assert body["code"] == "not.found"


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", MESSAGES),
    ("PUT", MESSAGES + "/agentless"),
    ("DELETE", "/api/v2/docs/openapi.json"),
])
async def test_wrong_method_is_a_genesys_405(http: httpx.AsyncClient, org: Tenant,
                                             method: str, path: str) -> None:
    resp = await http.request(method, path, headers=org.agents[0].headers)
    body = assert_error(resp, 405, f"{method} is not allowed on {path}")
    assert body["code"] == "method.not.allowed"
    assert "allow" in {k.lower() for k in resp.headers}


async def test_openapi_needs_no_token(http: httpx.AsyncClient) -> None:
    resp = await http.get("/api/v2/docs/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
