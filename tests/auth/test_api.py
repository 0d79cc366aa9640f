"""The HTTP edges: the three scenarios, credentials, and what is stored and logged."""

import re
import uuid

from services.auth.domain.keys import new_key
from tests.auth.conftest import CREDENTIALS, AuthCluster, connect

SCENARIOS = [
    ("", "new", "not connected to Xero yet"),
    (
        "oauth_token=RZ1P0ZXAJ4QPGZJ3BO9VNQJZQDK3FF&oauth_token_secret=X1Y2Z3W4V5U6T7S8R9Q0",
        "oauth1",
        "31 March 2021",
    ),
    ("RZ1P0ZXAJ4QPGZJ3BO9VNQJZQDK3FF", "oauth1", "OAuth 1.0a"),
    (str(new_key(uuid.uuid4())), "oauth2-renew", "replaces"),
]

BAD_SETUPS = [
    ({"store_id": "S1", "api_key": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}, "api_key"),
    ({"store_id": "S1", "api_key": "not a key"}, "api_key"),
    ({"store_id": "", "api_key": ""}, "store_id"),
    ({"store_id": "bad store/id", "api_key": ""}, "store_id"),
    # The one store-id rule (shared/contracts/stores.py), as totals applies it.
    ({"store_id": "999.0", "api_key": ""}, "store_id"),
    ({"store_id": "7" * 21, "api_key": ""}, "store_id"),
    ({"api_key": ""}, "store_id"),
]


async def test_the_three_scenarios_and_bad_setups(auth: AuthCluster, browser_client):
    auth.start()
    for box, scenario, words in SCENARIOS:
        answer = await browser_client.post(
            f"{auth.url}/v1/setup", json={"store_id": "S200", "api_key": box}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["scenario"] == scenario
        assert words in body["message"]
        assert body["connect_url"].startswith(f"{auth.url}/v1/connect/start/")
        start = await browser_client.get(body["connect_url"])
        assert start.status_code == 302
        location = start.headers["location"]
        assert location.startswith(f"{auth.sandbox.url}/identity/connect/authorize?")
        for part in (
            "code_challenge_method=S256",
            "code_challenge=",
            "state=",
            "response_type=code",
            "offline_access",
            "accounting.manualjournals",
            "accounting.settings.read",
        ):
            assert part in location
    for bad, where in BAD_SETUPS:
        answer = await browser_client.post(f"{auth.url}/v1/setup", json=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["detail"][0]["loc"][-1] == where


async def test_internal_endpoints_refuse_missing_or_wrong_credentials(
    auth: AuthCluster, browser_client
):
    auth.start()
    # Each endpoint admits only the service that calls it: totals verifies keys and asks
    # for reconnect tokens, posting fetches access tokens; the ops credential opens none.
    paths = [
        ("post", "/internal/v1/keys/verify", {"api_key": "2RF:x"}, "totals"),
        ("post", "/internal/v1/connections/00000000-0000-0000-0000-000000000000/access-token",
         {}, "posting"),
        ("post", "/internal/v1/stores/S1/reconnect-tokens", None, "totals"),
        ("get", "/internal/v1/store-moves", None, "totals"),
    ]
    for method, path, body, caller in paths:
        others = [CREDENTIALS.bearer(who) for who in ("totals", "posting", "ops") if who != caller]
        token = getattr(CREDENTIALS, caller)
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": token},
            {"Authorization": f"Basic {token}"},
            *others,
        ):
            kwargs = {"headers": headers} | ({"json": body} if body is not None else {})
            answer = await browser_client.request(method, auth.url + path, **kwargs)
            assert answer.status_code == 401, (method, path, headers)
    delete = "/internal/v1/connections/00000000-0000-0000-0000-000000000000"
    refused = await browser_client.delete(auth.url + delete, headers=CREDENTIALS.bearer("ops"))
    assert refused.status_code == 401
    unknown = await browser_client.post(auth.url + paths[1][1],
                                        headers=CREDENTIALS.bearer("posting"))
    assert unknown.status_code == 404 and unknown.json() == {"error": "unknown-connection"}
    for key in ("2RF:x", str(new_key(uuid.uuid4())), ""):
        answer = await browser_client.post(
            auth.url + paths[0][1], headers=CREDENTIALS.bearer("totals"), json={"api_key": key}
        )
        assert answer.status_code == 404


async def test_no_token_in_database_rows_or_logs(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S201")
    refreshed = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token},
    )
    access = refreshed.json()["access_token"]
    row = await db.fetchrow("SELECT * FROM connections")
    cipher = auth.cipher
    refresh = cipher.open(row["refresh_token_sealed"], f"connections:{row['id']}:refresh_token")
    previous = cipher.open(
        row["previous_refresh_token_sealed"], f"connections:{row['id']}:previous_refresh_token"
    )
    secrets_ = [conn.access_token, access, refresh, previous, conn.key.split(".", 1)[1]]
    dump = ""
    for table in ("connections", "connect_attempts", "outbox"):
        for record in await db.fetch(f"SELECT * FROM {table}"):
            dump += repr(dict(record))
    assert dump
    logs = auth.logs()
    assert "refreshed Xero tokens" in logs
    for secret in secrets_:
        assert len(secret) > 20
        assert secret not in dump
        assert secret not in logs
        # nor any long piece of it
        assert secret[5:25] not in dump
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", dump + logs)
    assert "2RF:" not in logs


async def test_disconnect_deletes_tokens_and_revokes_at_xero_when_no_other_store_shares_it(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start()
    first = await connect(auth, browser_client, internal, "S202")
    second = await connect(auth, browser_client, internal, "S203")  # the same Xero user

    answer = await internal.delete(f"/internal/v1/connections/{first.connection_id}")
    assert answer.status_code == 200, answer.text
    # S203 is on the very same Xero connection (same user, same organisation).
    assert answer.json()["removed_at_xero"] is False
    assert answer.json()["revoked_at_xero"] is False
    assert "S203" in answer.json()["detail"]
    row = await db.fetchrow("SELECT * FROM connections WHERE store_id = 'S202'")
    assert row["status"] == "disconnected"
    assert row["refresh_token_sealed"] is None and row["access_token_sealed"] is None
    verify = await internal.post("/internal/v1/keys/verify", json={"api_key": first.key})
    assert verify.status_code == 404
    token = await internal.post(f"/internal/v1/connections/{first.connection_id}/access-token")
    assert token.status_code == 409
    still = await internal.post(
        f"/internal/v1/connections/{second.connection_id}/access-token",
        json={"rejected_token": second.access_token},
    )
    assert still.status_code == 200, still.text

    answer = await internal.delete(f"/internal/v1/connections/{second.connection_id}")
    assert answer.json()["removed_at_xero"] is True
    assert answer.json()["revoked_at_xero"] is True
    headers = {"Authorization": f"Bearer {still.json()['access_token']}"}
    assert (await sandbox.client.get("/connections", headers=headers)).status_code in (401, 403)
    unknown = await internal.delete("/internal/v1/connections/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
