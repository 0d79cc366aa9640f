"""The connect flow: setup → Xero's authorize page → callback → (organisation) → key."""

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

import asyncpg

from services.auth.adapters import repository as repo
from services.auth.adapters.cipher import CannotOpen, Cipher
from services.auth.adapters.xero import InvalidGrant, XeroError, XeroIdentity, XeroRefused
from services.auth.domain.connect import (
    AttemptProblem,
    AttemptView,
    Tenant,
    attempt_problem,
    could_be_issued,
    just_authorised,
    unverified_claims,
)
from services.auth.domain.keys import ApiKey, hash_secret, new_key
from services.auth.domain.scenarios import Classification, classify_api_key
from services.auth.domain.tokens import Status, TokenSet
from services.auth.service_layer.release import release_at_xero
from services.auth.service_layer.vault import seal_context
from services.auth.settings import AuthSettings
from shared.contracts.events import XeroConnected, XeroConnectionRestored
from shared.outbox import HandOff, transaction

log = logging.getLogger(__name__)

PICK_TTL = timedelta(minutes=10)


class Failure(StrEnum):
    DENIED = "denied"
    XERO_ERROR = "xero-error"
    XERO_UNAVAILABLE = "xero-unavailable"
    NO_ORGANISATION = "no-organisation"
    BAD_REQUEST = "bad-request"
    PICK_EXPIRED = "pick-expired"


class FlowError(Exception):
    """What the browser is told when the flow cannot go on."""

    def __init__(self, kind: AttemptProblem | Failure, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else str(kind))
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Connected:
    key: ApiKey
    store_id: str
    tenant_name: str


@dataclass(frozen=True)
class PickNeeded:
    pick_id: str
    store_id: str
    tenants: list[Tenant] = field(default_factory=list)


def browser_hash(cookie: str | None) -> bytes | None:
    return hashlib.sha256(cookie.encode()).digest() if cookie else None


class ConnectFlow:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cipher: Cipher,
        xero: XeroIdentity,
        settings: AuthSettings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        handed: HandOff | None = None,
    ) -> None:
        self.pool = pool
        self.cipher = cipher
        self.xero = xero
        self.settings = settings
        self.now = now
        self.handed = handed or HandOff(limit=0)

    async def setup(self, store_id: str, api_key: str | None) -> tuple[Classification, str]:
        """Classifies the API Key box (UnrecognisedKey when impossible) and opens an attempt."""
        classification = classify_api_key(api_key)
        attempt_id = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
        async with self.pool.acquire() as conn:
            await repo.insert_attempt(
                conn,
                repo.NewAttempt(
                    id=attempt_id,
                    state=secrets.token_urlsafe(32),
                    store_id=store_id,
                    scenario=classification.scenario,
                    code_verifier_sealed=self.cipher.seal(verifier, f"attempt:{attempt_id}"),
                    expires_at=self.now() + timedelta(seconds=self.settings.state_ttl_s),
                ),
            )
        url = f"{self.settings.public_url.rstrip('/')}/v1/connect/start/{attempt_id}"
        return classification, url

    async def start(self, attempt_id: str, browser: str) -> str:
        """The URL of Xero's authorize page for this attempt, bound to this browser."""
        if not could_be_issued(attempt_id):
            raise FlowError(AttemptProblem.UNKNOWN)
        async with self.pool.acquire() as conn:
            row = await repo.attempt_by_id(conn, attempt_id)
            problem = attempt_problem(_view(row), self.now())
            if problem is not None:
                raise FlowError(problem)
            assert row is not None
            hashed = browser_hash(browser)
            assert hashed is not None
            await repo.bind_browser(conn, attempt_id, hashed)
        verifier = self.cipher.open(row["code_verifier_sealed"], f"attempt:{attempt_id}")
        return await self.xero.authorization_url(row["state"], verifier, self.settings.callback_url)

    async def callback(
        self,
        state: str | None,
        code: str | None,
        error: str | None,
        error_description: str | None,
        browser: str | None,
    ) -> Connected | PickNeeded:
        attempt = await self._consume(state, browser)
        if error:
            await self._outcome(attempt["id"], f"error:{error}")
            if error == "access_denied":
                raise FlowError(Failure.DENIED)
            raise FlowError(Failure.XERO_ERROR, f"{error}: {error_description or ''}".strip())
        if not code:
            raise FlowError(Failure.BAD_REQUEST, "Xero's answer carries no code")
        verifier = self.cipher.open(attempt["code_verifier_sealed"], f"attempt:{attempt['id']}")
        tokens = await self._exchange(code, verifier)
        tenants = await self._tenants(tokens)
        if len(tenants) == 1:
            return await self._finish(
                attempt["id"], attempt["store_id"], attempt["scenario"], tokens, tenants[0]
            )
        pick_id = secrets.token_urlsafe(24)
        async with self.pool.acquire() as conn:
            await repo.park_for_pick(
                conn,
                attempt["id"],
                pick_id,
                self.cipher.seal(_tokens_json(tokens), f"pick:{attempt['id']}"),
                tenants,
                self.now() + PICK_TTL,
            )
        return PickNeeded(pick_id, attempt["store_id"], tenants)

    async def pick(self, pick_id: str, tenant_id: str | None, browser: str | None) -> Connected:
        if not could_be_issued(pick_id):
            raise FlowError(Failure.PICK_EXPIRED)
        async with self.pool.acquire() as conn:
            parked = await repo.parked_pick(conn, pick_id, self.now())
            if parked is None:
                raise FlowError(Failure.PICK_EXPIRED)
            if parked["browser_hash"] is not None and browser_hash(browser) != bytes(
                parked["browser_hash"]
            ):
                raise FlowError(AttemptProblem.OTHER_BROWSER)
            tenants = {t.tenant_id: t for t in repo.tenants_of(parked["pending_tenants"])}
            if tenant_id not in tenants:
                raise FlowError(Failure.BAD_REQUEST, "choose one of the organisations listed")
            row = await repo.take_pick(conn, pick_id, self.now())
        if row is None or row["pending_tokens_sealed"] is None:
            raise FlowError(Failure.PICK_EXPIRED)
        tokens = _tokens_from_json(
            self.cipher.open(row["pending_tokens_sealed"], f"pick:{row['id']}")
        )
        return await self._finish(
            row["id"], row["store_id"], row["scenario"], tokens, tenants[tenant_id]
        )

    # --- internals ---

    async def _consume(self, state: str | None, browser: str | None) -> asyncpg.Record:
        if state is None or not could_be_issued(state):
            raise FlowError(AttemptProblem.UNKNOWN)
        async with self.pool.acquire() as conn:
            row = await repo.attempt_by_state(conn, state)
            problem = attempt_problem(_view(row), self.now())
            if problem is not None:
                raise FlowError(problem)
            assert row is not None
            if row["browser_hash"] is not None and browser_hash(browser) != bytes(
                row["browser_hash"]
            ):
                raise FlowError(AttemptProblem.OTHER_BROWSER)
            consumed = await repo.consume_state(conn, state, self.now())
        if consumed is None:  # another callback with this state won the race
            raise FlowError(AttemptProblem.USED)
        return consumed

    async def _exchange(self, code: str, verifier: str) -> TokenSet:
        try:
            return await self.xero.exchange_code(code, verifier, self.settings.callback_url)
        except (InvalidGrant, XeroRefused) as exc:
            raise FlowError(Failure.XERO_ERROR, str(exc)) from exc
        except XeroError as exc:
            raise FlowError(Failure.XERO_UNAVAILABLE, str(exc)) from exc

    async def _tenants(self, tokens: TokenSet) -> list[Tenant]:
        try:
            tenants = await self.xero.connections(tokens.access_token)
        except XeroError as exc:
            raise FlowError(Failure.XERO_UNAVAILABLE, str(exc)) from exc
        event_id = unverified_claims(tokens.access_token).get("authentication_event_id")
        tenants = just_authorised(tenants, str(event_id) if event_id else None)
        if not tenants:
            raise FlowError(Failure.NO_ORGANISATION)
        return tenants

    async def _finish(
        self, attempt_id: str, store_id: str, scenario: str, tokens: TokenSet, tenant: Tenant
    ) -> Connected:
        connection_id = uuid4()
        key = new_key(connection_id)
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            old = await repo.live_connection_for_store(conn, store_id)
            if old is not None:
                await repo.end_connection(conn, old["id"], Status.RETIRED)
            await repo.insert_connection(
                conn,
                repo.NewConnection(
                    id=connection_id,
                    store_id=store_id,
                    tenant=tenant,
                    scope=tokens.scope,
                    key_hash=hash_secret(key.secret),
                    access_token_sealed=self.cipher.seal(
                        tokens.access_token, seal_context(connection_id, "access_token")
                    ),
                    access_expires_at=tokens.expires_at,
                    refresh_token_sealed=self.cipher.seal(
                        tokens.refresh_token, seal_context(connection_id, "refresh_token")
                    ),
                    auth_event_id=_auth_event(tokens),
                    xero_user_id=_xero_user(tokens),
                ),
            )
            await tx.enqueue(XeroConnected(
                correlation_id=f"connection:{connection_id}", connection_id=connection_id,
                tenant_id=UUID(tenant.tenant_id), store_id=store_id,
            ))
            if old is not None and old["status"] == Status.NEEDS_REAUTH:
                await tx.enqueue(
                    XeroConnectionRestored(
                        correlation_id=f"connection:{connection_id}",
                        causation_id=f"connection:{old['id']}",
                        connection_id=connection_id,
                        tenant_id=UUID(tenant.tenant_id),
                        store_ids=[store_id],
                    ),
                )
            await repo.set_outcome(conn, attempt_id, f"connected:{connection_id}")
        log.info(
            "store connected to Xero",
            extra={
                "store_id": store_id,
                "connection_id": str(connection_id),
                "scenario": scenario,
                "replaced": str(old["id"]) if old else None,
            },
        )
        if old is not None:
            await self._release_replaced(old)
        return Connected(key, store_id, tenant.tenant_name)

    async def _release_replaced(self, old: asyncpg.Record) -> None:
        """The replaced connection is let go of at Xero too (after the new one is committed,
        so the check for stores still using it sees the new one)."""
        def open_token(column: str) -> str:
            return self.cipher.open(old[column + "_sealed"], seal_context(old["id"], column))

        try:
            async with self.pool.acquire() as conn:
                released = await release_at_xero(conn, old, self.xero, open_token)
        except Exception:  # the store is connected; a stale connection only costs a slot
            log.exception("releasing the replaced connection at Xero failed")
            return
        log.info("replaced connection released at Xero",
                 extra={"connection_id": str(old["id"]), "detail": released.detail})

    async def _outcome(self, attempt_id: str, outcome: str) -> None:
        async with self.pool.acquire() as conn:
            await repo.set_outcome(conn, attempt_id, outcome)


def _view(row: asyncpg.Record | None) -> AttemptView | None:
    return None if row is None else AttemptView(row["used_at"], row["expires_at"])


def _auth_event(tokens: TokenSet) -> str | None:
    value = unverified_claims(tokens.access_token).get("authentication_event_id")
    return str(value) if value else None


def _xero_user(tokens: TokenSet) -> str | None:
    claims = unverified_claims(tokens.access_token)
    value = claims.get("xero_userid") or claims.get("sub")
    return str(value) if value else None


def _tokens_json(tokens: TokenSet) -> str:
    return json.dumps(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat(),
            "scope": tokens.scope,
        }
    )


def _tokens_from_json(text: str) -> TokenSet:
    try:
        data = json.loads(text)
        return TokenSet(
            data["access_token"],
            data["refresh_token"],
            datetime.fromisoformat(data["expires_at"]),
            data["scope"],
        )
    except (KeyError, ValueError) as exc:
        raise CannotOpen("parked tokens unreadable") from exc
