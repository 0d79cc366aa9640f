"""A full run (connect two stores, set up, close days over HTTP and over AMQP, wait for the
outcomes, reprint to Xero, force a token refresh) with every process logging at DEBUG;
then every token, key, code and verifier issued is searched for in every log line and
every raw database row: none may appear."""

import asyncio
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aio_pika
import httpx
from aio_pika.abc import DeliveryMode

from services.auth.adapters.cipher import Cipher
from shared.contracts import examples
from shared.contracts.pos import PosDayClosed
from shared.messaging import topology as topo
from tests.support.shared_system import CREDENTIALS, Shared, connected_store

CLIENT_SECRET = "glbridge-dev-secret"  # the sandbox's seeded app (glbridge.system's default)
SCHEMAS = ("auth", "totals", "posting")


class UrlRecorder:
    """Every URL the browser visits, redirects included (codes and states travel there)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.urls.append(str(request.url))

    def query_values(self, name: str) -> set[str]:
        return {v for url in self.urls for v in parse_qs(urlsplit(url).query).get(name, [])}


async def _settled(client: httpx.AsyncClient, url: str, key: str, revision: int = 1) -> Any:
    for _ in range(60):
        answer = await client.get(url, params={"wait": 30}, headers={"X-Api-Key": key})
        if answer.status_code == 200:
            day = answer.json()
            if day["status"] not in ("pending", "not-posted") and day["revision"] >= revision:
                return day
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never settled")


async def _send_pos_close(shared: Shared, store: str, key: str, day: date) -> None:
    event = PosDayClosed.signed(key, store_id=store, business_date=day,
                                totals=examples.example_day_totals(2))
    connection = await aio_pika.connect(shared.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topo.topology(shared.namespace).events_exchange)
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), content_type="application/json",
                             message_id=str(event.event_id), type=event.event_type,
                             delivery_mode=DeliveryMode.PERSISTENT),
            routing_key=event.event_type,
        )


async def _full_run(shared: Shared, recorder: UrlRecorder) -> dict[str, str]:
    """Drives the run; returns the keys and access tokens handed out, by name."""
    issued: dict[str, str] = {}
    totals = shared.system.totals_url
    async with httpx.AsyncClient(timeout=60, event_hooks={"request": [recorder]}) as client:
        key_a = await connected_store(client, shared, "501")
        key_b = await connected_store(client, shared, "502")
        issued |= {"key A": key_a, "key B": key_b}
        first = f"{totals}/v1/stores/501/days/2026-11-23"
        closed = await client.post(f"{first}/close", json=examples.example_day_totals(),
                                   headers={"X-Api-Key": key_a})
        assert closed.status_code == 200, closed.text
        assert (await _settled(client, first, key_a))["status"] == "posted"
        await _send_pos_close(shared, "502", key_b, date(2026, 11, 23))
        second = f"{totals}/v1/stores/502/days/2026-11-23"
        assert (await _settled(client, second, key_b))["status"] == "posted"
        reprint = await client.post(f"{first}/reprint", json={"post_to_xero": True},
                                    headers={"X-Api-Key": key_a})
        assert reprint.status_code == 200, reprint.text
        await _settled(client, first, key_a)

        internal = shared.internal_headers("posting")
        auth = shared.system.auth_url
        for name, key in (("A", key_a), ("B", key_b)):
            verified = await client.post(f"{auth}/internal/v1/keys/verify",
                                         headers=shared.internal_headers("totals"),
                                         json={"api_key": key})
            token_url = f"{auth}/internal/v1/connections/{verified.json()['connection_id']}"
            token_url += "/access-token"
            token = await client.post(token_url, headers=internal)
            issued[f"access token {name}"] = token.json()["access_token"]
            # A refresh (as after Xero's 401): new access and refresh tokens, logged about.
            refreshed = await client.post(token_url, headers=internal,
                                          json={"rejected_token": token.json()["access_token"]})
            assert refreshed.status_code == 200, refreshed.text
            issued[f"refreshed access token {name}"] = refreshed.json()["access_token"]
    return issued


async def _sealed_secrets(shared: Shared) -> dict[str, str]:
    """The refresh tokens and PKCE verifiers auth keeps, opened with its key."""
    cipher = Cipher.from_spec(shared.encryption_keys)
    found: dict[str, str] = {}
    conn = await shared.db("auth")
    try:
        for row in await conn.fetch("SELECT * FROM connections"):
            for column in ("access_token", "refresh_token", "previous_refresh_token"):
                sealed = row[f"{column}_sealed"]
                if sealed:
                    found[f"{column} {row['store_id']}"] = cipher.open(
                        sealed, f"connections:{row['id']}:{column}")
        for row in await conn.fetch("SELECT id, code_verifier_sealed FROM connect_attempts"):
            found[f"verifier {row['id']}"] = cipher.open(row["code_verifier_sealed"],
                                                         f"attempt:{row['id']}")
    finally:
        await conn.close()
    return found


async def _raw_rows(shared: Shared) -> str:
    """Every row of every table of the three schemas, as text."""
    dump: list[str] = []
    conn = await shared.db("public")
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(SCHEMAS))
        assert {t["table_schema"] for t in tables} == set(SCHEMAS)
        for table in tables:
            rows = await conn.fetch(
                f'SELECT * FROM "{table["table_schema"]}"."{table["table_name"]}"')
            dump += [repr(dict(row)) for row in rows]
    finally:
        await conn.close()
    return "\n".join(dump)


def _leaks(secrets_: dict[str, str], text: str) -> list[str]:
    leaks = []
    for name, secret in secrets_.items():
        assert len(secret) >= 16, name
        # The whole secret, or a long piece of it (a truncated or wrapped copy).
        pieces = {secret, secret[:20], secret[-20:], secret[len(secret) // 2:][:20]}
        leaks += [name for piece in pieces if piece in text][:1]
    return leaks


async def test_no_secret_issued_in_a_full_run_reaches_a_log_or_a_row(shared: Shared) -> None:
    recorder = UrlRecorder()
    issued = await _full_run(shared, recorder)
    secrets_ = issued | await _sealed_secrets(shared)
    for name in ("key A", "key B"):
        secrets_[f"{name} secret"] = issued[name].rsplit(".", 1)[1]
    codes = recorder.query_values("code")
    assert len(codes) >= 2
    secrets_ |= {f"authorization code {i}": code for i, code in enumerate(sorted(codes))}
    secrets_ |= {"totals' credential": CREDENTIALS.totals,
                 "posting's credential": CREDENTIALS.posting, "ops credential": CREDENTIALS.ops,
                 "client secret": CLIENT_SECRET,
                 "encryption key": shared.encryption_keys.split(":", 1)[1]}
    assert sum(name.startswith("refresh_token") for name in secrets_) == 2
    assert sum(name.startswith("previous_refresh_token") for name in secrets_) == 2

    await asyncio.sleep(1)  # the last lines reach the files
    logs = shared.logs()
    assert set(logs) >= {f"{m}-{p}.log" for m, p in (
        ("xero_sandbox", shared.system.ports.sandbox), ("auth", shared.system.ports.auth),
        ("totals", shared.system.ports.totals), ("posting", shared.system.ports.posting))}
    assert all(logs.values()), [name for name, text in logs.items() if not text]
    auth_log = logs[f"auth-{shared.system.ports.auth}.log"]
    assert "refreshed Xero tokens" in auth_log and '"DEBUG"' in auth_log  # what was searched
    problems = {name: _leaks(secrets_, text) for name, text in logs.items()}
    assert problems == {name: [] for name in logs}, problems
    for name, text in logs.items():
        assert not re.search(r"eyJ[A-Za-z0-9_-]{20,}\.eyJ", text), name  # no JWT at all
        assert "2RF:" not in text.replace("2RF:...", ""), name

    rows = await _raw_rows(shared)
    assert "store_id" in rows
    row_secrets = {k: v for k, v in secrets_.items() if k != "encryption key"}
    assert _leaks(row_secrets, rows) == []
    assert not re.search(r"eyJ[A-Za-z0-9_-]{20,}\.eyJ", rows)
