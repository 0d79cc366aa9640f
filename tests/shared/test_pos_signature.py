"""The signature a POS puts on its AMQP requests (shared/contracts/pos.py): the key never
travels, and a message verifies only as its key signed it."""

import hashlib
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.pos import PosDayClosed, PosReprintRequested, key_verifier

KEY = "2RF:" + "k" * 40
DAY = date(2026, 11, 27)
OCCURRED = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
KNOWN_ANSWER = ("50c5c7e33b8554ed",
                "1d8a26896c7dc72efb6a1724dd1bfc5f4d7135c90fa9a5810485090c2f84d1f2")


def reprint(**changes: object) -> PosReprintRequested:
    fields = {"store_id": "12", "business_date": DAY, "post_to_xero": True,
              "event_id": UUID("8f1c2b9e-0000-4000-8000-000000000001"),
              "occurred_at": OCCURRED} | changes
    return PosReprintRequested.signed(KEY, **fields)


def test_the_wire_format_is_fixed_by_a_known_answer() -> None:
    # The values docs/interfaces.md gives, so that a POS in any language can check its
    # own signing against them; a change here is a change of the contract.
    message = reprint()
    content_digest = hashlib.sha256(b'{"post_to_xero":true}').hexdigest()
    assert message.signed_text() == (
        b"pos-reprint-requested\n8f1c2b9e-0000-4000-8000-000000000001\n1795816800000\n"
        b"12:2026-11-27\n12\n2026-11-27\n" + content_digest.encode())
    assert (message.key_ref, message.signature) == KNOWN_ANSWER


def test_the_key_is_nowhere_in_the_message() -> None:
    body = reprint().model_dump_json()
    assert KEY not in body and KEY.removeprefix("2RF:") not in body


def test_the_signing_key_verifies_and_a_different_one_does_not() -> None:
    message = reprint()
    assert message.signed_by(key_verifier(KEY))
    assert message.signed_by(key_verifier(f"  {KEY}\n"))  # trimmed, as totals hashes it
    assert not message.signed_by(key_verifier(KEY + "x"))


@given(st.sampled_from(["store_id", "business_date", "correlation_id", "event_id",
                        "occurred_at", "post_to_xero"]), st.data())
def test_any_signed_field_changed_after_signing_fails(field: str, data: st.DataObject) -> None:
    message = reprint()
    replacement = {
        "store_id": data.draw(st.sampled_from(["13", "120", "1"])),
        "business_date": data.draw(st.dates().filter(lambda d: d != DAY)),
        "correlation_id": data.draw(st.text(min_size=1).filter(lambda s: s != "12:2026-11-27")),
        "event_id": data.draw(st.uuids().filter(lambda u: u != message.event_id)),
        "occurred_at": OCCURRED + data.draw(st.sampled_from(
            [timedelta(milliseconds=1), timedelta(days=-8), timedelta(hours=1)])),
        "post_to_xero": False,
    }[field]
    changed = message.model_copy(update={field: replacement})
    assert not changed.signed_by(key_verifier(KEY))


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_changed_totals_fail_and_key_order_does_not_matter(extra: dict[str, str]) -> None:
    totals = {"currency": "USD", "over_short": "0.00", **extra}
    message = PosDayClosed.signed(KEY, store_id="12", business_date=DAY, totals=totals)
    reordered = dict(reversed(list(totals.items())))
    assert message.model_copy(update={"totals": reordered}).signed_by(key_verifier(KEY))
    tampered = totals | {"over_short": "0.01"}
    assert not message.model_copy(update={"totals": tampered}).signed_by(key_verifier(KEY))
