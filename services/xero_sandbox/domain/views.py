"""Xero's JSON shapes for the sandbox's objects (what the official API returns)."""

from datetime import datetime
from typing import Any

from services.xero_sandbox.domain.charts import TaxRateSpec
from services.xero_sandbox.domain.model import (
    Account,
    ManualJournal,
    Organisation,
    TrackingCategory,
)
from services.xero_sandbox.domain.xerodate import ms_date, ms_datetime, ms_local_date


def account_view(account: Account) -> dict[str, Any]:
    view: dict[str, Any] = {
        "AccountID": account.account_id,
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type,
        "Class": account.account_class,
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": False,
        "BankAccountType": "",
        "ReportingCode": "",
        "ReportingCodeName": "",
        "HasAttachments": False,
        "AddToWatchlist": False,
        "UpdatedDateUTC": ms_datetime(account.updated) if account.updated else None,
    }
    if account.system_account:
        view["SystemAccount"] = account.system_account
    if account.type == "BANK":
        view["BankAccountType"] = "BANK"
        view["BankAccountNumber"] = "0000000000"
        view["CurrencyCode"] = "USD"
    if view["UpdatedDateUTC"] is None:
        del view["UpdatedDateUTC"]
    return view


_TIMEZONES = {"US": "EASTERNSTANDARDTIME", "NZ": "NEWZEALANDSTANDARDTIME",
              "GB": "GMTSTANDARDTIME", "AU": "AUSEASTERNSTANDARDTIME"}
# TaxRate's CanApplyTo* flags (spec components/schemas/TaxRate) by account class.
CAN_APPLY_TO = {"ASSET": "CanApplyToAssets", "EQUITY": "CanApplyToEquity",
                "EXPENSE": "CanApplyToExpenses", "LIABILITY": "CanApplyToLiabilities",
                "REVENUE": "CanApplyToRevenue"}


def tax_rate_view(rate: TaxRateSpec) -> dict[str, Any]:
    """A TaxRate as `GET /TaxRates` answers (spec components/schemas/TaxRate)."""
    percent = float(rate.rate)
    view: dict[str, Any] = {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_tax_type,
        "TaxComponents": [{"Name": rate.name.split(" (")[0], "Rate": percent,
                           "IsCompound": False, "IsNonRecoverable": False}],
        "Status": rate.status,
        "DisplayTaxRate": percent,
        "EffectiveRate": percent,
    }
    view.update({flag: cls in rate.applies_to for cls, flag in CAN_APPLY_TO.items()})
    return view


def tracking_category_view(category: TrackingCategory, with_archived: bool) -> dict[str, Any]:
    """A TrackingCategory as `GET /TrackingCategories` answers (archived options only with
    includeArchived=true)."""
    return {
        "Name": category.name,
        "Status": category.status,
        "TrackingCategoryID": category.category_id,
        "Options": [
            {"TrackingOptionID": o.option_id, "Name": o.name, "Status": o.status}
            for o in category.options if with_archived or o.status == "ACTIVE"
        ],
    }


def organisation_view(org: Organisation) -> dict[str, Any]:
    view: dict[str, Any] = {
        "OrganisationID": org.tenant_id,
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": org.api_version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.currency,
        "CountryCode": org.country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 12,
        "SalesTaxBasis": "ACCRUALS" if org.country == "US" else "INVOICE",
        "SalesTaxPeriod": "MONTHLY" if org.country == "US" else "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_datetime(org.created),
        "OrganisationEntityType": "COMPANY",
        "Timezone": _TIMEZONES.get(org.country, "EASTERNSTANDARDTIME"),
        "ShortCode": "!" + org.tenant_id[:5],
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
    if org.period_lock_date:
        view["PeriodLockDate"] = ms_local_date(org.period_lock_date, org.utc_offset_minutes)
    if org.end_of_year_lock_date:
        view["EndOfYearLockDate"] = ms_local_date(org.end_of_year_lock_date,
                                                  org.utc_offset_minutes)
    return view


def journal_view(journal: ManualJournal, with_lines: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "Date": ms_date(journal.date),
        "Status": journal.status,
        "LineAmountTypes": journal.line_amount_types,
        "UpdatedDateUTC": ms_datetime(journal.updated),
        "ManualJournalID": journal.journal_id,
        "Narration": journal.narration,
        "ShowOnCashBasisReports": journal.show_on_cash_basis,
        "HasAttachments": False,
    }
    if journal.url:
        view["Url"] = journal.url
    if with_lines:
        view["JournalLines"] = [
            {
                "Description": line.description,
                "TaxType": line.tax_type,
                "TaxAmount": float(line.tax_amount),
                "LineAmount": float(line.line_amount),
                "AccountID": line.account_id,
                "AccountCode": line.account_code,
                "Tracking": line.tracking,
                "IsBlank": False,
            }
            for line in journal.lines
        ]
    return view


def envelope(key: str, items: list[dict[str, Any]], now: datetime, req_id: str) -> dict[str, Any]:
    return {
        "Id": req_id,
        "Status": "OK",
        "ProviderName": "Xero GL Bridge Sandbox",
        "DateTimeUTC": ms_datetime(now),
        key: items,
    }


def as_submitted(journal: ManualJournal) -> dict[str, Any]:
    """A stored journal in the form it is submitted in (plain dates, decimal strings)."""
    return {
        "Narration": journal.narration,
        "Date": journal.date.isoformat(),
        "Status": journal.status,
        "LineAmountTypes": journal.line_amount_types,
        "ShowOnCashBasisReports": journal.show_on_cash_basis,
        "Url": journal.url,
        "JournalLines": [
            {
                "LineAmount": str(ln.line_amount),
                "AccountCode": ln.account_code,
                "Description": ln.description,
                "TaxType": ln.tax_type,
                "Tracking": ln.tracking,
            }
            for ln in journal.lines
        ],
    }
