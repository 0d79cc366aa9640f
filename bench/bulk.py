"""Scenarios of bulk work at Xero's real limits, where Xero calls are what is scarce:

- `backfill`: 2 stores x 400 days on one organisation with `glbridge pos backfill`, one
  process per store, as a user would run it: seconds, 429s, every day once;
- `many_orgs`: 1,000 organisations x 1 day arriving within a minute, an evening after
  each store connected: Xero calls per day in all (chart and organisation reads
  included) and breaches of the app-wide minute;
- `replicas`: the same days with 3 replicas of totals and posting against 1.

Each starts from stores already connected (their chart read at connect, as in a deployed
system) and counts the sandbox's calls from then on.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.provision import Store, provision_stores
from services.totals.domain import examples

REAL_LIMITS = {"concurrent": 5, "per_minute": 60, "per_day": 5000, "app_per_minute": 10000}
BACKFILL_FIRST = date(2023, 1, 1)


async def stats(client: httpx.AsyncClient, sandbox: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await client.get(f"{sandbox}/_control/stats")).json()
    return answer


def delta(after: dict[str, Any], before: dict[str, Any], key: str) -> int:
    value_after, value_before = after.get(key, 0), before.get(key, 0)
    if isinstance(value_after, dict):
        return int(sum(value_after.values()) - sum(value_before.values()))
    return int(value_after - value_before)


async def settle_connects(client: httpx.AsyncClient, sandbox: str, quiet_s: float = 2.0,
                          limit_s: float = 60.0) -> None:
    """Waits until the sandbox has had no call for `quiet_s`: each connect's chart read
    (posting reads it when a store connects) is done before the run is counted."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        now = (await stats(client, sandbox))["api_requests"]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        await asyncio.sleep(0.25)


async def journals_by_day(client: httpx.AsyncClient, sandbox: str, tenant_id: str
                          ) -> Counter[str]:
    """How many POSTED journals each day's reference has in the organisation."""
    journals = (await client.get(f"{sandbox}/_control/journals",
                                 params={"tenant_id": tenant_id})).json()
    return Counter(j["Narration"].rsplit("[", 1)[-1] for j in journals
                   if j["Status"] == "POSTED")


def backfill_process(totals_url: str, store: Store, totals: Path, days: int
                     ) -> subprocess.Popen[str]:
    last = BACKFILL_FIRST + timedelta(days=days - 1)
    return subprocess.Popen(
        [sys.executable, "-c", "from glbridge.cli import main; main()", "pos", "backfill",
         "--store", store.store_id,
         "--from", BACKFILL_FIRST.isoformat(), "--to", last.isoformat(),
         "--totals", str(totals), "--json"],
        env={**os.environ, "TOTALS_URL": totals_url, "GLBRIDGE_POS_API_KEY": store.api_key},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


async def backfill(client: httpx.AsyncClient, sandbox: str, auth_url: str, totals_url: str,
                   run_id: str, stores: int = 2, days: int = 400) -> dict[str, Any]:
    """`glbridge pos backfill` for each store of one organisation, side by side."""
    (await client.put(f"{sandbox}/_control/limits", json=REAL_LIMITS)).raise_for_status()
    made = await provision_stores(client, sandbox, auth_url, totals_url, f"bf{run_id}", 1,
                                  stores_per_organisation=stores)
    await settle_connects(client, sandbox)
    folder = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    totals = folder / "totals.json"
    totals.write_text(json.dumps(examples.example_day_totals()))
    before = await stats(client, sandbox)
    started = time.perf_counter()
    processes = [backfill_process(totals_url, store, totals, days) for store in made]
    outputs = await asyncio.gather(*(asyncio.to_thread(p.communicate) for p in processes))
    elapsed = time.perf_counter() - started
    after = await stats(client, sandbox)
    copies = await journals_by_day(client, sandbox, made[0].tenant_id)
    summaries = [json.loads(out) if out.strip().startswith("{") else {"output": out[-500:]}
                 for out, _ in outputs]
    return {
        "value": round(elapsed, 2),
        "stores": stores, "days_per_store": days, "organisations": 1,
        "exit_codes": [p.returncode for p in processes],
        "counts": [s.get("counts") for s in summaries],
        "xero_calls": delta(after, before, "api_requests"),
        "rate_limited_429": delta(after, before, "rate_limited"),
        "journals_in_xero": sum(copies.values()),
        "days_posted_twice": sum(1 for n in copies.values() if n > 1),
        "days_missing": stores * days - len(copies),
    }
