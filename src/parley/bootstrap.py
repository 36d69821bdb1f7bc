"""The composition root: the one place that picks adapters and wires them into the use cases."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from parley.bus.memory import InProcessBus
from parley.carriers import kinds
from parley.carriers.host import CarrierHost
from parley.carriers.sim import SimulatorCarrier
from parley.concurrency import stop_task
from parley.config import Settings
from parley.integrations.http_data import HttpDataActions
from parley.services import credentials
from parley.services.acd import AcdService
from parley.services.after_call_work import AfterCallWork
from parley.services.agents import AgentService
from parley.services.auth import AuthService
from parley.services.carriers import CarrierLinks, CarrierService
from parley.services.conversations import ConversationService
from parley.services.directory import DirectoryService
from parley.services.directory_admin import DirectoryAdmin
from parley.services.flow_runs import FlowRunner
from parley.services.flows import FlowService
from parley.services.inbound import InboundService
from parley.services.notifications import NotificationHub
from parley.services.numbers import NumberDirectory, NumberService
from parley.services.opt_out import OptOutService
from parley.services.ports import Clock, SystemClock
from parley.services.queue_observations import QueueObservations
from parley.services.queues import QueueService
from parley.services.sending import DeliveryReceipts, OutboxSender
from parley.services.status_events import StatusEvents
from parley.services.wrapup import WrapupService
from parley.store.database import Database, open_database
from parley.store.group_commit import GroupCommitter
from parley.store.inbound_parts import SqlInboundParts
from parley.store.message_store import SqlMessageStore
from parley.store.migrate import migrate
from parley.store.side_reads import SideReader
from parley.store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Parley:
    """Everything a running server (or a test) needs, built once."""

    settings: Settings
    clock: Clock
    db: Database
    committer: GroupCommitter
    side_reads: SideReader
    bus: InProcessBus
    carriers: CarrierLinks
    carrier_admin: CarrierService
    sim: SimulatorCarrier | None
    auth: AuthService
    directory: DirectoryService
    directory_admin: DirectoryAdmin
    numbers: NumberService
    queues: QueueService
    conversations: ConversationService
    after_call_work: AfterCallWork
    sender: OutboxSender
    receipts: DeliveryReceipts
    message_store: SqlMessageStore
    notifications: NotificationHub
    acd: AcdService
    agents: AgentService
    wrapup: WrapupService
    flows: FlowService
    inbound: InboundService
    data_actions: HttpDataActions
    opt_outs: OptOutService
    queue_observations: QueueObservations
    status_events: StatusEvents
    started: bool = False
    _housekeeping: asyncio.Task[None] | None = None

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db, read_only=read_only,
                             on_commit=self.message_store.forget_conversations)

    async def start(self) -> None:
        """Start background work: group commit, carriers, the outbox sender."""
        if self.started:
            return
        self.committer.start()
        await self.message_store.load_early_receipts()
        await self.carriers.start(self.receipts, self.inbound.receive)
        if self.db.is_sqlite:
            # The embedded server is the only node: whatever it had leased is due now.
            released = await self.message_store.release_leases()
            if released:
                log.info("resuming %d unsent messages from the outbox", released)
        await self.sender.start()
        await self.status_events.start()
        await self.acd.start()
        await self.inbound.start()
        await self.after_call_work.start()
        await self.notifications.start()
        self._housekeeping = asyncio.create_task(self._tidy(), name="housekeeping")
        self.started = True

    async def _tidy(self, interval_s: float = 600.0) -> None:
        """Periodic clean-up that no request should pay for: expired tokens and codes."""
        while True:
            try:
                purged = await self.auth.purge_expired()
                if purged:
                    log.info("purged %d expired tokens", purged)
                self.notifications.purge_expired()
            except Exception:
                log.exception("purging expired tokens failed; will try again")
            await asyncio.sleep(interval_s)

    async def stop(self) -> None:
        if self.started:
            await stop_task(self._housekeeping)
            await self.notifications.stop()
            await self.after_call_work.stop()
            await self.inbound.stop()
            await self.acd.stop()
            await self.sender.drain(timeout_s=5)
            await self.sender.stop()
            await self.status_events.stop()
            await self.carriers.stop()
            await self.committer.stop()
            await self.data_actions.close()
            self.started = False
        self.side_reads.close()
        self.auth.verifier.close()
        await self.db.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Parley:
    settings = settings or Settings()
    clock = clock or SystemClock()
    credentials.configure(time_cost=settings.argon2_time_cost,
                          memory_kib=settings.argon2_memory_kib)
    db = open_database(settings.database_url)

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(db, read_only=read_only, on_commit=store.forget_conversations)

    committer = GroupCommitter(db)
    bus = InProcessBus()
    side_reads = SideReader(db)
    store = SqlMessageStore(db, committer, side_reads, clock)
    inbound_parts = SqlInboundParts(committer)
    sim = None
    if settings.sim_enabled:
        sim = SimulatorCarrier(clock, delivery_delay_ms=settings.sim_delivery_delay_ms)

    # Which adapter serves which kind of connection is the registry's (carriers/kinds.py).
    host = CarrierHost(clock=clock, inbound_parts=inbound_parts, public_url=settings.public_url)
    carriers = CarrierLinks(uow, clock, lambda conn: kinds.build(conn, host), builtin=sim)
    directory_cache = NumberDirectory(uow, clock)
    sender = OutboxSender(store, carriers, clock, directory_cache,
                          lease_ms=settings.outbox_lease_ms,
                          poll_interval_s=settings.outbox_poll_interval_s)
    acd = AcdService(uow, clock, bus)
    flows = FlowService(uow, clock, settings.data_hosts)
    opt_outs = OptOutService(uow, clock)
    after_call_work = AfterCallWork(uow, clock, acd, bus)
    conversations = ConversationService(uow, clock, store, directory_cache, sender, acd, bus,
                                        opt_outs, after_call_work)
    data_actions = HttpDataActions(settings.data_hosts)
    # httpx logs every request's full URL at INFO: a data action's path and query carry
    # customers' numbers and API keys, which no log line may hold.
    quiet = logging.getLogger("httpx")
    quiet.setLevel(max(quiet.level, logging.WARNING))
    flow_runs = FlowRunner(uow, clock, bus, store, flows, acd, conversations, data_actions,
                           opt_outs)
    inbound = InboundService(
        uow, clock, bus, store, directory_cache, flows, flow_runs, acd, conversations, opt_outs,
        threading_window_ms=settings.threading_window_hours * 3600 * 1000,
        poll_interval_s=settings.outbox_poll_interval_s)
    receipts = DeliveryReceipts(store)
    notifications = NotificationHub(uow, clock, bus)
    auth = AuthService(uow, clock, token_ttl_s=settings.token_ttl_seconds)
    auth.cache.on_evict(notifications.token_changed)
    status_events = StatusEvents(uow, bus, notifications.has_subscribers)
    directory = DirectoryService(uow, clock)
    sender.on_status(status_events.changed)
    receipts.on_status(status_events.changed)
    return Parley(
        settings=settings, clock=clock, db=db, committer=committer, side_reads=side_reads,
        bus=bus,
        carriers=carriers, carrier_admin=CarrierService(uow, clock, carriers), sim=sim,
        auth=auth,
        directory=directory, directory_admin=DirectoryAdmin(uow, directory, auth.cache),
        numbers=NumberService(uow, clock, carriers, directory_cache,
                              default_carrier=settings.default_carrier),
        queues=QueueService(uow, clock, acd),
        conversations=conversations, after_call_work=after_call_work,
        sender=sender, receipts=receipts,
        message_store=store,
        notifications=notifications,
        acd=acd, agents=AgentService(uow, clock, bus, acd, acd),
        wrapup=WrapupService(uow, clock), flows=flows, inbound=inbound,
        data_actions=data_actions, opt_outs=opt_outs,
        queue_observations=QueueObservations(uow, clock, bus, acd),
        status_events=status_events,
    )


async def migrate_database(settings: Settings) -> tuple[str | None, str]:
    db = open_database(settings.database_url)
    try:
        return await migrate(db)
    finally:
        await db.dispose()
