"""The ACD: routing of waiting SMS conversations to agents (see `engine` for the rules)."""

from parley.domain.acd.decisions import (
    AgentView,
    Connected,
    Decision,
    Finished,
    InteractionState,
    InteractionView,
    Offered,
    OfferEnd,
    OfferEnded,
    Orphaned,
    Queued,
    QueueView,
    RoutingStatus,
    StatusChanged,
    Transferred,
)
from parley.domain.acd.engine import (
    DEFAULT_ALERTING_TIMEOUT_MS,
    MAX_CAPACITY,
    MAX_PROFICIENCY,
    MIN_CAPACITY,
    MIN_PROFICIENCY,
    Acd,
)
from parley.domain.queues import SkillEvaluationMethod

__all__ = [
    "DEFAULT_ALERTING_TIMEOUT_MS",
    "MAX_CAPACITY",
    "MAX_PROFICIENCY",
    "MIN_CAPACITY",
    "MIN_PROFICIENCY",
    "Acd",
    "AgentView",
    "Connected",
    "Decision",
    "Finished",
    "InteractionState",
    "InteractionView",
    "OfferEnd",
    "OfferEnded",
    "Offered",
    "Orphaned",
    "QueueView",
    "Queued",
    "RoutingStatus",
    "SkillEvaluationMethod",
    "StatusChanged",
    "Transferred",
]
