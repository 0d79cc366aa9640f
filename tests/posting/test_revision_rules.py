"""A day's revisions (services/posting/domain/revisions.py), against a model of the rule:
any sequence of closes, amendments, redeliveries, outcomes and repeats, in batches."""

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.posting.domain.model import (
    Posting,
    State,
    failed,
    give_up_error,
    succeeded,
    superseded_error,
)
from services.posting.domain.revisions import Recorded, RecordingPlan
from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    StoreTotalsClosed,
)
from tests.posting.conftest import DAY, Store, day_event
from tests.posting.fakes import FakeRecording
from tests.support.examples import examples

STORE = Store("store-1", uuid.uuid4(), uuid.uuid4())
revisions = st.integers(1, 4)


@dataclass(frozen=True)
class Known:
    """The model's view of one recorded revision."""

    state: State
    event_id: uuid.UUID
    settled: bool
    journal: bool = False
    retryable: bool = False
    # In the table before the batch being recorded (not only planned by it).
    stored: bool = True


class Revisions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.table = FakeRecording()
        self.model: dict[int, Known] = {}
        self.expected_events = 0

    # --- the model of the rule ---

    def expect(self, event: StoreTotalsClosed, reopened: dict[int, State],
               superseded: set[int]) -> Recorded:
        known = self.model.get(event.revision)
        if known is not None:
            if not known.settled:
                return Recorded.ALREADY_PENDING
            if (known.state is State.FAILED and not known.journal
                    and known.event_id != event.event_id):
                # Pending for the rest of its batch; how it starts once the batch is done.
                reopened[event.revision] = (State.IN_FLIGHT if known.retryable
                                            else State.PENDING)
                self.model[event.revision] = Known(State.PENDING, event.event_id, False)
                return Recorded.REOPENED
            self.expected_events += 1
            return Recorded.REPUBLISHED
        if self.model and max(self.model) > event.revision:
            self.model[event.revision] = Known(State.SUPERSEDED, event.event_id, True,
                                               stored=False)
            self.expected_events += 1
            return Recorded.SUPERSEDED
        for revision, older in list(self.model.items()):
            if older.state is State.PENDING:
                # A stored revision's outcome is written with the batch: until then a
                # repeat of it in the batch finds it still on its way.
                self.model[revision] = replace(older, state=State.SUPERSEDED,
                                               settled=not older.stored)
                superseded.add(revision)
                reopened.pop(revision, None)  # superseded before it was reopened
                self.expected_events += 1
        self.model[event.revision] = Known(State.PENDING, event.event_id, False, stored=False)
        return Recorded.NEW

    # --- what happens to a day ---

    @rule(batch=st.lists(st.tuples(revisions, st.booleans()), min_size=1, max_size=4))
    def closes(self, batch: list[tuple[int, bool]]) -> None:
        """Events of the day; `again`: the broker delivering a recorded event again."""
        events = []
        for revision, again in batch:
            event = day_event(STORE, DAY, revision)
            known = self.model.get(revision)
            if again and known is not None:
                event = event.model_copy(update={"event_id": known.event_id})
            events.append(event)
        reopened: dict[int, State] = {}
        superseded: set[int] = set()
        expected = [self.expect(e, reopened, superseded) for e in events]
        for revision, state in reopened.items():
            self.model[revision] = replace(self.model[revision], state=state)
        for revision in superseded:
            self.model[revision] = replace(self.model[revision], settled=True)
        self.model = {revision: replace(known, stored=True)
                      for revision, known in self.model.items()}
        assert self.table.record(events) == expected

    @rule(revision=revisions, how=st.sampled_from(["posted", "failed", "gave-up", "dropped"]))
    def settles(self, revision: int, how: str) -> None:
        """The drain's outcome for a revision on its way."""
        known = self.model.get(revision)
        if known is None or known.settled:
            return
        row = next(r for r in self.table.rows if r["revision"] == revision)
        posting = Posting.of_event(row["event"], row["id"], State.IN_FLIGHT, 1)
        journal_id = uuid.uuid4() if how in ("posted", "dropped") else None
        outcome: GlPostingSucceeded | GlPostingFailed
        if how == "posted":
            assert journal_id is not None
            outcome, state = succeeded(posting, journal_id), State.POSTED
        else:
            error = give_up_error(8, "8 attempts failed", ErrorKind.XERO_UNAVAILABLE) \
                if how == "gave-up" else superseded_error(revision)
            outcome, state = failed(posting, [error]), State.FAILED
        row.update(state=state, outcome=outcome.model_dump_json(), journal_id=journal_id)
        self.model[revision] = Known(state, known.event_id, True, journal_id is not None,
                                     how == "gave-up")

    # --- what always holds ---

    @invariant()
    def the_table_is_the_model(self) -> None:
        rows = self.table.day(STORE.store_id, DAY)
        assert len({r["revision"] for r in rows}) == len(rows)  # one row a revision
        assert {r["revision"]: State(r["state"]) for r in rows} == {
            revision: known.state for revision, known in self.model.items()}

    @invariant()
    def the_newest_revision_is_never_superseded(self) -> None:
        if self.model:
            assert self.model[max(self.model)].state is not State.SUPERSEDED

    @invariant()
    def every_answer_and_every_superseded_revision_says_so(self) -> None:
        assert len(self.table.published) == self.expected_events
        assert all(json.loads(e.model_dump_json())["store_id"] == STORE.store_id
                   for e in self.table.published)


Revisions.TestCase.settings = settings(max_examples=examples(60),
                                       stateful_step_count=10, deadline=None)
test_revisions_of_a_day = Revisions.TestCase


def test_a_redelivered_outcome_is_a_new_event_caused_by_the_duplicate() -> None:
    plan = RecordingPlan()
    first = day_event(STORE, date(2026, 1, 2))
    day = [{"id": 7, "revision": 1, "state": State.POSTED, "event_id": first.event_id,
            "journal_id": uuid.uuid4(),
            "outcome": succeeded(Posting.of_event(first, 7, State.POSTED, 1),
                                 uuid.uuid4()).model_dump_json()}]
    again = first.model_copy(update={"event_id": uuid.uuid4()})
    assert plan.decide(again, day) is Recorded.REPUBLISHED
    (event,) = plan.events
    assert isinstance(event, GlPostingSucceeded) and event.already_posted
    assert event.causation_id == str(again.event_id)
    assert plan.inserts == [] and plan.reopen == [] and plan.supersede == {}


def _failed_row(posting_id: int, event: StoreTotalsClosed) -> dict[str, object]:
    outcome = failed(Posting.of_event(event, posting_id, State.FAILED, 1),
                     [give_up_error(5, "timeout", ErrorKind.XERO_UNAVAILABLE)])
    return {"id": posting_id, "revision": event.revision, "state": State.FAILED,
            "event_id": event.event_id, "journal_id": None,
            "outcome": outcome.model_dump_json()}


def test_a_late_revision_is_recorded_superseded_by_the_newest() -> None:
    plan = RecordingPlan()
    day = [{"id": 3, "revision": 4, "state": State.POSTED, "outcome": "{}"}]
    late = day_event(STORE, DAY, revision=2)
    assert plan.decide(late, day) is Recorded.SUPERSEDED
    ((event, state, outcome),) = plan.inserts
    assert (event, state) == (late, State.SUPERSEDED)
    assert isinstance(outcome, GlPostingFailed) and plan.events == [outcome]
    assert outcome.errors == [superseded_error(4)]
    assert day[-1]["state"] is State.SUPERSEDED and day[-1]["id"] is None


def test_a_new_revision_supersedes_only_the_older_ones_still_pending() -> None:
    plan = RecordingPlan()
    day = [{"id": 6, "revision": 2, "state": State.POSTED, "outcome": "{}"},
           {"id": 5, "revision": 1, "state": State.PENDING, "outcome": None},
           {"id": 7, "revision": 3, "state": State.PENDING, "outcome": None}]
    assert plan.decide(day_event(STORE, DAY, revision=4), day) is Recorded.NEW
    assert plan.supersede == {4: [5, 7]}
    assert [r["state"] for r in day] == [State.POSTED, State.SUPERSEDED, State.SUPERSEDED,
                                         State.PENDING]
    assert plan.events == []


def test_revisions_planned_in_one_batch_supersede_each_other() -> None:
    plan = RecordingPlan()
    day: list[dict[str, object]] = []
    first, second, third = (day_event(STORE, DAY, revision=r) for r in (1, 2, 3))
    for event in (first, second, third):
        assert plan.decide(event, day) is Recorded.NEW
    assert [(e, s) for e, s, _ in plan.inserts] == [
        (first, State.SUPERSEDED), (second, State.SUPERSEDED), (third, State.PENDING)]
    outcomes = [o for _, _, o in plan.inserts]
    assert [o.errors for o in outcomes[:2] if isinstance(o, GlPostingFailed)] == [
        [superseded_error(2)], [superseded_error(3)]]
    assert plan.events == outcomes[:2] and outcomes[2] is None
    # A redelivery of a revision superseded in this batch repeats that outcome.
    assert plan.decide(first, day) is Recorded.REPUBLISHED
    assert isinstance(plan.events[-1], GlPostingFailed)
    assert plan.events[-1].errors == [superseded_error(2)]


def test_only_a_plan_of_new_pending_postings_may_be_written_in_one_statement() -> None:
    """What `Recorder` writes with `record_first_sights`: inserts of pending postings and
    nothing else (a revision superseded in the batch has an outcome to publish)."""
    other = Store("store-2", uuid.uuid4(), uuid.uuid4())
    new_days = RecordingPlan()
    days: dict[str, list[dict[str, object]]] = {STORE.store_id: [], other.store_id: []}
    for store in (STORE, other, STORE):  # the third a duplicate: nothing more to insert
        new_days.decide(day_event(store), days[store.store_id])
    assert new_days.only_new_postings() and len(new_days.inserts) == 2
    superseded_in_batch = RecordingPlan()
    day: list[dict[str, object]] = []
    for revision in (1, 2):
        superseded_in_batch.decide(day_event(STORE, DAY, revision=revision), day)
    assert not superseded_in_batch.only_new_postings()
    assert not RecordingPlan().only_new_postings()


def test_a_failed_day_asked_for_again_is_reopened_as_pending() -> None:
    plan = RecordingPlan()
    first = day_event(STORE, DAY)
    day = [_failed_row(9, first)]
    request = first.model_copy(update={"event_id": uuid.uuid4()})
    assert plan.decide(request, day) is Recorded.REOPENED
    assert [(r.posting_id, r.request, r.state) for r in plan.reopen] == [
        (9, request, State.IN_FLIGHT)]  # it failed retryable: looked up first
    assert (day[0]["state"], day[0]["outcome"], day[0]["event_id"]) == (
        State.PENDING, None, request.event_id)
    assert plan.decide(request, day) is Recorded.ALREADY_PENDING
    assert plan.events == [] and plan.inserts == []
