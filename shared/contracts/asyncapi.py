"""An AsyncAPI 3.0 document of the events, generated from the pydantic contracts."""

import json
from pathlib import Path
from typing import Any

from shared.contracts.events import SYSTEM_EVENTS, Event
from shared.contracts.pos import POS_EVENTS
from shared.contracts.registry import event_key
from shared.messaging.topology import ALL_QUEUES

PRODUCERS = {
    "store-totals-closed": "totals",
    "gl-posting-succeeded": "posting",
    "gl-posting-failed": "posting",
    "xero-connection-needs-reauth": "auth",
    "xero-connection-restored": "auth",
    "pos-day-closed": "the POS",
    "pos-reprint-requested": "the POS",
    "pos-request-refused": "totals",
}


def _consumers(event_type: str) -> list[str]:
    return [queue.name for queue in ALL_QUEUES if event_type in queue.routing_keys]


ALL_EVENTS = (*SYSTEM_EVENTS, *POS_EVENTS)
# Committed, so the events can be read without running anything; a test keeps it current.
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def build_asyncapi(models: tuple[type[Event], ...] = ALL_EVENTS) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for model in models:
        event_type, version = event_key(model)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        channels[event_type] = {
            "address": event_type,
            "description": f"Routing key `{event_type}` on the topic exchange "
            f"`<namespace>.events`. Produced by {PRODUCERS.get(event_type, '?')}; "
            f"consumed from: {', '.join(_consumers(event_type)) or 'no queue yet'}.",
            "messages": {
                model.__name__: {
                    "name": event_type,
                    "title": f"{event_type} v{version}",
                    "summary": (model.__doc__ or "").strip() or event_type,
                    "contentType": "application/json",
                    "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
                }
            },
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": "<namespace>.events", "type": "topic", "durable": True}}},
        }
        operations[f"publish-{event_type}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{event_type}"},
            "bindings": {"amqp": {"deliveryMode": 2, "ack": True}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "xero-gl-bridge events",
            "version": "1.0.0",
            "description": "Events between the POS, totals, posting and auth. Persistent "
            "messages with publisher confirms, consumed with manual acks; money as decimal "
            "strings, times in UTC, business dates as plain dates.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas},
    }


def render_asyncapi() -> str:
    return json.dumps(build_asyncapi(), indent=2, sort_keys=True) + "\n"
