"""The registry of carrier kinds: every kind a connection may have is built by its adapter,
and only the kinds whose adapter takes webhooks are reached by the webhook route."""

from __future__ import annotations

from parley.carriers import kinds
from parley.carriers.host import CarrierHost
from parley.carriers.sim import SimulatorCarrier
from parley.domain.carriers import CarrierConnection, CarrierKind, check_settings
from parley.services.ports import SystemClock, WebhookCarrier
from parley.store.inbound_parts import SqlInboundParts


def test_every_kind_has_an_adapter() -> None:
    assert set(kinds.KINDS) == set(CarrierKind)


def test_only_http_connections_take_webhooks() -> None:
    assert {k for k in CarrierKind if kinds.takes_webhooks(k)} == {CarrierKind.HTTP}


def test_a_stored_connection_is_built_by_its_kinds_adapter() -> None:
    parts = SqlInboundParts(None)  # type: ignore[arg-type]  # a simulator keeps no parts
    host = CarrierHost(clock=SystemClock(), inbound_parts=parts,
                       public_url="https://parley.example.com")
    settings = check_settings(CarrierKind.SIM, {"deliveryDelayMs": 5, "throughput": 2})
    conn = CarrierConnection(id="sim-a", org_id="o", name="A", kind=CarrierKind.SIM,
                             settings=settings, secrets={})
    carrier = kinds.build(conn, host)
    assert isinstance(carrier, SimulatorCarrier)
    assert not isinstance(carrier, WebhookCarrier)
    assert carrier.name == "sim-a"
    assert carrier.limits.per_connection == 2.0
