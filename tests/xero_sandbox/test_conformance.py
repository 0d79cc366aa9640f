"""Every body the sandbox answers for the implemented operations validates against the
component schemas of Xero's official OpenAPI specs (format keywords are not asserted:
Xero's own answers, such as `createdDateUtc` without an offset, do not meet RFC 3339)."""

from typing import Any

from jsonschema import Draft202012Validator

from tests.support.sandbox import RunningSandbox
from tests.support.specs import registry, spec_errors
from tests.xero_sandbox.helpers import API, headers, journal, refresh, token_set


def assert_valid(body: Any, schema: str, spec: str = "xero_accounting.yaml") -> None:
    errors = spec_errors(body, schema, spec)
    assert not errors, errors[:5]


def test_the_checker_catches_a_wrong_body() -> None:
    wrong = {"Accounts": [{"Code": 4000, "Status": "GONE"}]}
    validator = Draft202012Validator(
        {"$ref": "xero_accounting.yaml#/components/schemas/Accounts"}, registry=registry()
    )
    assert len(list(validator.iter_errors(wrong))) == 2


async def test_identity_bodies(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client, "multi@example.com")
    refreshed = await refresh(sandbox.client, tokens["refresh_token"])
    assert_valid(refreshed.json(), "AccessToken", "xero-identity.yaml")
    connections = await sandbox.client.get(
        "/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert len(connections.json()) == 2
    for row in connections.json():
        assert_valid(row, "Connection", "xero-identity.yaml")


async def test_accounting_bodies(sandbox: RunningSandbox) -> None:
    for email in ("demo@example.com", "locked@example.com", "multi@example.com",
                  "uk@example.com", "au@example.com"):
        tokens = await token_set(sandbox.client, email)
        for tenant in tokens["tenant_ids"]:
            h = headers(tokens, tenant)
            accounts = (await sandbox.client.get(f"{API}/Accounts", headers=h)).json()
            assert_valid(accounts, "Accounts")
            one = accounts["Accounts"][0]["AccountID"]
            assert_valid(
                (await sandbox.client.get(f"{API}/Accounts/{one}", headers=h)).json(), "Accounts"
            )
            org = (await sandbox.client.get(f"{API}/Organisation", headers=h)).json()
            assert_valid(org, "Organisations")
            rates = (await sandbox.client.get(f"{API}/TaxRates", headers=h)).json()
            assert_valid(rates, "TaxRates")
            tracking = await sandbox.client.get(f"{API}/TrackingCategories", headers=h,
                                                params={"includeArchived": "true"})
            assert_valid(tracking.json(), "TrackingCategories")


async def test_manual_journal_bodies(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    h = headers(tokens)
    warned = journal("warned")
    warned["JournalLines"].append({"LineAmount": 0, "AccountCode": "476"})
    bodies = [
        await sandbox.client.put(
            f"{API}/ManualJournals", headers=h, json={"ManualJournals": [journal(), warned]}
        ),
        await sandbox.client.put(
            f"{API}/ManualJournals?summarizeErrors=false",
            headers=h,
            json={"ManualJournals": [journal("x", credit="1"), journal("y")]},
        ),
        await sandbox.client.post(f"{API}/ManualJournals", headers=h, json=journal("posted")),
        await sandbox.client.get(f"{API}/ManualJournals", headers=h),
        await sandbox.client.get(f"{API}/ManualJournals?page=1", headers=h),
        await sandbox.client.get(
            f"{API}/ManualJournals", headers=h, params={"where": 'Narration=="warned"'}
        ),
    ]
    first = bodies[0].json()["ManualJournals"][0]["ManualJournalID"]
    bodies.append(await sandbox.client.get(f"{API}/ManualJournals/{first}", headers=h))
    bodies.append(
        await sandbox.client.post(
            f"{API}/ManualJournals/{first}", headers=h,
            json={**journal("x"), "Status": "VOIDED"},
        )
    )
    for answer in bodies:
        assert answer.status_code == 200, answer.text
        assert_valid(answer.json(), "ManualJournals")
    refused = await sandbox.client.put(
        f"{API}/ManualJournals", headers=h, json={"ManualJournals": [journal(credit="1")]}
    )
    assert refused.status_code == 400
    assert_valid(refused.json(), "Error")
    for element in refused.json()["Elements"]:
        assert_valid(element, "ManualJournal")
