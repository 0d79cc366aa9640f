"""The connect flow walked without a browser, against the sandbox and real processes."""

import re

import httpx

from glbridge.headless import HeadlessBrowser
from tests.auth.conftest import AuthCluster
from tests.support.connect import connect_store, read_page


async def test_connect_store_returns_a_key_that_verifies(
    auth: AuthCluster, browser_client, internal
):
    auth.start()
    key = await connect_store(browser_client, auth.url, "S001")
    assert re.fullmatch(r"2RF:[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}", key)
    verified = await internal.post("/internal/v1/keys/verify", json={"api_key": key})
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["store_id"] == "S001"
    assert body["tenant_name"] == "Demo Rentals (US)"
    assert body["status"] == "active"
    token = await internal.post(f"/internal/v1/connections/{body['connection_id']}/access-token")
    assert token.status_code == 200, token.text
    assert token.json()["tenant_id"] == body["tenant_id"]


async def test_multi_org_user_picks_an_organisation(auth: AuthCluster, browser_client, internal):
    auth.start()
    key = await connect_store(
        browser_client, auth.url, "S002", "multi@example.com", "multi-password", "Kiwi Hire (NZ)"
    )
    verified = (await internal.post("/internal/v1/keys/verify", json={"api_key": key})).json()
    assert verified["tenant_name"] == "Kiwi Hire (NZ)"


async def _to_consent(browser: HeadlessBrowser, client: httpx.AsyncClient, auth: AuthCluster):
    setup = await client.post(f"{auth.url}/v1/setup", json={"store_id": "S003", "api_key": ""})
    page = await browser.open(setup.json()["connect_url"])
    return await browser.submit(
        page, "Log in", username="demo@example.com", password="demo-password"
    )


async def test_denied_consent_shows_what_happened(auth: AuthCluster, browser_client):
    auth.start()
    browser = HeadlessBrowser(browser_client)
    page = await browser.submit(await _to_consent(browser, browser_client, auth), "Cancel")
    assert page.status == 400
    assert "not allowed" in page.html and "Allow access" in page.html
    assert read_page(page).key is None


async def test_replayed_state_is_refused(auth: AuthCluster, browser_client):
    auth.start()
    browser = HeadlessBrowser(browser_client)
    page = await browser.submit(await _to_consent(browser, browser_client, auth), "Allow access")
    assert read_page(page).key is not None
    replay = await browser.open(page.url)  # the callback URL again, code and state included
    assert replay.status == 400
    assert "already used" in replay.html
    assert read_page(replay).key is None


async def test_callback_from_another_browser_is_refused(auth: AuthCluster, browser_client):
    auth.start()
    browser = HeadlessBrowser(browser_client)
    consent = await _to_consent(browser, browser_client, auth)
    allowed = await browser_client.post(
        urljoin_form(consent), data=form_fields(consent, "allow"), follow_redirects=False
    )
    callback = allowed.headers["location"]
    async with httpx.AsyncClient() as other:
        page = await other.get(callback)
    assert page.status_code == 400 and "another browser" in page.text


async def test_unknown_and_expired_links(auth: AuthCluster, browser_client, db):
    auth.start()
    unknown = await browser_client.get(f"{auth.url}/v1/connect/callback?state=nope&code=x")
    assert unknown.status_code == 400 and "not valid" in unknown.text
    setup = await browser_client.post(
        f"{auth.url}/v1/setup", json={"store_id": "S4", "api_key": ""}
    )
    await db.execute("UPDATE connect_attempts SET expires_at = now() - interval '1 second'")
    expired = await browser_client.get(setup.json()["connect_url"])
    assert expired.status_code == 400 and "expired" in expired.text


def urljoin_form(page) -> str:
    from urllib.parse import urljoin

    form = page.forms()[0]
    return urljoin(page.url, form.action)


def form_fields(page, decision: str) -> dict[str, str]:
    return page.forms()[0].fields | {"decision": decision}


async def test_our_organisation_picker_when_one_authorisation_covers_several(
    auth: AuthCluster, sandbox, browser_client, internal, db
):
    """Real Xero lets a user tick several organisations in one authorisation; the sandbox's
    own picker takes one, so a code covering two comes from its control API, and the
    attempt is given that code's PKCE verifier (the only step not done by a browser)."""
    auth.start()
    setup = await browser_client.post(
        f"{auth.url}/v1/setup", json={"store_id": "S005", "api_key": ""}
    )
    attempt_id = setup.json()["connect_url"].rsplit("/", 1)[1]
    callback = f"{auth.url}/v1/connect/callback"
    grant = await sandbox.client.post(
        "/_control/grants", json={"email": "multi@example.com", "redirect_uri": callback}
    )
    grant.raise_for_status()
    sealed = auth.cipher.seal(grant.json()["code_verifier"], f"attempt:{attempt_id}")
    state = await db.fetchval(
        "UPDATE connect_attempts SET code_verifier_sealed = $2 WHERE id = $1 RETURNING state",
        attempt_id,
        sealed,
    )
    browser = HeadlessBrowser(browser_client)
    page = await browser.open(f"{callback}?code={grant.json()['code']}&state={state}")
    orgs = dict((label, tenant) for tenant, label in read_page(page).orgs)
    assert set(orgs) == {"Northwind Rentals (US)", "Kiwi Hire (NZ)"}, page.html
    assert "Which organisation" in page.html
    done = await browser.submit(page, "Continue", tenant_id=orgs["Northwind Rentals (US)"])
    key = read_page(done).key
    assert key and key.startswith("2RF:")
    verified = (await internal.post("/internal/v1/keys/verify", json={"api_key": key})).json()
    assert verified["tenant_name"] == "Northwind Rentals (US)"
    again = await browser.submit(page, "Continue", tenant_id=orgs["Kiwi Hire (NZ)"])
    assert again.status == 400 and "no longer open" in again.html


async def test_a_link_opened_by_one_browser_is_refused_in_another(
    auth: AuthCluster, browser_client
):
    """A connect link forwarded or leaked after its first opening cannot be walked by
    someone else's browser; the browser that opened it may open it again."""
    auth.start()
    setup = await browser_client.post(
        f"{auth.url}/v1/setup", json={"store_id": "S6", "api_key": ""}
    )
    link = setup.json()["connect_url"]
    first = await browser_client.get(link)
    assert first.status_code == 302
    again = await browser_client.get(link)
    assert again.status_code == 302
    async with httpx.AsyncClient() as other:
        page = await other.get(link)
    assert page.status_code == 400 and "another browser" in page.text
