"""What totals keeps about a store and a day, as the service layer and the API see it:
plain values, whatever stores them."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from services.totals.domain.day import DayState
from services.totals.domain.setup import StoreSetup
from shared.contracts.events import Journal

ACTIVE = "active"
NEEDS_REAUTH = "needs-reauth"


def key_hash(api_key: str) -> str:
    """Keys are long random secrets: a plain SHA-256 is enough and cheap per request."""
    return hashlib.sha256(api_key.strip().encode()).hexdigest()


def day_correlation_id(store_id: str, business_date: date) -> str:
    """One id per business day, so one grep follows a day from close to outcome."""
    return f"{store_id}:{business_date.isoformat()}"


@dataclass(frozen=True)
class KeyRecord:
    api_key_hash: str
    connection_id: UUID
    tenant_id: UUID
    tenant_name: str
    connection_status: str


@dataclass(frozen=True)
class SetupRecord:
    store_id: str
    key: KeyRecord
    setup: StoreSetup
    updated_at: datetime

    @property
    def connection_ok(self) -> bool:
        return self.key.connection_status == ACTIVE


@dataclass(frozen=True)
class DayRecord:
    store_id: str
    business_date: date
    state: DayState
    totals: dict[str, Any]
    journal: Journal | None
    trigger: str | None
    closed_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class KeyInfo:
    connection_id: UUID
    tenant_id: UUID
    tenant_name: str
    store_id: str
    status: str  # active | needs-reauth
    # The connection this one replaced after a reconnect auth let happen with proof.
    replaces: UUID | None = None
