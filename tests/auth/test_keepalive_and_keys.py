"""Background keep-alive of idle connections, and rotation of the encryption key."""

import asyncio
import base64
import os
from datetime import timedelta

from tests.auth.conftest import AuthCluster, connect, refreshes, xero_accepts
from tests.support.processes import ServiceProcess


async def refreshed_by_keep_alive(db, store_id: str) -> None:
    for _ in range(100):
        if await db.fetchval("SELECT refresh_count FROM connections WHERE store_id = $1",
                             store_id):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"keep-alive never refreshed {store_id}")


async def test_idle_connections_are_refreshed_before_their_refresh_token_dies(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start(AUTH_KEEPALIVE_INTERVAL_S="0.3", AUTH_KEEPALIVE_DAYS="45")
    idle = await connect(auth, browser_client, internal, "S300")
    recent = await connect(auth, browser_client, internal, "S301")
    marker = await connect(auth, browser_client, internal, "S309")
    idle_for = "UPDATE connections SET last_refreshed_at = now() - $2::interval WHERE store_id = $1"
    await db.execute(idle_for, "S300", timedelta(days=46))
    await db.execute(idle_for, "S301", timedelta(days=44))
    await refreshed_by_keep_alive(db, "S300")
    assert await refreshes(sandbox, idle.grant_id) == 1
    # A later pass, known to have run by the marker it refreshed, left both alone.
    await db.execute(idle_for, "S309", timedelta(days=46))
    await refreshed_by_keep_alive(db, "S309")
    assert await refreshes(sandbox, marker.grant_id) == 1
    assert await refreshes(sandbox, idle.grant_id) == 1
    assert await refreshes(sandbox, recent.grant_id) == 0
    assert await db.fetchval(
        "SELECT last_refreshed_at > now() - interval '1 minute' FROM connections"
        " WHERE store_id = 'S300'"
    )


async def test_encryption_key_rotation_keeps_connections(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S302")
    old_id = auth.keys.split(":", 1)[0]
    assert (await db.fetchval("SELECT refresh_token_sealed FROM connections")).startswith(
        f"{old_id}."
    )
    new = "t2:" + base64.b64encode(os.urandom(32)).decode()

    def restart_with(keys: str) -> None:
        old = auth.processes[0]
        old.stop()
        process = ServiceProcess(
            "services.auth", old.port, {**old.env, "AUTH_ENCRYPTION_KEYS": keys}, auth.log_dir
        )
        process.start("/readyz", 30)
        auth.processes[0] = process

    restart_with(f"{new},{auth.keys}")
    answer = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token},
    )
    assert answer.status_code == 200, answer.text
    assert (await db.fetchval("SELECT refresh_token_sealed FROM connections")).startswith("t2.")
    restart_with(new)  # the old key retired: everything was resealed by the refresh
    again = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": answer.json()["access_token"]},
    )
    assert again.status_code == 200, again.text
    assert await xero_accepts(sandbox, again.json()["access_token"]) == 200
