"""Live queue figures for supervisors: Genesys' queue observations, from the ACD's memory.

Waiting, alerting and interacting counts, the longest wait and the members by routing status
come straight from the organisation's ACD engine, which holds them in memory (a read here
costs O(members), no query). The service level - the share of answered conversations that an
agent connected to within the queue's service-level duration - needs history the engine does
not keep, so this service follows the queue notification topics on the event bus and keeps
the last day's answer times per queue, in memory. It therefore counts what this node has seen
since it started; with several nodes each counts the answers it saw (a durable figure would
come from the analytics store, which Parley does not have yet).
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from parley.domain.access import Permission, Principal
from parley.domain.acd.decisions import RoutingStatus
from parley.domain.errors import InvalidInput
from parley.services.acd import AcdService
from parley.services.ports import Clock, EventBus, UnitOfWorkFactory

SERVICE_LEVEL_WINDOW_MS = 24 * 3600 * 1000
MAX_ANSWERS_PER_QUEUE = 10_000
MAX_QUEUES_PER_QUERY = 100

METRICS = ("oWaiting", "oAlerting", "oInteracting", "oLongestWaiting", "oMemberUsers",
           "oActiveUsers", "oOnQueueUsers", "oOffQueueUsers", "oUserRoutingStatuses",
           "oServiceLevel")
"""Supported metrics; `oServiceLevel` is Parley's (Genesys reports it in aggregates)."""

_QUEUE_TOPIC = re.compile(r"^v2\.routing\.queues\.([0-9a-fA-F-]{36})\.conversations\.messages$")


@dataclass(frozen=True, slots=True)
class Stat:
    metric: str
    count: int | None = None
    qualifier: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    ratio: float | None = None
    target: float | None = None
    calculated_ms: int | None = None
    since_ms: int | None = None
    """oLongestWaiting: when the longest-waiting conversation started waiting."""


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue_id: str
    stats: list[Stat]


@dataclass(slots=True)
class _Answers:
    seen: set[tuple[str, str]] = field(default_factory=set)
    waits: deque[tuple[int, int]] = field(default_factory=deque)  # (answered_ms, wait_ms)


def _ms(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def queue_ids_of(filter_: object) -> list[str]:
    """The queue ids a QueueObservationQuery filter names (predicates and clauses, any depth
    Genesys allows: the filter's own predicates and its clauses' predicates)."""
    if not isinstance(filter_, dict):
        raise InvalidInput("filter is required: {type: 'or', predicates: [{dimension: "
                           "'queueId', value: QUEUE_ID}]}", field="filter")
    if filter_.get("type") not in ("and", "or"):
        raise InvalidInput("filter.type must be 'and' or 'or'", field="filter.type")
    predicates = list(filter_.get("predicates") or [])
    for clause in filter_.get("clauses") or []:
        if not isinstance(clause, dict) or clause.get("type") not in ("and", "or"):
            raise InvalidInput("each filter clause needs type 'and' or 'or'",
                               field="filter.clauses")
        predicates += clause.get("predicates") or []
    queues: list[str] = []
    for p in predicates:
        if not isinstance(p, dict):
            raise InvalidInput("a predicate must be an object", field="filter.predicates")
        dimension = p.get("dimension")
        if p.get("type", "dimension") != "dimension" or dimension not in ("queueId",
                                                                        "mediaType"):
            raise InvalidInput(f"predicate dimension '{dimension}' is not supported: use "
                               "queueId (and mediaType)", field="filter.predicates.dimension")
        if p.get("operator", "matches") != "matches":
            raise InvalidInput("predicates support only the operator 'matches'",
                               field="filter.predicates.operator")
        value = p.get("value")
        if dimension == "mediaType":
            if value != "message":
                raise InvalidInput(f"mediaType '{value}' is not supported: Parley queues "
                                   "carry 'message' (SMS)", field="filter.predicates.value")
            continue
        if not isinstance(value, str) or not value:
            raise InvalidInput("a queueId predicate needs a value (the queue id)",
                               field="filter.predicates.value")
        if value not in queues:
            queues.append(value)
    if not queues:
        raise InvalidInput("the filter names no queue: add a predicate with dimension "
                           "'queueId'", field="filter.predicates")
    if len(queues) > MAX_QUEUES_PER_QUERY:
        raise InvalidInput(f"at most {MAX_QUEUES_PER_QUERY} queues per query",
                           field="filter.predicates")
    return queues


def check_metrics(metrics: object) -> list[str]:
    if not isinstance(metrics, list) or not metrics:
        raise InvalidInput("metrics is required: a list such as ['oWaiting', 'oInteracting']",
                           field="metrics")
    out: list[str] = []
    for m in metrics:
        if m not in METRICS:
            raise InvalidInput(f"metric '{m}' is not supported; supported: "
                               + ", ".join(METRICS), field="metrics")
        if m not in out:
            out.append(m)
    return out


class QueueObservations:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, bus: EventBus,
                 acd: AcdService) -> None:
        self._uow = uow
        self._clock = clock
        self._acd = acd
        self._answers: dict[str, _Answers] = defaultdict(_Answers)
        bus.subscribe(self._on_event)

    def _on_event(self, topic: str, body: dict[str, object], org_id: str) -> None:
        """Record when an agent connected to a conversation of a queue, and how long after it
        entered the queue."""
        m = _QUEUE_TOPIC.match(topic)
        participants = body.get("participants")
        if m is None or not isinstance(participants, list):
            return
        queue_id = m.group(1).lower()
        entered = sorted(t for p in participants if isinstance(p, dict)
                         and p.get("purpose") == "acd" and _queue(p) == queue_id
                         and (t := _ms(p.get("startTime"))) is not None)
        if not entered:
            return
        answers = self._answers[queue_id]
        for p in participants:
            if not isinstance(p, dict) or p.get("purpose") != "agent" or _queue(p) != queue_id:
                continue
            connected = _ms(p.get("connectedTime"))
            key = (str(body.get("id")), str(p.get("id")))
            if connected is None or key in answers.seen:
                continue
            since = max((t for t in entered if t <= connected), default=None)
            if since is None:
                continue
            answers.seen.add(key)
            answers.waits.append((connected, connected - since))
            if len(answers.waits) > MAX_ANSWERS_PER_QUEUE:
                answers.waits.popleft()

    def _service_level(self, queue_id: str, duration_ms: int) -> tuple[int, int]:
        answers = self._answers.get(queue_id)
        if answers is None:
            return 0, 0
        horizon = self._clock.now_ms() - SERVICE_LEVEL_WINDOW_MS
        while answers.waits and answers.waits[0][0] < horizon:
            answers.waits.popleft()
        if len(answers.seen) > 4 * MAX_ANSWERS_PER_QUEUE:
            answers.seen.clear()  # bounded memory; only a repeated event could count twice
        within = sum(1 for _, wait in answers.waits if wait <= duration_ms)
        return within, len(answers.waits)

    async def query(self, principal: Principal, filter_: object, metrics: object
                    ) -> list[QueueFigures]:
        principal.require(Permission.VIEW_ALL_CONVERSATIONS)
        queue_ids = queue_ids_of(filter_)
        wanted = check_metrics(metrics)
        async with self._uow(read_only=True) as uow:
            queues = []
            for qid in queue_ids:
                q = await uow.queues.get(principal.org_id, qid)
                if q is None:
                    raise InvalidInput(f"queue {qid} not found", field="filter.predicates.value")
                queues.append(q)
        engine = self._acd.engine(principal.org_id)
        now = self._clock.now_ms()
        out = []
        for q in queues:
            if engine.has_queue(q.id):
                view = engine.queue(q.id)
                waiting, alerting, connected = view.waiting, view.alerting, view.connected
                members, joined = view.members, view.joined
                oldest = view.oldest_waiting_since_ms
                by_status = {s.value: n for s, n in view.agents.items()}
            else:  # the engine has not loaded this queue: nothing is routing through it
                waiting = alerting = connected = 0
                members, joined, oldest = q.member_count, q.joined_member_count, None
                by_status = {s.value: 0 for s in RoutingStatus}
                by_status[RoutingStatus.OFF_QUEUE.value] = joined
            off = by_status.get(RoutingStatus.OFF_QUEUE.value, 0)
            within, answered = self._service_level(q.id, q.service_level_duration_ms)
            stats: list[Stat] = []
            for metric in wanted:
                stats += _stats(metric, waiting=waiting, alerting=alerting,
                                connected=connected, members=members, joined=joined, off=off,
                                by_status=by_status, oldest=oldest, now=now, within=within,
                                answered=answered, target=q.service_level_percentage)
            out.append(QueueFigures(q.id, stats))
        return out


def _queue(p: dict[str, object]) -> str | None:
    q = p.get("queue")
    return str(q.get("id")).lower() if isinstance(q, dict) and q.get("id") else None


def _stats(metric: str, *, waiting: int, alerting: int, connected: int, members: int,
           joined: int, off: int, by_status: dict[str, int], oldest: int | None, now: int,
           within: int, answered: int, target: float) -> Sequence[Stat]:
    simple = {"oWaiting": waiting, "oAlerting": alerting, "oInteracting": connected,
              "oMemberUsers": members, "oActiveUsers": joined, "oOnQueueUsers": joined - off,
              "oOffQueueUsers": off}
    if metric in simple:
        return [Stat(metric, count=simple[metric])]
    if metric == "oUserRoutingStatuses":
        return [Stat(metric, qualifier=status, count=n) for status, n in by_status.items()]
    if metric == "oLongestWaiting":
        if oldest is None:
            return [Stat(metric, count=0)]
        return [Stat(metric, count=1, calculated_ms=max(0, now - oldest), since_ms=oldest)]
    return [Stat(metric, numerator=within, denominator=answered, target=target,
                 ratio=None if answered == 0 else within / answered)]
