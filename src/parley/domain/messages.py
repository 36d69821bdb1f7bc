"""One SMS in a conversation, and how its delivery status may move."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from parley.domain.sms_text import TextInfo


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    RECEIVED = "received"
    DELIVERY_SUCCESS = "delivery-success"
    DELIVERY_FAILED = "delivery-failed"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_final(self) -> bool:
        return self.rank == 2


_RANK = {
    MessageStatus.QUEUED: 0, MessageStatus.RECEIVED: 2, MessageStatus.SENT: 1,
    MessageStatus.FAILED: 2, MessageStatus.DELIVERY_SUCCESS: 2, MessageStatus.DELIVERY_FAILED: 2,
}


def may_move(current: MessageStatus, new: MessageStatus) -> bool:
    """Statuses only move forward: a late `sent` never overwrites `delivery-success`.

    Carriers deliver receipts out of order (a receipt can beat the submit response), so the
    rule is by rank, not by the order reports arrive in.
    """
    return new.rank > current.rank


@dataclass(slots=True)
class Message:
    id: str
    org_id: str
    conversation_id: str
    participant_id: str
    direction: Direction
    from_address: str
    to_address: str
    text: str
    status: MessageStatus
    segment_count: int
    encoding: str
    created_ms: int
    status_ms: int
    carrier: str
    user_id: str | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    inbound_key: str | None = None
    """`carrier:carrier message id` of an inbound text: a carrier's retry is stored once."""


def outbound_message(*, id: str, org_id: str, conversation_id: str, participant_id: str,
                     from_address: str, to_address: str, text: str, info: TextInfo,
                     now_ms: int, carrier: str, user_id: str | None) -> Message:
    return Message(
        id=id, org_id=org_id, conversation_id=conversation_id, participant_id=participant_id,
        direction=Direction.OUTBOUND, from_address=from_address, to_address=to_address,
        text=text, status=MessageStatus.QUEUED, segment_count=info.segment_count,
        encoding=info.encoding.value, created_ms=now_ms, status_ms=now_ms, carrier=carrier,
        user_id=user_id)


def inbound_message(*, id: str, org_id: str, conversation_id: str, participant_id: str,
                    from_address: str, to_address: str, text: str, info: TextInfo,
                    now_ms: int, carrier: str, inbound_key: str) -> Message:
    return Message(
        id=id, org_id=org_id, conversation_id=conversation_id, participant_id=participant_id,
        direction=Direction.INBOUND, from_address=from_address, to_address=to_address,
        text=text, status=MessageStatus.RECEIVED, segment_count=info.segment_count,
        encoding=info.encoding.value, created_ms=now_ms, status_ms=now_ms, carrier=carrier,
        inbound_key=inbound_key)
