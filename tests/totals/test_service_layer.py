"""Totals' use cases over in-memory ports (tests/totals/fakes.py): no PostgreSQL, no
broker. What reaches the outbox is what the relay would publish."""

import uuid
from datetime import date

import pytest
from pydantic import SecretStr

from services.totals.domain.day import DayStatus
from services.totals.domain.examples import example_store_setup, example_totals
from services.totals.domain.journal import TotalsRefused
from services.totals.domain.records import ACTIVE, NEEDS_REAUTH, KeyInfo, KeyRecord, key_hash
from services.totals.service_layer.days import (
    DayNotFound,
    KeyReplacementRefused,
    NotAuthenticated,
    SetupRefused,
    TotalsService,
    WrongStore,
)
from services.totals.service_layer.outcomes import Outcomes
from services.totals.service_layer.unit_of_work import UnitOfWorkFactory
from shared.contracts.events import (
    ErrorKind,
    PostingError,
    StoreTotalsClosed,
    Trigger,
)
from shared.contracts.pos import PosReprintRequested, PosRequestRefused
from shared.contracts.pos import Problem as PosProblem
from tests.totals.fakes import (
    FakeAuth,
    FakeDatabase,
    FakeFirstCloses,
    FakeTotalsUnitOfWork,
)
from tests.totals.support import failed, succeeded

DAY = date(2026, 11, 27)
CONNECTION = uuid.uuid4()
TENANT = uuid.uuid4()


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow(db: FakeDatabase) -> UnitOfWorkFactory:
    return lambda: FakeTotalsUnitOfWork(db)


@pytest.fixture
def auth() -> FakeAuth:
    return FakeAuth()


@pytest.fixture
def service(uow: UnitOfWorkFactory, db: FakeDatabase, auth: FakeAuth) -> TotalsService:
    return TotalsService(uow, FakeFirstCloses(db), auth)


def new_key(auth: FakeAuth, store_id: str, connection_id: uuid.UUID = CONNECTION,
            replaces: uuid.UUID | None = None, status: str = "active") -> str:
    key = "2RF:" + uuid.uuid4().hex
    auth.keys[key] = KeyInfo(connection_id, TENANT, "Demo Rentals (US)", store_id, status,
                             replaces)
    return key


async def add_store(service: TotalsService, auth: FakeAuth, store_id: str = "12",
                    auto_post: bool = True) -> str:
    key = new_key(auth, store_id)
    await service.save_setup(store_id, example_store_setup(auto_post), SecretStr(key))
    return key


async def close(service: TotalsService, key: str, store_id: str = "12", scale: int = 1,
                day: date = DAY) -> str:
    setup = await service.authenticate(store_id, key)
    return (await service.close(setup, day, example_totals(scale))).decision.outcome


# --- setup and keys -----------------------------------------------------------------


async def test_a_first_setup_keeps_only_the_hash_of_its_key(service, auth, db):
    key = await add_store(service, auth)
    record = db.setups["12"]
    assert record.key.api_key_hash == key_hash(key)
    assert record.key.connection_id == CONNECTION and record.connection_ok


async def test_a_first_setup_without_a_key_is_refused(service, db):
    with pytest.raises(SetupRefused) as refused:
        await service.save_setup("12", example_store_setup(), None)
    assert refused.value.problems[0].kind == "missing"
    assert db.setups == {}


async def test_a_key_that_is_not_a_2rf_key_is_refused_before_asking_auth(service, auth):
    with pytest.raises(SetupRefused) as refused:
        await service.save_setup("12", example_store_setup(), SecretStr("oauth1-token"))
    assert refused.value.problems[0].kind == "invalid"
    assert auth.asked == []


async def test_a_key_auth_does_not_know_is_refused(service, db):
    with pytest.raises(SetupRefused) as refused:
        await service.save_setup("12", example_store_setup(), SecretStr("2RF:made-up"))
    assert refused.value.problems[0].kind == "unknown-key"
    assert db.setups == {}


async def test_a_key_issued_for_another_store_is_refused(service, auth):
    key = new_key(auth, "13")
    with pytest.raises(SetupRefused) as refused:
        await service.save_setup("12", example_store_setup(), SecretStr(key))
    assert refused.value.problems[0].kind == "wrong-store"


async def test_a_key_already_saved_for_another_store_is_refused(service, auth, db):
    key = await add_store(service, auth, "12")
    auth.keys[key] = KeyInfo(CONNECTION, TENANT, "Demo", "13", "active")
    with pytest.raises(SetupRefused) as refused:
        await service.save_setup("13", example_store_setup(), SecretStr(key))
    assert refused.value.problems[0].kind == "key-in-use"
    assert "13" not in db.setups


async def test_a_new_key_without_proof_does_not_replace_the_stores_key(service, auth, db):
    key = await add_store(service, auth)
    stranger = new_key(auth, "12", connection_id=uuid.uuid4())
    with pytest.raises(KeyReplacementRefused):
        await service.save_setup("12", example_store_setup(), SecretStr(stranger))
    assert db.setups["12"].key.api_key_hash == key_hash(key)


async def test_the_current_key_in_the_header_lets_a_new_key_replace_it(service, auth, db):
    key = await add_store(service, auth)
    replacement = new_key(auth, "12", connection_id=uuid.uuid4())
    await service.save_setup("12", example_store_setup(), SecretStr(replacement),
                             presented_key=key)
    assert db.setups["12"].key.api_key_hash == key_hash(replacement)
    assert await service.authenticate("12", replacement)
    with pytest.raises(NotAuthenticated):
        await service.authenticate("12", key)


async def test_the_operator_may_replace_a_stores_key(service, auth, db):
    await add_store(service, auth)
    replacement = new_key(auth, "12", connection_id=uuid.uuid4())
    await service.save_setup("12", example_store_setup(), SecretStr(replacement),
                             by_operator=True)
    assert db.setups["12"].key.api_key_hash == key_hash(replacement)


async def test_a_key_whose_connection_replaced_the_stores_may_replace_it(service, auth, db):
    await add_store(service, auth)
    reconnected = new_key(auth, "12", connection_id=uuid.uuid4(), replaces=CONNECTION)
    await service.save_setup("12", example_store_setup(), SecretStr(reconnected))
    assert db.setups["12"].key.api_key_hash == key_hash(reconnected)


async def test_a_setup_change_without_a_key_keeps_the_key(service, auth, db):
    key = await add_store(service, auth)
    await service.save_setup("12", example_store_setup(auto_post=False), None)
    assert db.setups["12"].key.api_key_hash == key_hash(key)
    assert db.setups["12"].setup.auto_post is False


async def test_a_saved_setup_is_not_served_from_the_cache(service, auth):
    key = await add_store(service, auth)
    assert (await service.authenticate("12", key)).setup.auto_post is True
    await service.save_setup("12", example_store_setup(auto_post=False), None)
    assert (await service.authenticate("12", key)).setup.auto_post is False


# --- authentication -----------------------------------------------------------------


@pytest.mark.parametrize("presented", [None, "", "   "])
async def test_no_key_is_not_authenticated(service, presented):
    with pytest.raises(NotAuthenticated, match="required"):
        await service.authenticate("12", presented)


async def test_another_stores_key_is_forbidden(service, auth):
    key = await add_store(service, auth, "12")
    with pytest.raises(WrongStore):
        await service.authenticate("13", key)


async def test_an_unknown_key_gets_the_same_answer_whether_the_store_exists_or_not(
        service, auth):
    await add_store(service, auth, "12")
    with pytest.raises(NotAuthenticated) as existing:
        await service.authenticate("12", "2RF:nobodys")
    with pytest.raises(NotAuthenticated) as missing:
        await service.authenticate("77", "2RF:nobodys")
    assert str(existing.value) == str(missing.value)


async def test_a_message_signed_with_the_stores_key_opens_only_that_store(service, auth):
    key = await add_store(service, auth, "12")
    other = await add_store(service, auth, "13")
    signed = PosReprintRequested.signed(key, store_id="12", business_date=DAY)
    assert (await service.authenticate_signed("12", signed.signed_by)).store_id == "12"
    by_other = PosReprintRequested.signed(other, store_id="12", business_date=DAY)
    answers = []
    for store, message in (("12", by_other), ("13", signed), ("77", signed)):
        with pytest.raises(NotAuthenticated) as refused:
            await service.authenticate_signed(store, message.signed_by)
        answers.append(str(refused.value))
    assert len(set(answers)) == 1  # the same answer whether the store exists or not


# --- closing ------------------------------------------------------------------------


async def test_a_first_close_commits_the_day_and_its_event_together(service, auth, db):
    key = await add_store(service, auth)
    assert await close(service, key) == "closed"
    day = db.days[("12", DAY)]
    assert day.state.status == DayStatus.PENDING and day.state.revision == 1
    [event] = db.events(StoreTotalsClosed)
    assert (event.store_id, event.business_date, event.revision) == ("12", DAY, 1)
    assert event.connection_id == CONNECTION and event.trigger == Trigger.END_OF_DAY
    assert event.correlation_id == "12:2026-11-27"
    assert event.journal == day.journal


async def test_the_same_totals_again_change_nothing_and_publish_nothing(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    commits = db.commits
    assert await close(service, key) == "unchanged"
    assert len(db.events(StoreTotalsClosed)) == 1
    assert db.commits == commits


async def test_new_totals_amend_the_day_as_a_new_revision(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    assert await close(service, key, scale=2) == "amended"
    assert db.days[("12", DAY)].state.revision == 2
    assert [e.revision for e in db.events(StoreTotalsClosed)] == [1, 2]


async def test_a_store_without_auto_post_keeps_the_day_unposted(service, auth, db):
    key = await add_store(service, auth, auto_post=False)
    assert await close(service, key) == "closed"
    assert db.days[("12", DAY)].state.status == DayStatus.NOT_POSTED
    assert db.events(StoreTotalsClosed) == []


async def test_a_store_whose_connection_needs_a_new_key_holds_the_day(service, auth, db):
    key = await add_store(service, auth)
    await Outcomes(service.uow).mark_connection(CONNECTION, NEEDS_REAUTH)
    service.setups.clear()
    await close(service, key)
    assert db.days[("12", DAY)].state.status == DayStatus.WAITING_FOR_NEW_KEY
    assert db.events(StoreTotalsClosed) == []


async def test_a_close_that_loses_a_race_decides_again_against_the_winner(
        service, auth, db, uow):
    key = await add_store(service, auth)
    setup = await service.authenticate("12", key)
    built = service.build(setup, example_totals())
    body = example_totals().model_dump(mode="json")
    # The winner's first close lands between this close's read and its insert.
    loser = uow()
    async with loser:
        assert await loser.days.get_for_update("12", DAY) is None
        await service.close(setup, DAY, example_totals())
        with pytest.raises(Exception, match="12"):
            await loser.days.write_revision("12", DAY, db.days[("12", DAY)].state, body,
                                            None, Trigger.END_OF_DAY, insert=True)
    result = await service.close_built(setup, DAY, body, built, Trigger.END_OF_DAY)
    assert result[0].outcome == "unchanged"
    assert len(db.events(StoreTotalsClosed)) == 1


async def test_refused_totals_leave_no_day(service, auth, db):
    key = await add_store(service, auth)
    setup = await service.authenticate("12", key)
    totals = example_totals().model_copy(update={"tenders": []})
    with pytest.raises(TotalsRefused):
        await service.close(setup, DAY, totals)
    assert db.days == {} and db.outbox == []


# --- reprint ------------------------------------------------------------------------


async def test_a_reprint_of_a_day_never_closed_is_not_found(service, auth):
    key = await add_store(service, auth)
    setup = await service.authenticate("12", key)
    with pytest.raises(DayNotFound):
        await service.reprint(setup, DAY, post_to_xero=False)


async def test_a_reprint_without_posting_changes_nothing(service, auth, db):
    key = await add_store(service, auth, auto_post=False)
    await close(service, key)
    setup = await service.authenticate("12", key)
    result = await service.reprint(setup, DAY, post_to_xero=False)
    assert result.post is None and result.day.state.status == DayStatus.NOT_POSTED
    assert db.outbox == []


async def test_a_reprint_with_post_sends_an_unposted_day(service, auth, db):
    key = await add_store(service, auth, auto_post=False)
    await close(service, key)
    setup = await service.authenticate("12", key)
    result = await service.reprint(setup, DAY, post_to_xero=True)
    assert result.post is not None and result.post.outcome == "queued"
    assert result.day.state.status == DayStatus.PENDING
    [event] = db.events(StoreTotalsClosed)
    assert event.trigger == Trigger.MANUAL_REPRINT and event.revision == 1


async def test_a_reprint_with_post_of_a_posted_day_sends_nothing(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    [closed] = db.events(StoreTotalsClosed)
    await Outcomes(service.uow).record([succeeded(closed)])
    setup = await service.authenticate("12", key)
    result = await service.reprint(setup, DAY, post_to_xero=True)
    assert result.post is not None and result.post.outcome == "already-posted"
    assert len(db.events(StoreTotalsClosed)) == 1


async def test_the_consolidated_store_is_never_posted(service, auth):
    key = await add_store(service, auth, "999")
    setup = await service.authenticate("999", key)
    with pytest.raises(TotalsRefused):
        await service.reprint(setup, DAY, post_to_xero=True)


# --- outcomes and connections -------------------------------------------------------


async def test_a_success_marks_the_day_posted_once(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    [closed] = db.events(StoreTotalsClosed)
    posted = succeeded(closed)
    outcomes = Outcomes(service.uow)
    assert await outcomes.record([posted, posted]) == [True, False]
    state = db.days[("12", DAY)].state
    assert state.status == DayStatus.POSTED and state.journal_id == posted.journal_id


async def test_outcomes_of_several_days_are_applied_in_arrival_order(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    await close(service, key, day=date(2026, 11, 28))
    first, second = db.events(StoreTotalsClosed)
    error = PostingError(kind=ErrorKind.BANK_ACCOUNT, category="cash", account_code="090",
                         message="090 is a bank account")
    results = await Outcomes(service.uow).record(
        [failed(first, [error]), succeeded(first), succeeded(second)])
    assert results == [True, True, True]
    assert db.days[("12", DAY)].state.status == DayStatus.POSTED


async def test_an_outcome_for_a_day_totals_does_not_know_changes_nothing(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    [closed] = db.events(StoreTotalsClosed)
    stranger = closed.model_copy(update={"store_id": "55"})
    assert await Outcomes(service.uow).record([succeeded(stranger)]) == [False]


async def test_needs_reauth_holds_pending_days_and_restored_sends_them(service, auth, db):
    key = await add_store(service, auth)
    await close(service, key)
    outcomes = Outcomes(service.uow)
    held = await outcomes.mark_connection(CONNECTION, NEEDS_REAUTH)
    assert [d.business_date for d in held] == [DAY]
    assert db.days[("12", DAY)].state.status == DayStatus.WAITING_FOR_NEW_KEY
    assert db.setups["12"].key.connection_status == NEEDS_REAUTH
    released = await outcomes.mark_connection(CONNECTION, ACTIVE)
    assert [d.business_date for d in released] == [DAY]
    assert db.days[("12", DAY)].state.status == DayStatus.PENDING
    assert [e.revision for e in db.events(StoreTotalsClosed)] == [1, 1]


async def test_news_of_an_old_connection_leaves_a_store_on_a_new_one_alone(service, auth, db):
    await add_store(service, auth)
    other = uuid.uuid4()
    assert await Outcomes(service.uow).mark_connection(other, NEEDS_REAUTH) == []
    assert db.setups["12"].key.connection_status == ACTIVE


async def test_a_new_key_sends_the_days_held_for_one(service, auth, db):
    key = await add_store(service, auth)
    await Outcomes(service.uow).mark_connection(CONNECTION, NEEDS_REAUTH)
    service.setups.clear()
    await close(service, key)
    assert db.events(StoreTotalsClosed) == []
    reconnected = new_key(auth, "12", connection_id=uuid.uuid4(), replaces=CONNECTION)
    await service.save_setup("12", example_store_setup(), SecretStr(reconnected))
    [event] = db.events(StoreTotalsClosed)
    assert event.connection_id == auth.keys[reconnected].connection_id
    assert db.days[("12", DAY)].state.status == DayStatus.PENDING


def _refusal() -> PosRequestRefused:
    return PosRequestRefused(correlation_id="12:2026-11-27", causation_id=str(uuid.uuid4()),
                             store_id="12", business_date=DAY, request_type="pos-day-closed",
                             problems=[PosProblem(loc=["api_key"], type="unauthorized",
                                                  message="no key")])


async def test_a_refusal_is_published_through_the_outbox(service, db):
    refusal = _refusal()
    await service.publish(refusal)
    assert db.outbox == [refusal]


async def test_a_unit_of_work_left_without_commit_keeps_nothing(uow, db):
    async with uow() as work:
        await work.setups.save("12", example_store_setup(), KeyRecord(
            "hash", CONNECTION, TENANT, "Demo", ACTIVE))
        work.add_event(_refusal())
    assert db.setups == {} and db.outbox == []
