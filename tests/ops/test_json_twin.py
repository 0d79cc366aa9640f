"""The ops monitor's JSON twin and `glbridge ops failures`, against the whole system."""

import asyncio
import json

import httpx
from typer.testing import CliRunner

from glbridge.connect import connect_store
from glbridge.ops import ops_app
from glbridge.system import System
from shared.contracts.events import XeroConnectionNeedsReauth
from shared.contracts.examples import example_day_totals, example_setup
from shared.messaging.broker import Broker
from shared.messaging.topology import topology
from tests.ops.conftest import TOKEN, failed_day, ops_data, publish_garbage, until_dead_letters

runner = CliRunner()


async def test_json_twin_shows_what_an_operator_chases(ops_system: System, amqp_url: str,
                                                       namespace: str) -> None:
    system = ops_system
    async with httpx.AsyncClient(timeout=60) as client:
        _, day = await failed_day(client, system, "41", "2026-11-18")
        await publish_garbage(amqp_url, namespace, "garbage-1", "41:2026-11-19")
        [letter] = await until_dead_letters(client, system, 1)
        data = await ops_data(client, system)
        anonymous = await client.get(f"{system.totals_url}/ops/data")
        wrong = await client.get(f"{system.totals_url}/ops/data",
                                 headers={"Authorization": "Bearer nope"})
        unknown_queue = await client.post(
            f"{system.totals_url}/ops/api/replay", json={"queue": "no.such-queue"},
            headers={"Authorization": f"Bearer {TOKEN}"})

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert unknown_queue.status_code == 404
    assert "no.such-queue" in unknown_queue.json()["detail"]

    topo = topology(namespace)
    names = {q["name"] for q in data["queues"]}
    assert {topo.queue_name(q) for q in topo.queues} <= names
    assert {topo.dead_letter_queue_name(q) for q in topo.queues} <= names
    by_name = {q["name"]: q for q in data["queues"]}
    posting_queue = by_name[f"{namespace}.posting.store-totals-closed"]
    assert posting_queue["consumers"] >= 1  # posting is consuming
    assert by_name[f"{namespace}.posting.store-totals-closed.dead"]["messages"] == 1
    assert data["queue_source"] == "amqp"  # no management plugin configured here

    assert letter["queue"] == "posting.store-totals-closed"
    assert letter["message_id"] == "garbage-1"
    assert (letter["store_id"], letter["business_date"]) == ("41", "2026-11-19")
    assert "JSON" in letter["reason"] or "json" in letter["reason"], letter

    [failed] = data["failed_days"]
    assert (failed["store_id"], failed["business_date"]) == ("41", "2026-11-18")
    assert failed["errors"] == day["errors"]
    assert failed["message"].startswith("Posting failed")
    assert {o["service"] for o in data["outbox"]} == {"auth", "totals", "posting"}
    assert all(o["present"] for o in data["outbox"])
    assert data["waiting_for_new_key"] == []

    env = {"TOTALS_URL": system.totals_url, "OPS_TOKEN": TOKEN}
    as_json = await asyncio.to_thread(runner.invoke, ops_app, ["failures", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == data["failed_days"]
    table = await asyncio.to_thread(runner.invoke, ops_app, ["failures"], env=env)
    assert table.exit_code == 0, table.output
    assert "2026-11-18" in table.output and "090" in table.output
    refused = await asyncio.to_thread(runner.invoke, ops_app, ["failures", "--token", "nope"],
                                      env=env)
    assert refused.exit_code == 1


async def test_actions_for_scripts(ops_system: System, amqp_url: str, namespace: str) -> None:
    system = ops_system
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(timeout=60, base_url=system.totals_url) as client:
        await failed_day(client, system, "43", "2026-11-18")
        for n in range(2):
            await publish_garbage(amqp_url, namespace, f"garbage-{n}", "43:2026-11-19")
        await until_dead_letters(client, system, 2)
        anonymous = await client.post("/ops/api/replay",
                                      json={"queue": "posting.store-totals-closed"})
        replayed = await client.post("/ops/api/replay", headers=bearer,
                                     json={"queue": "posting.store-totals-closed"})
        retried = await client.post("/ops/api/retry", headers=bearer,
                                    json={"store_id": "43", "business_date": "2026-11-18"})
        unknown_day = await client.post("/ops/api/retry", headers=bearer,
                                        json={"store_id": "43", "business_date": "2026-01-01"})
        bad_date = await client.post("/ops/api/retry", headers=bearer,
                                     json={"store_id": "43", "business_date": "soon"})
        # Posting reads both again and, still not JSON, dead-letters them again.
        back = await until_dead_letters(client, system, 2)

    assert anonymous.status_code == 401
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["replayed"] == 2
    assert retried.status_code == 200, retried.text
    assert retried.json()["post"]["outcome"] == "queued"
    assert unknown_day.status_code == 404
    assert bad_date.status_code == 422
    assert sorted(d["message_id"] for d in back) == ["garbage-0", "garbage-1"]


async def test_stores_waiting_for_a_new_key(ops_system: System, amqp_url: str,
                                            namespace: str) -> None:
    system = ops_system
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, "42")
        store = f"{system.totals_url}/v1/stores/42"
        headers = {"X-Api-Key": key}
        saved = await client.put(f"{store}/setup", json=example_setup(key))
        connection_id = saved.json()["api_key"]["connection_id"]
        # What posting announces when Xero no longer accepts the store's grant.
        broker = Broker(amqp_url, topology(namespace))
        await broker.connect()
        try:
            await broker.publish(XeroConnectionNeedsReauth(
                correlation_id="42:reauth", connection_id=connection_id, store_ids=["42"],
                reason="refresh token expired"))
        finally:
            await broker.close()
        for _ in range(100):
            waiting = (await ops_data(client, system))["waiting_for_new_key"]
            if waiting:
                break
            await asyncio.sleep(0.1)
        assert [(w["store_id"], w["connection_status"], w["held_days"]) for w in waiting] == [
            ("42", "needs-reauth", [])]
        closed = await client.post(f"{store}/days/2026-11-19/close", json=example_day_totals(),
                                   headers=headers)
        assert closed.json()["day"]["status"] == "waiting-for-new-key"
        [held] = (await ops_data(client, system))["waiting_for_new_key"]
    assert held["held_days"] == ["2026-11-19"]
    assert held["connection_id"] == connection_id
