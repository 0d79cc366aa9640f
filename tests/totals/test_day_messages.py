"""The POS's words for a day (services/totals/domain/day.py): a failure's headline names
whose the cause is; an amended day's names the journal it voided."""

from uuid import uuid4

import pytest

from services.totals.domain.day import DayState, DayStatus, message


def failed(*kinds: str) -> DayState:
    return DayState(1, "f", DayStatus.FAILED,
                    errors=tuple({"kind": kind, "message": "m"} for kind in kinds))


@pytest.mark.parametrize(("kinds", "owner"), [
    (("unknown-account", "archived-account"), "Account Numbers setup"),
    (("locked-period",), "Xero organisation settings"),
    (("unknown-account", "locked-period"), "Xero organisation settings"),
    (("disconnected",), "the connection"),
    (("xero-unavailable",), "Xero unavailable"),
])
def test_the_headline_names_the_owner_of_the_cause(kinds: tuple[str, ...], owner: str):
    said = message(failed(*kinds))
    assert f"to be fixed in: {owner}." in said
    if owner != "Account Numbers setup":
        assert "Account Numbers setup," not in said.split("What to do")[0]


def test_an_amended_day_says_the_earlier_journal_was_voided():
    earlier, now = uuid4(), uuid4()
    said = message(DayState(2, "f", DayStatus.POSTED, posted_revision=2, journal_id=now,
                            replaced_journal_id=earlier))
    assert str(now) in said and f"replaces journal {earlier}, which was voided" in said
