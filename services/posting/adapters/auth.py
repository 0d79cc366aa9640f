"""Access tokens from the auth service, cached per connection.

A token is reused until `margin` before it expires, so the posting path asks auth at
most about once per connection per token lifetime; concurrent askers for one connection
share one request. After Xero answers 401, the rejected token is handed back so auth
refreshes (once, for every caller).
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
from pydantic import SecretStr

from services.posting.adapters.http import timeout
from services.posting.metrics import TOKEN_REQUESTS
from services.posting.service_layer.ports import AuthUnavailable, ReauthNeeded, UnknownConnection


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: datetime
    tenant_id: UUID | None


_EPOCH = datetime.fromtimestamp(0, UTC)


class AuthClient:
    def __init__(
        self, base_url: str, service_token: SecretStr, timeout_s: float, margin_s: float,
        session: aiohttp.ClientSession,
    ) -> None:
        self._http = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {service_token.get_secret_value()}"}
        self._timeout = timeout(timeout_s)
        self.margin = timedelta(seconds=margin_s)
        self._tokens: dict[UUID, AccessToken] = {}
        self._use_until: dict[UUID, datetime] = {}
        self._locks: dict[UUID, asyncio.Lock] = {}
        self.requests = 0

    async def token(self, connection_id: UUID) -> AccessToken:
        cached = self._fresh(connection_id)
        if cached is not None:
            return cached
        async with self._lock(connection_id):
            cached = self._fresh(connection_id)
            if cached is not None:
                return cached
            return await self._fetch(connection_id, rejected=None)

    async def rejected(self, connection_id: UUID, token: str) -> AccessToken:
        """Xero refused `token`: get another, unless a caller already did."""
        async with self._lock(connection_id):
            cached = self._tokens.get(connection_id)
            if cached is not None and cached.value != token and self._fresh(connection_id):
                return cached  # another caller already replaced the rejected token
            self._tokens.pop(connection_id, None)
            return await self._fetch(connection_id, rejected=token)

    def _lock(self, connection_id: UUID) -> asyncio.Lock:
        return self._locks.setdefault(connection_id, asyncio.Lock())

    def _fresh(self, connection_id: UUID) -> AccessToken | None:
        token = self._tokens.get(connection_id)
        if token is None or datetime.now(UTC) >= self._use_until.get(connection_id, _EPOCH):
            return None
        return token

    async def _fetch(self, connection_id: UUID, rejected: str | None) -> AccessToken:
        body = {"rejected_token": rejected} if rejected else None
        self.requests += 1
        try:
            async with self._http.post(
                f"{self._base_url}/internal/v1/connections/{connection_id}/access-token",
                json=body, headers=self._headers, timeout=self._timeout,
            ) as answer:
                status, content = answer.status, await answer.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            TOKEN_REQUESTS.labels("unavailable").inc()
            raise AuthUnavailable(f"auth unreachable: {exc!r}") from exc
        if status == 200:
            data = json.loads(content)
            token = AccessToken(
                value=data["access_token"],
                expires_at=datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")),
                tenant_id=UUID(data["tenant_id"]) if data.get("tenant_id") else None,
            )
            self._tokens[connection_id] = token
            self._use_until[connection_id] = use_until(token.expires_at, self.margin)
            TOKEN_REQUESTS.labels("ok").inc()
            return token
        detail = _detail(content)
        TOKEN_REQUESTS.labels(str(status)).inc()
        if status == 409:
            raise ReauthNeeded(detail)
        if status == 404:
            raise UnknownConnection(detail)
        raise AuthUnavailable(f"auth answered {status}: {detail}")


def use_until(expires_at: datetime, margin: timedelta) -> datetime:
    """Until `margin` before expiry; a token with less life than that left is still
    used for half of it, so a short-lived answer does not send every call back to auth."""
    now = datetime.now(UTC)
    if expires_at - margin > now:
        return expires_at - margin
    return now + (expires_at - now) / 2


def _detail(content: bytes) -> str:
    try:
        data: Any = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:300]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("error") or data)[:300]
    return str(data)[:300]
