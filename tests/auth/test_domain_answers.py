"""Auth's pure rules pinned value for value: what a refused API Key box is said to look
like, token timing at its edges, and Xero's /connections read field by field."""

from datetime import UTC, datetime, timedelta

import pytest

from services.auth.domain.connect import Tenant, could_be_issued, tenants_from_connections
from services.auth.domain.scenarios import MESSAGES, Scenario, classify_api_key, describe
from services.auth.domain.tokens import (
    GRACE_PERIOD,
    XeroUnavailable,
    cooldown,
    expiry,
    must_refresh,
    within_grace,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
EXPECTED = (
    " The API Key box must be empty (first connection), hold a key starting with 2RF:"
    " (issued by this service), or an OAuth 1.0a token (30 capital letters and digits,"
    " optionally with its secret, or 'oauth_token=...&oauth_token_secret=...')."
)


@pytest.mark.parametrize(("box", "looks_like"), [
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
     "a Xero access token (a JWT starting with 'eyJ'), which expires in 30 minutes"),
    ("a" * 64, "a bare 64-character hexadecimal token (perhaps a Xero refresh token)"),
    ("0F" * 32, "a bare 64-character hexadecimal token (perhaps a Xero refresh token)"),
    ("12345678-1234-1234-1234-123456789abc",
     "a UUID (perhaps a Xero organisation or client id)"),
    ("12345678-ABCD-1234-1234-123456789ABC",
     "a UUID (perhaps a Xero organisation or client id)"),
    ("hello world", "text of 11 characters containing spaces"),
    ("rz1p0zxaj4qpgzj3bo9vnqjzqdk3ff",
     "a 30-character token with lower-case letters (OAuth 1.0a tokens are upper case)"),
    ("Ab1!", "4 characters of capital letters, small letters, digits, punctuation,"
     " a shape no Xero key has"),
    ("!!!", "3 characters of punctuation, a shape no Xero key has"),
    ("ABC", "3 characters of capital letters, a shape no Xero key has"),
    ("abc", "3 characters of small letters, a shape no Xero key has"),
    ("123", "3 characters of digits, a shape no Xero key has"),
])
def test_a_refused_box_is_described_by_its_shape(box: str, looks_like: str) -> None:
    assert describe(box) == f"api_key: it looks like {looks_like}.{EXPECTED}"


@pytest.mark.parametrize("scenario", list(Scenario))
def test_each_scenario_answers_its_own_message(scenario: Scenario) -> None:
    box = {Scenario.NEW: "", Scenario.OAUTH1: "A" * 30, Scenario.OAUTH2_RENEW: "2RF:x"}
    result = classify_api_key(box[scenario])
    assert (result.scenario, result.message) == (scenario, MESSAGES[scenario])


def test_must_refresh_at_the_edge_of_the_validity_wanted() -> None:
    five = timedelta(minutes=5)
    assert must_refresh("a", None, NOW, five)
    assert not must_refresh("a", NOW + five, NOW, five)  # exactly enough left
    assert must_refresh("a", NOW + five - timedelta(microseconds=1), NOW, five)


def test_cooldown_exponent_is_capped_so_huge_counts_do_not_overflow() -> None:
    assert cooldown(10**6, 1e-9, 10**12) == timedelta(seconds=1e-9 * 2**30)
    assert cooldown(-1, 5, 900) == timedelta(0)


def test_the_grace_window_ends_a_minute_before_xeros() -> None:
    assert GRACE_PERIOD == timedelta(minutes=30)
    assert within_grace(NOW - timedelta(minutes=28, seconds=59), NOW)
    assert not within_grace(NOW - timedelta(minutes=29), NOW)


def test_expiry_on_our_clock() -> None:
    assert expiry(600, NOW) == NOW + timedelta(seconds=600)
    assert expiry(None, NOW) == NOW + timedelta(minutes=30)
    assert expiry(0, NOW) == NOW + timedelta(minutes=30)


def test_xero_unavailable_keeps_its_retry_after() -> None:
    error = XeroUnavailable("down", 7.5)
    assert (str(error), error.retry_after_s) == ("down", 7.5)
    assert XeroUnavailable("down").retry_after_s is None


def test_connections_read_field_by_field() -> None:
    assert tenants_from_connections([
        {"id": "c1", "tenantId": "t1", "tenantName": "One", "tenantType": "organisation",
         "authEventId": "e1"},
        {"tenantId": "t2"},
        {"id": "c3", "tenantName": "no tenant id"},
        "not an object",
        {"id": "c4", "tenantId": "t4", "tenantType": "PRACTICEMANAGER"},
        {"id": "c5", "tenantId": "t5", "tenantName": "Five"},
    ]) == [
        Tenant("t1", "One", "organisation", "c1", "e1"),
        Tenant("t2", "t2", "ORGANISATION", "", None),
        Tenant("t5", "Five", "ORGANISATION", "c5", None),
    ]
    with pytest.raises(ValueError, match=r"^Xero's /connections answer is not a list$"):
        tenants_from_connections({"id": "c1"})


@pytest.mark.parametrize(("value", "ok"), [
    ("abc_DEF-123", True), ("a" * 200, True), ("a" * 201, False), ("", False),
    ("a\x00b", False), ("a b", False), ("a.b", False),
])
def test_only_shapes_this_service_issues_are_looked_up(value: str, ok: bool) -> None:
    assert could_be_issued(value) is ok
