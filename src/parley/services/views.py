"""Read views: what the API and the notification topics show of a conversation."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.domain.conversations import Conversation, Participant, Purpose
from parley.domain.messages import Message
from parley.services.ports import UnitOfWork


@dataclass(slots=True)
class ConversationView:
    """A conversation with what the API shows beside it: its messages and display names."""

    conversation: Conversation
    messages: list[Message]
    user_names: dict[str, str] = field(default_factory=dict)
    queue_names: dict[str, str] = field(default_factory=dict)

    def messages_of(self, p: Participant) -> list[Message]:
        """The messages a participant's communication carries: those while it was on."""
        if p.purpose is Purpose.CUSTOMER:
            return self.messages
        return [m for m in self.messages
                if m.participant_id == p.id
                or (m.created_ms >= p.start_ms and (p.end_ms is None or m.created_ms <= p.end_ms))]


def view_in_memory(conv: Conversation, messages: list[Message]) -> ConversationView:
    """The view of a conversation not read back from the store: the display names are the
    ones its participants carry (the ACD names the agents and queues it puts on it)."""
    return ConversationView(
        conversation=conv, messages=messages,
        user_names={p.user_id: p.name for p in conv.agents() if p.user_id and p.name},
        queue_names={p.queue_id: p.name for p in conv.participants
                     if p.purpose is Purpose.ACD and p.queue_id and p.name})


async def build_view(uow: UnitOfWork, org_id: str, conv: Conversation) -> ConversationView:
    """A conversation with its messages and the display names of its users and queues."""
    users = await uow.users.many(org_id, [p.user_id for p in conv.participants if p.user_id])
    queue_names = {}
    for qid in {p.queue_id for p in conv.participants if p.queue_id}:
        q = await uow.queues.get(org_id, qid)
        if q is not None:
            queue_names[qid] = q.name
    return ConversationView(
        conversation=conv, messages=await uow.messages.in_conversation(conv.id),
        user_names={uid: u.name for uid, u in users.items()}, queue_names=queue_names)
