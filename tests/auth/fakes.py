"""Auth's ports in memory: connections, connect attempts, reconnect tokens and store moves
as records, one asyncio lock per connection standing for the advisory lock every replica
shares, an outbox, and Xero's identity endpoints. A unit of work's writes reach the
database only at commit."""

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.auth.domain.connect import Tenant
from services.auth.domain.records import (
    AttemptRecord,
    ConnectionRecord,
    NewAttempt,
    NewConnection,
    ParkedPick,
    PreviousConnection,
    StoreMove,
    TakenPick,
)
from services.auth.domain.tokens import Status, TokenSet
from services.auth.service_layer.unit_of_work import AuthUnitOfWork, LockBusy, Rotation
from shared.contracts.events import Event

LIVE = (Status.ACTIVE, Status.NEEDS_REAUTH)


@dataclass(frozen=True)
class ReconnectToken:
    store_id: str
    expires_at: datetime
    used_at: datetime | None = None


@dataclass
class FakeDatabase:
    rows: dict[UUID, ConnectionRecord] = field(default_factory=dict)
    attempts: dict[str, AttemptRecord] = field(default_factory=dict)
    reconnect_tokens: dict[bytes, ReconnectToken] = field(default_factory=dict)
    moves: list[StoreMove] = field(default_factory=list)
    locks: dict[UUID, asyncio.Lock] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    # Stands for created_at: the order connections were added in.
    added: list[UUID] = field(default_factory=list)

    def live_for_store(self, store_id: str) -> ConnectionRecord | None:
        return next((row for row in self.rows.values()
                     if row.store_id == store_id and row.status in LIVE), None)


class FakeConnections:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[UUID, ConnectionRecord] = {}
        self.moves: list[StoreMove] = []

    def _row(self, connection_id: UUID) -> ConnectionRecord:
        return self.staged.get(connection_id) or self.db.rows[connection_id]

    def _update(self, connection_id: UUID, **values: Any) -> None:
        self.staged[connection_id] = replace(self._row(connection_id), **values)

    def _all(self) -> list[ConnectionRecord]:
        return list((self.db.rows | self.staged).values())

    async def get(self, connection_id: UUID) -> ConnectionRecord | None:
        return self.staged.get(connection_id) or self.db.rows.get(connection_id)

    async def live_for_store(self, store_id: str) -> ConnectionRecord | None:
        return next((row for row in self._all()
                     if row.store_id == store_id and row.status in LIVE), None)

    async def live_id_for_store(self, store_id: str) -> UUID | None:
        live = await self.live_for_store(store_id)
        return live.id if live is not None else None

    async def latest_for_store(self, store_id: str) -> PreviousConnection | None:
        order = self.db.added + [i for i in self.staged if i not in self.db.added]
        mine = [self._row(i) for i in order if self._row(i).store_id == store_id]
        if not mine:
            return None
        return PreviousConnection(mine[-1].id, mine[-1].tenant_id, mine[-1].tenant_name)

    async def add(self, new: NewConnection) -> None:
        if await self.live_for_store(new.store_id) is not None:
            raise AssertionError("connections_live_store: one live connection per store")
        self.staged[new.id] = ConnectionRecord(
            id=new.id, store_id=new.store_id, tenant_id=UUID(new.tenant.tenant_id),
            tenant_name=new.tenant.tenant_name, status=Status.ACTIVE, key_hash=new.key_hash,
            xero_connection_id=new.tenant.xero_connection_id or None,
            auth_event_id=new.auth_event_id, xero_user_id=new.xero_user_id, scope=new.scope,
            access_token_sealed=new.access_token_sealed,
            access_expires_at=new.access_expires_at,
            refresh_token_sealed=new.refresh_token_sealed, replaces=new.replaces)

    async def record_move(self, move: StoreMove) -> None:
        self.moves.append(move)

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        if self._row(connection_id).refresh_first_used_at is None:
            self._update(connection_id, refresh_first_used_at=at)

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None:
        row = self._row(connection_id)
        self._update(
            connection_id, access_token_sealed=rotation.access_token_sealed,
            access_expires_at=rotation.access_expires_at,
            refresh_token_sealed=rotation.refresh_token_sealed, refresh_first_used_at=None,
            previous_refresh_token_sealed=rotation.previous_refresh_token_sealed,
            previous_first_used_at=rotation.previous_first_used_at,
            scope=rotation.scope or row.scope, last_refreshed_at=rotation.at,
            refresh_count=row.refresh_count + 1, refresh_failures=0,
            refresh_not_before=None, last_refresh_error=None)

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None:
        failures = self._row(connection_id).refresh_failures + 1
        self._update(connection_id, refresh_failures=failures, refresh_not_before=not_before,
                     last_refresh_error=error[:500])

    async def mark_needs_reauth(self, connection_id: UUID, reason: str
                                ) -> tuple[str, UUID] | None:
        row = self._row(connection_id)
        if row.status != Status.ACTIVE:
            return None
        self._update(connection_id, status=Status.NEEDS_REAUTH, reauth_reason=reason[:500],
                     **_no_tokens())
        return row.store_id, row.tenant_id

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None:
        self._update(connection_id, **{f"{column}_sealed": value
                                       for column, value in sealed.items()})

    async def end(self, connection_id: UUID, status: str) -> None:
        self._update(connection_id, status=status, **_no_tokens())

    async def stores_sharing_xero_user(self, row: ConnectionRecord) -> list[str]:
        return self._sharing(row, "xero_user_id")

    async def stores_sharing_xero_connection(self, row: ConnectionRecord) -> list[str]:
        return self._sharing(row, "xero_connection_id")

    def _sharing(self, row: ConnectionRecord, column: str) -> list[str]:
        value = getattr(row, column)
        if not value:
            return []
        return sorted(other.store_id for other in self._all()
                      if getattr(other, column) == value and other.id != row.id
                      and other.status in LIVE)

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]:
        return [r.id for r in self.db.rows.values() if r.refresh_token_sealed
                and r.refresh_token_sealed.split(".")[0] != key_id][:limit]

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]:
        due = sorted((r for r in self.db.rows.values() if r.status == Status.ACTIVE
                      and r.last_refreshed_at is not None and r.last_refreshed_at < before
                      and r.refresh_not_before is None),
                     key=lambda r: r.last_refreshed_at or before)
        return [r.id for r in due][:limit]

    async def forget_old_attempts(self, before: datetime) -> int:
        return 0


def _no_tokens() -> dict[str, None]:
    return {"access_token_sealed": None, "access_expires_at": None,
            "refresh_token_sealed": None, "previous_refresh_token_sealed": None}


class FakeAttempts:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[str, AttemptRecord] = {}

    def _all(self) -> list[AttemptRecord]:
        return list((self.db.attempts | self.staged).values())

    def _update(self, attempt: AttemptRecord, **values: Any) -> AttemptRecord:
        self.staged[attempt.id] = changed = replace(attempt, **values)
        return changed

    async def add(self, attempt: NewAttempt) -> None:
        self.staged[attempt.id] = AttemptRecord(**vars(attempt))

    async def get(self, attempt_id: str) -> AttemptRecord | None:
        return self.staged.get(attempt_id) or self.db.attempts.get(attempt_id)

    async def by_state(self, state: str) -> AttemptRecord | None:
        return next((a for a in self._all() if a.state == state), None)

    async def pending(self, store_id: str | None, now: datetime) -> int:
        return sum(1 for a in self._all() if store_id in (None, a.store_id)
                   and a.used_at is None and a.expires_at > now)

    async def bind_browser(self, attempt_id: str, browser_hash: bytes) -> bool:
        attempt = await self.get(attempt_id)
        if attempt is None:
            return False
        bound = self._update(attempt, browser_hash=attempt.browser_hash or browser_hash)
        return bound.browser_hash == browser_hash

    async def consume_state(self, state: str, now: datetime) -> AttemptRecord | None:
        attempt = await self.by_state(state)
        if attempt is None or attempt.used_at is not None or attempt.expires_at <= now:
            return None
        return self._update(attempt, used_at=now)

    async def set_outcome(self, attempt_id: str, outcome: str) -> None:
        attempt = await self.get(attempt_id)
        if attempt is not None:
            self._update(attempt, outcome=outcome[:200])

    async def park_for_pick(self, attempt_id: str, pick_id: str, tokens_sealed: str,
                            tenants: list[Tenant], expires_at: datetime) -> None:
        attempt = await self.get(attempt_id)
        assert attempt is not None
        self._update(attempt, pick_id=pick_id, pending_tokens_sealed=tokens_sealed,
                     pending_tenants=tuple(tenants), pick_expires_at=expires_at,
                     outcome="picking")

    def _parked(self, pick_id: str, now: datetime) -> AttemptRecord | None:
        return next((a for a in self._all() if a.pick_id == pick_id
                     and a.pick_expires_at is not None and a.pick_expires_at > now), None)

    async def parked_pick(self, pick_id: str, now: datetime) -> ParkedPick | None:
        a = self._parked(pick_id, now)
        if a is None:
            return None
        return ParkedPick(a.id, a.store_id, a.proved_connection_id, a.browser_hash,
                          a.pending_tenants)

    async def take_pick(self, pick_id: str, now: datetime) -> TakenPick | None:
        a = self._parked(pick_id, now)
        if a is None:
            return None
        self._update(a, pick_id=None, pending_tokens_sealed=None, outcome="picked")
        return TakenPick(a.id, a.store_id, a.scenario, a.proof, a.proved_connection_id,
                         a.pending_tokens_sealed)


class FakeReconnectTokens:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[bytes, ReconnectToken] = {}

    async def issue(self, token_hash: bytes, store_id: str, expires_at: datetime) -> None:
        for hashed, token in (self.db.reconnect_tokens | self.staged).items():
            if token.store_id == store_id and token.used_at is None:
                self.staged[hashed] = replace(token, used_at=datetime.now(UTC))
        self.staged[token_hash] = ReconnectToken(store_id, expires_at)

    async def use(self, token_hash: bytes, store_id: str, now: datetime) -> bool:
        token = self.staged.get(token_hash) or self.db.reconnect_tokens.get(token_hash)
        if (token is None or token.store_id != store_id or token.used_at is not None
                or token.expires_at <= now):
            return False
        self.staged[token_hash] = replace(token, used_at=now)
        return True


class FakeAuthUnitOfWork(AuthUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__()
        self.db = db

    async def _begin(self) -> None:
        self.connections = self.fake = FakeConnections(self.db)
        self.attempts = self.fake_attempts = FakeAttempts(self.db)
        self.reconnect_tokens = self.fake_tokens = FakeReconnectTokens(self.db)

    async def _end(self) -> None:
        pass

    async def _commit(self, events: list[Event]) -> None:
        self.db.added += [i for i in self.fake.staged if i not in self.db.rows]
        self.db.rows |= self.fake.staged
        self.db.moves += self.fake.moves
        self.db.attempts |= self.fake_attempts.staged
        self.db.reconnect_tokens |= self.fake_tokens.staged
        self.db.outbox += events
        self._drop_staged()

    async def rollback(self) -> None:
        self._new_events = []
        self._drop_staged()

    def _drop_staged(self) -> None:
        self.fake.staged, self.fake.moves = {}, []
        self.fake_attempts.staged = {}
        self.fake_tokens.staged = {}

    @contextlib.asynccontextmanager
    async def refresh_lock(self, connection_id: UUID, wait_s: float) -> AsyncIterator[None]:
        lock = self.db.locks.setdefault(connection_id, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), wait_s)
        except TimeoutError as exc:
            raise LockBusy(str(connection_id)) from exc
        try:
            yield
        finally:
            lock.release()


@dataclass
class FakeXero:
    """Xero's identity endpoints as auth meets them: each refresh token works once; what
    `answers` holds for a token or code (an exception) is raised instead. A code's
    tokens carry `claims` in an unsigned JWT; `/connections` lists `tenants`."""

    issued: int = 0
    spent: list[str] = field(default_factory=list)
    answers: dict[str, BaseException] = field(default_factory=dict)
    now: datetime | None = None
    revoked: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    tenants: list[Tenant] = field(default_factory=list)
    claims: dict[str, str] = field(default_factory=dict)
    codes: list[tuple[str, str]] = field(default_factory=list)

    async def refresh(self, refresh_token: str) -> TokenSet:
        self.spent.append(refresh_token)
        if refresh_token in self.answers:
            raise self.answers.pop(refresh_token)
        return self._tokens()

    def _tokens(self) -> TokenSet:
        self.issued += 1
        assert self.now is not None
        return TokenSet(f"access-{self.issued}", f"refresh-{self.issued}",
                        self.now + timedelta(minutes=30), "accounting.transactions")

    async def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)

    async def delete_connection(self, access_token: str, xero_connection_id: str) -> None:
        self.removed.append(xero_connection_id)

    async def authorization_url(self, state: str, code_verifier: str,
                                redirect_uri: str) -> str:
        return f"https://login.xero.test/authorize?state={state}"

    async def exchange_code(self, code: str, code_verifier: str,
                            redirect_uri: str) -> TokenSet:
        self.codes.append((code, code_verifier))
        if code in self.answers:
            raise self.answers.pop(code)
        tokens = self._tokens()
        return replace(tokens, access_token=_unsigned_jwt(self.claims, tokens.access_token))

    async def connections(self, access_token: str) -> list[Tenant]:
        return list(self.tenants)


def _unsigned_jwt(claims: dict[str, str], jti: str) -> str:
    def part(value: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims | {'jti': jti})}."
