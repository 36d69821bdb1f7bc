"""The message store: the hot path's writes, batched, beside the unit of work.

Sending and receiving texts at a carrier's pace cannot afford a transaction per text: the
message store group-commits appends (a message with its outbox row; a new conversation with
everything its flow decided), claims due outbox rows under a lease, and records submit
outcomes and delivery receipts in bulk, by indexed key, never by scanning. Its records say
what goes in and comes back; `AlreadyStored` is how it tells a use case that another request
or node stored the same row first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from parley.domain.conversations import Communication, Conversation, Participant
from parley.domain.messages import Message
from parley.services.ports.carriers import CarrierError, DeliveryReport, OutboundSms
from parley.services.ports.repositories import AcdRecord


class AlreadyStored(Exception):
    """A write clashed with a row another request (or node) stored first."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    message_id: str
    org_id: str
    next_attempt_ms: int
    lease_until_ms: int
    created_ms: int
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    message_id: str
    at_ms: int
    carrier: str
    provider_message_id: str | None = None
    part_ids: tuple[str, ...] = ()
    """Every part's id, for a multipart text (the first is `provider_message_id`)."""
    error: CarrierError | None = None
    retry_at_ms: int | None = None
    """Set for a failure that will be retried; None for a final failure."""
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ThreadHead:
    """The newest conversation between a number and a customer, as threading needs it."""

    conversation_id: str
    active: bool
    end_ms: int | None


@dataclass(frozen=True, slots=True)
class InboundContext:
    """What a text's arrival needs to know: whether it was stored already (a carrier's
    retry) and the conversation it may continue."""

    duplicate_of: tuple[str, str] | None
    """(message id, conversation id) of the same carrier message, stored before"""
    latest: ThreadHead | None


class MessageStore(Protocol):
    """The hot path: group-committed appends and bulk status updates, no per-message scans."""

    async def communication(self, conversation_id: str,
                            communication_id: str) -> Communication | None: ...

    async def append(self, *, conversation: Conversation | None,
                     participants: Sequence[Participant], messages: Sequence[Message],
                     outbox: Sequence[OutboxEntry]) -> None: ...

    async def inbound_context(self, org_id: str, org_address: str, customer: str,
                              inbound_key: str) -> InboundContext:
        """Looked up together with the other texts arriving at the same moment."""
        ...

    async def save_conversations(self, conversations: Sequence[Conversation], *,
                                 messages: Sequence[Message] = (),
                                 outbox: Sequence[OutboxEntry] = (),
                                 acd: Sequence[AcdRecord] = ()) -> None:
        """Raises AlreadyStored when a message of it is (a carrier's retry of an inbound
        text stored meanwhile)."""
        ...

    async def record_outcomes(self, outcomes: Sequence[SubmitOutcome]) -> None: ...

    async def record_deliveries(self, reports: Sequence[DeliveryReport]) -> None: ...

    async def claim_due(self, now_ms: int, lease_ms: int, limit: int) -> list[OutboundSms]: ...

    async def renew_leases(self, message_ids: Sequence[str], until_ms: int) -> None: ...

    async def release_leases(self) -> int:
        """Make every leased outbox row due now (start-up of the only node)."""
        ...
