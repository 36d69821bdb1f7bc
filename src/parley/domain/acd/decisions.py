"""What the ACD engine tells its caller: decisions it made, and read-only views of its state.

Every mutating call on `Acd` returns the decisions it caused, in order. They are small frozen
records so the service layer can persist them in the same transaction and then fan them out
to websockets. Read together they are a complete log: an interaction's state after a call is
the effect of the last decision that names it (`Queued`/`OfferEnded` -> waiting, `Offered` ->
alerting, `Connected` -> connected, `Transferred` -> waiting in the new queue, `Finished` and
`Orphaned` -> gone from the engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from parley.domain.queues import SkillEvaluationMethod


class RoutingStatus(StrEnum):
    """An agent's ACD routing status, spelled as Genesys Cloud's `routingStatus.status`."""

    OFF_QUEUE = "OFF_QUEUE"
    IDLE = "IDLE"
    INTERACTING = "INTERACTING"
    NOT_RESPONDING = "NOT_RESPONDING"


class InteractionState(StrEnum):
    WAITING = "waiting"
    ALERTING = "alerting"
    CONNECTED = "connected"


class OfferEnd(StrEnum):
    """Why an alerting offer stopped alerting without being accepted."""

    DECLINED = "declined"
    TIMED_OUT = "timed-out"
    WITHDRAWN = "withdrawn"  # the agent went off queue, left the queue or lost capacity


@dataclass(frozen=True, slots=True)
class Queued:
    """A new interaction entered a queue (it may be offered in the same call)."""

    interaction_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class Offered:
    """The interaction is alerting for the agent until `deadline_ms`."""

    interaction_id: str
    agent_id: str
    queue_id: str
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class OfferEnded:
    """An offer ended unanswered; the interaction is waiting in its queue again (same age)."""

    interaction_id: str
    agent_id: str
    queue_id: str
    reason: OfferEnd


@dataclass(frozen=True, slots=True)
class Connected:
    """The agent accepted the offer."""

    interaction_id: str
    agent_id: str
    queue_id: str


@dataclass(frozen=True, slots=True)
class Transferred:
    """The interaction left `from_queue` (and its agent, if any) and waits in `to_queue`."""

    interaction_id: str
    from_queue_id: str
    to_queue_id: str
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class Finished:
    """The interaction is over for the ACD (disconnected); its agent, if any, was freed."""

    interaction_id: str
    queue_id: str
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class Orphaned:
    """The engine dropped the interaction because its queue or its agent was removed.

    The service decides what happens to the conversation (re-queue elsewhere, disconnect).
    """

    interaction_id: str
    queue_id: str
    agent_id: str | None
    state: InteractionState


@dataclass(frozen=True, slots=True)
class StatusChanged:
    agent_id: str
    old: RoutingStatus
    new: RoutingStatus


Decision = Queued | Offered | OfferEnded | Connected | Transferred | Finished | Orphaned | \
    StatusChanged


@dataclass(frozen=True, slots=True)
class InteractionView:
    id: str
    queue_id: str
    state: InteractionState
    agent_id: str | None
    deadline_ms: int | None
    priority: int
    skills: frozenset[str]
    preferred_agent: str | None
    enqueued_ms: int
    declined_by: frozenset[str]


@dataclass(frozen=True, slots=True)
class AgentView:
    id: str
    status: RoutingStatus
    capacity: int
    skills: Mapping[str, int]
    on_queue: bool
    not_responding: bool
    idle_since_ms: int
    alerting: tuple[str, ...]  # interaction ids, sorted
    connected: tuple[str, ...]
    joined_queues: frozenset[str]

    @property
    def active(self) -> int:
        """Interactions counted against capacity: alerting plus connected."""
        return len(self.alerting) + len(self.connected)


@dataclass(frozen=True, slots=True)
class QueueView:
    """What a supervisor's queue view shows, in numbers."""

    id: str
    evaluation: SkillEvaluationMethod
    alerting_timeout_ms: int
    waiting: int
    oldest_waiting_since_ms: int | None
    alerting: int
    connected: int
    members: int
    joined: int
    agents: Mapping[RoutingStatus, int]  # joined members by routing status
