"""The small interfaces the use cases need from the outside world.

Adapters in `store/`, `carriers/` and `bus/` implement them; `bootstrap.py` wires them in.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from parley.domain.conversations import Communication, Conversation, Participant
from parley.domain.directory import (
    AuthorizationCode,
    OAuthClient,
    Organization,
    TokenRecord,
    User,
)
from parley.domain.messages import Message, MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType, SmsNumber
from parley.domain.queues import Queue, QueueMember


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


# -- carriers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboundSms:
    message_id: str
    org_id: str
    from_address: str
    to_address: str
    text: str
    segment_count: int
    created_ms: int
    carrier: str
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    provider_message_id: str
    status: MessageStatus
    at_ms: int
    error_code: str | None = None
    error_message: str | None = None


class CarrierError(Exception):
    """A carrier refused or failed a submit. `permanent` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


DeliverySink = Callable[[Sequence[DeliveryReport]], Awaitable[None]]


class Carrier(Protocol):
    """One connection to an SMS carrier. SMPP and HTTP providers are one file each."""

    name: str

    async def start(self, on_reports: DeliverySink) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, sms: OutboundSms) -> str:
        """Hand one text to the carrier; return its message id or raise CarrierError."""
        ...

    async def available_numbers(self, *, country_code: str, number_type: PhoneNumberType,
                                area_code: str | None, pattern: str | None,
                                limit: int) -> list[AvailableNumber]: ...

    async def check_number(self, phone_number: str) -> None:
        """Raise CarrierError if this carrier cannot serve the number."""
        ...


# -- events -------------------------------------------------------------------------------


class EventBus(Protocol):
    def publish(self, topic: str, body: dict[str, Any], *, org_id: str) -> None: ...

    def subscribe(self, handler: Callable[[str, dict[str, Any], str], None]) -> None: ...


# -- store ----------------------------------------------------------------------------------


class OrganizationRepo(Protocol):
    async def add(self, org: Organization, *, is_demo: bool = False) -> None: ...
    async def get(self, org_id: str) -> Organization | None: ...
    async def demo(self) -> Organization | None: ...


class UserRepo(Protocol):
    async def add(self, u: User) -> None: ...
    async def get(self, org_id: str, user_id: str) -> User | None: ...
    async def by_email(self, email: str) -> User | None: ...
    async def many(self, org_id: str, ids: Sequence[str]) -> dict[str, User]: ...
    async def page(self, org_id: str, *, page: int, size: int, ids: Sequence[str] | None = None,
                   state: str | None = None, descending: bool = False
                   ) -> tuple[list[User], int]: ...
    async def set_password(self, user_id: str, password_hash: str) -> None: ...


class ClientRepo(Protocol):
    async def add(self, c: OAuthClient) -> None: ...
    async def get(self, client_id: str) -> OAuthClient | None: ...
    async def in_org(self, org_id: str) -> list[OAuthClient]: ...
    async def browser_clients(self) -> list[OAuthClient]: ...
    async def set_secret(self, client_id: str, secret_hash: str) -> None: ...


class TokenRepo(Protocol):
    async def add(self, token: TokenRecord) -> None: ...
    async def get(self, token_id: str) -> TokenRecord | None: ...
    async def by_refresh(self, refresh_hash: str) -> TokenRecord | None: ...
    async def delete(self, token_id: str) -> bool: ...
    async def purge_expired(self, now_ms: int, refresh_until_ms: int) -> int: ...
    async def add_code(self, code: AuthorizationCode) -> None: ...
    async def take_code(self, code_id: str) -> AuthorizationCode | None: ...


class NumberRepo(Protocol):
    async def add(self, n: SmsNumber) -> None: ...
    async def get(self, org_id: str, number_id: str) -> SmsNumber | None: ...
    async def by_phone(self, phone_number: str) -> SmsNumber | None: ...
    async def page(self, org_id: str, *, page: int, size: int, contains: str | None = None,
                   types: Sequence[str] = (), statuses: Sequence[str] = (),
                   countries: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[SmsNumber], int]: ...
    async def update(self, n: SmsNumber) -> None: ...
    async def delete(self, number_id: str) -> None: ...
    async def queues_using(self, number_id: str) -> list[str]: ...


class QueueRepo(Protocol):
    async def add(self, q: Queue) -> None: ...
    async def update(self, q: Queue) -> None: ...
    async def delete(self, queue_id: str) -> None: ...
    async def get(self, org_id: str, queue_id: str) -> Queue | None: ...
    async def by_name(self, org_id: str, name: str) -> Queue | None: ...
    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[Queue], int]: ...
    async def members(self, queue_id: str, *, page: int, size: int,
                      joined: bool | None = None) -> list[QueueMember]: ...
    async def member(self, queue_id: str, user_id: str) -> QueueMember | None: ...
    async def add_members(self, queue_id: str, user_ids: Sequence[str]) -> int: ...
    async def remove_members(self, queue_id: str, user_ids: Sequence[str]) -> int: ...
    async def set_joined(self, queue_id: str, user_id: str, joined: bool) -> bool: ...


class ConversationRepo(Protocol):
    async def add(self, conv: Conversation) -> None: ...
    async def get(self, org_id: str, conversation_id: str) -> Conversation | None: ...
    async def save(self, conv: Conversation) -> None: ...
    async def active_between(self, org_id: str, org_address: str,
                             customer_address: str) -> Conversation | None: ...
    async def active_for_user(self, org_id: str, user_id: str) -> list[Conversation]: ...
    async def active_in_org(self, org_id: str, limit: int = 500) -> list[Conversation]: ...


class MessageRepo(Protocol):
    async def get(self, org_id: str, conversation_id: str, message_id: str
                  ) -> Message | None: ...
    async def in_conversation(self, conversation_id: str) -> list[Message]: ...
    async def for_phone(self, org_id: str, phone: str, limit: int) -> list[Message]: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls it back."""

    @property
    def orgs(self) -> OrganizationRepo: ...
    @property
    def users(self) -> UserRepo: ...
    @property
    def clients(self) -> ClientRepo: ...
    @property
    def tokens(self) -> TokenRepo: ...
    @property
    def numbers(self) -> NumberRepo: ...
    @property
    def queues(self) -> QueueRepo: ...
    @property
    def conversations(self) -> ConversationRepo: ...
    @property
    def messages(self) -> MessageRepo: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""`uow()` for a write transaction, `uow(read_only=True)` for a read view."""


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
    provider_message_id: str | None = None
    error: CarrierError | None = None
    retry_at_ms: int | None = None
    """Set for a failure that will be retried; None for a final failure."""
    attempts: int = 0


class MessageStore(Protocol):
    """The hot path: group-committed appends and bulk status updates, no per-message scans."""

    async def communication(self, conversation_id: str,
                            communication_id: str) -> Communication | None: ...

    async def append(self, *, conversation: Conversation | None,
                     participants: Sequence[Participant], messages: Sequence[Message],
                     outbox: Sequence[OutboxEntry]) -> None: ...

    async def record_outcomes(self, outcomes: Sequence[SubmitOutcome]) -> None: ...

    async def record_deliveries(self, reports: Sequence[DeliveryReport]) -> None: ...

    async def claim_due(self, now_ms: int, lease_ms: int, limit: int) -> list[OutboundSms]: ...

    async def release_leases(self) -> int:
        """Make every leased outbox row due now (start-up of the only node)."""
        ...
