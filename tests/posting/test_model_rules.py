"""A posting and what it sends and says, pure: the ManualJournal body Xero takes
(developer.xero.com api/accounting/manualjournals; `ManualJournal` in Xero's accounting
OpenAPI spec), each outcome's day, and the manager's messages."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

from services.posting.domain.model import (
    Posting,
    State,
    amendment_refused_error,
    failed,
    give_up_error,
    journal_payload,
    narration_of,
    succeeded,
    superseded_error,
    total,
    unvoided_error,
)
from shared.contracts.events import (
    ErrorKind,
    Journal,
    JournalLine,
    JournalStatus,
    PostingError,
    Tracking,
    money,
)
from tests.posting.conftest import DAY, Store, day_event

STORE = Store("store-1", uuid4(), uuid4())


def posting(revision: int = 1) -> Posting:
    return Posting.of_event(day_event(STORE, DAY, revision), 11, State.PENDING, 0)


def test_only_posted_failed_and_superseded_are_settled() -> None:
    assert {s for s in State if s.settled} == {State.POSTED, State.FAILED, State.SUPERSEDED}


def test_a_journal_is_sent_as_xeros_manual_journal() -> None:
    journal = Journal(
        narration="ignored here", reference="r", date=date(2026, 11, 24),
        status=JournalStatus.DRAFT, line_amount_types="Exclusive",
        lines=[
            JournalLine(category="cash", account_code="1210", amount=money("115.00"),
                        description="Cash", tracking=[Tracking(name="Region", option="N")]),
            JournalLine(category="rental", account_code="4000", amount=money("-100.00"),
                        tax_type="OUTPUT2"),
        ])
    assert journal_payload(journal, "Store 1 [glb:1]") == {
        "Narration": "Store 1 [glb:1]",
        "Date": "2026-11-24",
        "Status": "DRAFT",
        "LineAmountTypes": "Exclusive",
        "JournalLines": [
            {"LineAmount": Decimal("115.00"), "AccountCode": "1210", "Description": "Cash",
             "Tracking": [{"Name": "Region", "Option": "N"}]},
            {"LineAmount": Decimal("-100.00"), "AccountCode": "4000", "TaxType": "OUTPUT2"},
        ],
    }


def test_the_narration_sent_carries_the_reference() -> None:
    event = day_event(STORE, DAY)
    bare = event.model_copy(update={"journal": event.journal.model_copy(
        update={"narration": 'Store "1" totals'})})
    assert narration_of(event) == event.journal.narration
    assert narration_of(bare) == f"Store '1' totals {event.journal.reference}"
    assert posting().narration == event.journal.narration


def test_a_success_names_its_day_and_what_caused_it() -> None:
    done = posting(2)
    journal_id, replaced = uuid4(), uuid4()
    event = succeeded(done, journal_id, already_posted=True, replaced=replaced,
                      causation_id="cause")
    assert (event.correlation_id, event.causation_id, event.store_id, event.business_date,
            event.revision, event.tenant_id, event.journal_id, event.already_posted,
            event.replaced_journal_id) == (
        f"store-1:{DAY.isoformat()}", "cause", "store-1", DAY, 2, STORE.tenant_id,
        journal_id, True, replaced)
    plain = succeeded(done, journal_id)
    assert (plain.causation_id, plain.already_posted, plain.replaced_journal_id) == (
        str(done.event_id), False, None)


def test_a_failure_is_retryable_when_any_of_its_errors_is() -> None:
    done = posting()
    fixable = PostingError(kind=ErrorKind.UNKNOWN_ACCOUNT, message="m")
    later = give_up_error(5, "timeout", ErrorKind.XERO_UNAVAILABLE)
    event = failed(done, [fixable, later], causation_id="c")
    assert (event.causation_id, event.revision, event.errors, event.retryable) == (
        "c", 1, [fixable, later], True)
    alone = failed(done, [fixable])
    assert (alone.retryable, alone.causation_id) == (False, str(done.event_id))


def test_the_messages_say_what_happened_and_what_to_do() -> None:
    assert superseded_error(3) == PostingError(kind=ErrorKind.VALIDATION, message=(
        "Not posted: revision 3 of this day arrived first and replaces this one. Nothing to"
        " do."))
    journal_id = uuid4()
    assert amendment_refused_error(journal_id) == PostingError(
        kind=ErrorKind.VALIDATION, message=(
            f"Amendment refused, the earlier journal {journal_id} still in Xero: it stays"
            " live until this revision posts. Fix the errors above, then post the day"
            " again."))
    give_up = give_up_error(5, "timeout", ErrorKind.RATE_LIMITED)
    assert give_up == PostingError(kind=ErrorKind.RATE_LIMITED, retryable=True, message=(
        "Xero could not be reached after 5 attempts (timeout). Nothing was posted; post the"
        " day again later."))


class _Earlier:
    revision = 2
    journal_id = uuid4()


def test_an_earlier_revision_is_named_with_its_journal() -> None:
    earlier = _Earlier()
    refused = amendment_refused_error(earlier)
    assert refused.message.startswith(
        f"Amendment refused, revision 2 still in Xero (journal {earlier.journal_id}): it")
    posted = uuid4()
    both = unvoided_error(posted, earlier, "locked")
    assert both == PostingError(kind=ErrorKind.VALIDATION, xero_message="locked", message=(
        f"This revision is in Xero as journal {posted}, but the earlier journal"
        f" {earlier.journal_id} (revision 2) could not be voided, so both are live. Void"
        f" {earlier.journal_id} in Xero by hand (or ask your accountant to unlock its"
        " period)."))
    by_id = unvoided_error(posted, earlier.journal_id, None)
    assert by_id.xero_message is None
    assert f"the earlier journal {earlier.journal_id} could not be voided" in by_id.message


def test_a_posting_made_from_an_event_carries_its_day() -> None:
    event = day_event(STORE, DAY, revision=3)
    made = Posting.of_event(event, 11, State.FAILED, 4)
    assert made == Posting(11, "store-1", DAY, 3, STORE.tenant_id, STORE.connection_id,
                           event.event_id, event.correlation_id, "", State.FAILED, 4)
    assert made.journal is event.journal


def test_the_total_is_the_sum_of_the_debits() -> None:
    assert total(posting().journal) == sum(
        (line.amount for line in posting().journal.lines if line.amount > 0), Decimal(0))
    journal = Journal(narration="n", reference="r", date=DAY, lines=[
        JournalLine(category="a", account_code="1", amount=money("70")),
        JournalLine(category="b", account_code="2", amount=money("29.50")),
        JournalLine(category="d", account_code="4", amount=money("0.50")),
        JournalLine(category="c", account_code="3", amount=money("-100"))])
    assert total(journal) == Decimal("100.00")


def test_a_stored_posting_parses_its_journal_again_when_forgotten() -> None:
    event = day_event(STORE, DAY)
    stored = Posting(1, "store-1", DAY, 1, STORE.tenant_id, STORE.connection_id,
                     event.event_id, event.correlation_id, event.model_dump_json(),
                     State.PENDING, 0)
    stored.forget_journal()  # never parsed: nothing to drop
    first = stored.journal
    stored.forget_journal()
    assert "journal" not in stored.__dict__
    assert stored.journal == first and stored.journal is not first
    in_hand = posting()
    in_hand.forget_journal()  # nothing stored to parse it from: it stays
    assert "journal" in in_hand.__dict__ and in_hand.journal.date == DAY
