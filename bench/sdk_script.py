"""The peer a user would otherwise write: a sequential script on the official `xero-python`
SDK, one journal per call, refreshing its token the way the SDK's examples do, sleeping
out a 429's Retry-After. Pointed at the sandbox by URL only; the SDK is unchanged."""

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from xero_python.accounting import AccountingApi, ManualJournal, ManualJournalLine, ManualJournals
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import RateLimitException

TOKEN_FIELDS = ("access_token", "refresh_token", "expires_in", "token_type", "scope",
                "id_token")


@dataclass(frozen=True)
class ScriptResult:
    days: int
    seconds: float
    refreshes: int
    rate_limited: int

    @property
    def days_per_s(self) -> float:
        return self.days / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class ScriptDay:
    tenant_id: str
    business_date: date
    lines: list[tuple[str, Decimal]]


class SdkScript:
    def __init__(self, sandbox_url: str, client_id: str, client_secret: str,
                 token_set: dict[str, Any]) -> None:
        oauth2 = OAuth2Token(client_id=client_id, client_secret=client_secret)
        # The only difference from real use: where Xero is.
        oauth2.refresh_token_url = f"{sandbox_url}/connect/token"
        self.api_client = ApiClient(Configuration(oauth2_token=oauth2), pool_threads=1)
        # What Xero's token endpoint answers; the sandbox's grant adds the tenants.
        self._token = {key: token_set[key] for key in TOKEN_FIELDS if key in token_set}
        self._token.setdefault("expires_at", time.time() + float(token_set["expires_in"]))
        self.api_client.oauth2_token_getter(lambda: self._token)
        self.api_client.oauth2_token_saver(self._save)
        self.accounting = AccountingApi(self.api_client, base_url=f"{sandbox_url}/api.xro/2.0")
        self.refreshes = 0
        self.rate_limited = 0

    def _save(self, token: dict[str, Any]) -> None:
        self._token = token

    def post(self, day: ScriptDay) -> str:
        if not self.api_client.configuration.oauth2_token.is_access_token_valid():
            self.api_client.refresh_oauth2_token()
            self.refreshes += 1
        journal = ManualJournal(
            narration=f"POS totals {day.business_date}",
            date=day.business_date,
            status="POSTED",
            journal_lines=[
                ManualJournalLine(account_code=code, line_amount=amount)
                for code, amount in day.lines
            ],
        )
        while True:
            try:
                created = self.accounting.create_manual_journals(
                    day.tenant_id, ManualJournals(manual_journals=[journal])
                )
                return str(created.manual_journals[0].manual_journal_id)
            except RateLimitException as exc:
                self.rate_limited += 1
                time.sleep(float(exc.headers.get("retry-after", 1)))

    def run(self, days: list[ScriptDay]) -> ScriptResult:
        # Refresh state is per token set: the clock starts with the first call.
        self.api_client.configuration.oauth2_token.update_token(**self._token)
        started = time.perf_counter()
        for day in days:
            self.post(day)
        return ScriptResult(len(days), time.perf_counter() - started, self.refreshes,
                            self.rate_limited)
