"""Disconnecting a store, or connecting it again, lets go of its connection at Xero:
`DELETE /connections/{id}` where no other store uses that connection, and the refresh
token revoked where no other store's connection was authorised by the same Xero user."""

import httpx

from tests.auth.conftest import AuthCluster, connect
from tests.support.connect import connect_store

MULTI = {"email": "multi@example.com", "password": "multi-password"}


async def tenants_listed(sandbox, access_token: str) -> set[str]:
    answer = await sandbox.client.get(
        "/connections", headers={"Authorization": f"Bearer {access_token}"})
    assert answer.status_code == 200, answer.text
    return {row["tenantName"] for row in answer.json()}


async def test_disconnect_removes_the_connection_at_xero(
    auth: AuthCluster, sandbox, browser_client: httpx.AsyncClient, internal, db
):
    auth.start()
    north = await connect(auth, browser_client, internal, "N1", **MULTI,
                          tenant_name="Northwind Rentals (US)")
    kiwi = await connect(auth, browser_client, internal, "K1", **MULTI,
                         tenant_name="Kiwi Hire (NZ)")
    assert await tenants_listed(sandbox, kiwi.access_token) == {
        "Northwind Rentals (US)", "Kiwi Hire (NZ)"}

    answer = await internal.delete(f"/internal/v1/connections/{north.connection_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["removed_at_xero"] is True
    assert answer.json()["revoked_at_xero"] is False  # K1's connection has the same user
    assert await tenants_listed(sandbox, kiwi.access_token) == {"Kiwi Hire (NZ)"}


async def test_connecting_again_to_another_organisation_removes_the_old_connection(
    auth: AuthCluster, sandbox, browser_client: httpx.AsyncClient, internal
):
    auth.start()
    first = await connect(auth, browser_client, internal, "M1", **MULTI,
                          tenant_name="Northwind Rentals (US)")
    # The store moves: its current key proves it, the move is confirmed.
    key = await connect_store(browser_client, auth.url, "M1", **MULTI,
                              tenant_name="Kiwi Hire (NZ)", api_key_box=first.key,
                              confirm_move=True)
    verified = (await internal.post("/internal/v1/keys/verify", json={"api_key": key})).json()
    token = await internal.post(
        f"/internal/v1/connections/{verified['connection_id']}/access-token")
    assert token.status_code == 200, token.text
    assert await tenants_listed(sandbox, token.json()["access_token"]) == {"Kiwi Hire (NZ)"}
