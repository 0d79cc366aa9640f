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
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.drive import (
    FIRST_DAY,
    ProcessWatch,
    Run,
    close_days,
    delete_namespace,
    schedule,
    system_cpu_ms_per_day,
    watch_outcomes,
)
from bench.hops import reported_commits
from bench.profile import Profiler
from bench.provision import Store, provision_stores
from bench.statements import Statements
from glbridge.processes import ServiceProcess, free_port
from glbridge.system import Ports, System
from shared.contracts import examples

REAL_LIMITS = {"concurrent": 5, "per_minute": 60, "per_day": 5000, "app_per_minute": 10000}
BACKFILL_FIRST = date(2023, 1, 1)
# Days each store closes before a replicas phase is measured (see `_phase`).
WARM_DAYS = 3


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


async def run_days(client: httpx.AsyncClient, system: System, amqp_url: str,
                   stores: list[Store], days_per_store: int, offered_per_s: float | None,
                   totals_urls: list[str] | None = None, first_day: date = FIRST_DAY
                   ) -> tuple[Run, float]:
    """Closes the days and waits for every outcome: (the run, seconds to the last)."""
    run = Run()
    listener = await watch_outcomes(amqp_url, system.namespace, run)
    try:
        plan = list(schedule(stores, len(stores) * days_per_store, first_day))
        await close_days(totals_urls or [system.totals_url], plan, run, offered_per_s)
        try:
            await asyncio.wait_for(run.all_done.wait(), max(120.0, len(plan) / 5))
        except TimeoutError:
            pass
    finally:
        await listener.close()
    return run, run.elapsed_s()


async def age_charts(system: System, hours: float) -> None:
    """An evening after the stores connected: every chart read `hours` ago, and posting
    started since (its memory holds none), as after a night's deployment."""
    connection = await asyncpg.connect(system.database_url)
    try:
        await connection.execute(
            "UPDATE posting.charts SET fetched_at = now() - make_interval(secs => $1)",
            hours * 3600)
    finally:
        await connection.close()
    posting = system.service("posting")
    posting.stop()
    posting.spawn()
    await asyncio.to_thread(posting.wait_ready, "/readyz", 60.0)


async def many_orgs(client: httpx.AsyncClient, system: System, amqp_url: str,
                    organisations: int = 1000) -> dict[str, Any]:
    """One day of each organisation, all arriving within a minute, an evening after the
    stores connected: Xero calls per day in all, chart and organisation reads included."""
    sandbox = system.sandbox_url
    (await client.put(f"{sandbox}/_control/limits", json=REAL_LIMITS)).raise_for_status()
    stores = await provision_stores(client, sandbox, system.auth_url, system.totals_url,
                                    f"mo{uuid.uuid4().hex[:6]}", organisations)
    await settle_connects(client, sandbox)
    await age_charts(system, hours=1.0)
    before = await stats(client, sandbox)
    run, elapsed = await run_days(client, system, amqp_url, stores, 1,
                                  offered_per_s=organisations / 50)
    await settle_connects(client, sandbox)  # reads started behind the days count too
    after = await stats(client, sandbox)
    calls = delta(after, before, "api_requests")
    return {
        "value": round(calls / max(len(run.outcomes), 1), 3),
        "organisations": organisations, "days": len(run.outcomes),
        "offered_over_s": 50, "elapsed_s": round(elapsed, 2), "xero_calls": calls,
        "rate_limited_429": delta(after, before, "rate_limited"),
        "app_minute_breaches": delta(after, before, "app_minute_breaches"),
        "statuses": run.statuses(),
        "conditions": "charts read at connect, 1 hour old, posting restarted since",
    }


def extra_replicas(system: System, count: int, log_dir: Path | None
                   ) -> list[ServiceProcess]:
    """`count` more processes each of totals and posting, as configured as the system's,
    sharing its database, broker and sandbox."""
    made = []
    for _ in range(count):
        for module, variable in (("services.totals", "TOTALS_PORT"),
                                 ("services.posting", "POSTING_PORT")):
            port = free_port()
            made.append(ServiceProcess(module, port, {**system.env(), variable: str(port)},
                                       log_dir))
    for process in made:
        process.spawn()
    for process in made:
        process.wait_ready("/readyz", 60.0)
    return made


# Every replica's pools small enough that 3 of each service fit in PostgreSQL's 100
# connections (shared with whatever else runs on the machine).
REPLICA_POOLS = {"DB_POOL_MAX": "8", "POSTING_DB_POOL_RELAXED_MAX": "4"}


def replica_system(database_url: str, amqp_url: str, log_dir: Path | None) -> System:
    return System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=amqp_url,
        namespace=f"bench-r-{uuid.uuid4().hex[:6]}", sandbox_control=True, log_dir=log_dir,
        extra_env={"LOG_LEVEL": "WARNING", **REPLICA_POOLS})


async def calls_by_replica(client: httpx.AsyncClient, urls: list[str]) -> dict[str, float]:
    """Xero calls each posting process made (its own metrics)."""
    counted = {}
    for url in urls:
        text = (await client.get(f"{url}/metrics")).text
        counted[url] = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                           if line.startswith("glbridge_posting_xero_calls_total{"))
    return counted


def _pids(system: System, more: list[ServiceProcess]) -> dict[str, int]:
    """Every process of the system and its extra replicas, as `service:port`."""
    processes = [*system.processes.values(), *more]
    return {f"{p.module.rsplit('.', 1)[-1]}:{p.port}": p.process.pid
            for p in processes if p.process is not None}


def _cpu_by_service(samples: dict[str, Any]) -> dict[str, float]:
    """CPU seconds of the run by service, its replicas summed; PostgreSQL and RabbitMQ
    (which ProcessWatch adds) under their own names."""
    summed: Counter[str] = Counter()
    for name, sample in samples.items():
        summed[name.partition(":")[0]] += sample.cpu_s
    return {name: round(cpu, 2) for name, cpu in sorted(summed.items())}


# The phases' replica counts, in the order run: 1, 3, 3, 1. The machine's speed drifts over
# the minutes a run takes (one replica measured 266 to 360 days/s in runs minutes apart);
# in this order a drift that is steady over the run weighs on both counts alike, where
# 1 then 3 put all of it on the ratio.
PHASES = (1, 3, 3, 1)


async def replicas(client: httpx.AsyncClient, database_url: str, amqp_url: str,
                   days: int = 3000, organisations: int = 500, latency_ms: int = 300,
                   log_dir: Path | None = None, statements: Statements | None = None,
                   profile_dir: Path | None = None, offered_per_s: float | None = None
                   ) -> dict[str, Any]:
    """The same number of days through 1, 3, 3 and 1 replicas of totals and posting (the
    same organisations, later days each phase), Xero's limits and latency: throughput of
    the three-replica phases over the one-replica phases. A system of its own, every
    process with the same small pools. The days are closed as fast as the system takes
    them, or at `offered_per_s`: below what one replica takes, the figure shows whether
    replicas lose anything to one another (leases, budgets) rather than to sharing the
    machine's cores."""
    system = replica_system(database_url, amqp_url, log_dir)
    await asyncio.to_thread(system.start)
    try:
        return await _replicas(client, system, amqp_url, days, organisations, latency_ms,
                               log_dir, statements, profile_dir, offered_per_s)
    finally:
        system.stop()
        await delete_namespace(amqp_url, system.namespace)


async def _replicas(client: httpx.AsyncClient, system: System, amqp_url: str, days: int,
                    organisations: int, latency_ms: int, log_dir: Path | None,
                    statements: Statements | None, profile_dir: Path | None,
                    offered_per_s: float | None) -> dict[str, Any]:
    sandbox = system.sandbox_url
    (await client.put(f"{sandbox}/_control/limits", json=REAL_LIMITS)).raise_for_status()
    await client.delete(f"{sandbox}/_control/faults")
    stores = await provision_stores(client, sandbox, system.auth_url, system.totals_url,
                                    f"r{uuid.uuid4().hex[:6]}", organisations)
    await settle_connects(client, sandbox)
    per_store = days // organisations
    phases: list[dict[str, Any]] = []
    more: list[ServiceProcess] = []
    try:
        await client.put(f"{sandbox}/_control/faults", json={
            "latency_ms": {"min": latency_ms, "max": latency_ms}})
        for index, count in enumerate(PHASES):
            if count > 1 and not more:
                more = await asyncio.to_thread(extra_replicas, system, count - 1, log_dir)
            elif count == 1 and more:
                await asyncio.to_thread(_stop, more)
                more = []
            name = f"replicas_{count}" + ("_again" if count in PHASES[:index] else "")
            first = FIRST_DAY + timedelta(days=index * (WARM_DAYS + per_store))
            phases.append({"replicas": count, **await _phase(
                client, system, more, amqp_url, stores, per_store, first, name,
                statements, profile_dir, offered_per_s)})
    finally:
        await client.delete(f"{sandbox}/_control/faults")
        _stop(more)
    return {"value": three_over_one(phases), "days": days,
            "organisations": organisations, "latency_ms": latency_ms,
            "offered_per_s": offered_per_s, "order": list(PHASES), "phases": phases}


def three_over_one(phases: list[dict[str, Any]]) -> float | None:
    """The three-replica phases' days/s over the one-replica phases' (summed, so that
    with 1, 3, 3, 1 each count has its early and its late phase)."""
    one = sum(p["days_per_s"] for p in phases if p["replicas"] == 1)
    three = sum(p["days_per_s"] for p in phases if p["replicas"] == 3)
    return round(three / one, 3) if one else None


def _stop(processes: list[ServiceProcess]) -> None:
    for process in processes:
        process.stop()


async def _phase(client: httpx.AsyncClient, system: System, more: list[ServiceProcess],
                 amqp_url: str, stores: list[Store], per_store: int, first: date,
                 name: str, statements: Statements | None, profile_dir: Path | None,
                 offered_per_s: float | None) -> dict[str, Any]:
    """`per_store` days of every store from `first`, through the running replicas."""
    sandbox = system.sandbox_url
    postings = [system.posting_url, *(p.url for p in more if p.module == "services.posting")]
    totals = [system.totals_url, *(p.url for p in more if p.module == "services.totals")]
    # Every process warmed alike, as replicas that have served for a while are: each store
    # closes the three days before, so that it has been seen by every totals replica (its
    # key checked and cached) and its organisation drained (token and chart at hand).
    # Else new replicas would be measured cold against one that had served the stores'
    # set-up.
    await run_days(client, system, amqp_url, stores, WARM_DAYS, None, totals, first)
    calls_before = await calls_by_replica(client, postings)
    before = await stats(client, sandbox)
    commits_before = await reported_commits(system.database_url)
    if statements:
        await statements.start()
    pids = _pids(system, more)
    watch = ProcessWatch(pids)
    profiler = Profiler(pids, profile_dir, name) if profile_dir else None
    if profiler:
        profiler.start()
    run, elapsed = await run_days(client, system, amqp_url, stores, per_store, offered_per_s,
                                  totals, first + timedelta(days=WARM_DAYS))
    cpu = await watch.stop()
    if profiler:
        profiler.stop()
    if statements:
        await statements.write(name)
    committed = await reported_commits(system.database_url) - commits_before
    after = await stats(client, sandbox)
    calls_after = await calls_by_replica(client, postings)
    by_service = _cpu_by_service(cpu)
    return {
        "days": len(run.outcomes), "elapsed_s": round(elapsed, 2),
        "days_per_s": round(len(run.outcomes) / elapsed, 1) if elapsed else 0.0,
        "statuses": run.statuses(),
        "rate_limited_429": delta(after, before, "rate_limited"),
        "max_concurrent": max(after["max_concurrent"].values(), default=0),
        "xero_calls_by_replica": [round(calls_after[u] - calls_before[u]) for u in postings],
        "cpu_s": by_service,
        "cpu_ms_per_day": round(system_cpu_ms_per_day(by_service, len(run.outcomes),
                                                      ("xero_sandbox",)), 2)
        if run.outcomes else None,
        "pg_commits_per_day": round(committed / len(run.outcomes), 2)
        if run.outcomes else None,
    }
