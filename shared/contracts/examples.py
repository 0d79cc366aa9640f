"""An example Account Numbers setup for the sandbox's `us-rental` chart, and an example
day that balances, as the POS sends them (JSON): the totals API's documentation, the
CLI, the benchmarks and the tests share these."""

from decimal import Decimal
from typing import Any

US_RENTAL_ACCOUNTS: dict[str, str] = {
    "rental": "4000",
    "sales": "4010",
    "damage-waiver": "4020",
    "delivery": "4030",
    "labour": "4040",
    "fuel": "4050",
    "fees": "4060",
    "other-revenue": "4090",
    "discounts": "4900",
    "rental-tax": "2200",
    "sales-tax": "2210",
    "damage-waiver-tax": "2220",
    "cash": "1210",
    "check": "1220",
    "visa": "1230",
    "mastercard": "1230",
    "discover": "1230",
    "amex": "1240",
    "debit": "1250",
    "on-account": "1300",
    "other-tender": "1260",
    "ar-payments": "1300",
    "deposits-held": "2300",
    "deposits-forfeited": "4070",
    "open-contracts": "2310",
    "over-short": "6900",
}


def example_setup(api_key: str | None = None, auto_post: bool = True) -> dict[str, Any]:
    """The JSON body of `PUT /v1/stores/{store_id}/setup` for a us-rental organisation."""
    body: dict[str, Any] = {
        "accounts": dict(US_RENTAL_ACCOUNTS),
        "tracking": [],
        "auto_post": auto_post,
        "journal_status": "POSTED",
        "currency": "USD",
        "timezone": "America/Chicago",
    }
    if api_key is not None:
        body["api_key"] = api_key
    return body


def example_day_totals(scale: int = 1) -> dict[str, Any]:
    """A day that balances to the cent (credits 2,629.34 = debits 2,629.34).

    `scale` multiplies every figure, so a benchmark can make distinct days that all
    balance; the POS sends amounts as decimal strings.
    """

    def m(amount: str) -> str:
        return str(Decimal(amount) * scale)

    return {
        "currency": "USD",
        "revenue": [
            {"category": "rental", "amount": m("1250.00")},
            {"category": "sales", "amount": m("310.50")},
            {"category": "damage-waiver", "amount": m("125.00")},
            {"category": "delivery", "amount": m("90.00")},
            {"category": "fuel", "amount": m("42.75")},
            {"category": "fees", "amount": m("15.00")},
        ],
        "discounts": m("50.00"),
        "taxes": [
            {"kind": "rental-tax", "authority": "County", "amount": m("87.50")},
            {"kind": "sales-tax", "authority": "State", "amount": m("24.84")},
            {"kind": "damage-waiver-tax", "amount": m("8.75")},
        ],
        "tenders": [
            {"type": "cash", "received": m("512.34"), "refunded": m("50.00")},
            {"type": "check", "received": m("300.00")},
            {"type": "visa", "received": m("700.00")},
            {"type": "mastercard", "received": m("350.00")},
            {"type": "discover", "received": m("90.75")},
            {"type": "amex", "received": m("210.00")},
            {"type": "debit", "received": m("140.00")},
            {"type": "on-account", "received": m("150.00")},
        ],
        "ar_payments": m("200.00"),
        "deposits": {"taken": m("300.00"), "applied": m("100.00"), "refunded": m("50.00"),
                     "forfeited": m("25.00")},
        "open_contracts": {"taken": m("150.00"), "released": "0.00"},
        "over_short": m("-1.25"),
    }

