"""Carrier connections: the SMPP links and HTTP provider accounts an organisation sends through.

A connection is configuration an admin manages (API, console, CLI): its kind, its settings,
its secrets (kept, never shown again) and the numbers it serves. Settings are checked here,
field by field against one table per kind, so every entry point gives the same errors and a
form can mark every wrong field at once.

The rates are the carriers' rules, counted in segments (a 3-part text is 3): a US long code
takes about one segment a second, a toll-free number three, a short code a hundred
(shared/reference/peers.md). Sending faster only makes the carrier throttle or block us.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from parley.domain.errors import InvalidFields, InvalidInput
from parley.domain.numbers import PhoneNumberType
from parley.domain.phone import parse_e164, region_of

BUILTIN_SIM = "sim"
"""The id of the simulator every organisation may use when the server runs with it."""


class CarrierKind(StrEnum):
    SMPP = "smpp"
    HTTP = "http"
    SIM = "sim"


class LinkState(StrEnum):
    """What a connection (or one SMPP bind of it) is doing right now, on this node."""

    CONNECTING = "connecting"
    BOUND = "bound"
    """SMPP: bound and sending. HTTP and sim: ready to send."""
    FAILED = "failed"
    """The last attempt failed (the reason says why); it keeps retrying with backoff."""
    STOPPED = "stopped"
    DISABLED = "disabled"


class Concatenation(StrEnum):
    UDH = "udh"
    """A user data header in every part (esm_class 0x40): what handsets and most SMSCs expect."""
    SAR = "sar"
    """sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs."""
    PAYLOAD = "payload"
    """The whole text in one submit_sm's message_payload TLV; the SMSC splits it."""


DEFAULT_NUMBER_RATES: Mapping[PhoneNumberType, float] = {
    PhoneNumberType.LOCAL: 1.0, PhoneNumberType.MOBILE: 1.0, PhoneNumberType.TOLLFREE: 3.0,
    PhoneNumberType.SHORTCODE: 100.0,
}
UNLIMITED_NUMBER_RATES: Mapping[PhoneNumberType, float] = {t: 0.0 for t in PhoneNumberType}


@dataclass(frozen=True, slots=True)
class SendLimits:
    """Segments per second; 0 means no limit."""

    per_connection: float = 0.0
    per_number: Mapping[PhoneNumberType, float] = field(
        default_factory=lambda: dict(UNLIMITED_NUMBER_RATES))

    @property
    def unlimited(self) -> bool:
        return self.per_connection <= 0 and all(r <= 0 for r in self.per_number.values())

    def for_number(self, kind: PhoneNumberType | None) -> float:
        if kind is None:
            return 0.0
        return self.per_number.get(kind, 0.0)


@dataclass(frozen=True, slots=True)
class InventoryNumber:
    """A number the carrier assigned to this connection, which may be registered in Parley."""

    phone_number: str
    phone_number_type: PhoneNumberType
    country_code: str


@dataclass(slots=True)
class CarrierConnection:
    id: str
    org_id: str
    name: str
    kind: CarrierKind
    settings: dict[str, Any]
    secrets: dict[str, str]
    inventory: list[InventoryNumber] = field(default_factory=list)
    enabled: bool = True
    version: int = 1
    created_ms: int = 0
    modified_ms: int = 0
    created_by: str | None = None
    modified_by: str | None = None

    @property
    def limits(self) -> SendLimits:
        rates = self.settings.get("numberRates") or {}
        return SendLimits(
            per_connection=float(self.settings.get("throughput", 0.0)),
            per_number={PhoneNumberType(k): float(v) for k, v in rates.items()})

    def serves(self, phone_number: str) -> InventoryNumber | None:
        return next((n for n in self.inventory if n.phone_number == phone_number), None)


# -- settings, one table per kind ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    check: Callable[[object], object]
    """Returns the normalised value or raises ValueError with what is wrong."""
    default: object = None
    required: bool = False
    help: str = ""


def _text(max_len: int, *, pattern: str | None = None) -> Callable[[object], object]:
    rx = re.compile(pattern) if pattern else None

    def check(v: object) -> object:
        if not isinstance(v, str):
            raise ValueError("must be a string")
        if len(v) > max_len:
            raise ValueError(f"must be at most {max_len} characters")
        if rx is not None and not rx.fullmatch(v):
            raise ValueError(f"'{v}' is not valid here")
        return v
    return check


def _int(lo: int, hi: int) -> Callable[[object], object]:
    def check(v: object) -> object:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("must be a whole number")
        if not lo <= v <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return v
    return check


def _rate(v: object) -> object:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError("must be a number of segments per second (0 for no limit)")
    if not 0 <= v <= 100_000:
        raise ValueError("must be between 0 (no limit) and 100000 segments per second")
    return float(v)


def _bool(v: object) -> object:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


_TONS = (0, 1, 2, 3, 4, 5, 6)
_NPIS = (0, 1, 3, 4, 6, 8, 9, 10, 14, 18)
"""The type-of-number and numbering-plan values SMPP 3.4 (5.2.5, 5.2.6) defines."""


def _code(*values: int) -> Callable[[object], object]:
    def check(v: object) -> object:
        if isinstance(v, bool) or v not in values:
            raise ValueError(f"must be one of: {', '.join(map(str, values))}")
        return v
    return check


def _choice(*values: str) -> Callable[[object], object]:
    def check(v: object) -> object:
        if v not in values:
            raise ValueError(f"must be one of: {', '.join(values)}")
        return v
    return check


def _url(v: object) -> object:
    if not isinstance(v, str) or not v:
        raise ValueError("must be a URL such as https://api.example.com")
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"'{v}' is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or a fragment")
    return v.rstrip("/")


def _number_rates(v: object) -> object:
    if not isinstance(v, dict):
        raise ValueError("must be an object such as {\"local\": 1, \"tollfree\": 3}")
    unknown = set(v) - {t.value for t in PhoneNumberType}
    if unknown:
        raise ValueError(f"unknown number type(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"use {', '.join(t.value for t in PhoneNumberType)}")
    given = {}
    for k, rate in v.items():
        try:
            given[k] = float(_rate(rate))  # type: ignore[arg-type]
        except ValueError as e:
            raise ValueError(f"{k} {e}") from None
    return given


_HOST = r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]"
_LIMITS = (
    Setting("throughput", _rate, 0.0,
            help="segments per second over the whole connection (0: no limit)"),
    Setting("numberRates", _number_rates, None,
            help="segments per second per number, by number type"),
)

SETTINGS: Mapping[CarrierKind, tuple[Setting, ...]] = {
    CarrierKind.SMPP: (
        Setting("host", _text(253, pattern=_HOST), required=True, help="the SMSC's host"),
        Setting("port", _int(1, 65535), 2775),
        Setting("systemId", _text(15), required=True,
                help="system_id of the bind (at most 15 characters)"),
        Setting("systemType", _text(12), ""),
        Setting("bindMode", _choice("transceiver", "transmitter+receiver"), "transceiver",
                help="one transceiver bind, or a transmitter and a receiver bind"),
        Setting("binds", _int(1, 10), 1, help="sessions of that mode to open"),
        Setting("tls", _bool, False),
        Setting("tlsVerify", _bool, True, help="check the SMSC's certificate"),
        Setting("enquireLinkSeconds", _int(1, 3600), 30),
        Setting("responseTimeoutSeconds", _int(1, 300), 10,
                help="how long a submit_sm may wait for its response"),
        Setting("reconnectMaxSeconds", _int(1, 3600), 60,
                help="backoff between reconnects doubles from 1 s up to this"),
        Setting("window", _int(1, 1000), 10,
                help="submit_sm requests in flight per bind, unacknowledged"),
        Setting("concatenation", _choice(*(c.value for c in Concatenation)),
                Concatenation.UDH.value),
        Setting("registeredDelivery", _bool, True, help="ask the SMSC for delivery receipts"),
        Setting("sourceTon", _code(*_TONS), 1, help="1: international (E.164)"),
        Setting("sourceNpi", _code(*_NPIS), 1, help="1: ISDN (E.164)"),
        Setting("destinationTon", _code(*_TONS), 1),
        Setting("destinationNpi", _code(*_NPIS), 1),
        *_LIMITS,
    ),
    CarrierKind.HTTP: (
        Setting("provider", _choice("twilio"), "twilio",
                help="the REST dialect: Twilio's (also spoken by compatible providers)"),
        Setting("baseUrl", _url, "https://api.twilio.com",
                help="the provider's API root; change it for a regional or self-hosted one"),
        Setting("accountSid", _text(64, pattern=r"[A-Za-z0-9_-]+"), required=True),
        Setting("messagingServiceSid", _text(64, pattern=r"[A-Za-z0-9_-]*"), ""),
        Setting("webhookBaseUrl", _url, None,
                help="the public URL the provider calls Parley at (default: the server's "
                     "PARLEY_PUBLIC_URL); signatures are checked against it"),
        Setting("timeoutSeconds", _int(1, 120), 10),
        *_LIMITS,
    ),
    CarrierKind.SIM: (
        Setting("deliveryDelayMs", _int(0, 600_000), 300,
                help="how long after a submit the simulated receipt comes"),
        Setting("throughput", _rate, 0.0),
        Setting("numberRates", _number_rates, None),
    ),
}

SECRETS: Mapping[CarrierKind, tuple[Setting, ...]] = {
    CarrierKind.SMPP: (Setting("password", _text(8), required=True,
                               help="password of the bind (SMPP 3.4: at most 8 characters)"),),
    CarrierKind.HTTP: (Setting("authToken", _text(200), required=True,
                               help="the account's auth token: signs requests and webhooks"),),
    CarrierKind.SIM: (),
}

_DEFAULT_RATES: Mapping[CarrierKind, Mapping[PhoneNumberType, float]] = {
    CarrierKind.SMPP: DEFAULT_NUMBER_RATES, CarrierKind.HTTP: DEFAULT_NUMBER_RATES,
    CarrierKind.SIM: UNLIMITED_NUMBER_RATES,
}


def kind_of(raw: object) -> CarrierKind:
    try:
        return CarrierKind(str(raw))
    except ValueError:
        kinds = ", ".join(k.value for k in CarrierKind)
        raise InvalidInput(f"kind must be one of: {kinds} (got {raw!r})", field="kind") from None


def check_settings(kind: CarrierKind, raw: object, *, base: Mapping[str, Any] | None = None,
                   where: str = "settings") -> dict[str, Any]:
    """Settings of `kind` with defaults filled in; `base` (the current ones) under a PATCH.

    Every problem is reported at once, each with the field it is about.
    """
    return _check(SETTINGS[kind], raw, base, where, kind)


def check_secrets(kind: CarrierKind, raw: object, *,
                  base: Mapping[str, str] | None = None) -> dict[str, str]:
    return {k: str(v) for k, v in _check(SECRETS[kind], raw, base, "secrets", kind).items()}


def _check(table: tuple[Setting, ...], raw: object, base: Mapping[str, Any] | None,
           where: str, kind: CarrierKind) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be a JSON object", field=where)
    known = {s.name for s in table}
    problems = [(f"{where}.{k}", f"is not a setting of a {kind.value} connection; known: "
                 f"{', '.join(sorted(known)) or 'none'}") for k in raw if k not in known]
    out: dict[str, Any] = {}
    for s in table:
        if s.name in raw and raw[s.name] is not None:
            try:
                out[s.name] = s.check(raw[s.name])
            except ValueError as e:
                problems.append((f"{where}.{s.name}", str(e)))
        elif base is not None and s.name in base:
            out[s.name] = base[s.name]
        elif s.required:
            problems.append((f"{where}.{s.name}", "is required"
                             + (f": {s.help}" if s.help else "")))
        elif s.default is not None:
            out[s.name] = s.default
    if any(s.name == "numberRates" for s in table):
        # Rates name only the types they change; the rest keep what they had (or the default).
        rates = {t.value: r for t, r in _DEFAULT_RATES[kind].items()}
        rates.update((base or {}).get("numberRates") or {})
        rates.update(out.get("numberRates") or {})
        out["numberRates"] = rates
    if problems:
        raise InvalidFields(problems)
    return out


def check_inventory(raw: object) -> list[InventoryNumber]:
    """The numbers a connection serves: [{phoneNumber, phoneNumberType}], each E.164."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("numbers must be a list of {phoneNumber, phoneNumberType}",
                           field="numbers")
    if len(raw) > 10_000:
        raise InvalidInput("at most 10000 numbers per connection", field="numbers")
    problems: list[tuple[str, str]] = []
    seen: dict[str, InventoryNumber] = {}
    for i, item in enumerate(raw):
        where = f"numbers[{i}]"
        if not isinstance(item, dict):
            problems.append((where, "must be an object {phoneNumber, phoneNumberType}"))
            continue
        try:
            e164 = parse_e164(item.get("phoneNumber"), f"{where}.phoneNumber")
        except InvalidInput as e:
            problems.append((f"{where}.phoneNumber", e.message))
            continue
        kind_raw = item.get("phoneNumberType", PhoneNumberType.LOCAL.value)
        try:
            kind = PhoneNumberType(kind_raw)
        except ValueError:
            problems.append((f"{where}.phoneNumberType",
                             f"'{kind_raw}' is not one of: "
                             f"{', '.join(t.value for t in PhoneNumberType)}"))
            continue
        if e164 in seen:
            problems.append((f"{where}.phoneNumber", f"{e164} is listed twice"))
            continue
        seen[e164] = InventoryNumber(e164, kind, region_of(e164) or "")
    if problems:
        raise InvalidFields(problems)
    return list(seen.values())


def check_name(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("name is required", field="name")
    if len(raw) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    return raw.strip()
