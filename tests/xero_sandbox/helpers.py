"""Shared steps for the sandbox tests: tokens without a browser, API headers, journals."""

from typing import Any

import httpx

API = "/api.xro/2.0"


async def token_set(
    client: httpx.AsyncClient, email: str = "demo@example.com", **extra: Any
) -> dict[str, Any]:
    response = await client.post("/_control/grants", json={"email": email, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def headers(tokens: dict[str, Any], tenant_id: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": tenant_id or tokens["tenant_ids"][0],
        "Accept": "application/json",
    }


def number(amount: str) -> float:
    """An amount as the JSON number the spec's `LineAmount` is (a string is refused)."""
    return float(amount)


def journal(
    narration: str = "Store 1 day 2026-11-20",
    amount: str = "100.00",
    credit: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "Narration": narration,
        "Date": "2026-11-20",
        "Status": "POSTED",
        "JournalLines": [
            {"LineAmount": number(amount), "AccountCode": "1210", "Description": "Cash"},
            {"LineAmount": number(f"-{credit or amount}"), "AccountCode": "4000",
             "Description": "Rental"},
        ],
        **fields,
    }


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=("glbridge-dev", "glbridge-dev-secret"),
    )
