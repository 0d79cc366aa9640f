"""The Account Numbers setup: validation naming each field, and the key checked with the
real auth service (through the Xero sandbox) and kept only as a hash."""

import httpx

from glbridge.connect import connect_store
from services.totals.domain.examples import example_day_totals, example_setup

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
    rows = await totals.wiring.repo.pool.fetch("SELECT * FROM setups")
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
