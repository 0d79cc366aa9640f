"""The Account Numbers setup of a store (without its API key, which only auth knows)."""

import re
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from services.totals.domain.categories import POST_WITH_CREDIT_CARDS, setup_key_problem
from services.totals.domain.codes import unknown_tags
from shared.contracts.events import JournalStatus

CODE_PATTERN = re.compile(r"^(?:[A-Za-z0-9._\-#]|\{Store\}|\{Class\})+$")


class TrackingSetup(BaseModel):
    """A Xero tracking category and option put on every line (the option may use tags)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    option: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

    @field_validator("option")
    @classmethod
    def _known_tags(cls, value: str) -> str:
        if bad := unknown_tags(value):
            raise ValueError(f"unknown tag {bad[0]}: use #, {{Store}} or {{Class}}")
        return value


class StoreSetup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: dict[str, str] = Field(
        description="Xero account code per totals category; tags #, {Store}, {Class} allowed"
    )
    tracking: list[TrackingSetup] = Field(default_factory=list, max_length=2)
    store_class: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
        | None
    ) = None
    auto_post: bool = True
    journal_status: JournalStatus = JournalStatus.POSTED
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    timezone: str = "UTC"
    # A drawer that does not balance by up to this much posts the difference to the
    # over-short account; beyond it the day is refused naming the difference.
    over_short_tolerance: Annotated[Decimal, Field(ge=0, le=1000, decimal_places=2)] = \
        Decimal("5.00")
    # liability: tax figures post to the tax accounts, NoTax (US sales tax). tax-coded:
    # revenue and discount lines carry the organisation's tax rate mapped per category in
    # `tax_rates`, Xero computes the tax (GST/VAT reach the return), and the POS's tax
    # must agree within `tax_tolerance` (the difference to the tax-rounding account).
    tax_mode: Literal["liability", "tax-coded"] = "liability"
    tax_rates: dict[str, Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,50}$")]] = \
        Field(default_factory=dict, description="Xero TaxType per revenue/discount category")
    amounts_include_tax: bool = False
    tax_tolerance: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] = Decimal("0.05")

    @field_validator("accounts")
    @classmethod
    def _valid_accounts(cls, accounts: dict[str, str]) -> dict[str, str]:
        checked = {key: (code, _account_problem(key, code)) for key, code in accounts.items()}
        _refuse_entries("accounts", "account_code", checked)
        return {key: code.strip() for key, code in accounts.items()}

    @field_validator("tax_rates")
    @classmethod
    def _known_tax_categories(cls, rates: dict[str, str]) -> dict[str, str]:
        _refuse_entries("tax_rates", "tax_category",
                        {key: (key, setup_key_problem(key)) for key in rates})
        return rates

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


def _refuse_entries(field: str, kind: str, checked: dict[str, tuple[str, str | None]]) -> None:
    """One error per offending entry, located at `<field>.<entry>`."""
    problems = [
        InitErrorDetails(type=PydanticCustomError(kind, problem), loc=(key,), input=value)
        for key, (value, problem) in checked.items()
        if problem
    ]
    if problems:
        raise ValidationError.from_exception_data(field, problems)


def _account_problem(key: str, code: str) -> str | None:
    if problem := setup_key_problem(key):
        return problem
    code = code.strip()
    if not code:
        return "empty account code"
    if code == POST_WITH_CREDIT_CARDS:
        return None if key == "debit" else "CC (post with credit cards) is for debit only"
    if len(code) > 30:
        return "account code longer than 30 characters"
    if bad := unknown_tags(code):
        return f"unknown tag {bad[0]}: use #, {{Store}} or {{Class}}"
    if not CODE_PATTERN.match(code):
        return f"account code {code!r} may hold letters, digits, . _ - and the tags only"
    return None
