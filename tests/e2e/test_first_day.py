"""A business day closed through the totals API becomes one balanced journal in Xero."""

import json
from datetime import date
from decimal import Decimal

import httpx

from glbridge.connect import connect_store
from glbridge.system import System
from shared.contracts import examples

BUSINESS_DATE = date(2026, 11, 20)


async def test_a_closed_day_becomes_one_balanced_journal(system: System) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        api_key = await connect_store(client, system.auth_url, "12")
        headers = {"X-Api-Key": api_key}
        store = f"{system.totals_url}/v1/stores/12"
        setup = await client.put(f"{store}/setup", json=examples.example_setup(api_key))
        assert setup.status_code == 200, setup.text

        day_url = f"{store}/days/{BUSINESS_DATE.isoformat()}"
        closed = await client.post(
            f"{day_url}/close", json=examples.example_day_totals(), headers=headers
        )
        assert closed.status_code in (200, 201, 202), closed.text
        day = (await client.get(day_url, params={"wait": 30}, headers=headers)).json()

        journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()

    assert day["status"] == "posted", day
    assert len(journals) == 1
    journal = journals[0]
    assert journal["ManualJournalID"] == day["journal_id"]
    assert journal["Date"].startswith(BUSINESS_DATE.isoformat())
    amounts = [Decimal(str(line["LineAmount"])) for line in journal["JournalLines"]]
    assert sum(amounts) == 0
    assert sum(a for a in amounts if a > 0) > 0
    # One grep follows the day from close to outcome through both services' JSON logs.
    day_id = f"12:{BUSINESS_DATE.isoformat()}"
    assert {"totals", "posting"} <= _services_logging(system, day_id)


def _services_logging(system: System, correlation: str) -> set[str]:
    found = set()
    assert system.log_dir is not None
    for path in system.log_dir.glob("*.log"):
        for line in path.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("correlation_id") == correlation:
                found.add(json.loads(line).get("service"))
    return found
