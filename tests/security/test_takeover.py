"""Taking over a store, tried from the attacker's side on the running system.

The attacker knows store numbers and has a Xero login and organisation of their own; they
do not hold the store's `2RF:` key. Every attempt must be refused with a 401 or 403, and
the store's key must keep working afterwards. The store's owner, with its key or a
reconnect token from the operator, still connects again; a move to another organisation
is a confirmed step the ops page shows."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from glbridge.connect import ConnectFailed, connect_store, finish_connect, read_page
from glbridge.ops import ops_app
from shared.contracts import examples
from tests.support.shared_system import CREDENTIALS, Shared, connected_store

ATTACKER = {"email": "mallory@example.com", "password": "mallory-password"}
OAUTH1_TOKEN = "RZ1P0ZXAJ4QPGZJ3BO9VNQJZQDK3FF"
FORGED_TOKEN = "2RT:" + "A" * 43
runner = CliRunner()


@pytest.fixture(scope="module")
def attacker(shared: Shared) -> dict[str, str]:
    """A Xero user with an organisation of their own (not the store's)."""

    async def create() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=shared.system.sandbox_url, timeout=30) as sandbox:
            org = await sandbox.post("/_control/organisations",
                                     json={"name": "Mallory Ltd", "template": "us-rental"})
            org.raise_for_status()
            user = await sandbox.post("/_control/users", json={
                **ATTACKER, "tenant_ids": [org.json()["tenant_id"]]})
            user.raise_for_status()
        return ATTACKER

    return asyncio.run(create())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield http


async def _setup(client: httpx.AsyncClient, shared: Shared, store: str,
                 **body: str) -> httpx.Response:
    return await client.post(f"{shared.system.auth_url}/v1/setup",
                             json={"store_id": store, "api_key": "", **body})


async def _key_works(client: httpx.AsyncClient, shared: Shared, store: str, key: str) -> None:
    """The store's key still opens its setup at totals and verifies at auth."""
    setup = await client.get(f"{shared.system.totals_url}/v1/stores/{store}/setup",
                             headers={"X-Api-Key": key})
    assert setup.status_code == 200, setup.text
    verified = await client.post(f"{shared.system.auth_url}/internal/v1/keys/verify",
                                 headers=shared.internal_headers("totals"), json={"api_key": key})
    assert verified.status_code == 200, verified.text
    assert verified.json()["store_id"] == store


async def _verified(client: httpx.AsyncClient, shared: Shared, key: str) -> dict[str, Any]:
    answer = await client.post(f"{shared.system.auth_url}/internal/v1/keys/verify",
                               headers=shared.internal_headers("totals"), json={"api_key": key})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_connected_store_is_not_reconnected_without_proof(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    key = await connected_store(client, shared, "611")
    other_store_key = await connected_store(client, shared, "612")
    connection = (await _verified(client, shared, key))["connection_id"]
    wrong_secret = f"2RF:{connection}." + "x" * 43
    for body in ({}, {"api_key": "   "}, {"api_key": wrong_secret},
                 {"api_key": other_store_key}, {"api_key": OAUTH1_TOKEN},
                 {"reconnect_token": FORGED_TOKEN}, {"reconnect_token": "not a token"}):
        answer = await _setup(client, shared, "611", **body)
        assert answer.status_code == 401, (body, answer.text)
        assert "current 2RF: key" in answer.json()["detail"]
        assert "reconnect-token --store 611" in answer.json()["detail"]
    assert await shared.connections("611") == 1
    await _key_works(client, shared, "611", key)


async def test_a_link_opened_before_the_store_connected_cannot_finish(
    shared: Shared, client: httpx.AsyncClient, attacker: dict[str, str]
) -> None:
    """The attacker opens a link while the store has no connection (scenario 1 is open),
    the store then connects, and the attacker finishes their link: refused."""
    early = await _setup(client, shared, "613")
    assert early.status_code == 200, early.text
    key = await connected_store(client, shared, "613")
    page = await finish_connect(client, early.json()["connect_url"], attacker["email"],
                                attacker["password"])
    assert page.status == 409, page.html
    assert "connected or reconnected another way" in page.html
    assert read_page(page).key is None
    assert await shared.connections("613") == 1
    await _key_works(client, shared, "613", key)


async def test_totals_takes_a_new_key_only_from_who_holds_the_store(
    shared: Shared, client: httpx.AsyncClient, attacker: dict[str, str]
) -> None:
    """With the store's connection ended at auth (scenario 1 open again), the attacker gets
    a key for the store in their own organisation; totals refuses it without the store's
    current key or the operator's credential."""
    key = await connected_store(client, shared, "614")
    connection = (await _verified(client, shared, key))["connection_id"]
    ended = await client.delete(
        f"{shared.system.auth_url}/internal/v1/connections/{connection}",
        headers=shared.internal_headers("totals"))
    assert ended.status_code == 200, ended.text
    stolen = await connect_store(client, shared.system.auth_url, "614", attacker["email"],
                                 attacker["password"], confirm_move=True)
    setup_url = f"{shared.system.totals_url}/v1/stores/614/setup"
    other_store_key = await connected_store(client, shared, "616")
    for headers in ({}, {"X-Api-Key": stolen}, {"X-Api-Key": other_store_key},
                    shared.internal_headers("totals"), shared.internal_headers("posting")):
        answer = await client.put(setup_url, json=examples.example_setup(stolen),
                                  headers=headers)
        assert answer.status_code == 403, (headers, answer.text)
        assert "current key in X-Api-Key" in answer.json()["detail"]
    kept = await client.get(setup_url, headers={"X-Api-Key": key})
    assert kept.status_code == 200 and kept.json()["api_key"]["tenant_name"] == "Demo Rentals (US)"
    refused = await client.get(setup_url, headers={"X-Api-Key": stolen})
    assert refused.status_code == 401
    # The operator may replace it (here: undoing nothing, just the door that is open).
    operator = await client.put(setup_url, json=examples.example_setup(stolen),
                                headers=CREDENTIALS.bearer("ops"))
    assert operator.status_code == 200, operator.text


async def test_a_store_whose_key_is_lost_reconnects_with_the_operators_token(
    shared: Shared, client: httpx.AsyncClient, attacker: dict[str, str]
) -> None:
    lost = await connected_store(client, shared, "615")
    env = {"TOTALS_URL": shared.system.totals_url, "OPS_TOKEN": CREDENTIALS.ops}
    issued = await asyncio.to_thread(
        runner.invoke, ops_app, ["reconnect-token", "--store", "615", "--json"], env=env)
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.output)["reconnect_token"]
    assert token.startswith("2RT:")
    # Without the ops credential nobody gets one.
    for headers in ({}, shared.internal_headers("totals"), {"X-Api-Key": lost}):
        answer = await client.post(f"{shared.system.totals_url}/ops/api/reconnect-token",
                                   json={"store_id": "615"}, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
    # A token is the store's own: another connected store's is refused.
    await connected_store(client, shared, "629")
    wrong_store = await _setup(client, shared, "629", reconnect_token=token)
    assert wrong_store.status_code == 401
    new = await connect_store(client, shared.system.auth_url, "615", reconnect_token=token)
    again = await _setup(client, shared, "615", reconnect_token=token)
    assert again.status_code == 401, again.text  # single use
    # Totals takes the key auth issued after that proof, without the lost key.
    saved = await client.put(f"{shared.system.totals_url}/v1/stores/615/setup",
                             json=examples.example_setup(new))
    assert saved.status_code == 200, saved.text
    await _key_works(client, shared, "615", new)
    old = await client.get(f"{shared.system.totals_url}/v1/stores/615/setup",
                           headers={"X-Api-Key": lost})
    assert old.status_code == 401


async def test_moving_a_store_to_another_organisation_is_confirmed_and_shown(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    key = await connected_store(client, shared, "617")
    multi = ("multi@example.com", "multi-password", "Kiwi Hire (NZ)")
    with pytest.raises(ConnectFailed, match="Move the store to another organisation"):
        await connect_store(client, shared.system.auth_url, "617", *multi, api_key_box=key)
    assert (await _verified(client, shared, key))["tenant_name"] == "Demo Rentals (US)"
    moved = await connect_store(client, shared.system.auth_url, "617", *multi,
                                api_key_box=key, confirm_move=True)
    assert (await _verified(client, shared, moved))["tenant_name"] == "Kiwi Hire (NZ)"
    saved = await client.put(f"{shared.system.totals_url}/v1/stores/617/setup",
                             json=examples.example_setup(moved), headers={"X-Api-Key": key})
    assert saved.status_code == 200, saved.text
    ops = await client.get(f"{shared.system.totals_url}/ops/data",
                           headers=CREDENTIALS.bearer("ops"))
    [move] = [m for m in ops.json()["store_moves"] if m["store_id"] == "617"]
    assert (move["from_tenant_name"], move["to_tenant_name"], move["proof"]) == (
        "Demo Rentals (US)", "Kiwi Hire (NZ)", "key")
    page = await client.get(f"{shared.system.totals_url}/ops", headers=CREDENTIALS.bearer("ops"))
    assert "Kiwi Hire (NZ)" in page.text and 'id="store-moves"' in page.text


async def test_anonymous_setups_cannot_grow_the_database_without_bound(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    answers = [await _setup(client, shared, "618") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    assert "5 connect links open" in answers[-1].json()["detail"]
    assert int(answers[-1].headers["Retry-After"]) > 0
    conn = await shared.db("auth")
    try:
        rows = await conn.fetchval(
            "SELECT count(*) FROM connect_attempts WHERE store_id = '618'")
    finally:
        await conn.close()
    assert rows == 5
