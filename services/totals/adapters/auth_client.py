"""The auth service's key verification, called when a setup presents a key (never per
POS request: those are checked against the stored hash)."""

from typing import Any
from uuid import UUID

import httpx
from pydantic import SecretStr

from services.totals.domain.records import KeyInfo
from services.totals.service_layer.ports import AuthUnavailable


class AuthClient:
    def __init__(self, base_url: str, service_token: SecretStr, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {service_token.get_secret_value()}"},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def verify_key(self, api_key: str) -> KeyInfo | None:
        """The key's connection, or None for an unknown, retired or malformed key."""
        try:
            response = await self._client.post("/internal/v1/keys/verify",
                                               json={"api_key": api_key})
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"auth unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code}")
        data = response.json()
        try:
            return KeyInfo(
                connection_id=UUID(str(data["connection_id"])),
                tenant_id=UUID(str(data["tenant_id"])),
                tenant_name=str(data.get("tenant_name") or ""),
                store_id=str(data["store_id"]),
                status=str(data.get("status") or "active"),
                replaces=UUID(str(data["replaces"])) if data.get("replaces") else None,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise AuthUnavailable(f"auth answered an unexpected body: {exc}") from exc

    async def issue_reconnect_token(self, store_id: str) -> dict[str, Any]:
        """A one-time reconnect token for the store: `{store_id, reconnect_token, expires_at}`."""
        token: dict[str, Any] = await self._json(
            "POST", f"/internal/v1/stores/{store_id}/reconnect-tokens")
        return token

    async def store_moves(self) -> list[dict[str, Any]]:
        """Stores moved to another Xero organisation, most recent first."""
        moves: list[dict[str, Any]] = await self._json("GET", "/internal/v1/store-moves")
        return moves

    async def _json(self, method: str, path: str) -> Any:
        try:
            response = await self._client.request(method, path)
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"auth unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code}")
        return response.json()
