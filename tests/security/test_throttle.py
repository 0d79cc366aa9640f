"""Failed credentials from one address are throttled (429 with Retry-After) on every
door that takes one: a store's key at totals, the ops sign-in, auth's service
credentials and a reconnect without proof; other addresses are not affected."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from glbridge.system import Credentials, System
from tests.support.processes import running_system

LIMIT = 5
CREDENTIALS = Credentials.named("throttle-test")


@pytest.fixture
def throttled(database_url: str, amqp_url: str, namespace: str, tmp_path: Path
              ) -> Iterator[System]:
    with running_system(
        database_url, amqp_url, namespace, tmp_path, credentials=CREDENTIALS,
        extra_env={"THROTTLE_FAILURES": str(LIMIT), "THROTTLE_WINDOW_S": "600"},
    ) as running:
        yield running


def _refused_then_throttled(answers: list[httpx.Response]) -> None:
    codes = [a.status_code for a in answers]
    assert codes[:LIMIT] == [401] * LIMIT, codes
    assert set(codes[LIMIT:]) == {429}, codes
    last = answers[-1]
    assert int(last.headers["Retry-After"]) > 0
    assert "too many failed credentials" in last.json()["detail"]


async def test_failed_credentials_are_throttled_per_address(throttled: System) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        store = f"{throttled.totals_url}/v1/stores/12/setup"
        _refused_then_throttled([
            await client.get(store, headers={"X-Api-Key": f"2RF:guess-{n}"})
            for n in range(LIMIT + 2)])
        # Throttled before the credential is looked at: the right one waits too.
        ops = await client.get(f"{throttled.totals_url}/ops/data",
                               headers=CREDENTIALS.bearer("ops"))
        assert ops.status_code == 429
        verify = f"{throttled.auth_url}/internal/v1/keys/verify"
        _refused_then_throttled([
            await client.post(verify, json={"api_key": "2RF:x"},
                              headers={"Authorization": f"Bearer guess-{n}"})
            for n in range(LIMIT + 1)])
        setup = await client.post(f"{throttled.auth_url}/v1/setup",
                                  json={"store_id": "12", "api_key": ""})
        assert setup.status_code == 429
        posting = f"{throttled.posting_url}/internal/v1/postings"
        _refused_then_throttled([await client.get(posting) for _ in range(LIMIT + 1)])


async def test_another_address_is_not_throttled(throttled: System) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(LIMIT + 1):
            await client.post(f"{throttled.totals_url}/ops/login", data={"token": "guess"})
        assert (await client.post(f"{throttled.totals_url}/ops/login",
                                  data={"token": CREDENTIALS.ops})).status_code == 429
    # Another client: the same service reached from another loopback address.
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(timeout=30, transport=transport) as client:
        signed_in = await client.post(f"{throttled.totals_url}/ops/login",
                                      data={"token": CREDENTIALS.ops})
        assert signed_in.status_code == 303, signed_in.text
