"""The sandbox's world: organisations and their accounts, users, apps, grants, journals."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from services.xero_sandbox.domain.charts import (
    CLASS_OF_TYPE,
    COUNTRY,
    TAX_RATES,
    TEMPLATES,
    TRACKING,
    TaxRateSpec,
)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Account:
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    system_account: str = ""
    tax_type: str = "NONE"
    account_id: str = field(default_factory=new_id)
    updated: datetime | None = None

    @property
    def account_class(self) -> str:
        return CLASS_OF_TYPE.get(self.type, "ASSET")


@dataclass
class TrackingOption:
    name: str
    status: str = "ACTIVE"
    option_id: str = field(default_factory=new_id)


@dataclass
class TrackingCategory:
    name: str
    status: str = "ACTIVE"
    options: list[TrackingOption] = field(default_factory=list)
    category_id: str = field(default_factory=new_id)

    def option(self, name: str) -> TrackingOption | None:
        wanted = name.strip().lower()
        return next((o for o in self.options if o.name.lower() == wanted), None)


@dataclass
class Organisation:
    tenant_id: str
    name: str
    template: str
    created: datetime
    accounts: dict[str, Account] = field(default_factory=dict)  # by upper-case code
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    # The organisation's UTC offset in minutes: Xero writes its local dates (the lock
    # dates) as the instant of local midnight with this offset, `/Date(ms+1300)/`.
    utc_offset_minutes: int = 0
    # Bumped on every change to the chart, so rendered account lists can be cached.
    version: int = 0
    tax_rates: dict[str, TaxRateSpec] = field(default_factory=dict)  # by TaxType
    tracking: list[TrackingCategory] = field(default_factory=list)

    @property
    def country(self) -> str:
        return COUNTRY.get(self.template, ("US", "USD", "US"))[0]

    @property
    def currency(self) -> str:
        return COUNTRY.get(self.template, ("US", "USD", "US"))[1]

    @property
    def api_version(self) -> str:
        """The Organisation's `Version` (the edition's country: US, NZ, UK, AU)."""
        return COUNTRY.get(self.template, ("US", "USD", "US"))[2]

    def tracking_category(self, name: str) -> TrackingCategory | None:
        wanted = name.strip().lower()
        return next((c for c in self.tracking if c.name.lower() == wanted), None)

    @property
    def lock_date(self) -> date | None:
        """The later of the two lock dates: journals dated on or before it are refused."""
        dates = [d for d in (self.period_lock_date, self.end_of_year_lock_date) if d]
        return max(dates) if dates else None

    def lock_for(self, adviser: bool) -> tuple[str, date] | None:
        """The lock that binds a user, named as Xero names it. The end of year lock date
        binds every user; the period lock date every user but an adviser (help.xero.com
        "Set and work with lock dates": lock dates "for all user roles, or all user roles
        except the Adviser user role")."""
        locks = [("end of year", self.end_of_year_lock_date)]
        if not adviser:
            locks.append(("period", self.period_lock_date))
        set_locks = [(name, day) for name, day in locks if day is not None]
        return max(set_locks, key=lambda lock: lock[1]) if set_locks else None

    def account(self, code: str) -> Account | None:
        return self.accounts.get(code.strip().upper())

    @classmethod
    def from_template(
        cls, name: str, template: str, now: datetime, tenant_id: str | None = None
    ) -> "Organisation":
        if template not in TEMPLATES:
            raise ValueError(f"unknown template {template!r}; known: {sorted(TEMPLATES)}")
        org = cls(tenant_id or new_id(), name, template, now)
        org.utc_offset_minutes = UTC_OFFSET_MINUTES.get(org.country, 0)
        for spec in TEMPLATES[template]:
            org.accounts[spec.code.upper()] = Account(
                spec.code,
                spec.name,
                spec.type,
                spec.status,
                spec.system_account,
                spec.tax_type,
                updated=now,
            )
        org.tax_rates = {rate.tax_type: rate for rate in TAX_RATES.get(template, [])}
        org.tracking = [
            TrackingCategory(name, options=[TrackingOption(o, st) for o, st in options.items()])
            for name, options in TRACKING.get(template, {}).items()
        ]
        return org


# Xero's user roles as the sandbox seeds them (help.xero.com "User roles"): manual
# journals need the Adviser role, or Standard with All Reports (help.xero.com "Manual
# journals"); any other user's token is answered 403 AuthorizationUnsuccessful.
ROLES = ("ADVISER", "STANDARD_ALL_REPORTS", "STANDARD", "INVOICE_ONLY", "READ_ONLY",
         "CASHBOOK")
JOURNAL_ROLES = frozenset({"ADVISER", "STANDARD_ALL_REPORTS"})
# Xero sends an organisation's local dates with its zone (NZ in daylight time: +1300).
UTC_OFFSET_MINUTES = {"NZ": 13 * 60}


@dataclass
class User:
    email: str
    password: str
    tenant_ids: list[str]
    user_id: str = field(default_factory=new_id)
    role: str = "STANDARD_ALL_REPORTS"

    @property
    def may_post_journals(self) -> bool:
        return self.role in JOURNAL_ROLES

    @property
    def is_adviser(self) -> bool:
        return self.role == "ADVISER"


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class Connection:
    """One organisation an app may reach on a user's behalf (Xero's /connections row)."""

    id: str
    tenant_id: str
    email: str
    client_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


@dataclass
class Grant:
    """One authorization event: a user allowed an app these scopes."""

    grant_id: str
    email: str
    client_id: str
    scopes: list[str]
    created: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    client_id: str
    issued: datetime
    first_used: datetime | None = None
    # The token set the first use answered with: replayed during the grace period.
    successor: dict[str, object] | None = None


@dataclass
class AuthCode:
    code: str
    grant_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires: datetime
    nonce: str | None = None


@dataclass
class JournalLine:
    line_amount: Decimal
    account_code: str
    account_id: str
    description: str = ""
    tax_type: str = "NONE"
    tracking: list[dict[str, object]] = field(default_factory=list)
    # What Xero computes on a tax-coded line (0 on NoTax journals).
    tax_amount: Decimal = Decimal("0.00")


@dataclass
class ManualJournal:
    journal_id: str
    tenant_id: str
    narration: str
    date: date
    status: str
    line_amount_types: str
    lines: list[JournalLine]
    created: datetime
    updated: datetime
    show_on_cash_basis: bool = True
    url: str | None = None
    warnings: list[str] = field(default_factory=list)
