"""Totals' ports in memory: a unit of work whose changes reach the shared `FakeDatabase`
only at commit, with the events committed into its outbox."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from services.totals.domain.day import DayState, DayStatus
from services.totals.domain.records import DayRecord, KeyInfo, KeyRecord, SetupRecord
from services.totals.domain.setup import StoreSetup
from services.totals.service_layer.unit_of_work import (
    ConcurrentClose,
    DayKey,
    FirstClose,
    KeyInUse,
    MissingKey,
    TotalsUnitOfWork,
)
from shared.contracts.events import Event, Journal, Trigger

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


@dataclass
class FakeDatabase:
    setups: dict[str, SetupRecord] = field(default_factory=dict)
    days: dict[DayKey, DayRecord] = field(default_factory=dict)
    versions: dict[DayKey, int] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    commits: int = 0

    def events(self, kind: type[Event]) -> list[Any]:
        return [event for event in self.outbox if isinstance(event, kind)]


class FakeSetups:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[str, SetupRecord] = {}

    def _all(self) -> dict[str, SetupRecord]:
        return self.db.setups | self.staged

    async def get(self, store_id: str) -> SetupRecord | None:
        return self._all().get(store_id)

    async def store_for_key(self, api_key_hash: str) -> str | None:
        return next((s.store_id for s in self._all().values()
                     if s.key.api_key_hash == api_key_hash), None)

    async def save(self, store_id: str, setup: StoreSetup, key: KeyRecord | None
                   ) -> SetupRecord:
        current = self._all().get(store_id)
        if key is None:
            if current is None:
                raise MissingKey(store_id)
            key = current.key
        owner = await self.store_for_key(key.api_key_hash)
        if owner not in (None, store_id):
            raise KeyInUse(store_id)
        record = SetupRecord(store_id, key, setup, NOW)
        self.staged[store_id] = record
        return record

    async def mark_connection(self, connection_id: UUID, status: str) -> list[SetupRecord]:
        changed = [replace(s, key=replace(s.key, connection_status=status))
                   for s in self._all().values() if s.key.connection_id == connection_id]
        self.staged |= {s.store_id: s for s in changed}
        return changed


class FakeFirstCloses:
    """Writes a first close straight into the database, as its one statement commits."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def add_first(self, close: FirstClose) -> datetime | None:
        key = (close.store_id, close.business_date)
        if key in self.db.days:
            return None
        self.db.days[key] = DayRecord(close.store_id, close.business_date, close.state,
                                      close.totals, close.journal, close.trigger.value, NOW,
                                      NOW)
        self.db.versions[key] = self.db.versions.get(key, 0) + 1
        self.db.outbox += [close.event] if close.event is not None else []
        return NOW


class FakeDays:
    def __init__(self, db: FakeDatabase, uow: "FakeTotalsUnitOfWork") -> None:
        self.db = db
        self.uow = uow
        self.staged: dict[DayKey, DayRecord] = {}
        self.locked: set[DayKey] = set()

    def _all(self) -> dict[DayKey, DayRecord]:
        return self.db.days | self.staged

    async def get(self, store_id: str, business_date: date) -> DayRecord | None:
        return self._all().get((store_id, business_date))

    async def get_for_update(self, store_id: str, business_date: date) -> DayRecord | None:
        self.locked.add((store_id, business_date))
        return await self.get(store_id, business_date)

    async def write_revision(
        self, store_id: str, business_date: date, state: DayState, totals: dict[str, Any],
        journal: Journal | None, trigger: Trigger, insert: bool,
    ) -> datetime:
        key = (store_id, business_date)
        if insert and key in self._all():
            raise ConcurrentClose(store_id, business_date)
        self.staged[key] = DayRecord(store_id, business_date, state, totals, journal,
                                     trigger.value, NOW, NOW)
        return NOW

    async def write_state(self, store_id: str, business_date: date, state: DayState,
                          trigger: Trigger | None = None) -> None:
        day = self._all()[(store_id, business_date)]
        self.staged[(store_id, business_date)] = replace(
            day, state=state, trigger=trigger.value if trigger else day.trigger)

    async def waiting_for_new_key(self, store_id: str) -> list[DayRecord]:
        return [d for d in self._all().values() if d.store_id == store_id
                and d.state.status == DayStatus.WAITING_FOR_NEW_KEY]

    async def hold_pending(self, store_ids: list[str]) -> list[DayRecord]:
        held = [replace(d, state=replace(d.state, status=DayStatus.WAITING_FOR_NEW_KEY))
                for d in self._all().values()
                if d.store_id in store_ids and d.state.status == DayStatus.PENDING]
        self.staged |= {(d.store_id, d.business_date): d for d in held}
        return held

    async def states_of(self, keys: list[DayKey]) -> dict[DayKey, tuple[DayState, str]]:
        return {key: (self.db.days[key].state, str(self.db.versions[key]))
                for key in keys if key in self.db.days}

    async def write_states(self, states: dict[DayKey, DayState],
                           versions: dict[DayKey, str]) -> set[DayKey]:
        """At once, like the one statement it stands for."""
        written = {key for key in states if str(self.db.versions.get(key)) == versions[key]}
        for key in written:
            self.db.days[key] = replace(self.db.days[key], state=states[key])
            self.db.versions[key] += 1
        return written


class FakeTotalsUnitOfWork(TotalsUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__()
        self.db = db
        self.committed = False

    async def _begin(self) -> None:
        self.setups = self.fake_setups = FakeSetups(self.db)
        self.days = self.fake_days = FakeDays(self.db, self)

    async def _end(self) -> None:
        pass

    async def _commit(self, events: list[Event]) -> None:
        self.db.setups |= self.fake_setups.staged
        for key, day in self.fake_days.staged.items():
            self.db.days[key] = day
            self.db.versions[key] = self.db.versions.get(key, 0) + 1
        self.db.outbox += events
        self.db.commits += 1
        self.committed = True
        self.fake_setups.staged, self.fake_days.staged = {}, {}

    async def rollback(self) -> None:
        self._new_events = []
        self.fake_setups.staged, self.fake_days.staged = {}, {}


@dataclass
class FakeAuth:
    """What auth would answer for each key."""

    keys: dict[str, KeyInfo] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def verify_key(self, api_key: str) -> KeyInfo | None:
        self.asked.append(api_key)
        return self.keys.get(api_key)
