"""POST /api/v2/analytics/queues/observations/query: live queue figures (genesys-api.md 10.2)."""

from __future__ import annotations

from parley.api.formats import iso
from parley.api.models.analytics import (
    Observation,
    ObservationData,
    ObservationGroup,
    ObservationStats,
    QueueObservationQuery,
    QueueObservationQueryResponse,
    QueueObservationResult,
)
from parley.api.routing_class import genesys_router
from parley.api.security import App, CurrentPrincipal
from parley.domain.errors import InvalidInput

router = genesys_router(tags=["Analytics"])


@router.post("/api/v2/analytics/queues/observations/query",
             response_model=QueueObservationQueryResponse,
             summary="Live queue figures: waiting, interacting, longest waiting, agents by "
                     "routing status, service level")
async def query_queue_observations(body: QueueObservationQuery, parley: App,
                                   principal: CurrentPrincipal
                                   ) -> QueueObservationQueryResponse:
    detail = body.detailMetrics or []
    if not all(isinstance(m, str) for m in detail):
        raise InvalidInput("detailMetrics must be a list of metric names", field="detailMetrics")
    figures = await parley.queue_observations.query(principal, body.filter, body.metrics)
    results = []
    for f in figures:
        data = []
        for s in f.stats:
            data.append(ObservationData(
                metric=s.metric, qualifier=s.qualifier,
                stats=ObservationStats(count=s.count, numerator=s.numerator,
                                       denominator=s.denominator, ratio=s.ratio,
                                       target=s.target, calculatedMetricValue=s.calculated_ms),
                observations=[Observation(observationDate=iso(s.since_ms) or "")]
                if s.since_ms is not None else None))
        results.append(QueueObservationResult(group=ObservationGroup(queueId=f.queue_id),
                                              data=data))
    return QueueObservationQueryResponse(results=results)
