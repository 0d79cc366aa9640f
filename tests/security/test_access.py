"""Who may reach what: the totals API only with the store's own key, posting's internal
API only with the service credential, and the connect flow's OAuth `state` and PKCE.

tests/auth already covers auth's internal endpoints, a replayed state, an unknown or
expired connect link, a callback from another browser, and the sandbox refusing a wrong
verifier (tests/xero_sandbox); what is here is what those leave out."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from glbridge.connect import read_page
from glbridge.headless import HeadlessBrowser, Page
from shared.contracts import examples
from tests.support.shared_system import Shared, connected_store

DAY = "2026-11-24"


@pytest.fixture(scope="module")
def keys(shared: Shared) -> dict[str, str]:
    """Stores 601 and 602 connected and set up, and a day of 601 closed."""

    async def connect() -> dict[str, str]:
        async with httpx.AsyncClient(timeout=60) as client:
            found = {s: await connected_store(client, shared, s) for s in ("601", "602")}
            closed = await client.post(
                f"{shared.system.totals_url}/v1/stores/601/days/{DAY}/close",
                json=examples.example_day_totals(), headers={"X-Api-Key": found["601"]})
            assert closed.status_code == 200, closed.text
            return found

    return asyncio.run(connect())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def store_calls(store: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every call on a store's data (the SSE stream included: refused before it starts)."""
    return [
        ("GET", f"/v1/stores/{store}/setup", {}),
        ("PUT", f"/v1/stores/{store}/setup", {"json": examples.example_setup()}),
        ("POST", f"/v1/stores/{store}/days/{DAY}/close",
         {"json": examples.example_day_totals(3)}),
        ("GET", f"/v1/stores/{store}/days/{DAY}", {}),
        ("POST", f"/v1/stores/{store}/days/{DAY}/reprint", {"json": {"post_to_xero": True}}),
        ("GET", f"/v1/stores/{store}/events", {}),
    ]


async def test_totals_refuses_a_stores_data_without_its_own_key(
    shared: Shared, keys: dict[str, str], client: httpx.AsyncClient
) -> None:
    before = await _totals_state(shared)
    other_secret = keys["602"].rsplit(".", 1)[0] + "." + keys["601"].rsplit(".", 1)[1]
    for method, path, kwargs in store_calls("601"):
        url = shared.system.totals_url + path
        for headers, status in (
            ({}, 401),
            ({"X-Api-Key": ""}, 401),
            ({"X-Api-Key": "2RF:nope"}, 401),
            ({"X-Api-Key": keys["601"][:-2] + "xx"}, 401),  # the right key, damaged
            ({"X-Api-Key": other_secret}, 401),  # 602's connection with 601's secret
            ({"X-Api-Key": keys["602"]}, 403),  # another store's key
        ):
            answer = await client.request(method, url, headers=headers, **kwargs)
            assert answer.status_code == status, (method, path, headers, answer.text)
            assert answer.json()["detail"], answer.text
            assert keys["601"] not in answer.text and keys["602"] not in answer.text
    assert await _totals_state(shared) == before
    # A PUT may present a new key in its body; another store's key is refused there too.
    setup = examples.example_setup(keys["602"])
    taken = await client.put(f"{shared.system.totals_url}/v1/stores/601/setup", json=setup)
    assert taken.status_code in (401, 403, 422), taken.text
    assert await _totals_state(shared) == before


async def _totals_state(shared: Shared) -> list[Any]:
    conn = await shared.db("totals")
    try:
        rows = await conn.fetch(
            "SELECT store_id, api_key_hash, setup::text AS setup,"
            " (SELECT count(*) FROM days d WHERE d.store_id = s.store_id) AS days,"
            " (SELECT count(*) FROM outbox) AS outbox FROM setups s ORDER BY store_id")
        return [dict(r) for r in rows]
    finally:
        await conn.close()


async def test_postings_internal_api_refuses_missing_or_wrong_credentials(
    shared: Shared, keys: dict[str, str], client: httpx.AsyncClient
) -> None:
    base = shared.system.posting_url
    paths = ["/internal/v1/postings", f"/internal/v1/postings/601/{DAY}"]
    ops = shared.internal_headers("ops")["Authorization"]
    for path in paths:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": ops.split(" ", 1)[1]},
            {"Authorization": "Basic " + ops.split()[1]},
            {"X-Api-Key": keys["601"]},  # a store's key is not a service credential
            # Each service's credential opens only what that service calls.
            shared.internal_headers("totals"),
            shared.internal_headers("posting"),
        ):
            answer = await client.get(base + path, headers=headers)
            assert answer.status_code == 401, (path, headers, answer.text)
        good = await client.get(base + path, headers=shared.internal_headers("ops"))
        assert good.status_code == 200, good.text


async def _to_callback(shared: Shared, client: httpx.AsyncClient, store: str) -> str:
    """Walks setup, Xero's login and consent; returns the callback URL Xero sends the
    browser to (code and state in it) without following it."""
    setup = await client.post(f"{shared.system.auth_url}/v1/setup",
                              json={"store_id": store, "api_key": ""})
    browser = HeadlessBrowser(client)
    page = await browser.open(setup.json()["connect_url"])
    consent = await browser.submit(page, "Log in", username="demo@example.com",
                                   password="demo-password")
    form = consent.forms()[0]
    button = next(b for b in form.buttons if b.text.strip() == "Allow access")
    data = form.fields | ({button.name: button.value} if button.name else {})
    allowed = await client.post(urljoin(consent.url, form.action), data=data,
                                follow_redirects=False)
    assert allowed.status_code in (302, 303), allowed.text
    callback = allowed.headers["location"]
    assert callback.startswith(f"{shared.system.auth_url}/v1/connect/callback?")
    return callback


async def test_state_that_expired_while_at_xero_is_refused(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    callback = await _to_callback(shared, client, "603")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    conn = await shared.db("auth")
    try:
        expired = await conn.execute(
            "UPDATE connect_attempts SET expires_at = now() - interval '1 second'"
            " WHERE state = $1", state)
    finally:
        await conn.close()
    assert expired == "UPDATE 1"
    page: Page = HeadlessBrowser(client)._page(await client.get(callback))
    assert page.status == 400 and "expired" in page.html
    assert read_page(page).key is None
    assert await shared.connections("603") == 0


async def test_a_stolen_code_is_useless_without_the_pkce_verifier(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    """Even with the app's client secret, a code taken from the callback URL cannot be
    exchanged without the verifier auth keeps sealed; Xero burns it on the attempt."""
    callback = await _to_callback(shared, client, "604")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    answer = await client.post(
        f"{shared.system.sandbox_url}/connect/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": callback.split("?", 1)[0]},
        auth=("glbridge-dev", "glbridge-dev-secret"),
    )
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_grant"}
    page = await client.get(callback)  # the real browser arrives after the thief
    assert page.status_code in (400, 502) and read_page(
        HeadlessBrowser(client)._page(page)).key is None
    assert await shared.connections("604") == 0


async def test_one_answer_whether_a_store_exists_or_not(
    shared: Shared, keys: dict[str, str], client: httpx.AsyncClient
) -> None:
    """Without a store's key, a store in use and a number never used look the same."""
    answers = []
    for store in ("601", "699"):
        answer = await client.get(f"{shared.system.totals_url}/v1/stores/{store}/setup",
                                  headers={"X-Api-Key": "2RF:guess"})
        answers.append((answer.status_code, answer.json(), answer.headers.get("www-authenticate")))
    assert answers[0] == answers[1] and answers[0][0] == 401
