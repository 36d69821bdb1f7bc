"""Notification channels, their subscriptions, and the websocket at each channel's connectUri."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import Query, Request, Response, WebSocket, WebSocketDisconnect

from parley.api.formats import iso
from parley.api.models.notifications import (
    AvailableTopic,
    AvailableTopicEntityListing,
    ChannelEntityListing,
    ChannelModel,
    ChannelTopic,
    ChannelTopicEntityListing,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.bootstrap import Parley
from parley.services.notifications import (
    SUPPORTED_TOPICS,
    Channel,
    TopicResult,
    closing,
    envelope,
)

router = genesys_router(tags=["Notifications"])

CHANNELS = "/api/v2/notifications/channels"


def _channel(request: Request, c: Channel) -> ChannelModel:
    scheme = "wss" if request.url.scheme == "https" else "ws"
    host = request.headers.get("host", request.url.netloc)
    return ChannelModel(id=c.id, connectUri=f"{scheme}://{host}/channels/{c.id}",
                        expires=iso(c.expires_ms) or "")


def _topics(results: list[TopicResult] | None, channel: Channel) -> ChannelTopicEntityListing:
    if results is None:
        return ChannelTopicEntityListing(entities=[
            ChannelTopic(id=t, selfUri=f"{CHANNELS}/{channel.id}/subscriptions")
            for t in sorted(channel.topics.values())])
    return ChannelTopicEntityListing(entities=[
        ChannelTopic(id=r.id, state=r.state, rejectionReason=r.rejection_reason)
        for r in results])


@router.post(CHANNELS, response_model=ChannelModel, summary="Create a notification channel")
async def post_channel(request: Request, principal: CurrentPrincipal,
                       parley: App) -> ChannelModel:
    return _channel(request, parley.notifications.create_channel(principal))


@router.get(CHANNELS, response_model=ChannelEntityListing, summary="The caller's channels")
async def get_channels(request: Request, principal: CurrentPrincipal, parley: App,
                       includechannels: str | None = None) -> ChannelEntityListing:
    return ChannelEntityListing(entities=[
        _channel(request, c) for c in parley.notifications.channels_of(principal)])


@router.head(CHANNELS + "/{channelId}", summary="Is the channel alive?")
async def head_channel(channelId: str, principal: CurrentPrincipal, parley: App) -> Response:
    parley.notifications.channel(channelId, principal)
    return Response(status_code=200)


@router.get(CHANNELS + "/{channelId}/subscriptions", response_model=ChannelTopicEntityListing)
async def get_subscriptions(channelId: str, principal: CurrentPrincipal,
                            parley: App) -> ChannelTopicEntityListing:
    channel = parley.notifications.channel(channelId, principal)
    return _topics(None, channel)


async def _subscribe(channel_id: str, body: list[ChannelTopic], principal: CurrentPrincipal,
                     parley: Parley, *, replace: bool,
                     ignore_errors: bool) -> ChannelTopicEntityListing:
    channel = parley.notifications.channel(channel_id, principal)
    results = await parley.notifications.subscribe(
        channel, [t.id for t in body], replace=replace, ignore_errors=ignore_errors)
    return _topics(results, channel)


@router.post(CHANNELS + "/{channelId}/subscriptions", response_model=ChannelTopicEntityListing,
             summary="Add topics to the channel")
async def post_subscriptions(channelId: str, body: list[ChannelTopic],
                             principal: CurrentPrincipal, parley: App,
                             ignoreErrors: bool = Query(False)) -> ChannelTopicEntityListing:
    return await _subscribe(channelId, body, principal, parley, replace=False,
                            ignore_errors=ignoreErrors)


@router.put(CHANNELS + "/{channelId}/subscriptions", response_model=ChannelTopicEntityListing,
            summary="Replace the channel's topics")
async def put_subscriptions(channelId: str, body: list[ChannelTopic],
                            principal: CurrentPrincipal, parley: App,
                            ignoreErrors: bool = Query(False)) -> ChannelTopicEntityListing:
    return await _subscribe(channelId, body, principal, parley, replace=True,
                            ignore_errors=ignoreErrors)


@router.delete(CHANNELS + "/{channelId}/subscriptions", status_code=204,
               response_class=Response, summary="Remove all topics")
async def delete_subscriptions(channelId: str, principal: CurrentPrincipal,
                               parley: App) -> Response:
    parley.notifications.unsubscribe_all(parley.notifications.channel(channelId, principal))
    return Response(status_code=204)


@router.get("/api/v2/notifications/availabletopics", response_model=AvailableTopicEntityListing)
async def get_available_topics(principal: CurrentPrincipal) -> AvailableTopicEntityListing:
    return AvailableTopicEntityListing(entities=[
        AvailableTopic(id=t, description=d) for t, d in SUPPORTED_TOPICS])


@router.websocket("/channels/{channelId}")
async def channel_socket(websocket: WebSocket, channelId: str) -> None:
    """The channel id is the capability, as at Genesys: whoever holds it gets its events."""
    parley: Parley = websocket.app.state.parley
    try:
        channel = parley.notifications.channel(channelId)
    except Exception:
        await websocket.close(code=4404, reason="unknown or expired channel")
        return
    await websocket.accept()
    heartbeat = parley.settings.notification_heartbeat_s

    async def pump() -> None:
        while True:
            try:
                message = await asyncio.wait_for(channel.inbox.get(), timeout=heartbeat)
            except TimeoutError:
                message = envelope("channel.metadata", {"message": "WebSocket Heartbeat"})
            if channel.ended is not None:  # its token was revoked, expired or changed
                await websocket.send_text(json.dumps(closing(channel.ended)))
                await websocket.close(code=1008, reason="the channel's token is no longer "
                                      "valid")
                return
            if channel.overflowed:
                await websocket.send_text(json.dumps(envelope("v2.system.socket_closing", {
                    "message": "the client fell too far behind; reconnect"})))
                await websocket.close(code=1013)
                return
            await websocket.send_text(json.dumps(message))

    sender = asyncio.create_task(pump())
    try:
        while True:
            text = await websocket.receive_text()
            with contextlib.suppress(ValueError, AttributeError):  # not JSON / not an object
                if json.loads(text).get("message") == "ping":
                    await websocket.send_text(json.dumps(
                        envelope("channel.metadata", {"message": "pong"})))
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
