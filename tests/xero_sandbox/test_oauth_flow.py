"""The authorization-code flow with PKCE, walked like a person with authlib as the app."""

import warnings
from urllib.parse import parse_qs, urlsplit

import authlib.deprecate  # noqa: F401  (it installs an "always" filter when first imported)
import httpx
from authlib.common.security import generate_token

with warnings.catch_warnings():  # authlib announces its httpx2 move on this import
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from glbridge.headless import HeadlessBrowser
from tests.support.sandbox import RunningSandbox

SCOPES = "openid profile email offline_access accounting.manualjournals accounting.settings.read"


async def _register_app(sandbox: RunningSandbox) -> str:
    # The callback is a sandbox path that answers 404: the browser stops there with the query.
    callback = f"{sandbox.url}/test-callback"
    await sandbox.client.put(
        "/_control/clients/test-app",
        json={"client_secret": "test-secret", "redirect_uris": [callback]},
    )
    return callback


def _oauth(sandbox: RunningSandbox, callback: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id="test-app",
        client_secret="test-secret",
        scope=SCOPES,
        redirect_uri=callback,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


async def _login(
    url: str, email: str, password: str, button: str = "Allow access", **picker: str
) -> str:
    async with httpx.AsyncClient() as http:
        browser = HeadlessBrowser(http)
        page = await browser.open(url)
        page = await browser.submit(page, "Log in", username=email, password=password)
        assert "accounting.manualjournals" in page.html
        page = await browser.submit(page, button)
        if picker:
            page = await browser.submit(page, "Continue", **picker)
        return page.url


async def test_pkce_flow_gives_tokens_and_connections(sandbox: RunningSandbox) -> None:
    callback = await _register_app(sandbox)
    verifier = generate_token(48)
    async with _oauth(sandbox, callback) as oauth:
        url, state = oauth.create_authorization_url(
            f"{sandbox.url}/identity/connect/authorize", code_verifier=verifier
        )
        landed = await _login(url, "demo@example.com", "demo-password")
        assert parse_qs(urlsplit(landed).query)["state"] == [state]
        token = await oauth.fetch_token(
            f"{sandbox.url}/connect/token",
            authorization_response=landed,
            code_verifier=verifier,
        )
        assert token["token_type"] == "Bearer" and token["expires_in"] == 1800
        assert token["refresh_token"] and token["id_token"]
        connections = await oauth.get(f"{sandbox.url}/connections")
        assert [c["tenantName"] for c in connections.json()] == ["Demo Rentals (US)"]


async def test_wrong_verifier_is_invalid_grant(sandbox: RunningSandbox) -> None:
    callback = await _register_app(sandbox)
    async with _oauth(sandbox, callback) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{sandbox.url}/identity/connect/authorize", code_verifier=generate_token(48)
        )
        landed = await _login(url, "demo@example.com", "demo-password")
    code = parse_qs(urlsplit(landed).query)["code"][0]
    answer = await sandbox.client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": generate_token(48),
        },
        auth=("test-app", "test-secret"),
    )
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_grant"}


async def test_cancel_redirects_with_access_denied(sandbox: RunningSandbox) -> None:
    callback = await _register_app(sandbox)
    async with _oauth(sandbox, callback) as oauth:
        url, state = oauth.create_authorization_url(
            f"{sandbox.url}/identity/connect/authorize", code_verifier=generate_token(48)
        )
        landed = await _login(url, "demo@example.com", "demo-password", button="Cancel")
    query = parse_qs(urlsplit(landed).query)
    assert query["error"] == ["access_denied"] and query["state"] == [state]


async def test_organisation_picker_connects_the_chosen_one(sandbox: RunningSandbox) -> None:
    callback = await _register_app(sandbox)
    orgs = (await sandbox.client.get("/_control/organisations")).json()
    kiwi = next(o["tenant_id"] for o in orgs if o["name"] == "Kiwi Hire (NZ)")
    verifier = generate_token(48)
    async with _oauth(sandbox, callback) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{sandbox.url}/identity/connect/authorize", code_verifier=verifier
        )
        landed = await _login(url, "multi@example.com", "multi-password", tenant_id=kiwi)
        await oauth.fetch_token(
            f"{sandbox.url}/connect/token", authorization_response=landed, code_verifier=verifier
        )
        connections = (await oauth.get(f"{sandbox.url}/connections")).json()
    assert [c["tenantId"] for c in connections] == [kiwi]


async def test_code_is_single_use_and_redirect_uri_checked(sandbox: RunningSandbox) -> None:
    grant = (
        await sandbox.client.post(
            "/_control/grants",
            json={
                "email": "demo@example.com",
                "redirect_uri": "http://127.0.0.1:8001/v1/connect/callback",
            },
        )
    ).json()
    form = {
        "grant_type": "authorization_code",
        "code": grant["code"],
        "redirect_uri": "http://127.0.0.1:9/elsewhere",
        "code_verifier": grant["code_verifier"],
        "client_id": "glbridge-dev",
        "client_secret": "glbridge-dev-secret",
    }
    wrong = await sandbox.client.post("/connect/token", data=form)
    assert wrong.json() == {"error": "invalid_grant"}
    again = await sandbox.client.post(
        "/connect/token", data=form | {"redirect_uri": grant["redirect_uri"]}
    )
    assert again.json() == {"error": "invalid_grant"}  # a code is spent by its first use


async def test_bad_client_and_grant_type(sandbox: RunningSandbox) -> None:
    bad = await sandbox.client.post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=("glbridge-dev", "wrong"),
    )
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}
    odd = await sandbox.client.post(
        "/connect/token",
        data={"grant_type": "password"},
        auth=("glbridge-dev", "glbridge-dev-secret"),
    )
    assert odd.json() == {"error": "unsupported_grant_type"}
