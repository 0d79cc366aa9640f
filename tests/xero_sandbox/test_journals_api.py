"""ManualJournals over HTTP: Xero's rules and messages, summarizeErrors, where, void."""

from typing import Any

import httpx

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, journal, token_set


async def _put(
    client: httpx.AsyncClient,
    tokens: dict[str, Any],
    *journals: dict[str, Any],
    summarize: bool = True,
    tenant: str | None = None,
) -> httpx.Response:
    params = {} if summarize else {"summarizeErrors": "false"}
    return await client.put(
        f"{API}/ManualJournals",
        params=params,
        headers=headers(tokens, tenant),
        json={"ManualJournals": list(journals)},
    )


def _errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Type"] == "ValidationException" and body["ErrorNumber"] == 10
    return [e["Message"] for el in body["Elements"] for e in el["ValidationErrors"]]


async def test_posted_journal_is_stored(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    answer = await _put(sandbox.client, tokens, journal())
    assert answer.status_code == 200
    created = answer.json()["ManualJournals"][0]
    assert created["Status"] == "POSTED" and created["Date"] == "/Date(1795132800000+0000)/"
    assert [ln["LineAmount"] for ln in created["JournalLines"]] == [100.0, -100.0]
    stored = (await sandbox.client.get("/_control/journals")).json()
    assert [(j["ManualJournalID"], j["Status"]) for j in stored] == [
        (created["ManualJournalID"], "POSTED")
    ]
    assert stored[0]["JournalLines"][0]["LineAmount"] == "100.00"


async def test_draft_by_default(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal()
    del body["Status"]
    answer = await _put(sandbox.client, tokens, body)
    assert answer.json()["ManualJournals"][0]["Status"] == "DRAFT"


async def test_unbalanced_is_refused_with_xeros_message(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    answer = await _put(sandbox.client, tokens, journal(amount="100.00", credit="10.00"))
    assert _errors(answer) == ["The total debits (100.00) must equal total credits (-10.00)"]
    assert (await sandbox.client.get("/_control/journals")).json() == []


async def test_unknown_code_is_dropped_with_a_warning(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal()
    body["JournalLines"].append({"LineAmount": 5.00, "AccountCode": "476"})
    answer = await _put(sandbox.client, tokens, body, summarize=False)
    assert answer.status_code == 200
    created = answer.json()["ManualJournals"][0]
    assert created["StatusAttributeString"] == "WARNING"
    warning = "Account code '476' has been removed as it does not match a recognised account."
    assert created["Warnings"] == [{"Message": warning}]
    assert [ln["AccountCode"] for ln in created["JournalLines"]] == ["1210", "4000"]


async def test_dropping_a_line_can_unbalance_the_journal(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal(amount="100.00", credit="95.00")
    body["JournalLines"].append({"LineAmount": -5.00, "AccountCode": "476"})
    assert _errors(await _put(sandbox.client, tokens, body)) == [
        "The total debits (100.00) must equal total credits (-95.00)"
    ]


async def test_refused_accounts(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    cases = {
        "090": "Account code '090' is not a valid code for this document",
        "1100": "Account code '1100' is not a valid code for this document",
        "800": "Account code '800' is not a valid code for this document",
        "4095": "Account code '4095' has been archived, or deleted. Each line item must "
        "reference a valid account.",
    }
    for code, message in cases.items():
        body = journal()
        body["JournalLines"][1]["AccountCode"] = code
        assert _errors(await _put(sandbox.client, tokens, body)) == [message], code


async def test_tax_type_checked(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal()
    body["JournalLines"][1]["TaxType"] = "TAX001"  # 4000 is REVENUE: allowed
    assert (await _put(sandbox.client, tokens, body)).status_code == 200
    body["JournalLines"][0]["TaxType"] = "TAX001"  # 1210 is CURRENT: refused
    assert _errors(await _put(sandbox.client, tokens, body)) == [
        "The TaxType code 'TAX001' cannot be used with account code '1210'."
    ]


async def test_lock_date_and_archived_in_locked_org(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client, "locked@example.com")
    org = (await sandbox.client.get(f"{API}/Organisation", headers=headers(tokens))).json()
    assert org["Organisations"][0]["PeriodLockDate"].startswith("/Date(")
    lock = next(
        o
        for o in (await sandbox.client.get("/_control/organisations")).json()
        if o["name"] == "Harbour Hire (Locked)"
    )["period_lock_date"]
    messages = _errors(await _put(sandbox.client, tokens, {**journal(), "Date": lock}))
    assert any("lock date" in m for m in messages)
    assert any("'4000' has been archived" in m for m in messages)


async def test_control_patch_lock_date(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.patch(
        f"/_control/organisations/{tokens['tenant_ids'][0]}",
        json={
            "period_lock_date": "2026-11-30",
            "accounts": [{"Code": "1210", "Status": "ARCHIVED"}],
        },
    )
    messages = _errors(await _put(sandbox.client, tokens, journal()))
    assert len(messages) == 2


async def test_fewer_than_two_lines_and_empty_narration(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal(narration="")
    body["JournalLines"] = body["JournalLines"][:1]
    messages = _errors(await _put(sandbox.client, tokens, body))
    assert "Narration cannot be empty" in messages
    assert "A manual journal must have at least two journal lines" in messages


async def test_summarize_false_stores_only_good_ones(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    answer = await _put(
        sandbox.client, tokens, journal("good"), journal("bad", credit="1.00"), summarize=False
    )
    assert answer.status_code == 200
    states = [j["StatusAttributeString"] for j in answer.json()["ManualJournals"]]
    assert states == ["OK", "ERROR"]
    assert [j["Narration"] for j in (await sandbox.client.get("/_control/journals")).json()] == [
        "good"
    ]


async def test_where_narration_and_void(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await _put(sandbox.client, tokens, journal("Store 1 day A"), journal("Store 1 day B"))
    found = await sandbox.client.get(
        f"{API}/ManualJournals",
        headers=headers(tokens),
        params={"where": 'Narration=="Store 1 day B"'},
    )
    [one] = found.json()["ManualJournals"]
    assert one["Narration"] == "Store 1 day B" and "JournalLines" not in one
    # The spec's ManualJournal requires Narration: a bare status is refused as Xero does.
    short = await sandbox.client.post(
        f"{API}/ManualJournals/{one['ManualJournalID']}",
        headers=headers(tokens),
        json={"ManualJournals": [{"Status": "VOIDED"}]},
    )
    assert short.status_code == 400 and short.json()["Type"] == "ValidationException"
    [element] = short.json()["Elements"]
    assert element["ValidationErrors"] == [{"Message": "Narration cannot be empty"}]
    as_posted = {**journal("Store 1 day B"), "Status": "VOIDED"}
    voided = await sandbox.client.post(
        f"{API}/ManualJournals/{one['ManualJournalID']}",
        headers=headers(tokens),
        json={"ManualJournals": [as_posted]},
    )
    assert voided.status_code == 200 and voided.json()["ManualJournals"][0]["Status"] == "VOIDED"
    again = await sandbox.client.post(
        f"{API}/ManualJournals/{one['ManualJournalID']}",
        headers=headers(tokens),
        json=as_posted,
    )
    assert again.status_code == 400
    stored = {
        j["Narration"]: j["Status"] for j in (await sandbox.client.get("/_control/journals")).json()
    }
    assert stored == {"Store 1 day A": "POSTED", "Store 1 day B": "VOIDED"}


async def test_get_one_with_lines_and_paged_list(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    created = (await _put(sandbox.client, tokens, journal())).json()["ManualJournals"][0]
    one = await sandbox.client.get(
        f"{API}/ManualJournals/{created['ManualJournalID']}", headers=headers(tokens)
    )
    assert len(one.json()["ManualJournals"][0]["JournalLines"]) == 2
    paged = await sandbox.client.get(f"{API}/ManualJournals?page=1", headers=headers(tokens))
    assert paged.json()["pagination"]["itemCount"] == 1
    assert "JournalLines" in paged.json()["ManualJournals"][0]
    missing = await sandbox.client.get(
        f"{API}/ManualJournals/00000000-0000-0000-0000-000000000001", headers=headers(tokens)
    )
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"


async def test_accounts_where(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)

    async def codes(where: str) -> list[str]:
        answer = await sandbox.client.get(
            f"{API}/Accounts", headers=headers(tokens), params={"where": where}
        )
        return [a["Code"] for a in answer.json()["Accounts"]]

    assert await codes('Type=="BANK"') == ["090"]
    assert await codes('Code=="4000" OR Code=="6900"') == ["4000", "6900"]
    assert "4095" not in await codes('Status=="ACTIVE"')
    assert await codes('Status=="ARCHIVED"') == ["4095"]
    bad = await sandbox.client.get(
        f"{API}/Accounts", headers=headers(tokens), params={"where": 'Colour=="red"'}
    )
    assert bad.status_code == 400 and bad.json()["Type"] == "QueryParseException"


async def test_idempotency_key(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    keyed = headers(tokens) | {"Idempotency-Key": "store-1-2026-11-20"}
    body = {"ManualJournals": [journal()]}
    first = await sandbox.client.put(f"{API}/ManualJournals", headers=keyed, json=body)
    again = await sandbox.client.put(f"{API}/ManualJournals", headers=keyed, json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len((await sandbox.client.get("/_control/journals")).json()) == 1
    other = await sandbox.client.put(
        f"{API}/ManualJournals", headers=keyed, json={"ManualJournals": [journal("another")]}
    )
    assert other.status_code == 400
    assert "Idempotency-Key" in other.json()["Message"]


async def test_xml_unless_json_is_asked_for(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    plain = {k: v for k, v in headers(tokens).items() if k != "Accept"}
    answer = await sandbox.client.get(f"{API}/Accounts", headers=plain)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.text.startswith("<Response>") and "<Account><AccountID>" in answer.text
    assert answer.headers["X-MinLimit-Remaining"]
    refused = await sandbox.client.put(
        f"{API}/ManualJournals", headers=plain, json={"ManualJournals": [journal(credit="1")]}
    )
    assert refused.status_code == 400 and refused.text.startswith("<ApiException>")
    assert "<ValidationError><Message>The total debits" in refused.text


async def test_control_restores_archived_accounts_never_deleted_ones(
    sandbox: RunningSandbox,
) -> None:
    """As in Xero (help.xero.com Settings_ChartofAccountsArchive)."""
    tokens = await token_set(sandbox.client)
    org = f"/_control/organisations/{tokens['tenant_ids'][0]}"
    archived = await sandbox.client.patch(org, json={"accounts": [
        {"Code": "1210", "Status": "ARCHIVED"}, {"Code": "4010", "Status": "DELETED"}]})
    assert archived.status_code == 200, archived.text
    restored = await sandbox.client.patch(org, json={"accounts": [
        {"Code": "1210", "Status": "ACTIVE"}]})
    assert restored.status_code == 200, restored.text
    undeleted = await sandbox.client.patch(org, json={"accounts": [
        {"Code": "4010", "Status": "ACTIVE"}]})
    assert undeleted.status_code == 400
    assert "cannot restore a deleted account" in undeleted.text
