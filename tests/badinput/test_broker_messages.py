"""Poison put straight into each consumer queue of the running services: every message
no contract describes is dead-lettered with its reason, and the consumers carry on (valid
POS closes sent after the poison go through totals, posting and back)."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import DeliveryMode

from shared.contracts import examples
from shared.contracts.pos import PosDayClosed
from shared.messaging import topology as topo
from shared.messaging.inspect import DeadLetter, list_dead_letters
from tests.support.shared_system import Shared, connected_store

STORE = "88"
BUSINESS_DATE = date(2026, 11, 21)
SECOND_DATE = date(2026, 11, 20)
HUGE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Poison:
    name: str
    body: bytes
    reason: str  # a piece of the dead-letter reason the consumer must give
    properties: bool = True  # False: no message id, type, content type or headers


def _envelope(event_type: str, version: object = 1, **fields: object) -> bytes:
    return json.dumps({"event_type": event_type, "schema_version": version, **fields}).encode()


def poisons(event_type: str) -> list[Poison]:
    """The same kinds of poison for any queue; `event_type` is one it consumes."""
    return [
        Poison("not-json", b"\x00\xffthis is not json{", "not JSON"),
        Poison("json-array", b"[1, 2, 3]", "not a JSON object"),
        Poison("no-envelope", json.dumps({"store_id": STORE}).encode(),
               "missing event_type or schema_version"),
        Poison("unknown-type", _envelope("store-totals-exploded"), "unknown event"),
        Poison("unknown-version", _envelope(event_type, 99), "version 99"),
        Poison("version-as-text", _envelope(event_type, "1"),
               "missing event_type or schema_version"),
        Poison("wrong-schema",
               _envelope(event_type, correlation_id=7, business_date="the 32nd of May",
                         store_id=["not", "a", "string"]),
               "invalid event"),
        Poison("huge", _envelope(event_type, correlation_id="x", padding="x" * HUGE),
               "invalid event"),
        Poison("no-properties", b"garbage without any headers", "not JSON", properties=False),
        Poison("no-properties-valid-json", _envelope(event_type), "invalid event",
               properties=False),
    ]


QUEUES = {
    topo.POSTING_QUEUE.name: "store-totals-closed",
    topo.POSTING_CONNECTIONS_QUEUE.name: "xero-connected",
    topo.TOTALS_RESULTS_QUEUE.name: "gl-posting-succeeded",
    topo.TOTALS_POS_QUEUE.name: "pos-day-closed",
}


@pytest.fixture
async def amqp(shared: Shared) -> AsyncIterator[aio_pika.abc.AbstractConnection]:
    connection = await aio_pika.connect(shared.amqp_url)
    async with connection:
        yield connection


async def _put(channel: aio_pika.abc.AbstractChannel, queue: str, poison: Poison) -> str:
    """Puts a message straight into `queue` (the default exchange): returns its marker."""
    marker = f"{poison.name}-{uuid.uuid4().hex[:8]}"
    if poison.properties:
        message = aio_pika.Message(
            poison.body, content_type="application/json", message_id=marker, type=poison.name,
            delivery_mode=DeliveryMode.PERSISTENT, headers={"x-test": marker},
        )
    else:
        message = aio_pika.Message(poison.body, delivery_mode=DeliveryMode.PERSISTENT)
    await channel.default_exchange.publish(message, routing_key=queue)
    return marker


async def _dead_letters(shared: Shared, connection: aio_pika.abc.AbstractConnection,
                        expected: int) -> list[DeadLetter]:
    topology = topo.topology(shared.namespace)
    found: list[DeadLetter] = []
    for _ in range(300):
        found = await list_dead_letters(connection, topology, limit=200)
        if len(found) >= expected:
            break
        await asyncio.sleep(0.1)
    return found


async def _outcome(client: httpx.AsyncClient, shared: Shared, api_key: str,
                   business_date: date) -> Any:
    """The day once settled (it arrives by message: it may not exist at first)."""
    url = f"{shared.system.totals_url}/v1/stores/{STORE}/days/{business_date}"
    for _ in range(60):
        answer = await client.get(url, params={"wait": 30}, headers={"X-Api-Key": api_key})
        if answer.status_code == 200 and answer.json()["status"] != "pending":
            return answer.json()
        await asyncio.sleep(0.5)
    return None


async def test_poison_is_dead_lettered_with_its_reason_and_consumers_carry_on(
    shared: Shared, amqp: aio_pika.abc.AbstractConnection
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        api_key = await connected_store(client, shared, STORE)
        topology = topo.topology(shared.namespace)
        channel = await amqp.channel(publisher_confirms=True)
        sent: dict[str, list[tuple[Poison, str]]] = {}
        for queue, event_type in QUEUES.items():
            name = topology.queue_name(topology.queue(queue))
            sent[name] = [(p, await _put(channel, name, p)) for p in poisons(event_type)]

        # After the poison, valid closes from the POS: totals → posting → Xero → totals.
        # The second has no AMQP properties at all: the body is the contract.
        pos_queue = topology.queue_name(topo.TOTALS_POS_QUEUE)
        for business_date, with_properties in ((BUSINESS_DATE, True), (SECOND_DATE, False)):
            valid = PosDayClosed.signed(
                api_key, store_id=STORE, business_date=business_date,
                totals=examples.example_day_totals(),
            )
            body = valid.model_dump_json().encode()
            message = aio_pika.Message(
                body, content_type="application/json", message_id=str(valid.event_id),
                type=valid.event_type, delivery_mode=DeliveryMode.PERSISTENT,
            ) if with_properties else aio_pika.Message(body)
            await channel.default_exchange.publish(message, routing_key=pos_queue)
        for business_date in (BUSINESS_DATE, SECOND_DATE):
            day = await _outcome(client, shared, api_key, business_date)
            assert day is not None and day["status"] == "posted", (business_date, day)

    expected = sum(len(v) for v in sent.values())
    dead = await _dead_letters(shared, amqp, expected)
    assert len(dead) == expected, [(d.queue, d.message_id, d.reason[:80]) for d in dead]
    for queue, messages in sent.items():
        in_queue = [d for d in dead if d.queue == queue]
        for poison, marker in messages:
            if poison.properties:
                [letter] = [d for d in in_queue if d.message_id == marker]
            else:
                [letter] = [d for d in in_queue if d.event_type is None
                            and d.body.encode()[:200] == poison.body[:200]]
            assert poison.reason in letter.reason, (queue, poison.name, letter.reason)
            assert len(letter.reason) < 2100  # the reason, not the body echoed back
    # Nothing the poison carried was taken for a day.
    conn = await shared.db("totals")
    try:
        days = await conn.fetch("SELECT store_id, business_date FROM days")
    finally:
        await conn.close()
    assert sorted((r["store_id"], r["business_date"]) for r in days) == [
        (STORE, SECOND_DATE), (STORE, BUSINESS_DATE)]
