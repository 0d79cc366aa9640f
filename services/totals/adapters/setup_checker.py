"""Asks posting to check a setup's codes against the store's Xero organisation."""

from typing import Any
from uuid import UUID

import httpx
from pydantic import SecretStr

from services.totals.service_layer.ports import CheckUnavailable


class PostingSetupChecker:
    def __init__(self, base_url: str, service_token: SecretStr, timeout_s: float = 20.0
                 ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s,
            headers={"Authorization": f"Bearer {service_token.get_secret_value()}"})

    async def close(self) -> None:
        await self._client.aclose()

    async def check(self, tenant_id: UUID, connection_id: UUID,
                    entries: list[tuple[str, str]], tracking: list[dict[str, str]],
                    currency: str | None = None, tax_rates: dict[str, str] | None = None,
                    ) -> list[dict[str, Any]]:
        rates = tax_rates or {}
        body = {"tenant_id": str(tenant_id), "connection_id": str(connection_id),
                "entries": [{"category": c, "account_code": code, "tax_type": rates.get(c)}
                            for c, code in entries],
                "tracking": tracking, "currency": currency}
        try:
            response = await self._client.post("/internal/v1/setup-check", json=body)
        except httpx.HTTPError as exc:
            raise CheckUnavailable(f"posting did not answer: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise CheckUnavailable(_reason(response), response.status_code == 409)
        problems: list[dict[str, Any]] = response.json()["problems"]
        return problems


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    return f"posting answered {response.status_code}"
