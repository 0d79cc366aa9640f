"""Endpoints for the other services, behind the service credential."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.auth.adapters import proofs
from services.auth.domain.keys import matches, parse_key
from services.auth.domain.tokens import ReauthNeeded, UnknownConnection, XeroUnavailable
from services.auth.entrypoints.http import deps
from services.auth.service_layer.connect import ConnectFlow
from services.auth.service_layer.ports import CannotOpen
from services.auth.service_layer.vault import Vault
from shared.contracts.stores import STORE_ID_PATTERN

# Who may call what: totals verifies keys, issues reconnect tokens (for the operator) and
# reads store moves; posting fetches access tokens; either may disconnect.
for_totals = APIRouter(prefix="/internal/v1", tags=["internal"])
for_posting = APIRouter(prefix="/internal/v1", tags=["internal"])
for_services = APIRouter(prefix="/internal/v1", tags=["internal"])


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    api_key: str = Field(max_length=4000)


class VerifiedKey(BaseModel):
    connection_id: UUID
    tenant_id: UUID
    tenant_name: str
    store_id: str
    status: Literal["active", "needs-reauth"]
    # The connection this one replaced after a reconnect with proof (the store's key or
    # an operator's reconnect token): the holder of the new key may replace the old one.
    replaces: UUID | None = None


class AccessTokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rejected_token: str | None = Field(default=None, max_length=10_000)


class AccessToken(BaseModel):
    access_token: str
    expires_at: datetime
    tenant_id: UUID


NOT_FOUND = {"detail": "no live connection has this key (unknown, retired or malformed)"}


@for_totals.post("/keys/verify", response_model=VerifiedKey)
async def verify_key(body: VerifyRequest, request: Request) -> VerifiedKey | JSONResponse:
    key = parse_key(body.api_key)
    if key is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow(
        "SELECT id, tenant_id, tenant_name, store_id, status, key_hash, replaces FROM connections"
        " WHERE id = $1 AND status IN ('active', 'needs-reauth')",
        key.connection_id,
    )
    if row is None or not matches(key, row["key_hash"]):
        return JSONResponse(NOT_FOUND, status_code=404)
    return VerifiedKey(
        connection_id=row["id"],
        tenant_id=row["tenant_id"],
        tenant_name=row["tenant_name"],
        store_id=row["store_id"],
        status=row["status"],
        replaces=row["replaces"],
    )


class ReconnectToken(BaseModel):
    store_id: str
    reconnect_token: str
    expires_at: datetime


@for_totals.post("/stores/{store_id}/reconnect-tokens", response_model=ReconnectToken)
async def issue_reconnect_token(
    store_id: Annotated[str, Path(pattern=STORE_ID_PATTERN)],
    flow: Annotated[ConnectFlow, Depends(deps.flow)],
) -> ReconnectToken:
    """A one-time token that reconnects the store (for the operator: its key is lost)."""
    token, expires_at = await flow.issue_reconnect_token(store_id)
    return ReconnectToken(store_id=store_id, reconnect_token=token, expires_at=expires_at)


class StoreMoveView(BaseModel):
    store_id: str
    from_tenant_id: UUID
    from_tenant_name: str
    to_tenant_id: UUID
    to_tenant_name: str
    proof: str
    confirmed_at: datetime


@for_totals.get("/store-moves", response_model=list[StoreMoveView])
async def store_moves(
    request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[StoreMoveView]:
    """Stores moved to another Xero organisation, most recent first."""
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        rows = await proofs.recent_moves(conn, limit)
    return [StoreMoveView(**dict(row)) for row in rows]


@for_posting.post("/connections/{connection_id}/access-token", response_model=AccessToken)
async def access_token(
    connection_id: UUID,
    vault: Annotated[Vault, Depends(deps.vault)],
    body: Annotated[AccessTokenRequest | None, Body()] = None,
) -> AccessToken | JSONResponse:
    try:
        grant = await vault.access_token(connection_id, body.rejected_token if body else None)
    except UnknownConnection:
        return JSONResponse({"error": "unknown-connection"}, status_code=404)
    except ReauthNeeded as exc:
        return JSONResponse({"error": "reauth-needed", "detail": str(exc)}, status_code=409)
    except CannotOpen as exc:
        # A configuration fault (a key missing from AUTH_ENCRYPTION_KEYS): retry after the fix.
        detail = f"the token vault cannot open this connection's tokens: {exc}"
        return JSONResponse({"error": "xero-unavailable", "detail": detail}, status_code=503)
    except XeroUnavailable as exc:
        headers = {}
        if exc.retry_after_s is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
        return JSONResponse(
            {"error": "xero-unavailable", "detail": str(exc)}, status_code=503, headers=headers
        )
    return AccessToken(
        access_token=grant.access_token, expires_at=grant.expires_at, tenant_id=grant.tenant_id
    )


@for_services.delete("/connections/{connection_id}")
async def disconnect(
    connection_id: UUID, vault: Annotated[Vault, Depends(deps.vault)]
) -> JSONResponse:
    """Revokes the connection at Xero and deletes its tokens; its key stops working."""
    try:
        outcome = await vault.disconnect(connection_id)
    except UnknownConnection:
        return JSONResponse({"error": "unknown-connection"}, status_code=404)
    except XeroUnavailable as exc:
        return JSONResponse({"error": "xero-unavailable", "detail": str(exc)}, status_code=503)
    return JSONResponse(
        {
            "connection_id": str(connection_id),
            "removed_at_xero": outcome.removed_at_xero,
            "revoked_at_xero": outcome.revoked_at_xero,
            "detail": outcome.detail,
        }
    )
