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

from services.auth.domain.connect import (
    AttemptProblem,
    AttemptView,
    Tenant,
    attempt_problem,
    could_be_issued,
    just_authorised,
    unverified_claims,
)
from services.auth.domain.keys import ApiKey, hash_secret, matches, new_key, parse_key
from services.auth.domain.proof import (
    LiveConnection,
    TooManyAttempts,
    is_move,
    new_reconnect_token,
    reconnect_token_hash,
    required_proof,
    still_proved,
)
from services.auth.domain.records import (
    AttemptRecord,
    ConnectionRecord,
    NewAttempt,
    NewConnection,
    ParkedPick,
    StoreMove,
    TakenPick,
)
from services.auth.domain.scenarios import Classification, classify_api_key
from services.auth.domain.tokens import Status, TokenSet
from services.auth.service_layer.ports import (
    CannotOpen,
    InvalidGrant,
    Sealer,
    XeroError,
    XeroRefused,
)
from services.auth.service_layer.release import release_at_xero
from services.auth.service_layer.unit_of_work import (
    AuthUnitOfWork,
    UnitOfWorkFactory,
    XeroIdentity,
)
from services.auth.service_layer.vault import open_sealed, seal_context
from services.auth.settings import AuthSettings
from shared.contracts.events import Event, XeroConnected, XeroConnectionRestored

log = logging.getLogger(__name__)

PICK_TTL = timedelta(minutes=10)


class Failure(StrEnum):
    DENIED = "denied"
    XERO_ERROR = "xero-error"
    XERO_UNAVAILABLE = "xero-unavailable"
    NO_ORGANISATION = "no-organisation"
    BAD_REQUEST = "bad-request"
    PICK_EXPIRED = "pick-expired"
    # The store was connected (or reconnected) by someone else while this flow ran.
    STORE_CHANGED = "store-changed"
    MOVE_NOT_CONFIRMED = "move-not-confirmed"


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


@dataclass(frozen=True)
class MoveNeeded:
    """The organisation picked is not the one the store posted to: the person must confirm."""

    pick_id: str
    store_id: str
    tenant: Tenant
    from_tenant_name: str


def browser_hash(cookie: str | None) -> bytes | None:
    return hashlib.sha256(cookie.encode()).digest() if cookie else None


class ConnectFlow:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        cipher: Sealer,
        xero: XeroIdentity,
        settings: AuthSettings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.uow = uow
        self.cipher = cipher
        self.xero = xero
        self.settings = settings
        self.now = now

    async def setup(
        self, store_id: str, api_key: str | None, reconnect_token: str | None = None
    ) -> tuple[Classification, str]:
        """Classifies the API Key box (UnrecognisedKey when impossible), checks the proof a
        connected store needs (ProofRequired) and opens an attempt (TooManyAttempts when
        the store has too many open)."""
        classification = classify_api_key(api_key)
        attempt_id = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
        now = self.now()
        async with self.uow() as uow:
            live = await uow.connections.live_for_store(store_id)
            proof = required_proof(
                store_id,
                _live(live, api_key),
                live is not None and await self._spend_token(uow, store_id, reconnect_token),
            )
            await self._room_for_an_attempt(uow, store_id, now)
            await uow.attempts.add(
                NewAttempt(
                    id=attempt_id,
                    state=secrets.token_urlsafe(32),
                    store_id=store_id,
                    scenario=classification.scenario,
                    code_verifier_sealed=self.cipher.seal(verifier, f"attempt:{attempt_id}"),
                    expires_at=now + timedelta(seconds=self.settings.state_ttl_s),
                    proof=proof,
                    proved_connection_id=live.id if live is not None else None,
                ),
            )
            await uow.commit()
        url = f"{self.settings.public_url.rstrip('/')}/v1/connect/start/{attempt_id}"
        return classification, url

    async def _room_for_an_attempt(
        self, uow: AuthUnitOfWork, store_id: str, now: datetime
    ) -> None:
        """Anonymous setups must not grow the table without bound: open (unexpired,
        unused) links are capped per store and in all (TooManyAttempts)."""
        pending = await uow.attempts.pending(store_id, now)
        if pending >= self.settings.max_pending_attempts:
            raise TooManyAttempts(
                f"store {store_id} has {pending} connect links open: use one of them, "
                f"or wait until they expire ({self.settings.state_ttl_s} s after issue)"
            )
        if await uow.attempts.pending(None, now) >= self.settings.max_open_attempts:
            raise TooManyAttempts("too many connect links are open: try again in a few "
                                  "minutes")

    async def _spend_token(
        self, uow: AuthUnitOfWork, store_id: str, token: str | None
    ) -> bool:
        hashed = reconnect_token_hash(token or "")
        return hashed is not None and await uow.reconnect_tokens.use(
            hashed, store_id, self.now()
        )

    async def issue_reconnect_token(self, store_id: str) -> tuple[str, datetime]:
        """A one-time token that lets whoever holds it reconnect `store_id` (the operator
        hands it to a store that lost its key); only its hash is kept."""
        token = new_reconnect_token()
        hashed = reconnect_token_hash(token)
        assert hashed is not None
        expires_at = self.now() + timedelta(seconds=self.settings.reconnect_token_ttl_s)
        async with self.uow() as uow:
            await uow.reconnect_tokens.issue(hashed, store_id, expires_at)
            await uow.commit()
        log.info("reconnect token issued", extra={"store_id": store_id})
        return token, expires_at

    async def start(self, attempt_id: str, browser: str) -> str:
        """The URL of Xero's authorize page for this attempt, bound to this browser."""
        if not could_be_issued(attempt_id):
            raise FlowError(AttemptProblem.UNKNOWN)
        async with self.uow() as uow:
            row = await uow.attempts.get(attempt_id)
            problem = attempt_problem(_view(row), self.now())
            if problem is not None:
                raise FlowError(problem)
            assert row is not None
            hashed = browser_hash(browser)
            assert hashed is not None
            # Bound to the first browser that opens it: a link forwarded or leaked to
            # another browser afterwards is refused there.
            bound = await uow.attempts.bind_browser(attempt_id, hashed)
            await uow.commit()
        if not bound:
            raise FlowError(AttemptProblem.OTHER_BROWSER)
        verifier = self.cipher.open(row.code_verifier_sealed, f"attempt:{attempt_id}")
        return await self.xero.authorization_url(row.state, verifier, self.settings.callback_url)

    async def callback(
        self,
        state: str | None,
        code: str | None,
        error: str | None,
        error_description: str | None,
        browser: str | None,
    ) -> Connected | PickNeeded | MoveNeeded:
        attempt = await self._consume(state, browser)
        await self._still_proved(attempt)
        if error:
            await self._outcome(attempt.id, f"error:{error}")
            if error == "access_denied":
                raise FlowError(Failure.DENIED)
            raise FlowError(Failure.XERO_ERROR, f"{error}: {error_description or ''}".strip())
        if not code:
            raise FlowError(Failure.BAD_REQUEST, "Xero's answer carries no code")
        verifier = self.cipher.open(attempt.code_verifier_sealed, f"attempt:{attempt.id}")
        tokens = await self._exchange(code, verifier)
        tenants = await self._tenants(tokens)
        moving_from = None
        if len(tenants) == 1:
            moving_from = await self._moving_from(attempt.store_id, tenants[0])
            if moving_from is None:
                return await self._finish(attempt, tokens, tenants[0], confirmed_move=False)
        pick_id = secrets.token_urlsafe(24)
        async with self.uow() as uow:
            await uow.attempts.park_for_pick(
                attempt.id,
                pick_id,
                self.cipher.seal(_tokens_json(tokens), f"pick:{attempt.id}"),
                tenants,
                self.now() + PICK_TTL,
            )
            await uow.commit()
        if moving_from is not None:
            return MoveNeeded(pick_id, attempt.store_id, tenants[0], moving_from)
        return PickNeeded(pick_id, attempt.store_id, tenants)

    async def _still_proved(self, attempt: AttemptRecord | ParkedPick) -> None:
        """Stops a flow early when the store's live connection is no longer the one its
        setup proved (`_finish` checks again under the lock)."""
        async with self.uow() as uow:
            live = await uow.connections.live_id_for_store(attempt.store_id)
        if not still_proved(attempt.proved_connection_id, live):
            raise FlowError(Failure.STORE_CHANGED)

    async def _moving_from(self, store_id: str, tenant: Tenant) -> str | None:
        """The name of the organisation the store posted to when `tenant` is another."""
        async with self.uow() as uow:
            previous = await uow.connections.latest_for_store(store_id)
        if previous is None or not is_move(previous.tenant_id, UUID(tenant.tenant_id)):
            return None
        return previous.tenant_name

    async def pick(
        self, pick_id: str, tenant_id: str | None, browser: str | None,
        confirm_move: bool = False,
    ) -> Connected | MoveNeeded:
        if not could_be_issued(pick_id):
            raise FlowError(Failure.PICK_EXPIRED)
        async with self.uow() as uow:
            parked = await uow.attempts.parked_pick(pick_id, self.now())
        if parked is None:
            raise FlowError(Failure.PICK_EXPIRED)
        if parked.browser_hash is not None and browser_hash(browser) != parked.browser_hash:
            raise FlowError(AttemptProblem.OTHER_BROWSER)
        tenants = {t.tenant_id: t for t in parked.tenants}
        if tenant_id not in tenants:
            raise FlowError(Failure.BAD_REQUEST, "choose one of the organisations listed")
        await self._still_proved(parked)
        if not confirm_move:
            moving_from = await self._moving_from(parked.store_id, tenants[tenant_id])
            if moving_from is not None:
                return MoveNeeded(pick_id, parked.store_id, tenants[tenant_id], moving_from)
        async with self.uow() as uow:
            row = await uow.attempts.take_pick(pick_id, self.now())
            await uow.commit()
        if row is None or row.pending_tokens_sealed is None:
            raise FlowError(Failure.PICK_EXPIRED)
        tokens = _tokens_from_json(
            self.cipher.open(row.pending_tokens_sealed, f"pick:{row.id}")
        )
        return await self._finish(row, tokens, tenants[tenant_id], confirmed_move=confirm_move)

    # --- internals ---

    async def _consume(self, state: str | None, browser: str | None) -> AttemptRecord:
        if state is None or not could_be_issued(state):
            raise FlowError(AttemptProblem.UNKNOWN)
        async with self.uow() as uow:
            row = await uow.attempts.by_state(state)
            problem = attempt_problem(_view(row), self.now())
            if problem is not None:
                raise FlowError(problem)
            assert row is not None
            if row.browser_hash is not None and browser_hash(browser) != row.browser_hash:
                raise FlowError(AttemptProblem.OTHER_BROWSER)
            consumed = await uow.attempts.consume_state(state, self.now())
            await uow.commit()
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
        self, attempt: AttemptRecord | TakenPick, tokens: TokenSet, tenant: Tenant,
        confirmed_move: bool,
    ) -> Connected:
        store_id = attempt.store_id
        connection_id = uuid4()
        key = new_key(connection_id)
        async with self.uow() as uow:
            old = await uow.connections.live_for_store(store_id)
            if not still_proved(attempt.proved_connection_id, old.id if old else None):
                raise FlowError(Failure.STORE_CHANGED)
            previous = await uow.connections.latest_for_store(store_id)
            moved = previous is not None and is_move(
                previous.tenant_id, UUID(tenant.tenant_id))
            if moved and not confirmed_move:
                raise FlowError(Failure.MOVE_NOT_CONFIRMED)
            if old is not None:
                await uow.connections.end(old.id, Status.RETIRED)
            await uow.connections.add(self._new_connection(connection_id, store_id, key,
                                                           tokens, tenant, old))
            if moved and previous is not None:
                await uow.connections.record_move(StoreMove(
                    store_id=store_id, from_tenant_id=previous.tenant_id,
                    from_tenant_name=previous.tenant_name,
                    to_tenant_id=UUID(tenant.tenant_id), to_tenant_name=tenant.tenant_name,
                    from_connection_id=previous.id, to_connection_id=connection_id,
                    proof=attempt.proof,
                ))
            uow.add_event(*_connected_events(connection_id, store_id, tenant, old))
            await uow.attempts.set_outcome(attempt.id, f"connected:{connection_id}")
            await uow.commit()
        log.info(
            "store connected to Xero",
            extra={
                "store_id": store_id,
                "connection_id": str(connection_id),
                "scenario": attempt.scenario,
                "proof": attempt.proof,
                "moved_organisation": moved,
                "replaced": str(old.id) if old else None,
            },
        )
        if old is not None:
            await self._release_replaced(old)
        return Connected(key, store_id, tenant.tenant_name)

    def _new_connection(
        self, connection_id: UUID, store_id: str, key: ApiKey, tokens: TokenSet,
        tenant: Tenant, old: ConnectionRecord | None,
    ) -> NewConnection:
        return NewConnection(
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
            replaces=old.id if old is not None else None,
        )

    async def _release_replaced(self, old: ConnectionRecord) -> None:
        """The replaced connection is let go of at Xero too (after the new one is committed,
        so the check for stores still using it sees the new one)."""
        def open_token(column: str) -> str:
            return open_sealed(self.cipher, old, column)

        try:
            async with self.uow() as uow:
                released = await release_at_xero(uow.connections, old, self.xero, open_token)
        except Exception:  # the store is connected; a stale connection only costs a slot
            log.exception("releasing the replaced connection at Xero failed")
            return
        log.info("replaced connection released at Xero",
                 extra={"connection_id": str(old.id), "detail": released.detail})

    async def _outcome(self, attempt_id: str, outcome: str) -> None:
        async with self.uow() as uow:
            await uow.attempts.set_outcome(attempt_id, outcome)
            await uow.commit()


def _connected_events(
    connection_id: UUID, store_id: str, tenant: Tenant, old: ConnectionRecord | None
) -> list[Event]:
    events: list[Event] = [XeroConnected(
        correlation_id=f"connection:{connection_id}", connection_id=connection_id,
        tenant_id=UUID(tenant.tenant_id), store_id=store_id,
    )]
    if old is not None and old.status == Status.NEEDS_REAUTH:
        events.append(XeroConnectionRestored(
            correlation_id=f"connection:{connection_id}",
            causation_id=f"connection:{old.id}",
            connection_id=connection_id,
            tenant_id=UUID(tenant.tenant_id),
            store_ids=[store_id],
        ))
    return events


def _live(row: ConnectionRecord | None, api_key: str | None) -> LiveConnection | None:
    if row is None:
        return None
    key = parse_key(api_key or "")
    presented = (
        key is not None and key.connection_id == row.id and matches(key, row.key_hash)
    )
    return LiveConnection(row.id, presented)


def _view(row: AttemptRecord | None) -> AttemptView | None:
    return None if row is None else row.view


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
