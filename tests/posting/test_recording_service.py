"""Recording in memory (services/posting/service_layer/recording.py): one unit of work
per batch, its events committed with it or not at all."""

import uuid
from collections.abc import Sequence

import pytest

from services.posting.domain.model import State
from services.posting.domain.revisions import Recorded, RecordingPlan
from services.posting.service_layer.recording import Recorder
from services.posting.service_layer.unit_of_work import Day
from tests.posting.conftest import DAY, Store, day_event
from tests.posting.fakes import FakeDayRevisions, FakeRecording, FakeUnitOfWork

STORE = Store("store-3", uuid.uuid4(), uuid.uuid4())


async def test_a_batch_is_one_unit_of_work_and_its_events_are_committed_with_it() -> None:
    table = FakeRecording()
    uow = FakeUnitOfWork(table)
    recorder = Recorder(lambda: uow)
    assert await recorder.record_many([day_event(STORE, DAY, 2)]) == [Recorded.NEW]
    assert table.published == []
    assert await recorder.record_many([day_event(STORE, DAY, 1)]) == [Recorded.SUPERSEDED]
    assert [type(e).__name__ for e in table.published] == ["GlPostingFailed"]
    assert uow.commits == 2 and uow.collect_new_events() == []
    assert [(r["revision"], r["state"]) for r in table.rows] == [
        (2, State.PENDING), (1, State.SUPERSEDED)]


class _Broken(FakeDayRevisions):
    async def apply(self, plan: RecordingPlan) -> None:
        await super().apply(plan)
        raise ConnectionError("the database went away")


class _GoneBeforeFirstSights(FakeDayRevisions):
    async def record_if_unseen(self, days: Sequence[Day], plan: RecordingPlan) -> bool:
        raise ConnectionError("the database went away")


async def test_a_batch_of_new_days_whose_statement_fails_is_not_recorded() -> None:
    """The one statement of new days (`record_first_sights`) fails whole: the batch is
    neither recorded nor committed, and its deliveries are not acked."""
    table = FakeRecording()
    uow = FakeUnitOfWork(table, _GoneBeforeFirstSights(table))
    with pytest.raises(ConnectionError):
        await Recorder(lambda: uow).record_many([day_event(STORE, DAY, 1)])
    assert table.rows == [] and table.published == [] and uow.commits == 0


async def test_a_batch_that_fails_leaves_nothing_recorded_and_nothing_to_publish() -> None:
    table = FakeRecording()
    await Recorder(lambda: FakeUnitOfWork(table)).record_many([day_event(STORE, DAY, 1)])
    uow = FakeUnitOfWork(table, _Broken(table))
    with pytest.raises(ConnectionError):
        await Recorder(lambda: uow).record_many([day_event(STORE, DAY, 2)])
    assert [(r["revision"], r["state"]) for r in table.rows] == [(1, State.PENDING)]
    assert table.published == [] and uow.collect_new_events() == [] and uow.commits == 0
