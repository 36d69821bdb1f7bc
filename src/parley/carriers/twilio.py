"""The Twilio-compatible HTTP carrier: one provider account, spoken to through Twilio's own SDK.

Twilio's REST dialect is also spoken by regional endpoints and self-hosted gateways, so the
API root is a setting. The SDK has no base-URL argument; it is set on the SDK's `api` domain,
and everything else (the request encoding, Basic auth, paging, error bodies) stays the SDK's.
Its asyncio client keeps the event loop free: a submit is a POST that can take a second at a
busy provider, and many are in flight at once.

Only faults of the request itself (a To that is not a number or has unsubscribed, a From the
account does not own, any other 4xx) fail a text for good. Throttling (429), the provider's
own errors (5xx), timeouts, a network that is down and refused credentials (401: a token being
rotated is the connection's fault, not the text's) go back to the outbox, which retries. A
submit that timed out may have been taken, so its retry can send the text twice; that is
better than losing it.

Texts from customers and status callbacks come in as webhooks: the only requests Parley takes
without a bearer token, since providers cannot send one. Each must carry the
X-Twilio-Signature the provider computes with the account's auth token over the URL it called.
That URL is rebuilt from the connection's public webhook base and the path, not from the Host
header, so a reverse proxy in between neither breaks the check nor lets a caller choose what is
checked. An inbound text is answered only once it is stored; the store keeps one copy per
MessageSid, so a provider's retry (or a replayed request) stores nothing new.

The credentials are checked at start (GET the account) so the console shows a wrong token
before the first text fails, and again, with backoff, whenever a submit cannot reach the
provider or is refused.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, NoReturn, Self
from urllib.parse import parse_qsl

import phonenumbers
from aiohttp import ClientError
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from parley.carriers.host import CarrierHost
from parley.concurrency import stop_task
from parley.domain.carriers import CarrierConnection, InventoryNumber, LinkState
from parley.domain.errors import Forbidden, InvalidInput, NotFound
from parley.domain.messages import MessageStatus
from parley.domain.numbers import AvailableNumber, PhoneNumberType
from parley.domain.phone import region_of
from parley.services.ports.carriers import (
    WEBHOOK_ROOT,
    CarrierError,
    DeliveryReport,
    DeliverySink,
    InboundSink,
    InboundSms,
    LinkStatus,
    OutboundSms,
    WebhookReply,
    WebhookRequest,
)
from parley.services.ports.clock import Clock

log = logging.getLogger("parley.carriers.twilio")
sdk_log = logging.getLogger("parley.carriers.twilio.sdk")
"""The SDK logs every request and response at INFO; lower this logger's level to see them."""
sdk_log.setLevel(logging.WARNING)

WEBHOOKS = WEBHOOK_ROOT + "twilio/{kind}"
"""Where the provider calls Parley: kind `messages` (incoming texts) or `status`."""
WEBHOOK_KINDS = ("messages", "status")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
"""The answer to a webhook: Twilio reads a TwiML document, and an empty one does nothing."""

_FINAL = {"delivered": MessageStatus.DELIVERY_SUCCESS,
          "undelivered": MessageStatus.DELIVERY_FAILED,
          "failed": MessageStatus.DELIVERY_FAILED}
"""Statuses that end a text; queued, sending, sent, accepted, scheduled... change nothing."""

_RETRYABLE_STATUS = frozenset({401, 408, 429})
"""4xx answers that are not the text's fault: credentials, a timeout, throttling."""

_SDK_PREFIX = re.compile(r"^Unable to \w+ (record|page): ")
"""What the SDK puts in front of the provider's own message."""

_BACKOFF_MAX_S = 60.0


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's aiohttp client with two fixes: its `timeout` is applied (it only passes a
    per-call one, which the generated resources never set) and Basic auth goes as a header
    (aiohttp 3.14 deprecates the `auth=` argument the SDK passes, and its BasicAuth)."""

    async def request(self, method: str, url: str, params: dict[str, object] | None = None,
                      data: dict[str, object] | None = None,
                      headers: dict[str, str] | None = None,
                      auth: tuple[str, str] | None = None,
                      timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature
                      allow_redirects: bool = False) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            user_pass = f"{auth[0]}:{auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(user_pass).decode("ascii")
        return await super().request(method, url, params=params, data=data, headers=headers,
                                     auth=None, timeout=timeout or self.timeout,
                                     allow_redirects=allow_redirects)


class TwilioCarrier:
    """A connection of kind `http`: a Twilio-compatible provider account. It takes webhooks
    (`WebhookCarrier`): the provider's texts and status callbacks."""

    @classmethod
    def for_connection(cls, conn: CarrierConnection, host: CarrierHost) -> Self:
        return cls(conn, host.clock, public_url=host.public_url)

    def __init__(self, conn: CarrierConnection, clock: Clock, *, public_url: str) -> None:
        self.name = conn.id
        self.limits = conn.limits
        self._label = conn.name
        self._clock = clock
        s = conn.settings
        self._base_url = str(s.get("baseUrl") or "https://api.twilio.com").rstrip("/")
        self._account = str(s["accountSid"])
        self._service = str(s.get("messagingServiceSid") or "")
        self._timeout_s = float(s.get("timeoutSeconds") or 10)
        self._token = conn.secrets.get("authToken", "")
        self._webhook_base = str(s.get("webhookBaseUrl") or public_url).rstrip("/")
        self._validator = RequestValidator(self._token)
        self._inventory = conn.inventory
        self.status_callback = self.webhook_url("status")
        self._client: Any = None
        self._http: _HttpClient | None = None
        self._on_reports: DeliverySink | None = None
        self._on_inbound: InboundSink | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._recheck = asyncio.Event()
        self._state = LinkState.STOPPED
        self._reason: str | None = None
        self._since_ms = clock.now_ms()
        self.counters = {"submitted": 0, "accepted": 0, "rejected": 0, "errors": 0,
                         "received": 0, "receipts": 0, "refusedWebhooks": 0}

    def webhook_url(self, kind: str) -> str:
        """The URL the provider is to call for `kind` (messages or status)."""
        return self._webhook_base + WEBHOOKS.format(connection_id=self.name, kind=kind)

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self, on_reports: DeliverySink, on_inbound: InboundSink) -> None:
        self._on_reports, self._on_inbound = on_reports, on_inbound
        self._http = _HttpClient(timeout=self._timeout_s, logger=sdk_log)
        self._client = Client(self._account, self._token, http_client=self._http)
        self._client.api.base_url = self._base_url
        self._set(LinkState.CONNECTING, f"checking the credentials at {self._base_url}")
        self._watcher = asyncio.create_task(self._watch(), name=f"twilio-check-{self.name}")

    async def stop(self) -> None:
        await stop_task(self._watcher)
        self._watcher = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._client = None
        self._set(LinkState.STOPPED, None)

    def status(self) -> LinkStatus:
        return LinkStatus(self._state, self._since_ms, self._reason,
                          counters=dict(self.counters))

    def _set(self, state: LinkState, reason: str | None) -> None:
        if state is not self._state:
            self._since_ms = self._clock.now_ms()
        self._state, self._reason = state, reason

    def _ready(self) -> None:
        self._set(LinkState.BOUND, "ready; texts to its numbers are to be posted to "
                  + self.webhook_url("messages"))

    def _trouble(self, reason: str) -> None:
        """A submit could not reach the provider or was refused: show it, check again."""
        self._set(LinkState.FAILED, reason)
        self._recheck.set()

    async def _watch(self) -> None:
        """Check the credentials until the provider takes them; again when told to."""
        delay_s = 1.0
        while True:
            reason = await self._check_account()
            if reason is None:
                self._ready()
                delay_s = 1.0
                self._recheck.clear()
                await self._recheck.wait()
                continue
            self._set(LinkState.FAILED, f"{reason}; trying again in {delay_s:g} s")
            log.warning("Twilio connection '%s': %s", self._label, reason)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, _BACKOFF_MAX_S)

    async def _check_account(self) -> str | None:
        """None when the provider knows the account and it is active, else why not."""
        try:
            account = await self._client.api.v2010.accounts(self._account).fetch_async()
        except (TwilioRestException, TwilioServiceException) as e:
            if e.status in (401, 403):
                return f"the provider refused the credentials (HTTP {e.status})"
            if e.status == 404:
                return (f"the provider does not know account {self._account} "
                        f"(HTTP 404)")
            return f"the provider answered HTTP {e.status}: {_message_of(e)}"
        except Exception as e:  # whatever it is, it is the reason shown
            return self._unreachable(e)
        status = getattr(account, "status", None)
        if status not in (None, "active"):
            return f"the provider account {self._account} is {status}"
        return None

    def _unreachable(self, e: BaseException) -> str:
        if isinstance(e, TimeoutError):
            return f"{self._base_url} did not answer within {self._timeout_s:g} s"
        if isinstance(e, ClientError | OSError):
            return f"cannot reach {self._base_url}: {e or type(e).__name__}"
        return f"unexpected answer from {self._base_url}: {e!r}"

    # -- sending ------------------------------------------------------------------------------

    async def submit(self, sms: OutboundSms) -> list[str]:
        if self._client is None:
            raise CarrierError(f"Twilio connection '{self._label}' is not started")
        sender: dict[str, str] = ({"messaging_service_sid": self._service} if self._service
                                  else {"from_": sms.from_address})
        self.counters["submitted"] += 1
        try:
            message = await self._client.messages.create_async(
                to=sms.to_address, body=sms.text, status_callback=self.status_callback,
                **sender)
        except (TwilioRestException, TwilioServiceException) as e:
            raise self._refused(e) from None
        except (TimeoutError, ClientError, OSError) as e:
            self.counters["errors"] += 1
            reason = self._unreachable(e)
            self._trouble(reason)
            raise CarrierError(reason) from None
        except (TwilioException, ValueError) as e:
            self.counters["errors"] += 1
            raise CarrierError(f"the provider's answer was not understood: {e}") from None
        sid = getattr(message, "sid", None)
        if not sid:
            # It answered 2xx, so it took the text: a retry would send it twice.
            raise CarrierError("the provider took the text but gave it no sid", permanent=True,
                               code="twilio.no-sid")
        self.counters["accepted"] += 1
        if self._state is not LinkState.BOUND:
            self._ready()
        return [str(sid)]

    def _refused(self, e: TwilioRestException | TwilioServiceException) -> CarrierError:
        status = int(e.status)
        message = _message_of(e)
        code = f"twilio.{e.code}" if e.code not in (None, status) else f"twilio.http{status}"
        if 400 <= status < 500 and status not in _RETRYABLE_STATUS:
            self.counters["rejected"] += 1
            return CarrierError(f"the provider refused the text ({e.code}): {message}",
                                permanent=True, code=code)
        self.counters["errors"] += 1
        given = f" ({e.code})" if e.code not in (None, status) else ""
        reason = f"the provider answered HTTP {status}{given}: {message}"
        if status == 401:
            self._trouble(f"the provider refused the credentials (HTTP {status})")
        return CarrierError(reason, code=code)

    # -- numbers ------------------------------------------------------------------------------

    async def available_numbers(self, *, country_code: str, number_type: PhoneNumberType,
                                area_code: str | None, pattern: str | None,
                                limit: int) -> list[AvailableNumber]:
        matcher = None if not pattern else re.compile(re.escape(pattern).replace(r"\*", r"\d"))

        def wanted(e164: str, kind: PhoneNumberType) -> bool:
            if kind is not number_type or _region(e164) != country_code:
                return False
            if area_code and not _national(e164).startswith(area_code):
                return False
            return matcher is None or matcher.search(e164) is not None

        found: dict[str, AvailableNumber] = {}
        for n in self._inventory:
            if wanted(n.phone_number, n.phone_number_type):
                found[n.phone_number] = AvailableNumber(n.phone_number, n.phone_number_type,
                                                        n.country_code)
        if len(found) >= limit:
            return list(found.values())[:limit]
        try:
            async for e164, kind in self._owned(number_type):
                if e164 not in found and wanted(e164, kind):
                    found[e164] = AvailableNumber(e164, kind, country_code)
                    if len(found) >= limit:
                        break
        except CarrierError as e:
            if not found:
                raise
            log.warning("Twilio connection '%s': listing the account's numbers failed (%s); "
                        "offering the connection's own numbers only", self._label, e.reason)
        return list(found.values())

    async def _owned(self, number_type: PhoneNumberType
                     ) -> AsyncIterator[tuple[str, PhoneNumberType]]:
        """The account's SMS numbers of a type: from the provider's list of that type if it
        has one, else its whole list, typed by the numbering plan."""
        numbers = self._client.incoming_phone_numbers if self._client is not None else None
        if numbers is None:
            raise CarrierError(f"Twilio connection '{self._label}' is not started")
        typed = {PhoneNumberType.LOCAL: "local", PhoneNumberType.TOLLFREE: "toll_free",
                 PhoneNumberType.MOBILE: "mobile"}.get(number_type)
        if typed is not None:
            try:
                async for n in self._stream(getattr(numbers, typed)):
                    yield n, number_type
                return
            except CarrierError as e:
                if "HTTP 404" not in e.reason:
                    raise
        async for n in self._stream(numbers):
            yield n, _type_of(n)

    async def _stream(self, listing: Any, **filters: str) -> AsyncIterator[str]:
        try:
            async for record in await listing.stream_async(page_size=1000, **filters):
                if _can_text(record) and record.phone_number:
                    yield str(record.phone_number)
        except (TwilioRestException, TwilioServiceException) as e:
            raise CarrierError(f"the provider answered HTTP {e.status}: {_message_of(e)}",
                               code=f"twilio.{e.code}") from None
        except TwilioException as e:
            status = _status_of_page_error(e)
            raise CarrierError(f"the provider answered HTTP {status} to a number listing"
                               if status else f"the provider's answer was not understood: {e}"
                               ) from None
        except (TimeoutError, ClientError, OSError) as e:
            raise CarrierError(self._unreachable(e)) from None

    async def check_number(self, phone_number: str) -> None:
        if self._serves(phone_number) is not None:
            return
        if self._client is None:
            raise CarrierError(f"Twilio connection '{self._label}' is not started")
        async for owned in self._stream(self._client.incoming_phone_numbers,
                                        phone_number=phone_number):
            if owned == phone_number:
                return
        raise CarrierError(f"account {self._account} at the provider does not own "
                           f"{phone_number}, and it is not in the connection's numbers")

    def _serves(self, phone_number: str) -> InventoryNumber | None:
        return next((n for n in self._inventory if n.phone_number == phone_number), None)

    # -- webhooks -----------------------------------------------------------------------------

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        """A request the provider made to Parley: `twilio/messages` or `twilio/status`.

        `request.url` is the path and query string as the provider called them; the
        connection's webhook base URL is put in front, which is what the provider signed.
        """
        params = _form(request)
        dialect, _, kind = request.hook.partition("/")
        if dialect != "twilio" or kind not in WEBHOOK_KINDS:
            raise NotFound(f"no Twilio webhook '{kind if dialect == 'twilio' else request.hook}'"
                           f"; use {' or '.join(WEBHOOK_KINDS)}")
        called = self._webhook_base + request.url
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            self._refuse(kind, request.remote, "no X-Twilio-Signature header")
        elif not self._validator.validate(called, params, signature):
            self._refuse(kind, request.remote, f"the X-Twilio-Signature does not match "
                         f"{called} and its parameters signed with the connection's auth token")
        if kind == "messages":
            await self._inbound(params)
        else:
            await self._status(params)
        return WebhookReply(EMPTY_TWIML, "text/xml")

    def _refuse(self, kind: str, remote: str | None, why: str) -> NoReturn:
        self.counters["refusedWebhooks"] += 1
        log.warning("Twilio connection '%s': %s webhook refused (from %s): %s", self._label,
                    kind, remote or "unknown", why)
        raise Forbidden(f"webhook refused: {why}. Carrier webhooks must be signed by the "
                        "provider; check the connection's auth token and that its "
                        "webhookBaseUrl is the URL the provider calls")

    async def _inbound(self, params: Mapping[str, str]) -> None:
        sid = _required(params, "MessageSid", "SmsMessageSid", "SmsSid")
        sms = InboundSms(carrier=self.name, carrier_message_id=sid,
                         from_address=_required(params, "From"),
                         to_address=_required(params, "To"), text=params.get("Body", ""),
                         received_ms=self._clock.now_ms())
        if self._on_inbound is None:
            raise CarrierError(f"Twilio connection '{self._label}' is not started")
        self.counters["received"] += 1
        await self._on_inbound(sms)

    async def _status(self, params: Mapping[str, str]) -> None:
        sid = _required(params, "MessageSid", "SmsSid")
        stated = _required(params, "MessageStatus", "SmsStatus").lower()
        status = _FINAL.get(stated)
        self.counters["receipts"] += 1
        if status is None:
            return
        failed = status is MessageStatus.DELIVERY_FAILED
        error = params.get("ErrorCode") or stated
        if self._on_reports is None:
            raise CarrierError(f"Twilio connection '{self._label}' is not started")
        await self._on_reports([DeliveryReport(
            provider_message_id=sid, status=status, at_ms=self._clock.now_ms(),
            carrier=self.name, error_code=f"twilio.{error}" if failed else None,
            error_message=(f"the provider reported the text {stated} (error "
                           f"{params.get('ErrorCode') or 'not given'})") if failed else None)])


def _form(request: WebhookRequest) -> dict[str, str]:
    """The form the provider posted: Twilio's webhooks are application/x-www-form-urlencoded."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        raise InvalidInput("a webhook body must be application/x-www-form-urlencoded "
                           f"(got {content_type or 'none'})")
    try:
        return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise InvalidInput("the webhook body is not UTF-8") from None


def _required(params: Mapping[str, str], *names: str) -> str:
    for name in names:
        if params.get(name):
            return params[name]
    raise InvalidInput(f"the webhook has no {names[0]} parameter", field=names[0])


def _message_of(e: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(e, TwilioServiceException):
        return str(e.detail or e.title)
    return _SDK_PREFIX.sub("", str(e.msg))


def _status_of_page_error(e: TwilioException) -> int | None:
    """The SDK raises a bare TwilioException("Unable to fetch page", response) for a page."""
    for arg in e.args[1:]:
        status = getattr(arg, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def _can_text(record: Any) -> bool:
    caps = getattr(record, "capabilities", None)
    if not isinstance(caps, dict):
        return True
    sms = {k.lower(): v for k, v in caps.items()}.get("sms")
    return sms is not False


def _region(e164: str) -> str | None:
    try:
        return region_of(e164)
    except phonenumbers.NumberParseException:
        return None


def _national(e164: str) -> str:
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return ""


def _type_of(e164: str) -> PhoneNumberType:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return PhoneNumberType.LOCAL
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return PhoneNumberType.TOLLFREE
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return PhoneNumberType.MOBILE
    return PhoneNumberType.LOCAL
