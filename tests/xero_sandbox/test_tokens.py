"""Refresh-token rotation, the 30-minute grace, expiry by the sandbox clock, revocation."""

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, refresh, token_set


async def _advance(sandbox: RunningSandbox, seconds: float) -> None:
    assert (
        await sandbox.client.post("/_control/clock/advance", json={"seconds": seconds})
    ).is_success


async def test_refresh_rotates_and_old_token_has_grace(sandbox: RunningSandbox) -> None:
    first = await token_set(sandbox.client)
    second = await refresh(sandbox.client, first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    await _advance(sandbox, 29 * 60)
    replay = await refresh(sandbox.client, first["refresh_token"])
    assert replay.status_code == 200
    assert replay.json()["refresh_token"] == new["refresh_token"]  # the lost answer, again
    await _advance(sandbox, 2 * 60)
    late = await refresh(sandbox.client, first["refresh_token"])
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    assert (await refresh(sandbox.client, new["refresh_token"])).status_code == 200
    stats = (await sandbox.client.get("/_control/stats")).json()
    assert sum(stats["token_refreshes"].values()) == 3


async def test_unused_refresh_token_expires_after_60_days(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await _advance(sandbox, 60 * 86400 + 1)
    answer = await refresh(sandbox.client, tokens["refresh_token"])
    assert answer.json() == {"error": "invalid_grant"}


async def test_access_token_expires_after_30_minutes(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    assert (
        await sandbox.client.get(f"{API}/Organisation", headers=headers(tokens))
    ).status_code == 200
    await _advance(sandbox, 1801)
    expired = await sandbox.client.get(f"{API}/Organisation", headers=headers(tokens))
    assert expired.status_code == 401
    body = expired.json()
    assert body["Title"] == "Unauthorized" and body["Detail"].startswith("TokenExpired")
    fresh = (await refresh(sandbox.client, tokens["refresh_token"])).json()
    ok = await sandbox.client.get(
        f"{API}/Organisation", headers=headers(fresh, tokens["tenant_ids"][0])
    )
    assert ok.status_code == 200


async def test_revocation_removes_connections(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    revoked = await sandbox.client.post(
        "/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=("glbridge-dev", "glbridge-dev-secret"),
    )
    assert revoked.status_code == 200
    refused = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    assert refused.status_code == 403 and refused.json()["Detail"] == "AuthenticationUnsuccessful"
    assert (await refresh(sandbox.client, tokens["refresh_token"])).json() == {
        "error": "invalid_grant"
    }


async def test_control_revoke_and_wrong_tenant(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    other = await token_set(sandbox.client, "multi@example.com")
    wrong = await sandbox.client.get(
        f"{API}/Accounts", headers=headers(tokens, other["tenant_ids"][0])
    )
    assert wrong.status_code == 403
    await sandbox.client.post("/_control/revoke", json={"email": "demo@example.com"})
    gone = await sandbox.client.get(
        "/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert gone.status_code == 403


async def test_delete_connection(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client, "multi@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    rows = (await sandbox.client.get("/connections", headers=auth)).json()
    assert len(rows) == 2
    assert (
        await sandbox.client.delete(f"/connections/{rows[0]['id']}", headers=auth)
    ).status_code == 204
    assert len((await sandbox.client.get("/connections", headers=auth)).json()) == 1


async def test_scopes_are_enforced(sandbox: RunningSandbox) -> None:
    narrow = await token_set(sandbox.client, scopes=["offline_access", "accounting.settings.read"])
    put = await sandbox.client.put(
        f"{API}/ManualJournals", headers=headers(narrow), json={"ManualJournals": []}
    )
    assert put.status_code == 403 and put.json()["Detail"] == "AuthorizationUnsuccessful"
    broad = await token_set(
        sandbox.client, scopes=["accounting.transactions", "accounting.settings"]
    )
    assert (await sandbox.client.get(f"{API}/Accounts", headers=headers(broad))).status_code == 200
    assert (
        await sandbox.client.get(f"{API}/ManualJournals", headers=headers(broad))
    ).status_code == 200
