"""The small interfaces the use cases need from the outside world.

Adapters in `store/`, `carriers/` and `bus/` implement them; `bootstrap.py` wires them in.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from parley.domain.access import Role
from parley.domain.agents import AgentPresence, Skill, UserSkill, WrapupCode
from parley.domain.carriers import CarrierConnection, LinkState, SendLimits
from parley.domain.conversations import Communication, Conversation, Participant
from parley.domain.directory import (
    AuthorizationCode,
    OAuthClient,
    Organization,
    TokenRecord,
    User,
)
from parley.domain.flow_catalog import Flow, FlowVersion
from parley.domain.flows import CallData, DataFailure, DataResult
from parley.domain.messages import Message, MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType, SmsNumber
from parley.domain.opt_out import OptOut
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
    """The id of the carrier connection that serves `from_address`."""
    attempts: int = 0
    valid_until_ms: int | None = None
    """When the text stops being worth delivering (the outbox's validity period, set by the
    sender): a carrier that can say so passes it on (SMPP validity_period)."""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    provider_message_id: str
    """The carrier's id of the text, or of one part of a multipart text."""
    status: MessageStatus
    at_ms: int
    carrier: str
    """The connection it came through: ids are only unique per carrier."""
    error_code: str | None = None
    error_message: str | None = None


class AlreadyStored(Exception):
    """A write clashed with a row another request (or node) stored first."""


class CarrierError(Exception):
    """A carrier refused or failed a submit. `permanent` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a carrier received for one of our numbers, normalised by its adapter."""

    carrier: str
    carrier_message_id: str
    from_address: str
    to_address: str
    text: str
    received_ms: int


@dataclass(frozen=True, slots=True)
class BindStatus:
    """One session of a connection (an SMPP bind)."""

    name: str
    state: LinkState
    since_ms: int
    reason: str | None = None
    in_flight: int = 0


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What a running carrier connection reports about itself, on this node."""

    state: LinkState
    since_ms: int
    reason: str | None = None
    binds: tuple[BindStatus, ...] = ()
    counters: dict[str, int] = field(default_factory=dict)


DeliverySink = Callable[[Sequence[DeliveryReport]], Awaitable[None]]
InboundSink = Callable[[InboundSms], Awaitable[object]]


class Carrier(Protocol):
    """One connection to an SMS carrier. SMPP and HTTP providers are one file each."""

    name: str
    """The connection's id: what numbers and messages record as their carrier."""
    limits: SendLimits

    async def start(self, on_reports: DeliverySink, on_inbound: InboundSink) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, sms: OutboundSms) -> list[str]:
        """Hand one text to the carrier; return its id for each part, or raise CarrierError.

        A multipart text is submitted whole or the call fails: the parts the carrier took
        are not resent by the adapter's own retries.
        """
        ...

    async def available_numbers(self, *, country_code: str, number_type: PhoneNumberType,
                                area_code: str | None, pattern: str | None,
                                limit: int) -> list[AvailableNumber]: ...

    async def check_number(self, phone_number: str) -> None:
        """Raise CarrierError if this carrier cannot serve the number."""
        ...

    def status(self) -> LinkStatus: ...


WEBHOOK_ROOT = "/api/v2/parley/carriers/{connection_id}/webhooks/"
"""Where providers call a connection; what follows is the carrier's own (`twilio/status`)."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A request a provider made to one connection, as the API received it, unparsed: the
    carrier knows its provider's encoding and signature, the server knows neither."""

    hook: str
    """The path after the connection's WEBHOOK_ROOT, e.g. `twilio/messages`."""
    url: str
    """The path and query string exactly as sent (what providers sign), not decoded."""
    headers: Mapping[str, str]
    """Looked up case-insensitively."""
    body: bytes
    remote: str | None = None
    """Who sent it (X-Forwarded-For or the peer), for the log line of a refused request."""


@dataclass(frozen=True, slots=True)
class WebhookReply:
    body: str
    media_type: str
    status: int = 200


@runtime_checkable
class WebhookCarrier(Protocol):
    """A carrier that receives HTTP webhooks (texts from customers, status callbacks).

    It checks that a request comes from its provider (a signature) before it changes
    anything, parses it, hands what it brought to the sinks it was started with, and says
    what to answer. It raises NotFound for a hook it does not have, Forbidden for a request
    that is not its provider's and InvalidInput for one it cannot read.
    """

    async def webhook(self, request: WebhookRequest) -> WebhookReply: ...


class InboundParts(Protocol):
    """Parts of multipart inbound texts, durable before the carrier is acknowledged."""

    async def add(self, carrier: str, key: str, seq: int, total: int, text: str,
                  received_ms: int) -> tuple[str, str] | None:
        """Keep one part. Once every part is in: (the whole text, its idempotency key)."""
        ...

    async def forget(self, carrier: str, key: str) -> None:
        """Drop a text's parts once the text itself is stored."""
        ...

    async def pending(self, carrier: str, *, complete_or_older_than_ms: int
                      ) -> list[tuple[str, str, str]]:
        """(key, text so far, idempotency key) of texts whose parts are all in (a crash came
        between storing the last part and the text) or whose first part is older than the
        limit (a part the carrier never sent: the text goes on with a gap marked)."""
        ...


class DataActions(Protocol):
    """Performs a flow's HTTP data action (callData) with its timeout."""

    async def call(self, request: CallData) -> DataResult | DataFailure: ...


# -- events -------------------------------------------------------------------------------


class EventBus(Protocol):
    def publish(self, topic: str, body: dict[str, Any], *, org_id: str) -> None: ...

    def subscribe(self, handler: Callable[[str, dict[str, Any], str], None]) -> None: ...


class Router(Protocol):
    """The ACD as the conversation use cases see it."""

    def is_routing(self, org_id: str, conversation_id: str) -> bool: ...
    async def accept(self, org_id: str, conversation_id: str, user_id: str) -> None: ...
    async def decline(self, org_id: str, conversation_id: str, user_id: str) -> None: ...
    async def finish(self, org_id: str, conversation_id: str) -> None: ...
    async def transfer(self, org_id: str, conversation_id: str, queue_id: str) -> None: ...


class RoutingListener(Protocol):
    """Told after a change to routing facts commits, so the ACD can reload them."""

    async def agent_changed(self, org_id: str, user_id: str) -> None: ...

    async def queue_changed(self, org_id: str, queue_id: str) -> None: ...


# -- store ----------------------------------------------------------------------------------

# A repository's `get` answers None for an id it does not know; its `require` raises
# NotFound (with the message given, else its own), which is what a use case usually wants.


class OrganizationRepo(Protocol):
    async def add(self, org: Organization, *, is_demo: bool = False) -> None: ...
    async def get(self, org_id: str) -> Organization | None: ...
    async def require(self, org_id: str, *, message: str | None = None,
                      **details: str) -> Organization: ...
    async def demo(self) -> Organization | None: ...


class UserRepo(Protocol):
    async def add(self, u: User) -> None: ...
    async def get(self, org_id: str, user_id: str) -> User | None: ...
    async def require(self, org_id: str, user_id: str, *, message: str | None = None,
                      **details: str) -> User: ...
    async def by_email(self, email: str) -> User | None: ...
    async def many(self, org_id: str, ids: Sequence[str]) -> dict[str, User]: ...
    async def page(self, org_id: str, *, page: int, size: int, ids: Sequence[str] | None = None,
                   state: str | None = None, descending: bool = False
                   ) -> tuple[list[User], int]: ...
    async def set_password(self, user_id: str, password_hash: str) -> None: ...
    async def admin_ids(self, org_id: str) -> list[str]: ...
    async def set_role(self, user_id: str, role: Role) -> list[str]: ...


class ClientRepo(Protocol):
    async def add(self, c: OAuthClient) -> None: ...
    async def get(self, client_id: str) -> OAuthClient | None: ...
    async def require(self, client_id: str, *, org_id: str | None = None,
                      message: str | None = None, **details: str) -> OAuthClient:
        """With `org_id`, another organisation's client is not found either."""
        ...
    async def in_org(self, org_id: str) -> list[OAuthClient]: ...
    async def browser_clients(self) -> list[OAuthClient]: ...
    async def set_secret(self, client_id: str, secret_hash: str) -> None: ...
    async def delete(self, client_id: str) -> list[str]: ...


class TokenRepo(Protocol):
    async def add(self, token: TokenRecord) -> None: ...
    async def live_owners(self, owners: Sequence[tuple[str | None, str]], now_ms: int
                          ) -> set[tuple[str | None, str, Role]]:
        """(user id or None, client id, role) of each owner with an unexpired token."""
        ...
    async def get(self, token_id: str) -> TokenRecord | None: ...
    async def by_refresh(self, refresh_hash: str) -> TokenRecord | None: ...
    async def delete(self, token_id: str) -> bool: ...
    async def purge_expired(self, now_ms: int, refresh_until_ms: int) -> int: ...
    async def add_code(self, code: AuthorizationCode) -> None: ...
    async def take_code(self, code_id: str) -> AuthorizationCode | None: ...


class NumberRepo(Protocol):
    async def add(self, n: SmsNumber) -> None: ...
    async def get(self, org_id: str, number_id: str) -> SmsNumber | None: ...
    async def require(self, org_id: str, number_id: str, *, message: str | None = None,
                      **details: str) -> SmsNumber: ...
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
    async def require(self, org_id: str, queue_id: str, *, message: str | None = None,
                      **details: str) -> Queue: ...
    async def by_name(self, org_id: str, name: str) -> Queue | None: ...
    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = (), descending: bool = False
                   ) -> tuple[list[Queue], int]: ...
    async def members(self, queue_id: str, *, page: int, size: int,
                      joined: bool | None = None) -> list[QueueMember]: ...
    async def member(self, queue_id: str, user_id: str) -> QueueMember | None: ...
    async def add_members(self, queue_id: str, user_ids: Sequence[str]) -> int: ...
    async def remove_members(self, queue_id: str, user_ids: Sequence[str]) -> int: ...
    async def memberships(self, user_id: str) -> list[tuple[str, bool]]: ...
    async def set_joined(self, queue_id: str, user_id: str, joined: bool) -> bool: ...


class ConversationRepo(Protocol):
    async def add(self, conv: Conversation) -> None: ...
    async def get(self, org_id: str, conversation_id: str) -> Conversation | None: ...
    async def require(self, org_id: str, conversation_id: str, *,
                      message: str | None = None, **details: str) -> Conversation: ...
    async def save(self, conv: Conversation) -> None: ...
    async def active_between(self, org_id: str, org_address: str,
                             customer_address: str) -> Conversation | None: ...
    async def in_after_call_work(self) -> list[tuple[str, str, str, str | None, int]]: ...
    async def latest_between(self, org_id: str, org_address: str,
                             customer_address: str) -> Conversation | None: ...
    async def active_for_user(self, org_id: str, user_id: str) -> list[Conversation]: ...
    async def active_in_org(self, org_id: str, limit: int = 500) -> list[Conversation]: ...


class MessageRepo(Protocol):
    async def add(self, m: Message) -> None: ...
    async def by_inbound_key(self, key: str) -> Message | None: ...
    async def get(self, org_id: str, conversation_id: str, message_id: str
                  ) -> Message | None: ...
    async def require(self, org_id: str, conversation_id: str, message_id: str, *,
                      message: str | None = None, **details: str) -> Message: ...
    async def in_conversation(self, conversation_id: str) -> list[Message]: ...
    async def for_phone(self, org_id: str, phone: str, limit: int) -> list[Message]: ...
    async def conversations_of(self, message_ids: Sequence[str],
                               provider_ids: Sequence[str]) -> list[tuple[str, str]]: ...


class AgentRepo(Protocol):
    async def presence(self, user_id: str) -> AgentPresence | None: ...
    async def in_org(self, org_id: str) -> list[tuple[AgentPresence, bool, int | None]]: ...
    async def all(self) -> list[tuple[AgentPresence, bool, int | None]]: ...
    async def set_presence(self, p: AgentPresence) -> None: ...
    async def set_not_responding(self, org_id: str, user_id: str, value: bool,
                                 now_ms: int) -> None: ...
    async def not_responding(self, user_id: str) -> bool: ...
    async def capacity(self, user_id: str) -> int | None: ...
    async def set_capacity(self, org_id: str, user_id: str, capacity: int | None,
                           now_ms: int) -> None: ...
    async def org_capacity(self, org_id: str) -> int | None: ...
    async def set_org_capacity(self, org_id: str, capacity: int) -> None: ...
    async def all_org_capacities(self) -> dict[str, int]: ...


class SkillRepo(Protocol):
    async def add(self, s: Skill) -> None: ...
    async def get(self, org_id: str, skill_id: str) -> Skill | None: ...
    async def require(self, org_id: str, skill_id: str, *, message: str | None = None,
                      **details: str) -> Skill: ...
    async def by_name(self, org_id: str, name: str) -> Skill | None: ...
    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = ()) -> tuple[list[Skill], int]: ...
    async def delete(self, skill_id: str) -> None: ...
    async def of_user(self, user_id: str) -> list[UserSkill]: ...
    async def all_user_skills(self) -> list[UserSkill]: ...
    async def set_user_skill(self, us: UserSkill) -> None: ...
    async def remove_user_skill(self, user_id: str, skill_id: str) -> bool: ...
    async def clear_user_skills(self, user_id: str) -> None: ...


class WrapupCodeRepo(Protocol):
    async def add(self, w: WrapupCode) -> None: ...
    async def update(self, w: WrapupCode) -> None: ...
    async def delete(self, code_id: str) -> None: ...
    async def get(self, org_id: str, code_id: str) -> WrapupCode | None: ...
    async def require(self, org_id: str, code_id: str, *, message: str | None = None,
                      **details: str) -> WrapupCode: ...
    async def by_name(self, org_id: str, name: str) -> WrapupCode | None: ...
    async def page(self, org_id: str, *, page: int, size: int, name: str | None = None,
                   ids: Sequence[str] = ()) -> tuple[list[WrapupCode], int]: ...
    async def of_queue(self, queue_id: str) -> list[WrapupCode]: ...
    async def add_to_queue(self, queue_id: str, code_ids: Sequence[str]) -> None: ...
    async def remove_from_queue(self, queue_id: str, code_id: str) -> bool: ...


@dataclass(slots=True)
class AcdRecord:
    """A conversation the ACD is routing, as persisted so a restart can rebuild the ACD."""

    conversation_id: str
    org_id: str
    queue_id: str
    state: str  # waiting | alerting | connected
    priority: int
    skills: list[str]
    enqueued_ms: int
    preferred_agent: str | None = None
    agent_id: str | None = None
    participant_id: str | None = None
    deadline_ms: int | None = None
    declined_by: list[str] | None = None


class AcdRepo(Protocol):
    async def get(self, conversation_id: str) -> AcdRecord | None: ...
    async def all(self) -> list[AcdRecord]: ...
    async def put(self, rec: AcdRecord) -> None: ...
    async def delete(self, conversation_id: str) -> None: ...


class FlowRepo(Protocol):
    async def add(self, f: Flow) -> None: ...
    async def update(self, f: Flow) -> None: ...
    async def delete(self, flow_id: str) -> None: ...
    async def get(self, org_id: str, flow_id: str, *,
                  for_update: bool = False) -> Flow | None: ...
    async def require(self, org_id: str, flow_id: str, *, for_update: bool = False,
                      message: str | None = None, **details: str) -> Flow: ...
    async def by_name(self, org_id: str, name: str, *,
                      lock: bool = False) -> Flow | None: ...
    async def page(self, org_id: str, *, page: int, size: int, types: Sequence[str] = (),
                   name: str | None = None, ids: Sequence[str] = ()
                   ) -> tuple[list[Flow], int]: ...
    async def add_version(self, v: FlowVersion) -> None: ...
    async def mark_published(self, flow_id: str, version: int, now_ms: int) -> None: ...
    async def versions(self, flow_id: str) -> list[FlowVersion]: ...
    async def version(self, flow_id: str, version: int) -> FlowVersion | None: ...
    async def numbers_routed_to(self, flow_id: str) -> list[str]: ...
    async def route_of(self, number_id: str) -> tuple[str | None, int | None, str | None]: ...
    async def set_route(self, number_id: str, flow_id: str | None, now_ms: int,
                        by: str | None) -> None: ...
    async def run(self, conversation_id: str) -> tuple[str, int, dict[str, Any]] | None: ...
    async def put_run(self, conversation_id: str, org_id: str, flow_id: str, version: int,
                      state: dict[str, Any], wait_until_ms: int | None, now_ms: int) -> None: ...
    async def end_run(self, conversation_id: str) -> None: ...
    async def due_runs(self, now_ms: int, limit: int = 500) -> list[tuple[str, str]]: ...


class OptOutRepo(Protocol):
    async def add(self, o: OptOut) -> None: ...
    async def remove(self, org_id: str, customer_address: str,
                     org_addresses: list[str]) -> int: ...
    async def all_of(self, org_id: str) -> list[OptOut]: ...
    async def page(self, org_id: str, *, page: int, size: int,
                   customer: str | None = None) -> tuple[list[OptOut], int]: ...
    async def policy(self, org_id: str) -> dict[str, Any] | None: ...
    async def set_policy(self, org_id: str, policy: dict[str, Any]) -> None: ...


class CarrierConnectionRepo(Protocol):
    async def add(self, c: CarrierConnection) -> None: ...
    async def update(self, c: CarrierConnection) -> None: ...
    async def delete(self, connection_id: str) -> None: ...
    async def get(self, org_id: str, connection_id: str) -> CarrierConnection | None: ...
    async def require(self, org_id: str, connection_id: str, *, message: str | None = None,
                      **details: str) -> CarrierConnection: ...
    async def get_any(self, connection_id: str) -> CarrierConnection | None: ...
    async def by_name(self, org_id: str, name: str) -> CarrierConnection | None: ...
    async def in_org(self, org_id: str) -> list[CarrierConnection]: ...
    async def all(self) -> list[CarrierConnection]: ...
    async def versions(self) -> dict[str, int]: ...
    async def numbers_on(self, org_id: str, connection_id: str) -> list[str]: ...


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

    @property
    def agents(self) -> AgentRepo: ...

    @property
    def skills(self) -> SkillRepo: ...

    @property
    def wrapup_codes(self) -> WrapupCodeRepo: ...

    @property
    def acd(self) -> AcdRepo: ...

    @property
    def flows(self) -> FlowRepo: ...

    @property
    def opt_outs(self) -> OptOutRepo: ...

    @property
    def carriers(self) -> CarrierConnectionRepo: ...

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
