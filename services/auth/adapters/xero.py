"""Xero's identity endpoints through authlib: authorize URL, code exchange, refresh,
connections and revocation. Every failure becomes one of four exceptions, so the vault
can tell a dead token (InvalidGrant) from a lost answer (InDoubt) and an outage."""

import logging
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import authlib.deprecate  # noqa: F401  (it installs an "always" filter when first imported)
import httpx
from authlib.integrations.base_client import OAuthError

with warnings.catch_warnings():
    # authlib 1.x announces that its httpx integration moves to httpx2; the client used
    # here keeps working until authlib 2, and moving means a new HTTP stack for auth.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from services.auth.domain.connect import Tenant, tenants_from_connections
from services.auth.domain.tokens import TokenSet, expiry
from services.auth.service_layer.ports import InDoubt, InvalidGrant, XeroError, XeroRefused
from shared.settings import XeroSettings

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XeroIdentity:
    def __init__(self, settings: XeroSettings, now: Callable[[], datetime] = _utc_now) -> None:
        self.settings = settings
        self.now = now
        # A client per call keeps authlib's token state per call; building each its own
        # TLS context (loading the CA bundle) cost 21 ms of CPU and a few MB each.
        self._tls = httpx.create_ssl_context()

    def _client(self, **kwargs: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret.get_secret_value(),
            timeout=self.settings.timeout_s,
            verify=self._tls,
            **kwargs,
        )

    async def authorization_url(self, state: str, code_verifier: str, redirect_uri: str) -> str:
        async with self._client(
            scope=self.settings.scopes, redirect_uri=redirect_uri, code_challenge_method="S256"
        ) as client:
            url, _ = client.create_authorization_url(
                self.settings.authorize_url, state=state, code_verifier=code_verifier
            )
        return str(url)

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        async with self._client(redirect_uri=redirect_uri) as client:
            token = await self._call(
                client.fetch_token(
                    self.settings.token_url,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            )
        return self._token_set(token)

    async def refresh(self, refresh_token: str) -> TokenSet:
        async with self._client() as client:
            token = await self._call(
                client.refresh_token(self.settings.token_url, refresh_token=refresh_token)
            )
        return self._token_set(token)

    async def connections(self, access_token: str) -> list[Tenant]:
        async with httpx.AsyncClient(timeout=self.settings.timeout_s, verify=self._tls) as client:
            try:
                response = await client.get(
                    self.settings.connections_url,
                    headers={"Authorization": f"Bearer {access_token}"},
                )
            except httpx.HTTPError as exc:
                raise XeroError(f"GET /connections failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise XeroError(f"GET /connections answered HTTP {response.status_code}")
        try:
            return tenants_from_connections(response.json())
        except ValueError as exc:
            raise XeroError(f"GET /connections answered something unreadable: {exc}") from exc

    async def delete_connection(self, access_token: str, xero_connection_id: str) -> None:
        """Removes the app's connection to one organisation (`DELETE /connections/{id}`,
        204). Already gone (404) is what we wanted anyway."""
        url = f"{self.settings.connections_url.rstrip('/')}/{xero_connection_id}"
        async with httpx.AsyncClient(timeout=self.settings.timeout_s, verify=self._tls) as client:
            try:
                response = await client.delete(
                    url, headers={"Authorization": f"Bearer {access_token}"})
            except httpx.HTTPError as exc:
                raise XeroError(f"DELETE /connections failed: {type(exc).__name__}") from exc
        if response.status_code == 404:
            log.info("the Xero connection was already gone")
        elif response.status_code not in (200, 204):
            raise XeroError(f"DELETE /connections answered HTTP {response.status_code}")

    async def revoke(self, refresh_token: str) -> None:
        async with self._client() as client:
            try:
                response = await client.revoke_token(
                    self.settings.revocation_url,
                    token=refresh_token,
                    token_type_hint="refresh_token",
                )
            except httpx.HTTPError as exc:
                raise XeroError(f"revocation failed: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise XeroError(f"revocation answered HTTP {response.status_code}")
        if response.status_code >= 400:
            # Already revoked or unknown: what we wanted anyway.
            log.info("revocation answered HTTP %s", response.status_code)

    async def _call(self, call: Any) -> dict[str, Any]:
        try:
            token: dict[str, Any] = await call
            return token
        except OAuthError as exc:
            if exc.error == "invalid_grant":
                raise InvalidGrant(exc.description or "invalid_grant") from exc
            raise XeroRefused(exc.error, exc.description) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise XeroError(f"Xero's token endpoint unreachable: {type(exc).__name__}") from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise InDoubt(f"Xero's token endpoint gave no answer: {type(exc).__name__}") from exc
        except httpx.HTTPStatusError as exc:
            raise XeroError(
                f"Xero's token endpoint answered HTTP {exc.response.status_code}"
            ) from exc
        except ValueError as exc:
            raise XeroError(f"Xero's token endpoint answered something unreadable: {exc}") from exc

    def _token_set(self, token: dict[str, Any]) -> TokenSet:
        if not token.get("access_token") or not token.get("refresh_token"):
            raise XeroError("Xero's token answer lacks access_token or refresh_token")
        return TokenSet(
            access_token=str(token["access_token"]),
            refresh_token=str(token["refresh_token"]),
            expires_at=expiry(token.get("expires_in"), self.now()),
            scope=str(token.get("scope") or ""),
        )
