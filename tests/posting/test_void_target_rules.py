"""Where an earlier revision's journal is voided, pure: in the organisation it was posted
to, never in the store's current one when the store has moved."""

from uuid import uuid4

from services.posting.domain.void_target import (
    JournalOrigin,
    cannot_reach,
    not_found_there,
    void_target,
)

FIRST, SECOND = uuid4(), uuid4()
OLD_KEY, NEW_KEY = uuid4(), uuid4()


def test_a_journal_of_the_same_organisation_is_voided_through_the_drains_connection() -> None:
    # The journal's own connection may have been replaced by a newer key to the same one.
    assert void_target(JournalOrigin(FIRST, OLD_KEY), FIRST, NEW_KEY) == \
        JournalOrigin(FIRST, NEW_KEY)


def test_a_journal_of_unknown_origin_is_voided_where_the_store_posts() -> None:
    assert void_target(None, SECOND, NEW_KEY) == JournalOrigin(SECOND, NEW_KEY)


def test_a_journal_of_another_organisation_is_voided_there() -> None:
    origin = JournalOrigin(FIRST, OLD_KEY)
    assert void_target(origin, SECOND, NEW_KEY) == origin


def test_the_messages_name_the_organisation_the_journal_is_in() -> None:
    assert not_found_there(FIRST) == (
        f"not found in organisation {FIRST}, where it was posted: check it there and void it"
        " by hand if it is live")
    assert cannot_reach(FIRST) == (
        f"it is in organisation {FIRST}, which this store no longer connects to (it moved to"
        " another organisation): void it there by hand")
