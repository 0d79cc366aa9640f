"""The token vault over in-memory ports (tests/auth/fakes.py): refresh once for every
caller, needs-reauth, the grace period, cool-downs and keep-alive, with no PostgreSQL."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.auth.adapters.cipher import Cipher
from services.auth.domain.records import ConnectionRecord
from services.auth.domain.tokens import ReauthNeeded, Status, XeroUnavailable
from services.auth.service_layer.keepalive import keep_alive_once
from services.auth.service_layer.ports import InvalidGrant, XeroError
from services.auth.service_layer.vault import Vault, seal_context
from services.auth.settings import AuthSettings
from shared.contracts.events import XeroConnectionNeedsReauth
from tests.auth.fakes import FakeAuthUnitOfWork, FakeDatabase, FakeXero

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def xero() -> FakeXero:
    return FakeXero(now=NOW)


@pytest.fixture
def vault(db: FakeDatabase, xero: FakeXero) -> Vault:
    settings = AuthSettings()
    cipher = Cipher.from_spec(settings.encryption_keys.get_secret_value())
    return Vault(lambda: FakeAuthUnitOfWork(db), cipher, xero, settings, now=lambda: NOW)


def add_connection(db: FakeDatabase, vault: Vault, access_left: timedelta = timedelta(0),
                   **extra: Any) -> uuid.UUID:
    connection_id = uuid.uuid4()

    def seal(column: str, value: str) -> str:
        return vault.cipher.seal(value, seal_context(connection_id, column))

    db.rows[connection_id] = replace(ConnectionRecord(
        id=connection_id, store_id="12", tenant_id=uuid.uuid4(),
        tenant_name="Demo Rentals (US)", key_hash=b"",
        status=Status.ACTIVE, scope="accounting.transactions",
        access_token_sealed=seal("access_token", "access-0"),
        access_expires_at=NOW + access_left,
        refresh_token_sealed=seal("refresh_token", "refresh-0"),
        last_refreshed_at=NOW - timedelta(days=1),
        xero_user_id="user-1", xero_connection_id="xc-1",
    ), **extra)
    db.added.append(connection_id)
    return connection_id


async def test_a_valid_access_token_is_handed_out_without_a_refresh(db, vault, xero):
    connection_id = add_connection(db, vault, access_left=timedelta(hours=1))
    grant = await vault.access_token(connection_id)
    assert grant.access_token == "access-0" and xero.spent == []


async def test_an_expiring_token_is_refreshed_and_the_rotation_kept(db, vault, xero):
    connection_id = add_connection(db, vault)
    grant = await vault.access_token(connection_id)
    assert grant.access_token == "access-1" and xero.spent == ["refresh-0"]
    row = db.rows[connection_id]
    assert vault.cipher.open(row.refresh_token_sealed,
                             seal_context(connection_id, "refresh_token")) == "refresh-1"
    assert row.refresh_count == 1 and row.refresh_first_used_at is None


async def test_callers_at_once_spend_the_refresh_token_once(db, vault, xero):
    connection_id = add_connection(db, vault)
    grants = await asyncio.gather(*(vault.access_token(connection_id) for _ in range(5)))
    assert {g.access_token for g in grants} == {"access-1"}
    assert xero.spent == ["refresh-0"]


async def test_a_refused_refresh_token_marks_the_connection_once(db, vault, xero):
    connection_id = add_connection(db, vault)
    xero.answers["refresh-0"] = InvalidGrant("invalid_grant")
    with pytest.raises(ReauthNeeded):
        await vault.access_token(connection_id)
    with pytest.raises(ReauthNeeded):
        await vault.access_token(connection_id)
    assert db.rows[connection_id].status == Status.NEEDS_REAUTH
    assert db.rows[connection_id].refresh_token_sealed is None
    [event] = db.outbox
    assert isinstance(event, XeroConnectionNeedsReauth)
    assert event.connection_id == connection_id and event.store_ids == ["12"]


async def test_the_previous_token_is_tried_inside_the_grace_period(db, vault, xero):
    connection_id = add_connection(db, vault, previous_first_used_at=NOW - timedelta(minutes=5))
    db.rows[connection_id] = replace(
        db.rows[connection_id], previous_refresh_token_sealed=vault.cipher.seal(
            "refresh-old", seal_context(connection_id, "previous_refresh_token")))
    xero.answers["refresh-0"] = InvalidGrant("invalid_grant")
    grant = await vault.access_token(connection_id)
    assert grant.access_token == "access-1"
    assert xero.spent == ["refresh-0", "refresh-old"]
    assert db.rows[connection_id].status == Status.ACTIVE


async def test_outside_the_grace_period_the_previous_token_is_not_tried(db, vault, xero):
    connection_id = add_connection(db, vault, previous_first_used_at=NOW - timedelta(hours=2))
    db.rows[connection_id] = replace(
        db.rows[connection_id], previous_refresh_token_sealed=vault.cipher.seal(
            "refresh-old", seal_context(connection_id, "previous_refresh_token")))
    xero.answers["refresh-0"] = InvalidGrant("invalid_grant")
    with pytest.raises(ReauthNeeded):
        await vault.access_token(connection_id)
    assert xero.spent == ["refresh-0"]


async def test_a_failed_refresh_pauses_the_connection_and_keeps_the_sent_mark(
        db, vault, xero):
    connection_id = add_connection(db, vault)
    xero.answers["refresh-0"] = XeroError("503")
    with pytest.raises(XeroUnavailable):
        await vault.access_token(connection_id)
    row = db.rows[connection_id]
    assert row.refresh_failures == 1 and row.refresh_not_before > NOW
    assert row.refresh_first_used_at == NOW  # committed before the request left
    with pytest.raises(XeroUnavailable, match="paused"):
        await vault.access_token(connection_id)
    assert xero.spent == ["refresh-0"]


async def test_keep_alive_refreshes_idle_connections_only(db, vault, xero):
    idle = add_connection(db, vault, last_refreshed_at=NOW - timedelta(days=50))
    add_connection(db, vault, last_refreshed_at=NOW - timedelta(days=1))
    assert await keep_alive_once(vault, idle_days=45) == 1
    assert db.rows[idle].last_refreshed_at == NOW
    assert await keep_alive_once(vault, idle_days=45) == 0


async def test_disconnect_releases_at_xero_and_deletes_the_tokens(db, vault, xero):
    connection_id = add_connection(db, vault, access_left=timedelta(hours=1))
    outcome = await vault.disconnect(connection_id)
    assert outcome.removed_at_xero and outcome.revoked_at_xero
    # The refresh token current after any refresh the removal needed is the one revoked.
    assert len(xero.revoked) == 1 and xero.removed == ["xc-1"]
    assert db.rows[connection_id].status == Status.DISCONNECTED
    assert db.rows[connection_id].refresh_token_sealed is None


async def test_disconnect_does_not_revoke_a_grant_another_store_uses(db, vault, xero):
    connection_id = add_connection(db, vault, access_left=timedelta(hours=1))
    add_connection(db, vault, store_id="13", xero_connection_id="xc-2")
    outcome = await vault.disconnect(connection_id)
    assert not outcome.revoked_at_xero and xero.revoked == []
    assert outcome.removed_at_xero
