"""The Account Numbers setup of a store (without its API key, which only auth knows)."""

import re
from typing import Annotated
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

    @field_validator("accounts")
    @classmethod
    def _valid_accounts(cls, accounts: dict[str, str]) -> dict[str, str]:
        # One error per offending entry, located at `accounts.<entry>`.
        problems = [
            InitErrorDetails(type=PydanticCustomError("account_code", problem), loc=(key,),
                             input=code)
            for key, code in accounts.items()
            if (problem := _account_problem(key, code))
        ]
        if problems:
            raise ValidationError.from_exception_data("accounts", problems)
        return {key: code.strip() for key, code in accounts.items()}

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


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
