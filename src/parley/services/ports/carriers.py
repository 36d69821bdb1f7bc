"""The carrier port: one connection to an SMS carrier, and the records that cross it.

The use cases send and receive texts without knowing how a carrier speaks (SMPP binds, a
provider's HTTP API, the built-in simulator): each adapter in `carriers/` implements
`Carrier`, turns what it receives into `InboundSms` and `DeliveryReport`, and hands them to
the sinks the service layer gives it at start. What a connection reports about itself
(`LinkStatus`) and the store it keeps multipart texts in until they are whole
(`InboundParts`) are here too, as the carriers need them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from parley.domain.carriers import LinkState, SendLimits
from parley.domain.messages import MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType


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


