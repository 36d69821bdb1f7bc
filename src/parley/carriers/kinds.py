"""The kinds of carrier connection this server can run: one adapter class per kind.

Each adapter class gathers its kind's facts, as a RapidPro channel type does: how it is built
from a stored connection (`for_connection`), and whether it takes webhooks (it implements
`services.ports.WebhookCarrier`: the API's one webhook route dispatches to it by connection
id and knows no provider). A kind's settings and secrets are
checked by the domain (`domain/carriers.SETTINGS`, `SECRETS`), because the use cases, the API,
the console and the CLI check them without building an adapter.

A new kind is its adapter module, its settings in the domain, and one entry in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from parley.carriers.host import CarrierHost
from parley.carriers.sim import SimulatorCarrier
from parley.carriers.smpp import SmppCarrier
from parley.carriers.twilio import TwilioCarrier
from parley.domain.carriers import CarrierConnection, CarrierKind
from parley.services.ports import Carrier, WebhookCarrier


class CarrierType(Protocol):
    """An adapter class, as the registry sees it."""

    @classmethod
    def for_connection(cls, conn: CarrierConnection, host: CarrierHost) -> Carrier: ...


KINDS: Mapping[CarrierKind, type[CarrierType]] = {
    CarrierKind.SMPP: SmppCarrier,
    CarrierKind.HTTP: TwilioCarrier,
    CarrierKind.SIM: SimulatorCarrier,
}


def build(conn: CarrierConnection, host: CarrierHost) -> Carrier:
    """The adapter of a stored connection (not started)."""
    adapter = KINDS.get(conn.kind)
    if adapter is None:
        raise NotImplementedError(f"no adapter for {conn.kind.value} connections")
    return adapter.for_connection(conn, host)


def takes_webhooks(kind: CarrierKind) -> bool:
    return kind in KINDS and issubclass(KINDS[kind], WebhookCarrier)
