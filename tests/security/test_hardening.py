"""Every HTML page is sent with a policy that forbids framing and foreign content, every
answer with nosniff, HSTS when the operator says TLS is in front; a Host name the
operator did not list is refused; a store's open event streams and waits are capped."""

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from glbridge.connect import connect_store
from glbridge.system import System
from shared.contracts.examples import example_setup
from tests.support.shared_system import shared_system

WAITS = 2


@pytest.fixture(scope="module")
def behind_tls(postgres_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[System]:
    """One system for the module: its tests use stores of their own."""
    with shared_system(
        postgres_url, amqp_url, tmp_path_factory.mktemp("logs"),
        extra_env={"HSTS": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                   "TOTALS_MAX_WAITS_PER_STORE": str(WAITS)},
    ) as running:
        yield running.system


async def test_pages_carry_the_security_headers(behind_tls: System) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        pages = [
            await client.get(f"{behind_tls.auth_url}/v1/connect/callback?state=nope&code=x"),
            await client.get(f"{behind_tls.totals_url}/ops/login"),
        ]
        for page in pages:
            assert page.headers["content-type"].startswith("text/html")
            policy = page.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
            assert page.headers["strict-transport-security"].startswith("max-age=")
        data = await client.get(f"{behind_tls.posting_url}/healthz")
        assert data.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in data.headers


async def test_a_host_name_not_listed_is_refused(behind_tls: System) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for url in (behind_tls.auth_url, behind_tls.totals_url, behind_tls.posting_url):
            forged = await client.get(f"{url}/healthz", headers={"Host": "evil.example"})
            assert forged.status_code == 400, url
            listed = await client.get(f"{url}/healthz", headers={"Host": "localhost"})
            assert listed.status_code == 200, url


async def test_a_stores_open_streams_and_waits_are_capped(behind_tls: System) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        key = await connect_store(client, behind_tls.auth_url, "12")
        saved = await client.put(f"{behind_tls.totals_url}/v1/stores/12/setup",
                                 json=example_setup(key))
        assert saved.status_code == 200, saved.text
        store = f"{behind_tls.totals_url}/v1/stores/12"
        headers = {"X-Api-Key": key}
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(WAITS):
                stream = await streams.enter_async_context(
                    client.stream("GET", f"{store}/events", headers=headers))
                assert stream.status_code == 200
            refused = await client.get(f"{store}/events", headers=headers)
            assert refused.status_code == 429 and "Retry-After" in refused.headers
            waiting = await client.get(f"{store}/days/2026-11-27", params={"wait": 1},
                                       headers=headers)
            assert waiting.status_code == 429
            # Asking without waiting holds nothing.
            asked = await client.get(f"{store}/days/2026-11-27", headers=headers)
            assert asked.status_code == 404
        # The streams closed, their places are free again (once the service sees them go).
        for _ in range(300):
            freed = await client.get(f"{store}/days/2026-11-27", params={"wait": 0.1},
                                     headers=headers)
            if freed.status_code != 429:
                break
        assert freed.status_code == 404
