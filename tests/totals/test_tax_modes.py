"""Tax-coded stores with the whole system (sandbox, auth, totals, posting as processes):
the worked NZ (15% GST, amounts without tax) and UK (20% VAT, amounts with tax) days of
docs/accounting.md, each checked line by line against the tax the sandbox computed; a POS
tax total that Xero's per-line tax does not match; a store whose currency is not the
organisation's; a tracking option missing from Xero."""

from decimal import Decimal
from typing import Any

import httpx
import pytest

from glbridge.connect import connect_store
from glbridge.system import System
from tests.support.shared_system import Shared
from tests.totals.tax_examples import GST_RATES, NZ_ACCOUNTS, NZ_DAY, UK_DAY


@pytest.fixture
def system(shared: Shared) -> System:
    """The module's one system: each test works on stores of its own."""
    return shared.system


def setup(key: str, currency: str, **extra: Any) -> dict[str, Any]:
    return {"api_key": key, "accounts": NZ_ACCOUNTS, "currency": currency,
            "tax_mode": "tax-coded", "tax_rates": GST_RATES, "timezone": "UTC", **extra}


async def close(client: httpx.AsyncClient, system: System, store: str, email: str,
                body: dict[str, Any], **settings: Any) -> tuple[dict[str, Any], list[Any]]:
    """Connects `store` to `email`'s organisation, saves its setup, closes the day and
    waits for the outcome: the day and the organisation's journals in the sandbox."""
    key = await connect_store(client, system.auth_url, store, email, email.split("@")[0]
                              + "-password")
    saved = await client.put(f"{system.totals_url}/v1/stores/{store}/setup",
                             json=setup(key, **settings))
    assert saved.status_code == 200, saved.text
    day_url = f"{system.totals_url}/v1/stores/{store}/days/2026-11-20"
    headers = {"X-Api-Key": key}
    closed = await client.post(f"{day_url}/close", json=body, headers=headers)
    assert closed.status_code == 200, closed.text
    day = (await client.get(day_url, params={"wait": 60}, headers=headers)).json()
    journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()
    return day, [j for j in journals if f"glb:{store}:" in j["Narration"]]


def only_error(day: dict[str, Any], journals: list[Any], kind: str) -> dict[str, Any]:
    """The day failed before Xero with one error of `kind`."""
    assert day["status"] == "failed" and journals == [], day
    [error] = day["errors"]
    assert error["kind"] == kind, error
    return dict(error)


def lines_of(journal: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(ln["AccountCode"], ln["LineAmount"], ln["TaxType"]) for ln in journal["JournalLines"]]


async def test_nz_gst_day_exclusive_with_a_rounding_cent(system: System) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        day, [journal] = await close(client, system, "1", "nz@example.com", NZ_DAY,
                                     currency="NZD",
                                     tracking=[{"name": "Store", "option": "Store {Store}"}])
        assert day["status"] == "posted", day
        stored = (await client.get(
            f"{system.sandbox_url}/api.xro/2.0/ManualJournals/{journal['ManualJournalID']}",
            headers=await _api_headers(client, system, "nz@example.com"))).json()
    assert journal["LineAmountTypes"] == "Exclusive"
    assert lines_of(journal) == [("210", "-25.06", "OUTPUT2"), ("200", "-25.61", "OUTPUT2"),
                                 ("210", "-25.63", "OUTPUT2"), ("620", "87.75", "NONE"),
                                 ("860", "-0.01", "NONE")]
    taxes = [Decimal(str(ln["TaxAmount"])) for ln in stored["ManualJournals"][0]["JournalLines"]]
    assert taxes == [Decimal("-3.76"), Decimal("-3.84"), Decimal("-3.84"), 0, 0]
    assert all(ln["Tracking"] == [{"Name": "Store", "Option": "Store 1"}]
               for ln in journal["JournalLines"])


async def test_uk_vat_day_inclusive(system: System) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        day, [journal] = await close(client, system, "2", "uk@example.com", UK_DAY,
                                     currency="GBP", amounts_include_tax=True)
        assert day["status"] == "posted", day
        stored = (await client.get(
            f"{system.sandbox_url}/api.xro/2.0/ManualJournals/{journal['ManualJournalID']}",
            headers=await _api_headers(client, system, "uk@example.com"))).json()
    [xero] = stored["ManualJournals"]
    # Sent with VAT included; Xero keeps it as net amounts and their VAT.
    assert xero["LineAmountTypes"] == "Exclusive"
    assert [(ln["AccountCode"], ln["LineAmount"], ln["TaxAmount"])
            for ln in xero["JournalLines"]] == [
        ("210", -100.0, -20.0), ("200", -49.99, -10.0), ("270", 8.34, 1.67),
        ("620", 169.98, 0.0)]


async def test_a_pos_tax_xero_does_not_compute_is_refused_naming_both(system: System) -> None:
    body = {**NZ_DAY, "taxes": [{"kind": "rental-tax", "amount": "12.00"}],
            "tenders": [{"type": "cash", "received": "88.30"}]}
    async with httpx.AsyncClient(timeout=60) as client:
        day, journals = await close(client, system, "3", "nz@example.com", body,
                                    currency="NZD")
    error = only_error(day, journals, "tax-difference")
    assert "12.00" in error["message"] and "11.44" in error["message"]


async def test_a_store_left_on_usd_in_an_nzd_organisation_is_refused(system: System) -> None:
    body = {**NZ_DAY, "currency": "USD"}
    async with httpx.AsyncClient(timeout=60) as client:
        day, journals = await close(client, system, "4", "nz@example.com", body,
                                    currency="USD")
    error = only_error(day, journals, "currency")
    assert "USD" in error["message"] and "NZD" in error["message"]


async def test_a_tracking_option_missing_in_xero_is_named_with_the_fix(system: System) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        day, journals = await close(client, system, "7", "nz@example.com", NZ_DAY,
                                    currency="NZD",
                                    tracking=[{"name": "Store", "option": "Store {Store}"}])
    error = only_error(day, journals, "tracking")
    assert '"Store 7"' in error["message"] and "Create it in Xero" in error["message"]


async def _api_headers(client: httpx.AsyncClient, system: System, email: str
                       ) -> dict[str, str]:
    grant = (await client.post(f"{system.sandbox_url}/_control/grants",
                               json={"email": email})).json()
    return {"Authorization": f"Bearer {grant['access_token']}",
            "xero-tenant-id": grant["tenant_ids"][0], "Accept": "application/json"}


async def test_saving_the_setup_checks_currency_tax_rates_and_tracking(system: System) -> None:
    """The setup check applies the same rules before any day is closed: a currency that is
    not the organisation's, an archived tax rate, a tracking option missing in Xero."""
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, "8", "nz@example.com",
                                  "nz-password")
        saved = await client.put(
            f"{system.totals_url}/v1/stores/8/setup",
            json=setup(key, "USD", tax_rates={**GST_RATES, "sales": "OUTPUT"},
                       tracking=[{"name": "Store", "option": "Store {Store}"}]))
    assert saved.status_code == 200, saved.text
    check = saved.json()["check"]
    assert check["ready"] is False
    errors = {p["kind"]: p for p in check["problems"] if p["severity"] == "error"}
    assert {"currency", "tax-type", "tracking"} <= set(errors), check["problems"]
    assert "USD" in errors["currency"]["message"] and "NZD" in errors["currency"]["message"]
    assert errors["tax-type"]["category"] == "sales"
    assert "OUTPUT" in errors["tax-type"]["message"] and "archived" in errors["tax-type"][
        "message"]
    assert '"Store 8"' in errors["tracking"]["message"]
