"""Oversized and malformed HTTP requests to totals and auth: each is answered 413 or 422
saying what is wrong and where, never a 5xx, and nothing is half-written."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.contracts import examples
from tests.support.shared_system import Shared, connected_store, table_counts

STORE = "66"
DAY = "2026-11-22"
TWO_MB = 2 * 1024 * 1024
TOTALS_TABLES = ["setups", "days", "day_revisions", "outbox"]
AUTH_TABLES = ["connections", "connect_attempts", "outbox"]


@pytest.fixture(scope="module")
def store_key(shared: Shared) -> str:
    async def connect() -> str:
        async with httpx.AsyncClient(timeout=60) as client:
            return await connected_store(client, shared, STORE)

    return asyncio.run(connect())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield http


def huge_totals() -> bytes:
    """2 MB of well-formed JSON: the example day with a revenue list 2 MB long."""
    body = examples.example_day_totals()
    line = {"category": "rental", "amount": "0.01"}
    body["revenue"] = [line] * (TWO_MB // len(json.dumps(line)) + 1)
    return json.dumps(body).encode()


def huge_json_string() -> bytes:
    return json.dumps({"store_id": "S1", "api_key": "x" * TWO_MB}).encode()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked), so only the bytes read can be counted."""
    for start in range(0, len(data), 64 * 1024):
        yield data[start:start + 64 * 1024]


def _json_error(answer: httpx.Response, *statuses: int) -> Any:
    assert answer.status_code in statuses, (answer.status_code, answer.text[:500])
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    detail = answer.json()["detail"]
    assert detail, answer.text
    return detail


def _locs(detail: Any) -> list[tuple[Any, ...]]:
    return [tuple(err["loc"]) for err in detail]


async def _snapshot(shared: Shared) -> dict[str, Any]:
    totals = await shared.db("totals")
    auth = await shared.db("auth")
    try:
        return {
            "totals": await table_counts(totals, TOTALS_TABLES),
            "setup": await totals.fetchval("SELECT setup::text FROM setups WHERE store_id = $1",
                                           STORE),
            "auth": await table_counts(auth, AUTH_TABLES),
        }
    finally:
        await totals.close()
        await auth.close()


async def test_malformed_requests_to_totals_are_422_naming_where(
    shared: Shared, store_key: str, client: httpx.AsyncClient
) -> None:
    store = f"{shared.system.totals_url}/v1/stores/{STORE}"
    key = {"X-Api-Key": store_key}
    json_headers = key | {"Content-Type": "application/json"}
    before = await _snapshot(shared)
    wrong_types = examples.example_day_totals()
    wrong_types["tenders"][0]["received"] = {"amount": 12}
    wrong_types["deposits"] = "lots"
    cases: list[tuple[str, str, dict[str, Any], tuple[Any, ...]]] = [
        ("POST", f"{store}/days/{DAY}/close", {"content": b'{"currency": "USD", '}, ("body",)),
        ("POST", f"{store}/days/{DAY}/close", {"content": b"\xff\xfe\x00garbage"}, ("body",)),
        ("POST", f"{store}/days/{DAY}/close", {"content": b"[]"}, ("body",)),
        ("POST", f"{store}/days/{DAY}/close", {"content": b"null"}, ("body",)),
        ("POST", f"{store}/days/{DAY}/close", {"content": b""}, ("body",)),
        ("POST", f"{store}/days/{DAY}/close", {"content": json.dumps(wrong_types).encode()},
         ("body", "tenders", 0, "received")),
        ("POST", f"{store}/days/2026-13-45/close",
         {"content": json.dumps(examples.example_day_totals()).encode()},
         ("path", "business_date")),
        ("POST", f"{store}/days/yesterday/close",
         {"content": json.dumps(examples.example_day_totals()).encode()},
         ("path", "business_date")),
        ("GET", f"{store}/days/2026-02-30", {}, ("path", "business_date")),
        ("GET", f"{store}/days/{DAY}?wait=-1", {}, ("query", "wait")),
        ("GET", f"{store}/days/{DAY}?wait=soon", {}, ("query", "wait")),
        ("POST", f"{store}/days/{DAY}/reprint", {"content": b'{"post_to_xero": "perhaps"}'},
         ("body", "post_to_xero")),
        ("POST", f"{store}/days/{DAY}/reprint", {"content": b"{not json"}, ("body",)),
        ("PUT", f"{store}/setup", {"content": b"{oops"}, ("body",)),
        ("PUT", f"{store}/setup",
         {"content": json.dumps(examples.example_setup() | {"auto_post": "maybe"}).encode()},
         ("body", "auto_post")),
        ("PUT", f"{store}/setup",
         {"content": json.dumps(examples.example_setup() | {"accounts": ["4000"]}).encode()},
         ("body", "accounts")),
    ]
    for method, url, kwargs, where in cases:
        answer = await client.request(method, url, headers=json_headers, **kwargs)
        detail = _json_error(answer, 422)
        assert any(loc[:len(where)] == where for loc in _locs(detail)), (url, where, detail)
    assert await _snapshot(shared) == before


async def test_oversized_requests_to_totals_are_refused(
    shared: Shared, store_key: str, client: httpx.AsyncClient
) -> None:
    store = f"{shared.system.totals_url}/v1/stores/{STORE}"
    headers = {"X-Api-Key": store_key, "Content-Type": "application/json"}
    before = await _snapshot(shared)
    close = await client.post(f"{store}/days/{DAY}/close", content=huge_totals(), headers=headers)
    _json_error(close, 413, 422)
    setup = examples.example_setup()
    setup["tracking"] = [{"name": "x" * TWO_MB}]
    put = await client.put(f"{store}/setup", content=json.dumps(setup).encode(), headers=headers)
    _json_error(put, 413, 422)
    assert await _snapshot(shared) == before


async def test_totals_refuses_oversized_bodies_unread(
    shared: Shared, store_key: str, client: httpx.AsyncClient
) -> None:
    store = f"{shared.system.totals_url}/v1/stores/{STORE}"
    headers = {"X-Api-Key": store_key, "Content-Type": "application/json"}
    close = await client.post(f"{store}/days/{DAY}/close", content=huge_totals(), headers=headers)
    assert "bytes" in _json_error(close, 413)


async def test_malformed_requests_to_auth_are_422_naming_where(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    auth = shared.system.auth_url
    internal = shared.internal_headers("totals") | {"Content-Type": "application/json"}
    public = {"Content-Type": "application/json"}
    posting = shared.internal_headers("posting") | {"Content-Type": "application/json"}
    before = await _snapshot(shared)
    cases: list[tuple[str, dict[str, str], bytes, tuple[Any, ...]]] = [
        ("/v1/setup", public, b'{"store_id": ', ("body",)),
        ("/v1/setup", public, b"\xff\xfe\x00garbage", ("body",)),
        ("/v1/setup", public, b'{"store_id": 12, "api_key": ""}', ("body", "store_id")),
        ("/v1/setup", public, b'{"store_id": "S1", "api_key": ["2RF:x"]}', ("body", "api_key")),
        ("/v1/setup", public, b'"S1"', ("body",)),
        ("/internal/v1/keys/verify", internal, b'{"api_key": ', ("body",)),
        ("/internal/v1/keys/verify", internal, b'{"api_key": {"nested": 1}}', ("body", "api_key")),
        ("/internal/v1/keys/verify", internal, b"{}", ("body", "api_key")),
        ("/internal/v1/connections/not-a-uuid/access-token", posting, b"",
         ("path", "connection_id")),
        ("/internal/v1/connections/00000000-0000-0000-0000-000000000000/access-token", posting,
         b'{"rejected_token": 42}', ("body", "rejected_token")),
        ("/internal/v1/connections/00000000-0000-0000-0000-000000000000/access-token", posting,
         b'{"rejected_token": ', ("body",)),
    ]
    for path, headers, body, where in cases:
        answer = await client.post(auth + path, headers=headers, content=body)
        detail = _json_error(answer, 422)
        assert any(loc[:len(where)] == where for loc in _locs(detail)), (path, body, detail)
    assert await _snapshot(shared) == before


async def test_oversized_requests_to_auth_are_413(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    auth = shared.system.auth_url
    headers = {"Content-Type": "application/json"}
    internal = shared.internal_headers("totals") | headers
    before = await _snapshot(shared)
    for path, sent_headers in (("/v1/setup", headers), ("/internal/v1/keys/verify", internal)):
        declared = await client.post(auth + path, content=huge_json_string(), headers=sent_headers)
        assert "bytes this service accepts" in _json_error(declared, 413)
        chunked = await client.post(auth + path, content=_chunks(huge_json_string()),
                                    headers=sent_headers)
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert "bytes this service accepts" in _json_error(chunked, 413)
    # A body just under the limit is read and judged as usual.
    fits = await client.post(f"{auth}/v1/setup", headers=headers,
                             json={"store_id": "S1", "api_key": "x" * 500_000})
    assert _json_error(fits, 422)[0]["loc"] == ["body", "api_key"]
    assert (await client.get(f"{auth}/readyz")).status_code == 200
    assert await _snapshot(shared) == before


async def test_nul_characters_in_the_connect_flow_are_an_invalid_link(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    """PostgreSQL text cannot hold NUL: such ids are refused before any look-up."""
    auth = shared.system.auth_url
    before = await _snapshot(shared)
    for answer in (
        await client.get(f"{auth}/v1/connect/start/a%00b"),
        await client.get(f"{auth}/v1/connect/callback?state=a%00b&code=x"),
        await client.post(f"{auth}/v1/connect/pick", data={"pick": "a\x00b", "tenant_id": "x"}),
    ):
        assert answer.status_code == 400, (answer.request.url, answer.text[:300])
        assert "<title>" in answer.text
    assert await _snapshot(shared) == before


def _with_nul(body: dict[str, Any]) -> dict[str, Any]:
    body["taxes"][0]["authority"] = "Coun\x00ty"
    return body


async def test_nul_characters_in_totals_bodies_are_422(
    shared: Shared, store_key: str, client: httpx.AsyncClient
) -> None:
    store = f"{shared.system.totals_url}/v1/stores/{STORE}"
    headers = {"X-Api-Key": store_key}
    before = await _snapshot(shared)
    close = await client.post(f"{store}/days/2026-11-25/close", headers=headers,
                              json=_with_nul(examples.example_day_totals()))
    setup = examples.example_setup()
    setup["tracking"] = [{"name": "Re\x00gion", "option": "North"}]
    put = await client.put(f"{store}/setup", headers=headers, json=setup)
    assert await _snapshot(shared) == before
    _json_error(close, 422)
    _json_error(put, 422)


async def test_nul_characters_in_postings_status_path_are_4xx(
    shared: Shared, client: httpx.AsyncClient
) -> None:
    answer = await client.get(
        f"{shared.system.posting_url}/internal/v1/postings/a%00b/2026-11-25",
        headers=shared.internal_headers("ops"),
    )
    assert 400 <= answer.status_code < 500, answer.text
