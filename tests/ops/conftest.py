"""The whole system as processes (the ops monitor is served by totals), and the ways the
tests make what an operator chases: a day Xero refused, a dead letter."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from glbridge.connect import connect_store
from glbridge.system import Credentials, System
from shared.contracts.examples import example_day_totals, example_setup
from tests.support.processes import running_system

CREDENTIALS = Credentials.named("test")
# The ops credential: what a person types into /ops/login.
TOKEN = CREDENTIALS.ops
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ops"


@pytest.fixture
def ops_system(database_url: str, amqp_url: str, namespace: str, tmp_path: Path
               ) -> Iterator[System]:
    """As tests/conftest.py's `system`, with the ops page refreshing every 2 s."""
    with running_system(
        database_url, amqp_url, namespace, tmp_path, credentials=CREDENTIALS,
        sandbox_control=True,
        extra_env={"OPS_REFRESH_S": "2"},
    ) as running:
        yield running


def bad_setup(key: str) -> dict[str, Any]:
    """Cash posted to the bank account 090: Xero refuses a manual journal line on a bank
    account, so the day fails."""
    body = example_setup(key)
    body["accounts"]["cash"] = "090"
    return body


async def failed_day(client: httpx.AsyncClient, system: System, store: str,
                     day: str) -> tuple[str, dict[str, Any]]:
    """Connects `store` with a setup Xero refuses and closes `day`: (key, the failed day)."""
    key = await connect_store(client, system.auth_url, store)
    base = f"{system.totals_url}/v1/stores/{store}"
    saved = await client.put(f"{base}/setup", json=bad_setup(key))
    assert saved.status_code == 200, saved.text
    headers = {"X-Api-Key": key}
    closed = await client.post(f"{base}/days/{day}/close", json=example_day_totals(),
                               headers=headers)
    assert closed.status_code == 200, closed.text
    outcome = (await client.get(f"{base}/days/{day}", params={"wait": 30},
                                headers=headers)).json()
    assert outcome["status"] == "failed", outcome
    return key, outcome


async def publish_garbage(amqp_url: str, namespace: str, message_id: str,
                          correlation_id: str) -> None:
    """A message no contract describes: posting's consumer dead-letters it."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(f"{namespace}.events")
        await exchange.publish(
            aio_pika.Message(b"this is not JSON", message_id=message_id,
                             correlation_id=correlation_id, type="store-totals-closed"),
            routing_key="store-totals-closed")


async def ops_data(client: httpx.AsyncClient, system: System) -> dict[str, Any]:
    response = await client.get(f"{system.totals_url}/ops/data",
                                headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def until_dead_letters(client: httpx.AsyncClient, system: System, count: int
                             ) -> list[dict[str, Any]]:
    for _ in range(200):
        letters: list[dict[str, Any]] = (await ops_data(client, system))["dead_letters"]
        if len(letters) >= count:
            return letters
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} dead letter(s) appeared")
