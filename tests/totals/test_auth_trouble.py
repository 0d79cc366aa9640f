"""totals when auth cannot answer: a setup's new key cannot be checked, so the save is
refused with a 503 to try again (nothing saved); the ops page still shows, naming auth
as the problem; a reconnect token cannot be issued. Auth down (nothing listens) and auth
answering 5xx (its database cut away from it) are both real here."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from glbridge.connect import connect_store
from glbridge.processes import ServiceProcess, free_port
from shared.contracts.examples import example_setup
from shared.settings import DEV_OPS_TOKEN
from tests.support.proxy import CuttableProxy
from tests.support.sandbox import RunningSandbox
from tests.totals.conftest import RunningTotals, serve, totals_settings

SETUP = "/v1/stores/{store}/setup"
OPS = {"Authorization": f"Bearer {DEV_OPS_TOKEN}"}


async def _refused_for_now(totals: RunningTotals, store: str, key: str) -> httpx.Response:
    response = await totals.client.put(SETUP.format(store=store), json=example_setup(key))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "cannot be checked now" in response.json()["detail"]
    # Nothing was saved: the store still has no setup, so no key opens it.
    assert (await totals.client.get(SETUP.format(store=store),
                                    headers={"X-Api-Key": key})).status_code == 401
    return response


async def test_while_auth_is_down_a_new_key_is_refused_for_now(totals: RunningTotals):
    # The `totals` fixture's auth URL is a port nothing listens on.
    response = await _refused_for_now(totals, "12", "2RF:" + "k" * 40)
    assert "auth unreachable" in response.json()["detail"]


async def test_while_auth_is_down_the_ops_page_names_it_and_no_token_is_issued(
        totals: RunningTotals):
    data = await totals.client.get("/ops/data", headers=OPS)
    assert data.status_code == 200, data.text
    assert data.json()["store_moves"] == []
    assert any(p.startswith("auth (store moves): auth unreachable")
               for p in data.json()["problems"]), data.json()["problems"]
    token = await totals.client.post("/ops/api/reconnect-token", json={"store_id": "12"},
                                     headers=OPS)
    assert token.status_code == 503, token.text
    assert "auth cannot issue a token now" in token.json()["detail"]


@pytest.fixture
async def auth_behind_a_cuttable_database(
        sandbox: RunningSandbox, database_url: str, amqp_url: str, namespace: str,
        tmp_path: Path) -> AsyncIterator[tuple[str, CuttableProxy]]:
    """An auth process whose PostgreSQL connections pass through a proxy the test cuts."""
    parts = urlsplit(database_url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    via_proxy = parts._replace(
        netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}").geturl()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await sandbox.client.put("/_control/clients/glbridge-dev", json={
        "client_secret": "glbridge-dev-secret",
        "redirect_uris": [f"{url}/v1/connect/callback"]})
    env = {"DATABASE_URL": via_proxy, "AMQP_URL": amqp_url, "AMQP_NAMESPACE": namespace,
           "AUTH_PORT": str(port), "AUTH_PUBLIC_URL": url, **sandbox.xero_env()}
    auth = ServiceProcess("services.auth", port, env, tmp_path)
    try:
        # Waited for in a thread: the proxy serves auth's connections from this loop.
        await asyncio.to_thread(auth.start, "/readyz", 60)
        yield url, proxy
    finally:
        await asyncio.to_thread(auth.stop)
        await proxy.stop()


async def test_while_auth_answers_5xx_a_new_key_is_refused_for_now(
        auth_behind_a_cuttable_database, database_url, amqp_url, namespace):
    auth_url, proxy = auth_behind_a_cuttable_database
    async with httpx.AsyncClient(timeout=60) as browser:
        key = await connect_store(browser, auth_url, "12")
    settings = totals_settings(database_url, amqp_url, namespace, auth_url)
    async with serve(settings) as totals:
        proxy.cut()  # auth's database is gone from under it: auth answers 5xx
        response = await _refused_for_now(totals, "12", key)
        assert "auth answered 503" in response.json()["detail"], response.text

        proxy.restore()
        saved = await totals.client.put(SETUP.format(store="12"), json=example_setup(key))
        assert saved.status_code == 200, saved.text
