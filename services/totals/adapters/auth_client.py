"""The auth service's key verification, called when a setup presents a key (never per
POS request: those are checked against the stored hash)."""

from dataclasses import dataclass
from uuid import UUID

import httpx
from pydantic import SecretStr


class AuthUnavailable(Exception):
    """auth did not answer usefully: the caller should try again later."""


@dataclass(frozen=True)
class KeyInfo:
    connection_id: UUID
    tenant_id: UUID
    tenant_name: str
    store_id: str
    status: str  # active | needs-reauth


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
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise AuthUnavailable(f"auth answered an unexpected body: {exc}") from exc
