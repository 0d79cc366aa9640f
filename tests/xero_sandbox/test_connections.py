"""Connections as Xero lists and deletes them (xero-identity.yaml: `GET /Connections`
with an optional `authEventId`, `DELETE /Connections/{id}` answering 204)."""

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, token_set


async def test_connections_are_listed_per_authorisation_and_deleted(
        sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client, "multi@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    rows = (await sandbox.client.get("/connections", headers=auth)).json()
    assert len(rows) == 2 and len({r["authEventId"] for r in rows}) == 1
    first_event = rows[0]["authEventId"]
    # The user authorises the app again for one organisation: a new authorisation event.
    await token_set(sandbox.client, "multi@example.com", tenant_ids=[rows[0]["tenantId"]])
    rows = (await sandbox.client.get("/connections", headers=auth)).json()
    again_event = next(r["authEventId"] for r in rows if r["tenantId"] == rows[0]["tenantId"])
    assert again_event != first_event
    for event in (first_event, again_event):
        narrowed = (await sandbox.client.get("/connections", headers=auth,
                                             params={"authEventId": event})).json()
        assert len(narrowed) == 1 and narrowed[0]["authEventId"] == event

    gone = rows[1]
    deleted = await sandbox.client.delete(f"/connections/{gone['id']}", headers=auth)
    assert deleted.status_code == 204
    left = (await sandbox.client.get("/connections", headers=auth)).json()
    assert [r["id"] for r in left] == [rows[0]["id"]]
    again = await sandbox.client.delete(f"/connections/{gone['id']}", headers=auth)
    assert again.status_code == 404
    # The organisation is out of the app's reach: Xero answers 403.
    refused = await sandbox.client.get(f"{API}/Organisation",
                                       headers=headers(tokens, gone["tenantId"]))
    assert refused.status_code == 403
    assert refused.json()["Detail"] == "AuthenticationUnsuccessful"
