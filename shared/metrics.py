"""Prometheus metrics every service exposes at `/metrics`, and the shared counters."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

EVENTS_CONSUMED = Counter(
    "glbridge_events_consumed_total",
    "Deliveries handled, by queue, event type and outcome (ack, retry, dead-letter).",
    ["queue", "event_type", "outcome"],
)
EVENTS_PUBLISHED = Counter(
    "glbridge_events_published_total", "Events confirmed by the broker, by type.", ["event_type"]
)
OUTBOX_LAG_SECONDS = Gauge(
    "glbridge_outbox_lag_seconds", "Age of the oldest event waiting in the outbox.", ["schema"]
)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
