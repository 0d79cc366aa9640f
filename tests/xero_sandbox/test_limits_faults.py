"""Rate limits (429 with Xero's headers) and injected faults."""

import asyncio

import httpx
import pytest

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, journal, refresh, token_set


async def test_minute_limit_answers_429_with_headers(sandbox: RunningSandbox) -> None:
    await sandbox.client.put("/_control/limits", json={"per_minute": 3})
    tokens = await token_set(sandbox.client)
    seen = []
    for _ in range(3):
        answer = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
        seen.append(answer.headers["X-MinLimit-Remaining"])
        assert answer.headers["X-DayLimit-Remaining"] and answer.headers["X-AppMinLimit-Remaining"]
    assert seen == ["2", "1", "0"]
    limited = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    await sandbox.client.post("/_control/clock/advance", json={"seconds": 61})
    assert (await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))).status_code == 200
    stats = (await sandbox.client.get("/_control/stats")).json()
    assert stats["rate_limited"] == {tokens["tenant_ids"][0]: 1}


async def test_day_limit(sandbox: RunningSandbox) -> None:
    await sandbox.client.put("/_control/limits", json={"per_day": 2})
    tokens = await token_set(sandbox.client)
    for _ in range(2):
        await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    limited = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert int(limited.headers["Retry-After"]) > 3600


async def test_concurrent_limit(sandbox: RunningSandbox) -> None:
    await sandbox.client.put("/_control/limits", json={"concurrent": 2})
    await sandbox.client.put("/_control/faults", json={"latency_ms": {"min": 300, "max": 300}})
    tokens = await token_set(sandbox.client)
    answers = await asyncio.gather(
        *[sandbox.client.get(f"{API}/Accounts", headers=headers(tokens)) for _ in range(4)]
    )
    problems = sorted(a.headers.get("X-Rate-Limit-Problem", "") for a in answers)
    assert problems == ["", "", "concurrent", "concurrent"]
    stats = (await sandbox.client.get("/_control/stats")).json()
    assert stats["max_concurrent"][tokens["tenant_ids"][0]] == 2


async def test_force_429(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"force_429": 1})
    first = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    second = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    assert (first.status_code, second.status_code) == (429, 200)
    assert first.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(first.headers["Retry-After"]) <= 60


async def test_error_rate_gives_500_or_503(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"error_rate": 1.0})
    answer = await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
    assert answer.status_code in (500, 503)
    await sandbox.client.delete("/_control/faults")
    assert (await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))).status_code == 200


async def test_faults_limited_to_a_tenant(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client, "multi@example.com")
    north, kiwi = tokens["tenant_ids"]
    await sandbox.client.put("/_control/faults", json={"error_rate": 1.0, "tenant_id": kiwi})
    assert (
        await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens, north))
    ).status_code == 200
    assert (
        await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens, kiwi))
    ).status_code >= 500


async def test_drop_closes_the_connection(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"drop_rate": 1.0})
    with pytest.raises(httpx.TransportError):
        async with httpx.AsyncClient(base_url=sandbox.url) as fresh:
            await fresh.get(f"{API}/Accounts", headers=headers(tokens))


async def test_timeout_holds_the_answer(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"timeout_rate": 1.0})
    with pytest.raises(httpx.TimeoutException):
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=0.5) as fresh:
            await fresh.get(f"{API}/Accounts", headers=headers(tokens))


async def test_lost_token_response_then_grace_recovers(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"lose_token_responses": 1})
    with pytest.raises(httpx.TransportError):
        async with httpx.AsyncClient(base_url=sandbox.url) as fresh:
            await refresh(fresh, tokens["refresh_token"])
    stats = (await sandbox.client.get("/_control/stats")).json()
    assert sum(stats["token_refreshes"].values()) == 1  # it happened inside the sandbox
    retry = await refresh(sandbox.client, tokens["refresh_token"])
    assert retry.status_code == 200  # within the grace period


async def test_control_validates_input(sandbox: RunningSandbox) -> None:
    bad = await sandbox.client.put("/_control/faults", json={"error_rate": 2})
    assert bad.status_code == 400 and "error_rate" in bad.json()["error"]
    bad = await sandbox.client.put("/_control/limits", json={"per_minute": "many"})
    assert bad.status_code == 400 and "per_minute" in bad.json()["error"]
    missing = await sandbox.client.post("/_control/grants", json={"email": "nobody@example.com"})
    assert missing.status_code == 404


async def _journal_count(sandbox: RunningSandbox) -> int:
    return len((await sandbox.client.get("/_control/journals")).json())


@pytest.mark.parametrize(
    ("lost_answer", "client_error"),
    [("drop", httpx.TransportError), ("timeout", httpx.TimeoutException), ("error", None)],
)
async def test_a_write_processed_then_its_answer_lost(
    sandbox: RunningSandbox, lost_answer: str, client_error: type[Exception] | None
) -> None:
    """Xero stored the journal; the caller never hears so. The key replays the answer."""
    tokens = await token_set(sandbox.client)
    before = await _journal_count(sandbox)
    faults = {"lose_write_answers": 1, "lost_answer": lost_answer}
    (await sandbox.client.put("/_control/faults", json=faults)).raise_for_status()
    url, body = f"{API}/ManualJournals", journal()
    keyed = {**headers(tokens), "Idempotency-Key": "k-1"}
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=0.5) as fresh:
        if client_error is None:
            assert (await fresh.put(url, json=body, headers=keyed)).status_code in (500, 503)
        else:
            with pytest.raises(client_error):
                await fresh.put(url, json=body, headers=keyed)
    assert await _journal_count(sandbox) == before + 1  # processed all the same
    again = await sandbox.client.put(url, json=body, headers=keyed)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert await _journal_count(sandbox) == before + 1


async def test_search_lag_hides_new_journals_from_lists_only(sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    await sandbox.client.put("/_control/faults", json={"search_lag_s": 60})
    stored = await sandbox.client.put(f"{API}/ManualJournals", json=journal(narration="lag"),
                                      headers=headers(tokens))
    journal_id = stored.json()["ManualJournals"][0]["ManualJournalID"]
    where = {"where": 'Narration=="lag"'}
    listed = await sandbox.client.get(f"{API}/ManualJournals", params=where,
                                      headers=headers(tokens))
    assert listed.json()["ManualJournals"] == []
    one = await sandbox.client.get(f"{API}/ManualJournals/{journal_id}", headers=headers(tokens))
    assert one.status_code == 200
    await sandbox.client.post("/_control/clock/advance", json={"seconds": 61})
    listed = await sandbox.client.get(f"{API}/ManualJournals", params=where,
                                      headers=headers(tokens))
    assert [j["ManualJournalID"] for j in listed.json()["ManualJournals"]] == [journal_id]


async def test_lost_answer_faults_validated(sandbox: RunningSandbox) -> None:
    bad = await sandbox.client.put("/_control/faults", json={"lost_answer": "vanish"})
    assert bad.status_code == 400 and "lost_answer" in bad.json()["error"]
    bad = await sandbox.client.put("/_control/faults", json={"lost_write_answer_rate": 1.5})
    assert bad.status_code == 400 and "lost_write_answer_rate" in bad.json()["error"]


async def test_app_minute_breaches_are_counted(sandbox: RunningSandbox) -> None:
    await sandbox.client.put("/_control/limits", json={"app_per_minute": 2})
    tokens = await token_set(sandbox.client)
    answers = [await sandbox.client.get(f"{API}/Accounts", headers=headers(tokens))
               for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["X-Rate-Limit-Problem"] == "appminute"
    stats = (await sandbox.client.get("/_control/stats")).json()
    assert stats["app_minute_breaches"] == 1
