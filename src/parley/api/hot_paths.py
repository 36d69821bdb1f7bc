"""The two send endpoints, served in front of FastAPI's routing.

Sending is the hot path: FastAPI's routing, dependency and middleware machinery costs several
times what the work itself does (docs/performance.md). So these two POSTs are matched here on
the raw ASGI scope and handled with msgspec; the FastAPI routes of the same paths call the same
functions and carry their OpenAPI description, so both ways answer identically.
"""

from __future__ import annotations

import logging
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from parley.api.errors import error_response, expected_error_response
from parley.api.security import bearer_token, header
from parley.api.wire import (
    AdditionalMessage,
    SendAgentlessOutboundMessageRequest,
    agentless_response,
    decode,
    encode,
    message_data,
)
from parley.bootstrap import Parley
from parley.domain.errors import InvalidInput

log = logging.getLogger(__name__)

AGENTLESS = "/api/v2/conversations/messages/agentless"
MESSAGES = "/api/v2/conversations/messages/"
_JSON_HEADERS = [(b"content-type", b"application/json")]


async def send_agentless(parley: Parley, authorization: str | None, raw: bytes) -> bytes:
    principal = await parley.auth.authenticate(bearer_token(authorization))
    body = decode(raw, SendAgentlessOutboundMessageRequest)
    message = await parley.conversations.send_agentless(
        principal, from_address=body.fromAddress, to_address=body.toAddress,
        messenger_type=body.toAddressMessengerType, text=body.textBody,
        use_existing_active=body.useExistingActiveConversation)
    return encode(agentless_response(message, body.useExistingActiveConversation))


async def send_on_communication(parley: Parley, authorization: str | None,
                                conversation_id: str, communication_id: str,
                                raw: bytes) -> bytes:
    principal = await parley.auth.authenticate(bearer_token(authorization))
    body = decode(raw, AdditionalMessage)
    if body.mediaIds:
        raise InvalidInput("mediaIds: MMS attachments are not supported yet; send text only",
                           field="mediaIds")
    message = await parley.conversations.send(principal, conversation_id, communication_id,
                                              body.textBody)
    return encode(message_data(message))


def _communication_path(path: str) -> tuple[str, str] | None:
    """{conversationId}/communications/{communicationId}/messages after the prefix."""
    if not path.startswith(MESSAGES):
        return None
    parts = path[len(MESSAGES):].split("/")
    if len(parts) == 4 and parts[1] == "communications" and parts[3] == "messages" \
            and parts[0] and parts[2]:
        return parts[0], parts[2]
    return None


class HotPaths:
    def __init__(self, app: ASGIApp, parley: Parley) -> None:
        self.app = app
        self.parley = parley

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        ids = None if path == AGENTLESS else _communication_path(path)
        if path != AGENTLESS and ids is None:
            await self.app(scope, receive, send)
            return
        authorization = header(scope, b"authorization")
        raw = await _body(receive)
        try:
            if ids is None:
                payload = await send_agentless(self.parley, authorization, raw)
            else:
                payload = await send_on_communication(self.parley, authorization, *ids, raw)
        except Exception as exc:
            response = expected_error_response(exc)
            if response is None:
                context_id = str(uuid.uuid4())
                log.exception("unhandled error on POST %s (contextId %s)", path, context_id)
                response = error_response(500, "the server failed to handle this request; "
                                          "the error is logged under this contextId",
                                          context_id=context_id)
            await response(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            *_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


__all__ = ["HotPaths", "send_agentless", "send_on_communication"]
