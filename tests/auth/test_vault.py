"""The token vault against real processes: single flight, lost answers, crashes, refusals."""

import asyncio
import contextlib
import itertools
import time

import aio_pika
import asyncpg
import httpx
import pytest

from shared.contracts.registry import EventRegistry
from shared.messaging.topology import TOTALS_RESULTS_QUEUE, topology
from tests.auth.conftest import CREDENTIALS, AuthCluster, connect, refreshes, xero_accepts


async def _advance(sandbox, seconds: int) -> None:
    (
        await sandbox.client.post("/_control/clock/advance", json={"seconds": seconds})
    ).raise_for_status()


async def test_200_concurrent_requests_over_3_processes_refresh_once(
    auth: AuthCluster, sandbox, browser_client, internal
):
    auth.start(3)
    conn = await connect(auth, browser_client, internal, "S100")
    await _advance(sandbox, 31 * 60)
    assert await xero_accepts(sandbox, conn.access_token) == 401  # expired at Xero

    urls = itertools.cycle([p.url for p in auth.processes])
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(
        timeout=60, limits=limits, headers=CREDENTIALS.bearer("posting")
    ) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{next(urls)}/internal/v1/connections/{conn.connection_id}/access-token",
                    json={"rejected_token": conn.access_token},
                )
                for _ in range(200)
            )
        )
    elapsed = time.perf_counter() - started
    print(f"200 access-token requests over 3 processes with one refresh: {elapsed:.2f} s")
    assert [a.status_code for a in answers] == [200] * 200
    tokens = {a.json()["access_token"] for a in answers}
    assert len(tokens) == 1 and conn.access_token not in tokens
    assert await refreshes(sandbox, conn.grant_id) == 1
    assert await xero_accepts(sandbox, tokens.pop()) == 200


async def test_a_lost_refresh_answer_is_recovered_through_the_grace_period(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S101")
    (
        await sandbox.client.put("/_control/faults", json={"lose_token_responses": 1})
    ).raise_for_status()
    answer = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token},
    )
    assert answer.status_code == 200, answer.text
    assert await xero_accepts(sandbox, answer.json()["access_token"]) == 200
    assert await refreshes(sandbox, conn.grant_id) == 2  # the lost one and its replay
    # The rotated refresh token works for the next refresh too: nothing was lost.
    again = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": answer.json()["access_token"]},
    )
    assert again.status_code == 200, again.text
    assert await db.fetchval("SELECT status FROM connections") == "active"


async def _wait_refresh_sent(db) -> None:
    for _ in range(250):  # until the refresh is on its way to Xero
        if await db.fetchval("SELECT refresh_first_used_at FROM connections") is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("auth never started the refresh")


async def _wait_refreshes(sandbox, grant_id: str, count: int) -> None:
    for _ in range(200):
        if await refreshes(sandbox, grant_id) >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the sandbox never saw {count} refreshes")


@pytest.mark.parametrize("when", ["before-xero-answered", "after-xero-rotated"])
async def test_auth_killed_during_a_refresh_recovers_without_reauth(
    auth: AuthCluster, sandbox, browser_client, internal, db, database_url, when
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S102")
    delay = 1500 if when == "before-xero-answered" else 300
    latency = {"latency_ms": {"min": delay, "max": delay}}
    (await sandbox.client.put("/_control/faults", json=latency)).raise_for_status()
    request = asyncio.create_task(
        internal.post(
            f"/internal/v1/connections/{conn.connection_id}/access-token",
            json={"rejected_token": conn.access_token},
        )
    )
    await _wait_refresh_sent(db)
    blocker = await asyncpg.connect(database_url, server_settings={"search_path": "auth"})
    try:
        if when == "after-xero-rotated":
            # Hold the row so auth, holding Xero's answer, cannot store it; then kill it.
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("SELECT 1 FROM connections FOR UPDATE")
            await _wait_refreshes(sandbox, conn.grant_id, 1)
            await asyncio.sleep(0.2)
        auth.processes[0].kill()
        if when == "after-xero-rotated":
            await transaction.rollback()
    finally:
        await blocker.close()
    with contextlib.suppress(httpx.HTTPError):
        await request
    (await sandbox.client.delete("/_control/faults")).raise_for_status()
    rotated_before_restart = await refreshes(sandbox, conn.grant_id)

    auth.restart(0)
    answer = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token},
    )
    assert answer.status_code == 200, answer.text
    assert await xero_accepts(sandbox, answer.json()["access_token"]) == 200
    assert await db.fetchval("SELECT status FROM connections") == "active"
    # After a rotation the stored token was spent: only Xero's grace period recovered it.
    expected = {"before-xero-answered": 0, "after-xero-rotated": 1}[when]
    assert rotated_before_restart == expected


async def _results_queue(amqp_url: str, namespace: str):
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    queue = await channel.get_queue(topology(namespace).queue_name(TOTALS_RESULTS_QUEUE))
    return connection, queue


async def _events_until(queue, last_type: str, timeout: float = 30.0) -> list:
    """Events up to and including the first of `last_type`: a later event is the signal
    that an earlier duplicate, had there been one, has been seen."""
    events: list = []
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(e.event_type == last_type for e in events):
        assert asyncio.get_running_loop().time() < deadline, f"no {last_type}: {events}"
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        events.append(EventRegistry().parse(message.body))
        await message.ack()
    return events


async def test_invalid_grant_means_needs_reauth_one_event_and_409_until_reconnected(
    auth: AuthCluster, sandbox, browser_client, internal, amqp_url, namespace
):
    auth.start(2)
    conn = await connect(auth, browser_client, internal, "S103")
    await sandbox.client.post("/_control/revoke", json={"email": "demo@example.com"})
    answers = await asyncio.gather(
        *(
            internal.post(
                f"{p.url}/internal/v1/connections/{conn.connection_id}/access-token",
                json={"rejected_token": conn.access_token},
            )
            for p in auth.processes * 10
        )
    )
    assert {a.status_code for a in answers} == {409}
    assert answers[0].json()["error"] == "reauth-needed"
    assert "connect again" in answers[0].json()["detail"]
    verified = await internal.post("/internal/v1/keys/verify", json={"api_key": conn.key})
    assert verified.json()["status"] == "needs-reauth"

    broker, queue = await _results_queue(amqp_url, namespace)
    async with broker:
        # Scenario 3: the store connects again with its old key in the box; its event
        # comes after any the twenty refusals made.
        renewed = await connect(auth, browser_client, internal, "S103", api_key_box=conn.key)
        events = await _events_until(queue, "xero-connection-restored")
    assert [e.event_type for e in events] == ["xero-connection-needs-reauth",
                                              "xero-connection-restored"]
    assert str(events[0].connection_id) == conn.connection_id
    assert events[0].store_ids == ["S103"]
    assert str(events[1].connection_id) == renewed.connection_id
    old = await internal.post("/internal/v1/keys/verify", json={"api_key": conn.key})
    assert old.status_code == 404
    retired = await internal.post(f"/internal/v1/connections/{conn.connection_id}/access-token")
    assert retired.status_code == 409


async def test_failed_refreshes_cool_down_instead_of_storming(
    auth: AuthCluster, sandbox, browser_client, internal
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S104")
    (await sandbox.client.put("/_control/faults", json={"error_rate": 1.0})).raise_for_status()
    before = (await sandbox.client.get("/_control/stats")).json()["token_requests"]
    answers = [
        await internal.post(
            f"/internal/v1/connections/{conn.connection_id}/access-token",
            json={"rejected_token": conn.access_token},
        )
        for _ in range(5)
    ]
    after = (await sandbox.client.get("/_control/stats")).json()["token_requests"]
    assert {a.status_code for a in answers} == {503}
    assert answers[0].json()["error"] == "xero-unavailable"
    assert after - before < 5  # the cool-down kept most of them away from Xero
    (await sandbox.client.delete("/_control/faults")).raise_for_status()
    for _ in range(50):
        answer = await internal.post(
            f"/internal/v1/connections/{conn.connection_id}/access-token",
            json={"rejected_token": conn.access_token},
        )
        if answer.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert answer.status_code == 200, answer.text
