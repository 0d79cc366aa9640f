"""`glbridge demo`: one store, one business day, from the API Key box to a Xero journal.

Everything goes through the public interfaces a POS and its manager use: auth's setup
dialog and connect pages, then the totals API. Nothing reaches into a database.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from glbridge.connect import connect_store
from shared.contracts import examples


@dataclass(frozen=True)
class DemoResult:
    store_id: str
    business_date: date
    status: str
    journal_id: str | None
    errors: list[dict[str, Any]]
    # The store's 2RF: key, so whoever ran the demo can carry on with the store
    # (`glbridge pos ... --store N` with GLBRIDGE_POS_API_KEY).
    api_key: str = ""

    @property
    def ok(self) -> bool:
        return self.journal_id is not None


class DemoFailed(Exception):
    pass


async def run_demo(
    auth_url: str, totals_url: str, store_id: str, business_date: date, wait_s: float = 60.0
) -> DemoResult:
    async with httpx.AsyncClient(timeout=wait_s + 10) as client:
        api_key = await connect_store(client, auth_url, store_id)
        headers = {"X-Api-Key": api_key}
        await _expect(client.put(
            f"{totals_url}/v1/stores/{store_id}/setup", json=examples.example_setup(api_key)
        ), "store setup")
        day_url = f"{totals_url}/v1/stores/{store_id}/days/{business_date.isoformat()}"
        await _expect(client.post(
            f"{day_url}/close", json=examples.example_day_totals(), headers=headers
        ), "closing the day")
        day = await _expect(
            client.get(day_url, params={"wait": wait_s}, headers=headers), "reading the day"
        )
    return DemoResult(
        store_id, business_date, day.get("status", "?"), day.get("journal_id"),
        day.get("errors") or [], api_key,
    )


async def _expect(request: Awaitable[httpx.Response], what: str) -> dict[str, Any]:
    response = await request
    if response.status_code >= 400:
        raise DemoFailed(f"{what} failed ({response.status_code}): {response.text}")
    body: dict[str, Any] = response.json()
    return body
