"""Message conversations. The two send endpoints are the hot path: msgspec on the raw body."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from parley.api.hot_paths import send_agentless, send_on_communication
from parley.api.models.agents import WrapupCodeModel
from parley.api.models.conversations import (
    Conversation,
    CreateOutboundMessagingConversationRequest,
    CreateOutboundMessagingConversationResponse,
    MediaParticipantRequest,
    MessageConversation,
    MessageConversationEntityListing,
    TransferRequest,
    Wrapup,
    conversation_of,
    message_conversation_of,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.api.wire import (
    encode,
    message_data,
)

router = genesys_router(tags=["Conversations"])

JSON = "application/json"


def _hot(request_schema: str | None, response_schema: str) -> dict[str, Any]:
    """OpenAPI for a msgspec endpoint: schemas by reference to the structs' components."""
    extra: dict[str, Any] = {"responses": {"200": {"description": "OK", "content": {
        JSON: {"schema": {"$ref": f"#/components/schemas/{response_schema}"}}}}}}
    if request_schema:
        extra["requestBody"] = {"required": True, "content": {
            JSON: {"schema": {"$ref": f"#/components/schemas/{request_schema}"}}}}
    return extra


@router.post("/api/v2/conversations/messages/agentless", response_class=Response,
             openapi_extra=_hot("SendAgentlessOutboundMessageRequest",
                                "SendAgentlessOutboundMessageResponse"),
             summary="Send an agentless (notification) SMS")
async def post_agentless(request: Request) -> Response:
    """Served by api.hot_paths in front of FastAPI; this route documents it (and is the
    same code if the fast path is bypassed)."""
    payload = await send_agentless(request.app.state.parley,
                                   request.headers.get("authorization"), await request.body())
    return Response(payload, media_type=JSON)


@router.post(
    "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages",
    response_class=Response, openapi_extra=_hot("AdditionalMessage", "MessageData"),
    summary="Send a message on the agent's communication")
async def post_communication_message(conversationId: str, communicationId: str,
                                     request: Request) -> Response:
    """Served by api.hot_paths in front of FastAPI, like the agentless send."""
    payload = await send_on_communication(
        request.app.state.parley, request.headers.get("authorization"), conversationId,
        communicationId, await request.body())
    return Response(payload, media_type=JSON)


@router.get("/api/v2/conversations/messages/{conversationId}/messages/{messageId}",
            response_class=Response, openapi_extra=_hot(None, "MessageData"),
            summary="Get one message")
async def get_message(conversationId: str, messageId: str, principal: CurrentPrincipal,
                      parley: App) -> Response:
    message = await parley.conversations.message(principal, conversationId, messageId)
    return Response(encode(message_data(message)), media_type=JSON)


@router.post("/api/v2/conversations/messages",
             response_model=CreateOutboundMessagingConversationResponse,
             summary="Start an outbound SMS conversation on behalf of a queue")
async def post_conversations_messages(body: CreateOutboundMessagingConversationRequest,
                                      principal: CurrentPrincipal, parley: App
                                      ) -> CreateOutboundMessagingConversationResponse:
    conv = await parley.conversations.start_outbound(
        principal, queue_id=body.queueId, to_address=body.toAddress,
        messenger_type=body.toAddressMessengerType,
        use_existing=bool(body.useExistingConversation))
    return CreateOutboundMessagingConversationResponse(
        id=conv.id, selfUri=f"/api/v2/conversations/messages/{conv.id}")


@router.get("/api/v2/conversations/messages", response_model=MessageConversationEntityListing,
            summary="The caller's active message conversations")
async def get_conversations_messages(principal: CurrentPrincipal, parley: App
                                     ) -> MessageConversationEntityListing:
    views = await parley.conversations.active(principal)
    entities = [message_conversation_of(v) for v in views]
    return MessageConversationEntityListing.of(entities, total=len(entities), page=1,
                                               size=max(len(entities), 25),
                                               path="/api/v2/conversations/messages")


@router.get("/api/v2/conversations/messages/{conversationId}",
            response_model=MessageConversation, summary="Get a message conversation")
async def get_message_conversation(conversationId: str, principal: CurrentPrincipal,
                                   parley: App) -> MessageConversation:
    return message_conversation_of(await parley.conversations.view(principal, conversationId))


@router.patch("/api/v2/conversations/messages/{conversationId}/participants/{participantId}",
              status_code=202, response_class=Response,
              summary="Accept (connected) or leave (disconnected, with wrap-up)")
async def patch_message_participant(conversationId: str, participantId: str,
                                    body: MediaParticipantRequest,
                                    principal: CurrentPrincipal, parley: App) -> Response:
    await parley.conversations.update_participant(
        principal, conversationId, participantId, state=body.state,
        wrapup=None if body.wrapup is None else body.wrapup.to_entity())
    return Response(status_code=202)


@router.patch("/api/v2/conversations/{conversationId}/participants/{participantId}",
              status_code=202, response_class=Response, include_in_schema=True,
              summary="Generic form of the participant PATCH")
async def patch_participant(conversationId: str, participantId: str,
                            body: MediaParticipantRequest, principal: CurrentPrincipal,
                            parley: App) -> Response:
    return await patch_message_participant(conversationId, participantId, body, principal,
                                           parley)


@router.get("/api/v2/conversations/{conversationId}", response_model=Conversation,
            summary="Get a conversation (participants, communications, messages)")
async def get_conversation(conversationId: str, principal: CurrentPrincipal,
                           parley: App) -> Conversation:
    return conversation_of(await parley.conversations.view(principal, conversationId))


@router.post("/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
             "/replace", status_code=202, response_class=Response,
             summary="Transfer the conversation to another queue")
async def post_replace(conversationId: str, participantId: str, body: TransferRequest,
                       principal: CurrentPrincipal, parley: App) -> Response:
    await parley.conversations.transfer(principal, conversationId, participantId,
                                        queue_id=body.queueId, user_id=body.userId)
    return Response(status_code=202)


@router.post("/api/v2/conversations/{conversationId}/participants/{participantId}"
             "/replace/queue", status_code=202, response_class=Response,
             summary="Transfer the conversation to another queue")
async def post_replace_queue(conversationId: str, participantId: str, body: TransferRequest,
                             principal: CurrentPrincipal, parley: App) -> Response:
    await parley.conversations.transfer(principal, conversationId, participantId,
                                        queue_id=body.queueId)
    return Response(status_code=202)


@router.get("/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
            "/wrapupcodes", response_model=list[WrapupCodeModel],
            summary="Wrap-up codes this participant may use (a bare array)")
async def get_participant_wrapup_codes(conversationId: str, participantId: str,
                                       principal: CurrentPrincipal,
                                       parley: App) -> list[WrapupCodeModel]:
    codes = await parley.wrapup.of_participant(principal, conversationId, participantId)
    return [WrapupCodeModel.of(c) for c in codes]


@router.post("/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
             "/communications/{communicationId}/wrapup", status_code=202,
             response_class=Response, summary="Wrap up after the conversation (after-call work)")
async def post_communication_wrapup(conversationId: str, participantId: str,
                                    communicationId: str, body: Wrapup,
                                    principal: CurrentPrincipal, parley: App) -> Response:
    await parley.conversations.update_participant(principal, conversationId, participantId,
                                                  state=None, wrapup=body.to_entity())
    return Response(status_code=202)
