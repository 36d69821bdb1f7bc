"""Live notifications: channels, topic subscriptions, and fan-out to websockets.

A channel belongs to the token that created it and sees only what that token may see: a user
topic of someone else needs a supervisor's view, a queue topic needs membership of the queue
or a supervisor's view. Channels live in the memory of the node that holds their websocket
(as Genesys' streaming service does, clients recreate a channel when a socket drops); events
reach every node through the event bus.

A channel also lives no longer than its token's right to it: when the token is revoked, its
role changes or it expires, the channel is ended and its socket told why and closed. This
node knows of its own revocations at once (the token cache tells it); another node's are
found every `REVALIDATE_S` by checking that each channel's owner still holds a live token of
its role - the same bound a revoked token has on another node's REST cache. (By owner, not by
token: a refresh on another node replaces the token but not the session.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from parley.concurrency import stop_task
from parley.domain.access import Permission, Principal
from parley.domain.errors import Forbidden, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.services.ports import Clock, EventBus, UnitOfWorkFactory

log = logging.getLogger(__name__)

CHANNEL_TTL_MS = 24 * 3600 * 1000
MAX_CHANNELS_PER_TOKEN = 20
MAX_TOPICS_PER_CHANNEL = 1000
QUEUE_LIMIT = 1000
"""Events buffered per channel; a socket that falls this far behind is closed."""
REVALIDATE_S = 30.0

_USER_TOPIC = re.compile(
    r"^v2\.users\.(?P<id>[0-9a-fA-F-]{36})\."
    r"(?P<what>conversations\.messages|presence|routingstatus)$", re.IGNORECASE)
_QUEUE_TOPIC = re.compile(
    r"^v2\.routing\.queues\.(?P<id>[0-9a-fA-F-]{36})\.conversations\.messages$",
    re.IGNORECASE)

SUPPORTED_TOPICS = (
    ("v2.users.{id}.conversations.messages", "message conversations the user is on"),
    ("v2.users.{id}.presence", "the user's presence"),
    ("v2.users.{id}.routingstatus", "the user's routing status"),
    ("v2.routing.queues.{id}.conversations.messages", "message conversations in a queue"),
)


def canonical(topic: str) -> str:
    """Topics compare case-insensitively on their fixed words (`routingStatus` too)."""
    m = _USER_TOPIC.match(topic)
    if m:
        return f"v2.users.{m['id'].lower()}.{m['what'].lower()}"
    m = _QUEUE_TOPIC.match(topic)
    if m:
        return f"v2.routing.queues.{m['id'].lower()}.conversations.messages"
    return topic


@dataclass
class TopicResult:
    id: str
    state: str  # Permitted | Rejected
    rejection_reason: str | None = None


@dataclass(eq=False)
class Channel:
    id: str
    principal: Principal
    created_ms: int
    expires_ms: int
    topics: dict[str, str] = field(default_factory=dict)
    """canonical topic -> the spelling the client subscribed with (echoed in topicName)"""
    inbox: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT))
    overflowed: bool = False
    ended: str | None = None
    """Why the channel may no longer be used (its socket is told and closed)."""

    def end(self, reason: str) -> None:
        self.ended = reason
        with contextlib.suppress(asyncio.QueueFull):  # (a full inbox: the pump is busy)
            self.inbox.put_nowait(closing(reason))


def envelope(topic: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"topicName": topic, "version": "2", "eventBody": body,
            "metadata": {"CorrelationId": str(uuid.uuid4())}}


def _owner(p: Principal) -> tuple[str | None, str]:
    """Whose a channel is: (user id or None for a client's own token, client id)."""
    return (p.user_id, p.client_id)


def closing(reason: str) -> dict[str, Any]:
    """What a socket gets last, as Genesys' streaming service says it is closing one."""
    return envelope("v2.system.socket_closing", {"message": reason})


class NotificationHub:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._channels: dict[str, Channel] = {}
        self._by_topic: dict[str, set[Channel]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        bus.subscribe(self._deliver)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._revalidate_forever(), name="channel-tokens")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    # -- channels -----------------------------------------------------------------------------

    def create_channel(self, principal: Principal) -> Channel:
        mine = [c for c in self._channels.values()
                if c.principal.token_id == principal.token_id]
        if len(mine) >= MAX_CHANNELS_PER_TOKEN:
            oldest = min(mine, key=lambda c: c.created_ms)
            self.close(oldest.id)
        now = self._clock.now_ms()
        channel = Channel(id=new_id(), principal=principal, created_ms=now,
                          expires_ms=now + CHANNEL_TTL_MS)
        self._channels[channel.id] = channel
        return channel

    def channels_of(self, principal: Principal) -> list[Channel]:
        return [c for c in self._channels.values()
                if c.principal.token_id == principal.token_id]

    def channel(self, channel_id: str, principal: Principal | None = None) -> Channel:
        channel = self._channels.get(channel_id)
        if channel is None or channel.expires_ms <= self._clock.now_ms():
            raise NotFound(f"notification channel {channel_id} not found or expired; create "
                           "a new one with POST /api/v2/notifications/channels")
        if principal is not None and channel.principal.org_id != principal.org_id:
            raise NotFound(f"notification channel {channel_id} not found")
        owner = channel.principal
        if principal is not None and (owner.user_id != principal.user_id or (
                owner.user_id is None and owner.client_id != principal.client_id)):
            raise Forbidden("this channel belongs to another token")
        return channel

    def close(self, channel_id: str, reason: str | None = None) -> None:
        """Forget a channel; with a reason, also end its socket (tell it why, close it)."""
        channel = self._channels.pop(channel_id, None)
        if channel is not None:
            for topic in channel.topics:
                self._by_topic[topic].discard(channel)
            if reason is not None:
                channel.end(reason)

    # -- the token behind each channel ---------------------------------------------------------

    def token_changed(self, token_id: str, successor: Principal | None) -> None:
        """This node revoked the token, refreshed it into `successor`, or changed its role.
        A refresh keeps the channels (the same user, the same role, a new token); anything
        else ends them now."""
        for c in [c for c in self._channels.values() if c.principal.token_id == token_id]:
            if successor is not None and successor.role is c.principal.role and \
                    successor.user_id == c.principal.user_id:
                c.principal = successor
            else:
                self.close(c.id, "the token of this channel was revoked or its role changed; "
                           "create a new channel with a valid token")

    async def revalidate(self) -> int:
        """End the channels whose owner - the user (or client) of their token, on that
        client app - no longer holds a live token of the same role: revoked, expired or
        changed on another node. (A refresh there leaves the owner a live token, so the
        channel stays.) Returns how many ended."""
        owners = {_owner(c.principal) for c in self._channels.values()}
        if not owners:
            return 0
        now = self._clock.now_ms()
        async with self._uow(read_only=True) as uow:
            live = await uow.tokens.live_owners(sorted(owners, key=str), now)
        ended = 0
        for c in list(self._channels.values()):
            if (*_owner(c.principal), c.principal.role) not in live:
                self.close(c.id, "the token of this channel was revoked, expired or changed; "
                           "create a new channel with a valid token")
                ended += 1
        return ended

    async def _revalidate_forever(self) -> None:
        while True:
            await asyncio.sleep(REVALIDATE_S)
            try:
                await self.revalidate()
            except Exception:
                log.exception("checking the tokens of notification channels failed; will try "
                              "again")

    def purge_expired(self) -> int:
        now = self._clock.now_ms()
        dead = [c.id for c in self._channels.values() if c.expires_ms <= now]
        for channel_id in dead:
            self.close(channel_id)
        return len(dead)

    # -- subscriptions ------------------------------------------------------------------------

    async def subscribe(self, channel: Channel, topics: list[str], *, replace: bool,
                        ignore_errors: bool) -> list[TopicResult]:
        results = [await self._check(channel.principal, t) for t in topics]
        rejected = [r for r in results if r.state == "Rejected"]
        if rejected and not ignore_errors:
            first = rejected[0]
            raise InvalidInput(f"topic '{first.id}' rejected: {first.rejection_reason}",
                               field="id")
        wanted = {canonical(r.id): r.id for r in results if r.state == "Permitted"}
        if replace:
            for topic in channel.topics.keys() - wanted.keys():
                self._by_topic[topic].discard(channel)
            channel.topics = {}
        if len(channel.topics.keys() | wanted.keys()) > MAX_TOPICS_PER_CHANNEL:
            raise InvalidInput(f"a channel may subscribe to at most {MAX_TOPICS_PER_CHANNEL} "
                               "topics")
        for topic, spelling in wanted.items():
            channel.topics[topic] = spelling
            self._by_topic[topic].add(channel)
        return results

    def unsubscribe_all(self, channel: Channel) -> None:
        for topic in channel.topics:
            self._by_topic[topic].discard(channel)
        channel.topics = {}

    async def _check(self, principal: Principal, topic: object) -> TopicResult:
        if not isinstance(topic, str) or not topic:
            return TopicResult(str(topic), "Rejected", "a topic id is required")
        m = _USER_TOPIC.match(topic)
        if m:
            user_id = m["id"].lower()
            if user_id != principal.user_id:
                if not principal.can(Permission.VIEW_ALL_CONVERSATIONS):
                    return TopicResult(topic, "Rejected",
                                       "only supervisors may watch another user")
                async with self._uow(read_only=True) as uow:
                    if await uow.users.get(principal.org_id, user_id) is None:
                        return TopicResult(topic, "Rejected", f"user {user_id} not found")
            return TopicResult(topic, "Permitted")
        m = _QUEUE_TOPIC.match(topic)
        if m:
            queue_id = m["id"].lower()
            async with self._uow(read_only=True) as uow:
                queue = await uow.queues.get(principal.org_id, queue_id)
                if queue is None:
                    return TopicResult(topic, "Rejected", f"queue {queue_id} not found")
                if principal.can(Permission.VIEW_ALL_CONVERSATIONS):
                    return TopicResult(topic, "Permitted")
                if principal.user_id is not None and \
                        await uow.queues.member(queue_id, principal.user_id) is not None:
                    return TopicResult(topic, "Permitted")
            return TopicResult(topic, "Rejected", "only members of the queue and supervisors "
                               "may watch it")
        return TopicResult(topic, "Rejected", "unknown topic; supported: "
                           + ", ".join(t for t, _ in SUPPORTED_TOPICS))

    # -- delivery -----------------------------------------------------------------------------

    def _deliver(self, topic: str, body: dict[str, Any], org_id: str) -> None:
        key = canonical(topic)
        channels = self._by_topic.get(key)
        if not channels:
            return
        for channel in list(channels):
            if channel.principal.org_id != org_id:
                continue
            try:
                channel.inbox.put_nowait(envelope(channel.topics.get(key, topic), body))
            except asyncio.QueueFull:
                channel.overflowed = True

    def has_subscribers(self) -> bool:
        """Whether any channel on this node listens to anything (else events can be skipped)."""
        return any(self._by_topic.values())

    @property
    def channel_count(self) -> int:
        return len(self._channels)
