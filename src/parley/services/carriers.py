"""Carrier connections: the use cases that manage them, and the running links they configure.

`CarrierService` is what the API, the console and the CLI call: create, change, delete,
restart, list with their state. `CarrierLinks` holds the adapter of every enabled connection
on this node - built by the composition root's factory, started with the server, restarted
when its configuration changes (here at once, on another node within `refresh_s`) - and is
the map of carriers the outbox sender and the number use cases look up by connection id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from parley.concurrency import stop_task
from parley.domain.access import Permission, Principal
from parley.domain.carriers import (
    BUILTIN_SIM,
    CarrierConnection,
    CarrierKind,
    LinkState,
    check_inventory,
    check_name,
    check_secrets,
    check_settings,
    kind_of,
)
from parley.domain.errors import Conflict, InvalidInput, Problems
from parley.domain.ids import new_id
from parley.services.ports import (
    Carrier,
    Clock,
    DeliverySink,
    InboundSink,
    LinkStatus,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

CarrierFactory = Callable[[CarrierConnection], Carrier]


class CarrierLinks(Mapping[str, Carrier]):
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, build: CarrierFactory, *,
                 builtin: Carrier | None = None, refresh_s: float = 10.0) -> None:
        self._uow = uow
        self._clock = clock
        self._build = build
        self._builtin = builtin
        self._refresh_s = refresh_s
        self._running: dict[str, tuple[int, Carrier]] = {}
        """connection id -> (the version it was built from, its adapter)"""
        self._sinks: tuple[DeliverySink, InboundSink] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- Mapping: what the sender and the number use cases see ----------------------------

    def __getitem__(self, connection_id: str) -> Carrier:
        if self._builtin is not None and connection_id == self._builtin.name:
            return self._builtin
        return self._running[connection_id][1]

    def __iter__(self) -> Iterator[str]:
        if self._builtin is not None:
            yield self._builtin.name
        yield from self._running

    def __len__(self) -> int:
        return len(self._running) + (self._builtin is not None)

    @property
    def builtin(self) -> Carrier | None:
        return self._builtin

    # -- life cycle -------------------------------------------------------------------------

    async def start(self, on_reports: DeliverySink, on_inbound: InboundSink) -> None:
        self._sinks = (on_reports, on_inbound)
        if self._builtin is not None:
            await self._builtin.start(on_reports, on_inbound)
        await self.refresh()
        self._task = asyncio.create_task(self._refresh_forever(), name="carrier-refresh")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        async with self._lock:
            for connection_id in list(self._running):
                await self._stop(connection_id)
        if self._builtin is not None:
            await self._builtin.stop()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.refresh()
            except Exception:
                log.exception("reloading carrier connections failed; will try again")

    async def refresh(self) -> None:
        """Make the running adapters match the stored connections (new, changed, gone).

        The store is read under the lock: a snapshot taken before a `reload` of a connection
        created meanwhile would not hold it, and would stop what the reload just started.
        """
        async with self._lock:
            async with self._uow(read_only=True) as uow:
                versions = await uow.carriers.versions()
                stale = [cid for cid, v in versions.items()
                         if cid not in self._running or self._running[cid][0] != v]
                changed = [await uow.carriers.get_any(cid) for cid in stale]
            for connection_id in [c for c in self._running if c not in versions]:
                await self._stop(connection_id)
            for conn in changed:
                if conn is not None:
                    await self._restart(conn)

    async def reload(self, connection_id: str) -> None:
        """This node changed a connection: apply it now, not at the next refresh."""
        async with self._lock:
            async with self._uow(read_only=True) as uow:
                conn = await uow.carriers.get_any(connection_id)
            if conn is None:
                await self._stop(connection_id)
            else:
                await self._restart(conn)

    async def _restart(self, conn: CarrierConnection) -> None:
        await self._stop(conn.id)
        if not conn.enabled or self._sinks is None:
            self._running.pop(conn.id, None)
            return
        carrier = self._build(conn)
        try:
            await carrier.start(*self._sinks)
        except Exception:
            log.exception("carrier connection '%s' (%s) did not start", conn.name, conn.id)
            return
        self._running[conn.id] = (conn.version, carrier)
        log.info("carrier connection '%s' (%s, %s) started", conn.name, conn.kind.value,
                 conn.id)

    async def _stop(self, connection_id: str) -> None:
        running = self._running.pop(connection_id, None)
        if running is not None:
            try:
                await running[1].stop()
            except Exception:
                log.exception("carrier connection %s did not stop cleanly", connection_id)

    def status(self, conn: CarrierConnection) -> LinkStatus:
        running = self._running.get(conn.id)
        if running is not None:
            return running[1].status()
        state = LinkState.DISABLED if not conn.enabled else LinkState.STOPPED
        reason = None if not conn.enabled else "not started on this node (see the server log)"
        return LinkStatus(state, conn.modified_ms, reason)


@dataclass(frozen=True, slots=True)
class ConnectionView:
    connection: CarrierConnection
    status: LinkStatus
    numbers: list[str]
    """numbers registered on this connection"""
    builtin: bool = False


def builtin_view(carrier: Carrier, org_id: str, numbers: list[str]) -> ConnectionView:
    conn = CarrierConnection(id=carrier.name, org_id=org_id, name="Simulator (built in)",
                             kind=CarrierKind.SIM, settings={}, secrets={})
    return ConnectionView(conn, carrier.status(), numbers, builtin=True)


class CarrierService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, links: CarrierLinks) -> None:
        self._uow = uow
        self._clock = clock
        self._links = links

    async def list(self, principal: Principal) -> list[ConnectionView]:
        principal.require(Permission.VIEW_CONFIGURATION)
        async with self._uow(read_only=True) as uow:
            conns = await uow.carriers.in_org(principal.org_id)
            views = [ConnectionView(c, self._links.status(c),
                                    await uow.carriers.numbers_on(principal.org_id, c.id))
                     for c in conns]
            builtin = self._links.builtin
            if builtin is not None:
                views.insert(0, builtin_view(builtin, principal.org_id, await
                                             uow.carriers.numbers_on(principal.org_id,
                                                                     builtin.name)))
        return views

    async def get(self, principal: Principal, connection_id: str) -> ConnectionView:
        principal.require(Permission.VIEW_CONFIGURATION)
        builtin = self._links.builtin
        async with self._uow(read_only=True) as uow:
            if builtin is not None and connection_id == builtin.name:
                return builtin_view(builtin, principal.org_id, await uow.carriers.numbers_on(
                    principal.org_id, builtin.name))
            conn = await uow.carriers.require(principal.org_id, connection_id)
            numbers = await uow.carriers.numbers_on(principal.org_id, conn.id)
        return ConnectionView(conn, self._links.status(conn), numbers)

    async def create(self, principal: Principal, *, name: object, kind: object,
                     settings: object = None, secrets: object = None, numbers: object = None,
                     enabled: object = True) -> ConnectionView:
        principal.require(Permission.CONFIGURE)
        k = kind_of(kind)
        problems = Problems()
        checked_name = problems.check(check_name, name)
        checked_settings = problems.check(check_settings, k, settings)
        checked_secrets = problems.check(check_secrets, k, secrets)
        inventory = problems.check(check_inventory, numbers)
        problems.raise_any()
        assert checked_name is not None and checked_settings is not None
        conn = CarrierConnection(
            id=new_id(), org_id=principal.org_id, name=checked_name, kind=k,
            settings=checked_settings, secrets=checked_secrets or {},
            inventory=inventory or [], enabled=_flag(enabled, "enabled"),
            created_ms=self._clock.now_ms(), modified_ms=self._clock.now_ms(),
            created_by=principal.user_id, modified_by=principal.user_id)
        async with self._uow() as uow:
            if await uow.carriers.by_name(principal.org_id, checked_name) is not None:
                raise Conflict(f"a carrier connection named '{checked_name}' already exists",
                               field="name")
            await uow.carriers.add(conn)
            await uow.commit()
        await self._links.reload(conn.id)
        return await self.get(principal, conn.id)

    async def change(self, principal: Principal, connection_id: str, *,
                     changes: Mapping[str, Any], replace: bool = False,
                     version: object = None) -> ConnectionView:
        """PATCH (merge what is given) or PUT (`replace`: settings not given get defaults).
        Secrets not given are kept either way: they are never shown, so cannot be resent."""
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            conn = await uow.carriers.require(principal.org_id, connection_id)
            if version is not None and version != conn.version:
                raise Conflict(f"carrier connection {conn.name} is at version {conn.version}, "
                               f"not {version}; reload it and try again", field="version")
            if "kind" in changes and changes["kind"] not in (None, conn.kind.value):
                raise InvalidInput("the kind of a connection cannot change; create a new one",
                                   field="kind")
            problems = Problems()
            new_name = problems.check(check_name, changes.get("name")) \
                if "name" in changes or replace else None
            settings = problems.check(check_settings, conn.kind, changes.get("settings"),
                                      base=None if replace else conn.settings) \
                if "settings" in changes or replace else None
            secrets = problems.check(check_secrets, conn.kind, changes["secrets"],
                                     base=conn.secrets) \
                if changes.get("secrets") is not None else None
            inventory = problems.check(check_inventory, changes.get("numbers")) \
                if "numbers" in changes or replace else None
            enabled = problems.check(_flag, changes["enabled"], "enabled") \
                if changes.get("enabled") is not None else None
            problems.raise_any()
            if new_name is not None:
                other = await uow.carriers.by_name(principal.org_id, new_name)
                if other is not None and other.id != conn.id:
                    raise Conflict(f"a carrier connection named '{new_name}' already exists",
                                   field="name")
                conn.name = new_name
            conn.settings = conn.settings if settings is None else settings
            conn.secrets = conn.secrets if secrets is None else secrets
            conn.inventory = conn.inventory if inventory is None else inventory
            conn.enabled = conn.enabled if enabled is None else enabled
            conn.version += 1
            conn.modified_ms = self._clock.now_ms()
            conn.modified_by = principal.user_id
            await uow.carriers.update(conn)
            await uow.commit()
        await self._links.reload(conn.id)
        return await self.get(principal, conn.id)

    async def delete(self, principal: Principal, connection_id: str) -> None:
        principal.require(Permission.CONFIGURE)
        async with self._uow() as uow:
            conn = await uow.carriers.require(principal.org_id, connection_id)
            numbers = await uow.carriers.numbers_on(principal.org_id, conn.id)
            if numbers:
                shown = ", ".join(numbers[:5]) + (" ..." if len(numbers) > 5 else "")
                raise Conflict(f"carrier connection '{conn.name}' still serves {len(numbers)} "
                               f"registered number(s) ({shown}); release them or move them to "
                               "another connection first")
            await uow.carriers.delete(conn.id)
            await uow.commit()
        await self._links.reload(connection_id)

    async def restart(self, principal: Principal, connection_id: str) -> ConnectionView:
        principal.require(Permission.CONFIGURE)
        view = await self.get(principal, connection_id)
        if not view.builtin:
            await self._links.reload(connection_id)
        return await self.get(principal, connection_id)


def _flag(raw: object, field: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return raw


__all__ = ["BUILTIN_SIM", "CarrierFactory", "CarrierLinks", "CarrierService", "ConnectionView"]
