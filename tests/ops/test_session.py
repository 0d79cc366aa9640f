"""The ops page's session: a random cookie kept server-side, ended by sign-out (which
needs the page's form token), expiring, and `Secure` when the setting says so."""

from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.ops.conftest import CREDENTIALS, TOKEN
from tests.support.shared_system import Shared, shared_system

FORM_TOKEN = 'name="csrf" value="'


@pytest.fixture(scope="module")
def secure_cookie(postgres_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Shared]:
    """One system for the module's tests, each signing in with sessions of its own."""
    with shared_system(
        postgres_url, amqp_url, tmp_path_factory.mktemp("logs"),
        extra_env={**CREDENTIALS.env(), "OPS_COOKIE_SECURE": "true",
                   "OPS_SESSION_TTL_S": "600"},
    ) as running:
        yield running


async def _sign_in(client: httpx.AsyncClient) -> tuple[str, str]:
    """Signs in; the session cookie and the page's form token."""
    answer = await client.post("/ops/login", data={"token": TOKEN})
    assert answer.status_code == 303, answer.text
    cookie = answer.cookies["glbridge_ops"]
    page = await client.get("/ops", headers=_cookie(cookie))
    assert page.status_code == 200
    start = page.text.index(FORM_TOKEN) + len(FORM_TOKEN)
    return cookie, page.text[start:page.text.index('"', start)]


async def test_sign_out_ends_the_session_on_the_server(secure_cookie: Shared) -> None:
    async with httpx.AsyncClient(base_url=secure_cookie.system.totals_url,
                                 timeout=60) as client:
        answer = await client.post("/ops/login", data={"token": TOKEN})
        header = answer.headers["set-cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Max-Age=600"):
            assert attribute.lower() in header.lower(), header
        first, form = await _sign_in(client)
        second, other_form = await _sign_in(client)
        assert len({first, second, TOKEN}) == 3 and form != other_form
        stored = await _stored_hashes(secure_cookie.database_url)
        assert first.encode() not in stored and len(stored) >= 2

        # Sign-out needs the page's form token (no other site can sign a browser out).
        for csrf in ("", other_form):
            refused = await client.post("/ops/logout", data={"csrf": csrf},
                                        headers=_cookie(first))
            assert refused.status_code == 403
        out = await client.post("/ops/logout", data={"csrf": form},
                                headers=_cookie(first))
        assert out.status_code == 303
        # The old cookie, kept by whoever copied it, opens nothing any more.
        after = await client.get("/ops/data", headers=_cookie(first))
        assert after.status_code == 401
        still = await client.get("/ops/data", headers=_cookie(second))
        assert still.status_code == 200


async def test_an_expired_session_opens_nothing(secure_cookie: Shared) -> None:
    async with httpx.AsyncClient(base_url=secure_cookie.system.totals_url,
                                 timeout=60) as client:
        cookie, _ = await _sign_in(client)
        conn = await secure_cookie.db("totals")
        try:
            # Every session of the module's system: its tests run one after another.
            await conn.execute("UPDATE ops_sessions SET expires_at = now()")
        finally:
            await conn.close()
        assert (await client.get("/ops/data", headers=_cookie(cookie))
                ).status_code == 401


async def _stored_hashes(database_url: str) -> list[bytes]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "totals"})
    try:
        return [bytes(r["id_hash"]) for r in await conn.fetch("SELECT id_hash FROM ops_sessions")]
    finally:
        await conn.close()


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"glbridge_ops={value}"}


async def test_the_page_shows_what_an_action_said_never_words_from_the_url(
    secure_cookie: Shared,
) -> None:
    async with httpx.AsyncClient(base_url=secure_cookie.system.totals_url,
                                 timeout=60) as client:
        cookie, form = await _sign_in(client)
        crafted = await client.get("/ops", params={
            "notice": "Your session expired: call 555-0100", "error": "Send the ops token"},
            headers=_cookie(cookie))
        assert crafted.status_code == 200
        assert "555-0100" not in crafted.text and "Send the ops token" not in crafted.text
        acted = await client.post("/ops/actions/replay", data={"queue": "nope", "csrf": form},
                                  headers=_cookie(cookie))
        assert acted.status_code == 303 and acted.headers["location"] == "/ops"
        shown = await client.get("/ops", headers=_cookie(cookie))
        assert 'id="error"' in shown.text and "no consumer queue named" in shown.text
        once = await client.get("/ops", headers=_cookie(cookie))
        assert 'id="error"' not in once.text
        login = await client.get("/ops/login", params={"error": "Send the ops token"})
        assert "Send the ops token" not in login.text
