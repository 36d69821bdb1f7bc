"""msgspec structs for the hot endpoints (sending), decoded and encoded without Pydantic.

They are still the single source of the OpenAPI schema for those endpoints: `app.py` adds
`msgspec.json.schema_components` of these structs to the document.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from parley.api.formats import iso
from parley.domain.errors import InvalidInput
from parley.domain.messages import Message


class AdditionalMessage(msgspec.Struct, kw_only=True):
    """Body of POST .../communications/{communicationId}/messages."""

    textBody: str | None = None
    mediaIds: list[str] | None = None
    messagingTemplate: dict[str, Any] | None = None


class SendAgentlessOutboundMessageRequest(msgspec.Struct, kw_only=True):
    fromAddress: str | None = None
    toAddress: str | None = None
    toAddressMessengerType: str | None = None
    textBody: str | None = None
    useExistingActiveConversation: bool = False
    externalContactId: str | None = None
    messagingTemplate: dict[str, Any] | None = None


class EntityRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    selfUri: str | None = None


class NormalizedMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    type: str
    text: str
    direction: str


class MessageData(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    providerMessageId: str | None = None
    timestamp: str
    fromAddress: str
    toAddress: str
    direction: str
    messengerType: str
    textBody: str
    """Legacy field, gone from the SDK models but still read by older JS apps."""
    status: str
    normalizedMessage: NormalizedMessage
    createdBy: EntityRef | None = None
    conversationId: str
    selfUri: str


class SendAgentlessOutboundMessageResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    conversationId: str
    fromAddress: str
    toAddress: str
    messengerType: str
    textBody: str
    useExistingActiveConversation: bool
    timestamp: str
    user: EntityRef | None = None
    message: MessageData
    selfUri: str


def message_data(m: Message) -> MessageData:
    return MessageData(
        id=m.id, providerMessageId=m.provider_message_id, timestamp=iso(m.created_ms) or "",
        fromAddress=m.from_address, toAddress=m.to_address, direction=m.direction.value,
        messengerType="sms", textBody=m.text, status=m.status.value,
        normalizedMessage=NormalizedMessage(id=m.id, type="Text", text=m.text,
                                            direction=m.direction.value.capitalize()),
        createdBy=None if m.user_id is None else EntityRef(
            id=m.user_id, selfUri=f"/api/v2/users/{m.user_id}"),
        conversationId=m.conversation_id,
        selfUri=f"/api/v2/conversations/messages/{m.conversation_id}/messages/{m.id}")


def agentless_response(m: Message, use_existing: bool) -> SendAgentlessOutboundMessageResponse:
    return SendAgentlessOutboundMessageResponse(
        id=m.id, conversationId=m.conversation_id, fromAddress=m.from_address,
        toAddress=m.to_address, messengerType="sms", textBody=m.text,
        useExistingActiveConversation=use_existing,
        timestamp=iso(m.created_ms) or "",
        user=None if m.user_id is None else EntityRef(id=m.user_id,
                                                      selfUri=f"/api/v2/users/{m.user_id}"),
        message=message_data(m),
        selfUri=f"/api/v2/conversations/messages/{m.conversation_id}/messages/{m.id}")


HOT_SCHEMAS: tuple[type[msgspec.Struct], ...] = (
    AdditionalMessage, MessageData, SendAgentlessOutboundMessageRequest,
    SendAgentlessOutboundMessageResponse)


S = TypeVar("S", bound=msgspec.Struct)
MAX_BODY_BYTES = 64 * 1024


def decode(raw: bytes, kind: type[S]) -> S:
    """Decode a hot-path body; every failure is a 400 that says what was wrong."""
    if not raw.strip():
        raise InvalidInput("the request body is required (a JSON object)")
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the request body has {len(raw)} bytes; at most "
                           f"{MAX_BODY_BYTES} are accepted on this endpoint")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as e:
        raise InvalidInput(f"invalid request body: {e}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"the request body is not valid JSON: {e}") from None


encode = msgspec.json.Encoder().encode
