"""What the rest of the system tells totals about its days: posting outcomes and the
state of a store's Xero connection."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from services.totals.domain.day import (
    DayState,
    DayStatus,
    apply_failed,
    apply_succeeded,
)
from services.totals.domain.records import (
    ACTIVE,
    DayRecord,
    SetupRecord,
    day_correlation_id,
)
from services.totals.service_layer.unit_of_work import (
    DayKey,
    TotalsUnitOfWork,
    UnitOfWorkFactory,
)
from shared.contracts.events import (
    GlPostingFailed,
    GlPostingSucceeded,
    Journal,
    StoreTotalsClosed,
    Trigger,
)

Outcome = GlPostingSucceeded | GlPostingFailed


class Outcomes:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def record(self, events: Sequence[Outcome]) -> list[bool]:
        """Several outcomes at once and without a lock: the days' states read, decided in
        arrival order, and the changed ones written only where the day is still as read.
        A day another writer changed meanwhile is read and decided again. True where a
        day changed."""
        results = [False] * len(events)
        pending = list(range(len(events)))
        async with self.uow() as uow:
            while pending:
                keys = sorted({_key(events[i]) for i in pending})
                read = await uow.days.states_of(keys)
                states = {key: state for key, (state, _) in read.items()}
                changed: dict[DayKey, DayState] = {}
                for i in pending:
                    new = _decide(states.get(_key(events[i])), events[i])
                    if new is not None:
                        states[_key(events[i])] = changed[_key(events[i])] = new
                    results[i] = new is not None
                written = await uow.days.write_states(
                    changed, {key: read[key][1] for key in changed}) if changed else set()
                pending = [i for i in pending if _key(events[i]) in changed.keys() - written]
            await uow.commit()
        return results

    async def mark_connection(self, connection_id: UUID, status: str) -> list[DayRecord]:
        """Records a connection's state for its stores; returns the days it held (a
        connection needing a new key) or released (restored)."""
        async with self.uow() as uow:
            records = await uow.setups.mark_connection(connection_id, status)
            if status == ACTIVE:
                days = await release_held(uow, records)
            else:
                days = await uow.days.hold_pending([r.store_id for r in records])
            await uow.commit()
        return days


async def release_held(uow: TotalsUnitOfWork, records: list[SetupRecord]) -> list[DayRecord]:
    """Sends the days the stores held for a new key (their setups now have a working one)."""
    released = []
    for record in records:
        for day in await uow.days.waiting_for_new_key(record.store_id):
            if day.journal is None:
                continue
            await uow.days.write_state(day.store_id, day.business_date,
                                       _with_status(day.state, DayStatus.PENDING))
            uow.add_event(closed_event(day.store_id, day.business_date, day.state.revision,
                                       day.journal, Trigger(day.trigger or Trigger.END_OF_DAY),
                                       record))
            released.append(day)
    return released


def closed_event(
    store_id: str, business_date: date, revision: int, journal: Journal, trigger: Trigger,
    setup: SetupRecord,
) -> StoreTotalsClosed:
    return StoreTotalsClosed(
        correlation_id=day_correlation_id(store_id, business_date),
        store_id=store_id,
        business_date=business_date,
        revision=revision,
        trigger=trigger,
        connection_id=setup.key.connection_id,
        tenant_id=setup.key.tenant_id,
        journal=journal,
    )


def _key(event: Outcome) -> DayKey:
    return (event.store_id, event.business_date)


def _decide(current: DayState | None, event: Outcome) -> DayState | None:
    if current is None:
        return None
    if isinstance(event, GlPostingSucceeded):
        return apply_succeeded(current, event)
    return apply_failed(current, event)


def _with_status(state: DayState, status: DayStatus) -> DayState:
    return DayState(state.revision, state.fingerprint, status, state.posted_revision,
                    state.journal_id, state.replaced_journal_id, (), None)
