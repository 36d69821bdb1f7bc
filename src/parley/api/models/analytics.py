"""Queue observation queries and their results, as Genesys' analytics API shapes them."""

from __future__ import annotations

from typing import Any

from parley.api.models.common import Model


class ObservationStats(Model):
    count: int | None = None
    numerator: int | None = None
    denominator: int | None = None
    ratio: float | None = None
    target: float | None = None
    calculatedMetricValue: int | None = None


class Observation(Model):
    observationDate: str


class ObservationData(Model):
    metric: str
    qualifier: str | None = None
    stats: ObservationStats
    truncated: bool | None = None
    observations: list[Observation] | None = None


class ObservationGroup(Model):
    queueId: str
    mediaType: str = "message"


class QueueObservationResult(Model):
    group: ObservationGroup
    data: list[ObservationData]


class QueueObservationQueryResponse(Model):
    systemToOrganizationMappings: dict[str, list[str]] = {}
    results: list[QueueObservationResult]


class QueueObservationQuery(Model):
    """Validated by the service, which names what is wrong (filter, metrics)."""

    filter: dict[str, Any] | None = None
    metrics: list[Any] | None = None
    detailMetrics: list[Any] | None = None
