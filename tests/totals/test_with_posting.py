"""With the whole system (sandbox, auth, totals, posting as processes): an amended day
ends as exactly one live journal in Xero, and a reprint of it posts nothing twice."""

from decimal import Decimal

import httpx

from glbridge.connect import connect_store
from glbridge.system import System
from shared.contracts.examples import example_day_totals, example_setup


async def test_an_amended_day_ends_as_exactly_one_live_journal(system: System) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, "12")
        headers = {"X-Api-Key": key}
        store = f"{system.totals_url}/v1/stores/12"
        assert (await client.put(f"{store}/setup", json=example_setup(key))).status_code == 200
        day_url = f"{store}/days/2026-11-20"

        await client.post(f"{day_url}/close", json=example_day_totals(), headers=headers)
        first = (await client.get(day_url, params={"wait": 30}, headers=headers)).json()
        assert (first["status"], first["revision"]) == ("posted", 1), first

        amended = await client.post(f"{day_url}/close", json=example_day_totals(2),
                                    headers=headers)
        assert amended.json()["outcome"] == "amended"
        second = (await client.get(day_url, params={"wait": 30}, headers=headers)).json()
        assert (second["status"], second["revision"]) == ("posted", 2), second

        again = (await client.post(f"{day_url}/reprint", json={"post_to_xero": True},
                                   headers=headers)).json()
        assert again["post"]["outcome"] == "already-posted"
        assert again["post"]["journal_id"] == second["journal_id"]
        journals = (await client.get(f"{system.sandbox_url}/_control/journals")).json()

    live = [j for j in journals if j["Status"] != "VOIDED"]
    assert len(live) == 1, journals
    assert live[0]["ManualJournalID"] == second["journal_id"]
    assert "[glb:12:2026-11-20:2]" in live[0]["Narration"]
    debits = sum(Decimal(str(line["LineAmount"])) for line in live[0]["JournalLines"]
                 if Decimal(str(line["LineAmount"])) > 0)
    assert debits == Decimal("2629.34") * 2
