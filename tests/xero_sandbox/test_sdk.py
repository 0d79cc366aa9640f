"""The official xero-python SDK, pointed at the sandbox's URLs and otherwise unchanged."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import AccountingApi, LineAmountTypes, ManualJournal, ManualJournalLine
from xero_python.accounting.models import ManualJournals
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, RateLimitException
from xero_python.identity import IdentityApi

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import token_set


@pytest.fixture
def sdk_urls(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> RunningSandbox:
    # The SDK keeps its token URLs as class attributes: the only knob it offers.
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox.url}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{sandbox.url}/connect/revocation")
    return sandbox


def _client(tokens: dict[str, Any]) -> ApiClient:
    store: dict[str, Any] = {
        "token": {
            k: tokens[k]
            for k in ("access_token", "refresh_token", "expires_in", "token_type", "scope")
        }
    }
    client = ApiClient(
        Configuration(
            oauth2_token=OAuth2Token(client_id="glbridge-dev", client_secret="glbridge-dev-secret")
        ),
        pool_threads=1,
    )
    client.oauth2_token_getter(lambda: store["token"])
    client.oauth2_token_saver(lambda token: store.update(token=token))
    client.set_oauth2_token(store["token"])
    return client


def _journal(narration: str, debit: str, credit: str) -> ManualJournal:
    return ManualJournal(
        narration=narration,
        date=date(2026, 11, 20),
        status="POSTED",
        line_amount_types=LineAmountTypes.NOTAX,
        journal_lines=[
            ManualJournalLine(line_amount=Decimal(debit), account_code="1210", description="Cash"),
            ManualJournalLine(
                line_amount=-Decimal(credit), account_code="4000", description="Rent"
            ),
        ],
    )


async def test_sdk_refreshes_reads_and_posts(sdk_urls: RunningSandbox) -> None:
    tokens = await token_set(sdk_urls.client)
    tenant = tokens["tenant_ids"][0]
    client = _client(tokens)
    refreshed = client.refresh_oauth2_token()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    connections = IdentityApi(client, base_url=sdk_urls.url).get_connections()
    assert [c.tenant_name for c in connections] == ["Demo Rentals (US)"]
    api = AccountingApi(client, base_url=f"{sdk_urls.url}/api.xro/2.0")
    accounts = api.get_accounts(tenant, where='Status=="ACTIVE"').accounts
    assert "1210" in {a.code for a in accounts} and "4095" not in {a.code for a in accounts}
    assert api.get_organisations(tenant).organisations[0].name == "Demo Rentals (US)"
    created = api.create_manual_journals(
        tenant,
        ManualJournals(manual_journals=[_journal("SDK day", "100.00", "100.00")]),
        idempotency_key="sdk-day-1",
    )
    journal = created.manual_journals[0]
    assert journal.date == date(2026, 11, 20) and journal.status == "POSTED"
    found = api.get_manual_journals(tenant, where='Narration=="SDK day"').manual_journals
    assert [j.manual_journal_id for j in found] == [journal.manual_journal_id]


async def test_sdk_sees_bad_request_for_unbalanced(sdk_urls: RunningSandbox) -> None:
    tokens = await token_set(sdk_urls.client)
    api = AccountingApi(_client(tokens), base_url=f"{sdk_urls.url}/api.xro/2.0")
    with pytest.raises(AccountingBadRequestException) as caught:
        api.create_manual_journals(
            tokens["tenant_ids"][0],
            ManualJournals(manual_journals=[_journal("bad", "100.00", "10.00")]),
        )
    assert "The total debits (100.00) must equal total credits (-10.00)" in str(caught.value.body)


async def test_sdk_sees_rate_limit(sdk_urls: RunningSandbox) -> None:
    tokens = await token_set(sdk_urls.client)
    # A 429 with Retry-After is retried by urllib3 inside the SDK (it sleeps Retry-After,
    # up to 3 times); a concurrency breach carries none, so the SDK raises at once.
    await sdk_urls.client.put(
        "/_control/faults", json={"force_429": 1, "force_429_problem": "concurrent"}
    )
    api = AccountingApi(_client(tokens), base_url=f"{sdk_urls.url}/api.xro/2.0")
    with pytest.raises(RateLimitException) as caught:
        api.get_accounts(tokens["tenant_ids"][0])
    assert caught.value.rate_limit == "concurrent"
    assert "per concurrent rate limit" in caught.value.error_message
