"""The seeded GST/VAT organisations: base currency, tax rates, tracking categories, and
the tax Xero computes on tax-coded journal lines (per line, to the cent)."""

from typing import Any

import httpx

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, number, token_set


async def _org(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return headers(await token_set(client, email))


async def test_each_seed_organisation_has_its_base_currency(sandbox: RunningSandbox) -> None:
    seen = {}
    for email in ("demo@example.com", "nz@example.com", "uk@example.com", "au@example.com"):
        h = await _org(sandbox.client, email)
        [org] = (await sandbox.client.get(f"{API}/Organisation", headers=h)).json()[
            "Organisations"]
        seen[org["Name"]] = (org["BaseCurrency"], org["CountryCode"])
    assert seen == {"Demo Rentals (US)": ("USD", "US"), "Kiwi Hire (NZ)": ("NZD", "NZ"),
                    "Albion Hire (UK)": ("GBP", "GB"), "Outback Hire (AU)": ("AUD", "AU")}


async def test_tax_rates_and_tracking_categories(sandbox: RunningSandbox) -> None:
    h = await _org(sandbox.client, "nz@example.com")
    rates = {r["TaxType"]: r for r in (await sandbox.client.get(
        f"{API}/TaxRates", headers=h)).json()["TaxRates"]}
    gst = rates["OUTPUT2"]
    assert (gst["Name"], gst["EffectiveRate"], gst["Status"]) == ("15% GST on Income", 15.0,
                                                                  "ACTIVE")
    assert gst["CanApplyToRevenue"] and not gst["CanApplyToExpenses"]
    active = await sandbox.client.get(f"{API}/TaxRates", headers=h,
                                      params={"where": 'Status=="ACTIVE"'})
    assert "OUTPUT" not in {r["TaxType"] for r in active.json()["TaxRates"]}
    [store] = (await sandbox.client.get(f"{API}/TrackingCategories", headers=h)).json()[
        "TrackingCategories"]
    assert store["Name"] == "Store"
    assert [o["Name"] for o in store["Options"]] == ["Store 1", "Store 2", "Store 3"]
    everything = await sandbox.client.get(f"{API}/TrackingCategories", headers=h,
                                          params={"includeArchived": "true"})
    assert "Store 9" in {o["Name"] for o in everything.json()["TrackingCategories"][0]["Options"]}


def _tax_journal(kind: str, *lines: tuple[str, str, str]) -> dict[str, Any]:
    return {"Narration": f"tax {kind}", "Date": "2026-11-20", "Status": "POSTED",
            "LineAmountTypes": kind,
            "JournalLines": [{"LineAmount": number(amount), "AccountCode": code, "TaxType": tax}
                             for code, amount, tax in lines]}


async def _put(client: httpx.AsyncClient, h: dict[str, str], body: dict[str, Any]
               ) -> httpx.Response:
    return await client.put(f"{API}/ManualJournals", headers=h, json={"ManualJournals": [body]})


async def test_exclusive_lines_are_taxed_per_line_and_balance_with_the_tax(
    sandbox: RunningSandbox,
) -> None:
    """developer.xero.com "Rounding in Xero": 25.06, 25.61 and 25.63 at 15% are taxed
    3.76, 3.84 and 3.84 (11.44), where 15% of their total would be 11.45."""
    h = await _org(sandbox.client, "nz@example.com")
    body = _tax_journal("Exclusive", ("200", "-25.06", "OUTPUT2"), ("200", "-25.61", "OUTPUT2"),
                        ("210", "-25.63", "OUTPUT2"), ("620", "87.74", "NONE"))
    answer = await _put(sandbox.client, h, body)
    assert answer.status_code == 200, answer.text
    lines = answer.json()["ManualJournals"][0]["JournalLines"]
    assert [ln["TaxAmount"] for ln in lines] == [-3.76, -3.84, -3.84, 0.0]
    # Without the tax (the net amounts alone balanced) Xero's totals differ by it.
    body = _tax_journal("Exclusive", ("200", "-100.00", "OUTPUT2"), ("620", "100.00", "NONE"))
    refused = await _put(sandbox.client, h, body)
    assert refused.status_code == 400
    assert refused.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "The total debits (100.00) must equal total credits (-115.00)"}]


async def test_inclusive_lines_hold_their_tax(sandbox: RunningSandbox) -> None:
    h = await _org(sandbox.client, "uk@example.com")
    body = _tax_journal("Inclusive", ("210", "-120.00", "OUTPUT2"), ("270", "10.01", "OUTPUT2"),
                        ("620", "109.99", "NONE"))
    answer = await _put(sandbox.client, h, body)
    assert answer.status_code == 200, answer.text
    [stored] = answer.json()["ManualJournals"]
    # 120 * 20/120 = 20.00; 10.01 * 20/120 = 1.668... -> 1.67. Saved, the journal shows
    # as tax exclusive (help.xero.com "Add and post, or edit a manual journal").
    assert stored["LineAmountTypes"] == "Exclusive"
    assert [(ln["LineAmount"], ln["TaxAmount"]) for ln in stored["JournalLines"]] == [
        (-100.0, -20.0), (8.34, 1.67), (109.99, 0.0)]


async def test_tax_rate_must_be_active_and_allowed_on_the_account(
    sandbox: RunningSandbox,
) -> None:
    h = await _org(sandbox.client, "nz@example.com")
    for tax, code in (("OUTPUT", "200"), ("INPUT2", "200"), ("VAT20", "200")):
        body = _tax_journal("Exclusive", (code, "-100.00", tax), ("620", "100.00", "NONE"))
        refused = await _put(sandbox.client, h, body)
        errors = refused.json()["Elements"][0]["ValidationErrors"]
        assert {"Message": f"The TaxType code '{tax}' cannot be used with account code"
                           f" '{code}'."} in errors, tax


async def test_an_unknown_or_archived_tracking_option_is_refused(
    sandbox: RunningSandbox,
) -> None:
    h = await _org(sandbox.client, "nz@example.com")

    def tracked(option: str, category: str = "Store") -> dict[str, Any]:
        return {"Narration": f"tracked {option}", "Date": "2026-11-20", "Status": "POSTED",
                "JournalLines": [
                    {"LineAmount": 10, "AccountCode": "620",
                     "Tracking": [{"Name": category, "Option": option}]},
                    {"LineAmount": -10, "AccountCode": "210",
                     "Tracking": [{"Name": category, "Option": option}]}]}

    assert (await _put(sandbox.client, h, tracked("Store 2"))).status_code == 200
    for option in ("Store 4", "Store 9"):
        refused = await _put(sandbox.client, h, tracked(option))
        assert refused.status_code == 400
        assert refused.json()["Elements"][0]["ValidationErrors"][0] == {
            "Message": f"There is no ACTIVE tracking option with the name '{option}' in the"
                       " tracking category 'Store'"}
    refused = await _put(sandbox.client, h, tracked("North", category="Region"))
    assert refused.json()["Elements"][0]["ValidationErrors"][0] == {
        "Message": "There is no ACTIVE tracking category with the name 'Region'"}


async def test_a_tracking_option_is_created_only_with_the_settings_scope(
    sandbox: RunningSandbox,
) -> None:
    reader = await _org(sandbox.client, "nz@example.com")
    [store] = (await sandbox.client.get(f"{API}/TrackingCategories", headers=reader)).json()[
        "TrackingCategories"]
    url = f"{API}/TrackingCategories/{store['TrackingCategoryID']}/Options"
    refused = await sandbox.client.put(url, headers=reader, json={"Name": "Store 7"})
    assert refused.status_code == 403 and refused.json()["Detail"] == "AuthorizationUnsuccessful"
    writer = headers(await token_set(sandbox.client, "nz@example.com", scopes=[
        "offline_access", "accounting.manualjournals", "accounting.settings"]))
    created = await sandbox.client.put(url, headers=writer, json={"Name": "Store 7"})
    assert created.status_code == 200, created.text
    assert created.json()["Options"][0]["Name"] == "Store 7"
    again = await sandbox.client.put(url, headers=writer, json={"Name": "store 7"})
    assert again.status_code == 400
    assert again.json()["Message"] == "For each specified tracking option the name must be unique."
