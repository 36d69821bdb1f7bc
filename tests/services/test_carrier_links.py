"""The running carrier adapters follow the stored connections, however a periodic refresh and
an immediate reload of a new connection interleave."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from parley.bootstrap import Parley
from parley.carriers.sim import SimulatorCarrier
from parley.domain.carriers import CarrierConnection, LinkState
from parley.services.carriers import CarrierLinks
from parley.services.ports import DeliveryReport, InboundSms, SystemClock, UnitOfWork
from tests.orgs import Tenant


class HeldSnapshot:
    """A unit-of-work factory on the real store whose next `carriers.versions()` read is
    held, after it has read, until released: the moment a refresh has its snapshot in hand."""

    def __init__(self, real: Callable[..., UnitOfWork]) -> None:
        self._real = real
        self.armed = False
        self.taken = asyncio.Event()
        self.release = asyncio.Event()

    def __call__(self, **kwargs: Any) -> _Held:
        return _Held(self, self._real(**kwargs))


class _Held:
    """A UnitOfWork: entering and leaving are wrapped, the rest is the real one's."""

    def __init__(self, gate: HeldSnapshot, inner: UnitOfWork) -> None:
        self._gate, self._inner = gate, inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> UnitOfWork:
        uow = await self._inner.__aenter__()
        gate, read = self._gate, uow.carriers.versions
        if gate.armed:
            gate.armed = False

            async def held() -> dict[str, int]:
                versions = await read()
                gate.taken.set()
                await gate.release.wait()
                return versions

            # This one transaction's repository reads through the gate.
            uow.carriers.versions = held  # type: ignore[method-assign]
        return uow

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)


async def ignore_reports(reports: Sequence[DeliveryReport]) -> None:
    return None


async def ignore_inbound(sms: InboundSms) -> None:
    return None


async def test_a_connection_created_while_a_refresh_reads_stays_running(
        parley: Parley, org: Tenant) -> None:
    clock = SystemClock()
    gate = HeldSnapshot(parley.uow)

    def build(conn: CarrierConnection) -> SimulatorCarrier:
        return SimulatorCarrier(clock, name=conn.id, limits=conn.limits)

    links = CarrierLinks(gate, clock, build, refresh_s=3600)
    await links.start(ignore_reports, ignore_inbound)
    try:
        gate.armed = True
        refresh = asyncio.create_task(links.refresh())
        await asyncio.wait_for(gate.taken.wait(), 10)
        # The snapshot is taken; now a connection is created and this node reloads it.
        view = await parley.carrier_admin.create(org.principal(), name="Sim", kind="sim")
        reload = asyncio.create_task(links.reload(view.connection.id))
        await asyncio.sleep(0.05)
        gate.release.set()
        await asyncio.wait_for(asyncio.gather(refresh, reload), 10)

        assert view.connection.id in links
        assert links.status(view.connection).state is LinkState.BOUND
    finally:
        await links.stop()
