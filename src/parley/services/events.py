"""Event bodies for the notification topics, shaped as Genesys' event models, and the one
way a conversation's change is published.

They are part of the wire contract like the REST shapes, but they are published by use cases,
so they are built here. Every use case that changes a conversation publishes it the same way
(`publish_conversation`, or `ConversationEvents` when it has to read the conversation first):
the view, one body, every topic that hears of it.

Message conversation events follow `ConversationMessageEventTopic*`: participants without
to/from addresses, references as {id, name}, per-message entries with `message` {id},
`messageTime`, `messageStatus`, `messageSegmentCount`.
"""

from __future__ import annotations

from typing import Any

from parley.domain.conversations import Participant
from parley.domain.times import iso
from parley.services.ports import EventBus, UnitOfWorkFactory
from parley.services.views import ConversationView, build_view


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _participant(view: ConversationView, p: Participant) -> dict[str, Any]:
    wrapup = None
    if p.wrapup is not None:
        wrapup = _drop_none({"code": p.wrapup.name or p.wrapup.code, "notes": p.wrapup.notes,
                             "tags": p.wrapup.tags or None,
                             "durationSeconds": p.wrapup.duration_seconds,
                             "endTime": iso(p.wrapup.end_ms)})
    return _drop_none({
        "id": p.id, "name": view.user_names.get(p.user_id or "", p.name),
        "address": p.address, "startTime": iso(p.start_ms),
        "connectedTime": iso(p.connected_ms), "endTime": iso(p.end_ms),
        "purpose": p.purpose.value, "state": p.state.value, "direction": p.direction,
        "disconnectType": p.disconnect_type, "held": False,
        "wrapupRequired": p.wrapup_required or None, "wrapup": wrapup,
        "user": {"id": p.user_id, "name": view.user_names.get(p.user_id)}
        if p.user_id else None,
        "queue": {"id": p.queue_id, "name": view.queue_names.get(p.queue_id)}
        if p.queue_id else None,
        "alertingTimeoutMs": p.alerting_timeout_ms,
        "attributes": dict(p.attributes), "type": "sms",
        "messages": [_drop_none({
            "message": {"id": m.id}, "messageTime": iso(m.created_ms),
            "messageStatus": m.status.value, "messageSegmentCount": m.segment_count})
            for m in view.messages_of(p)],
    })


def conversation_event(view: ConversationView) -> dict[str, Any]:
    c = view.conversation
    return {"id": c.id, "participants": [_participant(view, p) for p in c.participants]}


def conversation_topics(view: ConversationView) -> list[str]:
    """Every user on it and every queue it went through hears about a change."""
    c = view.conversation
    users = {p.user_id for p in c.participants if p.user_id}
    queues = {p.queue_id for p in c.participants if p.queue_id}
    return ([f"v2.users.{u}.conversations.messages" for u in sorted(users)]
            + [f"v2.routing.queues.{q}.conversations.messages" for q in sorted(queues)])


def publish_conversation(bus: EventBus, view: ConversationView) -> bool:
    """Publish a conversation as it is now on every topic that hears of it; False (and no
    body built) when none does."""
    topics = conversation_topics(view)
    if not topics:
        return False
    body = conversation_event(view)
    for topic in topics:
        bus.publish(topic, body, org_id=view.conversation.org_id)
    return True


class ConversationEvents:
    """Publishes a stored conversation's change, for use cases that do not hold its view."""

    def __init__(self, uow: UnitOfWorkFactory, bus: EventBus) -> None:
        self._uow = uow
        self._bus = bus

    async def publish(self, org_id: str, conversation_id: str) -> None:
        """Read the conversation as stored and publish it (nothing if it is gone)."""
        async with self._uow(read_only=True) as uow:
            conv = await uow.conversations.get(org_id, conversation_id)
            if conv is None:
                return
            view = await build_view(uow, org_id, conv)
        publish_conversation(self._bus, view)


def routing_status_event(user_id: str, status: str, start_ms: int) -> dict[str, Any]:
    return {"id": user_id, "routingStatus": {"status": status, "startTime": iso(start_ms)}}
