"""Carrier connections as the API shows them: settings, write-only secrets, numbers and live
state, and the description of each kind's settings for forms."""

from __future__ import annotations

from typing import Any

from parley.api.models.common import Model
from parley.domain.carriers import SECRETS, SETTINGS, CarrierKind, Setting, check_settings
from parley.domain.times import iso
from parley.services.carriers import ConnectionView
from parley.services.ports import LinkStatus

CARRIERS = "/api/v2/parley/carriers"

_NOT_A_VALUE = object()
_ONE_OF = "must be one of: "


class BindStateModel(Model):
    name: str
    status: str
    since: str | None = None
    reason: str | None = None
    inFlight: int = 0


class LinkStateModel(Model):
    status: str
    """bound | connecting | failed | stopped | disabled (on the node that answered)"""
    since: str | None = None
    reason: str | None = None
    binds: list[BindStateModel] = []
    counters: dict[str, int] = {}

    @classmethod
    def of(cls, s: LinkStatus) -> LinkStateModel:
        return cls(status=s.state.value, since=iso(s.since_ms), reason=s.reason,
                   counters=dict(s.counters),
                   binds=[BindStateModel(name=b.name, status=b.state.value,
                                         since=iso(b.since_ms), reason=b.reason,
                                         inFlight=b.in_flight) for b in s.binds])


class InventoryEntry(Model):
    phoneNumber: str
    phoneNumberType: str


class CarrierConnectionModel(Model):
    id: str
    name: str
    kind: str
    enabled: bool
    builtin: bool = False
    settings: dict[str, Any]
    secretsSet: list[str]
    """Names of the secrets that are set; their values are never returned."""
    numbers: list[InventoryEntry]
    """The numbers the carrier assigned to this connection (its inventory)."""
    registeredNumbers: list[str]
    """Numbers registered in Parley (SMS phone numbers) that send through it."""
    state: LinkStateModel
    version: int
    dateCreated: str | None = None
    dateModified: str | None = None
    selfUri: str

    @classmethod
    def of(cls, v: ConnectionView) -> CarrierConnectionModel:
        c = v.connection
        return cls(
            id=c.id, name=c.name, kind=c.kind.value, enabled=c.enabled, builtin=v.builtin,
            settings=c.settings,
            secretsSet=[s.name for s in SECRETS[c.kind] if s.name in c.secrets],
            numbers=[InventoryEntry(phoneNumber=n.phone_number,
                                    phoneNumberType=n.phone_number_type.value)
                     for n in c.inventory],
            registeredNumbers=v.numbers, state=LinkStateModel.of(v.status),
            version=c.version, dateCreated=iso(c.created_ms) if c.created_ms else None,
            dateModified=iso(c.modified_ms) if c.modified_ms else None,
            selfUri=f"{CARRIERS}/{c.id}")


class CarrierConnectionListing(Model):
    entities: list[CarrierConnectionModel]
    total: int


class CarrierConnectionRequest(Model):
    """Checked by the domain, field by field (so every wrong field is named at once)."""

    name: Any = None
    kind: Any = None
    """smpp | http | sim"""
    enabled: Any = None
    """true or false (a JSON boolean)"""
    settings: Any = None
    """An object; its fields depend on the kind (see docs/carriers.md)."""
    secrets: Any = None
    """Write-only: smpp {password}, http {authToken}. Omit to keep the current ones."""
    numbers: Any = None
    """[{phoneNumber, phoneNumberType}]: the numbers this connection serves."""
    version: int | None = None


class SettingDescription(Model):
    name: str
    type: str
    """string | integer | number | boolean | object (numberRates: a rate per number type)"""
    default: Any = None
    """What a connection gets when the setting is not given (absent: no default)."""
    required: bool = False
    help: str = ""
    choices: list[Any] | None = None
    """The only values accepted, when the setting is a choice."""

    @classmethod
    def of(cls, s: Setting, default: Any) -> SettingDescription:
        if isinstance(default, bool):
            kind = "boolean"
        elif isinstance(default, int):
            kind = "integer"
        elif isinstance(default, float):
            kind = "number"
        elif isinstance(default, dict):
            kind = "object"
        else:
            kind = "string"
        choices: list[Any] | None = None
        try:
            s.check(_NOT_A_VALUE)
        except ValueError as e:  # a choice says what it accepts (domain/carriers: _choice, _code)
            if str(e).startswith(_ONE_OF):
                given = str(e).removeprefix(_ONE_OF).split(", ")
                choices = [int(c) if kind == "integer" and c.lstrip("-").isdigit() else c
                           for c in given]
        return cls(name=s.name, type=kind, default=default, required=s.required, help=s.help,
                   choices=choices)


class KindSettings(Model):
    kind: str
    settings: list[SettingDescription]
    secrets: list[SettingDescription]
    """Write-only: set them, never read them back (a connection lists only `secretsSet`)."""

    @classmethod
    def of(cls, kind: CarrierKind) -> KindSettings:
        # The defaults a new connection really gets (numberRates: the kind's rates per type).
        defaults = check_settings(kind, {}, base={s.name: None for s in SETTINGS[kind]
                                                  if s.required})
        return cls(
            kind=kind.value,
            settings=[SettingDescription.of(s, defaults.get(s.name)) for s in SETTINGS[kind]],
            secrets=[SettingDescription(name=s.name, type="string", required=s.required,
                                        help=s.help) for s in SECRETS[kind]])


class CarrierSettingsListing(Model):
    entities: list[KindSettings]
    phoneNumberTypes: list[str]
    """The types a number of a connection's `numbers` (and a key of `numberRates`) may have."""
