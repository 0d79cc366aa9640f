"""Xero's token endpoint in trouble, seen through auth's doors: the connect page a person
sees, and the access tokens posting asks for. An outage (5xx) is worth waiting out; a
refused client (`invalid_client`) is the operator's to fix and never costs a store its
connection; a refused refresh token is tried once more with the previous one while
Xero's grace period may still hold it."""

import base64

import httpx

from glbridge.headless import HeadlessBrowser
from tests.auth.conftest import CLIENT_ID, CLIENT_SECRET, AuthCluster, connect
from tests.support.connect import connect_store, read_page
from tests.support.sandbox import RunningSandbox


async def _allow_access(browser_client: httpx.AsyncClient, auth: AuthCluster, store_id: str):
    """The connect flow up to Xero sending the person back (the callback's page)."""
    browser = HeadlessBrowser(browser_client)
    setup = await browser_client.post(f"{auth.url}/v1/setup",
                                      json={"store_id": store_id, "api_key": ""})
    setup.raise_for_status()
    page = await browser.open(setup.json()["connect_url"])
    page = await browser.submit(page, "Log in", username="demo@example.com",
                                password="demo-password")
    return await browser.submit(page, "Allow access")


async def _client_secret(sandbox: RunningSandbox, auth: AuthCluster, secret: str) -> None:
    """The app's client secret at Xero: regenerated in Xero's developer portal, the
    secret auth holds is no longer the app's."""
    response = await sandbox.client.put(
        f"/_control/clients/{CLIENT_ID}",
        json={"client_secret": secret, "redirect_uris": [f"{auth.url}/v1/connect/callback"]},
    )
    response.raise_for_status()


async def _token_requests(sandbox: RunningSandbox) -> int:
    return int((await sandbox.client.get("/_control/stats")).json()["token_requests"])


async def test_a_token_endpoint_outage_during_connect_says_wait_and_start_again(
    auth: AuthCluster, sandbox, browser_client, db
):
    auth.start()
    # Xero answers 500/503 to the code exchange (an outage, xero_accounting.yaml and
    # developer.xero.com api/http-response-codes: 503 "organisation offline / outage").
    (await sandbox.client.put("/_control/faults", json={"error_rate": 1.0})).raise_for_status()
    page = await _allow_access(browser_client, auth, "S301")
    assert page.status == 503, page.html[:500]
    assert "cannot be reached right now" in page.html and "Wait a few minutes" in page.html
    assert read_page(page).key is None
    assert await db.fetchval("SELECT count(*) FROM connections") == 0
    # Once Xero is back, starting again connects the store.
    (await sandbox.client.delete("/_control/faults")).raise_for_status()
    key = await connect_store(browser_client, auth.url, "S301")
    assert key.startswith("2RF:")


async def test_invalid_client_during_connect_shows_xeros_error_not_an_outage(
    auth: AuthCluster, sandbox, browser_client, db
):
    auth.start()
    await _client_secret(sandbox, auth, "regenerated-in-the-portal")
    # Xero answers a wrong client secret with 400 {"error": "invalid_client"} (RFC 6749
    # 5.2; Xero's facts: "wrong client: invalid_client").
    page = await _allow_access(browser_client, auth, "S302")
    assert page.status == 502, page.html[:500]
    assert "did not complete the connection" in page.html
    assert "invalid_client" in page.html  # what Xero said, for the administrator
    assert "Wait a few minutes" not in page.html
    assert read_page(page).key is None
    assert await db.fetchval("SELECT count(*) FROM connections") == 0


async def test_invalid_client_on_refresh_keeps_the_connection_until_the_secret_is_fixed(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    auth.start()
    conn = await connect(auth, browser_client, internal, "S303")
    await _client_secret(sandbox, auth, "regenerated-in-the-portal")
    refused = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token},
    )
    # Not the store's fault: no new key is asked of it (that would be a 409).
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "xero-unavailable"
    assert "invalid_client" in refused.json()["detail"]
    row = await db.fetchrow("SELECT status, last_refresh_error FROM connections")
    assert row["status"] == "active"
    assert "invalid_client" in row["last_refresh_error"]
    verified = await internal.post("/internal/v1/keys/verify", json={"api_key": conn.key})
    assert verified.json()["status"] == "active"

    # The operator gives the app its secret back: the same refresh token still works.
    await _client_secret(sandbox, auth, CLIENT_SECRET)
    answer = await _until_refreshed(internal, conn.connection_id, conn.access_token)
    assert answer.json()["access_token"] != conn.access_token


async def _until_refreshed(internal: httpx.AsyncClient, connection_id: str,
                           rejected: str) -> httpx.Response:
    """Asks until auth's cool-down after the failure (0.2 s in these tests) has passed:
    each answer before then is a 503 naming the pause."""
    for _ in range(100):
        answer = await internal.post(
            f"/internal/v1/connections/{connection_id}/access-token",
            json={"rejected_token": rejected})
        if answer.status_code != 503:
            break
        assert "paused" in answer.json()["detail"], answer.text
    assert answer.status_code == 200, answer.text
    return answer


async def test_a_refused_refresh_token_is_retried_with_the_previous_one_inside_the_grace(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    """Two holders of one token set (Xero staff: the usual cause of invalid_grant,
    Xero-NetStandard #257): another copy spent auth's current refresh token long ago.
    Auth then tries the token it rotated away from, which it still believes inside
    Xero's 30-minute grace; Xero refuses that too, so the store needs a new key."""
    auth.start()
    conn = await connect(auth, browser_client, internal, "S304")
    rotated = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": conn.access_token})
    assert rotated.status_code == 200, rotated.text
    row = await db.fetchrow("SELECT id, refresh_token_sealed FROM connections")
    current = auth.cipher.open(row["refresh_token_sealed"],
                               f"connections:{row['id']}:refresh_token")
    spent = await sandbox.client.post("/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": current},
        headers={"Authorization": "Basic " + base64.b64encode(
            f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()})
    assert spent.status_code == 200, spent.text
    # Xero's clock passes both tokens' grace; auth's own clock has not moved.
    (await sandbox.client.post("/_control/clock/advance", json={"seconds": 31 * 60})
     ).raise_for_status()

    before = await _token_requests(sandbox)
    answer = await internal.post(
        f"/internal/v1/connections/{conn.connection_id}/access-token",
        json={"rejected_token": rotated.json()["access_token"]})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "reauth-needed"
    # The current token, then the previous one: both sent, both refused.
    assert await _token_requests(sandbox) - before == 2
    assert await db.fetchval("SELECT status FROM connections") == "needs-reauth"
