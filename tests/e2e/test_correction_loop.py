"""The store manager's correction loop, through the doors a POS uses: a day fails, the
cause is fixed in Xero (the sandbox's control API stands in for the accountant), the day
is posted again with `glbridge pos reprint --post`, and exactly one journal lands."""

import asyncio
from typing import Any

import httpx
from typer.testing import CliRunner

from glbridge import exits
from glbridge.connect import connect_store
from glbridge.ops import ops_app
from glbridge.pos import pos_app
from glbridge.system import System
from shared.contracts import examples

runner = CliRunner()
STORE = "21"


async def pos(system: System, key: str, *args: str) -> Any:
    env = {"TOTALS_URL": system.totals_url, "GLBRIDGE_POS_API_KEY": key}
    return await asyncio.to_thread(runner.invoke, pos_app, list(args), env=env)


async def test_a_failed_day_posts_once_after_its_cause_is_fixed_in_xero(system: System):
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, STORE)
        headers = {"X-Api-Key": key}
        body = examples.example_setup(key)
        body["accounts"]["rental"] = "4011"  # not in the organisation's chart
        saved = await client.put(f"{system.totals_url}/v1/stores/{STORE}/setup", json=body)
        assert saved.status_code == 200, saved.text
        tenant = saved.json()["api_key"]["tenant_id"]
        control = f"{system.sandbox_url}/_control"

        async def close_and_fail(day: str, words: str) -> str:
            """Closed at the POS: the command waits for Xero's answer and exits 3."""
            closed = await pos(system, key, "close-day", "-s", STORE, "-d", day)
            assert closed.exit_code == exits.FAILED, closed.output
            said = " ".join(closed.output.split())  # as words: the console wraps lines
            assert "failed" in said and words in said, said
            return said

        async def fix_in_xero(change: dict[str, Any]) -> None:
            patched = await client.patch(f"{control}/organisations/{tenant}", json=change)
            assert patched.status_code == 200, patched.text

        async def post_again(day: str) -> str:
            result = await pos(system, key, "reprint", "-s", STORE, "-d", day, "--post")
            assert result.exit_code == 0, result.output
            assert "Posted to Xero" in result.output, result.output
            return str(result.output)

        # 1. An account code that does not exist: the accountant creates it.
        await close_and_fail("2026-11-16", "4011")
        await fix_in_xero({"accounts": [{"Code": "4011", "Name": "Equipment Rental",
                                         "Type": "REVENUE"}]})
        await post_again("2026-11-16")

        # 2. An archived account: the accountant restores it.
        await fix_in_xero({"accounts": [{"Code": "4011", "Status": "ARCHIVED"}]})
        await close_and_fail("2026-11-17", "4011")
        await fix_in_xero({"accounts": [{"Code": "4011", "Status": "ACTIVE"}]})
        await post_again("2026-11-17")

        # 3. A day inside a locked period: the accountant moves the lock date back. The
        # headline names whose setting it is; Xero's own words, with the date, under it.
        await fix_in_xero({"period_lock_date": "2026-11-18"})
        said = await close_and_fail("2026-11-18", "lock date")
        assert "Xero organisation settings" in said and "Account Numbers setup" not in said
        assert "Xero said:" in said and "2026-11-18" in said
        await fix_in_xero({"period_lock_date": "2026-11-10"})
        await post_again("2026-11-18")

        # 4. The same through the ops page's Retry, from `glbridge ops retry`.
        await fix_in_xero({"period_lock_date": "2026-11-19"})
        await close_and_fail("2026-11-19", "lock date")
        await fix_in_xero({"period_lock_date": "2026-11-10"})
        retried = await asyncio.to_thread(
            runner.invoke, ops_app, ["retry", "-s", STORE, "-d", "2026-11-19"],
            env={"TOTALS_URL": system.totals_url, "OPS_TOKEN": system.credentials.ops})
        assert retried.exit_code == 0, retried.output
        assert "Sent to Xero" in retried.output
        url = f"{system.totals_url}/v1/stores/{STORE}/days/2026-11-19"
        state = (await client.get(url, params={"wait": 60}, headers=headers)).json()
        assert state["status"] == "posted", state

        # A posted day is never posted twice: asking again answers with its journal.
        again = await pos(system, key, "reprint", "-s", STORE, "-d", "2026-11-16", "--post")
        assert again.exit_code == 0, again.output
        assert "Already posted" in again.output
        day = (await client.get(f"{system.totals_url}/v1/stores/{STORE}/days/2026-11-16",
                                headers=headers)).json()
        assert day["journal_id"] and day["journal_id"] in again.output.replace("\n", "")

        journals = (await client.get(f"{control}/journals", params={"tenant_id": tenant})
                    ).json()
    dates = sorted(j["Date"][:10] for j in journals)
    assert dates == ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"], dates
