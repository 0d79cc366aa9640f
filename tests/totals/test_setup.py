"""The Account Numbers setup: validation naming each field, and the key checked with the
real auth service (through the Xero sandbox) and kept only as a hash."""

import asyncio
from decimal import Decimal

import httpx

from glbridge.connect import connect_store
from services.totals.adapters.unit_of_work import PgTotalsUnitOfWork
from shared.contracts.examples import example_day_totals, example_setup
from shared.db import create_pool
from tests.totals.conftest import save_setup

SETUP = "/v1/stores/{store}/setup"


async def test_setup_validation_names_every_field(totals):
    body = example_setup("2RF:whatever")
    body["accounts"] |= {"visa": "CC", "bananas": "1", "cash": "{Shop}1"}
    body |= {"currency": "usd", "timezone": "Mars/Olympus", "journal_status": "FINAL",
             "tracking": [{"name": "Store", "option": ""}]}
    response = await totals.client.put(SETUP.format(store="12"), json=body)
    assert response.status_code == 422
    locs = {tuple(err["loc"]) for err in response.json()["detail"]}
    assert locs == {
        ("body", "accounts", "visa"), ("body", "accounts", "bananas"),
        ("body", "accounts", "cash"), ("body", "currency"), ("body", "timezone"),
        ("body", "journal_status"), ("body", "tracking", 0, "option"),
    }


async def test_a_first_setup_needs_a_key_and_a_bad_path_is_a_4xx(totals):
    response = await totals.client.put(SETUP.format(store="12"), json=example_setup())
    assert response.status_code == 401
    bad = await totals.client.put(SETUP.format(store="12 3"), json=example_setup())
    assert bad.status_code == 422
    # The store id is named once, though the route and its key check both read it.
    for method, path in (("GET", SETUP.format(store="999.0")),
                         ("POST", "/v1/stores/999.0/days/2026-11-20/close")):
        refused = await totals.client.request(method, path, headers={"X-Api-Key": "2RF:x"})
        assert refused.status_code == 422
        assert [p["loc"] for p in refused.json()["detail"]] == [["path", "store_id"]]
    key = await totals.client.put(SETUP.format(store="12"), json=example_setup("sk_live_x"))
    assert key.status_code == 422
    assert key.json()["detail"][0]["loc"] == ["body", "api_key"]


async def test_a_key_is_verified_with_auth_and_only_its_hash_is_kept(totals_with_auth,
                                                                    auth_url):
    totals = totals_with_auth
    async with httpx.AsyncClient(timeout=60) as browser:
        key = await connect_store(browser, auth_url, "12")
    saved = await totals.client.put(SETUP.format(store="12"), json=example_setup(key))
    assert saved.status_code == 200, saved.text
    assert saved.json()["api_key"]["tenant_name"] == "Demo Rentals (US)"
    got = await totals.client.get(SETUP.format(store="12"), headers={"X-Api-Key": key})
    assert got.status_code == 200
    assert key not in got.text and key.split(":", 1)[1] not in got.text
    assert got.json()["accounts"]["visa"] == "1230"
    rows = await totals.wiring.pool.fetch("SELECT * FROM setups")
    assert key not in str([dict(row) for row in rows])
    # a setup change without a new key needs the current one in the header
    changed = example_setup(auto_post=False)
    assert (await totals.client.put(SETUP.format(store="12"), json=changed)).status_code == 401
    again = await totals.client.put(SETUP.format(store="12"), json=changed,
                                    headers={"X-Api-Key": key})
    assert again.status_code == 200 and again.json()["auto_post"] is False
    closed = await totals.client.post("/v1/stores/12/days/2026-11-27/close",
                                      json=example_day_totals(), headers={"X-Api-Key": key})
    assert closed.json()["day"]["status"] == "not-posted"
    # another store cannot take this key, and auth does not know a made-up one
    other = await totals.client.put(SETUP.format(store="13"), json=example_setup(key))
    assert other.status_code == 422 and other.json()["detail"][0]["type"] == "wrong-store"
    made_up = await totals.client.put(SETUP.format(store="13"),
                                      json=example_setup("2RF:" + "x" * 40))
    assert made_up.status_code == 422 and made_up.json()["detail"][0]["type"] == "unknown-key"


def _without_labour(record):
    accounts = {k: v for k, v in record.setup.accounts.items() if k != "labour"}
    return record.setup.model_copy(update={"accounts": accounts})


def _with_labour_revenue():
    body = example_day_totals()
    body["revenue"].append({"category": "labour", "item_category": "Setup", "amount": "10.00"})
    body["tenders"][0]["received"] = str(Decimal(body["tenders"][0]["received"]) + 10)
    return body


async def _close_status(totals, key: str, day: str) -> int:
    response = await totals.client.post(f"/v1/stores/12/days/{day}/close",
                                        json=_with_labour_revenue(), headers={"X-Api-Key": key})
    return response.status_code


async def test_a_setup_changed_by_another_replica_is_seen_without_waiting_for_the_cache(
        totals, database_url):
    key = await totals.add_store("12")
    assert await _close_status(totals, key, "2025-03-01") == 200  # the setup is now cached
    pool = await create_pool(database_url, "totals", 1, 1)
    try:
        async with PgTotalsUnitOfWork(pool) as uow:
            record = await uow.setups.get("12")
        assert record is not None
        await save_setup(PgTotalsUnitOfWork(pool), "12", _without_labour(record), None)
    finally:
        await pool.close()
    # The cache keeps setups for minutes: only the NOTIFY can make this refusal come soon.
    for _ in range(50):
        if await _close_status(totals, key, "2025-03-02") == 422:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the cached setup was served after another replica changed it")


async def test_cached_setups_are_not_used_while_the_listener_is_down(totals):
    key = await totals.add_store("12")
    assert await _close_status(totals, key, "2025-03-01") == 200
    await totals.wiring.notifier.stop()
    assert not totals.wiring.notifier.connected.is_set()
    record = await totals.get_setup("12")
    assert record is not None
    await totals.save_setup("12", _without_labour(record))
    # No NOTIFY can arrive: the next close must read the setup again.
    assert await _close_status(totals, key, "2025-03-02") == 422
