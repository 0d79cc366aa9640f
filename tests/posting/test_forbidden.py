"""A 403 from Xero names its cause: a scope the connection lacks (which one), a Xero user
whose role may not post manual journals (ask the admin), or a disconnected organisation
(connect again). Reconnecting fixes only the first and the last."""

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from uuid import UUID

import httpx

from glbridge.connect import _walk, read_page
from glbridge.headless import HeadlessBrowser
from shared.contracts.events import ErrorKind, GlPostingFailed
from tests.posting.conftest import CREDENTIALS, PostingRig, Store, day_event


async def connect_granting(rig: PostingRig, store_id: str, scopes: str) -> Store:
    """Connects a store through the real flow, the consent given for `scopes` only (as a
    connection made while the app asked for fewer scopes would be)."""
    async with httpx.AsyncClient(timeout=30) as client:
        setup = await client.post(f"{rig.auth_url}/v1/setup",
                                  json={"store_id": store_id, "api_key": ""})
        start = await client.get(setup.json()["connect_url"])
        authorize = urlsplit(start.headers["location"])
        query = {k: v[0] for k, v in parse_qs(authorize.query).items()} | {"scope": scopes}
        page = await _walk(HeadlessBrowser(client),
                           urlunsplit(authorize._replace(query=urlencode(query))),
                           "demo@example.com", "demo-password", None)
        key = read_page(page).key
        assert key and key.startswith("2RF:"), page.html[:500]
        verified = await client.post(
            f"{rig.auth_url}/internal/v1/keys/verify", json={"api_key": key},
            headers=CREDENTIALS.bearer("totals"))
    data = verified.raise_for_status().json()
    return Store(store_id, UUID(data["connection_id"]), UUID(data["tenant_id"]))


async def only_error(rig: PostingRig):
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingFailed), outcome
    [error] = outcome.errors
    return error


async def test_a_missing_journals_scope_is_named(rig: PostingRig):
    store = await connect_granting(rig, "31", "offline_access accounting.settings.read")
    rig.start_posting()
    await rig.publish(day_event(store))
    error = await only_error(rig)
    assert error.kind == ErrorKind.SCOPE_MISSING
    assert "accounting.manualjournals" in error.message and "connect" in error.message
    assert error.xero_message and "AuthorizationUnsuccessful" in error.xero_message


async def test_a_403_reading_the_chart_names_the_settings_scope_not_a_disconnection(
        rig: PostingRig):
    store = await connect_granting(rig, "32", "offline_access accounting.manualjournals")
    rig.start_posting()
    await rig.publish(day_event(store))
    error = await only_error(rig)
    assert error.kind == ErrorKind.SCOPE_MISSING
    assert "accounting.settings.read" in error.message and "chart" in error.message


async def test_a_role_that_may_not_post_journals_is_sent_to_the_xero_admin(rig: PostingRig):
    created = await rig.sandbox.client.post("/_control/users", json={
        "email": "standard@example.com", "password": "standard-password", "role": "STANDARD"})
    created.raise_for_status()
    await rig.new_org("Standard Rentals (US)", email="standard@example.com")
    store = await rig.connect("33", "standard@example.com", "standard-password")
    rig.start_posting()
    await rig.publish(day_event(store))
    error = await only_error(rig)
    assert error.kind == ErrorKind.ROLE_FORBIDDEN
    assert "Adviser" in error.message and "admin" in error.message
    assert "connect the store to Xero again" not in error.message
