"""The pure parts: journal rules, limit windows, the where filter, dates, token rotation."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.xero_sandbox.domain.clock import Clock
from services.xero_sandbox.domain.journals import check_journal
from services.xero_sandbox.domain.limits import Limits, TenantBudget, Window, admit
from services.xero_sandbox.domain.model import Organisation
from services.xero_sandbox.domain.state import (
    IdempotencyMemory,
    IdempotentAnswer,
    OAuthError,
    Sandbox,
)
from services.xero_sandbox.domain.where import QueryError, compile_where
from services.xero_sandbox.domain.xerodate import ms_date, parse_date

TODAY = date(2026, 11, 27)


def _org(template: str = "us-rental") -> Organisation:
    return Organisation.from_template("Test", template, datetime(2026, 1, 1, tzinfo=UTC))


def _lines(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"LineAmount": amount, "AccountCode": code} for code, amount in pairs]


def test_balanced_journal_passes_with_decimal_amounts() -> None:
    out = check_journal(
        {
            "Narration": "n",
            "Date": "2026-11-20",
            "Status": "POSTED",
            "JournalLines": _lines(("1210", "0.10"), ("1220", "0.20"), ("4000", "-0.30")),
        },
        _org(),
        TODAY,
    )
    assert out.ok and out.status == "POSTED" and out.date == date(2026, 11, 20)
    assert [ln.line_amount for ln in out.lines] == [
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("-0.30"),
    ]


def test_unbalanced_message() -> None:
    out = check_journal(
        {"Narration": "n", "JournalLines": _lines(("1210", "100"), ("4000", "-10"))}, _org(), TODAY
    )
    assert out.errors == ["The total debits (100.00) must equal total credits (-10.00)"]


def test_unknown_code_warns_and_drops() -> None:
    out = check_journal(
        {"Narration": "n", "JournalLines": _lines(("1210", "5"), ("4000", "-5"), ("476", "1"))},
        _org(),
        TODAY,
    )
    assert out.ok
    assert out.warnings == [
        "Account code '476' has been removed as it does not match a recognised account."
    ]
    assert [ln.account_code for ln in out.lines] == ["1210", "4000"]


@pytest.mark.parametrize("code", ["090", "1100", "800"])
def test_bank_and_system_accounts_refused(code: str) -> None:
    out = check_journal(
        {"Narration": "n", "JournalLines": _lines((code, "5"), ("4000", "-5"))}, _org(), TODAY
    )
    assert out.errors == [f"Account code '{code}' is not a valid code for this document"]


@pytest.mark.parametrize(("template", "code"), [("us-rental", "960"), ("gst", "820")])
def test_system_accounts_xero_allows_in_manual_journals(template: str, code: str) -> None:
    """Retained earnings and GST/VAT are system accounts Xero accepts on a journal line
    (help.xero.com "Locked and system accounts in your chart of accounts")."""
    org = _org(template)
    other = "620" if template == "gst" else "1210"
    out = check_journal(
        {"Narration": "n", "JournalLines": _lines((code, "5"), (other, "-5"))}, org, TODAY
    )
    assert out.ok, out.errors


def test_lock_date_inclusive() -> None:
    org = _org()
    org.period_lock_date = date(2026, 10, 31)
    body = {"Narration": "n", "JournalLines": _lines(("1210", "5"), ("4000", "-5"))}
    assert not check_journal({**body, "Date": "2026-10-31"}, org, TODAY).ok
    assert check_journal({**body, "Date": "2026-11-01"}, org, TODAY).ok


def test_gst_tax_types() -> None:
    lines = [
        {"LineAmount": "10", "AccountCode": "630"},
        {"LineAmount": "-10", "AccountCode": "210", "TaxType": "OUTPUT2"},
    ]
    assert check_journal({"Narration": "n", "JournalLines": lines}, _org("gst"), TODAY).ok
    lines[1]["TaxType"] = "TAX001"
    assert not check_journal({"Narration": "n", "JournalLines": lines}, _org("gst"), TODAY).ok


def test_bad_input_named() -> None:
    out = check_journal(
        {
            "Narration": "n",
            "Date": "yesterday",
            "Status": "VOIDED",
            "JournalLines": [{"LineAmount": "ten", "AccountCode": "1210"}],
        },
        _org(),
        TODAY,
    )
    assert any("yesterday" in e for e in out.errors)
    assert any("VOIDED" in e for e in out.errors)
    assert any("LineAmount" in e for e in out.errors)


def test_minute_window_resets_from_first_call() -> None:
    limits, budget, app = Limits(per_minute=2), TenantBudget(), Window(60)
    for _ in range(2):
        assert admit(limits, budget, app, 100.0).problem is None
        budget.in_flight -= 1
    refused = admit(limits, budget, app, 130.0)
    assert (refused.problem, refused.retry_after) == ("minute", 30)
    assert admit(limits, budget, app, 160.0).problem is None


def test_concurrency_and_app_limit() -> None:
    limits, budget, app = Limits(concurrent=1, app_per_minute=5), TenantBudget(), Window(60)
    assert admit(limits, budget, app, 0).problem is None
    assert admit(limits, budget, app, 0).problem == "concurrent"
    budget.in_flight = 0
    other = TenantBudget()
    for _ in range(4):
        assert admit(limits, other, app, 1).problem is None
        other.in_flight = 0
    assert admit(limits, other, app, 2).problem == "appminute"


def test_where_filter() -> None:
    fields = {"Code": lambda a: a["Code"], "Status": lambda a: a["Status"]}
    rows = [{"Code": "1", "Status": "ACTIVE"}, {"Code": "2", "Status": "ARCHIVED"}]
    match = compile_where('Status=="ACTIVE" OR Code=="2" AND Status!="ACTIVE"', fields, "Account")
    assert [r["Code"] for r in rows if match(r)] == ["1", "2"]
    with pytest.raises(QueryError):
        compile_where("Code=1", fields, "Account")



def test_a_backslash_escaped_quote_is_a_syntax_error_as_at_xero() -> None:
    # XeroAPI/Xero-Java#347: 400 QueryParseException "Syntax error".
    with pytest.raises(QueryError, match=r"^Syntax error$"):
        compile_where('Narration=="a \\"b\\" c"', {"Narration": str}, "ManualJournal")

def test_xero_dates_round_trip() -> None:
    assert ms_date(date(2026, 11, 20)) == "/Date(1795132800000+0000)/"
    assert parse_date("/Date(1795132800000+0000)/") == date(2026, 11, 20)
    assert parse_date("2026-11-20T00:00:00") == date(2026, 11, 20)
    assert parse_date("soon") is None


def test_refresh_grace_in_the_domain() -> None:
    now = [datetime(2026, 11, 27, tzinfo=UTC)]
    clock = Clock(lambda: now[0])
    sandbox = Sandbox(clock, lambda claims: f"jwt-{claims['jti']}", [])
    client = sandbox.clients["glbridge-dev"]
    grant = sandbox.grant("demo@example.com", "glbridge-dev", ["offline_access"], [])
    first = sandbox.token_set(grant)["refresh_token"]
    second = sandbox.refresh(client, first)["refresh_token"]
    now[0] += timedelta(minutes=30)
    assert sandbox.refresh(client, first)["refresh_token"] == second
    now[0] += timedelta(seconds=1)
    with pytest.raises(OAuthError):
        sandbox.refresh(client, first)


def test_idempotent_answers_are_recalled_until_they_expire_then_forgotten() -> None:
    memory = IdempotencyMemory()
    for n in range(1000):  # one key a second, each remembered for 600 s
        memory.remember(("client", "tenant", f"key-{n}"),
                        IdempotentAnswer(f"fp-{n}", 200, b"{}", n + 600.0), now=float(n))
    assert len(memory) == 600  # keys 0..399 expired as later ones came in
    assert memory.recall(("client", "tenant", "key-399"), 999.0) is None
    kept = memory.recall(("client", "tenant", "key-400"), 999.0)
    assert kept is not None and kept.fingerprint == "fp-400"
    assert memory.recall(("client", "tenant", "key-400"), 1000.0) is None  # expired meanwhile
    # A key used again after it expired is remembered anew, at the back of the line
    # (and key-400, expired now, is forgotten).
    memory.remember(("client", "tenant", "key-399"),
                    IdempotentAnswer("again", 200, b"{}", 1600.0), now=1000.0)
    assert len(memory) == 600
    again = memory.recall(("client", "tenant", "key-399"), 1500.0)
    assert again is not None and again.fingerprint == "again"
