"""`make bench`: the system against its peers, on the same days and the same sandbox.

    .venv/bin/python -m bench                 # every scenario (several minutes)
    .venv/bin/python -m bench --quick         # small sizes, to see that it works

Prints one table, writes bench/results/latest.json (one key per figure, each
with the conditions it was measured under), a JSON of every run and a PNG plot.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from bench import bulk
from bench.drive import (
    INFRA_PROCESSES,
    ProcessWatch,
    Run,
    close_days,
    delete_namespace,
    percentile,
    schedule,
    system_cpu_ms_per_day,
    watch_outcomes,
)
from bench.floor import measure_floor
from bench.hops import HOPS, hop_latencies, reported_commits
from bench.profile import Profiler
from bench.provision import Store, provision_stores
from bench.sdk_script import ScriptDay, SdkScript
from bench.statements import Statements
from glbridge.processes import free_port
from glbridge.system import Ports, System
from services.totals.domain import examples as totals_examples
from services.totals.domain.journal import build_day
from shared.db import drop_database, ensure_database

RESULTS = Path(__file__).parent / "results"
console = Console(width=160)


@dataclass
class Scenario:
    name: str
    days: int
    organisations: int
    latency_ms: int = 0
    real_limits: bool = False
    offered_per_s: float | None = None


# Among the processes measured, the two that are not the system: the load generator, and
# the stand-in for Xero.
BENCH_PROCESS = "bench (POS + watcher)"
SANDBOX_PROCESS = "xero-sandbox"


@dataclass
class Figures:
    scenario: Scenario
    days_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # Days after each organisation's first: its token and chart are known by then (the
    # first day of an organisation also fetches those: three more calls).
    p99_warm_ms: float
    elapsed_s: float
    statuses: dict[str, int]
    refused: int
    xero_calls: int
    rate_limited: int
    token_refreshes_per_connection: float
    processes: dict[str, dict[str, float]]
    series: dict[str, list[Any]] = field(default_factory=dict)
    # p50, p99 and max of each hop from close to outcome (see bench/hops.py).
    hops_ms: dict[str, Any] = field(default_factory=dict)
    # PostgreSQL's transactions (each statement outside one counts) per day posted.
    pg_commits_per_day: float = 0.0

    @property
    def cpu_ms_per_day(self) -> float:
        """CPU of the system (its services, PostgreSQL and RabbitMQ; not the sandbox or
        the bench's own POS) per day with an outcome. At a low rate a day costs more than
        at full speed, as nothing groups: see
        docs/performance.md, "Three replicas: what the extra CPU is"."""
        return system_cpu_ms_per_day({name: p["cpu_s"] for name, p in self.processes.items()},
                                     sum(self.statuses.values()),
                                     (BENCH_PROCESS, SANDBOX_PROCESS))


async def run_scenario(system: System, client: httpx.AsyncClient, scenario: Scenario,
                       amqp_url: str, profile_dir: Path | None = None,
                       statements: Statements | None = None,
                       ) -> tuple[Figures, list[Store]]:
    sandbox = system.sandbox_url
    await client.delete(f"{sandbox}/_control/faults")
    limits = ({"concurrent": 5, "per_minute": 60, "per_day": 5000, "app_per_minute": 10000}
              if scenario.real_limits else
              {"concurrent": 1000, "per_minute": 10**9, "per_day": 10**9,
               "app_per_minute": 10**9})
    (await client.put(f"{sandbox}/_control/limits", json=limits)).raise_for_status()
    run_id = uuid.uuid4().hex[:6]
    stores = await provision_stores(client, sandbox, system.auth_url, system.totals_url, run_id,
                                    scenario.organisations)
    if scenario.latency_ms:
        await client.put(f"{sandbox}/_control/faults", json={
            "latency_ms": {"min": scenario.latency_ms, "max": scenario.latency_ms}})
    before = (await client.get(f"{sandbox}/_control/stats")).json()
    commits_before = await reported_commits(system.database_url)
    run = Run()
    listener = await watch_outcomes(amqp_url, system.namespace, run)
    pids = {name: p.process.pid for name, p in system.processes.items()
            if p.process is not None}
    # The load generator's own CPU comes from the same two cores: it is shown too.
    watch = ProcessWatch({**pids, BENCH_PROCESS: os.getpid()})
    watch.start()
    profiler = Profiler(pids, profile_dir, scenario.name) if profile_dir else None
    if profiler:
        profiler.start()
    if statements:
        await statements.start()
    try:
        plan = list(schedule(stores, scenario.days))
        await close_days(system.totals_url, plan, run, scenario.offered_per_s)
        timeout = max(120.0, scenario.days / 5)
        try:
            await asyncio.wait_for(run.all_done.wait(), timeout)
        except TimeoutError:
            console.print(f"[red]{scenario.name}: {run.expected - len(run.outcomes)} days "
                          f"without an outcome after {timeout:.0f}s[/red]")
    finally:
        samples = await watch.stop()
        if profiler:
            profiler.stop()
        if statements:
            await statements.write(scenario.name)
        await listener.close()
    after = (await client.get(f"{sandbox}/_control/stats")).json()
    figures = _figures(scenario, run, before, after, samples, stores)
    days = len(run.outcomes)
    committed = await reported_commits(system.database_url) - commits_before
    figures.pg_commits_per_day = round(committed / days, 2) if days else 0.0
    figures.hops_ms = await hop_latencies(system.database_url, [s.store_id for s in stores])
    return figures, stores


def _delta(after: dict[str, Any], before: dict[str, Any], key: str) -> int:
    value_after, value_before = after.get(key, {}), before.get(key, {})
    if isinstance(value_after, dict):
        return int(sum(value_after.values()) - sum(value_before.values()))
    return int(value_after - value_before)


def _figures(scenario: Scenario, run: Run, before: dict[str, Any], after: dict[str, Any],
             samples: dict[str, Any], stores: list[Store]) -> Figures:
    latencies = run.latencies_ms()
    elapsed = run.elapsed_s()
    completions = sorted(done - run.started for done, _ in run.outcomes.values())
    return Figures(
        scenario=scenario,
        days_per_s=len(run.outcomes) / elapsed if elapsed else 0.0,
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        p99_warm_ms=percentile(run.latencies_ms(after_first_day=True), 0.99),
        elapsed_s=elapsed,
        statuses=run.statuses(),
        refused=len(run.refused),
        xero_calls=_delta(after, before, "api_requests"),
        rate_limited=_delta(after, before, "rate_limited"),
        token_refreshes_per_connection=_delta(after, before, "token_refreshes") / len(stores),
        processes={name: {"cpu_s": round(s.cpu_s, 2), "peak_rss_mb": round(s.peak_rss_mb, 1)}
                   for name, s in samples.items()},
        series={"completed_at_s": completions, "latency_ms": latencies,
                "latency_over_run": run.latency_over_run()},
    )


async def run_sdk_peer(client: httpx.AsyncClient, system: System, stores: list[Store],
                       latency_ms: int, days: int) -> dict[str, Any]:
    """The sequential SDK script on the same organisations and the same sandbox."""
    sandbox = system.sandbox_url
    await client.put(f"{sandbox}/_control/faults", json={
        "latency_ms": {"min": latency_ms, "max": latency_ms}})
    built = build_day("sdk", totals_examples.example_store_setup(),
                      totals_examples.example_totals())
    lines = [(line.account_code, line.amount) for line in built.lines]
    scripts: dict[str, SdkScript] = {}
    plan: list[ScriptDay] = []
    for store, day in schedule(stores[: max(1, min(len(stores), days))], days):
        if store.tenant_id not in scripts:
            grant = (await client.post(f"{sandbox}/_control/grants", json={
                "email": store.email, "tenant_ids": [store.tenant_id]})).json()
            scripts[store.tenant_id] = SdkScript(sandbox, "glbridge-dev", "glbridge-dev-secret",
                                                 grant)
        plan.append(ScriptDay(store.tenant_id, day.replace(year=2024), lines))
    started = time.perf_counter()
    # The script is synchronous, as users write it; a thread keeps our event loop free.
    await asyncio.to_thread(lambda: [scripts[item.tenant_id].post(item) for item in plan])
    elapsed = time.perf_counter() - started
    refreshes = sum(s.refreshes for s in scripts.values())
    limited = sum(s.rate_limited for s in scripts.values())
    await client.delete(f"{sandbox}/_control/faults")
    return {"days": len(plan), "seconds": round(elapsed, 2),
            "days_per_s": round(len(plan) / elapsed, 2), "refreshes": refreshes,
            "rate_limited": limited, "latency_ms": latency_ms}


def scenarios(quick: bool) -> dict[str, Scenario]:
    scale = 10 if quick else 1
    return {
        "throughput": Scenario("throughput", 5000 // scale, 500 // scale),
        "at_100_per_s": Scenario("at_100_per_s", 3000 // scale, 500 // scale,
                                 offered_per_s=100),
        "latency_300ms": Scenario("latency_300ms", 3000 // scale, 500 // scale,
                                  latency_ms=300, real_limits=True),
        "one_org": Scenario("one_org", 1000 // scale, 1, real_limits=True),
    }


# Run first and not measured: a deployed system's tables hold history and have planner
# statistics; a fresh benchmark database has neither until autovacuum's first pass (up to
# a minute in), and PostgreSQL keeps the plans it cached on the empty tables until then.
WARM_UP = Scenario("warm-up", 1000, 100)


async def warm_up(system: System, amqp_url: str, database_url: str) -> None:
    console.print(f"warming up (not measured): {WARM_UP}, then ANALYZE")
    async with _client() as client:
        await run_scenario(system, client, WARM_UP, amqp_url)
    connection = await asyncpg.connect(database_url)
    try:
        # What autovacuum's first pass would do: the services' cached plans are made
        # again with statistics.
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _client() -> httpx.AsyncClient:
    """A client per scenario: connections left idle between scenarios are closed by the
    servers, and reusing one fails a request."""
    return httpx.AsyncClient(timeout=120, limits=httpx.Limits(
        max_connections=200, max_keepalive_connections=200))


def plot(figures: list[Figures], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(figures), 2, figsize=(12, 3 * len(figures)), squeeze=False)
    for row, fig_data in zip(axes, figures, strict=True):
        done = fig_data.series["completed_at_s"]
        if done:
            bins = max(1, int(done[-1]) + 1)
            row[0].hist(done, bins=bins)
        row[0].set_title(f"{fig_data.scenario.name}: outcomes per second")
        row[0].set_xlabel("seconds into the run")
        over_run = fig_data.series["latency_over_run"]
        row[1].scatter([t for t, _ in over_run], [ms for _, ms in over_run], s=2)
        row[1].set_yscale("log")
        row[1].set_title(f"{fig_data.scenario.name}: close-to-outcome latency (ms) by close time")
        row[1].set_xlabel("seconds into the run (close accepted)")
    fig.tight_layout()
    fig.savefig(path)


async def main(args: argparse.Namespace) -> None:
    amqp_url = args.amqp_url
    database_url = f"{args.postgres_url.rstrip('/')}/glbridge_bench_{uuid.uuid4().hex[:6]}"
    await ensure_database(database_url)
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    system = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=amqp_url, namespace=namespace,
        sandbox_control=True, log_dir=log_dir,
        extra_env={"LOG_LEVEL": "WARNING", "DB_POOL_MAX": "20",
                   **dict(pair.split("=", 1) for pair in args.set)},
    )
    from glbridge.cli import migrate_all

    await migrate_all(database_url)
    statements = Statements(database_url, args.statements) if args.statements else None
    if statements:
        await statements.check()
    system.start()
    chosen = scenarios(args.quick)
    wanted = set(args.only.split(",")) if args.only else set(chosen) | set(BULK)
    chosen = {k: v for k, v in chosen.items() if k in wanted}
    results: dict[str, Figures] = {}
    sdk: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    try:
        if not args.no_warm_up:
            await warm_up(system, amqp_url, database_url)
        if "backfill" in wanted:
            console.print("running backfill: 2 stores x 400 days, one organisation, "
                          "Xero's limits, through `glbridge pos backfill`")
            async with _client() as client:
                extra["backfill_800_days_s"] = await bulk.backfill(
                    client, system.sandbox_url, system.auth_url, system.totals_url,
                    uuid.uuid4().hex[:6], days=40 if args.quick else 400)
            console.print(extra["backfill_800_days_s"])
        floors: list[float] = []
        for name, scenario in chosen.items():
            console.print(f"running {name}: {scenario}")
            if name == "throughput":
                floors.append(await floor_now(amqp_url))
            async with _client() as client:
                figures, stores = await run_scenario(system, client, scenario, amqp_url,
                                                     args.profile, statements)
                results[name] = figures
                if name == "latency_300ms" and not args.no_peers:
                    sdk = await run_sdk_peer(client, system, stores, 300, args.sdk_days)
            if name == "throughput":
                floors.append(await floor_now(amqp_url))
        await run_bulk(system, amqp_url, wanted, args.quick, extra, log_dir, statements,
                       args.profile, args.replicas_offered)
        floors.append(await floor_now(amqp_url))
    finally:
        system.stop()
        await drop_database(database_url)
        await delete_namespace(amqp_url, namespace)
    extra["floor_msgs_per_s_measured"] = {
        "value": [round(f) for f in floors],
        "conditions": {"note": "the raw broker floor just before and just after the "
                               "throughput scenario and at the end of the run; "
                               "system_vs_floor divides by their median"}}
    report(results, sdk, statistics.median(floors), args, extra)


async def floor_now(amqp_url: str) -> float:
    """The raw broker floor now. It moves by a third within minutes on a shared machine,
    so the run measures it beside the scenario it is compared with."""
    return (await measure_floor(amqp_url, [b"{}" * 400] * 5000)).per_second


# Scenarios of bench/bulk.py (run unless --only leaves them out).
BULK = ("backfill", "many_orgs", "replicas")


async def run_bulk(system: System, amqp_url: str, wanted: set[str], quick: bool,
                   extra: dict[str, Any], log_dir: Path,
                   statements: Statements | None = None,
                   profile_dir: Path | None = None,
                   replicas_offered: float | None = None) -> None:
    scale = 10 if quick else 1
    if "many_orgs" in wanted:
        console.print(f"running many_orgs: {1000 // scale} organisations x 1 day within a "
                      "minute, Xero's limits, charts an hour old")
        async with _client() as client:
            figure = await bulk.many_orgs(client, system, amqp_url, 1000 // scale)
        extra["calls_per_day_many_orgs"] = figure
        extra["app_minute_breaches"] = {"value": figure["app_minute_breaches"],
                                        "conditions": "the many_orgs scenario"}
        console.print(figure)
    if "replicas" in wanted:
        console.print("running replicas: 1, 3, 3 and 1 replicas of totals and posting (the "
                      "system above stopped: its pools would hold PostgreSQL's connections)")
        system.stop()
        key = "replicas_3_vs_1" if replicas_offered is None \
            else f"replicas_3_vs_1_at_{replicas_offered:g}_per_s"
        async with _client() as client:
            extra[key] = await bulk.replicas(
                client, system.database_url, amqp_url, 3000 // scale, 500 // scale,
                log_dir=log_dir, statements=statements, profile_dir=profile_dir,
                offered_per_s=replicas_offered)
        console.print(extra[key])


def report(results: dict[str, Figures], sdk: dict[str, Any], floor_per_s: float,
           args: argparse.Namespace, extra: dict[str, Any]) -> None:
    table = Table(title="xero-gl-bridge benchmark")
    for column in ("scenario", "days", "orgs", "latency", "limits", "days/s", "p50 ms",
                   "p95 ms", "p99 ms", "p99 warm", "Xero calls", "429s", "refresh/conn",
                   "PG tx/day", "CPU ms/day", "outcomes"):
        table.add_column(column)
    for f in results.values():
        s = f.scenario
        table.add_row(s.name, str(s.days), str(s.organisations), f"{s.latency_ms}ms",
                      "Xero" if s.real_limits else "off", f"{f.days_per_s:.1f}",
                      f"{f.p50_ms:.0f}", f"{f.p95_ms:.0f}", f"{f.p99_ms:.0f}",
                      f"{f.p99_warm_ms:.0f}",
                      str(f.xero_calls), str(f.rate_limited),
                      f"{f.token_refreshes_per_connection:.2f}",
                      f"{f.pg_commits_per_day:.2f}", f"{f.cpu_ms_per_day:.1f}",
                      str(f.statuses))
    console.print(table)
    hops = Table(title="where a day's time goes, close to outcome (ms, p50 / p99 / max)")
    hops.add_column("scenario")
    for hop in HOPS:
        hops.add_column(hop.replace("_", " "))
    for f in results.values():
        hops.add_row(f.scenario.name, *(
            " / ".join(str(f.hops_ms[hop][share]) for share in ("p50", "p99", "max"))
            if f.hops_ms.get(hop)
            else "-" for hop in HOPS))
    console.print(hops)
    processes = Table(title="processes (throughput scenario)")
    for column in ("process", "CPU s", "peak RSS MB"):
        processes.add_column(column)
    first = results.get("throughput") or next(iter(results.values()), None)
    if first:
        for name, p in first.processes.items():
            processes.add_row(name, str(p["cpu_s"]), str(p["peak_rss_mb"]))
        console.print(processes)
    if sdk:
        console.print(f"sequential xero-python script at 300 ms: {sdk['days_per_s']} days/s "
                      f"({sdk['days']} days in {sdk['seconds']}s)")
    console.print(f"floor (raw aio-pika, confirms + acks, no work; the run's median): "
                  f"{floor_per_s:.0f} msgs/s")
    ratios = {}
    if "throughput" in results:
        ratios["system_vs_floor"] = results["throughput"].days_per_s / floor_per_s
    if sdk and "latency_300ms" in results:
        ratios["system_vs_sdk_script_300ms"] = results["latency_300ms"].days_per_s / sdk[
            "days_per_s"]
    for name, ratio in ratios.items():
        console.print(f"{name}: {ratio:.3f}x" if ratio < 1 else f"{name}: {ratio:.1f}x")
    for name, figure in extra.items():
        console.print(f"{name}: {figure.get('value')}")
    write(results, sdk, floor_per_s, ratios, args, extra)


def measured(value: Any) -> bool:
    """Whether this run measured the figure (`--only` leaves the others empty)."""
    if isinstance(value, dict) and "value" in value:
        return value["value"] is not None
    return value is not None


def merged_with_earlier(path: Path, latest: dict[str, Any]) -> dict[str, Any]:
    """This run's figures over the earlier file's: a run of some scenarios (`--only`)
    keeps every other key as it was last measured, each with its own conditions."""
    stamp = (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
             f"`python -m bench {' '.join(sys.argv[1:])}`")
    earlier = json.loads(path.read_text()) if path.exists() else {}
    fresh = {key: ({**value, "measured": value.get("measured", stamp)}
                   if isinstance(value, dict) and "value" in value else value)
             for key, value in latest.items() if measured(value)}
    return {**earlier, **fresh}


def write(results: dict[str, Figures], sdk: dict[str, Any], floor_per_s: float,
          ratios: dict[str, float], args: argparse.Namespace, extra: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    def cond(name: str) -> dict[str, Any]:
        return asdict(results[name].scenario) if name in results else {}
    def fig(name: str, attr: str) -> Any:
        return round(getattr(results[name], attr), 2) if name in results else None
    # The target is about the services; the sandbox (Xero's stand-in) keeps every journal.
    peak = max((p["peak_rss_mb"] for f in results.values()
                for name, p in f.processes.items()
                if name not in (SANDBOX_PROCESS, BENCH_PROCESS, *INFRA_PROCESSES)),
               default=None)
    latest = {
        "quick": args.quick,
        "warm_up": None if args.no_warm_up else asdict(WARM_UP),
        "days_per_s": {"value": fig("throughput", "days_per_s"), "conditions": cond("throughput")},
        "p99_ms_at_100": {"value": fig("at_100_per_s", "p99_ms"),
                          "conditions": cond("at_100_per_s"),
                          "p99_ms_after_each_organisations_first_day": fig(
                              "at_100_per_s", "p99_warm_ms")},
        "days_per_s_300ms": {"value": fig("latency_300ms", "days_per_s"),
                             "conditions": cond("latency_300ms")},
        "ratio_vs_sdk_script": {"value": round(ratios.get("system_vs_sdk_script_300ms", 0), 1)
                                or None, "conditions": {"sdk_script": sdk}},
        "one_org_1000_days_s": {"value": fig("one_org", "elapsed_s"),
                                "conditions": cond("one_org")},
        "calls_per_day_one_org": {
            "value": round(results["one_org"].xero_calls / results["one_org"].scenario.days, 3)
            if "one_org" in results else None, "conditions": cond("one_org")},
        "one_org_429s": {"value": results["one_org"].rate_limited if "one_org" in results
                         else None, "conditions": cond("one_org")},
        "refreshes_per_connection_per_30min": {
            "value": max((f.token_refreshes_per_connection for f in results.values()),
                         default=None),
            "conditions": {"note": "token refreshes seen by the sandbox per connection over "
                                   "each scenario (each shorter than 30 minutes)"}},
        "peak_rss_mb": {"value": peak, "conditions": {"per_process": {
            n: f.processes for n, f in results.items()}}},
        # Machine speed barely moves it: how much database work a day takes, compared
        # from one change to the next where CPU seconds are lost in the machine's noise.
        "pg_commits_per_day": {"value": fig("throughput", "pg_commits_per_day"),
                               "conditions": cond("throughput"),
                               "by_scenario": {n: f.pg_commits_per_day
                                               for n, f in results.items()}},
        "floor_msgs_per_s": round(floor_per_s),
        "system_vs_floor": round(ratios["system_vs_floor"], 3)
        if "system_vs_floor" in ratios else None,
        **extra,
    }
    (RESULTS / "latest.json").write_text(json.dumps(
        merged_with_earlier(RESULTS / "latest.json", latest), indent=2, default=str))
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"run-{stamp}.json").write_text(json.dumps(
        {n: {**asdict(f), "cpu_ms_per_day": round(f.cpu_ms_per_day, 2)}
         for n, f in results.items()}, indent=2, default=str))
    if results:
        plot(list(results.values()), RESULTS / "latest.png")
    console.print(f"wrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.png'}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="measure from a fresh database (plans cached on empty tables)")
    parser.add_argument("--sdk-days", type=int, default=60)
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="py-spy each service during each scenario into DIR "
                             "(summarise with python -m bench.profile DIR/*.txt)")
    parser.add_argument("--statements", type=Path, default=None, metavar="DIR",
                        help="PostgreSQL's statements of each measured phase into DIR "
                             "(needs pg_stat_statements; compare two with "
                             "python -m bench.statements A.json B.json)")
    parser.add_argument("--replicas-offered", type=float, default=None, metavar="DAYS_PER_S",
                        help="the replicas scenario's days closed at this rate instead of "
                             "as fast as the system takes them (written as "
                             "replicas_3_vs_1_at_<rate>_per_s)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of every service (e.g. POSTING_CHART_TTL_S=86400)")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
