"""The ports totals' use cases work through: a unit of work holding the setup and day
repositories. `adapters/unit_of_work.py` keeps them in PostgreSQL; the tests have
in-memory ones."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.totals.domain.day import DayState
from services.totals.domain.records import DayRecord, KeyRecord, SetupRecord
from services.totals.domain.setup import StoreSetup
from shared.contracts.events import Journal, StoreTotalsClosed, Trigger
from shared.unit_of_work import AbstractUnitOfWork

DayKey = tuple[str, date]


class MissingKey(Exception):
    """A first setup without an API key."""


class KeyInUse(Exception):
    """The key is already another store's."""


class ConcurrentClose(Exception):
    """Two first closes of one day raced; the loser runs again and sees the winner's."""


@dataclass(frozen=True)
class FirstClose:
    """A day closed for the first time: its first revision, and the event that posts it
    (None when it is not to be posted)."""

    store_id: str
    business_date: date
    state: DayState
    totals: dict[str, Any]
    journal: Journal | None
    trigger: Trigger
    event: StoreTotalsClosed | None


class FirstCloses(Protocol):
    async def add_first(self, close: FirstClose) -> datetime | None:
        """The day with its event, committed at once on its own (the common case, one
        atomic write). Returns when the day was closed, or None when it was there
        already and nothing was written."""
        ...


class SetupRepository(Protocol):
    async def get(self, store_id: str) -> SetupRecord | None: ...

    async def store_for_key(self, api_key_hash: str) -> str | None: ...

    async def save(self, store_id: str, setup: StoreSetup, key: KeyRecord | None
                   ) -> SetupRecord:
        """Saves the setup (with `key`, the store's key too). MissingKey for a first setup
        without one, KeyInUse for another store's key."""
        ...

    async def mark_connection(self, connection_id: UUID, status: str) -> list[SetupRecord]:
        """Sets the status of the stores on `connection_id`; the stores changed."""
        ...


class DayRepository(Protocol):
    async def get(self, store_id: str, business_date: date) -> DayRecord | None: ...

    async def get_for_update(self, store_id: str, business_date: date) -> DayRecord | None:
        """The day, locked until the unit of work ends: no other writer changes it."""
        ...

    async def write_revision(
        self, store_id: str, business_date: date, state: DayState, totals: dict[str, Any],
        journal: Journal | None, trigger: Trigger, insert: bool,
    ) -> datetime:
        """A new revision (inserted or replacing the day's); when it closes. ConcurrentClose
        when an insert finds the day written meanwhile."""
        ...

    async def write_state(self, store_id: str, business_date: date, state: DayState,
                          trigger: Trigger | None = None) -> None: ...

    async def waiting_for_new_key(self, store_id: str) -> list[DayRecord]:
        """The store's days held for a new key, locked."""
        ...

    async def hold_pending(self, store_ids: list[str]) -> list[DayRecord]:
        """Moves the stores' pending days to waiting-for-new-key; the days moved."""
        ...

    async def states_of(self, keys: list[DayKey]) -> dict[DayKey, tuple[DayState, str]]:
        """Each existing day's state with its version (changed by every write of it)."""
        ...

    async def write_states(self, states: dict[DayKey, DayState],
                           versions: dict[DayKey, str]) -> set[DayKey]:
        """Writes each day still at `versions`' version, at once; the days written."""
        ...


class TotalsUnitOfWork(AbstractUnitOfWork):
    setups: SetupRepository
    days: DayRepository


UnitOfWorkFactory = Callable[[], TotalsUnitOfWork]
