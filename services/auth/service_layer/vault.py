"""The token vault: hands out access tokens and refreshes them once for everyone.

Single flight: an asyncio lock per connection inside the process, then a PostgreSQL
advisory lock across processes (released by PostgreSQL itself if the process dies).
After taking the lock the row is read again and the refresh skipped when someone else
already did it. The rotated refresh token is committed before the access token leaves.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prometheus_client import Counter

from services.auth.domain.records import SEALED_COLUMNS, ConnectionRecord
from services.auth.domain.tokens import (
    ReauthNeeded,
    Status,
    TokenSet,
    UnknownConnection,
    XeroUnavailable,
    cooldown,
    must_refresh,
    within_grace,
)
from services.auth.service_layer.ports import (
    CannotOpen,
    InDoubt,
    InvalidGrant,
    Sealer,
    XeroError,
    XeroRefused,
)
from services.auth.service_layer.release import Released, release_at_xero
from services.auth.service_layer.unit_of_work import (
    AuthUnitOfWork,
    LockBusy,
    Rotation,
    UnitOfWorkFactory,
    XeroIdentity,
)
from services.auth.settings import AuthSettings
from shared.contracts.events import XeroConnectionNeedsReauth

log = logging.getLogger(__name__)

REFRESHES = Counter(
    "glbridge_auth_token_refreshes_total",
    "Refreshes auth sent to Xero, by outcome (ok, lost-answer, invalid-grant, failed).",
    ["outcome"],
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccessGrant:
    access_token: str
    expires_at: datetime
    tenant_id: UUID

    def __repr__(self) -> str:
        return f"AccessGrant(tenant_id={self.tenant_id}, expires_at={self.expires_at})"


# What a disconnect did at Xero.
Disconnected = Released


def seal_context(connection_id: UUID, column: str) -> str:
    return f"connections:{connection_id}:{column}"


def open_sealed(cipher: Sealer, row: ConnectionRecord, column: str) -> str:
    """One of the connection's tokens, opened; CannotOpen when it keeps none."""
    sealed = row.sealed(column)
    if sealed is None:
        raise CannotOpen(f"connection {row.id} keeps no {column}")
    return cipher.open(sealed, seal_context(row.id, column))


REAUTH_DETAIL = {
    Status.NEEDS_REAUTH: "Xero refused this connection's refresh token ({reason}): the store "
    "must connect again (open the API Key box: scenario 3) and save the new 2RF: key",
    Status.RETIRED: "this connection was replaced by a newer connect flow for store {store}: "
    "use the store's new 2RF: key",
    Status.DISCONNECTED: "this connection was disconnected: the store must connect again",
}


class Vault:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        cipher: Sealer,
        xero: XeroIdentity,
        settings: AuthSettings,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.uow = uow
        self.cipher = cipher
        self.xero = xero
        self.settings = settings
        self.now = now
        self.min_validity = timedelta(seconds=settings.min_validity_s)
        self._local_locks: dict[UUID, asyncio.Lock] = {}
        self.refreshes = 0  # refreshes this process sent (for tests and metrics)

    async def access_token(
        self, connection_id: UUID, rejected_token: str | None = None
    ) -> AccessGrant:
        grant = self._usable(await self._read(connection_id), rejected_token)
        if grant is not None:
            return grant
        async with self._local_lock(connection_id):
            # Callers queued in this process find the token their predecessor fetched
            # without touching the database lock.
            grant = self._usable(await self._read(connection_id), rejected_token)
            if grant is not None:
                return grant
            async with self._database_lock(connection_id) as uow:
                row = await uow.connections.get(connection_id)
                grant = self._usable(row, rejected_token)  # another process may have refreshed
                if grant is not None:
                    return grant
                assert row is not None
                return await self._refresh(uow, row)

    async def keep_alive(self, connection_id: UUID, refreshed_before: datetime) -> bool:
        """Refreshes a connection nobody used lately, so its refresh token does not expire
        unused (Xero: 60 days). False when another process already did."""
        async with self._refresh_lock(connection_id) as uow:
            row = await uow.connections.get(connection_id)
            if row is None or row.status != Status.ACTIVE:
                return False
            if row.last_refreshed_at is not None and row.last_refreshed_at >= refreshed_before:
                return False
            await self._refresh(uow, row)
            return True

    async def reseal(self, connection_id: UUID) -> bool:
        """Seals a connection's tokens again under the current key (after a key rotation),
        so the old key can be removed from AUTH_ENCRYPTION_KEYS."""
        async with self._refresh_lock(connection_id) as uow:
            row = await uow.connections.get(connection_id)
            if row is None:
                return False
            values = {
                column: self._seal(connection_id, column, self._open(row, column))
                for column in SEALED_COLUMNS
                if (sealed := row.sealed(column))
                and self.cipher.key_id_of(sealed) != self.cipher.current_id
            }
            if values:
                await uow.connections.reseal(connection_id, values)
                await uow.commit()
            return bool(values)

    async def disconnect(self, connection_id: UUID) -> Disconnected:
        """Deletes the connection's tokens (its key stops working), removes its connection
        at Xero and revokes its refresh token, each unless another store depends on it
        (see `release_at_xero`)."""
        async with self._refresh_lock(connection_id) as uow:
            row = await uow.connections.get(connection_id)
            if row is None:
                raise UnknownConnection(str(connection_id))
            outcome = await release_at_xero(
                uow.connections, row, self.xero, lambda column: self._open(row, column))
            await uow.connections.end(connection_id, Status.DISCONNECTED)
            await uow.commit()
            return outcome

    # --- internals ---

    def _usable(self, row: ConnectionRecord | None, rejected_token: str | None
                ) -> AccessGrant | None:
        if row is None:
            raise UnknownConnection()
        status = Status(row.status)
        if status != Status.ACTIVE:
            raise ReauthNeeded(
                REAUTH_DETAIL[status].format(reason=row.reauth_reason, store=row.store_id)
            )
        access = self._open(row, "access_token") if row.access_token_sealed else None
        if must_refresh(
            access, row.access_expires_at, self.now(), self.min_validity, rejected_token
        ):
            return None
        assert access is not None and row.access_expires_at is not None
        return AccessGrant(access, row.access_expires_at, row.tenant_id)

    async def _read(self, connection_id: UUID) -> ConnectionRecord | None:
        async with self.uow() as uow:
            return await uow.connections.get(connection_id)

    def _local_lock(self, connection_id: UUID) -> asyncio.Lock:
        return self._local_locks.setdefault(connection_id, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def _refresh_lock(self, connection_id: UUID) -> AsyncIterator[AuthUnitOfWork]:
        async with self._local_lock(connection_id), self._database_lock(connection_id) as uow:
            yield uow

    @contextlib.asynccontextmanager
    async def _database_lock(self, connection_id: UUID) -> AsyncIterator[AuthUnitOfWork]:
        """A unit of work under the connection's refresh lock (every replica's)."""
        async with self.uow() as uow, contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(
                    uow.refresh_lock(connection_id, self.settings.lock_wait_s))
            except LockBusy as exc:
                raise XeroUnavailable(
                    "another refresh of this connection is still running", retry_after_s=5
                ) from exc
            yield uow

    async def _refresh(self, uow: AuthUnitOfWork, row: ConnectionRecord) -> AccessGrant:
        connection_id = row.id
        now = self.now()
        not_before = row.refresh_not_before
        if not_before is not None and not_before > now:
            raise XeroUnavailable(
                f"refresh paused after {row.refresh_failures} failed attempts "
                f"(last: {row.last_refresh_error})",
                retry_after_s=(not_before - now).total_seconds(),
            )
        current = self._open(row, "refresh_token")
        # Committed before the request leaves: after a crash we know it may be spent.
        await uow.connections.mark_refresh_sent(connection_id, now)
        await uow.commit()
        first_used = row.refresh_first_used_at or now
        try:
            tokens, spent, spent_first_used = await self._rotate(row, current, first_used)
        except InvalidGrant as exc:
            await self._needs_reauth(uow, row, f"invalid_grant: {exc}")
            raise ReauthNeeded(
                REAUTH_DETAIL[Status.NEEDS_REAUTH].format(reason="invalid_grant", store="")
            ) from exc
        except (XeroError, XeroRefused) as exc:
            await self._failed(uow, row, str(exc))
            raise XeroUnavailable(f"could not refresh the Xero token now: {exc}") from exc
        await uow.connections.store_rotation(
            connection_id,
            Rotation(
                access_token_sealed=self._seal(connection_id, "access_token", tokens.access_token),
                access_expires_at=tokens.expires_at,
                refresh_token_sealed=self._seal(
                    connection_id, "refresh_token", tokens.refresh_token
                ),
                previous_refresh_token_sealed=self._seal(
                    connection_id, "previous_refresh_token", spent
                ),
                previous_first_used_at=spent_first_used,
                scope=tokens.scope,
                at=self.now(),
            ),
        )
        await uow.commit()
        log.info("refreshed Xero tokens", extra={"connection_id": str(connection_id)})
        return AccessGrant(tokens.access_token, tokens.expires_at, row.tenant_id)

    async def _rotate(
        self, row: ConnectionRecord, current: str, first_used: datetime
    ) -> tuple[TokenSet, str, datetime | None]:
        """Spends the current refresh token; on invalid_grant falls back to the previous one
        while it is inside Xero's grace period. Returns the tokens and the token spent."""
        try:
            return await self._send(current), current, first_used
        except InvalidGrant:
            previous_first_used = row.previous_first_used_at
            if not row.previous_refresh_token_sealed or not within_grace(
                previous_first_used, self.now()
            ):
                raise
            log.warning("refresh token refused; trying the previous one inside the grace period")
            previous = self._open(row, "previous_refresh_token")
            return await self._send(previous), previous, previous_first_used

    async def _send(self, refresh_token: str) -> TokenSet:
        """One refresh; when the answer is lost, the same token once more: Xero's grace
        period answers a token spent less than 30 minutes ago again."""
        try:
            return await self._send_once(refresh_token)
        except InDoubt as exc:
            REFRESHES.labels("lost-answer").inc()
            log.warning("refresh answer lost (%s): retrying inside the grace period", exc)
            return await self._send_once(refresh_token)

    async def _send_once(self, refresh_token: str) -> TokenSet:
        self.refreshes += 1
        try:
            tokens = await self.xero.refresh(refresh_token)
        except InvalidGrant:
            REFRESHES.labels("invalid-grant").inc()
            raise
        except (XeroError, XeroRefused) as exc:
            if not isinstance(exc, InDoubt):
                REFRESHES.labels("failed").inc()
            raise
        REFRESHES.labels("ok").inc()
        return tokens

    async def _needs_reauth(self, uow: AuthUnitOfWork, row: ConnectionRecord,
                            reason: str) -> None:
        changed = await uow.connections.mark_needs_reauth(row.id, reason)
        if changed is None:
            await uow.rollback()
            return
        store_id, tenant_id = changed
        uow.add_event(
            XeroConnectionNeedsReauth(
                correlation_id=f"connection:{row.id}",
                connection_id=row.id,
                tenant_id=tenant_id,
                store_ids=[store_id],
                reason=reason,
            ),
        )
        await uow.commit()
        log.warning("Xero connection needs a new key", extra={"connection_id": str(row.id)})

    async def _failed(self, uow: AuthUnitOfWork, row: ConnectionRecord, error: str) -> None:
        failures = row.refresh_failures + 1
        pause = cooldown(
            failures, self.settings.refresh_cooldown_s, self.settings.refresh_cooldown_max_s
        )
        await uow.connections.record_failure(row.id, error, self.now() + pause)
        await uow.commit()
        log.warning(
            "refresh failed (%s in a row), pausing %.0f s: %s",
            failures,
            pause.total_seconds(),
            error,
            extra={"connection_id": str(row.id)},
        )

    def _open(self, row: ConnectionRecord, column: str) -> str:
        return open_sealed(self.cipher, row, column)

    def _seal(self, connection_id: UUID, column: str, value: str) -> str:
        return self.cipher.seal(value, seal_context(connection_id, column))
